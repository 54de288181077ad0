"""What every command shares: the `Command` shape, exit codes, the override reader, list types and score lines.

Light on purpose: `compactbert --help` imports this module, so nothing here imports torch, transformers or datasets.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..fields import field_types, parse_field_value, parse_int_list

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and its answer is "no" (bench --check: a target was missed)
EXIT_BAD_INPUT = 2  # as argparse's own errors
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports a process stopped by SIGINT


class Command:
    """One `compactbert <name>` command.

    A command says what it is (`name`, `help` for the command list, `description` for its own `--help`), adds its
    arguments to its parser, and runs. Imports that load torch, transformers or datasets happen inside `run`, so
    `compactbert --help` and `compactbert <name> --help` stay fast.

    Subclasses set the three class attributes and override `add_arguments` and `run`; the registry is
    `compactbert.cli.COMMANDS` (in `compactbert.cli.commands`).
    """

    name: str
    help: str
    description: str | None = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's positional arguments and options to its parser."""

    def misuse(self, tokens: list[str]) -> str | None:
        """What is wrong with the tokens after the command's name that argparse would only call unrecognized (e.g. a
        recipe command's `--field value` pairs with no recipe before them), said before parsing; None if nothing."""
        return None

    def run(self, args: argparse.Namespace) -> int:
        """Run the command with its parsed arguments; returns the exit status (`EXIT_OK`, ...).

        Raise `ValueError`, `OSError`, `TypeError` or `RuntimeError` with a message that says what to change: the
        command line prints it and exits with `EXIT_BAD_INPUT`.
        """
        raise NotImplementedError(f"command '{self.name}' has no run()")


def comma_list(kind: Callable[[str], Any], what: str = "values") -> Callable[[str], list]:
    """An argparse `type` for a non-empty comma-separated list (`--batch 1,32`), each part read by `kind`."""

    def parse(text: str) -> list:
        if kind is int:
            try:
                values = parse_int_list(text, what)
            except ValueError as err:
                raise argparse.ArgumentTypeError(str(err)) from None
        else:
            try:
                values = [kind(part) for part in text.replace(" ", "").split(",") if part]
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected comma-separated {what} like a,b; got '{text}'") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one of the {what}; got '{text}'")
        return values

    return parse


layer_indices = comma_list(int, "0-based layer indices")


class _FlatIndices(argparse.Action):
    """Joins the comma lists of an `nargs="+"` option into one list: `0,2 5` is `[0, 2, 5]`."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [i for part in values for i in part])


def _listed_layers(text: str) -> list[int]:
    """One word of a layer list (`0`, `0,2,5`); a word that is not one says what may have happened: the option takes
    every word up to the next option, so a SOURCE given after it lands here."""
    try:
        return layer_indices(text)
    except argparse.ArgumentTypeError as error:
        if "at least one" in str(error):  # `,` alone: no index at all
            raise
        raise argparse.ArgumentTypeError(
            f"expected 0-based layer indices like 0 2 4 or 0,2,4; got '{text}' (the list takes every word up to the "
            "next option: give the source before it)"
        ) from None


def add_layer_indices(parser, flag: str, help: str) -> None:
    """Add an option of 0-based layer indices that takes both forms, `0 2 5` and `0,2,5` (or a mix, `0,2 5`), as one
    flat list (`shrink --keep-layers/--drop-layers`, `prune --keep-layers`). A part that is not an integer is an
    argparse error naming it; the range and repeats are checked by the library against the source's depth."""
    parser.add_argument(flag, type=_listed_layers, nargs="+", action=_FlatIndices, metavar="I", help=help)


def split_overrides(tokens: Sequence[str]) -> dict[str, str | None]:
    """The `--field value` / `--field=value` / bare `--field` tokens after a recipe, as `{field: text or None}`.

    Dashes in a name read as underscores (`--max-steps` is `max_steps`); a later pair wins over an earlier one.
    """
    found: dict[str, str | None] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or token == "--":
            raise ValueError(f"expected --field value after the recipe, got '{token}'")
        if "=" in token:
            key, value = token[2:].split("=", 1)
            i += 1
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            key, value = token[2:], tokens[i + 1]
            i += 2
        else:
            key, value = token[2:], None
            i += 1
        found[key.replace("-", "_")] = value
    return found


def parse_overrides(tokens: Sequence[str], dataclass_types: Iterable[type] = ()) -> dict[str, Any]:
    """Read `--field value` pairs after a recipe into `{field: value}`, each value by its field's type.

    As `HfArgumentParser` reads flags (see `compactbert.fields.parse_field_value`): `--eval_strategy no` stays the
    text `no` for a text field, `--do_eval no` is `False`, `--max_steps 2` is `2`, `--shrink_keep 0,2,4` a list,
    `--shrink_strategy null` is `None`. A name that is no field of `dataclass_types` keeps its text (a bare flag is
    `True`): the recipe reader refuses it by name, with the close matches.

    Args:
        tokens (`Sequence[str]`):
            The command line after the recipe, e.g. `["--max_steps", "2", "--eval_strategy=no"]`.
        dataclass_types (`Iterable[type]`, *optional*):
            The dataclasses whose fields the recipe's keys are (e.g. `ModelArguments, DataArguments, ...`).

    Raises:
        `ValueError`: a token that is not `--field`, or a value that is not of its field's type.
    """
    types = field_types(dataclass_types)
    values: dict[str, Any] = {}
    for key, text in split_overrides(tokens).items():
        if key in types:
            values[key] = parse_field_value(text, types[key], key)
        else:
            values[key] = True if text is None else text
    return values


# transformers' bars over a local read or write of weights, each over in a moment: hidden from the command line's
# output (downloads, training and scoring keep theirs)
INSTANT_BARS = ("Loading weights", "Writing model shards")


def hide_instant_bars() -> None:
    """Hide transformers' `INSTANT_BARS` for the rest of the process (through its tqdm hook)."""
    from transformers.utils import logging as hf_logging

    if not hasattr(hf_logging, "set_tqdm_hook"):  # a transformers without the hook: its bars stay
        return

    def hook(factory, args, kwargs):
        if kwargs.get("desc") in INSTANT_BARS:
            kwargs = {**kwargs, "disable": True}
        return factory(*args, **kwargs)

    hf_logging.set_tqdm_hook(hook)


def print_scores(metrics: dict[str, Any], task: str, splits: Sequence[str] = ("validation", "test")) -> None:
    """What a training run reached, and what to compare it with.

    One line per split (`validation  accuracy 0.9120  macro-F1 0.9087  (bbc-news)`); then the test split's majority
    class (the accuracy of always predicting it); then, after a distillation, the teacher on the same test texts and
    the share of its accuracy the student keeps. A test accuracy that the quality gate of `build` and `push` would
    refuse (not clearly above the majority class) is warned about on stderr, with what to try.
    """
    for split in splits:
        m = metrics[split]
        print(f"{split:10}  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ({task})")
    test = metrics.get("test") or {}
    if test.get("majority_accuracy") is None:
        return
    label = test.get("majority_label")
    print(
        f"{'majority':10}  accuracy {test['majority_accuracy']:.4f}  (always {label!r}: the test split's most common label)"
    )
    from ..hub.gate import DEFAULT_MIN_RETENTION, check_quality

    teacher = (metrics.get("teacher_scores") or {}).get("test")
    if teacher and teacher.get("accuracy"):
        kept = test["accuracy"] / teacher["accuracy"]
        print(
            f"{'teacher':10}  accuracy {teacher['accuracy']:.4f}  macro-F1 {teacher['macro_f1']:.4f}  (the same test "
            f"texts: the student keeps {kept:.1%} of it)"
        )
        floor = check_quality(
            test["accuracy"],
            test["majority_accuracy"],
            min_retention=DEFAULT_MIN_RETENTION,
            reference_accuracy=teacher["accuracy"],
        )
        if floor.keeps_too_little:  # as publish's gate judges it (a share exactly at the floor passes)
            print(
                f"warning: the student keeps {kept:.1%} of its teacher's test accuracy, under the "
                f"{DEFAULT_MIN_RETENTION:.0%} that `compactbert publish` requires of a zoo's students (--min-retention). "
                "Distil longer (num_train_epochs), on more texts (max_train_samples, or augmented ones), or start the "
                "student from more of the teacher's layers.",
                file=sys.stderr,
            )

    verdict = check_quality(test["accuracy"], test["majority_accuracy"], majority_label=label)
    if verdict.passed:
        return
    if test["accuracy"] <= test["majority_accuracy"]:
        what = f"the model has not learned the task: it does no better than always predicting {label!r}"
    else:
        what = f"the model is barely better than always predicting {label!r}"
    print(
        f"warning: {what} ({test['accuracy']:.4f} against {test['majority_accuracy']:.4f} on the test split). Train "
        "longer (num_train_epochs), on more texts (max_train_samples), or with another learning_rate. The quality "
        f"gate of `build` and `push` refuses a model under {verdict.required_accuracy:.4f} here (the majority class + "
        f"{100 * verdict.min_margin_over_majority:g} points).",
        file=sys.stderr,
    )


def bounded_int(low: int, high: int | None = None, what: str = "a whole number"):
    """An argparse `type`: a whole number from `low` (up to `high`, when given)."""
    span = f">= {low}" if high is None else f"from {low} to {high}"

    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} {span}, got '{text}'") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    return read


at_least_one = bounded_int(1)
port_number = bounded_int(1, 65535, "a port number")
split_seed = bounded_int(0, 2**32 - 1, "a split seed")  # what scikit-learn's splits take


def millions(n: int) -> str:
    """`14_500_000` -> `14.5M`."""
    return f"{n / 1e6:.1f}M"


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Command",
    "add_layer_indices",
    "at_least_one",
    "bounded_int",
    "comma_list",
    "layer_indices",
    "millions",
    "parse_overrides",
    "port_number",
    "print_scores",
    "split_overrides",
    "split_seed",
]
