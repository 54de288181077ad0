"""A sentence-transformers model's pipeline carried over to the smaller model made from it.

all-MiniLM-L6-v2 (the built-in `minilm`) and other sentence-transformers models keep, beside the transformer's
weights, how `SentenceTransformer(folder)` turns its token states into one vector: `modules.json` (here Transformer,
then mean Pooling, then Normalize), the Transformer module's `sentence_bert_config.json` (its `max_seq_length`) and
the Pooling module's `1_Pooling/config.json`. A folder without them still loads there, but with default mean pooling,
no normalisation and the model's full length: the vectors change their norm, and dot-product search its scores. So
`compactbert shrink`, `prune` and `albert` copy them into the folder they write.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MODULES_FILE = "modules.json"
# the files of a sentence-transformers folder beside its modules' folders
TOP_LEVEL_FILES = (MODULES_FILE, "sentence_bert_config.json", "config_sentence_transformers.json")
# the modules carried, by class name (their module paths differ between sentence-transformers versions): none holds
# weights, so they fit a model of another depth or width (Pooling is told the width, under either version's key)
CARRIED_MODULES = ("Transformer", "Pooling", "Normalize")
WIDTH_KEYS = ("word_embedding_dimension", "embedding_dimension")


def copy_sentence_transformers_setup(
    source: str | os.PathLike, folder: str | os.PathLike, warn: Callable[[str], None] | None = None
) -> list[str]:
    """Copy the sentence-transformers pipeline of the model folder `source` into the model folder `folder` (a smaller
    model made from it, already saved there), so that `SentenceTransformer(folder)` pools, normalises and truncates
    as `SentenceTransformer(source)` does. The Pooling module is given the width of `folder`'s model (a pruned model
    is narrower).

    Returns the modules carried, by class name (`["Transformer", "Pooling", "Normalize"]`), or `[]` when `source`
    has no pipeline or one that cannot be carried, which a `UserWarning` then explains: a module that holds weights
    (a Dense projection: they fit the source's width), the transformer kept in a subfolder (an older layout: that
    subfolder is the unshrunk model), a module folder that is missing or outside the source, or a `modules.json` that
    is not a list of modules. `warn(message)` says it instead when given (the command line prints it).

    Raises:
        `FileNotFoundError`: `folder` holds no `config.json` (save the model there first).
    """
    source, folder = Path(source), Path(folder)
    modules_file = source / MODULES_FILE
    if not modules_file.is_file():
        return []
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{folder} holds no config.json: save the model there before its pipeline")
    modules, problem = _read_modules(modules_file)
    if problem is None:
        problem = _not_carried(source, modules)
    if problem is not None:
        message = (
            f"the sentence-transformers pipeline of {source} ({modules_file}) was not copied: {problem}; "
            "SentenceTransformer() pools the model with its defaults"
        )
        if warn is not None:
            warn(message)
        else:
            warnings.warn(message, stacklevel=2)
        return []
    hidden_size = json.loads(config_file.read_text(encoding="utf-8"))["hidden_size"]
    for name in TOP_LEVEL_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, folder / name)
    for path, kind in modules:
        if kind == "Transformer" or not (source / path).is_dir():
            continue  # the Transformer module is the folder itself; Normalize may keep no files
        shutil.copytree(source / path, folder / path)
        if kind == "Pooling":
            settings_file = folder / path / "config.json"
            settings = json.loads(settings_file.read_text(encoding="utf-8"))
            settings.update({key: hidden_size for key in WIDTH_KEYS if key in settings})
            settings_file.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return [kind for _, kind in modules]


def _read_modules(modules_file: Path) -> tuple[list[tuple[str, str]], str | None]:
    """(path, class name) of each module in `modules_file`, or why it cannot be read."""
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        return [], f"it is not JSON ({err})"
    if not isinstance(modules, list) or not all(
        isinstance(m, dict) and isinstance(m.get("type"), str) and isinstance(m.get("path", ""), str) for m in modules
    ):
        return [], "it is not a list of modules, each with a type and a path"
    return [(m.get("path", ""), m["type"].rsplit(".", 1)[-1]) for m in modules], None


def _not_carried(source: Path, modules: list[tuple[str, str]]) -> str | None:
    """Why the pipeline `modules` of `source` cannot be carried to a smaller model, or None."""
    others = [kind for _, kind in modules if kind not in CARRIED_MODULES]
    if others:
        return f"its modules {', '.join(others)} hold weights of the source's width"
    for path, kind in modules:
        if kind == "Transformer" and path:
            return f"its transformer is the one in {path}/ (an older layout), not the model beside modules.json"
        if kind != "Transformer" and (len(PurePosixPath(path).parts) != 1 or path in (".", "..") or "\\" in path):
            return f"its {kind} module's path {path!r} is not a folder inside it"
        if kind == "Pooling" and not (source / path / "config.json").is_file():
            return f"its Pooling module has no {path}/config.json"
    return None


__all__ = ["CARRIED_MODULES", "MODULES_FILE", "copy_sentence_transformers_setup"]
