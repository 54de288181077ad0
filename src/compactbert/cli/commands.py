"""`compactbert <command>`: the registry of commands, the parser built from it, and `main`."""

from __future__ import annotations

import argparse
import os
import sys

import yaml
from safetensors import SafetensorError

from .. import __version__
from .albert import AlbertCommand
from .augment import AugmentCommand
from .bench import BenchCommand
from .cache import CacheCommand
from .common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, Command, hide_instant_bars
from .demo import DemoCommand
from .evaluate import EvaluateCommand
from .export import ExportCommand
from .info import InfoCommand
from .prune import PruneCommand
from .publish import PublishCommand
from .push import PushCommand
from .recipes import BUILD, DISTILL, FINETUNE, PRETRAIN
from .shrink import ShrinkCommand

# The one list of commands, in the order `compactbert --help` shows them. A new command is a `Command` subclass in
# its own module of this package plus one line here.
COMMANDS: list[Command] = [
    ShrinkCommand(),
    AlbertCommand(),
    FINETUNE,
    PRETRAIN,
    DISTILL,
    EvaluateCommand(),
    InfoCommand(),
    BenchCommand(),
    DemoCommand(),
    BUILD,
    PushCommand(),
    PublishCommand(),
    AugmentCommand(),
    PruneCommand(),
    ExportCommand(),
    CacheCommand(),
]

# errors a command raises with a message for the user: printed as `compactbert <command>: error: ...`, exit 2
# a weights file cut short (an interrupted copy or download) fails in transformers' loading with safetensors' own
# error, which is none of the others
USER_ERRORS = (ValueError, OSError, TypeError, RuntimeError, yaml.YAMLError, SafetensorError)


def build_parser(commands: list[Command] | None = None) -> argparse.ArgumentParser:
    """The `compactbert` parser: one sub-parser per command of `commands` (default: `COMMANDS`)."""
    commands = COMMANDS if commands is None else commands
    names = [command.name for command in commands]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"commands {repeated} are registered twice; each command name must be unique")
    parser = argparse.ArgumentParser(prog="compactbert", description="Compact BERT-family models.")
    parser.add_argument("--version", action="version", version=f"compactbert {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        p = subparsers.add_parser(command.name, help=command.help, description=command.description)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `compactbert ARGV...`; returns the exit status (2 with a message for bad input)."""
    tokens = sys.argv[1:] if argv is None else list(argv)
    command = next((c for c in COMMANDS if tokens and c.name == tokens[0]), None)
    problem = command.misuse(tokens[1:]) if command is not None else None
    if problem is not None:
        print(f"compactbert {command.name}: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = build_parser().parse_args(tokens)
    try:
        hide_instant_bars()
        return args.run(args)
    except USER_ERRORS as err:
        if os.environ.get("COMPACTBERT_DEBUG"):
            raise
        if isinstance(err, SafetensorError):
            err = f"a weights file is not readable safetensors (corrupt or truncated? copy it again): {err}"
        print(f"compactbert {args.command}: error: {err}", file=sys.stderr)
        print("(set COMPACTBERT_DEBUG=1 for the full traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # Ctrl+C: a line, not a traceback (what was being written is never left half-made)
        if os.environ.get("COMPACTBERT_DEBUG"):
            raise
        print(f"\ncompactbert {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
