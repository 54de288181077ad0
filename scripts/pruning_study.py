"""Pruned students: TinyBERT-4-shaped students cut out of the fine-tuned MiniLM-L6 teacher, then trained.

Per task (bbc-news, rotten-tomatoes) and seed (0, 1, 2), every cell with the same budget (1 epoch per stage,
batch 32, max_length 128, warm-up 10%, weight decay 0.01, bf16 autocast where the CPU has native bf16 units):

- random-stages:  TinyBERT-4 from random init, TinyBERT's task stages (intermediate, then prediction), lr 1e-3
                  (the distillation study's `tinybert4-nogeneral`: the same stages as pruned-stages, another start)
- pruned-labels:  TinyBERT-4 pruned from the teacher (`student_init: pruned`), fine-tuned on the labels alone
- pruned-kd:      the same start, logit distillation alone (Minitron's choice after width pruning: KL*T^2, T=2)
- pruned-kd-labels: the same start, soft targets + labels (DistilBERT's prediction loss)
- pruned-stages:  the same start, TinyBERT's intermediate stage (embeddings, hidden states, attention) then prediction

The teacher is MiniLM-L6 fine-tuned on the task (seed 0, the distillation study's recipe). Pruned cells train at
the teacher's fine-tuning learning rate (3e-4 bbc-news, 1e-4 rotten-tomatoes): they start from trained weights.
`--layer-choices` adds pruned-labels cells (seed 0) with other kept layers, and the teacher and every student are
timed side by side at the end (interleaved, after warm-up, one process).

    python scripts/pruning_study.py                       # the committed study
    python scripts/pruning_study.py --quick               # a smoke run on 64 examples into /tmp (or --out)

Results go to docs/results/pruning/: results.json (saved after every cell, so an interrupted study resumes),
results.md and accuracy.png. Each run's `model_dir` is recorded relative to the workdir (`setup.workdir` says which
one it was), so the results name no machine's folders and a moved workdir resumes with `--workdir`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from distillation_study import SOURCE, TASKS, _load_average, inference_times, model_folder, recorded_model_dir
from distillation_study import TRAINING as DISTILLATION_TRAINING
from study_report import study_cells

from compactbert.distillation.recipe import distill, parse_distill_recipe
from compactbert.finetune import finetune, parse_recipe
from compactbert.hardware import machine_description, native_bf16

SEEDS = (0, 1, 2)
# the distillation study's teacher, tasks and budget (so its teacher folders are reused), every seed, resumable
TRAINING = {k: v for k, v in DISTILLATION_TRAINING.items() if k != "seed"} | {"overwrite": True}
TINYBERT4 = {"tiny_bert_layers": 4, "tiny_bert_hidden_size": 312, "tiny_bert_intermediate_size": 1200}
PREDICTION = {"stage": "prediction", "alpha_ce": 1.0, "alpha_label": 1.0, "temperature": 2.0}
INTERMEDIATE = {"stages": ["intermediate", "prediction"], "alpha_embed": 1.0, "alpha_hidden": 1.0, "alpha_attn": 1.0}
PRUNED = {"student_init": "pruned"} | TINYBERT4
CELLS = {
    "random-stages": {"student_init": "tiny-bert", "learning_rate": 1e-3} | TINYBERT4 | PREDICTION | INTERMEDIATE,
    "pruned-labels": PRUNED | PREDICTION | {"alpha_ce": 0.0},
    "pruned-kd": PRUNED | PREDICTION | {"alpha_label": 0.0},
    "pruned-kd-labels": PRUNED | PREDICTION,
    # each student layer learns from the teacher layer it was cut from
    "pruned-stages": PRUNED | PREDICTION | INTERMEDIATE | {"layer_map": "kept"},
}
# Which 4 of the teacher's 6 layers the pruned student keeps (seed 0, pruned-labels): the default (even-alternate:
# 0, 1, 2, 4), then these strategies of the layer-drop registry.
LAYER_CHOICES = {"top": "top", "symmetric": "symmetric", "contribution": "contribution"}
# The accuracy-vs-latency frontier (`--frontier`, seed 0): students of several shapes cut out of the teacher
# (layers, hidden, FFN, heads), trained like `--frontier-cell`. Full width with fewer layers is layer dropping alone.
FRONTIER = {
    "depth 5x384": (5, 384, 1536, 12),
    "depth 4x384": (4, 384, 1536, 12),
    "depth 3x384": (3, 384, 1536, 12),
    "depth 2x384": (2, 384, 1536, 12),
    "depth 1x384": (1, 384, 1536, 12),
    "width 6x192": (6, 192, 768, 12),
    "width 4x312": (4, 312, 1200, 12),
    "width 3x312": (3, 312, 1200, 12),
    "width 4x192": (4, 192, 768, 12),
    "width 2x312": (2, 312, 1200, 12),
    "width 2x192": (2, 192, 768, 12),
}
# recipe fields that train without bf16 autocast (both studies' `--fp32`)
NO_BF16 = {"bf16_auto": False, "bf16": False}
# `--fp32`: cells trained without bf16 autocast (seed 0), for their minutes on a CPU without bf16 units
FP32 = {"label": "fp32"} | NO_BF16
# `--augment-mlm`: TinyBERT's data augmentation (the paper's N, p, K) of the training split, then the two-stage cell
# on it with the same budget as every cell: as many optimizer steps per stage as one epoch of the original split
AUGMENT = {"n": 20, "p": 0.4, "k": 15, "seed": 42}
AUGMENTED_CELL = "pruned-stages"


def teacher_dir(workdir: Path, task: str) -> Path:
    return workdir / task / "teacher" / "model"


def train_teacher(task: str, workdir: Path, limit: int | None) -> dict:
    fields = {"model": SOURCE, "task": task, "output_dir": str(workdir / task / "teacher"), "seed": 0}
    fields |= TRAINING | TASKS[task]
    if limit:
        fields |= {"max_train_samples": limit, "max_eval_samples": limit}
    saved = teacher_dir(workdir, task) / "metrics.json"
    if saved.exists():  # the same recipe as the distillation study's teacher: reuse it when its workdir is shared
        metrics = json.loads(saved.read_text())
        return _row(task, "teacher", 0, metrics, fields["output_dir"], workdir, metrics["train"]["train_runtime"])
    started = time.perf_counter()
    metrics = finetune(*parse_recipe(None, fields))
    return _row(task, "teacher", 0, metrics, fields["output_dir"], workdir, time.perf_counter() - started)


def ensure_teacher(runs: dict, task: str, key: str, workdir: Path, limit: int | None) -> bool:
    """Train the task's teacher into `workdir` unless a recorded teacher run's folder is there. A teacher recorded
    on another machine whose folder is gone is trained again with the same recipe and seed and kept as another run
    (`<key>@run<n>`): the table's teacher accuracy is the mean of its runs, and the cells trained from each are kept.
    Returns whether it trained one."""
    recorded = [k for k, r in runs.items() if r["task"] == task and r["cell"] == "teacher"]
    if any(model_folder(runs[k], workdir).exists() for k in recorded):
        return False
    print(f"--- {task}/teacher", file=sys.stderr, flush=True)
    runs[key if not recorded else f"{key}@run{len(recorded) + 1}"] = train_teacher(task, workdir, limit)
    return True


def run_cell(task: str, cell: str, seed: int, workdir: Path, limit: int | None, extra: dict | None = None) -> dict:
    name = cell if extra is None else f"{cell}@{extra['label']}"
    fields = {"task": task, "output_dir": str(workdir / task / f"{name}-s{seed}"), "seed": seed}
    fields |= {"teacher": str(teacher_dir(workdir, task))} | TRAINING | TASKS[task] | CELLS[cell]
    if extra is not None:
        fields |= {k: v for k, v in extra.items() if k != "label"}
    if limit:  # --quick: pruning calibrates on as few training texts as it trains on
        fields |= {"max_train_samples": limit, "max_eval_samples": limit, "prune_calibration_size": limit}
    started = time.perf_counter()
    metrics = distill(*parse_distill_recipe(None, fields))
    row = _row(task, name, seed, metrics, fields["output_dir"], workdir, time.perf_counter() - started)
    return row | {"teacher_accuracy": teacher_accuracy(workdir, task)}


def augmented_task(task: str, mlm: str, workdir: Path, setup: dict, limit: int | None) -> tuple[Path, int]:
    """The task with its training split (its first `limit` examples with --quick) augmented by `mlm` (made once into
    `workdir`, its time kept in `setup`), and the optimizer steps of one epoch of the original split (the cell's
    budget per stage)."""
    from compactbert.distillation.augment import AugmentSettings, augment_task

    folder = workdir / task / "augmented"
    if not folder.exists():
        print(f"--- {task}/augmenting", file=sys.stderr, flush=True)
        started = time.perf_counter()
        settings = AugmentSettings(**AUGMENT, bf16=native_bf16())
        augment_task(task, mlm, folder, settings=settings, max_examples=limit, cache_dir=workdir / "augment-cache")
        seconds = time.perf_counter() - started
        setup.setdefault("augmentation", {})[task] = json.loads((folder / "augment.json").read_text()) | {
            "seconds": seconds
        }
    examples = json.loads((folder / "augment.json").read_text())["examples"]  # the original examples it augmented
    return folder, -(-examples // TRAINING["per_device_train_batch_size"])


def teacher_accuracy(workdir: Path, task: str) -> float:
    """The test accuracy of the teacher in `workdir` (the one a cell is trained from: retention is against it)."""
    return json.loads((teacher_dir(workdir, task) / "metrics.json").read_text())["test"]["accuracy"]


def _row(task: str, cell: str, seed: int, metrics: dict, output_dir: str, workdir: Path, seconds: float) -> dict:
    config = json.loads((Path(output_dir) / "model" / "config.json").read_text())
    stages = metrics.get("train_stages")
    return {
        "task": task,
        "cell": cell,
        "seed": seed,
        "test_accuracy": metrics["test"]["accuracy"],
        "test_macro_f1": metrics["test"]["macro_f1"],
        "validation_accuracy": metrics["validation"]["accuracy"],
        "num_parameters": metrics["num_parameters"],
        "num_hidden_layers": config["num_hidden_layers"],
        "hidden_size": config["hidden_size"],
        "intermediate_size": config["intermediate_size"],
        "kept_layers": (config.get("pruning") or {}).get("kept_layers", metrics.get("kept_layers")),
        "losses": metrics.get("losses", {"label": 1.0}),
        "stages": [h["stage"] for h in stages] if stages else None,
        "wall_seconds": seconds,
        "model_dir": recorded_model_dir(output_dir, workdir),
    }


def summarize(results: dict, out: Path) -> None:
    runs, setup = results["runs"], results["setup"]
    rows: dict[tuple[str, str], list[dict]] = {}
    for run in runs.values():
        rows.setdefault((run["task"], run["cell"]), []).append(run)
    speed = results.get("speed") or {}
    precision = "bf16 autocast" if setup.get("bf16_autocast") else "fp32 (no native bf16 units here)"
    lines = [
        "# Pruned students: TinyBERT-4 shapes cut out of the fine-tuned MiniLM-L6 teacher",
        "",
        f"Reproduce: `{setup['command']}` (this file was made by: "
        + "; ".join(f"`{c}`" for c in setup.get("invocations", []))
        + f"). Seeds {', '.join(map(str, setup['seeds']))}; split seed 42; the full test "
        "split of each task. Machine: " + setup["machine"] + ".",
        f"Budget of every cell: 1 epoch per stage, batch 32, max_length 128, length-grouped batches, warm-up 10%, weight "
        f"decay 0.01, {precision}; learning rate: the teacher's (3e-4 bbc-news, 1e-4 rotten-tomatoes), 1e-3 for the "
        f"randomly initialised student; training examples: {setup.get('limit') or 'all'}.",
        "Accuracy: mean ± standard deviation over the seeds (min–max). Retention = the mean / the mean test accuracy of the teachers its runs were trained from. "
        "Minutes: mean wall time of a cell (pruning, every stage, evaluation). Speed: the teacher's median forward time "
        "/ the model's, one batch of 32 test texts, interleaved after warm-up in one process "
        f"({speed.get('batch', {}).get('dtype', '-')}). Load average at start {setup['load_average']['start']}, at end "
        f"{setup['load_average']['end']}.",
        "",
        "| task | cell | shape | kept layers | parameters | test accuracy | retention | seeds | minutes | speed vs teacher |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for task, cell, group, mean, spread, retention, _teacher in study_cells(rows, setup["tasks"], _order):
        r = group[0]
        shape = f"{r['num_hidden_layers']} × {r['hidden_size']} × {r['intermediate_size']}"
        ratio = speed.get("speedup_vs_teacher", {}).get(shape)
        lines.append(
            f"| {task} | {cell} | {shape} | {r['kept_layers'] or '-'} | {r['num_parameters'] / 1e6:.1f}M "
            f"| {mean * 100:.1f}{spread} | {retention} | {len(group)} "
            f"| {statistics.fmean(x['wall_seconds'] for x in group) / 60:.1f} "
            f"| {'1.00x' if cell == 'teacher' else ('-' if ratio is None else f'{ratio:.2f}x')} |"
        )
    lines += ["", "![test accuracy](accuracy.png)", ""]
    if speed and any("@depth-" in c or "@width-" in c for _, c in rows):
        lines += [
            "## Accuracy against latency",
            "",
            "Every shape's student (seed 0) against the teacher's and its own median forward time in the run above. "
            "`depth` rows keep the teacher's width and drop layers (layer dropping alone); `width` rows also prune "
            "hidden channels, heads' dimensions and FFN neurons.",
            "",
            "![accuracy against latency](frontier.png)",
            "",
        ]
        frontier_plot(rows, speed, out / "frontier.png")
    (out / "results.md").write_text("\n".join(lines))
    plot(rows, setup["tasks"], out / "accuracy.png")


def _order(cell: str) -> tuple[int, str]:
    names = ["teacher", *CELLS]
    base = cell.split("@")[0]
    return (names.index(base) if base in names else len(names), cell)


def _color(cell: str) -> str:
    return "#444" if cell == "teacher" else ("#c55" if cell.startswith("random") else "#3a7")


def plot(rows: dict, tasks, path: Path, order=_order, color=_color):
    """Bars of each cell's mean test accuracy with its seeds as dots, one panel per task (cells sorted by `order`);
    returns the figure, saved to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tasks), figsize=(6.5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        cells = sorted((c for t, c in rows if t == task), key=order)
        for i, cell in enumerate(cells):
            accs = [r["test_accuracy"] for r in rows[(task, cell)]]
            ax.bar(i, statistics.fmean(accs), color=color(cell))
            ax.scatter([i] * len(accs), accs, color="black", s=8, zorder=3)
            ax.text(i, statistics.fmean(accs) + 0.004, f"{statistics.fmean(accs) * 100:.1f}", ha="center", fontsize=7)
        ax.set_xticks(range(len(cells)), cells, rotation=30, ha="right", fontsize=8)
        if cells:
            low = min(r["test_accuracy"] for c in cells for r in rows[(task, c)])
            ax.set_ylim(max(0.0, low - 0.05), 1.0)
        ax.set_title(f"{task}: test accuracy (bars: mean, dots: seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return fig


def frontier_plot(rows: dict, speed: dict, path: Path) -> None:
    """Test accuracy against the median forward time of each shape (one batch of 32, the timed run), with the
    frontier: the students no faster student beats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task = speed["task"]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    series = {"depth": ("layer dropping (full width)", "#c55", "s"), "width": ("width + depth pruning", "#3a7", "o")}
    points = []
    for (t, cell), group in rows.items():
        r = group[0]
        shape = f"{r['num_hidden_layers']} × {r['hidden_size']} × {r['intermediate_size']}"
        kind = cell.split("@", 1)[1].split("-", 1)[0] if "@" in cell else None
        if t == task and shape in speed and kind in series:
            label = f"{r['num_hidden_layers']} × {r['hidden_size']}"
            points.append((speed[shape]["median_ms"], r["test_accuracy"], label, kind))
    for kind, (label, color, marker) in series.items():
        mine = [p for p in points if p[3] == kind]
        ax.scatter([p[0] for p in mine], [p[1] for p in mine], color=color, marker=marker, label=label, zorder=3)
        for x, y, name, _ in mine:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, -3), fontsize=7)
    best, frontier = -1.0, []
    for x, y, _, _ in sorted(points):  # faster first: a student is on the frontier if no faster one is as accurate
        if y > best:
            best = y
            frontier.append((x, y))
    if frontier:
        ax.step(
            [p[0] for p in frontier], [p[1] for p in frontier], where="post", color="#888", linestyle="--",
            linewidth=1, label="the best student at each latency", zorder=2,
        )  # fmt: skip
    teacher = rows.get((task, "teacher"))
    if teacher and "teacher" in speed:
        accuracy = statistics.fmean(r["test_accuracy"] for r in teacher)  # the mean of its training runs
        ax.scatter([speed["teacher"]["median_ms"]], [accuracy], color="#444", marker="*", s=120, zorder=3)
        ax.annotate(
            "teacher 6 × 384",
            (speed["teacher"]["median_ms"], accuracy),
            fontsize=7,
            textcoords="offset points",
            xytext=(-40, 6),
        )
    ax.set_xlabel(f"median forward time, batch of 32 ({speed.get('batch', {}).get('dtype', '')}), ms")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{task}: students cut out of the fine-tuned teacher, labels only, seed 0")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


class StudyResults:
    """A study's results.json, which resumes: the runs it holds are kept, and a run is made again only when its model
    folder is not in the work folder. `setup` records the machine, the work folder, the training-set limit and every
    command line that added to the file; written atomically after each run."""

    def __init__(self, out: Path, script: str, argv, workdir: Path, limit: int | None):
        self.file, self.workdir = out / "results.json", workdir
        self.data = json.loads(self.file.read_text()) if self.file.exists() else {}
        self.runs = self.data.setdefault("runs", {})
        self.setup = self.data.setdefault("setup", {})
        command = "python " + shlex.join([script, *(argv if argv is not None else sys.argv[1:])])
        self.setup |= {
            "command": f"python {script}",
            "invocations": [*self.setup.get("invocations", []), command],  # the runs that made this file
            "workdir": str(workdir),  # what the runs' model_dir are relative to
            "limit": limit,
            "machine": machine_description(),
            "bf16_autocast": native_bf16(),
        }
        loads = self.setup.setdefault("load_average", {})
        loads["start"] = loads.get("start") or _load_average()

    def save(self) -> None:
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2))
        tmp.replace(self.file)

    def once(self, key: str, make) -> None:
        """`make()` the run `key` unless it is recorded and its model folder is here; then save."""
        if key in self.runs and model_folder(self.runs[key], self.workdir).exists():
            return
        print(f"--- {key}", file=sys.stderr, flush=True)
        self.runs[key] = make()
        print(json.dumps({key: self.runs[key]["test_accuracy"], "s": self.runs[key]["wall_seconds"]}))
        self.save()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", help="where results go (default: docs/results/pruning; with --quick a new temp folder)"
    )
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "compactbert-pruning-study"))
    parser.add_argument(
        "--quick", action="store_true", help="64 examples per split (and for calibration), into /tmp unless --out"
    )
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--cells", nargs="*", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--layer-choices", action="store_true", help="also pruned-labels with other kept layers")
    parser.add_argument("--frontier", nargs="+", choices=list(FRONTIER), help="students of these shapes (seed 0)")
    parser.add_argument("--frontier-cell", default="pruned-labels", choices=list(CELLS))
    parser.add_argument("--frontier-tasks", nargs="+", default=["rotten-tomatoes"], choices=list(TASKS))
    parser.add_argument("--fp32", nargs="+", default=[], choices=list(CELLS), help="also these cells in fp32 (seed 0)")
    parser.add_argument(
        "--augment-mlm",
        help=f"a masked LM folder: also {AUGMENTED_CELL} on the training split augmented with it (--seeds, --tasks)",
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the side-by-side timing")
    args = parser.parse_args(argv)
    out = Path(args.out or (tempfile.mkdtemp() if args.quick else "docs/results/pruning"))
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir + ("-quick" if args.quick else ""))
    limit = 64 if args.quick else None
    study = StudyResults(out, "scripts/pruning_study.py", argv, workdir, limit)
    results, setup = study.data, study.setup
    setup |= {
        "training": TRAINING,
        "tasks": sorted(set(setup.get("tasks", [])) | set(args.tasks)),
        "seeds": sorted(set(setup.get("seeds", [])) | set(args.seeds)),
        "cells": CELLS,
    }
    save, once = study.save, study.once

    for task in args.tasks:
        if ensure_teacher(results["runs"], task, f"{task}/teacher", workdir, limit):
            save()
    for seed in args.seeds:
        for task in args.tasks:
            for cell in args.cells:
                once(f"{task}/{cell}/s{seed}", lambda t=task, c=cell, s=seed: run_cell(t, c, s, workdir, limit))
    for task in args.tasks:
        for cell in args.fp32:
            once(f"{task}/{cell}@fp32/s0", lambda t=task, c=cell: run_cell(t, c, 0, workdir, limit, FP32))
    for task in args.tasks if args.augment_mlm else []:
        folder, steps = augmented_task(task, args.augment_mlm, workdir, setup, limit)
        save()
        extra = {"label": "augmented", "task": str(folder), "max_steps": steps}
        for seed in args.seeds:
            once(
                f"{task}/{AUGMENTED_CELL}@augmented/s{seed}",
                lambda t=task, s=seed, e=extra: run_cell(t, AUGMENTED_CELL, s, workdir, limit, e),
            )
    if args.layer_choices:
        for task in args.tasks:
            for label, layers in LAYER_CHOICES.items():
                extra = {"label": label, "prune_layers": layers}
                once(
                    f"{task}/pruned-labels@{label}/s0",
                    lambda t=task, e=extra: run_cell(t, "pruned-labels", 0, workdir, limit, e),
                )
    for task in args.frontier_tasks if args.frontier else []:
        for label in args.frontier:
            layers, hidden, ffn, heads = FRONTIER[label]
            extra = {
                "label": label.replace(" ", "-"),
                "tiny_bert_layers": layers,
                "tiny_bert_hidden_size": hidden,
                "tiny_bert_intermediate_size": ffn,
                "tiny_bert_heads": heads,
            }
            once(
                f"{task}/{args.frontier_cell}@{extra['label']}/s0",
                lambda t=task, e=extra: run_cell(t, args.frontier_cell, 0, workdir, limit, e),
            )
    setup["load_average"]["end"] = _load_average()
    if not args.no_speed:
        results["speed"] = time_shapes(results["runs"], args.tasks[-1], workdir)
    save()
    summarize(results, out)
    print(f"wrote {out}/results.json, results.md, accuracy.png")
    return 0


def time_shapes(runs: dict, task: str, workdir: Path) -> dict:
    """The teacher and one model of every student shape (their folders under `workdir`), side by side on 32 test
    texts of `task`."""
    from compactbert.data import load_task

    dirs = {}
    for run in runs.values():
        shape = f"{run['num_hidden_layers']} × {run['hidden_size']} × {run['intermediate_size']}"
        name = "teacher" if run["cell"] == "teacher" else shape
        if run["task"] == task and model_folder(run, workdir).exists():
            dirs.setdefault(name, str(model_folder(run, workdir)))
    texts = load_task(task, seed=42).dataset["test"]["text"][:32]
    return inference_times(dirs, texts) | {"task": task}


if __name__ == "__main__":
    sys.exit(main())
