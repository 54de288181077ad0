from .configuration_shrunk_bert import ShrunkBertConfig
from .modeling_shrunk_bert import (
    AUTO_CLASSES,
    BERT_TO_SHRUNK,
    ShrunkBertForMaskedLM,
    ShrunkBertForMultipleChoice,
    ShrunkBertForPreTraining,
    ShrunkBertForQuestionAnswering,
    ShrunkBertForSequenceClassification,
    ShrunkBertForTokenClassification,
    ShrunkBertModel,
    ShrunkBertPreTrainedModel,
)

__all__ = [
    "AUTO_CLASSES",
    "BERT_TO_SHRUNK",
    "ShrunkBertConfig",
    "ShrunkBertForMaskedLM",
    "ShrunkBertForMultipleChoice",
    "ShrunkBertForPreTraining",
    "ShrunkBertForQuestionAnswering",
    "ShrunkBertForSequenceClassification",
    "ShrunkBertForTokenClassification",
    "ShrunkBertModel",
    "ShrunkBertPreTrainedModel",
]
