"""`compactbert albert SOURCE --embedding-size E --sharing MODE --init RULE -o OUT`: an Albert-SOP started from a BERT."""

from __future__ import annotations

import argparse

from ..conversion import DEFAULT_INIT, INIT_RULES
from .common import EXIT_OK, Command
from .model_io import (
    add_source_and_output,
    add_texts_arguments,
    output_folder,
    print_saved,
    save_from_source,
    source_tokenizer,
    texts_from,
)

# as compactbert.models.albert_sop.SHARING_MODES, which cannot be imported here without torch (a test holds them equal)
SHARING_CHOICES = ("all", "attention", "ffn", "none")


def init_rule(text: str) -> str:
    """`--init`: a rule name or a 0-based source layer index (checked against the source in `albert_from_bert`)."""
    if text in INIT_RULES or text.isdigit():
        return text
    raise argparse.ArgumentTypeError(
        f"invalid init '{text}'; choose one of: {', '.join(INIT_RULES)}, or a 0-based source layer index"
    )


class AlbertCommand(Command):
    name = "albert"
    help = "start an Albert-SOP from a trained BERT (SVD-factorised embeddings, shared layers)"
    description = (
        "Convert a trained BERT (or ShrunkBert) into an Albert-SOP: the word embeddings factorised by truncated SVD "
        "into vocab x E and E x H, and the layers' weights shared as --sharing says, starting from the source's "
        "layers by --init. Saves the model (with the source's head) and tokenizer, ready to distil or fine-tune."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--embedding-size", type=int, default=128, help="E, from 2 to the hidden size (default: 128)")
        p.add_argument(
            "--sharing", default="all", choices=SHARING_CHOICES, help="what the layers share (default: all)"
        )
        p.add_argument(
            "--init",
            type=init_rule,
            default=DEFAULT_INIT,
            help=f"how shared weights start: {', '.join(INIT_RULES)} (of the source's layers) or a 0-based source "
            f"layer index (default: {DEFAULT_INIT})",
        )
        add_texts_arguments(
            p,
            "frequency",
            task_help="weight the SVD's rows by token counts in this task's training texts (e.g. rotten-tomatoes)",
            file_help="weight the SVD's rows by token counts in these texts, one a line",
        )
        add_source_and_output(p)

    def run(self, args: argparse.Namespace) -> int:
        from ..checkpoints import parameter_count, resolve_model_folder
        from ..conversion import albert_from_bert

        folder = resolve_model_folder(args.source, revision=args.revision, allow_pickle=args.allow_pickle)
        output = output_folder(args, folder)
        before = parameter_count(folder, allow_pickle=args.allow_pickle)  # before the output may replace it
        texts = texts_from(args, "frequency")
        tokenizer = source_tokenizer(folder, needed_by=None if texts is None else "--frequency-*")
        model = albert_from_bert(
            args.source,
            embedding_size=args.embedding_size,
            sharing=args.sharing,
            init=args.init,
            frequency_texts=texts,
            tokenizer=tokenizer,
            allow_pickle=args.allow_pickle,
            revision=args.revision,
        )
        pipeline = save_from_source(model, output, tokenizer, folder, args.overwrite)

        config = model.config
        print(f"source:     {config.source_model} ({config.num_hidden_layers} layers)")
        print(f"model:      {type(model).__name__}")
        print(f"embedding:  {config.vocab_size} x {config.embedding_size} + {config.embedding_size} x "
              f"{config.hidden_size} ({config.embedding_factorization})")  # fmt: skip
        print(f"sharing:    {config.sharing} (shared weights start from: {config.shared_init or 'no sharing'})")
        print(f"reconstruction error of the word embeddings: {config.embedding_reconstruction_error:.4f}")
        print_saved(model, before, output, pipeline)
        return EXIT_OK
