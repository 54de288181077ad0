"""DistilBERT-style student initialisation: the teacher's embeddings and a chosen subset of its layers."""

from __future__ import annotations

import os
from collections.abc import Sequence

from transformers import PreTrainedModel

from ..models.shrunk_bert import ShrunkBertPreTrainedModel
from ..shrinking import shrink

# DistilBERT (Sanh et al. 2019) initialised its 6 layers from BERT-base's layers 0, 2, 4, 7, 9, 11.
DISTILBERT_LAYERS = (0, 2, 4, 7, 9, 11)
LAYER_CHOICES = ("every-other", "distilbert")


def student_layers(teacher_layers: int, layers: str | Sequence[int] = "every-other") -> list[int]:
    """0-based teacher layers a student starts from: `every-other` (0, 2, 4, ...), `distilbert`, or a list.

    >>> student_layers(6), student_layers(12, "distilbert")
    ([0, 2, 4], [0, 2, 4, 7, 9, 11])
    """
    if isinstance(layers, str):
        if layers == "every-other":
            return list(range(0, teacher_layers, 2))
        if layers == "distilbert":
            if teacher_layers != 12:
                raise ValueError(
                    f"'distilbert' names DistilBERT's choice for a 12-layer teacher, but this teacher has "
                    f"{teacher_layers} layers; use 'every-other' or an explicit list"
                )
            return list(DISTILBERT_LAYERS)
        raise ValueError(
            f"unknown student layer choice '{layers}'; choose one of: {', '.join(LAYER_CHOICES)}, or a list"
        )
    return [int(i) for i in layers]  # shrink() checks range, order and uniqueness


def init_student(
    teacher: PreTrainedModel | str | os.PathLike,
    layers: str | Sequence[int] = "every-other",
    *,
    allow_pickle: bool = False,
) -> ShrunkBertPreTrainedModel:
    """A student built from the teacher's embeddings, the chosen layers and its head, as a ShrunkBert.

    A ShrunkBert records the kept teacher layers (`config.kept_layers`) and saves like any compactbert model, so the
    student's provenance survives training and publishing. `drop_strategy` reads `distil-init:<choice>`.

    >>> student = init_student("minilm")  # doctest: +SKIP
    >>> student.config.kept_layers  # doctest: +SKIP
    [0, 2, 4]
    """
    if isinstance(teacher, PreTrainedModel):
        num_layers = teacher.config.num_hidden_layers
    else:
        from ..checkpoints import read_config, resolve_model_folder

        num_layers = read_config(resolve_model_folder(teacher, allow_pickle=allow_pickle)).num_hidden_layers
    keep = student_layers(num_layers, layers)
    student = shrink(teacher, keep=keep, allow_pickle=allow_pickle)
    student.config.drop_strategy = f"distil-init:{layers if isinstance(layers, str) else 'explicit'}"
    return student
