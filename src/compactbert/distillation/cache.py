"""`TeacherOutputCache`: the teacher's outputs kept per example, so later epochs over a fixed dataset skip the teacher.

An example's key is a hash of its real tokens (every `(batch, seq)` input at the positions its attention mask keeps),
so the same example in another batch, with other padding or at another position, finds its entry. Entries are
trimmed to the example's real tokens (logits, hidden states, attention scores), and put back at that batch's token
positions, with zeros at padding, when a batch is served from the cache. Only a fixed dataset may be cached: random
masking or augmentation in the collator would make every batch new (and the cache would only grow).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch


class TeacherOutputCache:
    """Per-example teacher outputs: `fetch(inputs, compute)` returns the batch's outputs, from the cache when every
    example of the batch is in it, else from `compute()` (whose outputs are then stored).

    The outputs are a dict with any of `logits` (`(batch, labels)` or token-level `(batch, seq, vocab)`),
    `hidden_states` (a list of `(batch, seq, hidden)`) and `scores` (a list of `(batch, heads, seq, seq)`).

    >>> cache = TeacherOutputCache()
    >>> batch = {"input_ids": torch.tensor([[2, 7, 3, 0]]), "attention_mask": torch.tensor([[1, 1, 1, 0]])}
    >>> first = cache.fetch(batch, lambda: {"logits": torch.tensor([[0.5, -0.5]])})
    >>> cache.fetch(batch, lambda: {"logits": torch.zeros(1, 2)})["logits"]  # served from the cache
    tensor([[ 0.5000, -0.5000]])
    >>> len(cache), cache.hits
    (1, 1)
    """

    def __init__(self):
        self._examples: dict[bytes, dict] = {}
        self.hits = 0  # batches served from the cache
        self.misses = 0  # batches computed (and stored)

    def __len__(self) -> int:
        return len(self._examples)

    @property
    def nbytes(self) -> int:
        """Bytes of tensor memory the cache holds (a storage shared by several entries counts once)."""
        storages: dict[int, int] = {}
        for example in self._examples.values():
            for value in example.values():
                for tensor in value if isinstance(value, list) else [value]:
                    storage = tensor.untyped_storage()
                    storages[storage.data_ptr()] = storage.nbytes()
        return sum(storages.values())

    def fetch(self, inputs: dict[str, torch.Tensor], compute: Callable[[], dict]) -> dict:
        """The outputs for the batch `inputs` (the teacher's inputs, with `input_ids` and optionally
        `attention_mask`): stacked from the cache when all its examples are there, else `compute()`, stored."""
        mask = inputs.get("attention_mask")
        mask = torch.ones_like(inputs["input_ids"], dtype=torch.bool) if mask is None else mask.bool()
        keys = [example_key(inputs, mask, i) for i in range(mask.shape[0])]
        if all(key in self._examples for key in keys):
            self.hits += 1
            return stack_examples([self._examples[key] for key in keys], mask)
        self.misses += 1
        fresh = compute()
        for i, key in enumerate(keys):
            self._examples[key] = slice_example(fresh, mask[i], i)
        return fresh


def example_key(inputs: dict[str, torch.Tensor], mask: torch.Tensor, i: int) -> bytes:
    """The key of example `i` of a batch: a hash of every `(batch, seq)` input at its real-token positions."""
    digest = hashlib.sha1()
    for name in sorted(inputs):
        value = inputs[name]
        if isinstance(value, torch.Tensor) and value.ndim >= 2 and value.shape[:2] == mask.shape:
            digest.update(name.encode())
            digest.update(value[i][mask[i]].cpu().numpy().tobytes())
    return digest.digest()


def _token_index(row_mask: torch.Tensor) -> slice | torch.Tensor:
    """An example's real-token positions: a slice when they are one run (right or left padding: plain copies),
    else their indices (advanced indexing, many times slower on attention scores)."""
    positions = row_mask.nonzero().squeeze(-1)
    if positions.numel() == 0:
        return positions
    first, last = int(positions[0]), int(positions[-1])
    return slice(first, last + 1) if last - first + 1 == positions.numel() else positions


def _take(values: torch.Tensor, index: slice | torch.Tensor) -> torch.Tensor:
    """`values[index]` as a tensor of its own (a slice is a view: it would keep the whole batch's storage alive)."""
    return values[index].clone() if isinstance(index, slice) else values[index]


def _pairs(index: slice | torch.Tensor) -> tuple:
    """The (query, key) index of `index` x `index` in a (heads, seq, seq) tensor."""
    return (index, index) if isinstance(index, slice) else (index[:, None], index[None, :])


def slice_example(fresh: dict, row_mask: torch.Tensor, i: int) -> dict:
    """Example `i`'s outputs of the batch outputs `fresh`, trimmed to its real tokens (`row_mask`)."""
    index = _token_index(row_mask)
    example: dict = {}
    if "logits" in fresh:
        logits = fresh["logits"][i]
        example["logits"] = _take(logits, index) if logits.ndim == 2 else logits.clone()
    if "hidden_states" in fresh:
        example["hidden_states"] = [_take(h[i], index) for h in fresh["hidden_states"]]
    if "scores" in fresh:
        example["scores"] = [s[i][(slice(None), *_pairs(index))].clone() for s in fresh["scores"]]
    return example


def stack_examples(examples: list[dict], mask: torch.Tensor) -> dict:
    """Put per-example outputs (from `slice_example`) back at their token positions in a batch with attention mask
    `mask` (batch, seq), with zeros at padding."""
    batch, seq = mask.shape
    indices = [_token_index(mask[i]) for i in range(batch)]
    first = examples[0]
    result: dict = {}
    if "logits" in first:
        if first["logits"].ndim == 1:
            result["logits"] = torch.stack([e["logits"] for e in examples])
        else:
            out = first["logits"].new_zeros(batch, seq, first["logits"].shape[-1])
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i, index] = e["logits"]
            result["logits"] = out
    if "hidden_states" in first:
        result["hidden_states"] = []
        for j, h0 in enumerate(first["hidden_states"]):
            out = h0.new_zeros(batch, seq, h0.shape[-1])
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i, index] = e["hidden_states"][j]
            result["hidden_states"].append(out)
    if "scores" in first:
        result["scores"] = []
        for j, s0 in enumerate(first["scores"]):
            out = s0.new_zeros(batch, s0.shape[0], seq, seq)
            for i, (e, index) in enumerate(zip(examples, indices, strict=True)):
                out[i][(slice(None), *_pairs(index))] = e["scores"][j]
            result["scores"].append(out)
    return result
