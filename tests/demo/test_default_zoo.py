"""The default zoo's real build path (MiniLM + BBC News through compactbert.finetune), on a small slice."""

from __future__ import annotations

import pytest

from compactbert.demo import FINE_TUNED_CHOICE, Comparer, load_zoo
from compactbert.demo.zoo import BuildSettings, ensure_default_zoo


@pytest.mark.slow
def test_default_zoo_builds_offline_from_minilm_and_bbc_news(tmp_path):
    settings = BuildSettings(
        strategies=("contribution",), max_train_samples=32, max_eval_samples=8, max_length=64, num_examples=5
    )
    lines = []
    folder = ensure_default_zoo(tmp_path, settings, log=lines.append)
    assert any("demo zoo ready" in line for line in lines)
    zoo = load_zoo(folder)
    assert zoo.label_names == ["business", "entertainment", "politics", "sport", "tech"]
    assert zoo.teacher.num_layers == 6 and zoo.teacher.kind == "teacher"
    assert [(e.strategy, e.num_drop, e.num_layers) for e in zoo.entries] == [("contribution", 3, 3)]
    assert len(zoo.contributions) == 6 and all(-1 <= s <= 1 for s in zoo.contributions)
    assert len(zoo.fine_tuned("contribution", 3).kept_layers) == 3
    assert [e["label"] for e in zoo.examples] == zoo.label_names  # one held-out text per topic
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["teacher", "shrunk-contribution-3", "zoo.json"]
    )  # the Trainer's run folders are gone
    assert ensure_default_zoo(tmp_path, settings, log=lines.append) == folder  # reused, not rebuilt

    result = Comparer(zoo).compare(zoo.examples[3]["text"], "contribution", 3, FINE_TUNED_CHOICE, repeats=2)
    assert result["compact"]["name"] == "shrunk-contribution-3"
    assert result["teacher"]["num_parameters"] > result["compact"]["num_parameters"] > 10_000_000
