"""`compactbert <command>`: the command-line interface."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .bench_cli import add_parser as add_bench_parser
from .distillation.augment import add_augment_parser
from .distillation.cli import add_distill_parser
from .hub.commands import add_commands as add_hub_commands

EXIT_BAD_INPUT = 2


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated 0-based layer indices like 0,2,4; got '{text}'"
        ) from None


def _read_calibration_file(path: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"calibration file {file} does not exist")
    texts = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"calibration file {file} has no non-empty lines; expected one text per line")
    return texts


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M"


def cmd_shrink(args: argparse.Namespace) -> int:
    from transformers import AutoTokenizer

    from .checkpoints import parameter_count, resolve_model_folder
    from .io import save_model
    from .shrinking import shrink

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise FileExistsError(f"output folder {output} already exists; choose another or pass --overwrite")
    texts = _read_calibration_file(args.calibration_file) if args.calibration_file else None
    folder = resolve_model_folder(args.source, revision=args.revision, allow_pickle=args.allow_pickle)
    model = shrink(
        args.source,
        strategy=args.strategy,
        num_drop=args.drop,
        keep=args.keep_layers,
        drop=args.drop_layers,
        threshold=args.threshold,
        calibration_texts=texts,
        allow_pickle=args.allow_pickle,
        revision=args.revision,
        batch_size=args.batch_size,
    )
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as err:
        print(f"warning: no tokenizer saved ({folder} has none that loads: {err})", file=sys.stderr)
        tokenizer = None
    save_model(model, output, tokenizer=tokenizer, overwrite=args.overwrite)

    config = model.config
    before, after = parameter_count(folder, allow_pickle=args.allow_pickle), model.num_parameters()
    print(f"source:     {config.source_model} ({config.source_num_hidden_layers} layers)")
    print(f"strategy:   {config.drop_strategy}")
    print(f"kept:       {config.kept_layers} (0-based source indices)")
    print(f"dropped:    {config.dropped_layers}")
    if config.layer_contributions is not None:
        scores = ", ".join("-" if s is None else f"{s:.4f}" for s in config.layer_contributions)
        print(f"[CLS] in/out cosine per source layer: {scores}")
    print(f"parameters: {_millions(before)} -> {_millions(after)} ({100 * (after - before) / before:+.1f}%)")
    print(f"saved to:   {output}  (load: AutoModel.from_pretrained('{output}') after `import compactbert`)")
    return 0


def _overrides(tokens: list[str]) -> dict:
    """`--key value` / `--key=value` pairs after the recipe; values are read as YAML (numbers, true, [1, 2])."""
    import yaml

    fields, i = {}, 0
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
            key, value = token[2:], "true"
            i += 1
        fields[key.replace("-", "_")] = yaml.safe_load(value)
    return fields


def cmd_finetune(args: argparse.Namespace) -> int:
    from .finetune import MODEL_SUBDIR, finetune, parse_recipe

    model_args, data_args, training_args = parse_recipe(args.recipe, _overrides(args.overrides))
    metrics = finetune(model_args, data_args, training_args)
    for split in ("validation", "test"):
        m = metrics[split]
        print(f"{split:10}  accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ({data_args.task})")
    print(f"model:      {training_args.output_dir}/{MODEL_SUBDIR}  (metrics.json inside)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import transformers

    from .assets import BUILTIN_MODELS
    from .models import list_families
    from .shrinking import STRATEGIES

    if args.model is None:
        info = {
            "compactbert": __version__,
            "transformers": transformers.__version__,
            "families": list_families(),
            "strategies": {name: s.description for name, s in STRATEGIES.items()},
            "builtin_models": {name: m.description for name, m in BUILTIN_MODELS.items()},
        }
        if args.json:
            print(json.dumps(info, indent=2))
            return 0
        print(f"compactbert {info['compactbert']} (transformers {info['transformers']})")
        print(f"families:  {', '.join(info['families'])}")
        print("strategies:")
        for name, text in info["strategies"].items():
            print(f"  {name:15} {text}")
        print("  (explicit)      --keep-layers / --drop-layers with 0-based indices")
        print("built-in models:")
        for name, text in info["builtin_models"].items():
            print(f"  {name:15} {text}")
        return 0

    from .checkpoints import describe_model

    info = describe_model(args.model, allow_pickle=args.allow_pickle)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for key in ("path", "model_type", "architecture", "num_hidden_layers", "hidden_size"):
        print(f"{key:18} {info[key]}")
    print(f"{'parameters':18} {info['parameters']:,} ({_millions(info['parameters'])})")
    provenance = info.get("provenance")
    if provenance:
        print(f"{'source_model':18} {provenance['source_model']}")
        print(f"{'drop_strategy':18} {provenance['drop_strategy']}")
        scores = provenance["layer_contributions"]
        print("source layer  status   [CLS] in/out cosine")
        for i in range(provenance["source_num_hidden_layers"]):
            status = "kept" if i in provenance["kept_layers"] else "dropped"
            score = "" if scores is None or scores[i] is None else f"{scores[i]:.4f}"
            print(f"{i:12}  {status:7}  {score}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .demo.command import add_parser as add_demo_parser
    from .shrinking import STRATEGIES

    parser = argparse.ArgumentParser(prog="compactbert", description="Compact BERT-family models.")
    parser.add_argument("--version", action="version", version=f"compactbert {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "shrink",
        help="drop layers of a BERT (Poor Man's BERT) and save the ShrunkBert",
        description="Drop whole layers of a pre-trained BERT and save a ready ShrunkBert model + tokenizer.",
    )
    p.add_argument("source", help="a local model folder, a Hub id, or a built-in name (minilm)")
    p.add_argument("--strategy", default="top", choices=list(STRATEGIES), help="which layers to drop (default: top)")
    p.add_argument("--drop", type=int, help="how many layers to drop (K)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--keep-layers", type=_int_list, help="explicit 0-based indices to keep, e.g. 0,2,4")
    which.add_argument("--drop-layers", type=_int_list, help="explicit 0-based indices to drop, e.g. 1,3,5")
    p.add_argument("--threshold", type=float, help="contribution strategy: drop layers whose score is above this")
    p.add_argument("--calibration-file", help="contribution strategy: texts to score layers on, one per line")
    p.add_argument("--batch-size", type=int, default=16, help="batch size for scoring layers (default: 16)")
    p.add_argument("--output", "-o", required=True, help="folder to write the model into")
    p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
    p.add_argument("--revision", help="Hub revision when SOURCE is a Hub id")
    p.set_defaults(func=cmd_shrink)

    p = commands.add_parser(
        "finetune",
        help="fine-tune (optionally shrink first, optionally LoRA) from a YAML recipe",
        description="Run a fine-tuning recipe on transformers.Trainer. Keys of the YAML recipe, and --field value "
        "overrides after it, are fields of ModelArguments, DataArguments and TrainingArguments.",
    )
    p.add_argument("recipe", help="YAML recipe, e.g. configs/bbc-news-minilm-top3.yaml")
    p.add_argument("overrides", nargs=argparse.REMAINDER, help="--field value pairs that override the recipe")
    p.set_defaults(func=cmd_finetune)

    from .pretraining.pretrain import add_pretrain_parser

    add_pretrain_parser(commands)
    add_distill_parser(commands)

    p = commands.add_parser("info", help="what compactbert offers, or what a model folder holds")
    p.add_argument("model", nargs="?", help="a model folder or built-in name; omit to list strategies and families")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
    p.set_defaults(func=cmd_info)

    add_bench_parser(commands)
    add_demo_parser(commands)
    add_hub_commands(commands)  # build, push
    add_augment_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        args.command == "shrink"
        and args.drop is None
        and args.threshold is None
        and not (args.keep_layers or args.drop_layers)
    ):
        print("compactbert shrink: error: give --drop K, --threshold, --keep-layers or --drop-layers", file=sys.stderr)
        return EXIT_BAD_INPUT
    import yaml

    try:
        return args.func(args)
    except (ValueError, OSError, TypeError, RuntimeError, yaml.YAMLError) as err:
        if os.environ.get("COMPACTBERT_DEBUG"):
            raise
        print(f"compactbert {args.command}: error: {err}", file=sys.stderr)
        print("(set COMPACTBERT_DEBUG=1 for the full traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
