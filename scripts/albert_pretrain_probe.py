"""Why continued SOP + MLM pretraining collapses a converted Albert-SOP: a short probe per start.

Continued pretraining from MiniLM converted with `albert_from_bert` (E = 128, all-shared) ended with constant
predictions (docs/albert-sop-study.md). Each cell here converts MiniLM (the pre-trained encoder, not a fine-tuned one)
with its own E and sharing, optionally runs TinyBERT's general distillation from MiniLM on unlabeled text first
(`+general`: embeddings, hidden states and attention scores at every position, on the BBC News training
paragraphs), then continues with MLM + SOP (configs/albert-sop-bbc-small.yaml with the start as `model`) for a few
hundred steps; `+prior` starts the MLM head's output bias at the corpus's token log prior (the recipe's
`mlm_bias_prior`). It records the held-out SOP / NSP / masked-token accuracy and how different the positions of a text
stay in each layer (the standard deviation across positions, averaged over hidden units and texts): a collapsed
encoder gives every position the same vector.

    python scripts/albert_pretrain_probe.py --workdir runs/albert_pretrain_probe \
        --cells e384-none e128-none e128-all e128-none+general e128-all+general e384-none+prior e128-none+prior \
        e128-all+prior
    python scripts/albert_pretrain_probe.py --quick     # a smoke run into a temporary folder

Cell names: `e<E>-<sharing>[+general][+prior]`. results.json is written after every cell, so a stopped run resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from compactbert.hardware import machine_description

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "configs/albert-sop-bbc-small.yaml"
CELL = re.compile(r"^e(\d+)-(none|attention|ffn|all)(\+general)?(\+prior)?$")
# the probe's budget: short, since the collapse shows within the first hundred steps
DEFAULTS = {"steps": 150, "learning_rate": 1e-4, "general_steps": 200, "general_learning_rate": 3e-4}
QUICK = {"steps": 3, "general_steps": 2, "max_documents": 40, "texts": 64}
PROBE_TEXTS = 32  # held-out article bodies whose first 128 tokens measure the spread across positions


def parse_cell(name: str) -> tuple[int, str, bool, bool]:
    """`e128-all+general+prior` -> (128, "all", True, True); anything else is refused with the expected form."""
    match = CELL.match(name)
    if match is None:
        raise ValueError(
            f"cell '{name}' is not of the form e<E>-<none|attention|ffn|all>[+general][+prior], e.g. e128-all+prior"
        )
    return int(match.group(1)), match.group(2), bool(match.group(3)), bool(match.group(4))


def position_spread(folder: Path, texts: list[str]) -> list[float]:
    """Per layer (embedding output first): the std across a text's positions, averaged over units and texts."""
    import torch

    from compactbert.checkpoints import load_tokenizer
    from compactbert.models.albert_sop import AlbertSopModel

    tokenizer = load_tokenizer(folder)
    model = AlbertSopModel.from_pretrained(folder).eval()
    spreads = []
    with torch.inference_mode():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=128, return_tensors="pt")
            states = model(**enc, output_hidden_states=True).hidden_states
            spreads.append([float(s[0].float().std(0).mean()) for s in states])
    return [statistics.fmean(layer) for layer in zip(*spreads, strict=True)]


def held_out_split(max_documents: int | None = None):
    """The recipe's split (`pretraining_split`): the documents and masked pairs every cell is evaluated on."""
    from transformers import AutoTokenizer

    from compactbert.assets import builtin_model_path
    from compactbert.pretraining import parse_pretrain_recipe, pretraining_split

    _, data_args, training_args = parse_pretrain_recipe(RECIPE, {"max_documents": max_documents})
    tokenizer = AutoTokenizer.from_pretrained(builtin_model_path("minilm"))
    return pretraining_split(data_args, tokenizer, training_args.seed), data_args, tokenizer


def probe_texts(count: int, max_documents: int | None = None) -> list[str]:
    """Held-out texts of the pretraining split (its evaluation documents), the same for every cell."""
    split, _, _ = held_out_split(max_documents)
    return split.eval_documents[:count]


def majority_token_share(max_documents: int | None) -> float:
    """Held-out masked-token accuracy of always predicting the most frequent target: what a constant MLM head gets."""
    split, data_args, tokenizer = held_out_split(max_documents)
    pairs, collator = split.eval_pairs["sop"], split.eval_collator(tokenizer, data_args.masking)
    counts = Counter()
    for start in range(0, len(pairs), 64):  # evaluate_pretraining's batches: the masks are drawn batch by batch
        labels = collator([pairs[i] for i in range(start, min(start + 64, len(pairs)))])["labels"]
        counts.update(labels[labels != -100].tolist())
    return counts.most_common(1)[0][1] / sum(counts.values())


def general_distill(start: Path, target: Path, steps: int, learning_rate: float, texts: int | None, seed: int) -> dict:
    """TinyBERT's general stage from pre-trained MiniLM into the converted encoder at `start`; saved to `target`."""
    from datasets import Dataset
    from transformers import AutoModel, DataCollatorWithPadding

    from compactbert.assets import builtin_model_path
    from compactbert.checkpoints import load_tokenizer
    from compactbert.distillation import DistillationTrainer
    from compactbert.distillation.arguments import DistillationTrainingArguments
    from compactbert.distillation.recipe import general_corpus
    from compactbert.io import save_model
    from compactbert.models.albert_sop import AlbertSopModel

    tokenizer = load_tokenizer(start)
    corpus = general_corpus(texts)
    encoded = Dataset.from_dict({"text": corpus}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"]
    )
    args = DistillationTrainingArguments(
        output_dir=str(target.parent / f"{target.name}-run"),
        stage="general",
        alpha_ce=0.0,
        max_steps=steps,
        learning_rate=learning_rate,
        per_device_train_batch_size=32,
        warmup_steps=0.1,
        weight_decay=0.01,
        logging_steps=max(1, steps // 20),
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        # fp32, as the committed probe ran: it found that under bf16 the trainer's bare teacher returned no hidden
        # states, fixed since in DistillationTrainer (tests/distillation/test_trainer.py)
        bf16=False,
        seed=seed,
    )
    trainer = DistillationTrainer(
        model=AlbertSopModel.from_pretrained(start),
        args=args,
        teacher=AutoModel.from_pretrained(builtin_model_path("minilm")),
        teacher_tokenizer=tokenizer,
        train_dataset=encoded,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    output = trainer.train()
    losses = [round(h["loss"], 4) for h in trainer.state.log_history if "loss" in h]
    stage = {"steps": output.global_step, "texts": len(corpus), "loss_first": losses[0], "loss_last": losses[-1]}
    # what a later run from this folder reports as its start (albert_sop_study's model_description)
    metrics = {"stage": "general", "teacher": "minilm", "learning_rate": learning_rate} | stage

    def write_metrics(folder: Path) -> None:
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))

    save_model(trainer.model, target, tokenizer=tokenizer, overwrite=True, extra=write_metrics)
    return stage


def run_cell(name: str, workdir: Path, budget: dict, texts: list[str]) -> dict:
    """Convert, (general-distil,) continue with MLM + SOP; the cell's row."""
    from transformers import AutoTokenizer

    from compactbert import albert_from_bert
    from compactbert.assets import builtin_model_path
    from compactbert.io import save_model
    from compactbert.pretraining import parse_pretrain_recipe, pretrain

    embedding_size, sharing, general, prior = parse_cell(name)
    started = time.perf_counter()
    start = workdir / name / "start"
    model = albert_from_bert("minilm", embedding_size=embedding_size, sharing=sharing, init="middle")
    save_model(model, start, tokenizer=AutoTokenizer.from_pretrained(builtin_model_path("minilm")), overwrite=True)
    row = {
        "cell": name,
        "embedding_size": embedding_size,
        "sharing": sharing,
        "embedding_reconstruction_error": model.config.embedding_reconstruction_error,
        "spread_converted": position_spread(start, texts),
    }
    if general:
        distilled = workdir / name / "general"
        row["general"] = general_distill(
            start, distilled, budget["general_steps"], budget["general_learning_rate"], budget.get("texts"), seed=42
        )
        row["spread_general"] = position_spread(distilled, texts)
        start = distilled
    overrides = {
        "model": str(start),
        "output_dir": str(workdir / name / "pretrain"),
        "max_steps": budget["steps"],
        "learning_rate": budget["learning_rate"],
        "logging_steps": max(1, budget["steps"] // 30),
        "save_strategy": "no",
        "disable_tqdm": True,
        "mlm_bias_prior": prior,
    }
    if budget.get("max_documents"):
        overrides["max_documents"] = budget["max_documents"]
    metrics = pretrain(*parse_pretrain_recipe(RECIPE, overrides))
    row |= {
        "sop_accuracy": metrics["sop_accuracy"],
        "nsp_accuracy": metrics["nsp_accuracy"],
        "mlm_accuracy": metrics["mlm_accuracy"],
        "steps": metrics["train"]["global_step"],
        "bf16": metrics["bf16"],
        "mlm_loss_curve": [(h["step"], h["mlm_loss"]) for h in metrics["log_history"] if "mlm_loss" in h],
        "spread_pretrained": position_spread(workdir / name / "pretrain" / "model", texts),
        "minutes": (time.perf_counter() - started) / 60,
    }
    return row


def write_report(results: dict, out: Path) -> None:
    """results.md (the table) and spread.png (each cell's spread per layer, before and after)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells, budget = results["cells"], results["budget"]
    lines = [
        "# Albert-SOP: continued pretraining from a converted start, a probe of the collapse",
        "",
        f"Command: `{results['command']}` ({results['machine']}).",
        "",
        f"MiniLM (pre-trained) converted per cell, then MLM + SOP for {budget['steps']} steps of batch 32 (64-token "
        f"paragraph pairs) at learning rate {budget['learning_rate']:g}; `+general`: first {budget['general_steps']} "
        f"steps of general distillation from MiniLM at {budget['general_learning_rate']:g}. Held-out: "
        f"{results['held_out']}. A constant MLM head (the most frequent target token) scores "
        f"{results['majority_token_share'] * 100:.1f}%. Spread: std across positions of the last layer, mean over "
        f"{results['probe_texts']} held-out articles.",
        "",
        "| start | E | sharing | SVD error | SOP acc % | NSP acc % | MLM acc % | spread converted | spread general "
        "| spread after | minutes |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in cells.items():
        general = f"{c['spread_general'][-1]:.3f}" if "spread_general" in c else "–"
        lines.append(
            f"| {name} | {c['embedding_size']} | {c['sharing']} | {c['embedding_reconstruction_error']:.2f} | "
            f"{c['sop_accuracy'] * 100:.1f} | {c['nsp_accuracy'] * 100:.1f} | {c['mlm_accuracy'] * 100:.1f} | "
            f"{c['spread_converted'][-1]:.3f} | {general} | {c['spread_pretrained'][-1]:.3f} | {c['minutes']:.1f} |"
        )
    lines += ["", "![spread across positions per layer](spread.png)", ""]
    (out / "results.md").write_text("\n".join(lines))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, c) in enumerate(cells.items()):
        color = f"C{i}"
        left.plot(c["spread_converted"], color=color, linestyle=":", label=f"{name}, converted")
        left.plot(c["spread_pretrained"], color=color, label=f"{name}, after MLM + SOP")
        steps, losses = zip(*c["mlm_loss_curve"], strict=True) if c["mlm_loss_curve"] else ((), ())
        right.plot(steps, losses, color=color, label=name)
    left.set(title="spread across positions", xlabel="layer (0 = embeddings)", ylabel="std across positions")
    right.set(title="masked-LM loss (training)", xlabel="step")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "spread.png", dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", nargs="+", default=["e384-none", "e128-none", "e128-all"])
    parser.add_argument("--workdir", default=str(ROOT / "runs/albert_pretrain_probe"))
    parser.add_argument("--out", default=str(ROOT / "docs/results/albert_pretrain_probe"))
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="MLM + SOP steps per cell")
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--general-steps", type=int, default=DEFAULTS["general_steps"])
    parser.add_argument("--quick", action="store_true", help="smoke run: a few steps on 40 documents, into /tmp")
    args = parser.parse_args(argv)
    for name in args.cells:
        parse_cell(name)  # refuse a bad name before any work
    budget = DEFAULTS | {"steps": args.steps, "learning_rate": args.learning_rate, "general_steps": args.general_steps}
    if args.quick:
        budget |= QUICK
        tmp = Path(tempfile.mkdtemp(prefix="albert-probe-quick-"))
        args.out, args.workdir = str(tmp / "results"), str(tmp / "runs")
    out, workdir = Path(args.out), Path(args.workdir)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    previous = json.loads(results_file.read_text()) if results_file.exists() else {}
    cells = previous.get("cells", {}) if previous.get("budget") == budget else {}
    count = 2 if args.quick else PROBE_TEXTS
    texts = probe_texts(count, budget.get("max_documents"))  # --quick: of its 40 documents
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    results = {
        "command": " ".join(
            ["python scripts/albert_pretrain_probe.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": f"{machine_description()}, load average at start {load}",
        "budget": budget,
        "held_out": "SOP and NSP pairs of the 10% of BBC News bodies held out of pretraining (chance 50%), MLM on "
        "15% of their tokens",
        "majority_token_share": majority_token_share(budget.get("max_documents")),
        "probe_texts": count,
        "cells": cells,
    }
    for name in args.cells:
        if name in cells:
            continue
        print(f"== {name}", flush=True)
        cells[name] = run_cell(name, workdir, budget, texts)
        results_file.write_text(json.dumps(results, indent=2))
    write_report(results, out)
    print(f"wrote {out}/results.json")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
