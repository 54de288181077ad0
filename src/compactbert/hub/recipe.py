"""Zoo recipes (`configs/<entry>.yaml`): what `compactbert build` reads, checked field by field (`read_recipe`)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..fields import read_yaml_recipe, recipe_file, required_fields, typed_numbers
from .builders import BUILDERS
from .card import CardFields
from .gate import QualityGate


@dataclass
class LatencySettings:
    """How the built model and its source are timed against each other."""

    batch_size: int = 8
    max_length: int = 128
    repeats: int = 10
    warmup: int = 2
    dtype: str = "auto"
    # what runs both models: "torch", "openvino", "onnxruntime" (exported first), or "auto" (chosen on the model; the
    # source then runs on the same runtime); the card names it
    backend: str = "torch"

    def __post_init__(self):
        if self.batch_size < 1 or self.repeats < 1 or self.warmup < 0 or self.max_length < 8:
            raise ValueError(
                "latency settings need batch_size >= 1, repeats >= 1, warmup >= 0 and max_length >= 8, got "
                f"{asdict(self)}"
            )
        from ..export.formats import BACKENDS  # no torch: a recipe is read before anything runs

        if self.backend not in BACKENDS:
            raise ValueError(f"unknown latency backend {self.backend!r}; choose one of: {', '.join(BACKENDS)}")


@dataclass
class ZooRecipe:
    """A zoo entry: everything `compactbert build` needs, read from `configs/<entry>.yaml`."""

    name: str
    family: str
    source: str
    task: str = "bbc-news"
    repo_id: str | None = None
    method: dict[str, Any] = field(default_factory=dict)  # the family's settings (shrunk_bert: strategy, drop / keep)
    training: dict[str, Any] = field(default_factory=dict)  # ModelArguments / DataArguments / TrainingArguments fields
    baseline: bool = True
    latency: LatencySettings = field(default_factory=LatencySettings)
    card: CardFields = field(default_factory=CardFields)
    gate: QualityGate = field(default_factory=QualityGate)  # what the model must reach to be written
    # runtimes the model is also exported for, each into a subfolder of the same name (`openvino/`, `onnx/`,
    # `openvino-int8/`: quantized by NNCF), verified against PyTorch on the task's test split; the card shows how to
    # run them without PyTorch
    exports: list[str] = field(default_factory=list)
    output_dir: str | None = None
    overwrite: bool = False
    # the file it was read from (`read_recipe`; None for a recipe made in Python): errors found later name it
    file: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.family not in BUILDERS:
            raise ValueError(
                f"no builder for family '{self.family}'; `compactbert build` can build: {', '.join(sorted(BUILDERS))}"
            )
        if isinstance(self.latency, dict):
            self.latency = _make(LatencySettings, self.latency, "latency")
        if isinstance(self.card, dict):
            self.card = _make(CardFields, {"repo_id": self.repo_id} | self.card, "card")
        if isinstance(self.gate, dict):
            self.gate = _make(QualityGate, self.gate, "gate")
        from ..export.formats import EXPORT_KINDS

        if isinstance(self.exports, str):
            self.exports = [self.exports]
        unknown = [f for f in self.exports if f not in EXPORT_KINDS]
        if unknown or len(set(self.exports)) != len(self.exports):
            raise ValueError(
                f"exports: {self.exports} must name each format once, of: {', '.join(EXPORT_KINDS)}"
                + (f" (unknown: {unknown})" if unknown else "")
            )
        if self.gate.min_retention is not None and self.gate.reference_accuracy is None and not self.baseline:
            raise ValueError(
                "gate.min_retention needs a reference accuracy: keep baseline: true (the source fine-tuned with the "
                "same recipe), or set gate.reference_accuracy (an accuracy, or a teacher's metrics.json)"
            )
        reserved = sorted(
            {"model", "task", "output_dir", "shrink_strategy", "shrink_drop", "shrink_keep"} & set(self.training)
        )
        if reserved:
            raise ValueError(
                f"training: {reserved} are set by the recipe's top-level keys (source, task, output_dir, method)"
            )
        self.output_dir = self.output_dir or os.path.join("runs", "zoo", self.name)

    def where(self, key: str) -> str:
        """How an error names `key` of this recipe: `configs/x.yaml: method` (`recipe: method` without a file)."""
        return f"{self.file or 'recipe'}: {key}"


def _make(cls, values: dict, where: str):
    known = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown} in {where}; expected some of: {', '.join(sorted(known))}")
    required = required_fields(cls)
    missing = [name for name in required if name not in values]
    if missing:
        raise ValueError(f"{where} has no {', '.join(missing)}; it needs {', '.join(required)}")
    return cls(**typed_numbers(values, [cls], where))


def read_recipe(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> ZooRecipe:
    """Read a zoo recipe. `overrides` (e.g. `{"max_train_samples": 64}`) go into its training arguments, except
    `output_dir`, `overwrite` and `exports`, which are the recipe's own."""
    recipe = recipe_file(path)
    values = read_yaml_recipe(recipe)
    if not isinstance(values, dict) or "family" not in values:
        raise ValueError(
            f"{recipe} is not a zoo recipe: expected a mapping with name, family, source, ... (a plain fine-tuning "
            "recipe runs with `compactbert finetune`)"
        )
    overrides = dict(overrides or {})
    for key in ("output_dir", "overwrite", "exports"):
        if key in overrides:
            values[key] = overrides.pop(key)
    values["training"] = _typed_training(values.get("training") or {}, f"{recipe}: training") | overrides
    values["method"] = {} if values.get("method") is None else values["method"]
    if not isinstance(values["method"], dict):
        raise ValueError(
            f"{recipe}: method must be a mapping of the family's settings (e.g. strategy: top, drop: 3), got "
            f"{values['method']!r}"
        )
    zoo = _make(ZooRecipe, values, str(recipe))
    zoo.file = str(recipe)
    return zoo


def _typed_training(training: Any, where: str) -> dict[str, Any]:
    """A zoo recipe's `training` (the fine-tuning recipe's fields), its numbers checked and read (`typed_numbers`)
    here, where the recipe file can be named, rather than when a builder parses it."""
    from ..finetune import DataArguments, FinetuneArguments, ModelArguments

    if not isinstance(training, dict):
        raise ValueError(
            f"{where} must be a mapping of field: value (max_length, learning_rate, ...), got {training!r}"
        )
    return typed_numbers(training, (ModelArguments, DataArguments, FinetuneArguments), where)


# -- builders: family -> (recipe, run folder) -> fine-tuned model folder + its metrics ---------------------------
