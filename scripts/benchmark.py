"""Regenerate docs/results/bench in one command: the model benchmark and the inference-path study.

    python scripts/benchmark.py                     # the committed results (15-20 minutes on 2 quiet cores, estimated)
    python scripts/benchmark.py --quick --out /tmp/bench   # the code path in a minute or two; times say nothing

1. `compactbert bench` with its defaults (every row at batch 1 and 32, sequence 128, fp32, and bf16 where the
   hardware has native bf16 units) ->
   bench.json, bench.md, bench.png.
2. The inference path on a real classifier: MiniLM-L6 fine-tuned on bbc-news (configs/bench-bbc-news-minilm.yaml,
   fine-tuned first when runs/bench-bbc-news-minilm/model does not exist; about a minute), run every way in
   `compactbert.bench.inference_options` on the bbc-news test split (fixed split, seed 42): predictions kept vs fp32,
   accuracy, speed interleaved; then length-sorted batching and thread counts -> inference.json, inference.md,
   inference.png.

Run it on a quiet machine: the figures are ratios timed interleaved in one process, but other work on the same
cores still skews them. Exit status 1 when a target of `compactbert bench --check` is missed (with --check).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from compactbert import bench
from compactbert.hardware import available_cores
from compactbert.inference import configure_threads, load_for_inference
from compactbert.io import relative_path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "configs" / "bench-bbc-news-minilm.yaml"
QUICK_VARIANTS = ["fp32", "bf16", "int8-dynamic"]
REVIEWS = 512  # rotten-tomatoes test reviews for the batching comparison (short texts)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "docs" / "results" / "bench"), help="results folder")
    p.add_argument("--quick", action="store_true", help="tiny bench rows, few texts, three variants")
    p.add_argument("--model", help="a fine-tuned bbc-news classifier folder (default: fine-tune one)")
    p.add_argument("--skip-models", action="store_true", help="only the inference-path study")
    p.add_argument("--skip-inference", action="store_true", help="only the model benchmark")
    p.add_argument("--threads", type=int, help="torch threads (default: the cores available)")
    p.add_argument("--note", help="a line shown on top of both reports (where / when it was measured)")
    p.add_argument("--check", action="store_true", help="exit 1 when a bench target is missed")
    p.add_argument(
        "--emulated-bf16",
        action="store_true",
        help="time bf16 rows and variants even where the hardware has no native bf16 (emulated: very slow, and the "
        "figures say nothing about bf16 hardware)",
    )
    return p.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    parts = ["python scripts/benchmark.py"]
    if args.quick:
        parts.append("--quick")
    if args.model:
        parts.append(f"--model {relative_path(args.model, ROOT)}")
    for flag in ("skip_models", "skip_inference", "check", "emulated_bf16"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    if args.threads:
        parts.append(f"--threads {args.threads}")
    if Path(args.out).resolve() != (ROOT / "docs" / "results" / "bench").resolve():
        parts.append(f"--out {relative_path(args.out, ROOT)}")
    return " ".join(parts)


def fine_tuned_model(args: argparse.Namespace) -> str:
    """The classifier the inference study runs: --model, or MiniLM fine-tuned on bbc-news by the recipe."""
    if args.model:
        return args.model
    if args.quick:
        return quick_classifier()
    from compactbert.finetune import MODEL_SUBDIR, finetune, parse_recipe

    model_args, data_args, training_args = parse_recipe(
        str(RECIPE), {"output_dir": str(ROOT / "runs" / "bench-bbc-news-minilm")}
    )
    folder = Path(training_args.output_dir) / MODEL_SUBDIR
    if not folder.exists():
        print(f"fine-tuning {RECIPE.name} into {folder} ...", file=sys.stderr)
        finetune(model_args, data_args, training_args)
    return str(folder)


_QUICK = []  # the scratch folder of the quick run's classifier, kept while the script runs


def quick_classifier() -> str:
    """MiniLM with a new (random) 5-label head, saved to a scratch folder: the code path only, no fine-tuning."""
    from transformers import AutoModelForSequenceClassification

    from compactbert.assets import builtin_model_path
    from compactbert.checkpoints import load_tokenizer
    from compactbert.io import ScratchFolder, save_model

    minilm = builtin_model_path("minilm")
    scratch = ScratchFolder("compactbert-bench-quick-")
    _QUICK.append(scratch)
    model = AutoModelForSequenceClassification.from_pretrained(minilm, num_labels=5)
    return str(save_model(model, scratch.path / "minilm-random-head", tokenizer=load_tokenizer(minilm)))


def model_label(source: str) -> str:
    """How the report names the classifier: a folder inside the repository by its path from the repository's root (a
    committed result names no one's home folder), anything else as given."""
    return f"{relative_path(source, ROOT)} (fine-tuned on bbc-news)"


def inference_study(args: argparse.Namespace, threads: int, out: Path, command: str) -> dict:
    """Variants, then batching, then threads; the files are rewritten after each stage, so an interrupted run
    keeps what it measured."""
    from compactbert.data import load_task

    source = fine_tuned_model(args)
    loaded = load_for_inference(source, dtype="fp32", threads=threads)
    test = load_task("bbc-news").dataset["test"]
    texts, labels = list(test["text"]), list(test["label"])
    reviews = list(load_task("rotten-tomatoes").dataset["test"]["text"])[:REVIEWS]
    if args.quick:
        texts, labels, reviews = texts[:48], labels[:48], reviews[:48]
    machine = bench.machine_info(threads)
    report = {
        "model": "MiniLM (random head: quick run)" if args.quick and not args.model else model_label(source),
        "data": f"the bbc-news test split ({len(texts)} articles; load_task('bbc-news'), seed 42)",
        "machine": machine,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    } | ({"note": args.note} if args.note else {})
    repeats = 2 if args.quick else 7
    variants = QUICK_VARIANTS if args.quick else list(bench.VARIANTS)
    report |= bench.compare_variants(
        loaded, texts, labels, variants=variants, repeats=repeats, emulated_bf16=args.emulated_bf16
    )
    machine["load_average_at_end"] = bench.load_average()
    bench.write_inference_report(report, out, command)
    auto = load_for_inference(source, threads=threads)
    report["default_dtype"] = str(auto.dtype)
    sets = {"bbc-news test": texts, f"rotten-tomatoes test (first {len(reviews)})": reviews}
    report["batching"] = bench.compare_batching(auto, sets, repeats=max(2, repeats // 2))
    machine["load_average_at_end"] = bench.load_average()
    bench.write_inference_report(report, out, command)
    report["threads"] = bench.compare_threads(
        loaded, texts, sorted({1, available_cores()}), repeats=max(2, repeats // 2), emulated_bf16=args.emulated_bf16
    )
    configure_threads(threads)
    machine["load_average_at_end"] = bench.load_average()
    bench.write_inference_report(report, out, command)
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    command = command_line(args)
    threads = configure_threads(args.threads)
    status = 0
    if not args.skip_models:
        dtypes = ["fp32", "bf16"] if args.emulated_bf16 else None  # None: bf16 where the hardware has it
        report = bench.run_benchmark(quick=args.quick, threads=threads, repeats=2 if args.quick else 5, dtypes=dtypes)
        if args.note:
            report["note"] = args.note
        for file in bench.write_report(report, out, command):
            print(f"wrote {file}")
        print(bench.markdown_report(report, command))
        if args.check and any(c["status"] == "missed" for c in report["checks"]):
            status = 1
    if not args.skip_inference:
        report = inference_study(args, threads, out, command)
        print(bench.inference_markdown_report(report, command))
        print(f"wrote {out / 'inference.json'}, inference.md, inference.png")
    return status


if __name__ == "__main__":
    sys.exit(main())
