"""`compactbert demo` (and `python app.py`): build or reuse the zoo, then serve the Gradio app."""

from __future__ import annotations

import argparse

from .zoo import ENV_CACHE, ENV_ZOO


def add_parser(commands) -> argparse.ArgumentParser:
    """Register `demo` on the CLI's sub-command parsers."""
    p = commands.add_parser(
        "demo",
        help="the live demo: pick a drop strategy, compare predictions and latency with the teacher",
        description="Serve the Gradio demo. On first use the default zoo (a fine-tuned MiniLM teacher and one "
        "fine-tuned ShrunkBert per strategy, on BBC News) is built offline and cached (minutes); later launches "
        "reuse it.",
    )
    add_arguments(p)
    p.set_defaults(func=cmd_demo)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--zoo", help=f"a zoo folder or manifest .json to serve instead of the default (env {ENV_ZOO})")
    p.add_argument("--cache-dir", help=f"where the default zoo is built and cached (env {ENV_CACHE})")
    p.add_argument("--host", help="address to serve on (default: gradio's, 127.0.0.1 or $GRADIO_SERVER_NAME)")
    p.add_argument("--port", type=int, help="port (default: gradio's, 7860 or $GRADIO_SERVER_PORT)")
    p.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"], help="inference dtype")
    p.add_argument("--build-only", action="store_true", help="build (or find) the zoo, print where, and exit")


def cmd_demo(args: argparse.Namespace) -> int:
    from . import create_demo, launch, resolve_zoo

    zoo = resolve_zoo(args.zoo, args.cache_dir)
    if args.build_only:
        print(f"demo zoo: {zoo.root} ({1 + len(zoo.entries)} models)")
        return 0
    launch(create_demo(zoo, dtype=args.dtype), server_name=args.host, server_port=args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python app.py [--zoo ...]`: the same options as `compactbert demo`."""
    parser = argparse.ArgumentParser(prog="app.py", description="compactbert's live demo")
    add_arguments(parser)
    return cmd_demo(parser.parse_args(argv))
