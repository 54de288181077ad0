"""The pruning study's generated tables (docs/pruning.md): every cell, the accuracy-vs-latency frontier and the
kept-layer choices (see doc_figures.py; the other tables are in doc_tables.py)."""

from __future__ import annotations

import statistics

from doc_results import (
    PRUNING,
    _source_line,
    pct,
    run_retention,
    study_cells,
    study_mean,
    study_retention,
    study_teacher,
    table_start,
)

PRUNING_CELLS = {
    "teacher": ("MiniLM-L6 fine-tuned (the teacher)", "labels"),
    "random-stages": ("TinyBERT-4 shape, random init", "intermediate → prediction (lr 1e-3)"),
    "pruned-labels": ("TinyBERT-4 shape pruned from the teacher", "labels only"),
    "pruned-kd": ("the same pruned start", "soft targets only (logit distillation)"),
    "pruned-kd-labels": ("the same pruned start", "soft targets + labels"),
    "pruned-stages": ("the same pruned start", "intermediate → prediction"),
    "pruned-stages@fp32": ("the same pruned start", "intermediate → prediction, fp32 (no bf16 autocast)"),
    "pruned-stages@augmented": ("the same pruned start", "intermediate → prediction on augmented texts"),
}


def table_pruning(page: str) -> list[str]:
    """The pruning study: every cell of both tasks, mean over its seeds, retention against the teacher."""
    data = PRUNING.data
    columns = ["task", "student", "training", "shape (layers × hidden × FFN)", "parameters", "test accuracy % (seeds)"]
    columns += ["retention", "minutes"]
    lines = table_start(page, PRUNING, f" ({data['setup']['machine']})", columns, "llllrrrr")
    for task in data["setup"]["tasks"]:
        cells = study_cells(PRUNING, task)
        for cell, (student, training) in PRUNING_CELLS.items():
            if cell not in cells:
                continue
            runs, mean = cells[cell], study_mean(PRUNING, task, cell)
            accs = ", ".join(pct(r["test_accuracy"]) for r in sorted(runs, key=lambda r: r["seed"]))
            r = runs[0]
            lines.append(
                f"| {task} | {student} | {training} | {r['num_hidden_layers']} × {r['hidden_size']} × "
                f"{r['intermediate_size']} | {r['num_parameters'] / 1e6:.1f}M | {pct(mean)} ({accs}) | "
                f"{study_retention(PRUNING, task, cell) * 100:.1f}% | "
                f"{statistics.fmean(x['wall_seconds'] for x in runs) / 60:.1f} |"
            )
    return lines


FRONTIER_KINDS = {"depth": "layer dropping alone (full width)", "width": "width + depth pruning"}


def table_pruning_frontier(page: str) -> list[str]:
    """The accuracy-vs-latency frontier: every `--frontier` shape (seed 0, labels after pruning) and the teacher, by
    their median forward time in the study's side-by-side timing; the fastest student within each accuracy."""
    data, speed = PRUNING.data, PRUNING.data["speed"]
    task = speed["task"]
    cells = study_cells(PRUNING, task)
    frontier = [runs[0] for cell, runs in cells.items() if cell.split("@")[-1].split("-")[0] in FRONTIER_KINDS]
    teacher = study_teacher(PRUNING, task, f"pruned-labels@{frontier[0]['cell'].split('@')[1]}")  # they came from
    lines = [_source_line(page, PRUNING, f" ({data['setup']['machine']})"), ""]
    lines += [
        f"`{task}`, seed 0; latency: one batch of {speed['batch']['texts']} test texts, {speed['batch']['dtype']}"
        ", all models interleaved in one process.",
        "",
        "| student (layers × hidden × FFN) | how | parameters | test accuracy % | retention | median ms | speed vs teacher |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| 6 × 384 × 1536 (the teacher they were cut out of) | - | {cells['teacher'][0]['num_parameters'] / 1e6:.1f}M | "
        f"{pct(teacher)} | "
        f"100.0% | {speed['teacher']['median_ms']:.0f} | 1.00x |",
    ]
    rows = []
    for cell, runs in cells.items():
        kind = cell.split("@", 1)[1].split("-", 1)[0] if "@" in cell else None
        if kind not in FRONTIER_KINDS:
            continue
        r = runs[0]
        shape = f"{r['num_hidden_layers']} × {r['hidden_size']} × {r['intermediate_size']}"
        rows.append((speed[shape]["median_ms"], shape, kind, r))
    for ms, shape, kind, r in sorted(rows, key=lambda row: -row[0]):
        lines.append(
            f"| {shape} | {FRONTIER_KINDS[kind]} | {r['num_parameters'] / 1e6:.1f}M | {pct(r['test_accuracy'])} | "
            f"{run_retention(PRUNING, r) * 100:.1f}% | {ms:.0f} | {speed['speedup_vs_teacher'][shape]:.2f}x |"
        )
    return lines


def table_pruning_layers(page: str) -> list[str]:
    """Which teacher layers the pruned TinyBERT-4 keeps: each `--layer-choices` strategy, seed 0, labels after
    pruning, against the default's seed 0."""
    data = PRUNING.data
    columns = ["task", "kept layers (strategy)", "test accuracy %, seed 0", "retention"]
    lines = table_start(page, PRUNING, f" ({data['setup']['machine']})", columns, "llrr")
    for task in data["setup"]["tasks"]:
        cells = study_cells(PRUNING, task)
        for cell, runs in cells.items():
            base, _, label = cell.partition("@")
            if base != "pruned-labels" or (label and label.split("-", 1)[0] in FRONTIER_KINDS):
                continue
            if not any(c.startswith("pruned-labels@") and c.split("@")[1] in LAYER_CHOICES for c in cells):
                continue
            (r,) = [x for x in runs if x["seed"] == 0]
            lines.append(
                f"| {task} | {r['kept_layers']} ({label or 'even-alternate, the default'}) | "
                f"{pct(r['test_accuracy'])} | {run_retention(PRUNING, r) * 100:.1f}% |"
            )
    return lines


LAYER_CHOICES = ("top", "symmetric", "contribution")
