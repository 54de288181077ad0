"""Which teacher layer each student layer learns from (TinyBERT's mapping function g(m))."""

from __future__ import annotations

from collections.abc import Sequence

LAYER_MAPS = ("uniform", "top", "bottom", "kept")


def map_layers(
    student_layers: int,
    teacher_layers: int,
    layer_map: str | Sequence[int] = "uniform",
    kept_layers: Sequence[int] | None = None,
) -> list[int]:
    """0-based teacher layer index for each 0-based student layer.

    - `uniform`: TinyBERT's g(m) = m·L/M for student layer m = 1..M (1-based), rounded down when M does not divide L
      (so 4 student layers over 6 teacher layers learn from teacher layers 1, 3, 4, 6, i.e. 0-based [0, 2, 3, 5]);
      the last student layer always learns from the last teacher layer.
    - `top`: the last M teacher layers; `bottom`: the first M.
    - `kept`: the teacher layers the student was cut from (`kept_layers`: see `kept_teacher_layers`), so each student
      layer learns from the layer it started as (a pruned or layer-dropped student built from this teacher).
    - an explicit list of M increasing 0-based teacher layers.

    The embeddings (layer "0" in TinyBERT's notation) always map to the teacher's embeddings.

    >>> map_layers(3, 6), map_layers(4, 6), map_layers(2, 6, "top")
    ([1, 3, 5], [0, 2, 3, 5], [4, 5])
    """
    if student_layers < 1 or teacher_layers < 1:
        raise ValueError(f"layer counts must be >= 1, got student {student_layers}, teacher {teacher_layers}")
    if isinstance(layer_map, str):
        if layer_map not in LAYER_MAPS:
            raise ValueError(
                f"unknown layer_map '{layer_map}'; choose one of: {', '.join(LAYER_MAPS)}, or a list of 0-based "
                "teacher layers, one per student layer"
            )
        if layer_map == "kept":
            if kept_layers is None:
                raise ValueError(
                    "layer_map 'kept' matches each student layer to the teacher layer it was cut from, but this "
                    "student records none of this teacher's (it is not a pruned TinyBert or a ShrunkBert, or the "
                    "source layers it kept are not all the teacher's); use uniform, top, bottom or a list"
                )
            return map_layers(student_layers, teacher_layers, kept_layers)
        if student_layers > teacher_layers:
            raise ValueError(
                f"layer_map '{layer_map}' needs a student no deeper than the teacher, got {student_layers} student "
                f"layers for {teacher_layers} teacher layers; give an explicit list instead"
            )
        if layer_map == "uniform":
            return [(m * teacher_layers) // student_layers - 1 for m in range(1, student_layers + 1)]
        if layer_map == "top":
            return list(range(teacher_layers - student_layers, teacher_layers))
        return list(range(student_layers))
    mapping = [int(i) for i in layer_map]
    if len(mapping) != student_layers:
        raise ValueError(
            f"layer_map lists {len(mapping)} teacher layers but the student has {student_layers}; give one 0-based "
            "teacher layer per student layer"
        )
    if any(i < 0 or i >= teacher_layers for i in mapping):
        raise ValueError(f"layer_map entries must lie in [0, {teacher_layers - 1}] (teacher layers), got {mapping}")
    if any(b <= a for a, b in zip(mapping, mapping[1:], strict=False)):
        raise ValueError(f"layer_map must be increasing (layer order is preserved), got {mapping}")
    return mapping


def kept_teacher_layers(config, teacher_config=None) -> list[int] | None:
    """The 0-based layers of the model a student was cut from, as its config records them: a pruned TinyBert's
    `pruning["kept_layers"]`, a ShrunkBert's `kept_layers`; None for any other student. They are teacher layers when
    that model is the teacher (as `init_student` builds students).

    With `teacher_config`, they are the teacher's own layers: a ShrunkBert records layers of its *original* source,
    so when the teacher is itself a ShrunkBert of that source (a student shrunk from a shrunk teacher), each is
    looked up among the teacher's `kept_layers` ([0, 2] of a teacher that kept [0, 2, 3, 5] of six: its layers
    [0, 1]); None when the teacher does not hold them all (the student was not cut from it)."""
    pruning = getattr(config, "pruning", None)
    if isinstance(pruning, dict) and pruning.get("kept_layers") is not None:
        return [int(i) for i in pruning["kept_layers"]]  # the pruned model's own layer positions
    kept = getattr(config, "kept_layers", None)
    if kept is None:
        return None
    kept = [int(i) for i in kept]
    held = getattr(teacher_config, "kept_layers", None)
    same_source = getattr(teacher_config, "source_num_hidden_layers", None) == getattr(
        config, "source_num_hidden_layers", None
    )
    if held is None or not same_source:
        return kept
    held = [int(i) for i in held]
    return [held.index(i) for i in kept] if set(kept) <= set(held) else None
