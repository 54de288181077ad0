"""Cut a BERT state dict down to kept layers, channels, heads, dimensions and neurons (pure functions on tensors).

`PrunePlan` says what is kept; `prune_state_dict` applies it to every tensor of a BERT-architecture state dict (bare
encoder, sequence classification, masked LM or pre-training heads), renumbering the kept layers 0..k-1. Every index
list is in ascending order, so a plan that keeps everything returns the same tensors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .importance import AttentionSelection


def slice_linear(
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    out_index: Sequence[int] | None = None,
    in_index: Sequence[int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A Linear's `weight` `(out, in)` and `bias` `(out,)` keeping the outputs `out_index` and inputs `in_index`
    (None keeps all)."""
    weight = _take(weight, 0, out_index)
    weight = _take(weight, 1, in_index)
    return weight, None if bias is None else _take(bias, 0, out_index)


def slice_embedding(weight: torch.Tensor, index: Sequence[int] | None) -> torch.Tensor:
    """An Embedding's `weight` `(num_embeddings, dim)` keeping the channels `index`."""
    return _take(weight, 1, index)


def slice_layer_norm(
    weight: torch.Tensor, bias: torch.Tensor, index: Sequence[int] | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A LayerNorm's gain and bias `(dim,)` keeping the channels `index`."""
    return _take(weight, 0, index), _take(bias, 0, index)


def selection_matrix(kept: Sequence[int], width: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The `(width, len(kept))` weight of a Linear that puts kept channel `j` back at position `kept[j]` (zeros
    elsewhere): the starting projection from a pruned model's hidden states to its source's width.

    >>> selection_matrix([0, 2], 3)
    tensor([[1., 0.],
            [0., 0.],
            [0., 1.]])
    """
    matrix = torch.zeros(width, len(kept), dtype=dtype)
    matrix[list(kept), list(range(len(kept)))] = 1.0
    return matrix


def _take(tensor: torch.Tensor, dim: int, index: Sequence[int] | None) -> torch.Tensor:
    if index is None:
        return tensor.detach().clone()
    return tensor.detach().index_select(dim, torch.as_tensor(list(index), dtype=torch.long, device=tensor.device))


@dataclass(frozen=True)
class LayerPlan:
    """What one kept layer keeps: its attention selection and its FFN neurons (source indices, ascending)."""

    attention: AttentionSelection
    ffn: list[int]


@dataclass(frozen=True)
class PrunePlan:
    """Everything a pruning keeps.

    Attributes:
        kept_layers: source layers, ascending; the pruned model's layer `i` is source layer `kept_layers[i]`.
        hidden: kept hidden channels, ascending.
        layers: one `LayerPlan` per kept layer.
        source_head_dim, head_dim: the head size before and after (queries are scaled by
            `sqrt(head_dim / source_head_dim)`, so `q.k / sqrt(head_dim)` keeps the source's scale).
    """

    kept_layers: list[int]
    hidden: list[int]
    layers: list[LayerPlan]
    source_head_dim: int
    head_dim: int

    @property
    def query_scale(self) -> float:
        return math.sqrt(self.head_dim / self.source_head_dim)


_LAYER = re.compile(r"(^|\.)encoder\.layer\.(\d+)\.(.+)$")
# name inside a layer -> (rows, columns) of what each axis keeps: "hidden", "qk", "v", "ffn" or None (all)
_LAYER_RULES = {
    "attention.self.query.weight": ("qk", "hidden"),
    "attention.self.query.bias": ("qk", None),
    "attention.self.key.weight": ("qk", "hidden"),
    "attention.self.key.bias": ("qk", None),
    "attention.self.value.weight": ("v", "hidden"),
    "attention.self.value.bias": ("v", None),
    "attention.output.dense.weight": ("hidden", "v"),
    "attention.output.dense.bias": ("hidden", None),
    "attention.output.LayerNorm.weight": ("hidden", None),
    "attention.output.LayerNorm.bias": ("hidden", None),
    "intermediate.dense.weight": ("ffn", "hidden"),
    "intermediate.dense.bias": ("ffn", None),
    "output.dense.weight": ("hidden", "ffn"),
    "output.dense.bias": ("hidden", None),
    "output.LayerNorm.weight": ("hidden", None),
    "output.LayerNorm.bias": ("hidden", None),
}
# tensors outside the layers, matched by the end of their name
_OTHER_RULES = {
    "embeddings.word_embeddings.weight": (None, "hidden"),
    "embeddings.position_embeddings.weight": (None, "hidden"),
    "embeddings.token_type_embeddings.weight": (None, "hidden"),
    "embeddings.LayerNorm.weight": ("hidden", None),
    "embeddings.LayerNorm.bias": ("hidden", None),
    "embeddings.position_ids": (None, None),
    "embeddings.token_type_ids": (None, None),
    "pooler.dense.weight": ("hidden", "hidden"),
    "pooler.dense.bias": ("hidden", None),
    "classifier.weight": (None, "hidden"),
    "classifier.bias": (None, None),
    "cls.predictions.transform.dense.weight": ("hidden", "hidden"),
    "cls.predictions.transform.dense.bias": ("hidden", None),
    "cls.predictions.transform.LayerNorm.weight": ("hidden", None),
    "cls.predictions.transform.LayerNorm.bias": ("hidden", None),
    "cls.predictions.decoder.weight": (None, "hidden"),
    "cls.predictions.decoder.bias": (None, None),
    "cls.predictions.bias": (None, None),
    "cls.seq_relationship.weight": (None, "hidden"),
    "cls.seq_relationship.bias": (None, None),
}
_DROPPED = re.compile(r"(^|\.)fit_dense\.")  # a TinyBert source's projection: the pruned model gets its own


def prune_state_dict(state: dict[str, torch.Tensor], plan: PrunePlan) -> dict[str, torch.Tensor]:
    """The tensors of the pruned model, named as in the source with the kept layers renumbered.

    Raises:
        `ValueError` for a tensor this does not know how to prune (a head that is not BERT's).
    """
    position = {source: i for i, source in enumerate(plan.kept_layers)}
    pruned: dict[str, torch.Tensor] = {}
    unknown = []
    for name, tensor in state.items():
        if _DROPPED.search(name):
            continue
        match = _LAYER.search(name)
        if match is not None:
            source_layer, rest = int(match.group(2)), match.group(3)
            if source_layer not in position:
                continue
            rule = _LAYER_RULES.get(rest)
            if rule is None:
                unknown.append(name)
                continue
            layer = plan.layers[position[source_layer]]
            indices = {"hidden": plan.hidden, "qk": layer.attention.qk, "v": layer.attention.v, "ffn": layer.ffn}
            new_name = f"{name[: match.start(2)]}{position[source_layer]}.{rest}"
            value = _apply(tensor, rule, indices)
            if rest.startswith("attention.self.query."):
                value = value * plan.query_scale
            pruned[new_name] = value
            continue
        rule = next((r for suffix, r in _OTHER_RULES.items() if name == suffix or name.endswith(f".{suffix}")), None)
        if rule is None:
            unknown.append(name)
            continue
        pruned[name] = _apply(tensor, rule, {"hidden": plan.hidden})
    if unknown:
        raise ValueError(
            f"cannot prune the tensors {unknown[:5]}{' ...' if len(unknown) > 5 else ''}: pruning knows BERT's "
            "encoder and its pooler, sequence-classification, masked-LM and pre-training heads"
        )
    return pruned


def _apply(tensor: torch.Tensor, rule: tuple[str | None, str | None], indices: dict) -> torch.Tensor:
    rows, cols = rule
    value = _take(tensor, 0, indices[rows] if rows else None)
    if cols is not None:
        value = _take(value, 1, indices[cols])
    return value
