"""TinyBert (`tiny_bert`): a narrow, shallow BERT student with the projections to its teacher's width.

This file registers the family; its classes and functions (listed in the `__all__` of `configuration_tiny_bert.py`
and `modeling_tiny_bert.py`) are imported on first use.
"""

from ..registry import Family, family_namespace, register_family
from .card import describe_method

FAMILY = register_family(
    Family(
        model_type="tiny_bert",
        package=__name__,
        title="TinyBert",
        method="transformer distillation of embeddings, attention scores, hidden states and logits, general then "
        "task (TinyBERT, Jiao et al. 2020, arXiv 1909.10351)",
        card_tags=("tiny-bert", "distillation"),
        describe_method=describe_method,
    )
)
__all__, __getattr__, __dir__ = family_namespace(FAMILY)
