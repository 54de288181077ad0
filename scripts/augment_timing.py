"""How long TinyBERT augmentation (N=20, p=0.4, K=15) takes on this machine, for a MiniLM-shaped and a
BERT-base-shaped masked LM, fp32 and bf16 autocast.

No pre-trained MLM head is reachable offline, so the MLMs here are: all-MiniLM-L6-v2's encoder with a random MLM head,
and a randomly initialised BERT-base (12 layers, hidden 768). The weights do not change the time (the same number of
masked sequences of the same lengths runs through the same matrices); they do change which words are picked, so the
augmented texts of this run are not worth reading. Runs of one configuration are interleaved with the others, each
into a fresh cache folder (no cache hits).

    nice -n 10 python scripts/augment_timing.py --repeats 2 --output docs/results/augment_timing
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from compactbert.assets import builtin_model_path
from compactbert.data import load_task
from compactbert.distillation.augment import Augmenter, AugmentSettings


def minilm_shaped_mlm() -> BertForMaskedLM:
    folder = builtin_model_path("minilm")
    config = BertConfig.from_pretrained(folder)
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    encoder = BertForMaskedLM.from_pretrained(folder).bert.state_dict()  # the real encoder, the head stays random
    model.bert.load_state_dict(encoder, strict=False)
    return model.eval()


def bert_base_shaped_mlm() -> BertForMaskedLM:
    torch.manual_seed(0)
    return BertForMaskedLM(BertConfig()).eval()


def plot(rows: list[dict], path: Path) -> None:
    """Horizontal bars: seconds per example (median, with the min-max range) for each cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['task']} x{r['examples']}\n{r['mlm']}, {r['dtype']}" for r in rows]
    medians = [r["seconds_per_example"] for r in rows]
    low = [m - r["seconds_min"] / r["examples"] for m, r in zip(medians, rows, strict=True)]
    high = [r["seconds_max"] / r["examples"] - m for m, r in zip(medians, rows, strict=True)]
    fig, ax = plt.subplots(figsize=(8, 0.7 * len(rows) + 1.2))
    ax.barh(range(len(rows)), medians, xerr=[low, high], color="tab:blue", capsize=3)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds per example (N=20 copies), shared 2-core CPU")
    ax.set_title("TinyBERT augmentation time (median, min-max)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="docs/results/augment_timing")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(builtin_model_path("minilm"))  # bert-base-uncased's vocabulary
    mlms = {"minilm-shaped (6x384)": minilm_shaped_mlm(), "bert-base-shaped (12x768)": bert_base_shaped_mlm()}
    cells = [  # (task, examples, mlm, bf16)
        ("rotten-tomatoes", 100, "minilm-shaped (6x384)", False),
        ("rotten-tomatoes", 100, "minilm-shaped (6x384)", True),
        ("rotten-tomatoes", 100, "bert-base-shaped (12x768)", False),
        ("rotten-tomatoes", 100, "bert-base-shaped (12x768)", True),
        ("bbc-news", 10, "minilm-shaped (6x384)", True),
        ("bbc-news", 10, "bert-base-shaped (12x768)", True),
    ]
    data = {task: load_task(task)[0]["train"] for task in {c[0] for c in cells}}
    results = {cell: [] for cell in cells}
    sequences = {}
    for _ in range(args.repeats):
        for cell in cells:  # interleaved: each repeat runs every cell once
            task, examples, name, bf16 = cell
            part = data[task].select(range(examples))
            augmenter = Augmenter(mlms[name], tokenizer, settings=AugmentSettings(n=args.n, bf16=bf16), device="cpu")
            with tempfile.TemporaryDirectory() as cache:
                start = time.perf_counter()
                out = augmenter.augment(part, cache_dir=cache)
                results[cell].append(time.perf_counter() - start)
            assert len(out) == examples * (args.n + 1)
            sequences[cell] = augmenter.masked_sequences
            print(cell, f"{results[cell][-1]:.1f} s", f"load {os.getloadavg()[0]:.1f}", flush=True)

    rows = []
    for cell, times in results.items():
        task, examples, name, bf16 = cell
        rows.append(
            {
                "task": task,
                "examples": examples,
                "mlm": name,
                "dtype": "bf16 autocast" if bf16 else "fp32",
                "masked_sequences": sequences[cell],
                "seconds_median": statistics.median(times),
                "seconds_min": min(times),
                "seconds_max": max(times),
                "seconds_per_example": statistics.median(times) / examples,
            }
        )
    meta = {
        "command": f"nice -n 10 python scripts/augment_timing.py --repeats {args.repeats} --output {args.output}",
        "settings": {"n": args.n, "p": 0.4, "k": 15, "max_length": 128, "batch_size": 32, "mlm_batch_size": 64},
        "repeats": args.repeats,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_at_end": os.getloadavg(),
        "note": "shared 2-core machine; other jobs ran at the same time, so absolute times are upper bounds",
    }
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        f"# TinyBERT augmentation time (N={args.n}, p=0.4, K=15)",
        "",
        f"Command: `{meta['command']}`. CPU: {meta['cpu_count']} cores, {meta['torch_threads']} torch threads, "
        f"shared with other jobs (load average at the end: {meta['load_average_at_end'][0]:.1f}); "
        f"{args.repeats} run(s) per cell, interleaved.",
        "",
        "| task | examples | MLM | dtype | masked sequences | seconds (median, min-max) | s / example |",
        "|---|---:|---|---|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['examples']} | {r['mlm']} | {r['dtype']} | {r['masked_sequences']:,} | "
            f"{r['seconds_median']:.1f} ({r['seconds_min']:.1f}-{r['seconds_max']:.1f}) | "
            f"{r['seconds_per_example']:.2f} |"
        )
    lines += ["", "![seconds per example](seconds_per_example.png)"]
    (output / "README.md").write_text("\n".join(lines) + "\n")
    plot(rows, output / "seconds_per_example.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
