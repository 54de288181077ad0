"""`shrink()`: drop whole layers of a pre-trained BERT (Poor Man's BERT) into a ShrunkBert with its provenance."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModel, PreTrainedModel, PreTrainedTokenizerBase

from ..assets import BUILTIN_MODELS
from ..checkpoints import check_tokenizer_fits, load_tokenizer, read_config, read_tensors, resolve_model_folder
from ..data.builtin import default_calibration_texts
from ..fields import as_texts
from ..models.shrunk_bert import BERT_TO_SHRUNK, ShrunkBertConfig, ShrunkBertPreTrainedModel
from .contributions import layer_contributions
from .strategies import explicit_layers, get_strategy, select_layers

SUPPORTED_MODEL_TYPES = ("bert", "shrunk_bert")
# head class name (BERT or ShrunkBert) -> ShrunkBert class that receives its weights
HEADS = {**BERT_TO_SHRUNK, **{cls.__name__: cls for cls in BERT_TO_SHRUNK.values()}}
_LAYER = re.compile(r"(^|\.)encoder\.layer\.(\d+)\.")
# config fields that describe a checkpoint rather than the architecture: never copied into the new config
_NOT_INHERITED = ("model_type", "architectures", "auto_map", "transformers_version", "_name_or_path")


def shrink(
    source: PreTrainedModel | str | os.PathLike,
    strategy: str = "top",
    num_drop: int | None = None,
    keep: Sequence[int] | None = None,
    drop: Sequence[int] | None = None,
    calibration_texts: Sequence[str] | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    threshold: float | None = None,
    allow_pickle: bool = False,
    revision: str | None = None,
    batch_size: int = 16,
    progress: bool = True,
) -> ShrunkBertPreTrainedModel:
    """Drop layers of a BERT-architecture model and return a ShrunkBert holding the kept ones.

    Args:
        source: a loaded BERT / ShrunkBert model (any head: the head's weights come along into the matching
            ShrunkBert head), a local folder, a Hub id, or a built-in name (`"minilm"`). From a folder only the
            kept layers' tensors are read, so peak memory is about the size of the result.
        strategy: a name from `compactbert.STRATEGIES`.
        num_drop: how many layers to drop (K).
        keep, drop: explicit 0-based layer indices instead of a strategy (exactly one of the two).
        calibration_texts: texts to score layers on for `strategy="contribution"` (default: a fixed sample of
            BBC News articles shipped with compactbert's dependencies).
        tokenizer: the source's tokenizer, for `"contribution"` (default: the one saved with a folder source).
        threshold: for `"contribution"`, drop every layer whose score is above it instead of giving `num_drop`.
        allow_pickle: accept a folder whose weights are only `pytorch_model.bin` (pickle can execute code).
        revision: the Hub revision when `source` is a Hub id.
        batch_size, progress: for scoring layer contributions.

    Shrinking a ShrunkBert again composes the provenance: `kept_layers` still index the original source.

    >>> import compactbert
    >>> small = compactbert.shrink("minilm", strategy="top", num_drop=3)
    >>> small.config.kept_layers, small.config.source_num_hidden_layers
    ([0, 1, 2], 6)
    """
    for name, value in (("keep", keep), ("drop", drop)):
        if isinstance(value, (int, str)):  # `drop=3` meaning three layers is the likely mistake
            raise TypeError(
                f"{name}= takes 0-based layer indices, e.g. {name}=[0, 2], got {value!r}; to drop K layers chosen by "
                "a strategy, pass strategy=... and num_drop=K"
            )
    if calibration_texts is not None:
        calibration_texts = as_texts(calibration_texts, "calibration_texts")
    explicit = keep is not None or drop is not None
    if explicit and (num_drop is not None or threshold is not None):
        raise ValueError("give either keep=/drop= indices or num_drop/threshold with a strategy, not both")

    folder, model = None, None
    if isinstance(source, PreTrainedModel):
        model, config = source, source.config
        head, source_name = type(source).__name__, config._name_or_path or type(source).__name__
    elif isinstance(source, (str, os.PathLike)):
        folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
        config = _read_config(folder)
        head = (config.architectures or ["BertModel"])[0]
        source_name = (
            BUILTIN_MODELS[os.fspath(source)].hub_id if os.fspath(source) in BUILTIN_MODELS else os.fspath(source)
        )
    else:
        raise TypeError(f"source must be a model, a folder or a Hub id, got {type(source).__name__}")
    _check_supported(config, source_name)
    target_class = HEADS.get(head)
    if target_class is None:
        raise ValueError(f"cannot shrink a {head}: supported heads are {', '.join(sorted(BERT_TO_SHRUNK))}")

    num_layers = config.num_hidden_layers
    scores = None
    if explicit:
        kept, strategy = explicit_layers(num_layers, keep=keep, drop=drop), "explicit"
    else:
        if get_strategy(strategy).needs_scores:
            scores = _score_layers(model, folder, tokenizer, calibration_texts, batch_size, progress)
        kept = select_layers(num_layers, strategy, num_drop, scores, threshold=threshold)

    shrunk_config = _shrunk_config(config, kept, strategy, source_name, scores)
    rename = _layer_renamer(kept)
    if model is not None:
        tensors = {new: t.detach().clone() for k, t in model.state_dict().items() if (new := rename(k)) is not None}
    else:
        tensors = read_tensors(folder, rename, allow_pickle=allow_pickle)
    dtype = next((t.dtype for t in tensors.values() if t.is_floating_point()), torch.float32)
    shrunk, info = target_class.from_pretrained(
        None, config=shrunk_config, state_dict=tensors, dtype=dtype, output_loading_info=True
    )
    if info["missing_keys"] or info["mismatched_keys"]:
        raise ValueError(
            f"{source_name} does not hold every weight of a {head}: missing {sorted(info['missing_keys'])}, "
            f"mismatched {sorted(info['mismatched_keys'])}"
        )
    shrunk.config._name_or_path = source_name
    return shrunk


def _read_config(folder: Path):
    try:
        return read_config(folder)
    except ValueError as err:  # an unknown model_type
        raise ValueError(f"{folder} is not a BERT-architecture model: {err}") from err


def _check_supported(config, source_name: str) -> None:
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"{source_name} is a '{config.model_type}' model; shrink() takes BERT-architecture models "
            f"(model_type one of: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )


def _layer_renamer(kept: Sequence[int]):
    """Map a source tensor name to its name in the shrunk model: kept layers renumbered 0..k-1, dropped -> None."""
    position = {source_index: i for i, source_index in enumerate(kept)}

    def rename(name: str) -> str | None:
        match = _LAYER.search(name)
        if match is None:
            return name
        index = position.get(int(match.group(2)))
        if index is None:
            return None
        return f"{name[: match.start(2)]}{index}{name[match.end(2) :]}"

    return rename


def _score_layers(model, folder, tokenizer, texts, batch_size, progress) -> list[float]:
    if tokenizer is None:
        if folder is None:
            raise ValueError("the 'contribution' strategy on a loaded model needs its tokenizer: pass tokenizer=...")
        tokenizer = load_tokenizer(folder)
    if model is None:
        model = AutoModel.from_pretrained(folder)
    check_tokenizer_fits(tokenizer, model.config, folder or type(model).__name__)
    texts = default_calibration_texts() if texts is None else list(texts)
    return layer_contributions(model, tokenizer, texts, batch_size=batch_size, progress=progress)


def _shrunk_config(config, kept, strategy, source_name, scores) -> ShrunkBertConfig:
    """The ShrunkBert config: the source's architecture with fewer layers, and the (composed) provenance."""
    fields = {k: v for k, v in config.to_dict().items() if k not in _NOT_INHERITED}
    # compose with the earlier shrink (indices refer to the original): by model type, since a ShrunkBert loaded with
    # trust_remote_code has its folder's copy of the config class, not compactbert's
    if getattr(config, "model_type", None) == ShrunkBertConfig.model_type and getattr(config, "kept_layers", None):
        earlier = config.kept_layers
        kept_in_source = [earlier[i] for i in kept]
        total = config.source_num_hidden_layers
        if config.drop_strategy:
            strategy = f"{config.drop_strategy}+{strategy}"
        source_name = config.source_model or source_name
        contributions = config.layer_contributions
        if scores is not None:
            contributions = [None] * total
            for i, score in zip(earlier, scores, strict=True):
                contributions[i] = score
    else:
        kept_in_source, total, contributions = list(kept), config.num_hidden_layers, scores
    fields.update(
        num_hidden_layers=len(kept),
        kept_layers=kept_in_source,
        drop_strategy=strategy,
        source_num_hidden_layers=total,
        source_model=source_name,
        layer_contributions=None if contributions is None else list(contributions),
    )
    return ShrunkBertConfig.from_dict(fields)
