"""Layer-selection strategies of Poor Man's BERT (Sajjad et al. 2020, arXiv 2004.03844).

A strategy is a pure function `(num_layers, num_drop, scores) -> kept` returning the 0-based indices of the layers
to keep, increasing. The paper numbers layers 1..L; here indices are 0-based, so the paper's layer n is index n-1.
The registry `STRATEGIES` is the one list that the CLI, the demo, the cards and the tests read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..registries import Registry

StrategyFn = Callable[[int, int, Sequence[float] | None], list[int]]


@dataclass(frozen=True)
class Strategy:
    """A registered layer-selection strategy."""

    name: str
    select: StrategyFn
    description: str
    needs_scores: bool = False
    max_drop: Callable[[int], int] = lambda num_layers: num_layers - 1

    def __call__(self, num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
        check_num_drop(num_layers, num_drop, self)
        return self.select(num_layers, num_drop, scores)


STRATEGIES: Registry[Strategy] = Registry("strategy")


def register_strategy(
    name: str, description: str, *, needs_scores: bool = False, max_drop: Callable[[int], int] | None = None
):
    """Decorator adding a strategy function to `STRATEGIES`; a name can be registered only once."""

    def wrap(fn: StrategyFn) -> StrategyFn:
        extra = {} if max_drop is None else {"max_drop": max_drop}
        STRATEGIES.add(name, Strategy(name, fn, description, needs_scores, **extra))
        return fn

    return wrap


def check_num_drop(num_layers: int, num_drop: int, strategy: Strategy | None = None) -> None:
    """Raise `ValueError` unless `num_drop` layers can be dropped from `num_layers` by `strategy`."""
    for name, value in (("num_layers", num_layers), ("num_drop", num_drop)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {value!r}")
    if num_layers < 2:
        raise ValueError(f"a model needs at least 2 layers to drop one, got num_layers={num_layers}")
    if not 1 <= num_drop < num_layers:
        raise ValueError(
            f"num_drop (K) must be in [1, {num_layers - 1}] for a {num_layers}-layer model (at least one layer "
            f"dropped, at least one kept), got {num_drop}"
        )
    if strategy is not None and num_drop > strategy.max_drop(num_layers):
        raise ValueError(
            f"strategy '{strategy.name}' can drop at most {strategy.max_drop(num_layers)} of {num_layers} layers, "
            f"got num_drop={num_drop}"
        )


def _keep_all_but(num_layers: int, dropped: Sequence[int]) -> list[int]:
    gone = set(dropped)
    return [i for i in range(num_layers) if i not in gone]


@register_strategy("top", "drop the top K layers (paper layers L-K+1..L); the paper's best simple strategy")
def top(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    return list(range(num_layers - num_drop))


@register_strategy("bottom", "drop the bottom K layers (paper layers 1..K); the paper's worst")
def bottom(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    return list(range(num_drop, num_layers))


def _paper_numbers_from_top(num_layers: int, parity: int) -> list[int]:
    """Paper layer numbers (1-based) of the given parity, from the top down, as 0-based indices."""
    return [n - 1 for n in range(num_layers, 0, -1) if n % 2 == parity]


@register_strategy(
    "even-alternate",
    "drop K even-numbered layers from the top down: L, L-2, ... (paper numbering 1..L)",
    max_drop=lambda num_layers: num_layers // 2,
)
def even_alternate(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    return _keep_all_but(num_layers, _paper_numbers_from_top(num_layers, 0)[:num_drop])


@register_strategy(
    "odd-alternate",
    "drop K odd-numbered layers from the top down: L-1, L-3, ... when L is even (paper numbering 1..L)",
    max_drop=lambda num_layers: (num_layers + 1) // 2,
)
def odd_alternate(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    return _keep_all_but(num_layers, _paper_numbers_from_top(num_layers, 1)[:num_drop])


@register_strategy(
    "symmetric",
    "drop the K middle layers, keeping X at the bottom and X at the top (2X + K = L); when L-K is odd the "
    "extra kept layer is at the bottom",
)
def symmetric(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    keep_bottom = math.ceil((num_layers - num_drop) / 2)
    keep_top = (num_layers - num_drop) // 2
    return list(range(keep_bottom)) + list(range(num_layers - keep_top, num_layers))


@register_strategy(
    "contribution",
    "drop the K layers whose [CLS] representation changes least (highest input/output cosine similarity over "
    "calibration texts); ties drop the higher layer",
    needs_scores=True,
)
def contribution(num_layers: int, num_drop: int, scores: Sequence[float] | None = None) -> list[int]:
    scores = check_scores(num_layers, scores)
    # highest similarity first; among equal scores the higher layer goes first
    order = sorted(range(num_layers), key=lambda i: (scores[i], i), reverse=True)
    return _keep_all_but(num_layers, order[:num_drop])


def check_scores(num_layers: int, scores: Sequence[float] | None) -> list[float]:
    if scores is None:
        raise ValueError(
            "the 'contribution' strategy needs per-layer scores: compute them with "
            "compactbert.layer_contributions(model, tokenizer, texts) or give calibration texts to shrink()"
        )
    scores = [float(s) for s in scores]
    if len(scores) != num_layers:
        raise ValueError(f"need one score per layer ({num_layers}), got {len(scores)}")
    if any(math.isnan(s) for s in scores):
        raise ValueError(f"scores must not be NaN, got {scores}")
    return scores


def num_drop_above(scores: Sequence[float], threshold: float) -> int:
    """The paper's threshold variant: how many layers have a similarity above `threshold` (e.g. 0.95)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold is a cosine similarity in (0, 1], got {threshold}")
    return sum(1 for s in scores if s > threshold)


def explicit_layers(
    num_layers: int, keep: Sequence[int] | None = None, drop: Sequence[int] | None = None
) -> list[int]:
    """Kept indices from an explicit `keep` or `drop` list (0-based, exactly one of the two)."""
    if (keep is None) == (drop is None):
        raise ValueError("give exactly one of keep=[...] or drop=[...] (0-based layer indices)")
    given = list(keep if keep is not None else drop)
    what = "keep" if keep is not None else "drop"
    bad = [i for i in given if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < num_layers]
    if bad:
        raise ValueError(f"{what} indices must be ints in [0, {num_layers - 1}], got {bad}")
    if len(set(given)) != len(given):
        raise ValueError(f"{what} indices must be unique, got {given}")
    kept = sorted(given) if keep is not None else _keep_all_but(num_layers, given)
    if not kept or len(kept) == num_layers:
        raise ValueError(
            f"{what}={given} keeps {len(kept)} of {num_layers} layers; keep at least one and drop at least one"
        )
    return kept


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(
            f"unknown strategy '{name}'; choose one of: {', '.join(STRATEGIES)} (or give keep=/drop= indices)"
        ) from None


def select_layers(
    num_layers: int,
    strategy: str,
    num_drop: int | None = None,
    scores: Sequence[float] | None = None,
    *,
    threshold: float | None = None,
) -> list[int]:
    """The 0-based indices of the layers to keep when dropping `num_drop` of `num_layers` by `strategy`.

    For `"contribution"`, `threshold` may replace `num_drop`: every layer whose score is above it is dropped.

    >>> select_layers(12, "even-alternate", 4)
    [0, 1, 2, 3, 4, 6, 8, 10]
    """
    chosen = get_strategy(strategy)
    if scores is not None and not chosen.needs_scores:
        raise ValueError(
            f"scores apply to a strategy that reads per-layer scores (contribution); '{strategy}' chooses layers "
            "by position and would ignore them: pass strategy='contribution', or leave scores out"
        )
    if threshold is not None:
        if not chosen.needs_scores:
            raise ValueError(
                f"threshold applies to a strategy that reads per-layer scores (contribution), not '{strategy}'"
            )
        if num_drop is not None:
            raise ValueError("give either num_drop or threshold, not both")
        num_drop = num_drop_above(check_scores(num_layers, scores), threshold)
        if num_drop == 0 or num_drop >= num_layers:
            raise ValueError(
                f"threshold {threshold} drops {num_drop} of {num_layers} layers (scores {scores}); "
                "choose a threshold that drops at least one layer and keeps at least one"
            )
    if num_drop is None:
        raise ValueError(f"strategy '{strategy}' needs num_drop (how many layers to drop)")
    return chosen(num_layers, num_drop, scores)
