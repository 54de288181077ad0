"""Distillation: losses (pure functions), arguments, the DistillationTrainer, layer mapping, data augmentation."""

from .arguments import COMPONENTS, STAGES, DistillationTrainingArguments
from .attention import capture_attention_scores
from .layer_map import LAYER_MAPS, map_layers
from .losses import (
    HiddenProjection,
    attention_score_mse,
    cosine_embedding_loss,
    hidden_mse,
    soft_cross_entropy,
    span_soft_cross_entropy,
)
from .student import DISTILBERT_LAYERS, init_student, student_layers
from .trainer import DistillationTrainer, strip_projection

__all__ = [
    "COMPONENTS",
    "DISTILBERT_LAYERS",
    "LAYER_MAPS",
    "STAGES",
    "DistillationTrainer",
    "DistillationTrainingArguments",
    "HiddenProjection",
    "attention_score_mse",
    "capture_attention_scores",
    "cosine_embedding_loss",
    "hidden_mse",
    "init_student",
    "map_layers",
    "soft_cross_entropy",
    "span_soft_cross_entropy",
    "strip_projection",
    "student_layers",
]
