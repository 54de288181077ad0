"""compactbert's model families. Importing this module registers each with transformers' Auto classes."""

from transformers import BertTokenizer

from .registry import FAMILIES, list_families, register_family
from .shrunk_bert import AUTO_CLASSES as _SHRUNK_BERT_AUTO_CLASSES
from .shrunk_bert import ShrunkBertConfig
from .tiny_bert import AUTO_CLASSES as _TINY_BERT_AUTO_CLASSES
from .tiny_bert import TinyBertConfig

register_family(ShrunkBertConfig, _SHRUNK_BERT_AUTO_CLASSES, tokenizer_class=BertTokenizer)
register_family(TinyBertConfig, _TINY_BERT_AUTO_CLASSES, tokenizer_class=BertTokenizer)

__all__ = ["FAMILIES", "list_families", "register_family"]
