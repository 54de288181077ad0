"""The texts an export is verified and calibrated on: a split of the model's own task, or built-in texts.

The task is the one `data=` names (`compactbert export --data`), else the one the model folder's metrics.json
records, read with the columns and split seed of its recipe. A recorded task that is a relative file path
(`out/reviews.csv`, as the user typed it when training) is read from the current folder; where it is not there, it is
looked for under the model folder's ancestors, and used only when exactly one of them has it (never a guess between
two). A task that cannot be loaded falls back to built-in texts, and `TaskTexts.not_loaded` says why, so the caller
can say how to name the data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

from ..data_files import file_builder

SAMPLE_TEXTS = (
    "The central bank left interest rates unchanged on Thursday.",
    "A late goal gave the home side a narrow win in the cup final.",
    "The new phone has a faster chip, a brighter screen and a bigger battery.",
    "Ministers will publish the draft bill after the summer recess.",
    "The film is a slow, beautifully shot story about two brothers.",
    "Shares fell sharply after the company cut its profit forecast for the year.",
    "This was boring.",
    "Great!",
    "The band's third album mixes folk songs with electronic beats and was recorded in a single week.",
    "Engineers say the software update fixes the security flaw that let attackers read stored passwords.",
    "The opposition accused the government of ignoring the report's warnings about hospital waiting lists.",
    "She won her first grand slam title without dropping a set.",
    "not good, not bad",
    "Oil prices rose for a third day as supply worries grew.",
    "The sequel is louder, longer and less fun than the original.",
    "Researchers trained the model on a single machine in two days.",
)


class DataNotLoadedWarning(UserWarning):
    """An export was verified or calibrated on built-in texts because the model's task could not be loaded."""


class TaskTexts(NamedTuple):
    """Texts to run, where they came from, and (when they are built-in texts) why the task was not used."""

    texts: list[str]
    pairs: list[str] | None
    where: str
    not_loaded: str | None = None  # "the task 'out/reviews.csv' could not be loaded: ...", else None


def read_metrics(folder: Path) -> dict:
    """The folder's metrics.json as a dict ({} when there is none or it is not a JSON object)."""
    path = Path(folder) / "metrics.json"
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}
    return metrics if isinstance(metrics, dict) else {}


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
    from ..io import same_path

    def plain(task: str) -> str:
        return task.removeprefix("builtin:")

    if plain(a) == plain(b):
        return True
    return same_path(locate_recorded_task(a, a_folder)[0], locate_recorded_task(b, b_folder)[0])


class RecordedTask(NamedTuple):
    """The task a folder's metrics.json records, as `load_task` reads it from here."""

    task: str  # as recorded
    spec: str  # where it is read from here (a relative data file found above the folder: `locate_recorded_task`)
    columns: dict[str, str]  # the recipe's text / text pair / label columns
    seed: int  # the split seed
    matches: list[Path]  # the data files found above the folder (several: `spec` is left as recorded)

    def load(self):
        """The task (`compactbert.data.load_task`) with the recorded columns and split seed."""
        from ..data import load_task

        return load_task(self.spec, seed=self.seed, **self.columns)


def recorded_task(folder: Path, metrics: dict | None = None) -> RecordedTask | None:
    """The task the folder's metrics.json (or `metrics`) records, with its columns and split seed; None when none."""
    metrics = read_metrics(folder) if metrics is None else metrics
    task = metrics.get("task")
    if not task or not isinstance(task, str):
        return None
    spec, matches = locate_recorded_task(task, folder)
    recipe = (metrics.get("recipe") or {}).get("data") or {}
    columns = {k: recipe[k] for k in ("text_column", "text_pair_column", "label_column") if recipe.get(k)}
    return RecordedTask(task, spec, columns, int(metrics.get("split_seed", 42)), matches)


def task_texts(folder: Path, n: int, split: str, data: str | os.PathLike | None = None) -> TaskTexts:
    """Up to `n` texts of `split` of the task `data` names, else of the one the folder's metrics.json records (with
    its recipe's columns and split seed); else built-in texts (the sample texts for "test", BBC News articles for
    "train"). A `data` that cannot be loaded raises: it was named on purpose."""
    from ..data import first_rows, load_task

    metrics = read_metrics(folder)
    recorded = recorded_task(folder, metrics | ({"task": os.fspath(data)} if data is not None else {}))
    if data is not None:  # named on purpose: read as given (with the recorded columns and split seed)
        recorded = recorded._replace(spec=os.fspath(data), matches=[])
    task = recorded.task if recorded else None
    why, found = "no metrics.json names a task", ""
    if recorded:
        spec, matches, seed = recorded.spec, recorded.matches, recorded.seed
        if spec != task:
            found = f", found at {spec}"
        try:
            rows = load_task(spec, seed=seed, **recorded.columns).dataset[split]
        except Exception as err:
            if data is not None:
                raise ValueError(f"the data {task!r} could not be loaded: {type(err).__name__}: {err}") from err
            why = f"the task {task!r} could not be loaded: {type(err).__name__}: "
            why += str(err).splitlines()[0][:200] if str(err) else ""
            if len(matches) > 1:
                why += f" (and {len(matches)} ancestors of the model folder have it: {', '.join(map(str, matches))})"
        else:
            rows = first_rows(rows, n)
            pairs = list(rows["text_pair"]) if "text_pair" in rows.column_names else None
            where = f"the first {rows.num_rows} texts of the {split} split of {task}{found} (seed {seed})"
            return TaskTexts(list(rows["text"]), pairs, where)
    not_loaded = why if task else None
    if split == "train":
        from ..data.builtin import default_calibration_texts

        texts = default_calibration_texts(n)[:n]
        return TaskTexts(texts, None, f"{len(texts)} built-in BBC News articles ({why})", not_loaded)
    texts = list(SAMPLE_TEXTS[:n])
    return TaskTexts(texts, None, f"{len(texts)} built-in sample texts ({why})", not_loaded)
