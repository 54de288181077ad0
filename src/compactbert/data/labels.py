"""How a classifier's labels meet the labels of the data it is scored on (`compactbert.evaluation`).

`label_order`: a task's labels, all of them, matched to the model's by name (any order, any case), or in order for
unnamed labels (`LABEL_0`, ...). `onto_model_labels`: the rows of a held-out file (`load_task(..., whole=True)`), which
may hold some of the model's labels, not all, as the model's label ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checkpoints import placeholder_labels


def _numbers_hint(model_labels: Sequence[str]) -> str:
    return (
        "which number is which of the model's names is not known; write the names "
        f"({', '.join(model_labels)}) in the label column instead"
    )


def label_order(
    model_labels: Sequence[str],
    task_labels: Sequence[str],
    task: str,
    who: str = "the model",
    advice: str | None = None,
) -> np.ndarray:
    """For each of the model's label ids, the task's label id it means: by name (any order, any case), or in order
    for unnamed labels (`LABEL_0`, ...) when there are as many. Raises `ValueError` for a model of other labels,
    naming the model as `who` and ending with `advice` (default: score it on the task it was fine-tuned on)."""
    model_labels, task_labels = [str(n) for n in model_labels], [str(n) for n in task_labels]
    folded = {name.casefold(): i for i, name in enumerate(task_labels)}
    if sorted(folded) == sorted(n.casefold() for n in model_labels) and len(model_labels) == len(task_labels):
        return np.array([folded[name.casefold()] for name in model_labels])
    unnamed = placeholder_labels(model_labels)
    if unnamed and len(model_labels) == len(task_labels):
        return np.arange(len(task_labels))
    if len(model_labels) != len(task_labels):
        what = f"{who} predicts {len(model_labels)} labels {model_labels} but task {task!r} has {len(task_labels)}"
    else:
        what = f"{who}'s labels {model_labels} are not those of task {task!r}"
    if all(name.isdigit() for name in task_labels) and len(model_labels) == len(task_labels):
        raise ValueError(f"{what} {task_labels}: the task's labels are numbers, and {_numbers_hint(model_labels)}")
    advice = advice or (
        "evaluate it on the task it was fine-tuned on (--task, with --label_column when the labels are in another "
        "column)"
    )
    raise ValueError(f"{what} {task_labels}; {advice}")


def onto_model_labels(
    labels: Sequence[int], names: Sequence[str], model_labels: Sequence[str], where: str
) -> np.ndarray:
    """`labels` (ids of `names`, the labels of held-out rows) as ids of `model_labels`: by name, any case; the rows
    may hold some of the model's labels, not all (only the labels they hold are matched). Numbers are ids only for a
    model of unnamed labels (`LABEL_0`, ...).

    Raises:
        `ValueError`: a label the model does not predict, numbers for a model whose labels have names, or names for a
        model whose labels have none.
    """
    labels = np.asarray(labels, dtype=int)
    model_labels, names = [str(n) for n in model_labels], [str(n) for n in names]
    held = [names[i] for i in np.unique(labels)]
    unnamed = placeholder_labels(model_labels)
    mapping = np.zeros(len(names), dtype=int)
    if unnamed and all(name.isdigit() for name in held):
        if max(int(name) for name in held) >= len(model_labels):
            raise ValueError(
                f"{where} has label {max(int(name) for name in held)}, but the model predicts {len(model_labels)} "
                f"unnamed labels (ids 0 to {len(model_labels) - 1})"
            )
        mapping[np.unique(labels)] = [int(name) for name in held]
        return mapping[labels]
    folded = {name.casefold(): i for i, name in enumerate(model_labels)}
    unknown = [name for name in held if name.casefold() not in folded]
    if unknown and unnamed:
        raise ValueError(
            f"{where} labels its rows with names {held}, but the model's labels have none ({', '.join(model_labels)}): "
            "which name is which is not known; give the rows their label ids (0, 1, ...) instead, or score it on its "
            "own task's test split (--split test), where the labels are taken in the task's order"
        )
    if unknown and all(name.isdigit() for name in held):
        raise ValueError(f"{where} labels its rows with numbers {held}, and {_numbers_hint(model_labels)}")
    if unknown:
        raise ValueError(
            f"{where} has labels the model does not predict: {unknown}; the model's labels are {model_labels} (name "
            "the label column with --label_column if these are in another one)"
        )
    mapping[np.unique(labels)] = [folded[name.casefold()] for name in held]
    return mapping[labels]
