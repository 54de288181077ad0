"""`compactbert evaluate MODEL`: a classifier's accuracy on a task's split, next to the majority class, its teacher on
the same texts and the quality gate; for a model folder, an exported one, a built-in name or a Hub id."""

from __future__ import annotations

import argparse
import json
import sys

from ..export.formats import BACKENDS
from .common import EXIT_FAILED, EXIT_OK, Command, at_least_one, comma_list, split_seed


class EvaluateCommand(Command):
    name = "evaluate"
    help = "score a classifier (or its export) on a task's test split, against the majority class and its teacher"
    description = (
        "Score a sequence classifier on a split of a task: accuracy and macro-F1, the accuracy of always predicting "
        "the most common label, and the teacher on the same texts with the share the model keeps. The task, its "
        "columns, split seed, max_length and max_eval_samples come from the model's metrics.json (an exported "
        "folder reads the one of the PyTorch folder it was made from), so the figures compare with those its run "
        "recorded (a model shrunk or pruned from a fine-tuned classifier and not trained since: that classifier's); "
        "each can be given instead. The teacher is --teacher, else the one a distillation recorded, else the "
        "classifier the model was made from, when that folder is here. --write records the figures as the "
        "metrics.json of a folder that has none. Exits 1 when the quality gate of build and push (with the "
        "thresholds the model's build recorded) would refuse the model on these test figures."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("model", help="a model folder, an exported folder, a built-in name (minilm) or a Hub id")
        p.add_argument(
            "--task",
            help="the data: a built-in set (bbc-news, rotten-tomatoes), a CSV / TSV / JSON Lines / Parquet file or a "
            "Hub dataset id (default: the task the model's metrics.json records)",
        )
        p.add_argument("--text_column", help="the column of the texts (default: as recorded, else 'text')")
        p.add_argument("--text_pair_column", help="the column of the second texts of a pair task")
        p.add_argument("--label_column", help="the column of the labels (default: as recorded, else 'label')")
        p.add_argument(
            "--split",
            default="test",
            help="the split to score: test, validation or train, or all: every row of data held out from training "
            "(--task FILE; nothing carved out, some of the model's labels or all) (default: test)",
        )
        p.add_argument("--split_seed", type=split_seed, help="the seed of the splits (default: as recorded, else 42)")
        p.add_argument(
            "--max_eval_samples",
            type=at_least_one,
            help="score the first N texts of the split (default: as many as the model's run evaluated, else all)",
        )
        p.add_argument("--max_length", type=at_least_one, help="tokens per text (default: as recorded, else 128)")
        p.add_argument("--teacher", help="a teacher to score on the same texts (default: the recorded one, if here)")
        p.add_argument(
            "--backend",
            choices=BACKENDS,
            help="what runs the model (default: torch; an exported folder: its own runtime); auto times them and picks",
        )
        p.add_argument("--dtype", default="auto", choices=("auto", "fp32", "bf16"), help="precision (default: auto)")
        p.add_argument(
            "--time",
            action="store_true",
            help="also time the model and its teacher side by side on the split's texts, interleaved, and print the "
            "speedup",
        )
        p.add_argument(
            "--time-batches",
            type=comma_list(at_least_one, "batch sizes"),
            default=[1, 32],
            metavar="B,B",
            help="the batch sizes --time times (default: 1,32)",
        )
        p.add_argument("--json", action="store_true", help="print the figures as JSON")
        p.add_argument(
            "--write",
            action="store_true",
            help="record the test figures as the folder's metrics.json, for a model folder that has none (shrunk, "
            "pruned or converted, not trained since), so that push can judge it and its card shows them",
        )

    def run(self, args: argparse.Namespace) -> int:
        from ..evaluation import check_writable, evaluate_model, record_evaluation

        if args.write and args.split != "test":
            raise ValueError(f"--write records the test split (the quality gate judges it), not --split {args.split}")
        if args.write:  # what `record_evaluation` refuses, said before anything is scored
            check_writable(args.model)

        result = evaluate_model(
            args.model,
            args.task,
            split=args.split,
            text_column=args.text_column,
            text_pair_column=args.text_pair_column,
            label_column=args.label_column,
            split_seed=args.split_seed,
            max_eval_samples=args.max_eval_samples,
            max_length=args.max_length,
            teacher=args.teacher,
            backend=args.backend,
            dtype=args.dtype,
            progress=not args.json,
            time_batches=args.time_batches if args.time else None,
        )
        if args.json:
            print(json.dumps(result.as_dict(), indent=2, default=str))
        else:
            print_evaluation(result)
        if args.write:
            written = record_evaluation(args.model, result)
            print(f"wrote {written}: push and build's gate read it, and the card shows it once rendered again",
                  file=sys.stderr if args.json else sys.stdout)  # fmt: skip
        return EXIT_FAILED if result.gate["passed"] is False else EXIT_OK


def print_evaluation(result) -> None:
    """The figures, one line each, in the form `finetune` and `distill` print theirs."""
    s = result.scores
    precision = f"{result.quantized}, the other operations in {result.dtype}" if result.quantized else result.dtype
    print(f"{result.model} ({result.backend}, {precision}) on {result.where}")
    trained = "  (texts it was trained on)" if result.split == "train" else ""
    print(f"{result.split:10}  accuracy {s.accuracy:.4f}  macro-F1 {s.macro_f1:.4f}{trained}")
    rows = "the rows'" if result.split == "all" else "the split's"
    print(
        f"{'majority':10}  accuracy {result.majority_accuracy:.4f}  (always {result.majority_label!r}: {rows} most "
        "common label)"
    )
    if result.teacher_scores is not None:
        t = result.teacher_scores
        kept = f": the model keeps {result.kept:.1%} of it" if result.kept is not None else ""
        what = "" if result.teacher_role == "teacher" else ", the classifier it was made from"
        print(
            f"{result.teacher_role:10}  accuracy {t.accuracy:.4f}  macro-F1 {t.macro_f1:.4f}  ({result.teacher}"
            f"{what}, the same texts{kept})"
        )
    if result.recorded is not None:
        print(f"{'recorded':10}  accuracy {result.recorded:.4f}  (what the model's run recorded for these texts)")
    if result.speed is not None:
        print_speed(result.speed, result.teacher_role)
    gate = result.gate
    if gate["passed"] is not False:
        print(f"quality gate: {gate['summary']}")
        return
    print(f"quality gate: {gate['summary']}: `build` and `push` would not publish this model", file=sys.stderr)


def print_speed(speed: dict, role: str | None) -> None:
    """One line per batch size: the model's median (min-max), the teacher's, and the speedup paired per round."""

    def ms(t: dict) -> str:
        return f"{t['median_ms']:.2f} ms ({t['min_ms']:.2f}-{t['max_ms']:.2f})"

    for row in speed["batches"]:
        teacher = ""
        if "speedup" in row:
            ratio = row["speedup"]
            how = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
            teacher = f", {role} {ms(row['teacher'])}: {how}"
        print(f"{'speed':10}  batch {row['batch']}: the model {ms(row['model'])}{teacher}")
    ran = f"the model on {speed['model_runs_on']}"
    if speed["teacher_runs_on"]:
        same = speed["teacher_runs_on"] == speed["model_runs_on"]
        ran += f", the {role} on {speed['teacher_runs_on']}" + ("" if same else ": the ratio includes the runtime")
    print(
        f"{'':10}  (medians, min-max, of {speed['repeats']} interleaved rounds on the split's first texts; {ran}; "
        f"{speed['threads']} threads on a {speed['machine']}; measured once, here)"
    )
