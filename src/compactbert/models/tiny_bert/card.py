"""What a TinyBert's model card says about how it was distilled, from its `config.json` and what the distillation
recorded (no model code needed)."""

from __future__ import annotations

from ..registry import recorded_or_config


def describe_method(config: dict, recorded: dict) -> dict:
    """The teacher, the projection to its width, the weighted losses, the stages and the layer map."""
    losses = recorded_or_config(config, recorded, "losses", "loss_weights") or []
    if isinstance(losses, dict):
        losses = [{"name": name, "weight": weight} for name, weight in losses.items()]
    losses = [loss if isinstance(loss, dict) else {"name": str(loss), "weight": None} for loss in losses]
    stages = recorded_or_config(config, recorded, "stages") or []
    stages = [stage if isinstance(stage, dict) else {"name": str(stage)} for stage in stages]
    stages = [{"data": None, "epochs": None, "augmented": False} | stage for stage in stages]
    return {
        "teacher": recorded_or_config(config, recorded, "teacher", "teacher_model", "teacher_name_or_path"),
        "fit_size": recorded_or_config(config, recorded, "fit_size", "teacher_hidden_size"),
        "fit_projection": recorded_or_config(config, recorded, "fit_projection"),
        "losses": [{"weight": None} | loss for loss in losses],
        "stages": stages,
        "layer_map": recorded_or_config(config, recorded, "layer_map", "layer_mapping"),
    }
