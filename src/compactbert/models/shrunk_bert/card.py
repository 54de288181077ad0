"""What a ShrunkBert's model card says about how it was made, read from its `config.json` (no model code needed)."""

from __future__ import annotations


def bert_layer_parameters(hidden_size: int, intermediate_size: int) -> int:
    """Parameters of one BERT encoder layer: Q, K, V, O (4H² + 4H), two LayerNorms (4H), FFN (2HI + I + H)."""
    h, i = hidden_size, intermediate_size
    return 4 * h * h + 2 * h * i + 9 * h + i


# how `compactbert distill` marks a student made of its teacher's layers: `drop_strategy: distil-init:<choice>`
DISTIL_INIT = "distil-init:"


def describe_method(config: dict, recorded: dict) -> dict:
    """The source, the drop strategy, and per source layer whether it was kept and its contribution score; for a
    student started from its teacher's layers (`distil_init`), the teacher, and when a distillation recorded it
    (`distilled`: `compactbert distill`'s metrics.json), its losses and stages."""
    total = config.get("source_num_hidden_layers") or config["num_hidden_layers"]
    kept = config.get("kept_layers") or list(range(config["num_hidden_layers"]))
    scores = config.get("layer_contributions")
    strategy = config.get("drop_strategy") or "explicit"
    distilled = bool(recorded.get("teacher"))  # a distillation's record (compactbert distill's metrics.json)
    started = strategy.startswith(DISTIL_INIT)  # made of its teacher's layers to be distilled (init_student)
    return {
        "source_model": config.get("source_model"),
        "drop_strategy": strategy.removeprefix(DISTIL_INIT),
        "distilled": distilled,
        "distil_init": started,  # without `distilled`: how it was trained since is not recorded
        "teacher": config.get("source_model") if distilled or started else None,
        "losses": [],
        "stages": [],
        "layer_map": None,
        "source_num_hidden_layers": total,
        "kept": kept,
        "dropped": [i for i in range(total) if i not in kept],
        "scored": scores is not None,
        "layers": [
            {"index": i, "kept": i in kept, "score": None if scores is None else scores[i]} for i in range(total)
        ],
    } | recorded


def describe_source(config: dict, method: dict, num_parameters: int) -> dict:
    """The source the layers were dropped from: its parameters estimated as this model's plus the dropped layers'."""
    per_layer = bert_layer_parameters(config["hidden_size"], config["intermediate_size"])
    return {
        "name": method["source_model"] or "source",
        "architecture": None,
        "num_hidden_layers": method["source_num_hidden_layers"],
        "hidden_size": config["hidden_size"],
        "num_parameters": num_parameters + len(method["dropped"]) * per_layer,
        "parameters_estimated": True,
    }
