"""Cheap model folders and a test-sized zoo recipe for the publishing tests (tiny random BERTs, a 60-row CSV task)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import torch
import yaml
from transformers import BertForSequenceClassification

from compactbert import save_model, shrink

from support.helpers import TEXTS, WORDS, make_bert, make_tokenizer, run_without_compactbert

REPO_ID = "org/bert-top6"


def tiny_shrunk_folder(path: Path, scored: bool = False, metrics: dict | None = None) -> Path:
    """A ShrunkBert (4 -> 2 layers, classifier head) saved with `save_model`, with tokenizer and card."""
    source = make_bert(BertForSequenceClassification, num_layers=4, num_labels=2)
    tokenizer = make_tokenizer()
    if scored:
        model = shrink(source, "contribution", 2, calibration_texts=TEXTS, tokenizer=tokenizer, progress=False)
    else:
        model = shrink(source, "top", 2)
    extra = None
    if metrics is not None:

        def extra(folder: Path) -> None:
            (folder / "metrics.json").write_text(json.dumps(metrics))

    return save_model(model, path, tokenizer=tokenizer, extra=extra)


def tiny_source_folder(path: Path) -> Path:
    """A 4-layer random BERT (no head) + tokenizer: the `source` of a test-sized recipe."""
    make_bert(num_layers=4).save_pretrained(path)
    make_tokenizer().save_pretrained(path)
    return path


def tiny_task_csv(path: Path, rows: int = 60) -> Path:
    """A two-class CSV (`text`, `label`) in the tiny tokenizer's vocabulary."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(rows):
            words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(6)]
            writer.writerow([" ".join(["good" if i % 2 else "bad", *words]), "positive" if i % 2 else "negative"])
    return path


# training that lets the tiny models learn the tiny task (test accuracy 1.0 on its 7 test rows, majority 4 of 7), so
# their builds pass the quality gate; the default one short epoch leaves them at the majority class
LEARNS = {"num_train_epochs": 10, "learning_rate": 3.0e-3}


def tiny_recipe(tmp: Path, **changes) -> Path:
    """A shrunk_bert zoo recipe that builds in seconds: tiny source, tiny task, one short epoch, few timing rounds.

    `changes` replace the recipe's keys, except `training`, whose keys go over the default training keys.
    """
    recipe = {
        "name": "bert-top6",
        "family": "shrunk_bert",
        "source": str(tiny_source_folder(tmp / "source")),
        "method": {"strategy": "top", "drop": 2},
        "task": str(tiny_task_csv(tmp / "task.csv")),
        "repo_id": REPO_ID,
        "output_dir": str(tmp / "build"),
        "training": {
            "max_length": 16,
            "num_train_epochs": 1,
            "per_device_train_batch_size": 16,
            "per_device_eval_batch_size": 16,
            "learning_rate": 1.0e-3,
            "save_strategy": "no",
            "report_to": "none",
            "use_cpu": True,
            "bf16_auto": False,
            "seed": 0,
            "disable_tqdm": True,
        },
        "latency": {"batch_size": 4, "max_length": 16, "repeats": 3, "warmup": 1, "dtype": "fp32"},
        "card": {"dataset_name": "tiny sentiment", "tags": ["test"]},
    }
    recipe |= {k: v for k, v in changes.items() if k != "training"}
    recipe["training"] |= changes.get("training") or {}
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def folder_digest(folder: Path) -> dict[str, str]:
    """Path -> sha256 of every file under `folder` (to show a folder was left untouched)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


LOGITS_BODY = """
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model = AutoModelForSequenceClassification.from_pretrained(args[0], trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(args[0], trust_remote_code=True)  # its config needs the code
with torch.no_grad():
    result = {"module": type(model).__module__,
              "logits": model(**tokenizer(args[1:], padding=True, return_tensors="pt")).logits}
"""


def logits_without_compactbert(repo_id: str, texts: list[str], tmp_path: Path) -> tuple[str, torch.Tensor]:
    """Load `repo_id` (from the Hub `HF_ENDPOINT` points at) in a process that cannot import compactbert, with
    `trust_remote_code=True`; return the loaded class's module and its logits on `texts`."""
    result = run_without_compactbert(LOGITS_BODY, tmp_path, repo_id, *texts)
    return result["module"], result["logits"]
