"""What a TinyBert's model card says about how it was distilled, from its `config.json` and what the distillation
recorded (no model code needed)."""

from __future__ import annotations

from ..registry import recorded_or_config

# what a pruned TinyBert's card shows of its config's `pruning` record (`compactbert.prune`)
PRUNING_FIELDS = (
    "kept_layers",
    "layer_strategy",
    "source_num_hidden_layers",
    "source_hidden_size",
    "hidden_size",
    "source_num_attention_heads",
    "num_attention_heads",
    "source_head_dim",
    "head_dim",
    "source_intermediate_size",
    "intermediate_size",
    "importance",
    "calibration_size",
)


# the losses that compare hidden states, and so need the student's states projected to the teacher's width (their
# `alpha_<name>` codes, which also begin the words of their names on a card: "hidden-state MSE", "embedding ...")
PROJECTED_LOSSES = ("cos", "embed", "hidden")


def uses_projection(losses: list[dict]) -> bool | None:
    """Whether a loss compared hidden states (so the student was projected to the teacher's width); None when no
    losses are recorded."""
    if not losses:
        return None
    return any(str(loss["name"]).lower().startswith(PROJECTED_LOSSES) for loss in losses)


def describe_method(config: dict, recorded: dict) -> dict:
    """The teacher, the projection to its width (`projected`: whether a loss used it), the weighted losses, the stages and the layer map; for a student cut
    out of a model (`pruned_from`), what was kept of it (`pruning`: kept layers, sizes before and after, importance,
    calibration size); `None` for a student that started from random weights."""
    losses = recorded_or_config(config, recorded, "losses", "loss_weights") or []
    if isinstance(losses, dict):
        losses = [{"name": name, "weight": weight} for name, weight in losses.items()]
    losses = [loss if isinstance(loss, dict) else {"name": str(loss), "weight": None} for loss in losses]
    stages = recorded_or_config(config, recorded, "stages") or []
    stages = [stage if isinstance(stage, dict) else {"name": str(stage)} for stage in stages]
    stages = [{"data": None, "epochs": None, "augmented": False} | stage for stage in stages]
    losses = [{"weight": None} | loss for loss in losses]
    return {
        "teacher": recorded_or_config(config, recorded, "teacher", "teacher_model", "teacher_name_or_path"),
        "fit_size": recorded_or_config(config, recorded, "fit_size", "teacher_hidden_size"),
        "fit_projection": recorded_or_config(config, recorded, "fit_projection"),
        "losses": losses,
        "projected": uses_projection(losses),
        "stages": stages,
        "layer_map": recorded_or_config(config, recorded, "layer_map", "layer_mapping"),
        "pruned_from": config.get("pruned_from"),
        "pruning": _pruning(config),
    }


def _pruning(config: dict) -> dict | None:
    record = config.get("pruning")
    if not config.get("pruned_from") or not isinstance(record, dict):
        return None
    return {name: record.get(name) for name in PRUNING_FIELDS}
