"""Tables and the plot of the layer-drop study, from its results.json (see layer_drop_study.py)."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from compactbert import STRATEGIES


def chance_interval_points(pairs: int) -> float:
    """Half the 95% interval of a fair coin's accuracy on `pairs` examples, in points: what a binary task's held-out
    accuracy must clear to be above chance (50%)."""
    return 196 * (0.25 / pairs) ** 0.5


def sop_finetune_runs(cells: dict, objective: str, task: str) -> list[dict]:
    """The SOP vs NSP study's fine-tuning runs (cells `finetune/<objective>/<task>/seed<N>`) of one pretrained model
    on one task, in seed order (none when not run)."""
    prefix = f"finetune/{objective}/{task}/seed"
    return sorted((cell for name, cell in cells.items() if name.startswith(prefix)), key=lambda cell: cell["seed"])


def mean_and_deviation(accuracies: list[float]) -> str:
    """Accuracies over seeds as tables write them, in points: "75.6 ± 2.4" (mean ± standard deviation), one run's
    alone, "–" for none."""
    if len(accuracies) < 2:
        return f"{100 * accuracies[0]:.1f}" if accuracies else "–"
    return f"{100 * statistics.fmean(accuracies):.1f} ± {100 * statistics.stdev(accuracies):.1f}"


SOURCE_LAYERS = 6
STRATEGY_ORDER = list(STRATEGIES)  # the registry is the one list of strategies


def _cells(results: dict) -> dict:
    """(task, strategy, k) -> list of per-seed rows (fine-tuned), and the no-retraining accuracies."""
    tuned, frozen = {}, {}
    for name, row in results["runs"].items():
        if name.endswith("/no-retraining"):
            for r in row:
                frozen.setdefault((r["task"], r["strategy"], r["k"]), []).append(r["test_accuracy_no_retraining"])
        else:
            tuned.setdefault((row["task"], row["strategy"], row["k"]), []).append(row)
    return tuned, frozen


def _mean(values):
    return statistics.fmean(values) if values else float("nan")


def _spread(values) -> str:
    """ " ± standard deviation (min–max)" of accuracies in points, or "" for one value."""
    if len(values) < 2:
        return ""
    return f" ± {statistics.stdev(values) * 100:.1f} ({min(values) * 100:.1f}–{max(values) * 100:.1f})"


spread = _spread


def study_cells(rows: dict, tasks, order):
    """The rows of a study's table: per task, per cell sorted by `order(cell)`, `(task, cell, runs, mean test
    accuracy, its spread, retention text, teacher run or None)`; `rows` maps (task, cell) to the runs over seeds.
    Retention is against the teacher each run was trained from (`teacher_reference`)."""
    for task in tasks:
        teachers = rows.get((task, "teacher"), [])
        teacher = teachers[0] if teachers else None
        for (t, cell), group in sorted(rows.items(), key=lambda kv: order(kv[0][1])):
            if t != task:
                continue
            accs = [r["test_accuracy"] for r in group]
            mean = statistics.fmean(accs)
            reference = teacher_reference(group, teachers)
            retention = f"{mean / reference * 100:.1f}%" if reference else "-"
            yield task, cell, group, mean, _spread(accs), retention, teacher


def max_drop_within(tuned: dict, task: str, strategy: str, ks, base: float, points: float) -> int:
    """The largest K such that this K and every smaller tested K stay within `points` of the full model."""
    best = 0
    for k in sorted(ks):
        rows = tuned.get((task, strategy, k))
        if rows is None:
            continue
        if (base - _mean([r["test_accuracy"] for r in rows])) * 100 > points:
            break
        best = k
    return best


def write_report(results: dict, out: Path, ks, seeds) -> None:
    tuned, frozen = _cells(results)
    tasks = sorted({t for t, _, _ in tuned})
    latency = {int(k): v for k, v in results.get("latency", {}).items()}
    lines = ["# Poor Man's BERT on MiniLM-L6: layer dropping, then fine-tuning", ""]
    setup = results["setup"]
    lines += [
        f"Source: {setup['source']}. Reproduce: `{setup['command']}`.",
        f"Training: {setup['training']['num_train_epochs']} epoch, batch {setup['training']['per_device_train_batch_size']}, "
        f"max length {setup['training']['max_length']} (dynamic padding"
        f"{', length-grouped batches' if setup['training'].get('train_sampling_strategy') == 'group_by_length' else ''}), "
        f"{'bf16 autocast' if setup.get('bf16', 'autocast: True' in setup['machine']) else 'fp32'}, learning rate per task "
        + ", ".join(f"{t} {v['learning_rate']:g}" for t, v in setup["tasks"].items())
        + ". Same budget for every model. Splits: `compactbert.data.load_task(task, seed=42)` (80/10/10, stratified);"
        " accuracy on the held-out **test** split.",
        "Seeds: "
        + ", ".join(f"{t}: {len(s)}" for t, s in setup["seeds"].items())
        + " (mean ± sample std, min–max over seeds). Relative time: forward of a MiniLM-shaped encoder with that many"
        " layers vs all 6, batch 32 × 128 tokens, interleaved, median of 15 after warm-up, same process"
        f" ({next(iter(latency.values()))['dtype'] if latency else '?'}, {setup['machine']}).",
        "",
    ]
    header = "| strategy | K | kept (0-based) | params | rel. time |"
    rule = "|---|---:|---|---:|---:|"
    for task in tasks:
        header += f" {task} acc % | Δ full | {task} no retraining % |"
        rule += "---:|---:|---:|"
    lines += [header, rule]
    full = {t: [r["test_accuracy"] for r in tuned.get((t, "full", 0), [])] for t in tasks}
    rows = [("full", 0)] + [(s, k) for s in STRATEGY_ORDER for k in ks if (tasks[0], s, k) in tuned]
    for strategy, k in rows:
        some = next((tuned[(t, strategy, k)][0] for t in tasks if (t, strategy, k) in tuned), None)
        if some is None:
            continue
        kept = ", ".join(map(str, some["kept_layers"])) if strategy != "contribution" else "per task"
        rel = latency.get(SOURCE_LAYERS - k, {}).get("relative")
        rel_text = f"{rel:.2f}" if rel else "–"
        line = f"| {strategy} | {k or '–'} | {kept} | {some['num_parameters'] / 1e6:.1f}M | {rel_text} |"
        for task in tasks:
            accs = [r["test_accuracy"] for r in tuned.get((task, strategy, k), [])]
            delta = (_mean(accs) - _mean(full[task])) * 100 if accs and full[task] else float("nan")
            no_retrain = frozen.get((task, strategy, k), [])
            line += f" {_mean(accs) * 100:.1f}{_spread(accs)} | {delta:+.1f} |"
            line += f" {_mean(no_retrain) * 100:.1f} |" if no_retrain else " – |"
        lines.append(line)
    lines += ["", "## How many layers can be dropped (of 6) and stay within 1 / 2 / 3 points of the full model", ""]
    lines += ["| task | strategy | within 1 | within 2 | within 3 |", "|---|---|---:|---:|---:|"]
    for task in tasks:
        base = _mean(full[task])
        for strategy in STRATEGY_ORDER:
            row = f"| {task} | {strategy} |"
            for points in (1, 2, 3):
                row += f" {max_drop_within(tuned, task, strategy, ks, base, points)} |"
            lines.append(row)
    contribution = {t: sorted({tuple(r["kept_layers"]) for k in ks for r in tuned.get((t, "contribution", k), [])})
                    for t in tasks}  # fmt: skip
    lines += ["", "Contribution strategy, layers kept (0-based) per task: "
              + "; ".join(f"{t}: {', '.join(str(list(c)) for c in v)}" for t, v in contribution.items())]  # fmt: skip
    lines += [
        "",
        "![accuracy vs layers kept](accuracy_vs_layers.png)",
        "",
        "![latency vs layers](latency_vs_layers.png)",
    ]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    plot(tuned, frozen, tasks, ks, out / "accuracy_vs_layers.png")
    if latency:
        plot_latency(latency, out / "latency_vs_layers.png")


def plot(tuned, frozen, tasks, ks, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(tasks), figsize=(6 * len(tasks), 8), squeeze=False)
    for col, task in enumerate(tasks):
        full = [r["test_accuracy"] * 100 for r in tuned.get((task, "full", 0), [])]
        for row, (title, source) in enumerate(
            [("fine-tuned after dropping", tuned), ("dropped, not retrained", frozen)]
        ):
            ax = axes[row][col]
            for strategy in STRATEGY_ORDER:
                points = [
                    (SOURCE_LAYERS - k, source[(task, strategy, k)]) for k in ks if (task, strategy, k) in source
                ]
                if not points:
                    continue
                xs = [p[0] for p in points]
                values = [[(v["test_accuracy"] if isinstance(v, dict) else v) * 100 for v in p[1]] for p in points]
                means = [statistics.fmean(v) for v in values]
                errs = [statistics.stdev(v) if len(v) > 1 else 0 for v in values]
                ax.errorbar(xs, means, yerr=errs, marker="o", capsize=3, label=strategy)
            if full:
                ax.axhline(statistics.fmean(full), color="black", linestyle="--", label="full (6 layers)")
            ax.set_title(f"{task}: {title}")
            ax.set_xlabel("layers kept (of 6)")
            ax.set_ylabel("test accuracy (%)")
            ax.set_xticks(sorted({SOURCE_LAYERS - k for k in ks}))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latency(latency: dict[int, dict], path: Path) -> None:
    """Bar chart (from zero) of forward time per number of layers, with the min-max spread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = sorted(latency)
    medians = [latency[n]["median_ms"] for n in layers]
    low = [latency[n]["median_ms"] - latency[n]["min_ms"] for n in layers]
    high = [latency[n]["max_ms"] - latency[n]["median_ms"] for n in layers]
    first = latency[layers[0]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(layers, medians, yerr=[low, high], capsize=4, color="tab:blue")
    for n in layers:
        ax.text(n, latency[n]["max_ms"], f"{latency[n]['relative']:.2f}x", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("encoder layers (MiniLM-shaped, hidden 384)")
    ax.set_ylabel("forward time (ms), median, min-max")
    ax.set_title(f"batch {first['batch']} x {first['seq']} tokens, {first['dtype']}, CPU")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    """Re-render the tables and plots from a results.json: python scripts/study_report.py FOLDER."""
    folder = Path(sys.argv[1])
    data = json.loads((folder / "results.json").read_text())
    runs = [row for name, row in data["runs"].items() if not name.endswith("no-retraining")]
    write_report(data, folder, sorted({row["k"] for row in runs if row["k"]}), data["setup"]["seeds"])


if __name__ == "__main__":
    main()


def teacher_reference(runs: list[dict], teachers: list[dict]) -> float | None:
    """The mean accuracy of the teachers `runs` were trained from: each run's `teacher_accuracy` (recorded since
    2026-12-04, when a teacher was trained again), else the task's first teacher run; for the teacher's own row, the
    mean of its runs. None without a teacher."""
    if not teachers:
        return None
    if runs and runs[0]["cell"] == "teacher":
        return statistics.fmean(r["test_accuracy"] for r in teachers)
    return statistics.fmean(r.get("teacher_accuracy", teachers[0]["test_accuracy"]) for r in runs)


def seeds_summary(runs: list[dict]) -> dict:
    """One cell's runs over seeds, as the tables show them: accuracies in seed order, their mean and standard
    deviation, the mean and the lowest share of each run's own teacher (`teacher_accuracy`), the median seconds."""
    runs = sorted(runs, key=lambda r: r["seed"])
    accuracies = [r["test_accuracy"] for r in runs]
    kept = [r["test_accuracy"] / r["teacher_accuracy"] for r in runs]
    return {
        "accuracies": accuracies,
        "mean": statistics.fmean(accuracies),
        "stdev": statistics.stdev(accuracies) if len(accuracies) > 1 else None,
        "retention": statistics.fmean(kept),
        "lowest_retention": min(kept),
        "median_seconds": statistics.median(r["wall_seconds"] for r in runs),
    }
