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
from pathlib import Path

MODULES_FILE = "modules.json"
# the files of a sentence-transformers folder beside its modules' folders
TOP_LEVEL_FILES = (MODULES_FILE, "sentence_bert_config.json", "config_sentence_transformers.json")
# the modules carried: none holds weights, so they fit a model of another depth or width (Pooling is told the width)
TRANSFORMER, POOLING, NORMALIZE = (
    f"sentence_transformers.models.{n}" for n in ("Transformer", "Pooling", "Normalize")
)
CARRIED_MODULES = (TRANSFORMER, POOLING, NORMALIZE)


def copy_sentence_transformers_setup(source: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Copy the sentence-transformers pipeline of the model folder `source` into the model folder `folder` (a smaller
    model made from it, already saved there), so that `SentenceTransformer(folder)` pools, normalises and truncates
    as `SentenceTransformer(source)` does. The Pooling module is given the width of `folder`'s model (a pruned model
    is narrower).

    Returns whether `source` had a pipeline to copy. One with a module that holds weights (a Dense projection, ...) is
    not copied, and a `UserWarning` says why: those weights fit the source's width and were not made smaller.

    Raises:
        `FileNotFoundError`: `folder` holds no `config.json` (save the model there first).
    """
    source, folder = Path(source), Path(folder)
    modules_file = source / MODULES_FILE
    if not modules_file.is_file():
        return False
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{folder} holds no config.json: save the model there before its pipeline")
    modules = json.loads(modules_file.read_text(encoding="utf-8"))
    others = sorted({m.get("type", "?") for m in modules} - set(CARRIED_MODULES))
    if others:
        warnings.warn(
            f"{source}'s sentence-transformers pipeline ({modules_file}) has modules with weights of the source's "
            f"width ({', '.join(others)}); it was not copied: SentenceTransformer({str(folder)!r}) pools the model "
            "with its defaults",
            stacklevel=2,
        )
        return False
    hidden_size = json.loads(config_file.read_text(encoding="utf-8"))["hidden_size"]
    for name in TOP_LEVEL_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, folder / name)
    for module in modules:
        path = module.get("path") or ""
        if not path or not (source / path).is_dir():
            continue  # the Transformer module is the folder itself; Normalize keeps no files
        shutil.copytree(source / path, folder / path, dirs_exist_ok=True)
        pooling = folder / path / "config.json"
        if module.get("type") == POOLING and pooling.is_file():
            settings = json.loads(pooling.read_text(encoding="utf-8"))
            settings["word_embedding_dimension"] = hidden_size
            pooling.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return True


__all__ = ["CARRIED_MODULES", "MODULES_FILE", "copy_sentence_transformers_setup"]
