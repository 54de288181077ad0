"""Writing files and output folders all-or-nothing: a reader never sees half of one, a failure leaves none behind;
scratch folders that go when their owner does; and sizes on disk as compactbert prints them."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


def write_file_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` to fill a temporary sibling file, then move it onto `path` in one rename.

    A reader never sees half a file, and if `write` raises nothing is left behind (an existing `path` is
    untouched). The parent folder is created when missing.

    Example:

    ```python
    >>> scratch = ScratchFolder("compactbert-")
    >>> path = write_file_atomically(scratch.path / "out" / "notes.txt", lambda tmp: tmp.write_text("done"))
    >>> path.read_text(), sorted(p.name for p in path.parent.iterdir())  # no partial file left beside it
    ('done', ['notes.txt'])
    ```
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` in one rename (`write_file_atomically`)."""
    return write_file_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomically(path: str | os.PathLike, data: object) -> Path:
    """Write `data` as indented JSON with a final newline to `path` in one rename (`write_file_atomically`)."""
    return write_text_atomically(path, json.dumps(data, indent=2) + "\n")


def same_path(a: str, b: str) -> bool:
    """Two names of one thing: the same string, or two paths of the same file or folder (`~` expanded)."""
    if a == b:
        return True
    try:
        return os.path.samefile(os.path.expanduser(a), os.path.expanduser(b))
    except OSError:
        return False


def relative_path(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """`path` relative to `root` when it lies inside it, else `path` as given: what a committed result records,
    so it names no one's home folder.

    Example:

    ```python
    >>> relative_path("/home/me/compactbert/runs/model", "/home/me/compactbert")
    'runs/model'
    >>> relative_path("minilm", "/home/me/compactbert")  # a Hub id or a name stays as it is
    'minilm'
    ```
    """
    text = os.fspath(path)
    if not os.path.isabs(text):
        return text
    try:
        return Path(text).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return text


@dataclass(frozen=True)
class FolderKind:
    """A kind of folder compactbert writes whole, as `overwrite` knows it: what to call it, and the files (one of
    them at its top) that mark one."""

    name: str
    marks: tuple[str, ...]


MODEL_FOLDER = FolderKind("a model folder", ("config.json",))
EXPORT_FOLDER = FolderKind("an export folder", ("export.json",))
ZOO_FOLDER = FolderKind("a zoo folder", ("zoo.json",))
DATA_FOLDER = FolderKind("a data folder written by augment", ("augment.json",))
RESULTS_FOLDER = FolderKind("a study's results folder", ("results.json",))
# a writer that names no kind: any of them (only for callers of `write_folder_atomically` that write one of these)
ANY_FOLDER = FolderKind(
    "a folder compactbert writes",
    tuple(m for k in (MODEL_FOLDER, EXPORT_FOLDER, ZOO_FOLDER, DATA_FOLDER, RESULTS_FOLDER) for m in k.marks),
)


def check_replaceable(output: str | os.PathLike, kind: FolderKind, sources: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse to replace `output` (an existing folder that `overwrite` would swap out whole) where that would lose
    what was not meant: the current folder or one above it, a folder that holds one of `sources` (the folders the new
    one is made from; the source itself may be replaced by what is made from it), or a folder with files in it that
    is not of the `kind` being written (a model replaces a model folder: not a folder of someone's own files, nor a
    folder that holds models).

    Raises:
        `FileExistsError`: what would be lost, and what to do instead.
    """
    output = Path(output).absolute()
    if not output.is_dir():
        return
    resolved, here = output.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise FileExistsError(
            f"{output} is the current folder or holds it; replacing it (overwrite) would remove the folder you work "
            "in: choose another output folder"
        )
    for source in sources:
        inside = Path(source).absolute().resolve()
        if resolved in inside.parents:
            raise FileExistsError(
                f"{output} holds {source}, which the new folder is made from; replacing it would lose that too: "
                "choose another output folder"
            )
    entries = sorted(entry.name for entry in output.iterdir())
    if entries and not any((output / mark).is_file() for mark in kind.marks):
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise FileExistsError(
            f"{output} is not {kind.name} (no {' or '.join(kind.marks)} in it; it holds {shown}); --overwrite "
            f"replaces only {kind.name} or an empty folder: remove it yourself or choose another"
        )


def refuse_existing(output: str | os.PathLike, overwrite: bool) -> Path:
    """`output` as a path, refused when it is empty, a file, or (unless `overwrite`) a folder that exists."""
    if not os.fspath(output):
        raise ValueError("the output folder is empty (''); give the folder to write")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise FileExistsError(f"output {output} is a file; give a folder to write (a new one, or one to replace)")
    if output.exists() and not overwrite:
        raise FileExistsError(
            f"output folder {output} already exists; choose another or pass overwrite=True (--overwrite)"
        )
    return output


def write_folder_atomically(
    output: str | os.PathLike,
    write: Callable[[Path], None],
    overwrite: bool = False,
    kind: FolderKind = ANY_FOLDER,
    sources: Iterable[str | os.PathLike] = (),
    cache_entry: bool = False,
) -> Path:
    """Call `write(tmp)` to fill a temporary sibling folder, then move it to `output` in one rename.

    If `write` raises, nothing is left behind (and an existing `output` is untouched). An existing `output` is
    refused unless `overwrite` is true, and then too where replacing it would lose what was not meant
    (`check_replaceable`: the current folder, a folder holding one of `sources`, a folder that is not of the `kind`
    written), unless it is an entry of compactbert's own cache (`cache_entry`), replaced whatever it holds.
    """
    output = refuse_existing(output, overwrite).absolute()
    if not cache_entry:
        check_replaceable(output, kind, sources)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes the folder private; the result should not be
    try:
        write(tmp)
        if output.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
            os.replace(output, old / "previous")
            try:
                os.replace(tmp, output)
            except BaseException:
                os.replace(old / "previous", output)  # put the old folder back as it was
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return output


class ScratchFolder:
    """A new temporary folder (`path`), removed with all it holds by `remove()`, when this object is collected, or
    at interpreter exit, whichever comes first: keep the object as long as the folder is used.

    ```python
    >>> scratch = ScratchFolder("compactbert-onnx-")
    >>> (scratch.path / "model.onnx").write_bytes(b"graph")  # an export written there
    5
    >>> scratch.remove()  # or let it go with its owner
    >>> scratch.path.exists()
    False
    ```
    """

    def __init__(self, prefix: str):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)

    def remove(self) -> None:
        self._finalizer()


def save_model(
    model,
    output: str | os.PathLike,
    tokenizer=None,
    overwrite: bool = False,
    extra: Callable[[Path], None] | None = None,
    metrics: dict | None = None,
    sources: Iterable[str | os.PathLike] = (),
) -> Path:
    """Save a model (safetensors + config, and for compactbert families their remote code) and its tokenizer.

    All or nothing: a failure mid-save leaves no folder behind; an existing folder is refused unless `overwrite`.
    `metrics`, the record of the run that trained it, is written as its `metrics.json` (`records.write_metrics`);
    `extra(folder)` may write more files (a card) into the folder before it appears. `sources`: the folders the model
    was made from, which an overwritten `output` must not hold (`check_replaceable`). Unless `extra` wrote a
    `README.md`, a model card is rendered from what the folder then holds (`compactbert.hub.card`): the provenance in
    its config always, the evaluation when it holds a `metrics.json`. A `tokenizer` with a larger vocabulary than the
    model's embedding (another model's) is refused before anything is written.
    """
    if not hasattr(model, "save_pretrained"):
        raise TypeError(
            f"save_model takes a loaded model (a transformers PreTrainedModel), got {type(model).__name__}"
        )
    if tokenizer is not None and not hasattr(tokenizer, "save_pretrained"):
        raise TypeError(f"tokenizer= takes a loaded tokenizer (AutoTokenizer...), got {type(tokenizer).__name__}")
    if metrics is not None and not isinstance(metrics, dict):
        raise TypeError(f"metrics= takes a dict (the record of the run that trained it), got {type(metrics).__name__}")
    if tokenizer is not None:
        from .checkpoints import check_tokenizer_fits

        check_tokenizer_fits(tokenizer, getattr(model, "config", None) or {}, os.fspath(output))

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        if tokenizer is not None:
            save_tokenizer(tokenizer, folder)
        if metrics is not None:
            from .records import write_metrics

            write_metrics(folder, metrics)
        if extra is not None:
            extra(folder)
        if not (folder / "README.md").exists():
            from .hub.card import write_card

            write_card(folder, model_id=os.fspath(output))

    return write_folder_atomically(output, write, overwrite=overwrite, kind=MODEL_FOLDER, sources=sources)


# what transformers writes into tokenizer_config.json about how this process loaded the tokenizer (offline, from a
# folder), not about the tokenizer: a published copy would carry this machine's load state
LOAD_STATE_KEYS = ("local_files_only", "is_local")


def save_tokenizer(tokenizer, folder: str | os.PathLike) -> None:
    """`tokenizer.save_pretrained(folder)`, without the load state (`LOAD_STATE_KEYS`) in its tokenizer_config.json."""
    tokenizer.save_pretrained(folder)
    config = Path(folder) / "tokenizer_config.json"
    if config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        if any(key in data for key in LOAD_STATE_KEYS):
            kept = {key: value for key, value in data.items() if key not in LOAD_STATE_KEYS}
            write_text_atomically(config, json.dumps(kept, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def no_empty_folder_left(folder: str | os.PathLike) -> Iterator[None]:
    """Around work that makes `folder`: when the work fails or is stopped (Ctrl+C) and `folder` holds no file, it is
    removed, then each parent made for it while it is empty (another run's folder in one keeps it). A folder that was
    there before, or that holds a file (a checkpoint to resume from), is kept."""
    folder = Path(folder).absolute()
    made = next((p for p in reversed((folder, *folder.parents)) if not p.exists()), None)  # the topmost one made
    try:
        yield
    except BaseException:
        if made is not None and folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
            shutil.rmtree(folder, ignore_errors=True)
            for parent in folder.parents:
                if parent != made and made not in parent.parents:
                    break  # above what this work made
                try:
                    parent.rmdir()  # only while empty
                except OSError:
                    break
        raise


def leaves_no_empty_run_folder(run: Callable) -> Callable:
    """Decorate a training run whose last argument is its training arguments: a run folder (`output_dir`) it made
    and left with no file in it, stopped before its first checkpoint, is removed (`no_empty_folder_left`)."""

    @functools.wraps(run)
    def wrapped(*args, **kwargs):
        training_args = kwargs["training_args"] if "training_args" in kwargs else args[-1]
        with no_empty_folder_left(training_args.output_dir):
            return run(*args, **kwargs)

    return wrapped


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The file that keeps `path` from being a folder: `path` itself or the nearest part of it that exists, when
    that is not a folder; None when a folder can be (or is) there."""
    path = Path(path)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    return existing if existing is not None and not existing.is_dir() else None


def file_size(n: float) -> str:
    """`n` bytes as compactbert prints sizes: `512 B`, `2.0 KiB`, `67.3 MiB`, `1.2 GiB`."""
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
