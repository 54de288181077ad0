"""Per-layer contribution scores: how much each layer changes the [CLS] representation (Poor Man's BERT, sec. 3.2)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import torch
from tqdm.auto import tqdm
from transformers import BatchEncoding, PreTrainedModel, PreTrainedTokenizerBase

from ..fields import as_texts


def check_calibration_texts(texts: Sequence[str], batch_size: int, user: str) -> list[str]:
    """The non-empty texts of `texts`, checked before a calibration pass (`user` names it in the error).

    Raises:
        `TypeError`: one string, or an item that is not a string (`fields.as_texts`).
        `ValueError`: no non-empty text is left, or `batch_size` < 1.
    """
    texts = [t for t in as_texts(texts, "texts") if t.strip()]
    if not texts:
        raise ValueError(f"{user} needs at least one non-empty calibration text")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return texts


def calibration_batches(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int,
    max_length: int,
    device: torch.device,
    desc: str,
    progress: bool = True,
) -> Iterator[BatchEncoding]:
    """`texts` tokenized `batch_size` at a time (padded to the batch's longest, truncated to `max_length`), on
    `device`, with a progress bar named `desc` over the batches."""
    for start in tqdm(range(0, len(texts), batch_size), desc=desc, disable=not progress):
        yield tokenizer(
            list(texts[start : start + batch_size]),
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)


@torch.inference_mode()
def layer_contributions(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 16,
    max_length: int = 128,
    progress: bool = True,
) -> list[float]:
    """Mean cosine similarity between each layer's input and output at [CLS], over `texts`.

    A score near 1 means the layer barely changes the [CLS] representation, so it contributes little and the
    `"contribution"` strategy drops it first.

    Args:
        model: a BERT-architecture model (any head; its encoder is scored).
        tokenizer: the model's tokenizer.
        texts: calibration texts (a few dozen in-domain texts are enough to rank layers).
        batch_size: texts per forward pass.
        max_length: texts are truncated to this many tokens.
        progress: show a progress bar.

    Returns:
        One score per layer, bottom (index 0) to top.
    """
    if isinstance(model, (str, os.PathLike)) or not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"layer_contributions takes a loaded model, got {type(model).__name__} (a folder: "
            "AutoModel.from_pretrained(folder) first, or compactbert.shrink(folder, 'contribution', ...))"
        )
    if not callable(tokenizer):
        raise TypeError(f"layer_contributions takes the model's tokenizer, got {type(tokenizer).__name__}")
    texts = check_calibration_texts(texts, batch_size, "layer_contributions")
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    encoder = model.base_model
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    totals: torch.Tensor | None = None
    try:
        for batch in calibration_batches(
            tokenizer, texts, batch_size, max_length, device, "layer contributions", progress
        ):
            hidden = encoder(**batch, output_hidden_states=True).hidden_states  # L+1 x (batch, seq, hidden)
            sims = cls_similarity_sums(hidden)
            totals = sims if totals is None else totals + sims
    finally:
        encoder.train(was_training)
    return (totals / len(texts)).tolist()


def cls_similarity_sums(hidden_states: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per layer, the cosine similarity between its input and output at [CLS], summed over the batch.

    Args:
        hidden_states: the embedding output and each layer's output, `L + 1` tensors of `(batch, seq, hidden)`.

    Returns:
        `(L,)` sums; divide by the number of texts for `layer_contributions`' means.
    """
    cls = torch.stack([h[:, 0].float() for h in hidden_states])  # (L+1, batch, hidden)
    return torch.nn.functional.cosine_similarity(cls[:-1], cls[1:], dim=-1).sum(dim=1)  # (L,)
