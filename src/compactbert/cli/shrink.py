"""`compactbert shrink SOURCE --drop K | --keep-layers ... -o OUT`: Poor Man's BERT layer dropping, saved ready to load."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..shrinking import STRATEGIES
from .common import EXIT_BAD_INPUT, EXIT_OK, Command, comma_list, millions

layer_indices = comma_list(int, "0-based layer indices")


def read_calibration_file(path: str) -> list[str]:
    """The texts of a calibration file, one per non-empty line."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"calibration file {file} does not exist")
    texts = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"calibration file {file} has no non-empty lines; expected one text per line")
    return texts


class ShrinkCommand(Command):
    name = "shrink"
    help = "drop layers of a BERT (Poor Man's BERT) and save the ShrunkBert"
    description = "Drop whole layers of a pre-trained BERT and save a ready ShrunkBert model + tokenizer."

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("source", help="a local model folder, a Hub id, or a built-in name (minilm)")
        p.add_argument(
            "--strategy", default="top", choices=list(STRATEGIES), help="which layers to drop (default: top)"
        )
        p.add_argument("--drop", type=int, help="how many layers to drop (K)")
        which = p.add_mutually_exclusive_group()
        which.add_argument("--keep-layers", type=layer_indices, help="explicit 0-based indices to keep, e.g. 0,2,4")
        which.add_argument("--drop-layers", type=layer_indices, help="explicit 0-based indices to drop, e.g. 1,3,5")
        p.add_argument("--threshold", type=float, help="contribution strategy: drop layers whose score is above this")
        p.add_argument("--calibration-file", help="contribution strategy: texts to score layers on, one per line")
        p.add_argument("--batch-size", type=int, default=16, help="batch size for scoring layers (default: 16)")
        p.add_argument("--output", "-o", required=True, help="folder to write the model into")
        p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
        p.add_argument("--allow-pickle", action="store_true", help="accept pytorch_model.bin (pickle) weights")
        p.add_argument("--revision", help="Hub revision when SOURCE is a Hub id")

    def run(self, args: argparse.Namespace) -> int:
        if args.drop is None and args.threshold is None and not (args.keep_layers or args.drop_layers):
            print(
                "compactbert shrink: error: give --drop K, --threshold, --keep-layers or --drop-layers",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        from transformers import AutoTokenizer

        from ..checkpoints import parameter_count, resolve_model_folder
        from ..io import save_model
        from ..shrinking import shrink

        output = Path(args.output)
        if output.exists() and not args.overwrite:
            raise FileExistsError(f"output folder {output} already exists; choose another or pass --overwrite")
        texts = read_calibration_file(args.calibration_file) if args.calibration_file else None
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
        print(f"parameters: {millions(before)} -> {millions(after)} ({100 * (after - before) / before:+.1f}%)")
        print(f"saved to:   {output}  (load: AutoModel.from_pretrained('{output}') after `import compactbert`)")
        return EXIT_OK
