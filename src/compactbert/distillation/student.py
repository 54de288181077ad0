"""Student initialisation from the teacher: DistilBERT-style (its embeddings and a chosen subset of its layers) or
pruned (a TinyBert cut out of it, narrower as well as shallower: `compactbert.prune`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from transformers import PreTrainedModel

from ..models.shrunk_bert import ShrunkBertPreTrainedModel
from ..models.tiny_bert import TinyBertPreTrainedModel
from ..pruning import PruneTarget
from ..shrinking import shrink

# DistilBERT (Sanh et al. 2019) initialised its 6 layers from BERT-base's layers 0, 2, 4, 7, 9, 11.
DISTILBERT_LAYERS = (0, 2, 4, 7, 9, 11)
LAYER_CHOICES = ("every-other", "distilbert")
PRUNED = "pruned"


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
    target: PruneTarget | dict | None = None,
    prune_layers: str | Sequence[int] | None = None,
    **prune_options,
) -> ShrunkBertPreTrainedModel | TinyBertPreTrainedModel:
    """A student built from the teacher: its embeddings, the chosen layers and its head (a ShrunkBert), or a TinyBert
    cut out of it (`layers="pruned"`).

    A ShrunkBert records the kept teacher layers (`config.kept_layers`) and saves like any compactbert model, so the
    student's provenance survives training and publishing. `drop_strategy` reads `distil-init:<choice>`.

    With `layers="pruned"`, the student is `compactbert.prune(teacher, target, layers=prune_layers, ...)`: a TinyBert
    with the teacher's head whose weights are slices of the teacher's (fewer layers, channels, heads, head dimensions
    and FFN neurons) and whose projection to the teacher's width starts as the kept-channel selection. `target`
    defaults to TinyBERT-4's shape (4 layers, hidden 312, FFN 1200, 12 heads); `prune_layers` picks the teacher layers
    (a strategy name or a list; default as `prune`'s); `prune_options` go to `prune` (`calibration_texts`,
    `tokenizer`, `importance`, `calibration_size`, `batch_size`, `max_length`, `progress`).

    Args:
        teacher: the teacher: a loaded model (any BERT head), a folder, a Hub id or a built-in name.
        layers: `"every-other"`, `"distilbert"`, a list of 0-based teacher layers, or `"pruned"`.
        allow_pickle: accept a folder whose weights are only `pytorch_model.bin`.

    >>> student = init_student("minilm")  # doctest: +SKIP
    >>> student.config.kept_layers  # doctest: +SKIP
    [0, 2, 4]
    >>> pruned = init_student("minilm", "pruned", calibration_size=64)  # doctest: +SKIP
    >>> pruned.config.pruning["kept_layers"], pruned.config.hidden_size  # doctest: +SKIP
    ([0, 1, 2, 4], 312)
    """
    if isinstance(layers, str) and layers == PRUNED:
        from ..pruning import prune

        target = TINY_BERT_4 if target is None else target
        return prune(teacher, target, layers=prune_layers, allow_pickle=allow_pickle, **prune_options)
    if target is not None or prune_layers is not None or prune_options:
        given = [name for name, value in (("target", target), ("prune_layers", prune_layers)) if value is not None]
        given += sorted(prune_options)
        raise ValueError(f"{', '.join(given)} apply to layers='pruned' only, not to layers={layers!r}")
    if isinstance(teacher, PreTrainedModel):
        num_layers = teacher.config.num_hidden_layers
    else:
        from ..checkpoints import read_config, resolve_model_folder

        num_layers = read_config(resolve_model_folder(teacher, allow_pickle=allow_pickle)).num_hidden_layers
    keep = student_layers(num_layers, layers)
    student = shrink(teacher, keep=keep, allow_pickle=allow_pickle)
    student.config.drop_strategy = f"distil-init:{layers if isinstance(layers, str) else 'explicit'}"
    return student


# TinyBERT-4 (Jiao et al. 2020): the default shape of a pruned student
TINY_BERT_4 = PruneTarget(num_hidden_layers=4, hidden_size=312, intermediate_size=1200, num_attention_heads=12)
