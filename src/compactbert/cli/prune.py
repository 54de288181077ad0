"""`compactbert prune SOURCE --layers 4 --hidden 312 --ffn 1200 --heads 12 -o OUT`: cut a TinyBert out of a BERT."""

from __future__ import annotations

import argparse

from ..pruning import IMPORTANCE_MEASURES
from ..shrinking import STRATEGIES
from .common import EXIT_OK, Command, add_layer_indices, at_least_one
from .model_io import (
    add_source_and_output,
    add_texts_arguments,
    output_folder,
    print_saved,
    save_from_source,
    source_tokenizer,
    texts_from,
)


class PruneCommand(Command):
    name = "prune"
    help = "cut a TinyBert out of a trained BERT (width + depth pruning) and save it"
    description = (
        "Cut a TinyBert student out of a trained BERT-architecture model: keep the chosen layers and, by importance, "
        "the best hidden channels, attention heads, head dimensions and FFN neurons (Minitron-style). A size not "
        "given keeps the source's. Saves a ready model + tokenizer."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--layers", type=at_least_one, help="layers to keep (e.g. 4, as TinyBERT-4)")
        p.add_argument("--hidden", type=at_least_one, help="hidden size (e.g. 312, as TinyBERT-4)")
        p.add_argument("--ffn", type=at_least_one, help="FFN size, intermediate_size (e.g. 1200, as TinyBERT-4)")
        p.add_argument("--heads", type=at_least_one, help="attention heads (e.g. 12, as TinyBERT-4)")
        which = p.add_mutually_exclusive_group()
        add_layer_indices(
            which,
            "--keep-layers",
            "explicit 0-based source layers, e.g. 0 1 2 4 or 0,1,2,4 (as many as --layers, which they set when left "
            "out)",
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
        add_texts_arguments(
            p,
            "calibration",
            task_help="score on this task's training texts (a built-in name, file...)",
            file_help="score on these texts, one per line",
        )
        p.add_argument(
            "--calibration-size",
            type=int,
            default=1024,
            help="at most this many calibration texts (default: 1024; without a task or file: a fixed BBC News sample)",
        )
        p.add_argument("--batch-size", type=int, default=32, help="batch size of the calibration passes (default: 32)")
        p.add_argument("--max-length", type=int, default=128, help="tokens per calibration text (default: 128)")
        add_source_and_output(p)

    def run(self, args: argparse.Namespace) -> int:
        from ..checkpoints import parameter_count, resolve_model_folder
        from ..pruning import PruneTarget, prune

        if args.importance == "magnitude" and (args.calibration_file or args.calibration_task):
            raise ValueError(
                "--importance magnitude scores the weights, not texts: leave out --calibration-file / "
                "--calibration-task, or score on them with --importance activation"
            )
        if all(size is None for size in (args.layers, args.hidden, args.ffn, args.heads, args.keep_layers)):
            raise ValueError(
                "nothing to prune: give the sizes to cut to (--layers, --hidden, --ffn, --heads, or --keep-layers); "
                "TinyBERT-4's are --layers 4 --hidden 312 --ffn 1200 --heads 12"
            )
        folder = resolve_model_folder(args.source, revision=args.revision, allow_pickle=args.allow_pickle)
        output = output_folder(args, folder)
        target = PruneTarget(
            num_hidden_layers=args.layers,
            hidden_size=args.hidden,
            intermediate_size=args.ffn,
            num_attention_heads=args.heads,
        )
        texts = texts_from(args, "calibration", args.calibration_size)
        layers = args.keep_layers or args.layer_strategy
        before = parameter_count(folder, allow_pickle=args.allow_pickle)  # before the output may replace it
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
        pipeline = save_from_source(model, output, source_tokenizer(folder), folder, args.overwrite)

        for what, how in describe_pruning(model.config.pruned_from, model.config.pruning):
            print(f"{what + ':':11} {how}")
        print_saved(model, before, output, pipeline)
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
