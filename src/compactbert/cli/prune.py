"""`compactbert prune SOURCE --layers 4 --hidden 312 --ffn 1200 --heads 12 -o OUT`: cut a TinyBert out of a BERT."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..pruning import IMPORTANCE_MEASURES
from ..shrinking import STRATEGIES
from .common import EXIT_OK, Command, comma_list, millions
from .shrink import read_calibration_file

layer_indices = comma_list(int, "0-based layer indices")


class PruneCommand(Command):
    name = "prune"
    help = "cut a TinyBert out of a trained BERT (width + depth pruning) and save it"
    description = (
        "Cut a TinyBert student out of a trained BERT-architecture model: keep the chosen layers and, by importance, "
        "the best hidden channels, attention heads, head dimensions and FFN neurons (Minitron-style). A size not "
        "given keeps the source's. Saves a ready model + tokenizer."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("source", help="a local model folder, a Hub id, or a built-in name (minilm)")
        p.add_argument("--layers", type=int, help="layers to keep (TinyBERT-4: 4)")
        p.add_argument("--hidden", type=int, help="hidden size (TinyBERT-4: 312)")
        p.add_argument("--ffn", type=int, help="FFN size, intermediate_size (TinyBERT-4: 1200)")
        p.add_argument("--heads", type=int, help="attention heads (TinyBERT-4: 12)")
        which = p.add_mutually_exclusive_group()
        which.add_argument(
            "--keep-layers", type=layer_indices, nargs="+", help="explicit 0-based source layers, e.g. 0 1 2 4"
        )
        which.add_argument(
            "--layer-strategy",
            choices=list(STRATEGIES),
            help="pick the layers by a layer-dropping strategy (default: even-alternate, or top when more than "
            "half the layers go)",
        )
        p.add_argument(
            "--importance",
            default="activation",
            choices=list(IMPORTANCE_MEASURES),
            help="activation (on calibration texts; default) or magnitude (weight norms, no texts)",
        )
        texts = p.add_mutually_exclusive_group()
        texts.add_argument("--calibration-task", help="score on this task's training texts (a built-in name, file...)")
        texts.add_argument("--calibration-file", help="score on these texts, one per line")
        p.add_argument(
            "--calibration-size",
            type=int,
            default=1024,
            help="at most this many calibration texts (default: 1024; without a task or file: a fixed BBC News sample)",
        )
        p.add_argument("--batch-size", type=int, default=32, help="batch size of the calibration passes (default: 32)")
        p.add_argument("--max-length", type=int, default=128, help="tokens per calibration text (default: 128)")
        p.add_argument("--output", "-o", required=True, help="folder to write the model into")
        p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
        p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
        p.add_argument("--revision", help="Hub revision when SOURCE is a Hub id")

    def run(self, args: argparse.Namespace) -> int:
        from transformers import AutoTokenizer

        from ..checkpoints import parameter_count, resolve_model_folder
        from ..io import save_model
        from ..pruning import PruneTarget, prune

        output = Path(args.output)
        if output.exists() and not args.overwrite:
            raise FileExistsError(f"output folder {output} already exists; choose another or pass --overwrite")
        target = PruneTarget(
            num_hidden_layers=args.layers,
            hidden_size=args.hidden,
            intermediate_size=args.ffn,
            num_attention_heads=args.heads,
        )
        texts = None
        if args.calibration_file:
            texts = read_calibration_file(args.calibration_file)
        elif args.calibration_task:
            from ..data import load_task

            texts = load_task(args.calibration_task).dataset["train"][: args.calibration_size]["text"]
        layers = [i for part in args.keep_layers for i in part] if args.keep_layers else args.layer_strategy
        folder = resolve_model_folder(args.source, revision=args.revision, allow_pickle=args.allow_pickle)
        model = prune(
            args.source,
            target,
            texts,
            layers=layers,
            importance=args.importance,
            calibration_size=args.calibration_size,
            batch_size=args.batch_size,
            max_length=args.max_length,
            allow_pickle=args.allow_pickle,
            revision=args.revision,
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError) as err:
            print(f"warning: no tokenizer saved ({folder} has none that loads: {err})", file=sys.stderr)
            tokenizer = None
        save_model(model, output, tokenizer=tokenizer, overwrite=args.overwrite)

        for what, how in describe_pruning(model.config.pruned_from, model.config.pruning):
            print(f"{what + ':':11} {how}")
        before, after = parameter_count(folder, allow_pickle=args.allow_pickle), model.num_parameters()
        print(f"parameters: {millions(before)} -> {millions(after)} ({100 * (after - before) / before:+.1f}%)")
        print(f"saved to:   {output}  (load: AutoModel.from_pretrained('{output}') after `import compactbert`)")
        return EXIT_OK


def describe_pruning(pruned_from: str, pruning: dict) -> list[tuple[str, str]]:
    """(what, how) pairs that say how a model was pruned, from its config's `pruned_from` and `pruning`."""
    p = pruning
    calibration = f", {p['calibration_size']} calibration texts" if p["calibration_size"] else " (weights only)"
    return [
        ("source", pruned_from),
        ("layers", f"{p['kept_layers']} of {p['source_num_hidden_layers']} kept ({p['layer_strategy']}, 0-based)"),
        ("hidden", f"{p['hidden_size']} of {p['source_hidden_size']} channels"),
        (
            "heads",
            f"{p['num_attention_heads']} of {p['source_num_attention_heads']}, each {p['head_dim']} of "
            f"{p['source_head_dim']} dimensions",
        ),
        ("ffn", f"{p['intermediate_size']} of {p['source_intermediate_size']} neurons"),
        ("importance", f"{p['importance']}{calibration}"),
    ]
