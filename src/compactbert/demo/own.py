"""A zoo of one's own models (`compactbert demo --teacher DIR --model DIR ...`): a fine-tuned teacher and the compact
classifiers made from it, read from their folders, without building anything.

Each model is described from its records (config.json, metrics.json): how it was made (shrunk by a strategy, pruned,
distilled, converted to an Albert-SOP, or trained), its size and its test accuracy, shown with the share of the
teacher's it keeps when both were scored on the same texts. The page's example texts and the teacher's layer
contribution scores (what the `contribution` strategy drops by) come from the task the teacher's metrics.json records,
or from `task`; without one, the page has no examples and no `contribution` strategy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .manifest import CONVERTED, DISTILLED, MANIFEST, PRUNED, TEACHER, Zoo, ZooEntry

SHRUNK = "shrunk"  # entry kinds of one's own models, beside the default zoo's (a ShrunkBert dropped by a strategy)
TRAINED = "trained"  # a classifier fine-tuned on its task, with no other provenance recorded
CONTRIBUTION_TEXTS = 64  # training texts the teacher's layer contributions are scored on (as the default zoo's)
NUM_EXAMPLES = 12


def zoo_from_models(
    teacher: str | os.PathLike,
    models: Sequence[str | os.PathLike],
    task: str | os.PathLike | None = None,
    num_examples: int = NUM_EXAMPLES,
    log: Callable[[str], None] = print,
    text_column: str | None = None,
    label_column: str | None = None,
) -> Zoo:
    """The zoo of `teacher` (a fine-tuned classifier: a folder or a Hub id) and `models` (classifiers of its labels),
    for `create_demo` or `save_zoo`.

    `task` (a built-in set, a data file or a Hub dataset id; `text_column` / `label_column` name its columns) gives
    the example texts and the texts the teacher's layer contributions are scored on; default: the task the teacher's
    metrics.json records, with its columns and split seed (also when `task` names that one). A recorded task that
    cannot be loaded from here is left out with a note; a given one raises. `log` says what is left out and why.

    Raises:
        `ValueError`: no model, a folder that is not a classifier (or is an exported folder), a model given twice or
            as the teacher too, models whose labels are not the teacher's, a `task` that cannot be loaded or whose
            labels are not the teacher's.
    """
    from ..checkpoints import (
        label_names_of,
        parameter_count,
        read_config_json,
        resolve_model_folder,
    )
    from ..data.labels import label_order
    from ..hub.gate import other_test_texts
    from ..hub.public import local_name, public_path
    from ..records import read_metrics, same_recorded_task

    if not models:
        raise ValueError("give at least one model to compare with the teacher (--model DIR, as often as needed)")
    teacher_folder = _classifier(teacher, resolve_model_folder(teacher))
    teacher_config = read_config_json(teacher_folder)
    labels = label_names_of(teacher_config)
    teacher_metrics = read_metrics(teacher_folder)
    names: list[str] = []
    seen = {teacher_folder.resolve(): f"the teacher {teacher}"}

    def name_of(source) -> str:
        base = str(local_name(os.fspath(source))).replace("/", "-") or "model"
        name, n = base, 2
        while name in names:  # two runs of the same name in other folders
            name, n = f"{base}-{n}", n + 1
        names.append(name)
        return name

    teacher_name = name_of(teacher)
    entries = []
    for model in models:
        folder = _classifier(model, resolve_model_folder(model))
        if folder.resolve() in seen:
            raise ValueError(f"{model} is {seen[folder.resolve()]} already: give each model once")
        seen[folder.resolve()] = f"given as {model}"
        config = read_config_json(folder)
        theirs = label_names_of(config)
        if sorted(theirs) != sorted(labels):  # the page says whether both predict the same label, by its name
            raise ValueError(
                f"{model} predicts the labels {theirs}, the teacher {teacher} predicts {labels}: compare models of "
                "the teacher's task, with its label names"
            )
        metrics = read_metrics(folder)

        def same_task(task, teacher_task, folder=folder):
            return same_recorded_task(task, folder, teacher_task, teacher_folder)

        elsewhere = other_test_texts(metrics, teacher_metrics, same_task)
        entry = _entry(name_of(model), _source(model, folder), config, metrics, elsewhere, log)
        entries.append(replace(entry, num_parameters=parameter_count(folder)))

    columns = {k: v for k, v in (("text_column", text_column), ("label_column", label_column)) if v is not None}
    loaded, task_name, held_out = _task(task, columns, teacher, teacher_folder, teacher_metrics, log)
    examples, contributions = [], None
    if loaded is not None:
        # the match `evaluate` makes: by name, any case; unnamed labels in the task's order
        advice = "name the data the teacher was fine-tuned on (--task, with --text_column / --label_column)"
        label_order(labels, loaded.label_names, task_name, who="the teacher", advice=advice)
        examples, contributions = _from_task(loaded, teacher_folder, teacher_config, num_examples, log)
    teacher_entry = ZooEntry(
        name=teacher_name,
        source=_source(teacher, teacher_folder),
        family=str(teacher_config.get("model_type", "bert")),
        kind=TEACHER,
        description=f"{teacher_name}, fine-tuned on {public_path(teacher_metrics['task'])}"
        if teacher_metrics.get("task")
        else "",
        num_layers=teacher_config.get("num_hidden_layers"),
        num_parameters=parameter_count(teacher_folder),
        metrics=_test_accuracy(teacher_metrics),
    )
    shown = public_path(task_name)  # shown on the page: a data file by its name, not this machine's path
    build = {"made_by": "compactbert demo --teacher ... --model ..."}
    if examples and not held_out:
        build["examples"] = (
            f"Test texts of {shown} (split seed 42; not known to be held out from these models' training)"
        )
    return Zoo(
        root=Path.cwd(),
        task=shown,
        label_names=labels,
        teacher=teacher_entry,
        entries=entries,
        contributions=contributions,
        examples=examples,
        build=build,
    )


def _task(task, columns: dict, teacher, teacher_folder: Path, teacher_metrics: dict, log):
    """`(the loaded task or None, its name, whether its test split is the one the teacher's run held out)`: the task
    given (read with the recorded columns and split seed when it is the recorded one), else the recorded one."""
    from ..data import load_task
    from ..export.texts import recorded_task
    from ..records import same_recorded_task

    recorded = recorded_task(teacher_folder, teacher_metrics)
    if task is not None:
        spec = os.fspath(task)
        ours = recorded is not None and same_recorded_task(spec, Path.cwd(), recorded.task, teacher_folder)
        try:
            if ours:  # the teacher's own data, read as it read it
                return recorded._replace(columns=recorded.columns | columns).load(), recorded.task, True
            return load_task(spec, seed=42, **columns), spec, False
        except Exception as err:
            raise ValueError(f"the task {spec!r} could not be loaded: {type(err).__name__}: {err}") from err
    if recorded is None:
        log(f"{teacher} records no task: the page has no example texts and no `contribution` strategy (--task)")
        return None, "", False
    recorded = recorded._replace(columns=recorded.columns | columns)
    try:
        return recorded.load(), recorded.task, True
    except Exception as err:
        log(
            f"the task {recorded.task!r} that {teacher} records could not be loaded from here ({err}): the page has no "
            "example texts and no `contribution` strategy (--task names the data)"
        )
        return None, recorded.task, False


def save_zoo(zoo: Zoo, folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write `zoo` as `folder/zoo.json` (`compactbert demo --zoo FOLDER` serves it again, `compactbert publish FOLDER`
    publishes it), naming the model folders relative to it; written whole or not at all. A `zoo.json` already there
    (another zoo) is refused unless `overwrite`. Returns the file."""
    from ..io import write_json_atomically

    folder = check_zoo_folder(folder, overwrite)
    folder.mkdir(parents=True, exist_ok=True)

    def relative(entry: ZooEntry) -> ZooEntry:
        if not Path(entry.source).is_dir():
            return entry  # a Hub id
        return replace(entry, source=os.path.relpath(Path(entry.source).resolve(), folder.resolve()))

    moved = replace(zoo, root=folder, teacher=relative(zoo.teacher), entries=[relative(e) for e in zoo.entries])
    return write_json_atomically(folder / MANIFEST, moved.to_dict())


def check_zoo_folder(folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """`folder` as a place `save_zoo` can write `zoo.json` into (checked before anything is loaded): a folder, or a
    path whose nearest existing part is a folder, without a `zoo.json` unless `overwrite`; a `ValueError` otherwise."""
    from ..io import file_in_the_way

    folder = Path(folder)
    existing = file_in_the_way(folder)
    if existing is not None:
        what = "is a file" if existing == folder else f"is inside {existing}, which is a file"
        raise ValueError(f"{folder} {what}: give a folder to write {MANIFEST} into")
    if (folder / MANIFEST).exists() and not overwrite:
        raise ValueError(
            f"{folder / MANIFEST} already exists (another zoo): choose another folder, or pass --overwrite "
            "(overwrite=True) to replace it"
        )
    return folder


def _classifier(name, folder: Path) -> Path:
    """`folder`, refused unless it holds a trained classification head and is a PyTorch folder (not an export)."""
    from ..evaluation import require_classifier

    if (folder / "export.json").is_file():
        raise ValueError(
            f"{name} is an exported folder: give the PyTorch folder it was made from (the page's runtime choice runs "
            "it on OpenVINO or ONNX Runtime)"
        )
    require_classifier(folder, name)
    if not (folder / "config.json").is_file():
        raise ValueError(f"{name} holds no config.json: give a saved model folder (what a run writes in its model/)")
    return folder


def _source(name, folder: Path) -> str:
    """What the entry loads: a local folder as an absolute path, a Hub id as it is."""
    local = Path(os.path.expanduser(os.fspath(name)))
    return str(local.resolve()) if local.is_dir() else os.fspath(name)


def _test_accuracy(metrics: dict[str, Any]) -> dict[str, float]:
    """The test accuracy a run recorded, as a zoo entry's `metrics` ({} when none: `gate.recorded_accuracy`)."""
    from ..hub.gate import recorded_accuracy

    accuracy = recorded_accuracy(metrics)
    return {} if accuracy is None else {"test_accuracy": round(accuracy, 4)}


def _entry(name, source, config, metrics, elsewhere: str | None, log) -> ZooEntry:
    """One's own model as a zoo entry: how it was made (from its config and metrics.json), its size and its accuracy
    (left out when `elsewhere` says why it is not on the teacher's test texts)."""
    from ..hub.public import local_name, public_path
    from ..shrinking import STRATEGIES

    family = str(config.get("model_type", "bert"))
    task = public_path(metrics["task"]) if metrics.get("task") else None  # a data file by its name, not its path
    scored_only = bool(metrics.get("evaluated_by"))  # `compactbert evaluate --write` recorded it: no training run
    trained = f", then trained on {task}" if task and not scored_only else ", not trained since"
    kept = config.get("kept_layers") or (config.get("pruning") or {}).get("kept_layers")
    strategy = config.get("drop_strategy")
    if config.get("pruning"):
        kind = PRUNED
        about = f"cut out of {local_name(config.get('pruned_from'))} (its layers {kept}){trained}"
    elif family == "albert_sop" and config.get("source_model"):
        kind = CONVERTED
        about = (
            f"Albert-SOP converted from {local_name(config['source_model'])} (E = {config.get('embedding_size')}, "
            f"sharing `{config.get('sharing')}`){trained}"
        )
    elif metrics.get("teacher"):
        kind = DISTILLED
        about = f"distilled from {local_name(metrics['teacher'])} on {task}" + (
            f" (started from its layers {kept})" if kept else ""
        )
    elif family == "shrunk_bert" and strategy in STRATEGIES:
        kind = SHRUNK
        dropped = int(config.get("source_num_hidden_layers") or 0) - len(kept or [])
        layers = f"{dropped} layer{'s' * (dropped != 1)}"
        about = f"{local_name(config.get('source_model'))} minus {layers} ({strategy}, kept {kept}){trained}"
    else:
        kind = TRAINED
        about = f"{'scored' if scored_only else 'fine-tuned'} on {task}" if task else ""
    scores = _test_accuracy(metrics)
    if scores and elsewhere:
        log(
            f"{name}: {elsewhere.replace('reference', 'teacher')}, so the page leaves its accuracy out "
            "(`compactbert evaluate MODEL --teacher TEACHER` scores both on the same texts)"
        )
        scores = {}
    return ZooEntry(
        name=name,
        source=source,
        family=family,
        kind=kind,
        description=about,
        kept_layers=kept,
        num_layers=config.get("num_hidden_layers"),
        metrics=scores,
    )


def _from_task(loaded, teacher_folder: Path, teacher_config, num_examples: int, log):
    """The page's example texts (the test split's, cycling through the labels) and the teacher's layer contributions
    (on the first training texts; for a teacher `shrink` can drop layers of)."""
    from ..shrinking.shrink import SUPPORTED_MODEL_TYPES
    from .zoo import example_texts, teacher_contributions

    test = loaded.dataset["test"]
    examples = []
    if "text_pair" in test.column_names:
        log("the task's texts are pairs: the page classifies one text, so it offers no example texts")
    elif num_examples:
        examples = example_texts(test, loaded.label_names, num_examples, trained_on=loaded.dataset["train"]["text"])
    if teacher_config.get("model_type") not in SUPPORTED_MODEL_TYPES:
        return examples, None
    texts = list(loaded.dataset["train"]["text"][:CONTRIBUTION_TEXTS])
    log(f"scoring the teacher's layers ([CLS] input/output cosine on {len(texts)} training texts)")
    return examples, teacher_contributions(teacher_folder, texts)
