"""The demo's first build: build the default zoo into an empty cache (or read a zoo built that way) and write its
build record (settings, seconds per model and in all, machine, date) and each model's test accuracy to
docs/results/demo_build/results.json, with a short README.md.

    python scripts/demo_build_time.py                       # builds into a temporary cache first (minutes), then removes it
    python scripts/demo_build_time.py --zoo ~/.cache/compactbert/demo/zoo-minilm-bbc-news-...   # a finished build
    python scripts/demo_build_time.py --fp32 --out docs/results/demo_build_fp32   # trained in fp32, bf16 units or not

`--fp32` trains every model in fp32 where the CPU has bf16 units too, as a CPU without them trains (the precision,
not that CPU's speed). The record says which precision trained the models (`training_precision`, from each model's
metrics.json). A build timed from outside (`COMPACTBERT_DEMO_CACHE=<an empty folder> /usr/bin/time -v compactbert demo --build-only`)
is recorded with `--wall-clock SECONDS` (its wall clock, Python's start-up included), `--how` (the command that built
it) and `--note` (what else ran, anything a reader should know).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

OUT = Path("docs/results/demo_build")


def report(
    zoo_dir: Path,
    out: Path,
    command: str,
    wall_clock: float | None = None,
    note: str | None = None,
    how: str | None = None,
) -> dict:
    """Write the build record of the zoo in `zoo_dir` to `out`; `command` is this script's command line, `how` the
    command that built the zoo when it was built apart."""
    from compactbert.demo.manifest import load_zoo

    zoo = load_zoo(zoo_dir)
    if "seconds" not in zoo.build or "machine" not in zoo.build:
        raise SystemExit(f"{zoo_dir}: its zoo.json records no build time and machine (built by an older compactbert)")
    models = {e.name: e.metrics.get("test_accuracy") for e in [zoo.teacher, *zoo.entries]}
    result = {"command": command, "build": zoo.build, "test_accuracy": models}
    precision = {_precision(zoo_dir / name) for name in models}
    if len(precision) == 1 and None not in precision:
        result["training_precision"] = precision.pop()
    if how:
        result["built_by"] = how
    if wall_clock is not None:
        result["wall_clock_with_startup_seconds"] = wall_clock
    if note:
        result["note"] = note
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    build = zoo.build
    lines = [
        "# The demo's first build",
        "",
        (f"Built by `{how}`, then recorded by `{command}`. " if how else f"Command: `{command}`. ")
        + f"Built on {build['date']} on a {build['machine']}, from an empty cache"
        + (f", trained in {result['training_precision']}" if "training_precision" in result else "")
        + ": "
        f"{len(models)} models in {build['seconds']:.0f} s ({build['seconds'] / 60:.1f} min)"
        + ("" if wall_clock is None else f"; {wall_clock:.1f} s of wall clock with Python's start-up and imports")
        + ".",
        *(["", f"Note: {note}"] if note else []),
        "",
        "| model | seconds | test accuracy |",
        "|---|---:|---:|",
        *(
            f"| {name} | {build['trained_seconds'].get(name, 0):.0f} | {'-' if acc is None else f'{acc * 100:.1f}%'} |"
            for name, acc in models.items()
        ),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
    return result


def _precision(folder: Path) -> str | None:
    """The precision a model of the zoo trained in, from its metrics.json (`bf16`: true or false), else None."""
    try:
        bf16 = json.loads((folder / "metrics.json").read_text()).get("bf16")
    except (OSError, ValueError):
        return None
    return None if bf16 is None else "bf16" if bf16 else "fp32"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", type=Path, help="a default zoo already built from an empty cache (else: build one)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--how", help="the command that built --zoo (recorded before this script's)")
    parser.add_argument("--wall-clock", type=float, help="the build's wall clock in seconds, measured from outside")
    parser.add_argument("--note", help="what else ran during the build, or anything else a reader should know")
    parser.add_argument("--fp32", action="store_true", help="train in fp32 even where the CPU has bf16 units")
    args = parser.parse_args(argv)
    if (args.how or args.wall_clock is not None) and args.zoo is None:
        parser.error("--how and --wall-clock describe a build given with --zoo")
    if args.fp32 and args.zoo is not None:
        parser.error("--fp32 says how to train a build: it cannot change one given with --zoo")
    command = "python scripts/demo_build_time.py" + ("" if args.zoo is None else " --zoo <the built zoo>")
    command += " --fp32" if args.fp32 else ""
    command += "" if args.out == OUT else f" --out {args.out}"
    if args.zoo is None:
        from compactbert.demo.zoo import ensure_default_zoo

        if args.fp32:  # a recipe's bf16_auto asks compactbert.finetune whether the CPU has bf16 units: say no
            import compactbert.finetune

            compactbert.finetune.native_bf16 = lambda: False

        scratch = tempfile.mkdtemp(prefix="compactbert-demo-build-")
        try:  # the zoo built here is scratch: its record is what is kept
            result = report(ensure_default_zoo(scratch), args.out, command, None, args.note)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    else:
        result = report(args.zoo, args.out, command, args.wall_clock, args.note, args.how)
    print(f"wrote {args.out}/results.json: {result['build']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
