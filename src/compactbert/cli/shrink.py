"""`compactbert shrink SOURCE --drop K | --keep-layers ... -o OUT`: Poor Man's BERT layer dropping, saved ready to load."""

from __future__ import annotations

import argparse
import sys

from ..shrinking import STRATEGIES
from .common import EXIT_BAD_INPUT, EXIT_OK, Command, add_layer_indices
from .model_io import (
    add_source_and_output,
    output_folder,
    print_saved,
    read_calibration_file,
    save_from_source,
    source_tokenizer,
)


class ShrinkCommand(Command):
    name = "shrink"
    help = "drop layers of a BERT (Poor Man's BERT) and save the ShrunkBert"
    description = "Drop whole layers of a pre-trained BERT and save a ready ShrunkBert model + tokenizer."

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--strategy", default="top", choices=list(STRATEGIES), help="which layers to drop (default: top)"
        )
        p.add_argument("--drop", type=int, help="how many layers to drop (K)")
        which = p.add_mutually_exclusive_group()
        add_layer_indices(which, "--keep-layers", "explicit 0-based indices to keep, e.g. 0 2 4 (or 0,2,4)")
        add_layer_indices(which, "--drop-layers", "explicit 0-based indices to drop, e.g. 1 3 5 (or 1,3,5)")
        p.add_argument("--threshold", type=float, help="contribution strategy: drop layers whose score is above this")
        p.add_argument("--calibration-file", help="contribution strategy: texts to score layers on, one per line")
        p.add_argument("--batch-size", type=int, default=16, help="batch size for scoring layers (default: 16)")
        add_source_and_output(p)

    def run(self, args: argparse.Namespace) -> int:
        if args.drop is None and args.threshold is None and not (args.keep_layers or args.drop_layers):
            print(
                "compactbert shrink: error: give --drop K, --threshold, --keep-layers or --drop-layers",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        if (args.keep_layers or args.drop_layers) and (args.drop is not None or args.threshold is not None):
            print(
                "compactbert shrink: error: give either the layers (--keep-layers / --drop-layers) or how many to "
                "drop with a strategy (--drop K / --threshold), not both",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        from ..checkpoints import parameter_count, resolve_model_folder
        from ..shrinking import shrink

        folder = resolve_model_folder(args.source, revision=args.revision, allow_pickle=args.allow_pickle)
        output = output_folder(args, folder)
        texts = read_calibration_file(args.calibration_file) if args.calibration_file else None
        before = parameter_count(folder, allow_pickle=args.allow_pickle)  # before the output may replace it
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
        pipeline = save_from_source(model, output, source_tokenizer(folder), folder, args.overwrite)

        config = model.config
        print(f"source:     {config.source_model} ({config.source_num_hidden_layers} layers)")
        print(f"strategy:   {config.drop_strategy}")
        print(f"kept:       {config.kept_layers} (0-based source indices)")
        print(f"dropped:    {config.dropped_layers}")
        if config.layer_contributions is not None:
            scores = ", ".join("-" if s is None else f"{s:.4f}" for s in config.layer_contributions)
            print(f"[CLS] in/out cosine per source layer: {scores}")
        print_saved(model, before, output, pipeline)
        return EXIT_OK
