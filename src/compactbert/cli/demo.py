"""`compactbert demo` (and `python app.py`): build or reuse the zoo, then serve the Gradio app."""

from __future__ import annotations

import argparse
import os

from ..demo.manifest import ENV_ZOO
from ..demo.zoo import ENV_CACHE
from ..export.formats import INT8_RUNTIME
from .common import EXIT_OK, Command


class DemoCommand(Command):
    name = "demo"
    help = "the live demo: pick a drop strategy, compare predictions and latency with the teacher"
    description = (
        "Serve the Gradio demo. On first use the default zoo (a fine-tuned MiniLM teacher, one fine-tuned "
        "ShrunkBert per strategy, a TinyBert-4 pruned from the teacher, a 3-layer student distilled from it and an "
        "Albert-SOP converted from it, on BBC News) is built offline and cached (minutes; the page says so "
        "meanwhile); later launches reuse it. A zoo whose entries are Hub ids (a published Space's zoo.json) loads "
        "those models instead."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--zoo", help=f"a zoo folder or manifest .json to serve instead of the default (env {ENV_ZOO})")
        p.add_argument("--cache-dir", help=f"where the default zoo is built and cached (env {ENV_CACHE})")
        p.add_argument("--host", help="address to serve on (default: gradio's, 127.0.0.1 or $GRADIO_SERVER_NAME)")
        p.add_argument("--port", type=int, help="port (default: gradio's, 7860 or $GRADIO_SERVER_PORT)")
        p.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"], help="inference dtype")
        p.add_argument(
            "--backend",
            default="torch",
            choices=["torch", "auto", "openvino", "onnxruntime", INT8_RUNTIME],
            help="what runs the models: PyTorch, an exported runtime (the compactbert[openvino] / [onnx] extras; "
            "openvino-int8: each model quantized to int8 by NNCF on first use), or auto: the fastest installed one on "
            "the teacher whose predictions match PyTorch's (default: torch); the page can switch to any installed "
            "runtime",
        )
        p.add_argument("--build-only", action="store_true", help="build (or find) the zoo, print where, and exit")

    def run(self, args: argparse.Namespace, manifest: str | os.PathLike | None = None) -> int:
        from ..demo import resolve_zoo, serve

        if args.build_only:
            zoo = resolve_zoo(args.zoo, args.cache_dir, manifest=manifest)
            print(f"demo zoo: {zoo.root} ({1 + len(zoo.entries)} models)")
            return EXIT_OK
        serve(
            args.zoo,
            args.cache_dir,
            dtype=args.dtype,
            manifest=manifest,
            server_name=args.host,
            server_port=args.port,
            backend=args.backend,
        )
        return EXIT_OK


def main(argv: list[str] | None = None, manifest: str | os.PathLike | None = None) -> int:
    """`python app.py [--zoo ...]`: the same options as `compactbert demo`. `manifest`: a zoo manifest used when it
    exists and no `--zoo` is given (a published Space's `zoo.json`, next to its `app.py`)."""
    command = DemoCommand()
    parser = argparse.ArgumentParser(prog="app.py", description="compactbert's live demo")
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv), manifest=manifest)
