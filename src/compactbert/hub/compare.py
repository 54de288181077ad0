"""The build's comparison of a built model with its source: latency timed side by side, and the plot of both."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .gate import recorded_accuracy

if TYPE_CHECKING:
    from .build import ZooRecipe

PLOT = "accuracy_latency.png"


def measure_latency(model_dir: Path, source: str | os.PathLike, recipe: ZooRecipe) -> dict:
    """Time the built model and its source side by side (interleaved, after warm-up) on test texts.

    With a baseline, both are sequence classifiers; without one, the source has no head, so both are timed as
    encoders (`task="base"`) to compare like with like.
    """
    import torch

    from ..data import load_task
    from ..hardware import machine_description
    from ..inference import load_for_inference, time_side_by_side

    settings = recipe.latency
    task = "sequence-classification" if recipe.baseline else "base"
    with _encoder_load_report_off(task == "base"):
        model = load_for_inference(model_dir, task=task, dtype=settings.dtype, backend=settings.backend)
        # the source on the model's runtime (what `auto` chose for the model): the ratio compares models, not runtimes
        models = {
            "model": model,
            "source": load_for_inference(source, task=task, dtype=settings.dtype, backend=model.backend),
        }
    columns = {k: v for k, v in recipe.training.items() if k in ("text_column", "label_column") and v is not None}
    split_seed = recipe.training.get("split_seed", 42)
    texts = list(load_task(recipe.task, seed=split_seed, **columns)[0]["test"]["text"][: settings.batch_size])
    runners = {name: m.runner(texts, settings.max_length) for name, m in models.items()}
    timings = time_side_by_side(runners, repeats=settings.repeats, warmup=settings.warmup)
    device = models["model"].device
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"a {machine_description()}"
    return {
        **{name: timing.as_dict() for name, timing in timings.items()},
        "batch_size": len(texts),
        "max_length": settings.max_length,
        "repeats": settings.repeats,
        "warmup": settings.warmup,
        "dtype": str(models["model"].dtype).removeprefix("torch."),
        "runtime": models["model"].backend,
        "threads": torch.get_num_threads(),
        "device": where,
        "heads": task,
    }


@contextmanager
def _encoder_load_report_off(encoder: bool):
    """Timing a classifier as its bare encoder leaves its head unused on purpose, and what the weights hold does not
    change the time: transformers' load report, which would list that head as `UNEXPECTED`, is left out there."""
    if not encoder:
        yield
        return
    from ..checkpoints import load_report_off

    with load_report_off():
        yield


def plot_comparison(name: str, metrics: dict, source: dict, latency: dict, path: Path) -> None:
    """Two panels: test accuracy, and latency (median with min–max), of the built model next to its source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [name, source["name"].rsplit("/", 1)[-1]]
    fig, (acc_ax, lat_ax) = plt.subplots(1, 2, figsize=(8, 3.2))
    accuracy = [recorded_accuracy(metrics), source.get("accuracy")]  # None: not evaluated (built with --force)
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
