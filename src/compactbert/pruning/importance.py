"""Importance scores for width pruning: what each FFN neuron, attention head, head dimension and hidden channel does.

The measures (Minitron, Muralidharan et al. 2024, arXiv 2407.14679, adapted to BERT's post-LayerNorm encoder):

- **FFN neuron** `i`: the mean |activation| over a text's real tokens at the input of the FFN's output projection
  (after GELU), then the L2 norm over the calibration texts.
- **query/key dimension pair** `i` of a head: query and key dimension `i` meet only in the product `q_i(t) k_i(s)`
  of the attention score of query token `t` and key token `s`. Its mean magnitude over all token pairs of a text
  factorises exactly into `mean_t |q_i(t)| * mean_s |k_i(s)|`; the score is the L2 norm of that over the texts.
- **value dimension** `j`: the mean |context_j| (the attention-weighted values, the input of the output projection)
  per text, L2 over the texts, times the L2 norm of the output projection's matching input column `W_O[:, j]`: the
  size of what dimension `j` adds to the attention output.
- **head**: the mean over a text's real tokens of the L2 norm of the head's own contribution to the attention output
  (`context_head @ W_O[:, head]^T`), L2 over the texts (Minitron's head score).
- **hidden channel** `c`: the mean |LayerNorm output_c| per text, L2 over the texts, summed over every LayerNorm of
  the kept layers and the embeddings' LayerNorm (every state the residual stream passes through).

Padding never counts: every mean runs over the tokens the attention mask marks as real. The "magnitude" measure uses
the weights alone (no calibration): the same shapes, from weight norms.

The pure functions take and return tensors; `activation_scores` collects them with forward hooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..shrinking.contributions import calibration_batches, check_calibration_texts, cls_similarity_sums
from .target import IMPORTANCE_MEASURES

__all__ = [
    "IMPORTANCE_MEASURES",
    "AttentionSelection",
    "ImportanceScores",
    "activation_scores",
    "head_output_norms",
    "magnitude_scores",
    "masked_mean_abs",
    "select_attention",
    "top_k",
]


# --- pure functions ----------------------------------------------------------------------------------------------


def masked_mean_abs(activations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |activation| over each text's real tokens.

    Args:
        activations: `(batch, seq, features)`.
        mask: `(batch, seq)`, 1 for real tokens and 0 for padding.

    Returns:
        `(batch, features)`.
    """
    mask = mask.to(activations.dtype).unsqueeze(-1)  # (batch, seq, 1)
    return (activations.abs() * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def head_output_norms(
    context: torch.Tensor, output_weight: torch.Tensor, num_heads: int, mask: torch.Tensor
) -> torch.Tensor:
    """Per text, the mean over real tokens of the L2 norm of each head's contribution to the attention output.

    Args:
        context: `(batch, seq, heads * head_dim)`, the input of the attention's output projection.
        output_weight: `(hidden, heads * head_dim)`, that projection's weight.
        num_heads: how many heads `context` holds.
        mask: `(batch, seq)`, 1 for real tokens.

    Returns:
        `(batch, heads)`.
    """
    batch, seq, width = context.shape
    per_head = context.reshape(batch, seq, num_heads, width // num_heads)  # (batch, seq, heads, head_dim)
    weight = output_weight.reshape(output_weight.shape[0], num_heads, width // num_heads)  # (hidden, heads, head_dim)
    contribution = torch.einsum("bsnd,hnd->bsnh", per_head, weight)  # (batch, seq, heads, hidden)
    norms = contribution.norm(dim=-1)  # (batch, seq, heads)
    return masked_mean_abs(norms, mask)


def top_k(scores: torch.Tensor, k: int) -> list[int]:
    """The indices of the `k` highest scores, in ascending index order (ties keep the lower index).

    >>> top_k(torch.tensor([0.5, 3.0, 1.0, 3.0]), 2)
    [1, 3]
    """
    if not 1 <= k <= scores.numel():
        raise ValueError(f"cannot keep {k} of {scores.numel()} scores; k must be in [1, {scores.numel()}]")
    order = sorted(range(scores.numel()), key=lambda i: (-float(scores[i]), i))
    return sorted(order[:k])


@dataclass(frozen=True)
class AttentionSelection:
    """What one layer's attention keeps: source heads, and flattened `head * head_dim + dim` indices of the query/key
    and of the value dimensions (kept heads in order, each with its kept dimensions in order)."""

    heads: list[int]
    qk: list[int]
    v: list[int]


def select_attention(
    head_scores: torch.Tensor, qk_scores: torch.Tensor, v_scores: torch.Tensor, num_heads: int, head_dim: int
) -> AttentionSelection:
    """Keep the `num_heads` best heads, then in each the `head_dim` best query/key pairs and value dimensions.

    Args:
        head_scores: `(source_heads,)`.
        qk_scores, v_scores: `(source_heads * source_head_dim,)`, flattened head by head.
        num_heads, head_dim: the kept shape.
    """
    source_heads = head_scores.numel()
    source_dim = qk_scores.numel() // source_heads
    heads = top_k(head_scores, num_heads)
    qk, v = [], []
    for head in heads:
        start = head * source_dim
        qk += [start + i for i in top_k(qk_scores[start : start + source_dim], head_dim)]
        v += [start + i for i in top_k(v_scores[start : start + source_dim], head_dim)]
    return AttentionSelection(heads, qk, v)


# --- the scores of a whole model ---------------------------------------------------------------------------------


@dataclass
class ImportanceScores:
    """Per-layer scores of a BERT encoder (lists indexed by source layer) and the layer-contribution scores.

    Attributes:
        ffn: `(intermediate_size,)` per layer.
        qk, v: `(heads * head_dim,)` per layer.
        heads: `(heads,)` per layer.
        embeddings_hidden: `(hidden,)`, the embeddings' LayerNorm.
        layer_hidden: `(hidden,)` per layer: its two LayerNorms (attention output, FFN output) summed.
        layer_contributions: per layer, the mean [CLS] input/output cosine (None unless computed).
        num_texts: calibration texts scored (0 for weight magnitudes).
    """

    ffn: list[torch.Tensor]
    qk: list[torch.Tensor]
    v: list[torch.Tensor]
    heads: list[torch.Tensor]
    embeddings_hidden: torch.Tensor
    layer_hidden: list[torch.Tensor]
    layer_contributions: list[float] | None = None
    num_texts: int = 0

    def hidden(self, kept_layers: Sequence[int]) -> torch.Tensor:
        """Hidden-channel scores summed over the embeddings' and the kept layers' LayerNorms: `(hidden,)`."""
        return self.embeddings_hidden + sum(self.layer_hidden[i] for i in kept_layers)


def _layers(model: PreTrainedModel) -> nn.ModuleList:
    return model.base_model.encoder.layer


@torch.no_grad()
def magnitude_scores(model: PreTrainedModel) -> ImportanceScores:
    """Scores from the weights alone (no calibration): products of row / column L2 norms, |LayerNorm gain|.

    FFN neuron `i`: `||W_in[i, :]|| * ||W_out[:, i]||`; query/key pair `i`: `||W_q[i, :]|| * ||W_k[i, :]||`; value
    dimension `j`: `||W_v[j, :]|| * ||W_O[:, j]||`; head: the sum of its value-dimension scores; hidden channel: the
    |gain| of the embeddings' and each layer's LayerNorms.
    """
    num_heads = model.config.num_attention_heads
    scores = ImportanceScores([], [], [], [], model.base_model.embeddings.LayerNorm.weight.detach().float().abs(), [])
    for layer in _layers(model):
        attention, output_dense = layer.attention, layer.output.dense
        w_in, w_out = layer.intermediate.dense.weight.float(), output_dense.weight.float()
        scores.ffn.append(w_in.norm(dim=1) * w_out.norm(dim=0))
        q, k = attention.self.query.weight.float(), attention.self.key.weight.float()
        scores.qk.append(q.norm(dim=1) * k.norm(dim=1))
        v = attention.self.value.weight.float().norm(dim=1) * attention.output.dense.weight.float().norm(dim=0)
        scores.v.append(v)
        scores.heads.append(v.reshape(num_heads, -1).sum(dim=1))
        scores.layer_hidden.append(
            attention.output.LayerNorm.weight.float().abs() + layer.output.LayerNorm.weight.float().abs()
        )
    return scores


@torch.no_grad()
def activation_scores(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    max_length: int = 128,
    layer_contributions: bool = False,
    progress: bool = True,
) -> ImportanceScores:
    """Run `model` (eval mode, no gradients) on `texts` and score its neurons, heads, dimensions and channels.

    Args:
        model: a BERT-architecture model (any head; its encoder is scored).
        tokenizer: its tokenizer.
        texts: the calibration texts.
        batch_size, max_length: texts per forward pass, and the tokens kept per text.
        layer_contributions: also compute the per-layer [CLS] input/output cosine of the "contribution" strategy.
        progress: show a progress bar over the batches.
    """
    texts = check_calibration_texts(texts, batch_size, "activation importance")
    encoder = model.base_model
    num_heads = model.config.num_attention_heads
    layers = _layers(model)
    sums: dict[tuple[str, int], torch.Tensor] = {}  # (what, layer) -> sum over texts of the squared per-text score
    state: dict = {}  # the current batch's mask, and each layer's query mean |activation| until its key arrives

    def add(key: tuple[str, int], per_text: torch.Tensor) -> None:
        squared = per_text.float().pow(2).sum(dim=0)
        sums[key] = squared if key not in sums else sums[key] + squared

    def on_output(what: str, index: int):
        def hook(module, inputs, output):
            add((what, index), masked_mean_abs(output.float(), state["mask"]))

        return hook

    def on_query(index: int):
        def hook(module, inputs, output):
            state[("q", index)] = masked_mean_abs(output.float(), state["mask"])

        return hook

    def on_key(index: int):
        def hook(module, inputs, output):
            add(("qk", index), state.pop(("q", index)) * masked_mean_abs(output.float(), state["mask"]))

        return hook

    def on_context(index: int, dense: nn.Linear):
        def hook(module, inputs):
            context = inputs[0].float()  # (batch, seq, heads * head_dim)
            add(("v", index), masked_mean_abs(context, state["mask"]))
            add(("heads", index), head_output_norms(context, dense.weight.float(), num_heads, state["mask"]))

        return hook

    def on_ffn(index: int):
        def hook(module, inputs):
            add(("ffn", index), masked_mean_abs(inputs[0].float(), state["mask"]))

        return hook

    handles = [encoder.embeddings.LayerNorm.register_forward_hook(on_output("hidden", -1))]
    for i, layer in enumerate(layers):
        attention = layer.attention
        handles += [
            attention.self.query.register_forward_hook(on_query(i)),
            attention.self.key.register_forward_hook(on_key(i)),
            attention.output.dense.register_forward_pre_hook(on_context(i, attention.output.dense)),
            attention.output.LayerNorm.register_forward_hook(on_output("hidden-attention", i)),
            layer.output.dense.register_forward_pre_hook(on_ffn(i)),
            layer.output.LayerNorm.register_forward_hook(on_output("hidden-ffn", i)),
        ]
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    similarity = None
    try:
        for batch in calibration_batches(
            tokenizer, texts, batch_size, max_length, device, "pruning calibration", progress
        ):
            state["mask"] = batch["attention_mask"]
            out = encoder(**batch, output_hidden_states=layer_contributions)
            if layer_contributions:
                sims = cls_similarity_sums(out.hidden_states)
                similarity = sims if similarity is None else similarity + sims
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    def root(what: str, index: int) -> torch.Tensor:
        return sums[(what, index)].sqrt()

    return ImportanceScores(
        ffn=[root("ffn", i) for i in range(len(layers))],
        qk=[root("qk", i) for i in range(len(layers))],
        v=[root("v", i) * layer.attention.output.dense.weight.float().norm(dim=0) for i, layer in enumerate(layers)],
        heads=[root("heads", i) for i in range(len(layers))],
        embeddings_hidden=root("hidden", -1),
        layer_hidden=[root("hidden-attention", i) + root("hidden-ffn", i) for i in range(len(layers))],
        layer_contributions=None if similarity is None else (similarity / len(texts)).tolist(),
        num_texts=len(texts),
    )
