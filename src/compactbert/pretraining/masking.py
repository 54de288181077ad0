"""Masked-LM masking for pretraining: a data collator that pads SOP / NSP pairs and masks 15% of their tokens.

BERT's recipe: choose 15% of the (non-special) tokens as targets; replace 80% of them by `[MASK]`, 10% by a random
token, and leave 10% unchanged. Targets can be single WordPiece tokens, whole words (a word and its `##`
continuations together), or n-grams of whole words as in ALBERT (n in 1..`max_ngram`, P(n) proportional to 1/n).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

MASKING_MODES = ("token", "whole_word", "ngram")
EPOCH_SEED_STRIDE = 1_000_003  # epoch e of a run seeded s draws its pairs and masks with seed s + e * stride


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch `epoch` (0-based) of a run seeded `seed`: `seed` itself for the first epoch.

    >>> epoch_seed(42, 0), epoch_seed(42, 2)
    (42, 2000048)
    """
    return seed + EPOCH_SEED_STRIDE * epoch


@dataclass
class MaskingCollator:
    """Pad a list of pair examples into a batch and add MLM `labels` (-100 where not a target).

    Seeded: the same `seed` and the same sequence of batches give the same masks (its own `torch.Generator`).
    Keys other than the token ones (`sentence_label`) are stacked into tensors; `special_tokens_mask` and
    `document` are dropped.

    Args:
        tokenizer: gives `pad_token_id`, `mask_token_id`, the vocabulary (for `##` continuations and random tokens).
        mlm_probability (`float`): share of maskable tokens that become targets (at least one per sequence).
        masking (`str`): `"token"`, `"whole_word"` or `"ngram"`.
        max_ngram (`int`): longest n-gram (in words) for `"ngram"` masking.
        seed (`int`): seed of the masks.
    """

    tokenizer: object
    mlm_probability: float = 0.15
    masking: str = "token"
    max_ngram: int = 3
    seed: int = 0
    generator: torch.Generator = field(init=False, repr=False)

    def __post_init__(self):
        if self.masking not in MASKING_MODES:
            raise ValueError(f"unknown masking '{self.masking}'; choose one of: {', '.join(MASKING_MODES)}")
        if not 0 < self.mlm_probability < 1:
            raise ValueError(f"mlm_probability must be in (0, 1), got {self.mlm_probability}")
        if self.max_ngram < 1:
            raise ValueError(f"max_ngram must be >= 1, got {self.max_ngram}")
        if self.tokenizer.mask_token_id is None or self.tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer needs a mask token and a pad token for masked-LM pretraining")
        vocab = self.tokenizer.get_vocab()
        self.is_continuation = torch.zeros(max(len(self.tokenizer), max(vocab.values()) + 1), dtype=torch.bool)
        for token, index in vocab.items():
            if token.startswith("##"):
                self.is_continuation[index] = True
        self.generator = torch.Generator().manual_seed(self.seed)
        weights = torch.tensor([1.0 / n for n in range(1, self.max_ngram + 1)])
        self.ngram_weights = weights / weights.sum()

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        pad = self.tokenizer.pad_token_id
        longest = max(len(ex["input_ids"]) for ex in examples)
        batch = {}
        for key, fill in (
            ("input_ids", pad),
            ("token_type_ids", 0),
            ("attention_mask", 0),
            ("special_tokens_mask", 1),
        ):
            if key in examples[0]:
                batch[key] = torch.tensor([list(ex[key]) + [fill] * (longest - len(ex[key])) for ex in examples])
        for key in examples[0]:
            if key not in batch and key not in ("document",):
                batch[key] = torch.tensor([ex[key] for ex in examples])
        special = batch.pop("special_tokens_mask", None)
        if special is None:  # e.g. Trainer dropped the column (not a forward argument)
            special = torch.isin(batch["input_ids"], torch.tensor(self.tokenizer.all_special_ids))
        maskable = ~special.bool() & (batch["input_ids"] != pad)
        batch["input_ids"], batch["labels"] = self.mask(batch["input_ids"], maskable)
        return batch

    def set_epoch(self, epoch: int) -> None:
        """Restart the masks' generator at the seed of `epoch` (`epoch_seed(seed, epoch)`; epoch 0: `seed`), so each
        epoch's masks are new and the same on every rerun of it."""
        self.generator.manual_seed(epoch_seed(self.seed, epoch))

    def mask(self, input_ids: torch.Tensor, maskable: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return `(masked input_ids, labels)` for `input_ids` (batch, seq), choosing targets among `maskable`."""
        targets = torch.zeros_like(maskable)
        for row in range(input_ids.shape[0]):
            targets[row] = self._targets(input_ids[row], maskable[row])
        labels = torch.where(targets, input_ids, torch.full_like(input_ids, -100))
        draw = torch.rand(input_ids.shape, generator=self.generator)
        to_mask = targets & (draw < 0.8)
        to_random = targets & (draw >= 0.8) & (draw < 0.9)
        masked = input_ids.clone()
        masked[to_mask] = self.tokenizer.mask_token_id
        random_tokens = torch.randint(len(self.tokenizer), input_ids.shape, generator=self.generator)
        masked[to_random] = random_tokens[to_random]
        return masked, labels

    def _targets(self, ids: torch.Tensor, maskable: torch.Tensor) -> torch.Tensor:
        """Boolean (seq,) mask of the MLM targets of one sequence."""
        positions = maskable.nonzero().flatten().tolist()
        chosen = torch.zeros_like(maskable)
        if not positions:
            return chosen
        budget = max(1, round(len(positions) * self.mlm_probability))
        # units: single tokens, or whole words (a token and the `##` continuations right after it)
        units: list[list[int]] = []
        for pos in positions:
            joins = self.masking != "token" and units and units[-1][-1] == pos - 1 and self.is_continuation[ids[pos]]
            if joins:
                units[-1].append(pos)
            else:
                units.append([pos])
        order = torch.randperm(len(units), generator=self.generator).tolist()
        count = 0
        for start in order:
            n = 1
            if self.masking == "ngram":
                n = int(torch.multinomial(self.ngram_weights, 1, generator=self.generator)) + 1
            span = [pos for unit in units[start : start + n] for pos in unit]
            contiguous = span[-1] - span[0] + 1 == len(span)  # an n-gram never jumps over [SEP]
            if not contiguous or any(chosen[span]) or count + len(span) > budget:
                continue
            chosen[span] = True
            count += len(span)
            if count >= budget:
                break
        if count == 0:  # every unit is longer than the budget (a short text of long words): take the first one
            chosen[units[order[0]]] = True
        return chosen
