"""The recipe commands: `compactbert finetune | pretrain | distill | build RECIPE.yaml [--field value ...]`.

One `RecipeCommand` class serves all four; each is an instance naming the recipe kind and its runner. A runner reads
the overrides by the types of the recipe's dataclasses, runs the recipe and prints what it made.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import EXIT_OK, Command, parse_overrides, print_scores

OVERRIDES_HELP = "--field value pairs that override the recipe"

Runner = Callable[[str, Sequence[str], argparse.Namespace], int]


@dataclass(frozen=True)
class Option:
    """An option a recipe command takes before its recipe (e.g. build's `--output-dir`): argparse's arguments."""

    flags: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)


class RecipeCommand(Command):
    """`compactbert <name> RECIPE.yaml [--field value ...]`: run a YAML recipe, the pairs after it overriding its keys.

    Args:
        name (`str`): the command's name.
        help (`str`): its line in `compactbert --help`.
        description (`str`): the top of its own `--help`.
        recipe_help (`str`): the help of the RECIPE argument (with an example recipe).
        runner (`Callable[[str, Sequence[str], argparse.Namespace], int]`):
            Runs the recipe from its path, the tokens after it and the parsed arguments; returns the exit status.
            It imports the heavy modules itself, so the help stays light.
        overrides_help (`str`, *optional*): the help of the `--field value` pairs.
        options (`Sequence[Option]`, *optional*): options of the command besides the overrides.
    """

    def __init__(
        self,
        name: str,
        help: str,
        description: str,
        recipe_help: str,
        runner: Runner,
        overrides_help: str = OVERRIDES_HELP,
        options: Sequence[Option] = (),
    ):
        self.name, self.help, self.description = name, help, description
        self.recipe_help, self.overrides_help = recipe_help, overrides_help
        self.runner, self.options = runner, tuple(options)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("recipe", help=self.recipe_help)
        for option in self.options:
            parser.add_argument(*option.flags, **option.settings)
        parser.add_argument("overrides", nargs=argparse.REMAINDER, help=self.overrides_help)

    def misuse(self, tokens: list[str]) -> str | None:
        """`--field value` pairs with no recipe before them: argparse would call the first field unrecognized."""
        takes_value = {flag: option.settings.get("action") is None for option in self.options for flag in option.flags}
        rest = list(tokens)
        while rest:  # the command's own options (`--output-dir D`, `--output-dir=D`, a prefix argparse takes) go first
            name, equals, _ = rest[0].partition("=")
            own = [flag for flag in takes_value if flag.startswith(name)] if name.startswith("--") else []
            if len(own) != 1 and name not in takes_value:
                break
            flag = name if name in takes_value else own[0]
            rest = rest[2 if takes_value[flag] and not equals else 1 :]
        if not rest or not rest[0].startswith("--") or "--help".startswith(rest[0]):  # argparse takes a prefix
            return None
        example = self.recipe_help.split("e.g. ")[-1]
        return (
            f"the recipe comes first, then the --field value pairs that change it: compactbert {self.name} "
            f"{example} {' '.join(rest[:2])} ... (the checkout's configs/ holds the recipes; a recipe is a YAML file "
            f"of field: value lines, whose fields docs/recipes.md lists), got {rest[0]} where the recipe goes"
        )

    def run(self, args: argparse.Namespace) -> int:
        return self.runner(args.recipe, args.overrides, args)


def run_finetune(recipe: str, tokens: Sequence[str], args: argparse.Namespace) -> int:
    from ..finetune import MODEL_SUBDIR, DataArguments, FinetuneArguments, ModelArguments, finetune, parse_recipe

    overrides = parse_overrides(tokens, (ModelArguments, DataArguments, FinetuneArguments))
    model_args, data_args, training_args = parse_recipe(recipe, overrides)
    metrics = finetune(model_args, data_args, training_args)
    print_scores(metrics, data_args.task)
    shrunk_here = model_args.shrink_strategy is not None or model_args.shrink_keep is not None
    if shrunk_here and metrics.get("kept_layers") is not None:  # which layers, as `compactbert shrink` says
        config = json.loads((Path(training_args.output_dir) / MODEL_SUBDIR / "config.json").read_text())
        kept = metrics["kept_layers"]
        dropped = [i for i in range(config.get("source_num_hidden_layers") or 0) if i not in kept]
        how = f"strategy {metrics['drop_strategy']}" if metrics.get("drop_strategy") else "shrink_keep"
        print(f"shrunk:     kept {kept}, dropped {dropped} (0-based source layers; {how})")
    print(f"model:      {training_args.output_dir}/{MODEL_SUBDIR}  (metrics.json inside)")
    return EXIT_OK


def run_distill(recipe: str, tokens: Sequence[str], args: argparse.Namespace) -> int:
    from ..distillation.recipe import DATACLASSES, distill, parse_distill_recipe
    from ..finetune import MODEL_SUBDIR

    model_args, teacher_args, data_args, training_args = parse_distill_recipe(
        recipe, parse_overrides(tokens, DATACLASSES)
    )
    metrics = distill(model_args, teacher_args, data_args, training_args)
    print_scores(metrics, data_args.task)
    print(f"model:      {training_args.output_dir}/{MODEL_SUBDIR}  (metrics.json inside)")
    return EXIT_OK


def run_pretrain(recipe: str, tokens: Sequence[str], args: argparse.Namespace) -> int:
    from ..finetune import MODEL_SUBDIR
    from ..pretraining.pretrain import (
        PretrainArguments,
        PretrainDataArguments,
        PretrainModelArguments,
        parse_pretrain_recipe,
        pretrain,
    )

    overrides = parse_overrides(tokens, (PretrainModelArguments, PretrainDataArguments, PretrainArguments))
    model_args, data_args, training_args = parse_pretrain_recipe(recipe, overrides)
    metrics = pretrain(model_args, data_args, training_args)
    print(
        f"held-out  SOP accuracy {metrics['sop_accuracy']:.4f}  NSP accuracy {metrics['nsp_accuracy']:.4f}  "
        f"MLM accuracy {metrics['mlm_accuracy']:.4f}  (trained on {model_args.sentence_objective})"
    )
    print(f"model:    {training_args.output_dir}/{MODEL_SUBDIR}  (metrics.json inside)")
    return EXIT_OK


def run_build(recipe: str, tokens: Sequence[str], args: argparse.Namespace) -> int:
    from ..fields import parse_field_value
    from ..finetune import DataArguments, FinetuneArguments, ModelArguments
    from ..hub.build import build, read_recipe
    from ..hub.gate import recorded_accuracy

    # a zoo recipe's `training` takes the fine-tuning recipe's fields; output_dir and overwrite are the build's own
    overrides = parse_overrides(tokens, (ModelArguments, DataArguments, FinetuneArguments))
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    if args.overwrite:
        overrides["overwrite"] = True
    exports = overrides.pop("exports", None) if args.exports is None else args.exports  # also after the recipe
    if exports is not None:  # the recipe's `exports:` replaced; `none` writes none
        names = [name.strip() for name in exports.split(",") if name.strip()] if isinstance(exports, str) else []
        if not names:
            raise ValueError("--exports needs a value: the formats to export, comma-separated, or none")
        overrides["exports"] = [] if [name.lower() for name in names] == ["none"] else names
    force = overrides.pop("force", False)  # `--force` after the recipe arrives with the overrides
    force = args.force or (force if isinstance(force, bool) else parse_field_value(force, bool, "force"))
    zoo_recipe = read_recipe(recipe, overrides)
    folder = build(zoo_recipe, force=force)
    info = json.loads((Path(folder) / "build.json").read_text())
    test, latency, source = info["metrics"].get("test"), info["comparison"]["latency"], info["comparison"]["source"]
    print(f"built:      {zoo_recipe.name} ({zoo_recipe.family}) -> {folder}")
    if recorded_accuracy(info["metrics"]) is None:  # built with --force although nothing was evaluated
        line = f"test:       not evaluated ({zoo_recipe.task})"
    else:
        line = f"test:       accuracy {test['accuracy']:.4f}  macro-F1 {test['macro_f1']:.4f}  ({zoo_recipe.task})"
    if source.get("accuracy") is not None:
        line += f"   source: accuracy {source['accuracy']:.4f}  macro-F1 {source['macro_f1']:.4f}"
    print(line)
    m, s = latency["model"], latency["source"]
    print(
        f"latency:    {m['median_ms']:.1f} ms ({m['min_ms']:.1f}-{m['max_ms']:.1f}) vs source {s['median_ms']:.1f} ms "
        f"({s['min_ms']:.1f}-{s['max_ms']:.1f}), median ratio {s['median_ms'] / m['median_ms']:.2f}x "
        f"(batch {latency['batch_size']}, {latency['dtype']}, {latency['threads']} threads, interleaved)"
    )
    gate = info["metrics"]["quality_gate"]
    if gate["overridden"]:
        print(f"gate:       OVERRIDDEN with --force (the card says so): {'; '.join(gate['failures'])}")
    else:
        print(
            f"gate:       passed (test accuracy {gate['accuracy']:.4f}, majority class {gate['majority_accuracy']:.4f})"
        )
    print(f"card:       {Path(folder) / 'README.md'} (validated)")
    print(f"publish:    compactbert push {folder} --repo-id {zoo_recipe.repo_id or 'ORG/NAME'}")
    return EXIT_OK


FINETUNE = RecipeCommand(
    "finetune",
    help="fine-tune (optionally shrink first, optionally LoRA) from a YAML recipe",
    description="Run a fine-tuning recipe on transformers.Trainer. Keys of the YAML recipe, and --field value "
    "overrides after it, are fields of ModelArguments, DataArguments and TrainingArguments.",
    recipe_help="YAML recipe, e.g. configs/bbc-news-minilm-top3.yaml",
    runner=run_finetune,
)

PRETRAIN = RecipeCommand(
    "pretrain",
    help="pretrain an Albert-SOP model (MLM + SOP or NSP) from a YAML recipe",
    description="Run a pretraining recipe on transformers.Trainer. Keys of the YAML recipe, and --field value "
    "overrides after it, are fields of PretrainModelArguments, PretrainDataArguments and TrainingArguments.",
    recipe_help="YAML recipe, e.g. configs/albert-sop-bbc-small.yaml",
    runner=run_pretrain,
)

DISTILL = RecipeCommand(
    "distill",
    help="distil a fine-tuned teacher into a student (DistilBERT / TinyBERT losses) from a YAML recipe",
    description="Run a distillation recipe on the DistillationTrainer. Keys of the YAML recipe, and --field "
    "value overrides after it, are fields of ModelArguments, TeacherArguments, DataArguments and "
    "DistillationTrainingArguments (see configs/distill/*.yaml).",
    recipe_help="YAML recipe, e.g. configs/distill/bbc-news-minilm-3layer.yaml",
    runner=run_distill,
)

BUILD = RecipeCommand(
    "build",
    help="build a zoo entry from its recipe: compact, fine-tune, evaluate, time vs the source, write the card",
    description="Run a zoo recipe (configs/<entry>.yaml) end to end into <output_dir>/model, ready to push. "
    "--field value pairs after the recipe override its training arguments (e.g. --max_train_samples 64).",
    recipe_help="zoo recipe, e.g. configs/minilm-top3-bbc-news.yaml",
    runner=run_build,
    overrides_help="--field value pairs for the training arguments",
    options=(
        Option(
            ("--output-dir",),
            {"help": "where to build (default: the recipe's output_dir, else runs/zoo/<name>)"},
        ),
        Option(("--overwrite",), {"action": "store_true", "help": "replace an existing build"}),
        Option(
            ("--exports",),
            {
                "metavar": "LIST",
                "help": "the exports to write into the model folder instead of the recipe's exports: (comma-separated: "
                "openvino, onnx, openvino-int8), or none to skip them (compactbert export adds one later)",
            },
        ),
        Option(
            ("--force",),
            {
                "action": "store_true",
                "help": "write the model even if the quality gate refuses it (test accuracy not clearly above the "
                "majority class, or below gate.min_retention); its card then says the gate was overridden",
            },
        ),
    ),
)

__all__ = ["BUILD", "DISTILL", "FINETUNE", "PRETRAIN", "Option", "RecipeCommand"]
