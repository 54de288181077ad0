"""A fine-tuning recipe whose `model` is a Hub id, against the local stand-in of the Hub API (the real
`huggingface_hub` client; nothing is mocked and nothing leaves the machine)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from transformers import AutoConfig, AutoTokenizer, BertForSequenceClassification

from compactbert.finetune import finetune, parse_recipe

from support.helpers import make_bert, make_tokenizer


def write_reviews_csv(path: Path, n: int = 40) -> Path:
    """Distinct one-keyword reviews (`review`, `sentiment`), half positive: enough for the splits and a few steps."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for i in range(n):
            positive = i % 2 == 1
            filler = " ".join(["the", "movie", "film", "story", "plot"][: 1 + i % 5])
            writer.writerow([f"{filler} {'good' if positive else 'bad'} {i}", "positive" if positive else "negative"])
    return path


@pytest.fixture
def tiny_hub_model(hub, tmp_path):
    folder = tmp_path / "tiny-bert"
    make_bert(BertForSequenceClassification, num_layers=2).save_pretrained(folder)
    make_tokenizer().save_pretrained(folder)
    (folder / "pytorch_model.bin").write_bytes(b"not fetched: pickle weights are not requested")
    hub.create_model_repo("org/tiny-bert", folder)
    return "org/tiny-bert"


def test_finetune_a_hub_model_with_a_layer_drop(hub, tiny_hub_model, tmp_path):
    assert "HF_HUB_OFFLINE" not in os.environ
    fields = {
        "model": tiny_hub_model,
        "task": str(write_reviews_csv(tmp_path / "reviews.csv")),
        "text_column": "review",
        "label_column": "sentiment",
        "shrink_strategy": "top",
        "shrink_drop": 1,
        "max_length": 16,
        "max_train_samples": 16,
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 1,
        "per_device_train_batch_size": 8,
        "eval_strategy": "no",
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "bf16_auto": False,
        "seed": 0,
    }

    metrics = finetune(*parse_recipe(None, fields))

    final = tmp_path / "run" / "model"
    config = json.loads((final / "config.json").read_text())
    assert config["source_model"] == "org/tiny-bert"
    assert config["kept_layers"] == [0] and config["drop_strategy"] == "top"
    assert config["num_hidden_layers"] == 1 and config["source_num_hidden_layers"] == 2
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    assert AutoConfig.from_pretrained(final).source_model == "org/tiny-bert"
    saved = json.loads((final / "metrics.json").read_text())
    assert saved["kept_layers"] == metrics["kept_layers"] == [0]
    assert saved["recipe"]["model"]["model"] == "org/tiny-bert"
    assert metrics["train"]["global_step"] == 2  # 16 samples, batch 8, one epoch
    assert AutoTokenizer.from_pretrained(final).get_vocab() == make_tokenizer().get_vocab()  # the source's

    # the model came from the stand-in: config, tokenizer and safetensors weights (LFS, via its CDN), no pickle
    fetched = {
        r.path.split("/resolve/", 1)[1].split("/", 1)[1]
        for r in hub.requests_matching(None, "/org/tiny-bert/resolve/")
        if r.status in (200, 302)  # answered, or LFS redirected to the CDN
    }
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= fetched
    assert "pytorch_model.bin" not in fetched
    assert hub.requests_matching("GET", "/lfs/", server="cdn")
    assert Path(hub.cache_dir, "models--org--tiny-bert").is_dir()
    assert not hub.unhandled
    assert any(hub.datasets_cache.rglob("*.arrow"))  # the task's datasets cache stayed in the test's HF_HOME


def test_unknown_hub_model_is_a_clear_error(hub, tmp_path):
    fields = {
        "model": "org/missing",
        "task": str(write_reviews_csv(tmp_path / "reviews.csv")),
        "text_column": "review",
        "label_column": "sentiment",
        "output_dir": str(tmp_path / "run"),
        "report_to": "none",
        "bf16_auto": False,
    }
    with pytest.raises(FileNotFoundError, match="'org/missing' is neither a local folder nor a model repo"):
        finetune(*parse_recipe(None, fields))
    assert hub.requests_matching(None, "org/missing")
    assert not (tmp_path / "run" / "model").exists()
