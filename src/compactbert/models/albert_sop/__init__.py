from .configuration_albert_sop import SENTENCE_OBJECTIVES, SHARING_MODES, AlbertSopConfig
from .modeling_albert_sop import (
    AUTO_CLASSES,
    AlbertSopForMaskedLM,
    AlbertSopForMultipleChoice,
    AlbertSopForPreTraining,
    AlbertSopForPreTrainingOutput,
    AlbertSopForQuestionAnswering,
    AlbertSopForSequenceClassification,
    AlbertSopForTokenClassification,
    AlbertSopModel,
    AlbertSopPreTrainedModel,
)

__all__ = [
    "AUTO_CLASSES",
    "SENTENCE_OBJECTIVES",
    "SHARING_MODES",
    "AlbertSopConfig",
    "AlbertSopForMaskedLM",
    "AlbertSopForMultipleChoice",
    "AlbertSopForPreTraining",
    "AlbertSopForPreTrainingOutput",
    "AlbertSopForQuestionAnswering",
    "AlbertSopForSequenceClassification",
    "AlbertSopForTokenClassification",
    "AlbertSopModel",
    "AlbertSopPreTrainedModel",
]
