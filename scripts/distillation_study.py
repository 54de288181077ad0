"""Distillation on real data: a fine-tuned MiniLM-L6 teacher, and 3-layer students trained with or without it.

Per task (bbc-news, rotten-tomatoes; one seed, 0), all with the layer-drop study's budget (1 epoch, batch 32,
max_length 128, lr 3e-4 BBC / 1e-4 RT, warm-up 10%, weight decay 0.01):

- teacher:          MiniLM-L6 fine-tuned (all 6 layers)
- top3-finetune:    MiniLM with its top 3 layers dropped (ShrunkBert), fine-tuned on the labels alone
- top3-kd:          the same ShrunkBert trained with the DistillationTrainer: soft targets (KL*T^2, T=2) + labels
- distil3-kd:       a DistilBERT-style student: the *fine-tuned teacher's* embeddings, layers 0, 2, 4 and head,
                    trained with soft targets + labels
- distil3-labels:   the same start trained on the labels alone (separates the initialisation from the soft targets)
- top3-kd-inter:    top3-kd plus TinyBERT's hidden-state and pre-softmax attention losses (uniform layer map)
- tinybert4:        TinyBERT-4 from random init: general distillation from the pre-trained MiniLM on every paragraph
                    of the BBC News training articles (one epoch), then intermediate and prediction stages on the task
- tinybert4-nogeneral: the same student and task stages without the general stage (what general distillation buys)
The TinyBert cells train at lr 1e-3 (a randomly initialised student; the zoo's TinyBert recipe uses the same).
Inference time of the teacher and a 3-layer student is measured side by side (interleaved, after warm-up).

    python scripts/distillation_study.py                   # the committed study (~30-40 min on 2 free cores)
    python scripts/distillation_study.py --quick           # a smoke run on 64 examples into /tmp

Results go to docs/results/distillation/: results.json (updated after every run, so an interrupted study resumes),
results.md and accuracy.png. What distillation costs in training time: scripts/training_cost.py.
Each run's `model_dir` is recorded relative to the workdir (`setup.workdir` says which one it was), so the results
name no machine's folders and a moved workdir resumes with `--workdir`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from layer_drop_study import TASKS as LAYER_DROP_TASKS
from layer_drop_study import TRAINING as LAYER_DROP_TRAINING

from compactbert.distillation.recipe import distill, parse_distill_recipe
from compactbert.finetune import finetune, parse_recipe
from compactbert.hardware import native_bf16

SOURCE = "minilm"
SEED = 0
# the layer-drop study's tasks and budget (one epoch, batch 32, length-grouped batches), with a log every 10 steps
TASKS = LAYER_DROP_TASKS
TRAINING = {k: v for k, v in LAYER_DROP_TRAINING.items() if k != "logging_strategy"} | {
    "logging_steps": 10,
    "seed": SEED,
}
KD = {"stage": "prediction", "alpha_ce": 1.0, "alpha_label": 1.0, "temperature": 2.0}
TINY = {
    "student_init": "tiny-bert",
    "stages": ["intermediate", "prediction"],
    "alpha_embed": 1.0,
    "alpha_hidden": 1.0,
    "alpha_attn": 1.0,
    "learning_rate": 1e-3,
} | KD
CELLS = {
    "teacher": ("finetune", {}),
    "top3-finetune": ("finetune", {"shrink_strategy": "top", "shrink_drop": 3}),
    "top3-kd": ("distill", {"model": SOURCE, "shrink_strategy": "top", "shrink_drop": 3} | KD),
    "distil3-kd": ("distill", {"student_init": "every-other"} | KD),
    # the same start (the fine-tuned teacher's layers 0, 2, 4) trained on labels alone: separates the
    # initialisation from the soft targets
    "distil3-labels": ("distill", {"student_init": "every-other"} | KD | {"alpha_ce": 0.0}),
    # TinyBERT-4 (random init): general distillation from pre-trained MiniLM on the BBC training paragraphs, then
    # intermediate (embeddings + hidden + attention) and prediction (soft targets + labels) on the task
    "tinybert4": ("distill", TINY | {"general_epochs": 1}),
    "tinybert4-nogeneral": ("distill", TINY),
    "top3-kd-inter": (
        "distill",
        {"model": SOURCE, "shrink_strategy": "top", "shrink_drop": 3}
        | KD
        | {"stage": "all", "alpha_hidden": 1.0, "alpha_attn": 1.0, "alpha_embed": 0.0},
    ),
}


def recorded_model_dir(output_dir: str | Path, workdir: Path) -> str:
    """A run's model folder (`output_dir/model`) as results.json records it: relative to the study's workdir."""
    return (Path(output_dir) / "model").relative_to(workdir).as_posix()


def model_folder(run: dict, workdir: str | Path) -> Path:
    """Where a run's model is: its recorded `model_dir` resolved against `workdir` (the `--workdir` of this run).

    An older results.json recorded absolute folders: those are taken as they are.
    """
    folder = Path(run["model_dir"])
    return folder if folder.is_absolute() else Path(workdir) / folder


def run_cell(task: str, cell: str, workdir: Path, limit: int | None, overrides: dict) -> dict:
    kind, extra = CELLS[cell]
    fields = {"task": task, "output_dir": str(workdir / task / cell)} | TRAINING | TASKS[task] | extra | overrides
    if limit:
        fields |= {"max_train_samples": limit, "max_eval_samples": limit}
    started = time.perf_counter()
    if kind == "finetune":
        metrics = finetune(*parse_recipe(None, {"model": SOURCE} | fields))
    else:
        teacher = workdir / task / "teacher" / "model"
        metrics = distill(*parse_distill_recipe(None, {"teacher": str(teacher)} | fields))
    train = metrics["train"]
    stages = metrics.get("train_stages")
    return {
        "task": task,
        "cell": cell,
        "seed": SEED,
        "test_accuracy": metrics["test"]["accuracy"],
        "test_macro_f1": metrics["test"]["macro_f1"],
        "validation_accuracy": metrics["validation"]["accuracy"],
        "num_parameters": metrics["num_parameters"],
        "num_hidden_layers": metrics["num_hidden_layers"],
        "kept_layers": metrics["kept_layers"],
        "losses": metrics.get("losses", {"label": 1.0}),
        "stages": [h["stage"] for h in stages] if stages else None,
        "train_steps": sum(h["global_step"] for h in stages) if stages else train["global_step"],
        "hidden_size": json.loads((Path(fields["output_dir"]) / "model" / "config.json").read_text())["hidden_size"],
        "train_seconds": train["train_runtime"],
        "wall_seconds": time.perf_counter() - started,
        "model_dir": recorded_model_dir(fields["output_dir"], workdir),
    }


def inference_times(model_dirs: dict[str, str], texts: list[str], repeats: int = 15) -> dict:
    """The teacher and the students on one batch, interleaved (bf16 where native); milliseconds and ratios."""
    from compactbert.inference import load_for_inference, time_side_by_side

    models = {name: load_for_inference(folder) for name, folder in model_dirs.items()}
    timings = time_side_by_side({name: m.runner(texts) for name, m in models.items()}, repeats=repeats)
    result = {name: t.as_dict() for name, t in timings.items()}
    result["speedup_vs_teacher"] = {
        name: timings["teacher"].median_ms / t.median_ms for name, t in timings.items() if name != "teacher"
    }
    result["batch"] = {"texts": len(texts), "max_length": 128, "dtype": str(models["teacher"].dtype)}
    return result


def summarize(results: dict, out: Path) -> None:
    runs, setup = results["runs"], results["setup"]
    speed = results.get("speed") or {}
    speedups = {"teacher": 1.0} | {
        {"3-layer student": "distil3-kd", "TinyBert-4": "tinybert4"}[k]: v
        for k, v in speed.get("speedup_vs_teacher", {}).items()
    }
    overrides = setup.get("overrides", {})
    speed_task = speed.get("task", "-")
    native = setup.get("bf16_autocast")
    precision = {True: "bf16 autocast", False: "fp32 (no native bf16 units here)"}.get(
        native, "bf16 autocast where native"
    )
    load = setup.get("load_average", {})
    lines = [
        "# Distillation: fine-tuned MiniLM-L6 teacher, 3-layer and TinyBert-4 students",
        "",
        f"Reproduce: `{setup['command']}`. One seed ({SEED}); split seed 42; test split (full) of each task.",
        f"Budget of every row: 1 epoch (per stage), batch 32, max_length 128, length-grouped batches, warm-up 10%, "
        f"weight decay 0.01, {precision}; learning rate {overrides.get('learning_rate', 'as in the layer-drop study')}"
        f"{'' if 'learning_rate' in overrides else ' (TinyBert cells: 1e-3, a randomly initialised student)'}; "
        f"training examples: {overrides.get('max_train_samples', 'all')}.",
        "Retention = test accuracy / the teacher's. Speed = the teacher's median forward time / the model's, one batch "
        f"of 32 {speed_task} test texts, interleaved after warm-up in one process. Minutes: wall time of the cell "
        f"(all its stages and its evaluation). Load average at start {load.get('start')}, at end {load.get('end')}.",
        "",
        "| task | model | layers × width | parameters | losses | test accuracy | macro-F1 | retention | speed vs teacher "
        "| minutes |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for task in setup["tasks"]:
        teacher = runs.get(f"{task}/teacher")
        for cell in CELLS:
            run = runs.get(f"{task}/{cell}")
            if run is None:
                continue
            retention = f"{run['test_accuracy'] / teacher['test_accuracy']:.3f}" if teacher else "-"
            losses = " + ".join(f"{w:g}·{c}" for c, w in run["losses"].items())
            if run.get("stages"):
                losses = f"{losses} ({' → '.join(run['stages'])})"
            same_shape = {3: "distil3-kd", 4: "tinybert4"}.get(run["num_hidden_layers"])
            speedup = speedups.get(cell, speedups.get(same_shape))
            lines.append(
                f"| {task} | {cell} | {run['num_hidden_layers']} × {_hidden_size(run, setup.get('workdir', '.'))} "
                f"| {run['num_parameters'] / 1e6:.1f}M | {losses} | {run['test_accuracy']:.4f} "
                f"| {run['test_macro_f1']:.4f} | {retention} | {'-' if speedup is None else f'{speedup:.2f}x'} "
                f"| {run['wall_seconds'] / 60:.1f} |"
            )
    lines += [
        "",
        "![test accuracy](accuracy.png)",
        "",
        "What the numbers say, and what they cannot: [analysis.md](analysis.md).",
    ]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    plot(runs, setup["tasks"], out / "accuracy.png")


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _hidden_size(run: dict, workdir: str | Path) -> int | str:
    if run.get("hidden_size"):
        return run["hidden_size"]
    config = model_folder(run, workdir) / "config.json"
    return json.loads(config.read_text())["hidden_size"] if config.exists() else "?"


def plot(runs: dict, tasks, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        cells = [c for c in CELLS if f"{task}/{c}" in runs]
        values = [runs[f"{task}/{c}"]["test_accuracy"] for c in cells]
        colors = ["#444" if c == "teacher" else ("#999" if "finetune" in c else "#3a7") for c in cells]
        ax.bar(range(len(cells)), values, color=colors)
        ax.set_xticks(range(len(cells)), cells, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(min(values + [1.0]) - 0.1, 1.0)
        ax.set_title(f"{task} (test accuracy, seed {SEED})")
        for i, v in enumerate(values):
            ax.text(i, v + 0.003, f"{v:.3f}", ha="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/results/distillation")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "compactbert-distillation-study"))
    parser.add_argument("--quick", action="store_true", help="64 examples per split, into /tmp")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--max-train-samples", type=int, help="train every cell on the first N training examples")
    parser.add_argument("--learning-rate", type=float, help="one learning rate for every task")
    args = parser.parse_args(argv)
    overrides = {}
    if args.max_train_samples:
        overrides["max_train_samples"] = args.max_train_samples
    if args.learning_rate:
        overrides["learning_rate"] = args.learning_rate
    out = Path(tempfile.mkdtemp()) if args.quick else Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir + ("-quick" if args.quick else ""))
    results_file = out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results.setdefault("runs", {})
    command = "python " + " ".join(["scripts/distillation_study.py", *(argv if argv is not None else sys.argv[1:])])
    results["setup"] = {
        "training": TRAINING,
        "tasks": {t: TASKS[t] for t in args.tasks},
        "overrides": overrides,
        "cells": CELLS,
        "seed": SEED,
        "command": command,
        "workdir": str(workdir),  # what the runs' model_dir are relative to
        "load_average": {"start": _load_average(), "end": None},
        "bf16_autocast": native_bf16(),
    }

    def save():
        tmp = results_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=2))
        tmp.replace(results_file)

    limit = 64 if args.quick else None
    for task in args.tasks:
        for cell in args.cells:
            key = f"{task}/{cell}"
            if key in results["runs"] and model_folder(results["runs"][key], workdir).exists():
                continue
            print(f"--- {key}", file=sys.stderr, flush=True)
            results["runs"][key] = run_cell(task, cell, workdir, limit, overrides)
            print(json.dumps({k: results["runs"][key][k] for k in ("test_accuracy", "wall_seconds")}), flush=True)
            save()
    results["setup"]["load_average"]["end"] = _load_average()
    task = args.tasks[-1]
    timed = {"teacher": "teacher", "3-layer student": "distil3-kd", "TinyBert-4": "tinybert4"}
    runs = results["runs"]
    dirs = {name: model_folder(runs[f"{task}/{c}"], workdir) for name, c in timed.items() if f"{task}/{c}" in runs}
    dirs = {name: str(d) for name, d in dirs.items() if d.exists()}
    if "teacher" in dirs and len(dirs) > 1:
        from compactbert.data import load_task

        texts = load_task(task, seed=42).dataset["test"]["text"][:32]
        results["speed"] = inference_times(dirs, texts) | {"task": task}
    save()
    summarize(results, out)
    print(f"wrote {out}/results.json, results.md, accuracy.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
