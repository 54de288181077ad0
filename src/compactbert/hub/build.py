"""`compactbert build RECIPE.yaml`: a zoo entry from recipe to a folder ready to push.

A zoo recipe (`configs/<entry>.yaml`) names the family, the source, the method's settings, the task, the training
arguments and the card fields. The build runs, all on `transformers.Trainer` through `compactbert.finetune`:

1. the family's builder: make the compact model and fine-tune it (ShrunkBert: drop layers, then fine-tune);
2. the baseline (`baseline: true`): the unchanged source fine-tuned with the same recipe, for the comparison;
3. the latency of both, timed side by side in this process (`compactbert.inference.time_side_by_side`);
4. a plot of accuracy and latency against the source, the card (rendered and validated), and the folder
   `<output_dir>/model`, written all or nothing and checked like `compactbert push` checks it.

Families plug in through `BUILDERS` (family -> function making the fine-tuned model folder). Only families
whose training code exists are registered; a recipe for another family is refused with the list of those that
are.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .card import CardFields, write_card
from .validate import check_folder

PLOT = "accuracy_latency.png"
BUILD_INFO = "build.json"


@dataclass
class LatencySettings:
    """How the built model and its source are timed against each other."""

    batch_size: int = 8
    max_length: int = 128
    repeats: int = 10
    warmup: int = 2
    dtype: str = "auto"

    def __post_init__(self):
        if self.batch_size < 1 or self.repeats < 1 or self.warmup < 0 or self.max_length < 8:
            raise ValueError(
                "latency settings need batch_size >= 1, repeats >= 1, warmup >= 0 and max_length >= 8, got "
                f"{asdict(self)}"
            )


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
    output_dir: str | None = None
    overwrite: bool = False

    def __post_init__(self):
        if self.family not in BUILDERS:
            raise ValueError(
                f"no builder for family '{self.family}'; `compactbert build` can build: {', '.join(sorted(BUILDERS))}"
            )
        if isinstance(self.latency, dict):
            self.latency = _make(LatencySettings, self.latency, "latency")
        if isinstance(self.card, dict):
            self.card = _make(CardFields, {"repo_id": self.repo_id} | self.card, "card")
        reserved = sorted(
            {"model", "task", "output_dir", "shrink_strategy", "shrink_drop", "shrink_keep"} & set(self.training)
        )
        if reserved:
            raise ValueError(
                f"training: {reserved} are set by the recipe's top-level keys (source, task, output_dir, method)"
            )
        self.output_dir = self.output_dir or os.path.join("runs", "zoo", self.name)


def _make(cls, values: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown} in {where}; expected some of: {', '.join(sorted(known))}")
    return cls(**values)


def read_recipe(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> ZooRecipe:
    """Read a zoo recipe. `overrides` (e.g. `{"max_train_samples": 64}`) go into its training arguments, except
    `output_dir` and `overwrite`, which are the recipe's own."""
    recipe = Path(path)
    if not recipe.is_file():
        raise FileNotFoundError(f"recipe {recipe} does not exist")
    values = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
    if not isinstance(values, dict) or "family" not in values:
        raise ValueError(
            f"{recipe} is not a zoo recipe: expected a mapping with name, family, source, ... (a plain fine-tuning "
            "recipe runs with `compactbert finetune`)"
        )
    overrides = dict(overrides or {})
    for key in ("output_dir", "overwrite"):
        if key in overrides:
            values[key] = overrides.pop(key)
    values["training"] = (values.get("training") or {}) | overrides
    return _make(ZooRecipe, values, str(recipe))


# -- builders: family -> (recipe, run folder) -> fine-tuned model folder + its metrics ---------------------------


def _finetune(recipe: ZooRecipe, run_dir: Path, model_fields: dict[str, Any]) -> tuple[Path, dict]:
    from ..finetune import MODEL_SUBDIR, finetune, parse_recipe

    values = recipe.training | model_fields | {"task": recipe.task, "output_dir": str(run_dir), "overwrite": True}
    model_args, data_args, training_args = parse_recipe(None, values)
    metrics = finetune(model_args, data_args, training_args)
    return run_dir / MODEL_SUBDIR, metrics


def build_shrunk_bert(recipe: ZooRecipe, run_dir: Path) -> tuple[Path, dict]:
    """Drop layers of the source (`method`: `strategy` + `drop`, or `keep`), then fine-tune: one finetune run."""
    method = dict(recipe.method)
    unknown = sorted(set(method) - {"strategy", "drop", "keep"})
    if unknown:
        raise ValueError(f"unknown shrunk_bert method keys {unknown}; expected strategy + drop, or keep")
    shrink = {"shrink_keep": method["keep"]} if "keep" in method else {}
    if "strategy" in method or "drop" in method:
        shrink = {"shrink_strategy": method.get("strategy"), "shrink_drop": method.get("drop")}
    if not shrink:
        raise ValueError("a shrunk_bert recipe needs method: {strategy: top, drop: K} or method: {keep: [0, 2, ...]}")
    return _finetune(recipe, run_dir, {"model": recipe.source, **shrink})


BUILDERS: dict[str, Callable[[ZooRecipe, Path], tuple[Path, dict]]] = {"shrunk_bert": build_shrunk_bert}


# -- the build ----------------------------------------------------------------------------------------------------


def build(recipe: ZooRecipe) -> Path:
    """Run a zoo recipe end to end; returns the folder ready to push (`<output_dir>/model`)."""
    from ..assets import BUILTIN_MODELS

    out = Path(recipe.output_dir)
    final = out / "model"
    if final.exists() and not recipe.overwrite:
        raise FileExistsError(f"{final} already exists; pass --overwrite (or overwrite: true) to rebuild it")
    model_dir, metrics = BUILDERS[recipe.family](recipe, out / "train")
    baseline_dir = baseline_metrics = None
    if recipe.baseline:
        baseline_dir, baseline_metrics = _finetune(recipe, out / "baseline", {"model": recipe.source})

    latency = measure_latency(model_dir, baseline_dir or recipe.source, recipe)
    source = {
        "name": BUILTIN_MODELS[recipe.source].hub_id if recipe.source in BUILTIN_MODELS else recipe.source,
    }
    if baseline_metrics is not None:
        baseline_config = json.loads((baseline_dir / "config.json").read_text())
        source |= {
            "architecture": (baseline_config.get("architectures") or [None])[0],
            "num_hidden_layers": baseline_config["num_hidden_layers"],
            "hidden_size": baseline_config["hidden_size"],
            "num_parameters": baseline_metrics["num_parameters"],
            "parameters_estimated": False,
            "accuracy": baseline_metrics["test"]["accuracy"],
            "macro_f1": baseline_metrics["test"]["macro_f1"],
        }
    comparison = {"source": source, "latency": latency, "plot": PLOT}

    def write(folder: Path) -> None:
        for item in model_dir.iterdir():
            if item.name != "README.md":
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, folder / item.name)
        info = {"recipe": _jsonable(recipe), "metrics": metrics, "comparison": comparison}
        (folder / BUILD_INFO).write_text(json.dumps(info, indent=2, default=str))
        plot_comparison(recipe.name, metrics, source, latency, folder / PLOT)
        write_card(folder, recipe.card, comparison, model_id=recipe.repo_id or str(final))
        check_folder(folder)

    from ..io import write_folder_atomically

    return write_folder_atomically(final, write, overwrite=recipe.overwrite)


def _jsonable(recipe: ZooRecipe) -> dict:
    """The recipe as published in build.json: without this machine's output folder."""
    values = {k: v for k, v in asdict(recipe).items() if k not in ("output_dir", "overwrite")}
    return json.loads(json.dumps(values, default=str))


def measure_latency(model_dir: Path, source: str | os.PathLike, recipe: ZooRecipe) -> dict:
    """Time the built model and its source side by side (interleaved, after warm-up) on test texts.

    With a baseline, both are sequence classifiers; without one, the source has no head, so both are timed as
    encoders (`task="base"`) to compare like with like.
    """
    import torch

    from ..data import load_task
    from ..inference import load_for_inference, time_side_by_side

    settings = recipe.latency
    task = "sequence-classification" if recipe.baseline else "base"
    models = {
        "model": load_for_inference(model_dir, task=task, dtype=settings.dtype),
        "source": load_for_inference(source, task=task, dtype=settings.dtype),
    }
    columns = {k: v for k, v in recipe.training.items() if k in ("text_column", "label_column") and v is not None}
    split_seed = recipe.training.get("split_seed", 42)
    texts = list(load_task(recipe.task, seed=split_seed, **columns)[0]["test"]["text"][: settings.batch_size])
    runners = {name: m.runner(texts, settings.max_length) for name, m in models.items()}
    timings = time_side_by_side(runners, repeats=settings.repeats, warmup=settings.warmup)
    device = models["model"].device
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({platform.processor() or platform.machine()})"
    )
    return {
        **{name: timing.as_dict() for name, timing in timings.items()},
        "batch_size": len(texts),
        "max_length": settings.max_length,
        "repeats": settings.repeats,
        "warmup": settings.warmup,
        "dtype": str(models["model"].dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        "device": where,
        "heads": task,
    }


def plot_comparison(name: str, metrics: dict, source: dict, latency: dict, path: Path) -> None:
    """Two panels: test accuracy, and latency (median with min–max), of the built model next to its source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [name, source["name"].rsplit("/", 1)[-1]]
    fig, (acc_ax, lat_ax) = plt.subplots(1, 2, figsize=(8, 3.2))
    accuracy = [metrics["test"]["accuracy"], source.get("accuracy")]
    acc_ax.bar([0, 1], [a or 0 for a in accuracy], color=["tab:blue", "tab:gray"])
    for x, a in enumerate(accuracy):
        acc_ax.text(x, (a or 0) + 0.01, "not measured" if a is None else f"{a:.3f}", ha="center", fontsize=8)
    acc_ax.set(xticks=[0, 1], xticklabels=labels, ylim=(0, 1.1), ylabel="test accuracy", title="accuracy")
    medians = [latency[k]["median_ms"] for k in ("model", "source")]
    spread = [
        [m - latency[k]["min_ms"] for m, k in zip(medians, ("model", "source"), strict=True)],
        [latency[k]["max_ms"] - m for m, k in zip(medians, ("model", "source"), strict=True)],
    ]
    lat_ax.bar([0, 1], medians, yerr=spread, capsize=4, color=["tab:blue", "tab:gray"])
    lat_ax.set(
        xticks=[0, 1],
        xticklabels=labels,
        ylabel="ms per batch (median, min–max)",
        title=f"latency, batch {latency['batch_size']}, {latency['dtype']}",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
