"""The export cache of the runtime backends: where `load_for_inference(..., backend="openvino" | "onnxruntime")`
keeps the graphs it exports on the fly, how an entry is named, and how the cache stays small.

An entry is named after its source folder, head and runtime, plus a key over what the graph depends on (the source's
files, the format, the quantization and the versions that made it), so a changed model or an upgrade gives a new
entry and a stale graph is never reused. Each entry records the folder it was exported from, on which machine
(`cache.json`); when a new entry lands, the entries that can never be used again go: those whose source folder is gone
or whose files have changed since, judged only for entries recorded on this machine (a cache shared with another
machine or a container keeps theirs). Entries made by other versions of the packages stay (another environment may
share the cache), and so does whatever the cache holds that it did not write. Leftovers of an export that was killed
halfway go after a day. Pruning never fails a load: what cannot be read or removed is left as it is.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import time
from pathlib import Path

from ..io import write_json_atomically
from .formats import ExportFormat

CACHE_RECORD = "cache.json"  # in each entry: the source folder and its files' fingerprint when it was exported
PARTIAL_AGE_S = 24 * 3600  # a half-written entry older than this is a killed export's leftover, not one being written


def default_cache_dir() -> Path:
    """Where on-the-fly exports are kept: `$COMPACTBERT_CACHE/exports`, else `~/.cache/compactbert/exports`."""
    root = os.environ.get("COMPACTBERT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "compactbert"
    )
    return Path(root) / "exports"


def _runtime_version(fmt: ExportFormat) -> str:
    try:
        return importlib.metadata.version(fmt.runtime)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def source_files(folder: Path) -> list[str]:
    """The source folder's model files as they are now: name, size and modification time of each (what names its
    cache entry, read once per export so the key and the record agree)."""
    parts = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return parts


def source_fingerprint(folder: Path, files: list[str] | None = None) -> str:
    """`source_files(folder)` (or `files`, read before) hashed: it changes when a model file of the folder does."""
    return hashlib.sha256("\n".join(source_files(folder) if files is None else files).encode()).hexdigest()[:16]


def cache_key(
    folder: Path, fmt: ExportFormat, task: str, quantize: str | None = None, files: list[str] | None = None
) -> str:
    """What an on-the-fly export depends on: the source folder's files (path, size, time), the format and head, the
    quantization, and the versions that made the graph. A changed weight file or an upgrade gives a new key, so a
    stale graph is never reused."""
    from .. import __version__

    parts = [str(folder.resolve()), fmt.name, task, __version__, _torch_version(), _runtime_version(fmt)]
    if quantize is not None:  # (an fp32 export's key is the one it always had)
        from .quantize import FLOAT_OPERATIONS

        # the recipe: what stays float, and that the entry is verified (entries made otherwise are not reused)
        parts += [quantize, importlib.metadata.version("nncf"), ",".join(FLOAT_OPERATIONS), "verified"]
    parts += source_files(folder) if files is None else files
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _torch_version() -> str:
    import torch

    return torch.__version__


def cache_entry(
    cache_dir: str | os.PathLike | None,
    folder: Path,
    fmt: ExportFormat,
    task: str,
    quantize: str | None,
    files: list[str] | None = None,
) -> Path:
    """The cache folder of `folder`'s export for `fmt`'s runtime and the head `task` (`quantize`: int8 or None);
    `files`: `source_files(folder)` as read before."""
    kind = f"{fmt.name}-{quantize}" if quantize else fmt.name
    name = f"{folder.name}-{task}-{kind}-{cache_key(folder, fmt, task, quantize, files)}"
    return Path(cache_dir or default_cache_dir()) / name


def record_source(entry: Path, folder: Path, files: list[str]) -> None:
    """Write into `entry` the folder it is exported from, that folder's fingerprint when `files` were read (those that
    named the entry) and this machine's name."""
    record = {
        "source_folder": str(folder.resolve()),
        "fingerprint": source_fingerprint(folder, files),
        "host": socket.gethostname(),
    }
    write_json_atomically(entry / CACHE_RECORD, record)


def recorded_source(entry: Path) -> str | None:
    """The source folder `entry` records it was exported from (with the machine, when another), else None."""
    try:
        record = json.loads((entry / CACHE_RECORD).read_text())
        host = record.get("host")
        where = f" on {host}" if host is not None and host != socket.gethostname() else ""
        return f"{record['source_folder']}{where}"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def why_stale(entry: Path) -> str | None:
    """Why a cache entry can never be used again (its source folder is gone, or its files changed since it was
    exported), or None. An entry with no record (not ours, or from before records), one recorded on another machine
    and one whose source cannot be read are never called stale."""
    try:
        record = json.loads((entry / CACHE_RECORD).read_text())
        source = Path(record["source_folder"])
        fingerprint = record["fingerprint"]
        host = record.get("host")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if host is not None and host != socket.gethostname():
        return None
    try:
        if not source.is_dir():
            return f"its source folder {source} is gone"
        changed = source_fingerprint(source) != fingerprint
    except OSError:
        return None
    return f"the files of its source folder {source} changed since" if changed else None


def stale(entry: Path) -> bool:
    """Whether `why_stale` has a reason for `entry`."""
    return why_stale(entry) is not None


def killed_leftover(path: Path, now: float | None = None) -> bool:
    """Whether `path` is what an export (or a demo build) killed halfway left: a `.NAME.partial-*` / `.NAME.old-*`
    folder of `write_folder_atomically` untouched for a day (a younger one may be being written)."""
    if not path.is_dir() or not path.name.startswith(".") or not (".partial-" in path.name or ".old-" in path.name):
        return False
    try:
        return (now or time.time()) - path.stat().st_mtime > PARTIAL_AGE_S
    except OSError:
        return False


def is_entry(path: Path) -> bool:
    """Whether `path` is something the export cache wrote: an export (it holds export.json) or a folder being (or
    left half) written (`.NAME.partial-*`, `.NAME.old-*`)."""
    if path.is_symlink() or not path.is_dir():
        return False
    if path.name.startswith("."):
        return ".partial-" in path.name or ".old-" in path.name
    return (path / "export.json").is_file()


def remove_folder(path: Path) -> str | None:
    """Remove a cache folder; None when it went, else why it could not (left as it is)."""
    errors: list[str] = []
    shutil.rmtree(path, onerror=lambda _fn, where, info: errors.append(f"{where}: {info[1]}"))
    return None if not path.exists() else (errors[0] if errors else "it is still there")


def prune(cache_dir: str | os.PathLike | None, keep: Path | None = None) -> list[tuple[Path, str]]:
    """Remove the entries of the cache that can never be used again (`why_stale`) and killed exports' leftovers
    untouched for a day (`killed_leftover`); `keep`, and what the cache did not write, are never removed. Returns what
    was removed, each with why; what could not be removed stays, unreported."""
    root = Path(cache_dir or default_cache_dir())
    removed = []
    if not root.is_dir():
        return removed
    now = time.time()
    for path in sorted(root.iterdir()):
        if path == keep or not is_entry(path):
            continue
        why = "left by a killed export" if killed_leftover(path, now) else None
        if why is None and not path.name.startswith("."):
            why = why_stale(path)
        if why is not None and remove_folder(path) is None:
            removed.append((path, why))
    return removed
