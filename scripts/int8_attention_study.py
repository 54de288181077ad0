"""int8 with the attention quantized, or left in the rest's precision: the predictions each keeps and its speed.

For each fine-tuned classifier folder: three OpenVINO exports of the same model, calibrated on the same texts of the
task's train split where int8: every matrix multiplication NNCF finds quantized (the attention's included, as
`compactbert export --dtype int8` did before), the attention (`FLOAT_OPERATIONS`) left out (as it does now), and bf16
for reference. Each is verified against PyTorch fp32 on the task's whole test split (the export's rule: at least 99.5%
of the predictions unchanged), then the three are timed interleaved at batch 1 and 32, 128 tokens, with the speedups
paired by round (the bench's statistic).

    python scripts/int8_attention_study.py runs/bench-bbc-news-minilm/model runs/rotten-tomatoes-minilm-full/model \\
        --out docs/results/int8_attention

The folders come from `compactbert finetune configs/bench-bbc-news-minilm.yaml` and
`configs/rotten-tomatoes-minilm-full.yaml`. Run it on a quiet machine: other work on the same cores skews the times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from compactbert.bench.scoring import paired_ratio
from compactbert.export.exporter import (
    load_for_export,
    quantize_export,
    text_length,
    verification_texts,
    verify_export,
    write_export,
)
from compactbert.export.quantize import DEFAULT_CALIBRATION_SAMPLES, FLOAT_OPERATIONS
from compactbert.export.runtime import open_session
from compactbert.hardware import machine_description
from compactbert.inference import time_side_by_side

# what each int8 export leaves out of the quantization
SETTINGS = {"int8, attention quantized": (), "int8, attention in the rest's precision": FLOAT_OPERATIONS}
REFERENCE = "bf16"
SEQUENCE = 128


def export_variants(
    path: Path, work: Path, calibration: int, verify: int
) -> tuple[dict, dict[str, Path], list, Any, int]:
    """The three exports of the model in `path` under `work`, each verified; returns (records, folders, test texts,
    tokenizer, the tokens to time at: 128 or the model's positions if fewer)."""
    model, tokenizer, folder, task = load_for_export(path)
    found = verification_texts(folder, verify)
    texts, pairs, where = found.texts, found.pairs, found.where
    records, folders = {}, {}
    for name in [*SETTINGS, REFERENCE]:
        out = work / name.replace(" ", "-").replace(",", "").replace("'", "")
        out.mkdir(parents=True)
        dtype = "int8" if name in SETTINGS else REFERENCE
        info = write_export(model, tokenizer, out, "openvino", dtype, task, str(path))
        if name in SETTINGS:
            quantize_export(out, info, model, tokenizer, folder, calibration, SETTINGS[name])
        started = time.perf_counter()
        check = verify_export(model, tokenizer, out, task, texts, pairs, dtype)
        print(
            f"  {name}: {check['predictions_unchanged'] * 100:.2f}% of {check['texts']} test predictions unchanged "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        records[name] = {"quantization": info.get("quantization"), "verification": {"on": where} | check}
        folders[name] = out
    return records, folders, texts, tokenizer, text_length(model, SEQUENCE)


def time_variants(folders: dict[str, Path], tokenizer, texts: list[str], batch: int, rounds: int, tokens: int) -> dict:
    """Each export timed on `batch` test texts padded to `tokens`, in `rounds` interleaved rounds after warm-up
    (`time_side_by_side`, each sample at least 100 ms of back-to-back runs); the milliseconds per run, per round."""
    encoded = tokenizer(texts[:batch], padding="max_length", truncation=True, max_length=tokens, return_tensors="np")
    runs = {}
    for name, folder in folders.items():
        session = open_session(folder)
        feed = {n: encoded[n].astype(np.int64) for n in session.input_names if n in encoded}
        runs[name] = partial(session.run, feed)
    timings = time_side_by_side(runs, repeats=rounds, warmup=3, progress=f"timing, batch {batch}", min_sample_ms=100)
    samples = {name: timing.samples_ms for name, timing in timings.items()}
    quantized, kept = SETTINGS
    return {
        "rounds": rounds,
        "runs_per_sample": {name: timing.calls_per_sample for name, timing in timings.items()},
        "ms": {name: [round(v, 3) for v in values] for name, values in samples.items()},
        "median_ms": {name: round(statistics.median(values), 3) for name, values in samples.items()},
        # paired by round: how much faster the attention-quantized graph ran than the export's own, and each than bf16
        "attention_quantized_speedup": round(paired_ratio(samples[kept], samples[quantized]), 3),
        "speedup_vs_bf16": {name: round(paired_ratio(samples[REFERENCE], samples[name]), 3) for name in SETTINGS},
    }


def markdown(results: dict) -> str:
    lines = [
        "# int8 with the attention quantized, or left in the rest's precision",
        "",
        f"**{results['machine']}**, {results['date']}. Made by:",
        "",
        "```bash",
        results["command"],
        "```",
        "",
        "Each model exported to OpenVINO three ways, the int8 ones calibrated on the same "
        f"{results['calibration_samples']} train texts; predictions compared with PyTorch fp32 on the test "
        "split (up to --verify-samples texts; the export's rule: at least 99.5% unchanged); times: median ms per run at "
        "128 tokens, interleaved "
        "rounds, speedups paired by round.",
        "",
        "| model | export | predictions unchanged | passes | batch 1 ms | vs bf16 | batch 32 ms | vs bf16 |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for path, model in results["models"].items():
        for name, record in model["exports"].items():
            check = record["verification"]
            cells = [path if name == next(iter(model["exports"])) else "", name]
            cells += [
                f"{check['predictions_unchanged'] * 100:.2f}% of {check['texts']}",
                "yes" if check["passed"] else "no",
            ]
            for batch in ("1", "32"):
                timing = model["timing"][batch]
                vs = timing["speedup_vs_bf16"].get(name)
                cells += [f"{timing['median_ms'][name]:.2f}", "" if vs is None else f"{vs:.2f}x"]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Quantizing the attention too, against the export's int8 (paired ratio of times; above 1: faster): "
        + "; ".join(
            f"{path} batch {b}: {m['timing'][b]['attention_quantized_speedup']:.2f}x"
            for path, m in results["models"].items()
            for b in ("1", "32")
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="fine-tuned classifier folders (their metrics.json names the task)")
    parser.add_argument("--out", default="docs/results/int8_attention", help="results folder")
    parser.add_argument("--calibration-samples", type=int, default=DEFAULT_CALIBRATION_SAMPLES)
    parser.add_argument("--verify-samples", type=int, default=100_000, help="at most this many test texts")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timing rounds per batch size")
    parser.add_argument("--note", default="", help="added to the machine line (e.g. 'idle')")
    args = parser.parse_args(argv)
    missing = [m for m in args.models if not (Path(m) / "config.json").is_file()]
    if missing:
        parser.error(f"not a model folder (no config.json): {', '.join(missing)}; fine-tune it first (see --help)")
    results = {
        "what": "OpenVINO int8 exports with the attention quantized or left in the rest's precision, and bf16",
        "machine": machine_description() + (f", {args.note}" if args.note else ""),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python scripts/int8_attention_study.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "calibration_samples": args.calibration_samples,
        "sequence": SEQUENCE,
        "models": {},
    }
    with tempfile.TemporaryDirectory(prefix="int8-attention-") as tmp:
        for i, path in enumerate(args.models):
            print(f"{path}: exporting and verifying", flush=True)
            records, folders, texts, tokenizer, tokens = export_variants(
                Path(path), Path(tmp) / str(i), args.calibration_samples, args.verify_samples
            )
            timing = {
                str(batch): time_variants(folders, tokenizer, texts, batch, args.rounds, tokens) for batch in (1, 32)
            }
            results["models"][path] = {"exports": records, "tokens": tokens, "timing": timing}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "README.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
