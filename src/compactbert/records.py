"""metrics.json: the record a training run (finetune, distill, pretrain), a zoo build or `evaluate --write` keeps
beside its model: what the model was trained and scored on, and how. Reading and writing it, and where the task it
records is found from here; `export.texts.recorded_task` loads that task."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .data_files import file_builder

METRICS_FILE = "metrics.json"


def read_metrics(folder: Path) -> dict:
    """The folder's metrics.json as a dict ({} when there is none or it is not a JSON object)."""
    path = Path(folder) / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return metrics if isinstance(metrics, dict) else {}


def write_metrics(folder: str | os.PathLike, metrics: dict) -> Path:
    """Write `metrics` as the folder's metrics.json (values JSON does not know, as their strings); its path."""
    path = Path(folder) / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")
    return path


def locate_recorded_task(task: str, folder: Path) -> tuple[str, list[Path]]:
    """Where a recorded task is read from: `(spec, matches)`.

    A relative data-file path that does not exist from the current folder is looked for under each ancestor of the
    model `folder`; `spec` is the one match when there is exactly one, else `task` unchanged (`matches` lists what
    was found: none, or several that it would be a guess to choose between). Anything else is returned as it is.
    """
    path = Path(task)
    if path.is_absolute() or file_builder(path) is None or path.exists():  # not a data file `load_task` reads
        return task, []
    matches = [parent / path for parent in Path(folder).resolve().parents if (parent / path).is_file()]
    return (os.fspath(matches[0]) if len(matches) == 1 else task), matches


# what an export keeps of its PyTorch folder's metrics.json (`source_record` in export.json), so that it can be
# evaluated on the same texts with the same gate when it is copied away from that folder
TASK_RECORD_KEYS = ("task", "split_seed", "test", "quality_gate")


def task_record(metrics: dict) -> dict:
    """The part of a run's metrics.json that says what it was scored on and how: its task, split seed, data settings
    (columns, `max_length`, `max_eval_samples`), test scores and quality-gate thresholds; {} without a task."""
    if not metrics.get("task"):
        return {}
    record = {key: metrics[key] for key in TASK_RECORD_KEYS if key in metrics}
    data = (metrics.get("recipe") or {}).get("data")
    return record | ({"recipe": {"data": data}} if isinstance(data, dict) else {})


def same_recorded_task(a: str, a_folder: Path, b: str, b_folder: Path) -> bool:
    """Whether two runs' recorded tasks name the same data: the same string, a built-in set however it is written
    (`bbc-news`, `builtin:bbc-news`), or the same data file, each found from its run's folder (`locate_recorded_task`)."""
    from .io import same_path

    def plain(task: str) -> str:
        return task.removeprefix("builtin:")

    if plain(a) == plain(b):
        return True
    return same_path(locate_recorded_task(a, a_folder)[0], locate_recorded_task(b, b_folder)[0])
