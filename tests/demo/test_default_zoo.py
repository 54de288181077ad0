"""The default zoo's real build path (MiniLM + BBC News through compactbert.finetune), on a small slice."""

from __future__ import annotations

import json

import pytest

from compactbert.demo import FINE_TUNED_CHOICE, Comparer, load_zoo
from compactbert.demo.zoo import STUDENT_FAMILIES, BuildSettings, _student_recipe, ensure_default_zoo
from compactbert.hardware import machine_description, native_bf16

from support.scripts import load_script


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
    assert [(e.name, e.strategy, e.num_drop, e.num_layers) for e in zoo.entries] == [
        ("shrunk-contribution-3", "contribution", 3, 3),
        ("tinybert-4-pruned", None, None, 4),  # cut out of the fine-tuned teacher, then trained on the labels
        ("distilled-3", None, None, 3),  # the teacher's layers 0, 2, 4, distilled from it
        ("albert-sop-e128-share-all", None, None, 6),  # converted from it: one shared layer, applied 6 times
    ]
    tiny, distilled, albert = zoo.entries[1:]
    assert (tiny.family, tiny.kind, tiny.kept_layers) == ("tiny_bert", "pruned", [0, 1, 2, 4])  # even-alternate
    assert (distilled.family, distilled.kind, distilled.kept_layers) == ("shrunk_bert", "distilled", [0, 2, 4])
    assert 10_000_000 < tiny.num_parameters < distilled.num_parameters < 22_800_000  # 14.5M, 17.4M; MiniLM 22.7M
    assert (albert.family, albert.kind, albert.kept_layers) == ("albert_sop", "converted", None)
    assert 5_000_000 < albert.num_parameters < 7_000_000  # E 128, one layer: about 6M
    assert "E = 128 by frequency-weighted SVD, layers sharing `all`" in albert.description
    assert len(zoo.contributions) == 6 and all(-1 <= s <= 1 for s in zoo.contributions)
    assert len(zoo.fine_tuned("contribution", 3).kept_layers) == 3
    assert [e["label"] for e in zoo.examples] == zoo.label_names  # one held-out text per topic
    # how long it took and where: what docs/demo.md quotes for the first build
    assert zoo.build["seconds"] > 0 and set(zoo.build["trained_seconds"]) == {
        "teacher",
        *(e.name for e in zoo.entries),
    }
    assert zoo.build["machine"] == machine_description() and zoo.build["date"]
    report = load_script("demo_build_time").report(folder, tmp_path / "report", "the test's build")
    assert report["build"] == zoo.build and report["test_accuracy"]["teacher"] == zoo.teacher.metrics["test_accuracy"]
    precision = "bf16" if native_bf16() else "fp32"  # what every model's metrics.json records it trained in
    assert report["training_precision"] == precision
    assert "| shrunk-contribution-3 | " in (tmp_path / "report" / "README.md").read_text()
    assert f"from an empty cache, trained in {precision}: " in (tmp_path / "report" / "README.md").read_text()
    report = load_script("demo_build_time").report(folder, tmp_path / "r2", "record", 12.5, "idle", "build it")
    assert (report["built_by"], report["wall_clock_with_startup_seconds"], report["note"]) == (
        "build it",
        12.5,
        "idle",
    )
    text = (tmp_path / "r2" / "README.md").read_text()
    assert "Built by `build it`, then recorded by `record`." in text and "12.5 s of wall clock" in text
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            "teacher",
            "shrunk-contribution-3",
            "tinybert-4-pruned",
            "distilled-3",
            "albert-sop-e128-share-all",
            "zoo.json",
        ]
    )  # the Trainer's run folders are gone
    assert ensure_default_zoo(tmp_path, settings, log=lines.append) == folder  # reused, not rebuilt

    result = Comparer(zoo).compare(zoo.examples[3]["text"], "contribution", 3, FINE_TUNED_CHOICE, repeats=2)
    assert result["compact"]["name"] == "shrunk-contribution-3"
    assert result["teacher"]["num_parameters"] > result["compact"]["num_parameters"] > 10_000_000
    result = Comparer(zoo).compare(zoo.examples[3]["text"], model="tinybert-4-pruned", repeats=2)
    assert result["compact"]["hidden_size"] == 312 and result["teacher"]["hidden_size"] == 384
    assert result["compact"]["kept_layers"] == [0, 1, 2, 4] and result["compact"]["strategy"] is None
    result = Comparer(zoo).compare(zoo.examples[3]["text"], model="albert-sop-e128-share-all", repeats=2)
    assert (result["compact"]["embedding_size"], result["compact"]["sharing"]) == (128, "all")
    assert result["compact"]["hidden_size"] == 384 and result["compact"]["num_layers"] == 6

    # the study of the Albert-SOP's recipe runs the build's own recipe from this zoo's teacher, per variant and seed
    study, out = load_script("demo_albert_study"), tmp_path / "albert-study"
    args = ["--zoo", str(folder), "--limit", "32", "--seeds", "0", "--out", str(out), "--workdir", str(tmp_path / "w")]
    assert study.main([*args, "--variants", "1024-b16-labels", "all-b32-soft"]) == 0
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert {k: (r["training_texts"], r["batch_size"], r["loss"]) for k, r in runs.items()} == {
        "1024-b16-labels@0": (32, 16, "labels"),
        "all-b32-soft@0": (32, 32, "soft targets + labels"),
    }
    assert all(r["teacher_accuracy"] == zoo.teacher.metrics["test_accuracy"] for r in runs.values())
    table = (out / "results.md").read_text()
    assert "| 1024-b16-labels | 32 | 16 | labels |" in table and (out / "accuracy.png").is_file()
    assert study.zoo_settings(folder, seed=0) == settings  # each run trains with the zoo's own settings
    build = _student_recipe(BuildSettings(), tmp_path / "r", STUDENT_FAMILIES["albert_sop"], folder)
    same = [v for v in study.VARIANTS if study.recipe(folder, v, tmp_path / "r", BuildSettings()) == build]
    assert same == [load_script("doc_claims_demo").DEMO_ALBERT_CHOSEN]  # the one docs/demo.md says the build runs
