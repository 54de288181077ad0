from .configuration_tiny_bert import FIT_PROJECTIONS, TinyBertConfig, tiny_bert_config_for
from .modeling_tiny_bert import (
    AUTO_CLASSES,
    TinyBertForMaskedLM,
    TinyBertForPreTraining,
    TinyBertForSequenceClassification,
    TinyBertModel,
    TinyBertPreTrainedModel,
)

__all__ = [
    "AUTO_CLASSES",
    "FIT_PROJECTIONS",
    "TinyBertConfig",
    "TinyBertForMaskedLM",
    "TinyBertForPreTraining",
    "TinyBertForSequenceClassification",
    "TinyBertModel",
    "TinyBertPreTrainedModel",
    "tiny_bert_config_for",
]
