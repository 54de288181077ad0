"""Albert-SOP (`albert_sop`): ALBERT with a selectable cross-layer sharing mode and SOP (or NSP) pretraining heads.

This file registers the family; its classes (listed in the `__all__` of `configuration_albert_sop.py` and
`modeling_albert_sop.py`) are imported on first use.
"""

from ..registry import Family, family_namespace, register_family
from .card import describe_method, describe_source

FAMILY = register_family(
    Family(
        model_type="albert_sop",
        package=__name__,
        title="Albert-SOP",
        method="factorized embedding, cross-layer parameter sharing and sentence-order prediction (ALBERT, Lan et "
        "al. 2020, arXiv 1909.11942)",
        # no ALBERT sentencepiece model is reachable offline: Albert-SOP defaults to the BERT WordPiece tokenizer
        tokenizer="BertTokenizer",
        card_tags=("albert", "sentence-order-prediction"),
        describe_method=describe_method,
        describe_source=describe_source,
    )
)
__all__, __getattr__, __dir__ = family_namespace(FAMILY)
