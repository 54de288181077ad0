"""Assertions shared by the compactbert.data tests."""

from __future__ import annotations

from collections import Counter

from compactbert.data import Task, dedup_key


def split_keys(task: Task) -> dict[str, set[str]]:
    """The duplicate keys of every split."""
    pair = "text_pair" in task.dataset["train"].column_names
    return {
        name: {
            dedup_key(t, p)
            for t, p in zip(split["text"], split["text_pair"] if pair else [None] * len(split), strict=True)
        }
        for name, split in task.dataset.items()
    }


def assert_disjoint(task: Task) -> None:
    keys = split_keys(task)
    assert not keys["train"] & keys["validation"]
    assert not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]


def assert_stratified(task: Task, tolerance: float) -> None:
    """Every split's class proportions are within `tolerance` of the whole set's."""
    counts = {name: Counter(split["label"]) for name, split in task.dataset.items()}
    total = sum(counts.values(), Counter())
    n = sum(total.values())
    for name, count in counts.items():
        size = sum(count.values())
        for label, k in total.items():
            assert abs(count[label] / size - k / n) <= tolerance, (name, task.label_names[label])
