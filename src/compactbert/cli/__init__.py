"""`compactbert <command>`: the command line.

One module per command (`COMMANDS` in `commands` lists them; `recipes` holds the one command class behind
`finetune`, `pretrain`, `distill` and `build`), the shared pieces in `common` (and `model_io`, the model-folder
arguments of shrink, prune and albert), and the registry, parser and `main` in `commands`. Imports flow one way: this package imports the library, nothing in the library
imports this package. Commands import torch, transformers and datasets only when they run, so `compactbert --help`
and `compactbert <command> --help` load none of them.
"""

from .commands import COMMANDS, build_parser, main
from .common import Command

__all__ = ["COMMANDS", "Command", "build_parser", "main"]
