"""compactbert: compact BERT-family models for the Hugging Face ecosystem.

Importing compactbert registers its architectures with transformers' Auto classes, so
`AutoModel.from_pretrained(<a ShrunkBert folder>)` works.
"""

from importlib.metadata import PackageNotFoundError, version

from .io import save_model
from .models import list_families
from .models.shrunk_bert import (
    ShrunkBertConfig,
    ShrunkBertForMaskedLM,
    ShrunkBertForMultipleChoice,
    ShrunkBertForPreTraining,
    ShrunkBertForQuestionAnswering,
    ShrunkBertForSequenceClassification,
    ShrunkBertForTokenClassification,
    ShrunkBertModel,
    ShrunkBertPreTrainedModel,
)
from .models.tiny_bert import (
    TinyBertConfig,
    TinyBertForMaskedLM,
    TinyBertForPreTraining,
    TinyBertForSequenceClassification,
    TinyBertModel,
    TinyBertPreTrainedModel,
    tiny_bert_config_for,
)
from .shrinking import STRATEGIES, layer_contributions, select_layers, shrink

try:
    __version__ = version("compactbert")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "STRATEGIES",
    "ShrunkBertConfig",
    "ShrunkBertForMaskedLM",
    "ShrunkBertForMultipleChoice",
    "ShrunkBertForPreTraining",
    "ShrunkBertForQuestionAnswering",
    "ShrunkBertForSequenceClassification",
    "ShrunkBertForTokenClassification",
    "ShrunkBertModel",
    "ShrunkBertPreTrainedModel",
    "TinyBertConfig",
    "TinyBertForMaskedLM",
    "TinyBertForPreTraining",
    "TinyBertForSequenceClassification",
    "TinyBertModel",
    "TinyBertPreTrainedModel",
    "layer_contributions",
    "list_families",
    "save_model",
    "select_layers",
    "shrink",
    "tiny_bert_config_for",
]
