"""Width + depth pruning (Minitron-style): cut a TinyBert student out of a trained BERT.

`PruneTarget` loads without torch; `prune` and the importance / slicing functions, which need torch, load the first
time they are asked for (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
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


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "IMPORTANCE_MEASURES",
    "SIZE_FIELDS",
    "ImportanceScores",
    "PruneTarget",
    "activation_scores",
    "magnitude_scores",
    "prune",
]
