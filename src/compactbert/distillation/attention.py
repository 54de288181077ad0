"""Pre-softmax attention scores from any BERT-family model, for TinyBERT's attention loss.

`output_attentions=True` returns softmax probabilities, and sdpa returns none at all. TinyBERT distils the scores
`Q K^T / sqrt(d_head)` before the softmax. We register an attention function with transformers'
`AttentionInterface` that records those scores and otherwise computes exactly like the eager implementation, and
switch a model to it only inside `capture_attention_scores(model)`. It works for every model whose attention goes
through `ALL_ATTENTION_FUNCTIONS` (BertModel, ShrunkBert, TinyBert, ...), under DDP and PEFT wrappers too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch
from torch import nn
from transformers import AttentionInterface, PreTrainedConfig
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, eager_mask
from transformers.models.bert.modeling_bert import eager_attention_forward

ATTENTION_NAME = "compactbert_scores"
_recording = threading.local()


def _recording_attention(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
):
    """Eager attention that also appends the raw scores (batch, heads, q_len, k_len) to the active recorder."""
    scores = getattr(_recording, "scores", None)
    if scores is not None:
        scale = query.size(-1) ** -0.5 if scaling is None else scaling
        scores.append(torch.matmul(query, key.transpose(2, 3)) * scale)  # (batch, heads, seq, seq)
    return eager_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout)


AttentionInterface.register(ATTENTION_NAME, _recording_attention)
ALL_MASK_ATTENTION_FUNCTIONS.register(ATTENTION_NAME, eager_mask)  # the additive float mask eager expects


def _configs(model: nn.Module) -> list[PreTrainedConfig]:
    seen: dict[int, PreTrainedConfig] = {}
    for module in model.modules():
        config = getattr(module, "config", None)
        if isinstance(config, PreTrainedConfig):
            seen.setdefault(id(config), config)
    return list(seen.values())


@contextlib.contextmanager
def capture_attention_scores(model: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Within the block, forwards of `model` append each layer's pre-softmax scores to the yielded list, in order.

    The model's attention implementation is restored on exit. Scores keep their autograd graph (the student's
    attention loss trains through them).

    >>> with capture_attention_scores(model) as scores:  # doctest: +SKIP
    ...     model(**batch)
    >>> len(scores) == model.config.num_hidden_layers  # doctest: +SKIP
    True
    """
    configs = _configs(model)
    if not configs:
        raise ValueError(f"{type(model).__name__} has no transformers config: cannot switch its attention function")
    previous = [config._attn_implementation for config in configs]
    outer = getattr(_recording, "scores", None)
    scores: list[torch.Tensor] = []
    try:
        for config in configs:
            config._attn_implementation = ATTENTION_NAME
        _recording.scores = scores
        yield scores
    finally:
        _recording.scores = outer
        for config, name in zip(configs, previous, strict=True):
            config._attn_implementation = name
