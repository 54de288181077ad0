"""`evaluate_model` (`compactbert evaluate`): a classifier's accuracy on a task's split, against the majority class,
its teacher on the same texts and the quality gate, for any model `load_for_inference` opens (a model folder, an
exported ONNX / OpenVINO folder, a built-in name or a Hub id) with any backend.

What to score it on comes from the model's own `metrics.json` when it has one (an exported folder reads the one of
the PyTorch folder it was made from; a model shrunk, pruned or converted from a fine-tuned classifier and not trained
since, that classifier's): its task (a relative data file is looked for as the export does), its columns, split seed,
`max_length` and `max_eval_samples`, so the figures are comparable with those its run recorded; every one can be
given instead. The teacher is the one given, else the one a distillation recorded, else the classifier the model was
made from, when its folder is here; it is scored on the same texts, so the share the model keeps is measured, not
looked up. `record_evaluation` writes the figures as the `metrics.json` of a folder that has none.

The model's labels are matched to the task's by name (in any order and case); unnamed labels (`LABEL_0`, ...) are
taken in the task's order when there are as many. A model of other labels is refused with what differs. `split="all"`
scores every row of data held out from training (`load_task(..., whole=True)`: nothing carved out), which may hold
some of the model's labels, not all; it refuses the task the model was trained on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

EVAL_CHUNK = 512  # texts scored per step of the progress bar


@dataclass
class Scores:
    """Accuracy and macro-F1 of a model on the evaluated texts."""

    accuracy: float
    macro_f1: float


@dataclass
class Evaluation:
    """What `evaluate_model` measured.

    Attributes:
        model (`str`): the model as it was named. `backend` / `dtype`: what it ran with; `quantized`: `"int8"` for an
            int8 model (`dtype` is then what its other operations compute in).
        task, split, seed (`str`, `str`, `int`): the data (`seed` is None for the unsplit `split="all"`); `where` says
            it in words, `texts` how many.
        scores ([`Scores`]): the model's accuracy and macro-F1 on those texts.
        majority_label, majority_accuracy: the split's most common label and the accuracy of always predicting it.
        teacher (`str`, *optional*), teacher_scores ([`Scores`], *optional*), kept (`float`, *optional*): the teacher
            scored on the same texts, and the model's accuracy as a share of the teacher's; `teacher_role` says what
            it is: `"teacher"` (given, or recorded by a distillation) or `"source"` (the fine-tuned classifier the
            model was shrunk, pruned or converted from).
        recorded (`float`, *optional*): the accuracy the model's metrics.json records for the same texts.
        speed (`dict`, *optional*): with `time_batches`, the model and its teacher timed side by side on these texts
            (`timed_against_teacher`: per batch size, each one's median / min / max ms and the paired speedup).
        settings (`dict`): the columns, `max_length` and `max_eval_samples` it was scored with.
        gate (`dict`): the quality gate's verdict on these figures (`passed`, `required_accuracy`, `failures`, and
            `summary`, in words), with the thresholds the model's build recorded; off the test split, `passed` is
            None (the gate judges the test split).
    """

    model: str
    backend: str
    dtype: str
    task: str
    split: str
    seed: int | None
    where: str
    texts: int
    scores: Scores
    majority_label: Any
    majority_accuracy: float
    gate: dict[str, Any]
    quantized: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    teacher: str | None = None
    teacher_role: str | None = None
    teacher_scores: Scores | None = None
    kept: float | None = None
    recorded: float | None = None
    speed: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _recorded_metrics(model) -> tuple[dict, Path | None, str]:
    """The metrics.json of `model` (of the PyTorch folder an export was made from), the folder holding it, and, when
    there is none, why (for the message that asks for `--task`)."""
    from .export.backends import exported_folder
    from .export.runtime import read_export_info
    from .export.verdict import find_source
    from .records import read_metrics

    path = Path(os.path.expanduser(os.fspath(model)))
    if not path.is_dir():
        return {}, None, "it has no metrics.json"
    export = exported_folder(path)
    if export is not None:
        info = read_export_info(export) or {}
        source = find_source(export, info)
        if source is None and info.get("source_record"):  # copied away from it: what export.json kept of its record
            return dict(info["source_record"]), export, "its export.json records no task"
        if source is None:
            return (
                {},
                None,
                (
                    f"the PyTorch folder it was exported from ({info.get('source')}, named in its export.json), whose "
                    "metrics.json records the task, is not found from here"
                ),
            )
        return read_metrics(source), source, "the PyTorch folder it was exported from has no metrics.json"
    return read_metrics(path), path, "it has no metrics.json with a task"


def _is_classifier(folder: Path) -> bool:
    from .checkpoints import read_config_json

    return any(
        str(a).endswith("ForSequenceClassification") for a in read_config_json(folder).get("architectures") or []
    )


def source_folder(folder: Path) -> Path | None:
    """The local folder a shrunk, pruned or converted model was made from (its config's `source_model` or
    `pruned_from`), when it is on this machine and is not the folder itself."""
    from .checkpoints import read_config_json
    from .hub.public import recorded_model_folder

    config = read_config_json(folder)
    for key in ("source_model", "pruned_from"):
        found = recorded_model_folder(config.get(key), folder)
        if found is not None:
            return found
    return None


def recorded_ancestor(folder: Path) -> Path | None:
    """The nearest folder up the chain `folder` was shrunk, pruned or converted from (`source_folder`, one step at a
    time: a model pruned from a pruned model) whose metrics.json records a task; None when none on this machine
    does."""
    from .records import read_metrics

    seen, found = {folder.resolve()}, source_folder(folder)
    while found is not None and found.resolve() not in seen:
        if read_metrics(found).get("task"):
            return found
        seen.add(found.resolve())
        found = source_folder(found)
    return None


def require_classifier(folder: Path, name) -> None:
    """Refuse a folder that holds no trained classification head (an encoder would get a random one on load); read
    from its config.json, before anything is loaded."""
    from .checkpoints import read_config_json
    from .hub.public import RUN_MODEL_FOLDER

    if not (folder / "config.json").is_file():
        if (folder / RUN_MODEL_FOLDER / "config.json").is_file():  # a run's output_dir, not its model
            raise ValueError(
                f"{name} is the folder of a run, not a model folder: its model is {folder / RUN_MODEL_FOLDER}"
            )
        return  # loading it says what is wrong
    architectures = read_config_json(folder).get("architectures") or []
    if not _is_classifier(folder):
        raise ValueError(
            f"{name} holds no trained classification head (its config names {', '.join(architectures) or 'none'}): "
            "fine-tune it on the task first (`compactbert finetune`) and give the model folder that run writes"
        )


def evaluate_model(
    model: str | os.PathLike,
    task: str | os.PathLike | None = None,
    *,
    split: str = "test",
    text_column: str | None = None,
    text_pair_column: str | None = None,
    label_column: str | None = None,
    split_seed: int | None = None,
    max_eval_samples: int | None = None,
    max_length: int | None = None,
    teacher: str | os.PathLike | None = None,
    backend: str | None = None,
    dtype: str = "auto",
    batch_size: int = 64,
    progress: bool = True,
    time_batches: Sequence[int] | None = None,
    time_repeats: int = 7,
) -> Evaluation:
    """Score a classifier on `split` of `task` (default: the task its metrics.json records, or that of the classifier
    it was shrunk from), against the majority class, its teacher on the same texts (`teacher`, default: the one its
    distillation recorded, else the classifier it was shrunk, pruned or converted from, when that folder is here) and
    the quality gate. See the module docstring for where each setting comes from. With `time_batches` (e.g.
    `[1, 32]`), the model and its teacher are also timed side by side on the split's first texts at each batch size
    (`Evaluation.speed`).

    Raises:
        `ValueError`: no task given or recorded, an unknown split, a model of other labels, bad sizes.
    """
    from tqdm.auto import tqdm

    from .checkpoints import check_max_length, read_config_json, resolve_model_folder
    from .data import first_rows, load_task
    from .data.labels import label_order, onto_model_labels
    from .data.tasks import WHOLE, builtin_name
    from .export.auto import dtype_name
    from .finetune import classification_metrics
    from .hub.gate import majority_class
    from .hub.public import recorded_model_folder
    from .inference import load_for_inference
    from .io import relative_path, same_path
    from .records import locate_recorded_task, read_metrics

    sizes = (("max_eval_samples", max_eval_samples), ("max_length", max_length), ("batch_size", batch_size))
    sizes += (("time_repeats", time_repeats), *(("a time batch", b) for b in time_batches or ()))
    for name, value in sizes:
        if value is not None and value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    folder = resolve_model_folder(model)  # a mistyped folder is said as such
    require_classifier(folder, model)
    teacher_folder = None
    if teacher is not None:  # refused before anything is scored
        teacher_folder = resolve_model_folder(teacher)
        require_classifier(teacher_folder, teacher)
    metrics, metrics_folder, why = _recorded_metrics(folder)
    source = source_folder(metrics_folder or folder)  # what it was shrunk / pruned / converted from, when here
    record, record_folder = metrics, metrics_folder  # where the task and its settings are read
    ancestor = recorded_ancestor(metrics_folder or folder) if not metrics.get("task") else None
    if ancestor is not None:
        # a shrunk classifier: the task of the fine-tuned model it was cut from, and its reference
        record, record_folder, source = read_metrics(ancestor), ancestor, ancestor
    recipe = (record.get("recipe") or {}).get("data") or {}
    recorded_task = record.get("task")
    if task is None and not recorded_task:
        raise ValueError(
            f"{model} records no task ({why}): name the data to evaluate on with --task (task= from Python: a "
            "built-in set such as bbc-news, a CSV / JSON Lines / Parquet file, or a Hub dataset id)"
        )
    recorded_spec = None
    if recorded_task:
        recorded_spec = locate_recorded_task(recorded_task, record_folder)[0] if record_folder else recorded_task
    task = os.fspath(task) if task is not None else recorded_task
    named = bool(recorded_task) and (same_path(task, recorded_task) or same_path(task, recorded_spec))
    # one built-in set however written (`builtin:bbc-news`, `bbc-news:/path`): the same task, read from where given
    builtin = builtin_name(task) if recorded_task else None
    same_task = named or (builtin is not None and builtin == builtin_name(recorded_task))
    spec = recorded_spec if named else task
    given = {"text_column": text_column, "text_pair_column": text_pair_column, "label_column": label_column}
    columns = {k: v for k, v in given.items() if v is not None}
    if same_task:
        columns = {k: recipe[k] for k in given if recipe.get(k)} | columns
    seed = split_seed if split_seed is not None else (record.get("split_seed", 42) if same_task else 42)
    max_length = max_length or recipe.get("max_length")  # given, or what the run used: refused when too long
    config = read_config_json(folder)
    check_max_length(max_length, config, model)
    max_length = max_length or min(128, config.get("max_position_embeddings") or 128)
    recorded_limit = recipe.get("max_eval_samples") if same_task else None
    limit = max_eval_samples or recorded_limit
    whole = split == WHOLE
    if whole and split_seed is not None:
        raise ValueError(
            f"--split {WHOLE} scores every row as it is, unsplit: a split seed ({split_seed}) means nothing there; "
            "leave it out, or score a split of the task (--split test / validation / train)"
        )
    if whole and same_task:
        raise ValueError(
            f"{model} was trained on part of {task!r}, so scoring all of it mixes in texts it learned from; score its "
            "test split (--split test), or give data held out from training (--task FILE) to score all of"
        )

    try:
        loaded_task = load_task(spec, seed=seed, whole=whole, **columns)
    except (OSError, ValueError) as err:
        if task != recorded_task or task is None:
            raise
        raise ValueError(
            f"the task {task!r} that {model}'s run records could not be loaded from here ({err}); name the "
            "data to evaluate on with --task"
        ) from err
    if split not in loaded_task.dataset:
        raise ValueError(
            f"task {task!r} has no {split!r} split; it has {', '.join(loaded_task.dataset)} (or '{WHOLE}': every row "
            "of data held out from training)"
        )
    rows = first_rows(loaded_task.dataset[split], limit)
    texts = list(rows["text"])
    pairs = list(rows["text_pair"]) if "text_pair" in rows.column_names else None
    labels = np.asarray(rows["label"])
    names = loaded_task.label_names

    def score(loaded, what: str) -> Scores:
        order = label_order(loaded.label_names, names, task)
        probabilities = []
        bar = tqdm(total=len(texts), desc=f"scoring {what}", unit="text", disable=not progress)
        for start in range(0, len(texts), EVAL_CHUNK):
            chunk = slice(start, start + EVAL_CHUNK)
            probabilities.append(
                loaded.predict_proba(
                    texts[chunk], max_length, batch_size, text_pairs=None if pairs is None else pairs[chunk]
                )
            )
            bar.update(len(texts[chunk]))
        bar.close()
        by_task_label = np.zeros((len(texts), len(names)), dtype=np.float32)
        by_task_label[:, order] = np.concatenate(probabilities)
        return Scores(**classification_metrics((by_task_label, labels)))

    # backend None: an exported folder runs with its runtime (a failed one too: it warns), a PyTorch one on torch
    loaded = load_for_inference(model, backend=backend, dtype=dtype)
    if whole:  # held-out rows may hold some of the model's labels: they are scored in the model's label space
        labels, names = onto_model_labels(labels, names, loaded.label_names, task), list(loaded.label_names)
    scores = score(loaded, "the model")
    majority_label, majority_accuracy = majority_class(labels.tolist(), names)

    teacher_name, role = (os.fspath(teacher), "teacher") if teacher is not None else (None, None)
    if teacher_name is None and metrics.get("teacher") and metrics_folder is not None:
        found = recorded_model_folder(metrics["teacher"], metrics_folder)  # here, never fetched
        if found is not None:
            teacher_folder, teacher_name, role = found, relative_path(found, Path.cwd()), "teacher"
    if teacher_folder is None and source is not None and _is_classifier(source):
        teacher_folder, teacher_name, role = (
            source,
            relative_path(source, Path.cwd()),
            "source",
        )  # shrunk from a fine-tuned classifier
    teacher_scores = kept = None
    if teacher_folder is not None:
        teacher_model = load_for_inference(teacher_folder, dtype=dtype)  # an export: its own runtime
        try:
            teacher_scores = score(teacher_model, f"the {role}")
        except ValueError:
            if teacher is not None:
                raise
            teacher_name = role = None  # a source of other labels: not the model's reference
        if teacher_scores is not None and teacher_scores.accuracy:
            kept = scores.accuracy / teacher_scores.accuracy
    speed = None
    if time_batches:
        against = teacher_model if teacher_scores is not None else None
        speed = timed_against_teacher(loaded, against, texts, pairs, time_batches, max_length, time_repeats, progress)

    recorded = None
    full = rows.num_rows == min(
        recorded_limit or loaded_task.dataset[split].num_rows, loaded_task.dataset[split].num_rows
    )
    own = record is metrics  # the model's own record, not its source's
    if own and same_task and seed == metrics.get("split_seed", 42) and full:  # the texts its run scored
        recorded = (metrics.get(split) or {}).get("accuracy")
    gate = _gate(scores, majority_label, majority_accuracy, metrics if own and same_task else {}, split)
    return Evaluation(
        model=os.fspath(model),
        backend=loaded.backend,
        dtype=dtype_name(loaded.dtype),
        quantized=loaded.quantized,
        task=task,
        split=split,
        seed=None if whole else seed,
        where=(
            f"{'all' if full else 'the first'} {len(texts)} texts of {task}"
            if whole
            else f"{len(texts)} texts of the {split} split of {task} (seed {seed})"
        ),
        texts=len(texts),
        scores=scores,
        majority_label=majority_label,
        majority_accuracy=majority_accuracy,
        gate=gate,
        settings={**columns, "max_length": max_length, "max_eval_samples": limit},
        teacher=teacher_name,
        teacher_role=role,
        teacher_scores=teacher_scores,
        kept=kept,
        recorded=recorded,
        speed=speed,
    )


def timed_against_teacher(
    loaded, teacher, texts, pairs, batches: Sequence[int], max_length: int, repeats: int, progress: bool = False
) -> dict[str, Any]:
    """The model (and its teacher, when there is one) timed side by side on `texts` at each batch size: medians,
    min-max and the speedup paired per round (`paired_ratio`), with what ran them and on which CPU."""
    import torch

    from .export.auto import dtype_name
    from .hardware import machine_description
    from .inference import time_models
    from .timing import paired_ratio

    models = {"model": loaded} | ({"teacher": teacher} if teacher is not None else {})
    rows = []
    for batch, timings in zip(batches, time_models(models, texts, batches, max_length, pairs, repeats, progress=progress),
                              strict=True):  # fmt: skip
        row = {"batch": batch} | {name: _spread(t) for name, t in timings.items()}
        if teacher is not None:
            row["speedup"] = paired_ratio(timings["teacher"].samples_ms, timings["model"].samples_ms)
        rows.append(row)

    def ran(m) -> str:
        return f"{m.backend} ({m.quantized + ', the rest ' if m.quantized else ''}{dtype_name(m.dtype)})"

    return {
        "batches": rows,
        "repeats": repeats,
        "model_runs_on": ran(loaded),
        "teacher_runs_on": ran(teacher) if teacher is not None else None,
        "threads": torch.get_num_threads(),
        "machine": machine_description(),
    }


def _spread(timing) -> dict[str, float]:
    return {"median_ms": timing.median_ms, "min_ms": timing.min_ms, "max_ms": timing.max_ms}


def check_writable(folder: str | os.PathLike) -> Path:
    """The folder `record_evaluation` would write into, or a `ValueError` saying why it would not: a folder that
    records its own run (its figures stay), an exported folder (its PyTorch folder is the one published), no folder."""
    path = Path(os.path.expanduser(os.fspath(folder)))
    if not path.is_dir():
        raise ValueError(f"{path} is not a model folder on this machine: the evaluation is recorded in a local folder")
    if (path / "metrics.json").is_file():
        raise ValueError(
            f"{path} already has a metrics.json, the record of the run that trained it; it is kept as it is "
            "(evaluate without --write prints the figures again)"
        )
    if (path / "export.json").is_file():
        raise ValueError(f"{path} is an exported folder: record the evaluation of the PyTorch folder it was made from")
    return path


def record_evaluation(folder: str | os.PathLike, result: Evaluation) -> Path:
    """Write `result` as the `metrics.json` of a model folder that has none (a model shrunk, pruned or converted from
    a fine-tuned classifier and not trained since), so that `push` and `build`'s gate can judge it and its card
    shows it. Returns the file. Raises `ValueError` for a folder that records its own run (its figures stay), an
    exported folder (its PyTorch folder is the one published), or a split other than test."""
    from .io import write_json_atomically

    path = check_writable(folder)
    if result.split != "test":
        raise ValueError(f"only the test split is recorded (the quality gate judges it), not {result.split!r}")
    test = asdict(result.scores) | {
        "majority_label": result.majority_label,
        "majority_accuracy": result.majority_accuracy,
    }
    record = {
        "test": test,
        "task": result.task,
        "split_seed": result.seed,
        "recipe": {"data": {"task": result.task, "split_seed": result.seed, **result.settings}},
        "evaluated_by": "compactbert evaluate",
    }
    if result.teacher_scores is not None and result.teacher_role == "source":
        record["source_scores"] = {"test": asdict(result.teacher_scores)}
    return write_json_atomically(path / "metrics.json", record)


def _gate(scores: Scores, majority_label, majority_accuracy: float, metrics: dict, split: str) -> dict[str, Any]:
    """The quality gate of `build` and `push` on these figures, with the thresholds (and the reference accuracy of a
    `min_retention`) the model's build recorded, else the defaults. It judges the test split only."""
    from .hub.gate import check_quality, settings_from_record

    if split != "test":
        return {"passed": None, "summary": f"not applied: it judges the test split, not {split!r}"}
    settings, reference = settings_from_record(metrics)
    verdict = check_quality(
        scores.accuracy,
        majority_accuracy,
        majority_label=majority_label,
        min_margin_over_majority=settings.min_margin_over_majority,
        min_retention=settings.min_retention,
        reference_accuracy=None if reference is None else reference[0],
        reference=None if reference is None else reference[1],
    )
    return {
        "passed": verdict.passed,
        "required_accuracy": verdict.required_accuracy,
        "failures": list(verdict.failures),
        "summary": verdict.summary(),
    }


__all__ = [
    "Evaluation",
    "Scores",
    "check_writable",
    "evaluate_model",
    "record_evaluation",
    "source_folder",
]
