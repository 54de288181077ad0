"""The zoo: manifest round trip, entries resolved only from the zoo, cache reuse, all-or-nothing builds."""

from __future__ import annotations

import json

import pytest

from compactbert.demo import zoo as zoo_module
from compactbert.demo.zoo import (
    MANIFEST,
    BuildSettings,
    ZooEntry,
    default_cache_dir,
    default_zoo_dir,
    ensure_default_zoo,
    example_texts,
    load_zoo,
)

from support.demo import LABELS, TINY_SCORES


def test_manifest_round_trips(tiny_zoo_dir):
    zoo = load_zoo(tiny_zoo_dir)
    assert zoo.label_names == LABELS and zoo.contributions == TINY_SCORES
    assert [e.name for e in zoo.entries] == ["shrunk-top-2", "shrunk-bottom-2"]
    assert zoo.fine_tuned("bottom", 2).kept_layers == [2, 3, 4, 5] and zoo.fine_tuned("top", 3) is None
    assert zoo.resolve(zoo.teacher) == str(tiny_zoo_dir / "teacher")
    assert load_zoo(tiny_zoo_dir / MANIFEST).to_dict() == zoo.to_dict()  # a manifest file works as well as its folder


def test_hub_entries_resolve_to_their_ids(tiny_zoo_dir, tmp_path):
    data = json.loads((tiny_zoo_dir / MANIFEST).read_text())
    data["entries"][0]["source"] = "compactbert/minilm-bbc-news-top2"
    (tmp_path / "hub-zoo.json").write_text(json.dumps(data))
    zoo = load_zoo(tmp_path / "hub-zoo.json")
    assert zoo.resolve(zoo.entries[0]) == "compactbert/minilm-bbc-news-top2"
    with pytest.raises(FileNotFoundError, match="neither a folder of the zoo nor a Hub id"):
        zoo.resolve(ZooEntry(name="x", source="missing-folder", family="bert", kind="teacher"))


def test_bad_manifests_are_refused(tiny_zoo_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="no zoo at"):
        load_zoo(tmp_path)
    data = json.loads((tiny_zoo_dir / MANIFEST).read_text())
    (tmp_path / "a.json").write_text(json.dumps(data | {"format": 99}))
    with pytest.raises(ValueError, match="zoo format 99 is not supported"):
        load_zoo(tmp_path / "a.json")
    data["entries"][0]["trust_remote_code"] = True
    (tmp_path / "b.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"unknown fields \['trust_remote_code'\]"):
        load_zoo(tmp_path / "b.json")


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPACTBERT_DEMO_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COMPACTBERT_DEMO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "compactbert" / "demo"
    assert default_zoo_dir(tmp_path, BuildSettings()) != default_zoo_dir(tmp_path, BuildSettings(num_drop=2))


def test_a_cached_zoo_is_reused_without_building(monkeypatch, tmp_path, tiny_zoo_dir):
    import shutil

    settings = BuildSettings(strategies=("top",))
    shutil.copytree(tiny_zoo_dir, default_zoo_dir(tmp_path, settings))
    monkeypatch.setattr(zoo_module, "build_default_zoo", lambda *a, **k: pytest.fail("rebuilt a cached zoo"))
    assert ensure_default_zoo(tmp_path, settings) == default_zoo_dir(tmp_path, settings)


def fake_finetune(calls: list, fail_on: int | None = None):
    """Stands in for compactbert.finetune.finetune: saves a tiny random classifier (shrunk as the recipe asks)."""
    from transformers import BertForSequenceClassification

    from compactbert import save_model, shrink

    from support.helpers import make_bert, make_tokenizer

    def finetune(model_args, data_args, training_args):
        calls.append(model_args.shrink_strategy or "teacher")
        if fail_on is not None and len(calls) == fail_on:
            raise KeyboardInterrupt("killed mid-build")
        model = make_bert(BertForSequenceClassification, num_layers=6, num_labels=5, max_position_embeddings=128)
        if model_args.shrink_strategy:
            model = shrink(model, model_args.shrink_strategy, model_args.shrink_drop, tokenizer=make_tokenizer())
        metrics = {
            "test": {"accuracy": 0.5},
            "kept_layers": getattr(model.config, "kept_layers", None),
            "num_parameters": model.num_parameters(),
            "num_hidden_layers": model.config.num_hidden_layers,
        }

        def write_metrics(folder):
            (folder / "metrics.json").write_text(json.dumps(metrics))

        save_model(model, f"{training_args.output_dir}/model", tokenizer=make_tokenizer(), extra=write_metrics)
        return metrics

    return finetune


def test_a_killed_build_leaves_no_zoo_and_the_next_build_resumes(monkeypatch, tmp_path):
    import compactbert.finetune

    settings = BuildSettings(strategies=("top", "bottom"), num_examples=2)
    folder = default_zoo_dir(tmp_path, settings)
    stale = folder.parent / f".{folder.name}.partial-old"  # what a SIGKILLed build leaves behind
    stale.mkdir(parents=True)
    calls: list[str] = []
    monkeypatch.setattr(compactbert.finetune, "finetune", fake_finetune(calls, fail_on=2))
    with pytest.raises(KeyboardInterrupt):
        ensure_default_zoo(tmp_path, settings, log=lambda _: None)
    assert calls == ["teacher", "top"] and not folder.exists() and not stale.exists()
    assert not list(folder.parent.glob(f".{folder.name}.partial-*"))

    calls.clear()
    monkeypatch.setattr(compactbert.finetune, "finetune", fake_finetune(calls))
    lines: list[str] = []
    assert ensure_default_zoo(tmp_path, settings, log=lines.append) == folder
    assert calls == ["top", "bottom"] and "  teacher: reused from the interrupted build" in lines
    zoo = load_zoo(folder)
    assert [e.name for e in zoo.entries] == ["shrunk-top-3", "shrunk-bottom-3"]
    assert zoo.fine_tuned("bottom", 3).kept_layers == [3, 4, 5] and len(zoo.contributions) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, f".{folder.name}.lock"])


def test_examples_cycle_through_the_labels():
    split = {"text": ["a1. a1 more", "a2", "b1", "c1", "c2"], "label": [0, 0, 1, 2, 2]}
    picked = example_texts(split, ["a", "b", "c"], 4)
    assert [e["label"] for e in picked] == ["a", "b", "c", "a"]
    long = example_texts({"text": ["First sentence here. " * 60], "label": [0]}, ["a"], 1, max_chars=100)[0]["text"]
    assert len(long) <= 100 and long.endswith(".")
