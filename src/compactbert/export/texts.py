"""The texts an export is verified and calibrated on: a split of the model's own task, or built-in texts.

The task is the one `data=` names (`compactbert export --data`), else the one the model folder's metrics.json
records, read with the columns and split seed of its recipe. A recorded task that is a relative file path
(`out/reviews.csv`, as the user typed it when training) is read from the current folder; where it is not there, it is
looked for under the model folder's ancestors, and used only when exactly one of them has it (never a guess between
two). A task that cannot be loaded falls back to built-in texts, and `TaskTexts.not_loaded` says why, so the caller
can say how to name the data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..records import locate_recorded_task, read_metrics

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
