"""Distillation losses as pure functions (and one module, for the learnable projection W).

Each function takes student and teacher tensors of matching shapes and returns a scalar. Padding is handled by an
`attention_mask` (batch, seq) of 1 for real tokens and 0 for padding, as the tokenizer returns it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

SOFT_CE_FORMS = ("kl", "tinybert")


def soft_cross_entropy(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    form: str = "kl",
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-target loss between logits (..., classes), averaged over the leading positions.

    `form="kl"` is DistilBERT's (and Hinton's): `KL(p_t || p_s) * T**2` with `p = softmax(logits / T)`; the
    factor T**2 keeps the gradient scale independent of T, and identical logits give 0.
    `form="tinybert"` is TinyBERT's prediction-layer loss: `-sum(p_t * log p_s)` without the T**2 factor. It equals
    `KL / T**2 + H(p_t)`, so identical logits give the teacher's entropy, not 0 (its gradient is the KL's).

    `mask` (same leading shape as the logits, e.g. (batch, seq) for masked-LM logits) selects the positions that
    count; None means all.
    """
    if form not in SOFT_CE_FORMS:
        raise ValueError(f"unknown soft cross-entropy form '{form}'; choose one of: {', '.join(SOFT_CE_FORMS)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    _same_shape(student_logits, teacher_logits, "logits")
    log_p_s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    log_p_t = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    p_t = log_p_t.exp()
    if form == "kl":
        per_position = (p_t * (log_p_t - log_p_s)).sum(-1) * temperature**2
    else:
        per_position = -(p_t * log_p_s).sum(-1)
    return _masked_mean(per_position, mask)


def span_soft_cross_entropy(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    form: str = "kl",
    attention_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Soft-target loss of a question-answering head: logits (batch, seq, 2), the start and the end of the span.

    Each of the two is a distribution over the sequence's positions (padding left out: `attention_mask`), scored
    with `soft_cross_entropy`; the result is their mean, as DistilBERT's SQuAD distillation averages them.
    """
    _same_shape(student_logits, teacher_logits, "span logits")
    if student_logits.ndim != 3 or student_logits.shape[-1] != 2:
        raise ValueError(f"span logits must be (batch, seq, 2): start and end; got {tuple(student_logits.shape)}")
    padding = None if attention_mask is None else ~attention_mask.bool().unsqueeze(-1)

    def over_positions(logits: torch.Tensor) -> torch.Tensor:  # (batch, 2, seq), padding far below every token
        logits = logits.float() if padding is None else logits.float().masked_fill(padding, -1e4)
        return logits.transpose(1, 2)

    return soft_cross_entropy(over_positions(student_logits), over_positions(teacher_logits), temperature, form)


def hidden_mse(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask=None) -> torch.Tensor:
    """Mean squared error between hidden states (batch, seq, hidden) over real tokens (TinyBERT's L_hidn / L_embd).

    The student's states must already be in the teacher's width (see `HiddenProjection`).
    """
    _same_shape(student_hidden, teacher_hidden, "hidden states")
    per_token = (student_hidden.float() - teacher_hidden.float()).pow(2).mean(-1)  # (batch, seq)
    return _masked_mean(per_token, attention_mask)


def attention_score_mse(
    student_scores: torch.Tensor, teacher_scores: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """TinyBERT's L_attn: MSE between *pre-softmax* attention scores (batch, heads, seq, seq), averaged over heads.

    Entries whose query or key is padding are zeroed in both (they would otherwise carry the arbitrary scores of
    pad tokens); the mean is over all batch x heads x seq x seq entries, as in TinyBERT's reference.
    """
    _same_shape(student_scores, teacher_scores, "attention scores")
    diff = student_scores.float() - teacher_scores.float()
    if attention_mask is not None:
        keep = attention_mask.bool()
        pair = keep[:, None, :, None] & keep[:, None, None, :]  # (batch, 1, seq, seq)
        diff = diff.masked_fill(~pair, 0.0)
    return diff.pow(2).mean()


def cosine_embedding_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """DistilBERT's L_cos: mean of `1 - cos(h_s, h_t)` over real tokens of (batch, seq, hidden) states."""
    _same_shape(student_hidden, teacher_hidden, "hidden states")
    per_token = 1.0 - F.cosine_similarity(student_hidden.float(), teacher_hidden.float(), dim=-1)  # (batch, seq)
    return _masked_mean(per_token, attention_mask)


class HiddenProjection(nn.Module):
    """Learnable W mapping student states (width d_s) to the teacher's width d_t: TinyBERT's `H_S W_h`.

    One linear map per distilled state (embeddings + each mapped layer) when `shared=False`; one for all when
    `shared=True` (TinyBERT's reference shares a single `fit_dense`). It trains with the student.

    Args:
        student_size, teacher_size: the widths d_s and d_t.
        num_states: how many states are projected (layers + 1 for the embeddings) when not shared.
        shared: use one W for every state.
    """

    def __init__(self, student_size: int, teacher_size: int, num_states: int = 1, shared: bool = True):
        super().__init__()
        if num_states < 1:
            raise ValueError(f"num_states must be >= 1, got {num_states}")
        self.shared = shared
        self.maps = nn.ModuleList(nn.Linear(student_size, teacher_size) for _ in range(1 if shared else num_states))

    def forward(self, hidden_states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if not self.shared and len(hidden_states) != len(self.maps):
            raise ValueError(f"expected {len(self.maps)} hidden states to project, got {len(hidden_states)}")
        maps = [self.maps[0]] * len(hidden_states) if self.shared else list(self.maps)
        return tuple(w(h) for w, h in zip(maps, hidden_states, strict=True))


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    if mask.shape != values.shape:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match the loss positions {tuple(values.shape)}")
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def _same_shape(student: torch.Tensor, teacher: torch.Tensor, what: str) -> None:
    if student.shape != teacher.shape:
        raise ValueError(
            f"student and teacher {what} differ in shape: {tuple(student.shape)} vs {tuple(teacher.shape)}; "
            "project the student's states to the teacher's width (and map layers) first"
        )
