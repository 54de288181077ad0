"""ShrunkBert (`shrunk_bert`): a pre-trained BERT with whole transformer layers dropped, whose config records which.

This file registers the family; its classes (listed in the `__all__` of `configuration_shrunk_bert.py` and
`modeling_shrunk_bert.py`) are imported on first use.
"""

from ..registry import Family, family_namespace, register_family
from .card import describe_method, describe_source

FAMILY = register_family(
    Family(
        model_type="shrunk_bert",
        package=__name__,
        title="ShrunkBert",
        method="drop whole layers of a pre-trained BERT, then fine-tune (Poor Man's BERT, Sajjad et al. 2020, "
        "arXiv 2004.03844)",
        card_tags=("shrunk-bert", "layer-dropping"),
        describe_method=describe_method,
        describe_source=describe_source,
    )
)
__all__, __getattr__, __dir__ = family_namespace(FAMILY)
