"""The quality gate: what `compactbert build` will write and `compactbert push` will publish.

A model passes when its test accuracy is clearly above the majority class of the test split (by
`min_margin_over_majority`, 10 points by default) and, when a recipe asks for it, keeps at least `min_retention` of a
reference accuracy (the source fine-tuned by the same build, which for a TinyBert is its teacher, or a number or a
teacher's `metrics.json` the recipe names). A model that fails is refused with the numbers; `--force` writes or
publishes it anyway, and its card then says that the gate was overridden and why. A model the gate cannot check (no
`metrics.json`, no test accuracy in it, no majority class to compare with) fails too, with what is missing: nothing
unevaluated slips through without `--force`.

Everything here is pure: numbers and `metrics.json` dictionaries in, a `GateVerdict` out. The majority class comes
from the test split's labels; `finetune` and `distill` record it next to the test accuracy (`majority_accuracy`,
`majority_label` in `metrics["test"]`), so the gate needs no data. Gathering what a folder lacks (the labels of an
older folder's test split) is the caller's job (`compactbert.hub.push`).

>>> verdict = check_quality(0.2262, 0.2353, majority_label="business")
>>> verdict.passed, f"{verdict.required_accuracy:.4f}"
(False, '0.3353')
"""

from __future__ import annotations

import json
import math
import numbers
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MIN_MARGIN = 0.10
NOTE_TITLE = "Quality gate overridden"
_TOLERANCE = 1e-9  # accuracies are ratios of counts: exactly at a threshold passes

# `compactbert publish`: the least share of a zoo's teacher's test accuracy every other model must keep
DEFAULT_MIN_RETENTION = 0.95


class QualityGateError(ValueError):
    """The gate refused a model, or could not check it; the message names the numbers and how to override."""


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


@dataclass
class QualityGate:
    """A zoo recipe's `gate:` section: what a model must reach to be written and published.

    Args:
        min_margin_over_majority (`float`, *optional*, defaults to 0.10):
            How far above the majority class of the test split the test accuracy must be, as a share (0.10: 10
            points). 0 only asks for the majority class itself.
        min_retention (`float`, *optional*):
            The least share of the reference accuracy the model must keep (0.97: 97% of it). Not checked when unset.
        reference_accuracy (`float` or `str`, *optional*):
            The reference of `min_retention`: a test accuracy, or the path of a `metrics.json` (or of the folder that
            holds one, e.g. a teacher's) whose test accuracy it is. Default: the source fine-tuned with the same
            recipe by the build (its `baseline`; for a TinyBert, the teacher the build fine-tuned).
    """

    min_margin_over_majority: float = field(
        default=DEFAULT_MIN_MARGIN,
        metadata={"help": "Test accuracy must be at least the majority class's share plus this (0.10 = 10 points)."},
    )
    min_retention: float | None = field(
        default=None, metadata={"help": "Least share of the reference accuracy to keep (e.g. 0.97); unset: none."}
    )
    reference_accuracy: float | str | None = field(
        default=None,
        metadata={
            "help": "Reference of min_retention: an accuracy, or a metrics.json (or its folder); default: the "
            "build's baseline (the source fine-tuned with the same recipe)."
        },
    )

    def __post_init__(self):
        margin = self.min_margin_over_majority
        if not _is_number(margin) or not 0 <= margin < 1:
            raise ValueError(
                f"gate.min_margin_over_majority must be a share in [0, 1), like 0.10 for 10 points; got {margin!r}"
            )
        retention = self.min_retention
        if retention is not None and (not _is_number(retention) or not 0 < retention <= 1):
            raise ValueError(f"gate.min_retention must be a share in (0, 1], like 0.97, or unset; got {retention!r}")
        reference = self.reference_accuracy
        if reference is not None:
            if retention is None:
                raise ValueError(
                    "gate.reference_accuracy is the reference of gate.min_retention: set min_retention too"
                )
            if _is_number(reference) and not 0 < reference <= 1:
                raise ValueError(f"gate.reference_accuracy must be an accuracy in (0, 1]; got {reference!r}")
            if not _is_number(reference) and not (isinstance(reference, str) and reference):
                raise ValueError(
                    "gate.reference_accuracy must be an accuracy (e.g. 0.959) or the path of a metrics.json; "
                    f"got {reference!r}"
                )


@dataclass(frozen=True)
class GateVerdict:
    """What the gate found for one model: the numbers, the thresholds, and the failures (none: it passed).

    A verdict with `unchecked` set (see `cannot_check`) is a refusal of a model the gate could not check: its `accuracy`
    or `majority_accuracy` is None, and `unchecked` says what is missing.
    """

    accuracy: float | None
    majority_accuracy: float | None
    majority_label: str | None = None
    min_margin_over_majority: float = DEFAULT_MIN_MARGIN
    min_retention: float | None = None
    reference_accuracy: float | None = None
    reference: str | None = None  # what the reference accuracy is, in words
    unchecked: str | None = None  # why the gate could not check the model (what is missing), in words

    @property
    def required_accuracy(self) -> float | None:
        """The least test accuracy the majority-class check accepts (None when the majority class is unknown)."""
        return None if self.majority_accuracy is None else self.majority_accuracy + self.min_margin_over_majority

    @property
    def retention(self) -> float | None:
        """The test accuracy as a share of the reference accuracy (None without a reference or an accuracy)."""
        if self.reference_accuracy is None or self.accuracy is None:
            return None
        return self.accuracy / self.reference_accuracy

    @property
    def keeps_too_little(self) -> bool:
        """Whether the retention check fails (False without `min_retention`): a share of the reference under it."""
        return self.min_retention is not None and self.retention < self.min_retention - _TOLERANCE

    def _majority(self) -> str:
        named = f"{self.majority_label}, " if self.majority_label is not None else ""
        return f"{named}{_pct(self.majority_accuracy)} of the test split"

    @property
    def failures(self) -> tuple[str, ...]:
        """One sentence per failed check, with the numbers (what is missing, when the gate could not check)."""
        if self.unchecked is not None:
            return (self.unchecked,)
        found = []
        if self.accuracy < self.required_accuracy - _TOLERANCE:
            found.append(
                f"test accuracy {_pct(self.accuracy)} is not clearly above the majority class ({self._majority()}): "
                f"it must be at least {_pct(self.required_accuracy)} (the majority class + min_margin_over_majority "
                f"of {100 * self.min_margin_over_majority:g} points)"
            )
        if self.keeps_too_little:
            found.append(
                f"test accuracy {_pct(self.accuracy)} keeps {_pct(self.retention)} of the reference accuracy "
                f"{_pct(self.reference_accuracy)} ({self.reference}), below min_retention {_pct(self.min_retention)} "
                f"(at least {_pct(self.min_retention * self.reference_accuracy)} needed)"
            )
        return tuple(found)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """One line: passed or failed, and the numbers behind it."""
        if not self.passed:
            return "failed: " + "; ".join(self.failures)
        line = (
            f"passed: test accuracy {_pct(self.accuracy)} >= {_pct(self.required_accuracy)} (the majority class, "
            f"{self._majority()}, + {100 * self.min_margin_over_majority:g} points)"
        )
        if self.min_retention is not None:
            line += (
                f"; it keeps {_pct(self.retention)} of {_pct(self.reference_accuracy)} ({self.reference}), "
                f"min_retention {_pct(self.min_retention)}"
            )
        return line

    def refusal(self, verb: str, target: str) -> str:
        """The error message when the gate refuses to `verb` (write, publish) `target`."""
        if self.unchecked is not None:
            remedy = (
                "Evaluate it on its task's test split first (`compactbert finetune`, `distill` and `build` do, and "
                "write metrics.json with the test accuracy and the majority class; for a model shrunk or pruned "
                "and not trained since, `compactbert evaluate FOLDER --write` records it)"
            )
        else:
            remedy = "Improve the model (train longer, a better recipe)"
        return (
            f"the quality gate refuses to {verb} {target}: {'; and '.join(self.failures)}. {remedy}, or pass --force "
            f"to {verb} it anyway: its card then says that the quality gate was overridden, and why"
        )

    def record(self, overridden: bool = False) -> dict:
        """The verdict as `metrics.json` keeps it (`quality_gate`): the numbers, thresholds, failures and whether
        `--force` overrode a refusal. `settings_from_record` reads the thresholds back."""
        return {
            "passed": self.passed,
            "overridden": bool(overridden and not self.passed),
            "accuracy": self.accuracy,
            "majority_accuracy": self.majority_accuracy,
            "majority_label": self.majority_label,
            "min_margin_over_majority": self.min_margin_over_majority,
            "min_retention": self.min_retention,
            "reference_accuracy": self.reference_accuracy,
            "reference": self.reference,
            "failures": list(self.failures),
        }


def majority_class(labels: Sequence[int], label_names: Sequence[str] | None = None) -> tuple[str | int, float]:
    """The most frequent label of `labels` (its name when `label_names` are given) and its share.

    A tie goes to the smallest class id. This is the accuracy of a model that predicts that one class everywhere.

    >>> majority_class([0, 1, 1, 2], ["a", "b", "c"])
    ('b', 0.5)
    """
    labels = [int(label) for label in labels]
    if not labels:
        raise ValueError("no labels: the majority class of an empty split is undefined")
    counts = Counter(labels)
    label, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return (label_names[label] if label_names is not None else label), count / len(labels)


def check_quality(
    accuracy: float,
    majority_accuracy: float,
    *,
    majority_label: str | None = None,
    min_margin_over_majority: float = DEFAULT_MIN_MARGIN,
    min_retention: float | None = None,
    reference_accuracy: float | None = None,
    reference: str | None = None,
) -> GateVerdict:
    """The gate's verdict on a model with test `accuracy`, where the majority class is `majority_accuracy` of the test
    split; with `min_retention`, against `reference_accuracy` (`reference` says in words what it is).

    Raises:
        `ValueError`: a share outside [0, 1], or `min_retention` without a reference accuracy.
    """
    for name, value in (("accuracy", accuracy), ("majority_accuracy", majority_accuracy)):
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a share in [0, 1]; got {value!r}")
    QualityGate(min_margin_over_majority, min_retention)  # checks the thresholds
    if min_retention is not None and (not _is_number(reference_accuracy) or not 0 < reference_accuracy <= 1):
        raise ValueError(
            f"min_retention {min_retention} needs a reference accuracy in (0, 1]; got {reference_accuracy!r}"
        )
    return GateVerdict(
        float(accuracy),
        float(majority_accuracy),
        majority_label,
        float(min_margin_over_majority),
        min_retention,
        None if reference_accuracy is None else float(reference_accuracy),
        reference,
    )


def other_test_texts(metrics: dict | None, reference: dict | None, same_task=None) -> str | None:
    """Why two runs' test accuracies (their `metrics.json`) were not measured on the same texts, in words: another
    task, split seed or number of test texts (`max_eval_samples`), or one of them records no task (they cannot be
    compared); None when they were. `same_task(task, reference_task)` says whether two recorded tasks name the same
    data (default: the same string; `compactbert.records.same_recorded_task` finds data files from their runs).

    >>> print(other_test_texts({"task": "a.csv"}, {"task": "bbc-news"}))
    its test accuracy is on a.csv, the reference's on bbc-news
    """
    metrics, reference = metrics or {}, reference or {}
    for record, whose in ((metrics, "its"), (reference, "the reference's")):
        if not record.get("task"):
            return f"{whose} metrics.json records no task: no test texts to compare"

    def limit(record: dict):
        return ((record.get("recipe") or {}).get("data") or {}).get("max_eval_samples")

    if not (same_task or str.__eq__)(metrics["task"], reference["task"]):
        return f"its test accuracy is on {metrics['task']}, the reference's on {reference['task']}"
    seeds = metrics.get("split_seed", 42), reference.get("split_seed", 42)
    if seeds[0] != seeds[1]:
        return f"its test split is that of split seed {seeds[0]}, the reference's of split seed {seeds[1]}"
    if limit(metrics) != limit(reference):
        return (
            f"its test accuracy is on {limit(metrics) or 'all'} test texts, the reference's on "
            f"{limit(reference) or 'all'}"
        )
    return None


def recorded_accuracy(metrics: dict | None) -> float | None:
    """The test accuracy a `metrics.json` records (None: nothing was evaluated on a test split, or what it records is
    no accuracy, e.g. NaN)."""
    test = (metrics or {}).get("test")
    accuracy = test.get("accuracy") if isinstance(test, dict) else None
    return float(accuracy) if _is_number(accuracy) and math.isfinite(accuracy) and 0 <= accuracy <= 1 else None


def missing_accuracy(metrics: dict | None) -> str | None:
    """What keeps the gate from reading a test accuracy in `metrics` (a `metrics.json`; None: there is none), in
    words; None when it records one.

    >>> missing_accuracy({"validation": {"accuracy": 0.9}})
    'its metrics.json records no test accuracy (test.accuracy): it was not evaluated on a test split'
    """
    if metrics is None:
        return "it has no metrics.json, so no test accuracy: it was never evaluated on a test split"
    if recorded_accuracy(metrics) is not None:
        return None
    test = metrics.get("test")
    if isinstance(test, dict) and test.get("accuracy") is not None:
        return f"its metrics.json records test accuracy {test['accuracy']!r}, which is no accuracy in [0, 1]"
    return "its metrics.json records no test accuracy (test.accuracy): it was not evaluated on a test split"


def cannot_check(reason: str, gate: QualityGate | None = None, accuracy: float | None = None) -> GateVerdict:
    """The failing verdict on a model the gate cannot check; `reason` says what is missing (e.g. `missing_accuracy`),
    `accuracy` is the test accuracy when there is one (but no majority class to compare it with).

    Like any failure it is refused unless `--force`, and `record()` / the card's note then say why.
    """
    gate = gate or QualityGate()
    return GateVerdict(
        accuracy,
        None,
        min_margin_over_majority=gate.min_margin_over_majority,
        min_retention=gate.min_retention,
        unchecked=reason,
    )


def recorded_majority(metrics: dict | None) -> tuple[str | None, float] | None:
    """The majority class of the test split as `finetune` / `distill` record it: `(label, share)`, or None."""
    test = (metrics or {}).get("test")
    share = test.get("majority_accuracy") if isinstance(test, dict) else None
    return (test.get("majority_label"), float(share)) if _is_number(share) else None


def read_reference(value: float | str) -> tuple[float, str]:
    """A recipe's `gate.reference_accuracy` as `(accuracy, what it is)`: a number as given, or the test accuracy of a
    `metrics.json` (a path to the file or to the folder holding it, e.g. a fine-tuned teacher's)."""
    if _is_number(value):
        return float(value), "gate.reference_accuracy of the recipe"
    path = Path(value)
    path = path / "metrics.json" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(
            f"gate.reference_accuracy names {value}, which is no metrics.json (nor a folder holding one); give an "
            "accuracy or the metrics.json of the reference model (e.g. the teacher's)"
        )
    accuracy = recorded_accuracy(json.loads(path.read_text(encoding="utf-8")))
    if accuracy is None:
        raise ValueError(f"{path} records no test accuracy (test.accuracy): it cannot be gate.reference_accuracy")
    return accuracy, f"the test accuracy in {path}"


def check_metrics(
    metrics: dict | None,
    gate: QualityGate | None = None,
    reference: tuple[float, str] | None = None,
    majority: tuple[str | int | None, float] | None = None,
) -> GateVerdict:
    """The verdict on a model from its `metrics.json` (None: it has none): its test accuracy, the majority class it
    records (or `majority`, `(label, share)`, when the caller computed it), the thresholds of `gate` (default: the
    defaults) and `reference` `(accuracy, what it is)` for `gate.min_retention`.

    Metrics without a test accuracy, or without a majority class to compare it with, give a failing verdict that says
    what is missing (`cannot_check`): an unevaluated model is refused like a weak one.

    Raises:
        `QualityGateError`: `gate.min_retention` is set but there is no `reference`.
    """
    gate = gate or QualityGate()
    missing = missing_accuracy(metrics)
    if missing is not None:
        return cannot_check(missing, gate)
    accuracy = recorded_accuracy(metrics)
    majority = majority or recorded_majority(metrics)
    if majority is None:
        return cannot_check(
            "its metrics.json records no majority class of the test split (test.majority_accuracy) to compare the "
            "test accuracy with",
            gate,
            accuracy,
        )
    if gate.min_retention is not None and reference is None:
        raise QualityGateError("gate.min_retention is set but there is no reference accuracy to compare with")
    label, share = majority
    return check_quality(
        accuracy,
        share,
        majority_label=None if label is None else str(label),
        min_margin_over_majority=gate.min_margin_over_majority,
        min_retention=gate.min_retention,
        reference_accuracy=reference[0] if reference else None,
        reference=reference[1] if reference else None,
    )


def settings_from_record(metrics: dict | None) -> tuple[QualityGate, tuple[float, str] | None]:
    """The thresholds and reference a build recorded (`metrics["quality_gate"]`), so `push` checks what `build`
    checked; the defaults (and no reference) when there is no record."""
    record = (metrics or {}).get("quality_gate")
    if not isinstance(record, dict):
        return QualityGate(), None
    retention, reference = record.get("min_retention"), record.get("reference_accuracy")
    gate = QualityGate(record.get("min_margin_over_majority", DEFAULT_MIN_MARGIN), retention)
    if retention is None or reference is None:
        return QualityGate(gate.min_margin_over_majority), None
    return gate, (float(reference), record.get("reference") or "recorded by the build")


def override_note(record: dict) -> str:
    """The card's note for a model kept with `--force` although the gate refused it (a `record()` dict)."""
    reasons = "; and ".join(record.get("failures") or ["it failed the quality gate"])
    return (
        f"> **{NOTE_TITLE}.** compactbert's quality gate refused this model, and it was kept with `--force` "
        f"anyway: {reasons}. Do not use it as a working model of its task."
    )


def add_override_note(card_text: str, record: dict) -> str:
    """`card_text` with the override note after its title (unchanged when it already has one)."""
    if f"**{NOTE_TITLE}.**" in card_text:
        return card_text
    lines = card_text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":  # after the YAML front matter
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    title = next((i for i in range(start, len(lines)) if lines[i].startswith("# ")), start - 1)
    lines[title + 1 : title + 1] = ["", override_note(record)]
    return "\n".join(lines)


__all__ = [
    "DEFAULT_MIN_MARGIN",
    "GateVerdict",
    "QualityGate",
    "QualityGateError",
    "add_override_note",
    "cannot_check",
    "check_metrics",
    "check_quality",
    "majority_class",
    "missing_accuracy",
    "override_note",
    "read_reference",
    "recorded_accuracy",
    "recorded_majority",
    "settings_from_record",
]
