"""`compactbert build RECIPE.yaml`: a zoo entry from recipe to a folder ready to push.

A zoo recipe (`configs/<entry>.yaml`) names the family, the source, the method's settings, the task, the training
arguments and the card fields. The build runs, all on `transformers.Trainer` through the training commands' own
functions (`compactbert.finetune.finetune`, `compactbert.distillation.recipe.distill`,
`compactbert.pretraining.pretrain`):

1. the family's builder: make the compact model and fine-tune it on the task:
   - `shrunk_bert`: drop layers of the source, then fine-tune;
   - `tiny_bert`: fine-tune the source on the task as the teacher (or take a fine-tuned teacher folder from
     `method.teacher`), then train a TinyBert student from it: a fresh one (optionally general distillation from
     the pre-trained source first, then TinyBERT's task stages), or one cut out of the teacher
     (`student_init: pruned`, `compactbert.prune`), then the task stages;
   - `albert_sop`: convert the fine-tuned teacher into an Albert-SOP (`method.student_init: albert`,
     `compactbert.albert_from_bert`: SVD-factorised embeddings, shared layers started from the teacher's), then
     distil it from that teacher; or (`student_init: random`, the default) pretrain a small Albert-SOP from random
     init (MLM + SOP) on an unlabeled corpus, then fine-tune;
2. the baseline (`baseline: true`): the unchanged source fine-tuned with the same recipe, for the comparison (for
   `tiny_bert` and a converted `albert_sop` the teacher the build fine-tuned is that run, and is not trained twice);
3. the latency of both, timed side by side in this process (`compactbert.inference.time_side_by_side`);
4. the quality gate (`compactbert.hub.gate`, the recipe's `gate:` section): a model whose test accuracy is not
   clearly above the test split's majority class, or keeps less than `gate.min_retention` of the reference (the
   baseline by default), or whose builder recorded no test accuracy, is refused before anything is written, unless
   `build(..., force=True)` (`--force`);
5. a plot of accuracy and latency against the source, the card (rendered and validated, with what the builder
   recorded under `method` in `metrics.json`: teacher, losses and stages; sharing and pretraining, or the conversion;
   and the gate's verdict under `quality_gate`, a note on the card when it was overridden), and the folder
   `<output_dir>/model`, written all or nothing and checked like `compactbert push` checks it.

Families plug in through `register_builder` (family -> function making the fine-tuned model folder, kept in
`BUILDERS`). Only families whose training code exists have one; a recipe for another family is refused with the list
of those that do.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..io import MODEL_FOLDER, check_replaceable, file_in_the_way, write_folder_atomically
from ..records import write_metrics
from .builders import (
    BUILDERS,
    Built,
    albert_conversion_arguments,
    albert_sop_arguments,
    finetune_run,
    register_builder,
    source_name,
    tiny_bert_arguments,
    tiny_bert_record,
)
from .card import BUILD_INFO, evaluated_on, write_card
from .compare import PLOT, measure_latency, plot_comparison
from .gate import QualityGateError, check_metrics, read_reference
from .public import local_name
from .recipe import LatencySettings, ZooRecipe, read_recipe
from .validate import check_folder


class ExportRefusedError(ValueError):
    """An export the recipe asks for changed more test predictions than an export may; nothing was written."""


# the recipe (.recipe) and the builders (.builders) live in their own modules; their names are importable from here

__all__ = [
    "BUILDERS",
    "BUILD_INFO",
    "PLOT",
    "Built",
    "LatencySettings",
    "ZooRecipe",
    "albert_conversion_arguments",
    "albert_sop_arguments",
    "build",
    "read_recipe",
    "register_builder",
    "tiny_bert_arguments",
    "tiny_bert_record",
]


# -- the build ----------------------------------------------------------------------------------------------------


def build(recipe: ZooRecipe, force: bool = False) -> Path:
    """Run a zoo recipe end to end; returns the folder ready to push (`<output_dir>/model`).

    Raises `QualityGateError` (a `ValueError`), and writes nothing, when the model fails the recipe's quality gate;
    `force=True` writes it anyway, and its card says that the gate was overridden and why.
    """
    started = time.perf_counter()
    out = Path(recipe.output_dir)
    final = out / "model"
    blocked = file_in_the_way(out)
    if blocked is not None:  # before any training, not when the first folder is made under it
        raise NotADirectoryError(f"output_dir {out}: {blocked} is a file; give a folder for the build")
    if final.exists() and not recipe.overwrite:
        raise FileExistsError(f"{final} already exists; pass --overwrite (or overwrite: true) to rebuild it")
    check_replaceable(final, MODEL_FOLDER)  # what --overwrite would lose, before any training
    reference = None
    if recipe.gate.min_retention is not None and recipe.gate.reference_accuracy is not None:
        reference = read_reference(recipe.gate.reference_accuracy)  # a missing file is refused before training
    built = BUILDERS[recipe.family](recipe, out / "train")
    model_dir, metrics = built.model_dir, built.metrics
    baseline_dir = baseline_metrics = None
    if recipe.baseline:
        baseline_dir, baseline_metrics = built.baseline or finetune_run(
            recipe, out / "baseline", {"model": recipe.source}
        )
    if recipe.gate.min_retention is not None and reference is None:
        what = "the teacher" if built.baseline else "the source"
        name = f"{what}, {source_name(recipe)} fine-tuned with the same recipe by this build"
        reference = (baseline_metrics["test"]["accuracy"], name)
    verdict = check_metrics(metrics, recipe.gate, reference)
    if not verdict.passed and not force:
        raise QualityGateError(
            f"{verdict.refusal('write', str(final))}. Nothing was written there; the trained model is in {model_dir}"
        )
    metrics["quality_gate"] = verdict.record(overridden=force)

    latency = measure_latency(model_dir, baseline_dir or recipe.source, recipe)
    source = {"name": source_name(recipe)}
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
    else:
        source |= _source_fine_tuned(recipe, metrics)
    comparison = {"source": source, "latency": latency, "plot": PLOT}

    def write(folder: Path) -> None:
        for item in model_dir.iterdir():
            if item.name != "README.md":
                (shutil.copytree if item.is_dir() else shutil.copy2)(item, folder / item.name)
        # the builder's metrics, with `method` (how the model was made) for the card
        write_metrics(folder, metrics)
        comparison["exports"] = [_export_into(folder, fmt, recipe.name, final, model_dir) for fmt in recipe.exports]
        info = {
            "recipe": _jsonable(recipe),
            "metrics": metrics,
            "comparison": comparison,
            "build": _build_record(started),
        }
        (folder / BUILD_INFO).write_text(json.dumps(info, indent=2, default=str))
        plot_comparison(recipe.name, metrics, source, latency, folder / PLOT)
        # titled by the repository it is for, else by the recipe's name (not `model`, the folder it is written to)
        fields = (
            recipe.card if recipe.repo_id or recipe.card.model_name else replace(recipe.card, model_name=recipe.name)
        )
        write_card(folder, fields, comparison, model_id=recipe.repo_id or str(final))
        check_folder(folder)

    return write_folder_atomically(final, write, overwrite=recipe.overwrite, kind=MODEL_FOLDER)


def _source_fine_tuned(recipe: ZooRecipe, metrics: dict) -> dict[str, Any]:
    """Without a baseline: the source's test accuracy from a folder the recipe names (the quality gate's reference,
    else `method.teacher`) whose `metrics.json` records the source itself fine-tuned on the same task and test split;
    `{}` when none does."""
    from ..assets import BUILTIN_MODELS

    hub_id = lambda name: BUILTIN_MODELS[name].hub_id if name in BUILTIN_MODELS else name  # noqa: E731
    named = {
        "the quality gate's reference": recipe.gate.reference_accuracy,
        "the teacher": recipe.method.get("teacher"),
    }
    for role, value in named.items():
        if not isinstance(value, (str, Path)) or not Path(value).exists():
            continue
        path = Path(value) / "metrics.json" if Path(value).is_dir() else Path(value)
        try:
            theirs = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        model = (theirs.get("recipe") or {}).get("model") or {}
        shrunk = any(model.get(k) for k in ("shrink_strategy", "shrink_drop", "shrink_keep"))
        same_model = model.get("model") is not None and hub_id(model["model"]) == hub_id(recipe.source) and not shrunk
        if same_model and evaluated_on(metrics) is not None and evaluated_on(theirs) == evaluated_on(metrics):
            test = theirs["test"]
            return {
                "accuracy": test["accuracy"],
                "macro_f1": test.get("macro_f1"),
                "accuracy_of": f"The source, fine-tuned on the same task by another run (`{local_name(str(path.parent))}`, "
                f"{role}),",
            }
    return {}


def _export_into(folder: Path, kind: str, name: str, final: Path, model_dir: Path) -> dict[str, Any]:
    """Export the model folder being written as `kind` (a format, or an int8 kind: "openvino-int8", "onnxruntime-int8")
    into its subfolder `kind/`,
    verified against PyTorch on the test split its metrics.json names (an int8 graph calibrated on the train split);
    a model whose predictions do not hold is not written (`ExportRefusedError`, saying where the trained model is)."""
    import warnings

    from ..export import FailedExportWarning, export_model
    from ..export.exporter import INT8_DOES_NOT_HOLD, what_moved, write_info
    from ..export.formats import EXPORT_KINDS

    fmt, dtype = EXPORT_KINDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FailedExportWarning)  # a failed export is refused below, in the build's words
        result = export_model(folder, folder / kind, format=fmt, dtype=dtype)
    if result.passed:  # the source as it will be named once the build is written, not the folder being written
        write_info(result.folder, result.info | {"source": os.fspath(final)})
    verification = result.info.get("verification") or {}
    if not result.passed:
        why = f" {INT8_DOES_NOT_HOLD};" if dtype == "int8" else ""
        raise ExportRefusedError(
            f"the {kind} export of {name} {what_moved(verification)} on {verification.get('on')} (largest output "
            f"difference {verification.get('max_abs_logit_diff') or 0:.3g}). Nothing was written to {final}; the "
            f"trained model is in {model_dir}.{why} take {kind!r} out of the recipe's exports (or name the others with `build --exports`) to build without it"
        )
    files = sorted(p.name for p in (folder / kind).iterdir())
    return {"format": fmt, "dtype": dtype, "folder": kind, "files": files, "verification": verification}


def _build_record(started: float) -> dict[str, Any]:
    """Where and how long the build ran: its wall time (training, evaluation, the latency comparison and the exports),
    the date and the machine (cores, CPU model and its bf16 units)."""
    from ..hardware import machine_description

    return {
        "wall_seconds": round(time.perf_counter() - started, 1),
        "date": datetime.date.today().isoformat(),
        "machine": machine_description(),
    }


def _jsonable(recipe: ZooRecipe) -> dict:
    """The recipe as published in build.json: without this machine's output folder and recipe file."""
    values = {k: v for k, v in asdict(recipe).items() if k not in ("output_dir", "overwrite", "file")}
    return json.loads(json.dumps(values, default=str))
