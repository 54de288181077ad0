"""What an exported folder's recorded verification means when it is loaded.

`compactbert export` keeps a folder whose verification failed, to inspect, and its export.json says `passed: false`.
Loading it then:

- with its runtime named (`backend="openvino"` / `"onnxruntime"`): it loads, with a `FailedExportWarning` that says
  what failed, the figures, the bar and how to export it again (a deployment that wants a refusal instead turns the
  warning into an error: `warnings.simplefilter("error", FailedExportWarning)`);
- with `backend="auto"`: it is never chosen. `auto` loads the PyTorch folder it was exported from instead (found
  from export.json, and only when that folder holds the same model) and chooses among PyTorch and the runtimes
  there, saying in `backend_choice` that it skipped the export and why; with no such folder to be found, it refuses
  and says what to do.

`export_model` warns the same way when the export it writes fails (the CLI says it in its own words and exits 1).
An export written with `verify=False` (`--no-verify`) has no verdict: it loads, with either backend, with an
`UnverifiedExportWarning` saying its predictions were never compared with PyTorch's and how to verify it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ..checkpoints import read_config_json
from .exporter import what_moved
from .formats import FORMATS
from .runtime import EXPORT_INFO


class FailedExportWarning(UserWarning):
    """An exported folder whose verification against PyTorch failed was written or loaded."""


class UnverifiedExportWarning(UserWarning):
    """An exported folder that was never verified against PyTorch (`--no-verify`) was loaded."""


def failed(info: dict[str, Any] | None) -> bool:
    """Whether export.json `info` records a verification that failed (an unverified export has none)."""
    check = (info or {}).get("verification") or {}
    return check.get("passed") is False


def what_was_measured(info: dict[str, Any]) -> str:
    """`"its int8 graph changed 1.6% of the predictions (an export keeps at least 99.5% of them) on ..."`."""
    check = info["verification"]
    return f"its {check.get('dtype', info.get('dtype'))} graph {what_moved(check)} on {check.get('on')}"


def what_failed(folder: Path, info: dict[str, Any]) -> str:
    """`"FOLDER failed its verification when it was exported: its int8 graph changed 1.6% ..."`."""
    return f"{folder} failed its verification when it was exported: {what_was_measured(info)}"


def export_again(info: dict[str, Any]) -> str:
    """How to get an export that holds: another precision for int8 or bf16, else the same export again."""
    source = info.get("source") or "SOURCE"  # as it was named when it was exported
    command = f"compactbert export {source} --format {info['format']}"
    if info.get("dtype") in ("int8", "bf16") and info["format"] == "onnx":  # ONNX Runtime runs no bf16
        return f"export it in fp32 instead (`{command}`)"
    if info.get("dtype") in ("int8", "bf16"):
        return f"export it in fp32 or bf16 instead (`{command}`, with `--dtype bf16` on a CPU with bf16 units)"
    return f"export it again (`{command}`) and check what its export.json's verification records"


def warn_failed(folder: Path, info: dict[str, Any], backend: str) -> None:
    """The `FailedExportWarning` of an explicit load of a failed export."""
    warnings.warn(
        f"{what_failed(folder, info)}; loaded all the same because backend={backend!r} asked for it, but its "
        f"predictions are not the model's: do not deploy it; {export_again(info)}, or load the PyTorch folder",
        FailedExportWarning,
        stacklevel=4,
    )


def warn_written(folder: Path, info: dict[str, Any]) -> None:
    """The `FailedExportWarning` of `export_model` when the export it wrote failed its verification."""
    warnings.warn(
        f"{what_failed(folder, info)}; it is kept to inspect (export.json says passed: false): do not deploy it; "
        f"{export_again(info)}",
        FailedExportWarning,
        stacklevel=3,
    )


def unverified(info: dict[str, Any] | None) -> bool:
    """Whether export.json `info` records no verification (`verify=False`, `--no-verify`)."""
    return (info or {}).get("verification") is None


def warn_unverified(folder: Path, info: dict[str, Any]) -> None:
    """The `UnverifiedExportWarning` of loading an export that was never compared with PyTorch."""
    source = info.get("source") or "SOURCE"
    warnings.warn(
        f"{folder} was exported without verification (--no-verify): its predictions were never compared with "
        f"PyTorch's. Export it again without --no-verify (`compactbert export {source} --format {info['format']}"
        f"{' --dtype ' + info['dtype'] if info.get('dtype', 'fp32') != 'fp32' else ''}`) to have them checked",
        UnverifiedExportWarning,
        stacklevel=4,
    )


def is_source_of(path: Path, info: dict[str, Any]) -> bool:
    """Whether `path` is a PyTorch model folder holding the model export.json `info` was exported from: not itself
    an export, weights present, the same model type and (for a head) the same architecture."""
    if not (path / "config.json").is_file() or (path / EXPORT_INFO).is_file():
        return False
    if not any(path.glob("*.safetensors")) and not (path / "pytorch_model.bin").is_file():
        return False
    config = read_config_json(path)  # {} when it does not read
    if not config or config.get("model_type") != info.get("model_type"):
        return False
    return info.get("task") == "base" or info.get("architecture") in (config.get("architectures") or [])


def find_source(folder: Path, info: dict[str, Any]) -> Path | None:
    """The PyTorch folder an exported `folder` was made from, when one can be found without guessing: the folder
    export.json records (relative to the export; absolute in older exports), the source as it was given (from the
    current folder), or the sibling `compactbert export`'s default output sits next to (`model` beside
    `model-openvino-int8`); None otherwise."""
    candidates = [folder / info["source_folder"]] if info.get("source_folder") else []
    if info.get("source"):
        given = Path(os.path.expanduser(info["source"]))
        candidates.append(given)
        if not given.is_absolute() and given.name and folder.name.startswith(f"{given.name}-"):
            candidates.append(folder.parent / given.name)
    return next((path.resolve() for path in candidates if is_source_of(path, info)), None)


def load_instead_of_failed(folder: Path, info: dict, options: tuple) -> Any:
    """`backend="auto"` on an export whose verification failed: the PyTorch folder it was made from, loaded with
    `auto` (its choice says the export was skipped, and why); a `ValueError` when that folder is not to be found."""
    from .backends import load_with_backend  # (it imports this module)

    why = what_failed(folder, info)
    source = find_source(folder, info)
    runtime = FORMATS[info["format"]].runtime
    if source is None:
        raise ValueError(
            f"{why}: backend='auto' does not choose an export that failed, and the PyTorch folder it was exported "
            f"from ({info.get('source')}) is not found from here. Load that folder with "
            f"backend='auto', {export_again(info)}, or load this one with backend='{runtime}' to use it anyway (it "
            "warns)"
        )
    loaded = load_with_backend(source, "auto", *options)
    figures = what_was_measured(info)
    choice = loaded.backend_choice
    choice.rejected[os.fspath(folder)] = f"its export failed verification: {figures}"
    choice.reason += f"; skipped {folder} ({figures}) for the PyTorch folder it was exported from, {source}"
    warnings.warn(
        f"{why}: backend='auto' does not choose it and loaded {source}, the PyTorch folder it was exported from "
        f"({loaded.backend}); {export_again(info)}, or pass backend='{runtime}' to load the export anyway (it warns)",
        FailedExportWarning,
        stacklevel=4,
    )
    return loaded
