"""Ratios of timings paired per round: no torch, so a saved benchmark report is re-scored anywhere. The timing itself
is `compactbert.inference.time_side_by_side`."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """The median over rounds of `numerator[i] / denominator[i]`, for two rows timed in the same interleaved rounds.

    Two rows timed one right after the other in a round share the machine's state then (clock, caches, other work),
    so a round that ran slow for both cancels out of their ratio; the ratio of the two medians does not pair them,
    and one slow sample on either side moves it. Lists of different lengths (not from the same rounds) fall back to
    the ratio of the medians.
    """
    if not numerator or not denominator:
        raise ValueError("paired_ratio needs at least one sample on each side")
    if len(numerator) != len(denominator):
        return statistics.median(numerator) / statistics.median(denominator)
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))
