"""Sentence pairs and MLM masks drawn afresh each epoch, seeded by the epoch.

Pairs drawn once are seen every epoch: a small corpus's sentence head then memorises which of its few thousand pairs
are swapped (the Albert-SOP study's heads did). `EpochPairs` is the training set of the current epoch (which
consecutive segments are swapped, or replaced for NSP, and how each pair is trimmed, drawn with
`build_pairs(..., seed=epoch_seed(seed, epoch))`), and `RedrawEachEpoch` moves it and the `MaskingCollator` to the
next epoch when the Trainer starts one. The same seed and epoch always give the same pairs and masks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from transformers import TrainerCallback

from .masking import MaskingCollator, epoch_seed
from .pairs import build_pairs


class EpochPairs(torch.utils.data.Dataset):
    """The training pairs of the current epoch, from `documents` (a map-style dataset the Trainer samples from).

    Args:
        documents (`Sequence[str]`): the training documents.
        tokenizer: the tokenizer `build_pairs` uses.
        objective (`str`): `"sop"` or `"nsp"`.
        seed (`int`): the run's data seed; epoch e draws with `epoch_seed(seed, e)` (epoch 0: `seed`, as pairs drawn
            once are).
        **pair_args: the other arguments of `build_pairs` (`max_length`, `unit`, `skip_short_documents`).

    Every epoch has the first epoch's number of pairs (the Trainer plans its steps from it). It is the same whenever
    every segment tokenizes to something; otherwise a redrawn NSP pair may be skipped or not, and an epoch that drew
    fewer repeats its first pairs to fill the count (one that drew more leaves its last ones out).
    """

    def __init__(self, documents: Sequence[str], tokenizer, objective: str, seed: int, **pair_args):
        self.documents, self.tokenizer, self.objective = list(documents), tokenizer, objective
        self.seed, self.pair_args = seed, pair_args
        self.epoch: int | None = None
        self.set_epoch(0)
        self.num_pairs = len(self.pairs)

    def set_epoch(self, epoch: int) -> None:
        """Draw the pairs of `epoch` (0-based); nothing happens when they are the current ones."""
        if epoch == self.epoch:
            return
        seed = epoch_seed(self.seed, epoch)
        pairs = build_pairs(self.documents, self.tokenizer, self.objective, seed=seed, **self.pair_args)
        self.pairs, self.epoch = pairs.remove_columns(["document"]), epoch

    def __len__(self) -> int:
        return self.num_pairs

    def __getitem__(self, index: int) -> dict:
        return self.pairs[index % len(self.pairs)]


class RedrawEachEpoch(TrainerCallback):
    """At the start of each epoch, draw its pairs (`EpochPairs.set_epoch`) and restart the masks at its seed
    (`MaskingCollator.set_epoch`). A run resumed mid-epoch redraws that epoch's pairs (its masks start over)."""

    def __init__(self, pairs: EpochPairs, collator: MaskingCollator):
        self.pairs, self.collator = pairs, collator

    def on_epoch_begin(self, args, state, control, **kwargs):
        epoch = math.floor((state.epoch or 0) + 1e-6)  # epochs done so far: the 0-based index of this one
        self.pairs.set_epoch(epoch)
        self.collator.set_epoch(epoch)
        return control
