"""The `compactbert distill` subcommand: its parser registration (imports stay lazy: `--help` is instant)."""

from __future__ import annotations

import argparse


def add_distill_parser(commands) -> None:
    """Register `distill RECIPE.yaml [--field value ...]` on the CLI's subparsers."""
    p = commands.add_parser(
        "distill",
        help="distil a fine-tuned teacher into a student (DistilBERT / TinyBERT losses) from a YAML recipe",
        description="Run a distillation recipe on the DistillationTrainer. Keys of the YAML recipe, and --field "
        "value overrides after it, are fields of ModelArguments, TeacherArguments, DataArguments and "
        "DistillationTrainingArguments (see configs/distill-*.yaml).",
    )
    p.add_argument("recipe", help="YAML recipe, e.g. configs/distill-bbc-news-minilm-3layer.yaml")
    p.add_argument("overrides", nargs=argparse.REMAINDER, help="--field value pairs that override the recipe")
    p.set_defaults(func=cmd_distill)


def cmd_distill(args: argparse.Namespace) -> int:
    from ..cli import _overrides
    from .recipe import MODEL_SUBDIR, distill, parse_distill_recipe

    parsed = parse_distill_recipe(args.recipe, _overrides(args.overrides))
    metrics = distill(*parsed)
    for split in ("validation", "test"):
        m = metrics[split]
        print(f"{split:10}  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ({parsed[2].task})")
    print(f"model:      {parsed[3].output_dir}/{MODEL_SUBDIR}  (metrics.json inside)")
    return 0
