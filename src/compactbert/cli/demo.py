"""`compactbert demo` (and `python app.py`): build or reuse the zoo, then serve the Gradio app."""

from __future__ import annotations

import argparse
import os

from ..demo.manifest import ENV_ZOO
from ..demo.zoo import ENV_CACHE
from ..export.formats import BACKENDS, INT8_RUNTIMES
from .common import EXIT_OK, Command, port_number


class DemoCommand(Command):
    name = "demo"
    help = "the live demo: pick a drop strategy, compare predictions and latency with the teacher"
    description = (
        "Serve the Gradio demo. On first use the default zoo (a fine-tuned MiniLM teacher, one fine-tuned "
        "ShrunkBert per strategy, a TinyBert-4 pruned from the teacher, a 3-layer student distilled from it and an "
        "Albert-SOP converted from it, on BBC News) is built offline and cached (minutes; the page says so "
        "meanwhile); later launches reuse it. A zoo whose entries are Hub ids (a published Space's zoo.json) loads "
        "those models instead. --teacher DIR --model DIR serves one's own fine-tuned teacher and compact models "
        "(read from their folders; nothing is built)."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--zoo", help=f"a zoo folder or manifest .json to serve instead of the default (env {ENV_ZOO})")
        p.add_argument("--cache-dir", help=f"where the default zoo is built and cached (env {ENV_CACHE})")
        p.add_argument("--host", help="address to serve on (default: gradio's, 127.0.0.1 or $GRADIO_SERVER_NAME)")
        p.add_argument("--port", type=port_number, help="port (default: gradio's, 7860 or $GRADIO_SERVER_PORT)")
        p.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"], help="inference dtype")
        p.add_argument(
            "--backend",
            default="torch",
            choices=[*BACKENDS, *INT8_RUNTIMES],
            help="what runs the models: PyTorch, an exported runtime (the compactbert[openvino] / [onnx] extras; "
            "openvino-int8: each model quantized to int8 by NNCF on first use; onnxruntime-int8: its weights in int8, "
            "the int8 for CPUs without VNNI), or auto: the fastest installed one on "
            "the teacher whose predictions match PyTorch's (default: torch); the page can switch to any installed "
            "runtime",
        )
        p.add_argument(
            "--teacher",
            help="your own fine-tuned classifier (a folder or a Hub id) to compare your --model folders with, instead "
            "of a zoo",
        )
        p.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="MODEL",
            help="a compact classifier of the teacher's labels (a folder or a Hub id); repeat for several",
        )
        p.add_argument(
            "--task",
            help="with --teacher: the data whose test texts the page offers as examples and whose training texts score "
            "the teacher's layers (default: the task the teacher's metrics.json records)",
        )
        p.add_argument("--text_column", help="with --task: the column of the texts (default: found by name)")
        p.add_argument("--label_column", help="with --task: the column of the labels (default: found by name)")
        p.add_argument(
            "--save-zoo",
            metavar="DIR",
            help="with --teacher: also write the zoo as DIR/zoo.json, for --zoo DIR or `compactbert publish DIR`",
        )
        p.add_argument("--overwrite", action="store_true", help="with --save-zoo: replace a zoo.json already in DIR")
        p.add_argument("--build-only", action="store_true", help="build (or find) the zoo, print where, and exit")

    def run(self, args: argparse.Namespace, manifest: str | os.PathLike | None = None) -> int:
        from ..demo import resolve_zoo, serve

        if args.port is not None and not args.build_only:
            check_port_free(args.host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1", args.port)
        own = own_zoo(args)
        if own is not None:
            if not args.build_only:
                serve(own, dtype=args.dtype, server_name=args.host, server_port=args.port, backend=args.backend)
            return EXIT_OK
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


def check_port_free(host: str, port: int) -> None:
    """Refuse a `--port` another program listens on before the zoo loads (gradio would say so only after, naming its
    own `launch()` argument)."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a just-closed port is free
        try:
            probe.bind((host, port))
        except OSError as err:
            raise OSError(
                f"cannot serve on {host}:{port} ({err.strerror}): choose another --port, or check --host"
            ) from None


def own_zoo(args: argparse.Namespace):
    """The zoo of `--teacher` and `--model` (printed, and written with `--save-zoo`); None without them. Raises
    `ValueError` for options that do not go together."""
    import sys

    from ..demo.describe import entry_line
    from ..demo.own import check_zoo_folder, save_zoo, zoo_from_models

    own = {"model": "--model", "task": "--task", "save_zoo": "--save-zoo", "overwrite": "--overwrite"}
    own |= {"text_column": "--text_column", "label_column": "--label_column"}
    if args.teacher is None:
        given = [option for name, option in own.items() if getattr(args, name)]
        if given:
            need = "needs" if len(given) == 1 else "need"
            raise ValueError(
                f"{', '.join(given)} {need} --teacher DIR (your own teacher, to compare the --model folders with)"
            )
        return None
    if args.zoo or args.cache_dir:
        raise ValueError("--teacher serves your own models: leave out --zoo and --cache-dir (they name a zoo)")
    if args.overwrite and not args.save_zoo:
        raise ValueError("--overwrite replaces the zoo.json that --save-zoo DIR writes: give --save-zoo DIR")
    if args.save_zoo:
        check_zoo_folder(args.save_zoo, args.overwrite)  # before anything is loaded
    zoo = zoo_from_models(
        args.teacher,
        args.model,
        task=args.task,
        text_column=args.text_column,
        label_column=args.label_column,
        log=lambda line: print(line, file=sys.stderr),  # what is left out, and why
    )
    print(f"demo zoo: teacher {zoo.teacher.name} and {len(zoo.entries)} model(s), {zoo.task or 'no task'}")
    teacher_accuracy = zoo.teacher.metrics.get("test_accuracy")
    for entry in (zoo.teacher, *zoo.entries):  # sizes, test accuracies and the share of the teacher's each keeps
        print(f"  {entry_line(entry, None if entry is zoo.teacher else teacher_accuracy, plain=True)}")
    if args.save_zoo:
        print(f"wrote {save_zoo(zoo, args.save_zoo, overwrite=args.overwrite)}")
    return zoo


def main(argv: list[str] | None = None, manifest: str | os.PathLike | None = None) -> int:
    """`python app.py [--zoo ...]`: the same options as `compactbert demo`. `manifest`: a zoo manifest used when it
    exists and no `--zoo` is given (a published Space's `zoo.json`, next to its `app.py`)."""
    command = DemoCommand()
    parser = argparse.ArgumentParser(prog="app.py", description="compactbert's live demo")
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv), manifest=manifest)
