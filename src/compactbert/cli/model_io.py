"""What the commands that read a source model and write a model folder share (`shrink`, `prune`, `albert`): the source
and output arguments, texts from a task or a file, the output check, the tokenizer and the closing lines.

Light like `common`: torch, transformers and datasets are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_source_and_output(p: argparse.ArgumentParser) -> None:
    """`SOURCE` and the options of where it comes from and where the model goes: `--output/-o`, `--overwrite`,
    `--allow-pickle`, `--revision` (last in the help, as the commands list them)."""
    p.add_argument("source", help="a local model folder, a Hub id, or a built-in name (minilm)")
    p.add_argument("--output", "-o", required=True, help="folder to write the model into")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output folder if it exists and is a model folder or empty (never the current "
        "folder or one holding the source)",
    )
    p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
    p.add_argument("--revision", help="Hub revision when SOURCE is a Hub id")


def add_texts_arguments(p: argparse.ArgumentParser, prefix: str, task_help: str, file_help: str) -> None:
    """`--<prefix>-task` or `--<prefix>-file` (one of them): texts from a task's training split or from a file with
    one text a line; `texts_from` reads them."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(f"--{prefix}-task", help=task_help)
    group.add_argument(f"--{prefix}-file", help=file_help)


def texts_from(args: argparse.Namespace, prefix: str, limit: int = sys.maxsize) -> list[str] | None:
    """The texts `add_texts_arguments(..., prefix, ...)` asked for: the file's lines, or the first `limit` training
    texts of the task; None when neither was given."""
    file, task = getattr(args, f"{prefix}_file"), getattr(args, f"{prefix}_task")
    if file:
        return read_calibration_file(file, f"--{prefix}-file")
    if task:
        from ..data import texts
        from ..data.columns import ColumnNotFound

        try:
            return texts(task, max(limit, 0))  # a limit below 1 is the command's to refuse, with its own message
        except ColumnNotFound as err:  # this command names no columns: the way round is a file of texts
            raise ValueError(
                f"{err.problem} --{prefix}-task reads a task whose columns are found by their names; give other "
                f"texts one per line with --{prefix}-file FILE"
            ) from None
    return None


def read_calibration_file(path: str, option: str = "--calibration-file") -> list[str]:
    """The texts of a file given with `option`, one per non-empty line."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{option} {file} does not exist; expected a text file with one text per line")
    texts = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"{option} {file} has no non-empty lines; expected one text per line")
    return texts


def output_folder(args: argparse.Namespace, source: Path) -> Path:
    """`--output` for a model made from the folder `source`: refused when it exists and `--overwrite` is not given,
    or is given for a folder that replacing would lose what was not meant (`io.check_replaceable`), before any
    work."""
    from ..io import MODEL_FOLDER, check_replaceable

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise FileExistsError(f"output folder {output} already exists; choose another or pass --overwrite")
    check_replaceable(output, MODEL_FOLDER, [source])
    return output


def source_tokenizer(folder: Path, needed_by: str | None = None):
    """The tokenizer saved with the source `folder`, or None (with a warning: the model is saved without one).

    Raises:
        `ValueError`: there is none that loads (`checkpoints.load_tokenizer`) and `needed_by` (an option, in words)
        needs it.
    """
    from ..checkpoints import load_tokenizer

    try:
        return load_tokenizer(folder)
    except (OSError, ValueError) as err:
        if needed_by is not None:
            raise ValueError(f"{needed_by} needs the source's tokenizer: {err}") from None
        print(f"warning: the model is saved without a tokenizer: {err}", file=sys.stderr)
        return None


def print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def save_from_source(model, output: Path, tokenizer, folder: Path, overwrite: bool) -> list[str]:
    """Save the model made from the source `folder` (`io.save_model`), with the source's sentence-transformers
    pipeline (`sentence_embeddings.copy_sentence_transformers_setup`) when it has one; returns its modules carried."""
    from ..io import save_model
    from ..sentence_embeddings import copy_sentence_transformers_setup

    carried = []
    save_model(
        model,
        output,
        tokenizer=tokenizer,
        overwrite=overwrite,
        sources=[folder],
        extra=lambda out: carried.extend(copy_sentence_transformers_setup(folder, out, warn=print_warning)),
    )
    return carried


def print_saved(model, before: int, output: Path, pipeline: list[str] | None = None) -> None:
    """The closing lines: the parameters of the source (`before`, counted before anything was written: the output
    may replace the source's folder) and of `model`, where it was saved, and the modules of the source's
    sentence-transformers pipeline it holds (`pipeline`)."""
    from .common import millions

    after = model.num_parameters()
    print(f"parameters: {millions(before)} -> {millions(after)} ({100 * (after - before) / before:+.1f}%)")
    from ..hub.card import HEADS

    name = type(model).__name__  # a classifier loads with its head: AutoModelForSequenceClassification
    auto = next((auto for suffix, (_, auto) in HEADS.items() if name.endswith(suffix)), "AutoModel")
    print(f"saved to:   {output}  (load: {auto}.from_pretrained('{output}') after `import compactbert`)")
    if pipeline:
        print(
            f"pipeline:   the source's sentence-transformers modules ({', '.join(pipeline)}) "
            f"(load: SentenceTransformer('{output}') after `import compactbert`)"
        )
