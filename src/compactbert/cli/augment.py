"""`compactbert augment --task T --mlm M -o OUT`: TinyBERT's data augmentation of one split of a task."""

from __future__ import annotations

import argparse
import json

from .common import EXIT_OK, Command


class AugmentCommand(Command):
    name = "augment"
    help = "TinyBERT data augmentation: N copies of each example with words replaced (MLM + word vectors)"
    description = (
        "Replace each word with probability P: single-piece words by one of the K best masked-LM "
        "predictions, multi-piece words by one of K nearest word vectors (GloVe file, else the MLM's embeddings). "
        "Writes the task with its split augmented as Parquet files."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--task", required=True, help="built-in task (bbc-news, rotten-tomatoes), data file or Hub id")
        p.add_argument("--text-column", help="the data file's text column (default: found by its name: text, ...)")
        p.add_argument("--label-column", help="the data file's label column (default: found by its name: label, ...)")
        p.add_argument("--mlm", required=True, help="masked language model: folder, Hub id (must have its MLM head)")
        p.add_argument("--output", "-o", required=True, help="folder to write train/validation/test.parquet into")
        p.add_argument("--glove", help="GloVe-format word vectors (default: the MLM's input embeddings)")
        p.add_argument("--n", type=int, default=20, help="augmented copies per example (default: 20)")
        p.add_argument("--p", type=float, default=0.4, help="probability of replacing a word (default: 0.4)")
        p.add_argument("--k", type=int, default=15, help="candidates per word (default: 15)")
        p.add_argument("--seed", type=int, default=42, help="sampling seed (default: 42)")
        p.add_argument("--split", default="train", help="which split to augment (default: train)")
        p.add_argument("--max-examples", type=int, help="augment only the first N examples of the split")
        p.add_argument("--max-length", type=int, default=128, help="tokens the MLM sees per text (default: 128)")
        p.add_argument(
            "--bf16", action="store_true", help="run the MLM under bfloat16 autocast (faster on AMX CPUs, GPUs)"
        )
        p.add_argument("--batch-size", type=int, default=32, help="examples per map batch (default: 32)")
        p.add_argument("--cache-dir", help="cache folder (default: the datasets cache)")
        p.add_argument(
            "--overwrite",
            action="store_true",
            help="replace the output folder if it exists and is a data folder written by augment or empty (never the current "
            "folder or one holding the source)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from ..data.columns import ColumnNotFound
        from ..distillation.augment import STATS_FILE, AugmentSettings, augment_task

        settings = AugmentSettings(
            n=args.n, p=args.p, k=args.k, seed=args.seed, max_length=args.max_length, bf16=args.bf16
        )
        try:
            folder = augment_task(
                args.task,
                args.mlm,
                args.output,
                glove=args.glove,
                settings=settings,
                split=args.split,
                max_examples=args.max_examples,
                batch_size=args.batch_size,
                cache_dir=args.cache_dir,
                overwrite=args.overwrite,
                text_column=args.text_column,
                label_column=args.label_column,
            )
        except ColumnNotFound as err:  # named with this command's options, not a recipe's
            option = "--" + err.option.replace("_", "-")
            raise ValueError(f"{err.problem} Name it: {option} NAME") from None
        stats = json.loads((folder / STATS_FILE).read_text())
        print(
            f"examples:   {stats['examples']} ({stats['split']}) -> {stats['rows']} rows (each + {settings.n} copies)"
        )
        print(f"vectors:    {stats['word_vectors']}")
        print(f"saved to:   {folder}  (load: compactbert.data.load_task('{folder}'))")
        return EXIT_OK
