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

from demo_helpers import LABELS, TINY_SCORES


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


def test_a_failed_build_leaves_no_zoo_and_the_next_build_starts_clean(monkeypatch, tmp_path):
    import compactbert.finetune

    calls = []

    def finetune_then_die(*args):
        calls.append(args)
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(compactbert.finetune, "finetune", finetune_then_die)
    settings = BuildSettings(strategies=("top",))
    folder = default_zoo_dir(tmp_path, settings)
    stale = folder.parent / f".{folder.name}.partial-old"  # what a SIGKILLed build leaves behind
    stale.mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt):
        ensure_default_zoo(tmp_path, settings, log=lambda _: None)
    assert len(calls) == 1 and not folder.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []  # stale and new partials gone


def test_examples_cycle_through_the_labels():
    split = {"text": ["a1. a1 more", "a2", "b1", "c1", "c2"], "label": [0, 0, 1, 2, 2]}
    picked = example_texts(split, ["a", "b", "c"], 4)
    assert [e["label"] for e in picked] == ["a", "b", "c", "a"]
    long = example_texts({"text": ["First sentence here. " * 60], "label": [0]}, ["a"], 1, max_chars=100)[0]["text"]
    assert len(long) <= 100 and long.endswith(".")
