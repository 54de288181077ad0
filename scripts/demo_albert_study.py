"""How the default demo zoo should train its Albert-SOP: variants of its recipe, on the built zoo's own teacher.

The demo builds its Albert-SOP (`compactbert.demo.zoo.STUDENT_FAMILIES["albert_sop"]`: converted from the fine-tuned
teacher, E = 128, one shared layer, then one epoch of training at the zoo's learning rate) within the first-build
budget, so it cannot afford the zoo recipe's two distillation stages of two epochs (configs/albert-sop-small-bbc-news.yaml).
Each variant here changes only how much it trains on, at what batch, and with which loss:

- `texts`: the first 1,024 training texts (what the other families of the demo use) or all 1,784;
- `batch`: 32 (the zoo's), 16 or 8: the same data in more, smaller optimizer steps;
- `loss`: the labels alone, or the teacher's soft targets (temperature 2) and the labels.

Every run is the demo build's own call (`_student_recipe`, then `distill`) with the seed given, from the teacher of a
default zoo built with `compactbert demo --build-only`; retention is against that teacher's test accuracy.

    python scripts/demo_albert_study.py --zoo ~/.cache/compactbert/demo/zoo-minilm-bbc-news-<key>
    python scripts/demo_albert_study.py --zoo <zoo> --variants b16 --seeds 0     # one more run

Results go to docs/results/demo_albert/: results.json (saved after every run; a study resumes while the models of
its runs are in --workdir), results.md and accuracy.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from distillation_study import recorded_model_dir
from pruning_study import StudyResults, plot
from study_report import seeds_summary

SEEDS = (0, 1, 2)
FEW, ALL = 1024, None  # training texts: the demo's other families' share of bbc-news' 1,784, or all of them
LABELS = {"alpha_ce": 0.0, "alpha_label": 1.0}
SOFT = {"alpha_ce": 1.0, "alpha_label": 1.0, "temperature": 2.0}
# name -> (training texts, batch, loss)
VARIANTS = {
    "1024-b32-labels": (FEW, 32, LABELS),
    "1024-b16-labels": (FEW, 16, LABELS),
    "1024-b8-labels": (FEW, 8, LABELS),
    "all-b32-labels": (ALL, 32, LABELS),
    "all-b16-labels": (ALL, 16, LABELS),
    "1024-b32-soft": (FEW, 32, SOFT),
    "1024-b16-soft": (FEW, 16, SOFT),
    "all-b32-soft": (ALL, 32, SOFT),
}


def zoo_settings(zoo: Path, seed: int, limit: int | None = None):
    """The build settings the zoo records (`build.settings` in its zoo.json), with this run's seed; `limit` caps the
    texts per split further (a smoke run)."""
    from compactbert.demo.zoo import BuildSettings

    recorded = json.loads((zoo / "zoo.json").read_text())["build"]["settings"]
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()} | {"seed": seed}
    if limit:
        fields |= {
            "max_train_samples": min(limit, fields.get("max_train_samples") or limit),
            "max_eval_samples": min(limit, fields.get("max_eval_samples") or limit),
        }
    return BuildSettings(**fields)


def recipe(zoo: Path, variant: str, output_dir: Path, settings) -> dict:
    """The build's recipe for its Albert-SOP (`settings`: the zoo's, `zoo_settings`) with the variant's texts, batch
    and loss; never more texts than the settings allow."""
    from compactbert.demo.zoo import STUDENT_FAMILIES, _student_recipe

    texts, batch, loss = VARIANTS[variant]
    fields = _student_recipe(settings, output_dir, STUDENT_FAMILIES["albert_sop"], zoo)
    fields.pop("max_train_samples", None)
    cap = settings.max_train_samples
    texts = min(texts or cap, cap) if cap else texts
    return fields | {"per_device_train_batch_size": batch} | loss | ({"max_train_samples": texts} if texts else {})


def run(zoo: Path, variant: str, seed: int, workdir: Path, teacher_accuracy: float, limit: int | None) -> dict:
    from compactbert.data import load_task
    from compactbert.distillation.recipe import distill, parse_distill_recipe

    output_dir = workdir / f"albert-{variant}-s{seed}"
    fields = recipe(zoo, variant, output_dir, zoo_settings(zoo, seed, limit))
    train = load_task(fields["task"], seed=fields["split_seed"])[0]["train"]
    started = time.perf_counter()
    metrics = distill(*parse_distill_recipe(None, fields))
    return {
        "task": fields["task"],
        "cell": variant,
        "seed": seed,
        "training_texts": min(fields.get("max_train_samples") or len(train), len(train)),
        "batch_size": fields["per_device_train_batch_size"],
        "loss": "soft targets + labels" if fields["alpha_ce"] else "labels",
        "test_accuracy": metrics["test"]["accuracy"],
        "wall_seconds": round(time.perf_counter() - started, 1),
        "model_dir": recorded_model_dir(output_dir, workdir),
        "teacher_accuracy": teacher_accuracy,
    }


def summarize(data: dict, out: Path) -> None:
    setup, runs = data["setup"], data["runs"]
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in runs.values():
        rows.setdefault((r["task"], r["cell"]), []).append(r)
    order = list(VARIANTS).index
    tasks = sorted({task for task, _ in rows})
    lines = [
        "# The demo zoo's Albert-SOP: how much training its first-build budget buys",
        "",
        f"Reproduce: `{setup['command']}` (this file was made by: "
        + "; ".join(f"`{c}`" for c in setup["invocations"])
        + f"). Machine: {setup['machine']}. Every run: the default demo zoo's Albert-SOP (converted from the zoo's "
        f"fine-tuned MiniLM-L6 teacher, E = 128, one shared layer), one epoch at learning rate 3e-4, max_length 128, "
        f"the zoo's teacher at {data['teacher_accuracy'] * 100:.1f}% test accuracy on {', '.join(tasks)}' test split.",
        "",
        "| variant | training texts | batch | loss | test accuracy % (seeds) | retention | lowest seed's retention | "
        "seconds (median) |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for (_, cell), group in sorted(rows.items(), key=lambda kv: order(kv[0][1])):
        first, summary = group[0], seeds_summary(group)
        deviation = "" if summary["stdev"] is None else f" ± {summary['stdev'] * 100:.1f}"
        lines.append(
            f"| {cell} | {first['training_texts']:,} | {first['batch_size']} | {first['loss']} | "
            f"{summary['mean'] * 100:.1f}{deviation} ({', '.join(f'{a * 100:.1f}' for a in summary['accuracies'])}) | "
            f"{summary['retention']:.1%} | {summary['lowest_retention']:.1%} | {summary['median_seconds']:.0f} |"
        )
    lines += ["", "![test accuracy per variant](accuracy.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    figure = plot(rows, tasks, out / "accuracy.png", order=lambda c: order(c), color=lambda c: "C0")
    floor_plot(figure, out / "accuracy.png", data["teacher_accuracy"])


def floor_plot(figure, path: Path, teacher: float) -> None:
    """Add the teacher's accuracy and publish's 95% floor (`hub.gate.DEFAULT_MIN_RETENTION`) to the study's plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from compactbert.hub.gate import DEFAULT_MIN_RETENTION

    axes = figure.axes[0]
    axes.axhline(teacher, color="C2", linestyle="-", linewidth=1, label=f"the teacher ({teacher * 100:.1f}%)")
    floor = DEFAULT_MIN_RETENTION * teacher
    axes.axhline(
        floor,
        color="C3",
        linestyle="--",
        linewidth=1,
        label=f"publish's floor: {DEFAULT_MIN_RETENTION:.0%} of it ({floor * 100:.1f}%)",
    )
    axes.legend(loc="lower right", fontsize=8)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", type=Path, required=True, help="a default demo zoo (compactbert demo --build-only)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "compactbert-demo-albert-study")
    parser.add_argument("--out", type=Path, default=Path("docs/results/demo_albert"))
    parser.add_argument("--limit", type=int, help="at most this many texts per split (a smoke run)")
    args = parser.parse_args(argv)
    zoo_json = args.zoo / "zoo.json"
    if not zoo_json.is_file():
        parser.error(
            f"{args.zoo} holds no zoo.json: give a default demo zoo (built by `compactbert demo --build-only`)"
        )
    zoo = json.loads(zoo_json.read_text())
    if not any(e.get("family") == "albert_sop" for e in zoo["entries"]):
        parser.error(f"{args.zoo} has no Albert-SOP entry: give a demo zoo built with its `albert_sop` family")
    teacher_accuracy = zoo["teacher"]["metrics"]["test_accuracy"]
    args.out.mkdir(parents=True, exist_ok=True)
    results = StudyResults(args.out, "scripts/demo_albert_study.py", argv, args.workdir, args.limit)
    results.setup["command"] = "python scripts/demo_albert_study.py --zoo <a default demo zoo>"
    results.data["teacher_accuracy"] = teacher_accuracy
    for variant in args.variants:
        for seed in args.seeds:
            results.once(
                f"{variant}@{seed}",
                lambda v=variant, s=seed: run(args.zoo, v, s, args.workdir, teacher_accuracy, args.limit),
            )
    results.save()
    summarize(results.data, args.out)
    print(f"wrote {args.out}/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
