"""`prune()`: cut a TinyBert student out of a trained BERT (width + depth pruning, Minitron-style)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
    BertConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from ..assets import BUILTIN_MODELS
from ..checkpoints import check_tokenizer_fits, load_tokenizer, read_config, resolve_model_folder
from ..data.builtin import default_calibration_texts
from ..fields import as_texts
from ..models.tiny_bert import TinyBertConfig
from ..models.tiny_bert.modeling_tiny_bert import (
    TinyBertForMaskedLM,
    TinyBertForPreTraining,
    TinyBertForSequenceClassification,
    TinyBertModel,
    TinyBertPreTrainedModel,
)
from ..shrinking.contributions import layer_contributions
from ..shrinking.strategies import get_strategy, select_layers
from .importance import (
    IMPORTANCE_MEASURES,
    ImportanceScores,
    activation_scores,
    magnitude_scores,
    select_attention,
    top_k,
)
from .slicing import LayerPlan, PrunePlan, prune_state_dict, selection_matrix
from .target import SIZE_FIELDS, PruneTarget

SUPPORTED_MODEL_TYPES = ("bert", "shrunk_bert", "tiny_bert")
_FAMILY_PREFIXES = ("ShrunkBert", "TinyBert", "Bert")  # longest first: "Bert" is the end of the other two
# head (the class name after the family prefix) -> (TinyBert class, Auto class that loads a source with that head)
HEADS = {
    "Model": (TinyBertModel, AutoModel),
    "ForSequenceClassification": (TinyBertForSequenceClassification, AutoModelForSequenceClassification),
    "ForMaskedLM": (TinyBertForMaskedLM, AutoModelForMaskedLM),
    "ForPreTraining": (TinyBertForPreTraining, AutoModelForPreTraining),
}
# the default layer choice: Poor Man's BERT's even-alternate (6 -> 4 keeps 0, 1, 2, 4), else top when it cannot drop
# that many (it drops at most half the layers)
DEFAULT_LAYER_STRATEGY, FALLBACK_LAYER_STRATEGY = "even-alternate", "top"
# config fields that describe a checkpoint (or a size the target sets) rather than the architecture: never copied
_NOT_INHERITED = ("model_type", "architectures", "auto_map", "transformers_version", "_name_or_path", *SIZE_FIELDS)


def prune(
    source: PreTrainedModel | str | os.PathLike,
    target: PruneTarget | TinyBertConfig | dict | None = None,
    calibration_texts: Sequence[str] | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    layers: str | Sequence[int] | None = None,
    importance: str = "activation",
    calibration_size: int = 1024,
    batch_size: int = 32,
    max_length: int = 128,
    progress: bool = True,
    allow_pickle: bool = False,
    revision: str | None = None,
) -> TinyBertPreTrainedModel:
    """Cut a TinyBert out of a trained BERT-architecture model: fewer layers, channels, heads, head dimensions and FFN
    neurons, each weight a slice of the source's.

    Depth first: `layers` picks the source layers to keep. Then width, by importance (see
    `compactbert.pruning.importance`): the best hidden channels (over the embeddings' and the kept layers'
    LayerNorms), per kept layer the best heads, in each head the best query/key pairs and value dimensions (each head
    keeps `hidden_size / num_attention_heads`), and the best FFN neurons. Kept indices stay in ascending order, so
    pruning to the source's own shape returns the same model. Queries are scaled by `sqrt(new / old head size)`, so
    the attention scores `q.k / sqrt(head size)` keep their scale.

    The result is the TinyBert class with the source's head (`TinyBertModel`, `...ForSequenceClassification`,
    `...ForMaskedLM`, `...ForPreTraining`; labels carried over), whose projection `fit_dense` to the source's width
    (`fit_size`) starts as the channel selection: projecting its hidden states puts each kept channel back where it
    was in the source, so a hidden-state distillation loss against the source starts from the kept channels. Its
    config records `pruned_from` (the source) and `pruning` (kept layers and heads, the sizes before and after, the
    importance measure and the calibration size).

    Args:
        source: a BERT, ShrunkBert or TinyBert: a loaded model (any of the heads above), a local folder, a Hub id or a
            built-in name (`"minilm"`).
        target: the student's shape: a [`PruneTarget`], a `TinyBertConfig` (its four sizes and `fit_projection` are
            read; the rest of the config comes from the source and `fit_size` is the source's width) or a dict of
            `num_hidden_layers`, `hidden_size`, `intermediate_size`, `num_attention_heads`. A size not given keeps
            the source's.
        calibration_texts: texts to score activations (and layer contributions) on; the first `calibration_size` are
            used. Default: a fixed, topic-balanced sample of `calibration_size` BBC News texts (offline).
        tokenizer: the source's tokenizer (default: the one saved with a folder source).
        layers: which source layers to keep: a list of 0-based indices (as many as the target's `num_hidden_layers`,
            which they set when the target leaves it out), or a layer-dropping
            strategy from `compactbert.STRATEGIES` (`"contribution"` scores layers on the calibration texts). Default:
            `"even-alternate"` (6 -> 4 layers keeps 0, 1, 2, 4), or `"top"` when more than half the layers go.
        importance: `"activation"` (Minitron, on the calibration texts) or `"magnitude"` (weight norms; no
            calibration unless the layer strategy needs it).
        calibration_size: at most this many calibration texts.
        batch_size, max_length, progress: for the calibration passes (eval mode, no gradients; a progress bar);
            texts are cut to `max_length` tokens, or to the source's `max_position_embeddings` when fewer.
        allow_pickle: accept a folder whose weights are only `pytorch_model.bin` (pickle can execute code).
        revision: the Hub revision when `source` is a Hub id.

    >>> import compactbert
    >>> student = compactbert.prune("minilm", {"num_hidden_layers": 4, "hidden_size": 312, "intermediate_size": 1200})
    ... # doctest: +SKIP
    >>> student.config.pruning["kept_layers"], student.config.pruning["head_dim"]  # doctest: +SKIP
    ([0, 1, 2, 4], 26)
    """
    if importance not in IMPORTANCE_MEASURES:
        raise ValueError(f"unknown importance '{importance}'; choose one of: {', '.join(IMPORTANCE_MEASURES)}")
    for name, value in (("calibration_size", calibration_size), ("max_length", max_length)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if calibration_texts is not None:
        calibration_texts = as_texts(calibration_texts, "calibration_texts")
    model, folder, source_name = _load_source(source, allow_pickle=allow_pickle, revision=revision)
    config = model.config
    tiny_class = _tiny_class(type(model).__name__, source_name)
    wanted = PruneTarget.from_any(target)
    if layers is not None and not isinstance(layers, str):
        layers = list(layers)
        if wanted.num_hidden_layers is None and layers:  # the layers named say how many
            wanted = dataclasses.replace(wanted, num_hidden_layers=len(layers))
    sizes = wanted.resolve(config)
    fit_projection = getattr(target, "fit_projection", "shared") if isinstance(target, TinyBertConfig) else "shared"
    layer_strategy, kept_layers = _layer_request(config.num_hidden_layers, sizes.num_hidden_layers, layers)
    needs_contributions = kept_layers is None and get_strategy(layer_strategy).needs_scores

    texts, scores = [], None
    max_length = min(max_length, config.max_position_embeddings)  # never more tokens than the source has positions
    if importance == "activation" or needs_contributions:
        tokenizer = _tokenizer(tokenizer, folder)
        check_tokenizer_fits(tokenizer, config, folder or "the model")
        texts = (
            default_calibration_texts(calibration_size)
            if calibration_texts is None
            else list(calibration_texts)[:calibration_size]
        )
    if importance == "activation":
        scores = activation_scores(
            model,
            tokenizer,
            texts,
            batch_size=batch_size,
            max_length=max_length,
            layer_contributions=needs_contributions,
            progress=progress,
        )
    else:
        scores = magnitude_scores(model)
        if needs_contributions:
            scores.layer_contributions = layer_contributions(
                model, tokenizer, texts, batch_size=batch_size, max_length=max_length, progress=progress
            )
            scores.num_texts = len(texts)

    if kept_layers is None:
        num_drop = config.num_hidden_layers - sizes.num_hidden_layers
        kept_layers = select_layers(config.num_hidden_layers, layer_strategy, num_drop, scores.layer_contributions)
    plan = plan_pruning(scores, kept_layers, sizes, config)

    tensors = prune_state_dict(model.state_dict(), plan)
    prefix = "" if tiny_class is TinyBertModel else f"{TinyBertPreTrainedModel.base_model_prefix}."
    dtype = next((t.dtype for t in tensors.values() if t.is_floating_point()), torch.float32)
    device = next(iter(tensors.values())).device
    projection = selection_matrix(plan.hidden, config.hidden_size, dtype).to(device)
    zeros = torch.zeros(config.hidden_size, dtype=dtype, device=device)
    if fit_projection == "shared":
        tensors |= {f"{prefix}fit_dense.weight": projection, f"{prefix}fit_dense.bias": zeros}
    elif fit_projection == "per-layer":  # the embedding output, then each layer's output
        for i in range(sizes.num_hidden_layers + 1):
            tensors |= {f"{prefix}fit_dense.{i}.weight": projection.clone(), f"{prefix}fit_dense.{i}.bias": zeros}

    provenance = {
        "kept_layers": list(plan.kept_layers),
        "layer_strategy": layer_strategy,
        "source_num_hidden_layers": config.num_hidden_layers,
        "source_hidden_size": config.hidden_size,
        "hidden_size": sizes.hidden_size,
        "source_num_attention_heads": config.num_attention_heads,
        "num_attention_heads": sizes.num_attention_heads,
        "source_head_dim": plan.source_head_dim,
        "head_dim": plan.head_dim,
        "source_intermediate_size": config.intermediate_size,
        "intermediate_size": sizes.intermediate_size,
        "kept_heads": [list(layer.attention.heads) for layer in plan.layers],
        "importance": importance,
        "calibration_size": len(texts),
        "layer_contributions": scores.layer_contributions,
    }
    tiny_config = _tiny_config(config, sizes, fit_projection, source_name, provenance)
    extra = {}
    if tiny_class is TinyBertModel and not any(k.startswith("pooler.") for k in tensors):
        extra["add_pooling_layer"] = False
    pruned, info = tiny_class.from_pretrained(
        None, config=tiny_config, state_dict=tensors, dtype=dtype, output_loading_info=True, **extra
    )
    if info["missing_keys"] or info["mismatched_keys"] or info["unexpected_keys"]:
        raise ValueError(
            f"{source_name} does not hold every weight of a {type(model).__name__}: missing "
            f"{sorted(info['missing_keys'])}, mismatched {sorted(info['mismatched_keys'])}, unexpected "
            f"{sorted(info['unexpected_keys'])}"
        )
    pruned.config._name_or_path = source_name
    return pruned


def plan_pruning(
    scores: ImportanceScores, kept_layers: Sequence[int], target: PruneTarget, source_config
) -> PrunePlan:
    """What to keep, from importance scores: the top hidden channels over the kept layers, and per kept layer the top
    heads, head dimensions and FFN neurons (`target` fully resolved against `source_config`)."""
    source_head_dim = source_config.hidden_size // source_config.num_attention_heads
    hidden = top_k(scores.hidden(kept_layers), target.hidden_size)
    layer_plans = [
        LayerPlan(
            attention=select_attention(
                scores.heads[i], scores.qk[i], scores.v[i], target.num_attention_heads, target.head_dim
            ),
            ffn=top_k(scores.ffn[i], target.intermediate_size),
        )
        for i in kept_layers
    ]
    return PrunePlan(list(kept_layers), hidden, layer_plans, source_head_dim, target.head_dim)


def _load_source(source, *, allow_pickle: bool, revision: str | None) -> tuple[PreTrainedModel, Path | None, str]:
    if isinstance(source, PreTrainedModel):
        _check_supported(source.config, type(source).__name__)
        return source, None, source.config._name_or_path or type(source).__name__
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a model, a folder or a Hub id, got {type(source).__name__}")
    folder = resolve_model_folder(source, revision=revision, allow_pickle=allow_pickle)
    name = BUILTIN_MODELS[os.fspath(source)].hub_id if os.fspath(source) in BUILTIN_MODELS else os.fspath(source)
    try:
        config = read_config(folder)
    except ValueError as err:  # an unknown model_type
        raise ValueError(f"{name} is not a BERT-architecture model: {err}") from err
    _check_supported(config, name)
    head = (config.architectures or ["BertModel"])[0]
    _, auto_class = HEADS[_head_of(_tiny_class(head, name).__name__)]
    model = auto_class.from_pretrained(folder)
    return model, folder, name


def _check_supported(config, name: str) -> None:
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"{name} is a '{config.model_type}' model; prune() takes BERT-architecture models "
            f"(model_type one of: {', '.join(SUPPORTED_MODEL_TYPES)})"
        )


def _head_of(class_name: str) -> str | None:
    for prefix in _FAMILY_PREFIXES:
        if class_name.startswith(prefix):
            return class_name[len(prefix) :]
    return None


def _tiny_class(class_name: str, source_name: str) -> type[TinyBertPreTrainedModel]:
    head = _head_of(class_name)
    if head not in HEADS:
        supported = ", ".join(f"Bert{h}" for h in HEADS)
        raise ValueError(
            f"cannot prune {source_name}, a {class_name}: a pruned model is a TinyBert, which has these heads: "
            f"{supported} (or their ShrunkBert / TinyBert versions)"
        )
    return HEADS[head][0]


def _layer_request(num_layers: int, num_kept: int, layers) -> tuple[str, list[int] | None]:
    """(strategy, None) when a strategy is to pick the layers, else (what chose them, the kept layers): checked
    against the source's and the target's depth."""
    if isinstance(layers, str):
        get_strategy(layers)  # an unknown name raises, listing the strategies
    if num_kept == num_layers and (layers is None or isinstance(layers, str)):
        return "all", list(range(num_layers))
    if layers is None:
        fits = num_layers - num_kept <= get_strategy(DEFAULT_LAYER_STRATEGY).max_drop(num_layers)
        return (DEFAULT_LAYER_STRATEGY if fits else FALLBACK_LAYER_STRATEGY), None
    if isinstance(layers, str):
        return layers, None
    given = list(layers)
    bad = [i for i in given if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < num_layers]
    if bad:
        raise ValueError(f"layers must be 0-based source layer indices in [0, {num_layers - 1}], got {bad}")
    if len(set(given)) != len(given):
        raise ValueError(f"layers must be unique, got {given}")
    if len(given) != num_kept:
        raise ValueError(
            f"layers lists {len(given)} source layers but the target has num_hidden_layers={num_kept}; give one "
            "0-based source layer per kept layer"
        )
    return "explicit", sorted(given)


def _tokenizer(tokenizer, folder: Path | None) -> PreTrainedTokenizerBase:
    if tokenizer is not None:
        return tokenizer
    if folder is None:
        raise ValueError("pruning a loaded model on calibration texts needs its tokenizer: pass tokenizer=...")
    return load_tokenizer(folder)


def _tiny_config(config, sizes: PruneTarget, fit_projection: str, source_name: str, provenance: dict):
    """The TinyBert config: the source's architecture fields (activation, vocabulary, positions, labels, ...) with
    the target's sizes, the projection to the source's width and the provenance."""
    architecture = set(BertConfig().to_dict()) - set(_NOT_INHERITED)
    fields = {k: v for k, v in config.to_dict().items() if k in architecture}
    fields.update(
        sizes.to_dict(),
        fit_size=config.hidden_size,
        fit_projection=fit_projection,
        teacher_model=None,
        pruned_from=source_name,
        pruning=provenance,
    )
    return TinyBertConfig.from_dict(fields)
