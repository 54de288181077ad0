"""Finding a model folder (built-in name, local path or Hub id) and reading selected tensors from its weights.

Weights are read from safetensors, tensor by tensor, so a caller that needs a few layers of a large checkpoint
never holds the rest in memory. Pickle checkpoints (`pytorch_model.bin`) can run code when loaded: they are
refused unless the caller opts in with `allow_pickle=True`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .assets import BUILTIN_MODELS, builtin_model_path

SAFE_WEIGHTS = "model.safetensors"
SAFE_INDEX = "model.safetensors.index.json"
PICKLE_WEIGHTS = "pytorch_model.bin"
PICKLE_INDEX = "pytorch_model.bin.index.json"
# files a model folder needs besides weights: config, tokenizer
HUB_PATTERNS = ["*.json", "*.txt", "*.model", "*.safetensors"]


def check_source(source) -> None:
    """Refuse a `source` that is not a folder, a built-in name or a Hub id (a loaded model is told to save first)."""
    if not isinstance(source, (str, os.PathLike)):
        loaded = (
            ": save a loaded model first (compactbert.save_model(model, folder, tokenizer=tokenizer)) and give the folder"
            if hasattr(source, "save_pretrained")
            else ""
        )
        raise TypeError(f"expected a model folder, a built-in name or a Hub id; got {type(source).__name__}{loaded}")


def resolve_model_folder(source: str | os.PathLike, revision: str | None = None, allow_pickle: bool = False) -> Path:
    """A local folder holding `source`: a built-in name (`"minilm"`), a local folder, or a Hub repo id.

    A Hub id is fetched with `huggingface_hub.snapshot_download` (config, tokenizer and safetensors files only,
    plus pickle weights when `allow_pickle`), which honours `HF_ENDPOINT`, `HF_HUB_OFFLINE` and the cache.
    """
    check_source(source)
    text = os.fspath(source)
    if text in BUILTIN_MODELS:
        return builtin_model_path(text)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{path} is a file; expected a model folder (config.json + weights) or a Hub repo id")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError:
        if path.parent.is_dir():
            raise FileNotFoundError(_missing_folder(path, f"('{text}' is not a Hub repo id either.)")) from None
        raise FileNotFoundError(f"model folder {path} does not exist (and '{text}' is not a Hub repo id)") from None

    patterns = HUB_PATTERNS + (["*.bin"] if allow_pickle else [])
    try:
        folder = Path(snapshot_download(text, revision=revision, allow_patterns=patterns))
        if not allow_pickle and not any(folder.glob("*.safetensors")):
            from huggingface_hub import list_repo_files

            if PICKLE_WEIGHTS in list_repo_files(text, revision=revision):
                raise ValueError(
                    f"Hub repo '{text}' holds only pickle weights ({PICKLE_WEIGHTS}); loading pickle can execute "
                    "arbitrary code. Opt in with allow_pickle=True (--allow-pickle) if you trust its source."
                )
        return folder
    except RepositoryNotFoundError as err:
        if path.parent != Path(".") and path.parent.is_dir():  # a local path with a typo, not a Hub id
            raise FileNotFoundError(_missing_folder(path, "(Nor is it a model repo on the Hub.)")) from err
        raise FileNotFoundError(f"'{text}' is neither a local folder nor a model repo on the Hub") from err
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
        if path.parent != Path(".") and path.parent.is_dir():  # a local path with a typo, not a Hub id
            raise FileNotFoundError(
                _missing_folder(path, f"(As a Hub repo id it could not be fetched either: {type(err).__name__}.)")
            ) from err
        raise FileNotFoundError(
            f"'{text}' is not a local folder, and fetching it from the Hub failed ({type(err).__name__}: {err}). "
            "Offline, give a local folder or a built-in name: " + ", ".join(BUILTIN_MODELS)
        ) from err


def _missing_folder(path: Path, hub: str) -> str:
    """What to say of `path`, a folder that does not exist in a folder that does: the folders beside it (the closest
    name first), then `hub`, why it is not a Hub repo either."""
    import difflib

    folders = sorted(p.name for p in path.parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    close = difflib.get_close_matches(path.name, folders, n=1)
    beside = ", ".join((close + [f for f in folders if f not in close])[:8]) if folders else "no folders"
    hint = f" (did you mean {path.parent / close[0]}?)" if close else ""
    return f"model folder {path} does not exist{hint}; {path.parent} holds: {beside}. {hub}"


@contextmanager
def load_report_off() -> Iterator[None]:
    """Transformers' log at errors only while a model loads whose load report the caller says itself (or has no use
    for: a classifier timed as its bare encoder); its verbosity is restored afterwards, also on failure."""
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)


def weight_files(folder: Path, allow_pickle: bool = False) -> list[Path]:
    """The weight files of a model folder: safetensors (single or sharded), or pickle when allowed."""
    for single, index in ((SAFE_WEIGHTS, SAFE_INDEX), (PICKLE_WEIGHTS, PICKLE_INDEX)):
        if single == PICKLE_WEIGHTS and ((folder / single).exists() or (folder / index).exists()) and not allow_pickle:
            raise ValueError(
                f"{folder} holds only pickle weights ({PICKLE_WEIGHTS}); loading pickle can execute arbitrary code. "
                "Convert the checkpoint to safetensors, or opt in with allow_pickle=True (--allow-pickle) if you "
                "trust its source."
            )
        if (folder / single).exists():
            return [folder / single]
        if (folder / index).exists():
            try:
                weight_map = json.loads((folder / index).read_text())["weight_map"]
            except (json.JSONDecodeError, KeyError) as err:
                raise ValueError(f"{folder / index} is not a valid weight index: {err}") from err
            return [folder / name for name in sorted(set(weight_map.values()))]
    raise FileNotFoundError(f"no weights in {folder}: expected {SAFE_WEIGHTS} or {SAFE_INDEX}")


def read_tensors(
    folder: Path, rename: Callable[[str], str | None], allow_pickle: bool = False
) -> dict[str, torch.Tensor]:
    """Read the tensors whose names `rename` maps to a new name (`None` = skip), without touching the rest."""
    tensors: dict[str, torch.Tensor] = {}
    for path in weight_files(folder, allow_pickle):
        if not path.exists():
            raise FileNotFoundError(f"weight shard {path} is listed in the index but missing")
        if path.suffix == ".safetensors":
            tensors.update(_read_safetensors(path, rename))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            tensors.update({new: t for k, t in state.items() if (new := rename(k)) is not None})
    return tensors


def _read_safetensors(path: Path, rename: Callable[[str], str | None]) -> dict[str, torch.Tensor]:
    try:
        with safe_open(path, framework="pt") as f:
            return {new: f.get_tensor(k) for k in f.keys() if (new := rename(k)) is not None}
    except SafetensorError as err:
        raise ValueError(f"{path} is not a readable safetensors file (corrupt or truncated?): {err}") from err


def parameter_count(folder: Path, allow_pickle: bool = False) -> int:
    """Number of floating-point values stored in a folder's weights, read from the file headers only."""
    total = 0
    for path in weight_files(folder, allow_pickle):
        if path.suffix != ".safetensors":
            state = torch.load(path, map_location="cpu", weights_only=True)
            total += sum(t.numel() for t in state.values() if t.is_floating_point())
            continue
        try:
            with safe_open(path, framework="pt") as f:
                for key in f.keys():
                    piece = f.get_slice(key)
                    if piece.get_dtype().startswith(("F", "BF")):
                        total += int(torch.Size(piece.get_shape()).numel())
        except SafetensorError as err:
            raise ValueError(f"{path} is not a readable safetensors file (corrupt or truncated?): {err}") from err
    return total


def read_config_json(folder: Path) -> dict:
    """A model folder's config.json as a dict, read without loading anything ({} when it has none or it is no JSON
    object)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def load_tokenizer(source: str | os.PathLike, name=None):
    """The tokenizer saved with a model (`source`: its folder, or a Hub id; `name`: the model as the caller was given
    it, for messages), checked by `check_tokenizer_has_words` and `check_tokenizer_fits`.

    Raises:
        `FileNotFoundError`: the folder has no tokenizer of its own.
        `ValueError`: the tokenizer and the model do not belong together.
    """
    from transformers import AutoTokenizer

    who = source if name is None or os.fspath(name) == os.fspath(source) else f"{name} ({source})"
    tokenizer = AutoTokenizer.from_pretrained(source)
    check_tokenizer_has_words(tokenizer, who)
    check_tokenizer_fits(tokenizer, read_config_json(Path(source)), who)
    return tokenizer


def check_tokenizer_has_words(tokenizer, name) -> None:
    """Refuse a tokenizer of the special tokens only: what transformers 5's `AutoTokenizer` makes for a folder saved
    without a tokenizer (and what such a folder's copies may hold). It reads every word as `[UNK]`, so a model would
    predict the same for every text, with no error."""
    specials = set(getattr(tokenizer, "all_special_ids", None) or [])
    size = getattr(tokenizer, "vocab_size", None)
    if isinstance(size, int) and size <= len(specials):
        raise FileNotFoundError(
            f"{name} has no tokenizer of its own: what loads from it holds only the special tokens "
            f"({', '.join(map(str, tokenizer.all_special_tokens))}), so every word would be read as unknown; copy the "
            "tokenizer the model was trained with into the folder (tokenizer.save_pretrained(folder))"
        )


def check_tokenizer_fits(tokenizer, config, name) -> None:
    """Refuse a tokenizer with more tokens (added tokens included) than the model's embedding has rows (`config`: a
    config or its dict): another model's tokenizer, or tokens added without resizing the embedding, whose ids fail
    deep in the first forward pass that meets them, as torch's "index out of range in self"."""
    get = config.get if isinstance(config, dict) else lambda key: getattr(config, key, None)
    rows, tokens = get("vocab_size"), len(tokenizer) if hasattr(tokenizer, "__len__") else None
    if isinstance(rows, int) and isinstance(tokens, int) and tokens > rows:
        raise ValueError(
            f"the tokenizer for {name} has {tokens} tokens but the model's embedding has {rows} (vocab_size): they do "
            "not belong together (another model's tokenizer, or tokens added without model.resize_token_embeddings); "
            "use the tokenizer the model was trained with"
        )


def check_max_length(max_length: int | None, config, name) -> None:
    """Refuse a `max_length` longer than the model has positions for (`config`: a config or its dict), which would
    otherwise fail deep inside the first forward pass that meets a text that long."""
    get = config.get if isinstance(config, dict) else lambda key: getattr(config, key, None)
    positions = get("max_position_embeddings")
    if max_length is not None and positions is not None and max_length > positions:
        raise ValueError(
            f"max_length {max_length} is longer than {name} has positions for ({positions}, its "
            f"max_position_embeddings): pass --max_length {positions} or less (longer texts are cut to it)"
        )


def label_names_of(config: dict) -> list[str]:
    """A config's label names (`id2label`, read from config.json), in label-id order; transformers' placeholders
    (`LABEL_0`, ...) for a config saved without them (`num_labels`, 2 by default)."""
    id2label = config.get("id2label") or {}
    if not id2label:
        return [f"LABEL_{i}" for i in range(int(config.get("num_labels") or 2))]
    return [str(id2label[key]) for key in sorted(id2label, key=int)]


def check_head_labels(folder: Path, label_names: list[str], source, replace_head: bool = False) -> None:
    """Refuse to fine-tune a classifier whose head predicts another number of labels than the task has, unless
    `replace_head` (the recipe's `ignore_mismatched_sizes`) starts a new one; read from config.json, before loading."""
    config = read_config_json(folder)
    if replace_head or not any(
        str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or []
    ):
        return  # a bare encoder gets a new head anyway
    theirs = label_names_of(config)
    if len(theirs) != len(label_names):
        raise ValueError(
            f"{source} is a classifier of {len(theirs)} labels {theirs}, but the task has {len(label_names)} "
            f"{label_names}: pass --ignore_mismatched_sizes true (ignore_mismatched_sizes: true in a recipe) to "
            "fine-tune it with a new head for the task's labels, its own dropped"
        )


def placeholder_labels(names) -> bool:
    """Whether label names are transformers' placeholders (`LABEL_0`, `LABEL_1`, ... in order): a config saved
    without names of its own."""
    return all(str(name) == f"LABEL_{i}" for i, name in enumerate(names))


def read_config(folder: Path):
    """The folder's config through `AutoConfig`; a folder without config.json is a clear `FileNotFoundError`."""
    from transformers import AutoConfig

    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} has no config.json; expected a saved transformers model folder")
    return AutoConfig.from_pretrained(folder)


def describe_model(source: str | os.PathLike, allow_pickle: bool = False) -> dict:
    """What a model folder (or built-in name) holds: architecture, size and its provenance: a ShrunkBert's kept
    layers, a pruned TinyBert's `pruning`, an Albert-SOP's E, sharing and, when converted from a BERT, how."""
    folder = resolve_model_folder(source, allow_pickle=allow_pickle)
    config = read_config(folder)
    info = {
        "path": str(folder),
        "model_type": config.model_type,
        "architecture": (config.architectures or ["?"])[0],
        "num_hidden_layers": config.num_hidden_layers,
        "hidden_size": config.hidden_size,
        "parameters": parameter_count(folder, allow_pickle=allow_pickle),
    }
    if getattr(config, "pruned_from", None) is not None:
        info["pruning"] = {"pruned_from": config.pruned_from, **(config.pruning or {})}
    if hasattr(config, "kept_layers"):
        info["provenance"] = {
            key: getattr(config, key)
            for key in (
                "source_model",
                "drop_strategy",
                "source_num_hidden_layers",
                "kept_layers",
                "layer_contributions",
            )
        }
    if config.model_type == "albert_sop":  # the factorised embedding, the sharing and, when converted, the source
        info["albert"] = {
            key: getattr(config, key, None)
            for key in (
                "embedding_size",
                "sharing",
                "source_model",
                "shared_init",
                "embedding_factorization",
                "embedding_reconstruction_error",
            )
        }
    return info
