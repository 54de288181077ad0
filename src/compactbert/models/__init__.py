"""compactbert's model families, one folder each, and their registry.

Importing this package registers every family's `Family` record (no torch), and registers the families with
transformers' Auto classes when transformers' Auto module is (or gets) imported: see `auto_registration`.
"""

from . import albert_sop, shrunk_bert, tiny_bert  # each family registers itself; a new family adds its name here
from .auto_registration import register_auto_classes, register_families, watch_transformers
from .registry import FAMILIES, Family, get_family, list_families, register_family

watch_transformers()

__all__ = [
    "FAMILIES",
    "Family",
    "albert_sop",
    "get_family",
    "list_families",
    "register_auto_classes",
    "register_families",
    "register_family",
    "shrunk_bert",
    "tiny_bert",
]
