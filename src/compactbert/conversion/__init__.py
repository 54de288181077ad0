"""Converting a trained model into another family: `albert_from_bert()` starts an Albert-SOP from a BERT.

The rule names load without torch (the command line's help lists them); `albert_from_bert` and the functions it is
built from, which need torch, load the first time they are asked for (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

# how the shared weights of a converted Albert-SOP start (besides a 0-based source layer index)
INIT_RULES = ("mean", "first", "middle", "last")
# the default: the middle layer beat the mean and the first in the conversion study (docs/albert-sop.md)
DEFAULT_INIT = "middle"
# how the factorised word embeddings are computed
FACTORIZATIONS = ("svd", "frequency_weighted_svd")

if TYPE_CHECKING:
    from .albert import EmbeddingFactorization, albert_from_bert, factorize_embeddings, shared_weights

_LAZY = {
    name: ".albert"
    for name in ("EmbeddingFactorization", "albert_from_bert", "factorize_embeddings", "shared_weights")
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "FACTORIZATIONS",
    "INIT_RULES",
    "EmbeddingFactorization",
    "albert_from_bert",
    "factorize_embeddings",
    "shared_weights",
]
