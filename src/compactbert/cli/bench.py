"""`compactbert bench`: its options, the command recorded in a report, and what it prints and writes.

What it measures, how it scores and how a report reads are `compactbert.bench`'s; this module imports only that
package's public names (`compactbert.bench` lists the rows without torch; timing loads torch inside `run`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..io import file_in_the_way
from .common import EXIT_FAILED, EXIT_OK, Command, at_least_one, comma_list


class BenchCommand(Command):
    name = "bench"
    help = "latency / throughput of every family next to transformers' models; --check the speed targets"
    description = (
        "Time the zoo's families (random weights) next to transformers' models of the same shape, "
        "interleaved in one process, with FLOPs and the fraction of this machine's matmul rate."
    )

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        from ..bench import BENCH_MODELS, DEFAULT_MIN_SAMPLE_MS

        rows = ", ".join(BENCH_MODELS)
        p.add_argument("--models", type=comma_list(str, "row names"), help=f"rows to time (teacher always): {rows}")
        p.add_argument(
            "--batch", type=comma_list(int, "batch sizes"), default=[1, 32], help="batch sizes (default: 1,32)"
        )
        p.add_argument("--seq", type=int, default=128, help="sequence length in tokens (default: 128)")
        p.add_argument(
            "--dtype",
            type=comma_list(str, "precisions"),
            help="precisions (default: fp32,bf16 where the hardware has native bf16 units, else fp32)",
        )
        p.add_argument(
            "--backend",
            type=comma_list(str, "backends"),
            default=["torch"],
            help="run every row on these: torch, openvino, openvino-int8 (OpenVINO with the matmuls quantized to int8 "
            "by NNCF, the rest at the setting's precision), onnxruntime (exported by compactbert.export; ONNX "
            "Runtime fp32 only), onnxruntime-int8 (its linear layers' weights in int8: the int8 for CPUs without "
            "VNNI), timed side by side (default: torch)",
        )
        p.add_argument("--repeats", type=at_least_one, default=5, help="timed interleaved rounds (default: 5)")
        p.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default: 1)")
        p.add_argument(
            "--min-sample-ms",
            type=float,
            help=f"each timed sample repeats a forward until it lasts about this long and keeps the mean of one "
            f"(default: {DEFAULT_MIN_SAMPLE_MS:g}; 0 times every forward on its own)",
        )
        p.add_argument(
            "--threads", type=int, help="torch threads (default: OMP_NUM_THREADS, else the cores available)"
        )
        p.add_argument("--json", help="write the JSON report to this file")
        p.add_argument("--out", help="write bench.json, bench.md and bench.png into this folder")
        p.add_argument("--note", help="a line shown on top of the report, e.g. where and when it was measured")
        p.add_argument("--check", action="store_true", help="exit 1 when a speed target is missed")
        p.add_argument("--quick", action="store_true", help="tiny sizes: the code path in seconds (times say nothing)")
        p.add_argument(
            "--from-json",
            metavar="FILE",
            help="time nothing: read a saved bench.json, recompute its ratios and targets from its samples with the "
            "current statistic, and report / write / --check it like a new run",
        )

    def run(self, args: argparse.Namespace) -> int:
        from ..bench import load_report, run_benchmark

        check_outputs(args)  # before minutes of timing, not after
        if args.from_json:
            timing_options = {
                "--models": args.models,
                "--dtype": args.dtype,
                "--backend": None if args.backend == ["torch"] else args.backend,
                "--threads": args.threads,
                "--min-sample-ms": args.min_sample_ms,
                "--quick": args.quick or None,
            }
            given = [name for name, value in timing_options.items() if value is not None]
            if given:
                raise ValueError(f"--from-json times nothing, so {', '.join(given)} would be ignored: leave them out")
            report = load_report(args.from_json)
            report["rescored"] = {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "command": rescore_command(args),
                "statistic": "paired_ratio",
            }
            command = report.get("command")
            if args.note:
                report["note"] = args.note
            return emit(report, command, args)
        report = run_benchmark(
            models=args.models,
            batches=args.batch,
            seq_len=args.seq,
            dtypes=args.dtype,
            repeats=args.repeats,
            warmup=args.warmup,
            threads=args.threads,
            quick=args.quick,
            min_sample_ms=args.min_sample_ms,
            backends=args.backend,
        )
        if args.note:
            report["note"] = args.note
        return emit(report, bench_command(args), args)


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse a `--json` that is a folder and an `--out` that is a file (or lies under one)."""
    if args.warmup < 0:
        raise ValueError(f"--warmup must be >= 0 (untimed rounds), got {args.warmup}")
    if args.json and Path(args.json).is_dir():
        raise ValueError(f"--json {args.json} is a folder; give the file to write the JSON report to")
    blocked = file_in_the_way(args.out) if args.out else None
    if blocked is not None:
        raise ValueError(f"--out {args.out}: {blocked} is a file; give a folder to write bench.json, .md, .png into")


def bench_command(args: argparse.Namespace) -> str:
    """The complete command that reproduces a run, every setting spelled out (recorded in the report)."""
    from ..bench import default_dtypes

    parts = ["compactbert bench"]
    if args.models:
        parts.append("--models " + ",".join(args.models))
    parts += [
        "--batch " + ",".join(map(str, args.batch)),
        f"--seq {args.seq}",
        "--dtype " + ",".join(args.dtype or default_dtypes()),
    ]
    if args.backend != ["torch"]:
        parts.append("--backend " + ",".join(args.backend))
    parts += [f"--repeats {args.repeats}", f"--warmup {args.warmup}"]
    if args.min_sample_ms is not None:
        parts.append(f"--min-sample-ms {args.min_sample_ms:g}")
    if args.threads:
        parts.append(f"--threads {args.threads}")
    if args.quick:
        parts.append("--quick")
    if args.out:
        parts.append(f"--out {args.out}")
    if args.json:
        parts.append(f"--json {args.json}")
    if args.check:
        parts.append("--check")
    return " ".join(parts)


def rescore_command(args: argparse.Namespace) -> str:
    """The command that re-scored a saved report (`--from-json`), recorded next to the one that measured it."""
    parts = [f"compactbert bench --from-json {args.from_json}"]
    parts += [f"--out {args.out}"] if args.out else []
    parts += [f"--json {args.json}"] if args.json else []
    parts += ["--check"] if args.check else []
    return " ".join(parts)


def emit(report: dict[str, Any], command: str | None, args: argparse.Namespace) -> int:
    """Print the tables, write the files asked for, and with --check return 1 when a target is missed."""
    from ..bench import markdown_report, write_report
    from ..io import write_json_atomically

    print(markdown_report(report, command))
    if args.json:
        path = Path(args.json)
        write_json_atomically(path, report | {"command": command})
    if args.out:
        for file in write_report(report, args.out, command):
            print(f"wrote {file}")
    missed = [c for c in report["checks"] if c["status"] == "missed"]
    if args.check and missed:
        print(
            f"{len(missed)} target(s) missed: "
            + "; ".join(
                f"{c['target']} at batch {c['batch']} {c['dtype']}" + (f" on {c['backend']}" if "backend" in c else "")
                for c in missed
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK
