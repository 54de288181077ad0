"""Width + depth pruning (Minitron-style): cut a TinyBert student out of a trained BERT.

`PruneTarget` loads without torch; `prune` and the importance / slicing functions, which need torch, load the first
time they are asked for (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .target import IMPORTANCE_MEASURES, SIZE_FIELDS, PruneTarget

if TYPE_CHECKING:
    from .importance import ImportanceScores, activation_scores, magnitude_scores
    from .pruner import prune

_LAZY = {
    "ImportanceScores": ".importance",
    "activation_scores": ".importance",
    "magnitude_scores": ".importance",
    "prune": ".pruner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IMPORTANCE_MEASURES",
    "SIZE_FIELDS",
    "ImportanceScores",
    "PruneTarget",
    "activation_scores",
    "magnitude_scores",
    "prune",
]
