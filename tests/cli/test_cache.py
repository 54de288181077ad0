"""`compactbert cache`: the caches listed with their sizes, what `--prune` removes (only what no run can use again)
and `--clear` (everything, but not a demo zoo a build is writing)."""

import fcntl
import json
import os
import shutil

import pytest

from compactbert.cli import main
from compactbert.demo.zoo import default_zoo_dir
from compactbert.export.cache import PARTIAL_AGE_S, record_source


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """An export cache with a live entry, a stale one (its source folder deleted) and a killed export's leftover; a
    demo cache with the demo's zoo, an older zoo, an unfinished build and a killed build's leftover."""
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPACTBERT_DEMO_CACHE", str(tmp_path / "demo"))
    exports, demo = tmp_path / "cache" / "exports", tmp_path / "demo"
    sizes = {}
    for name, size in (("live", 2000), ("gone", 3000)):
        source = tmp_path / "models" / name
        source.mkdir(parents=True)
        (source / "model.safetensors").write_bytes(b"w" * 10)
        entry = exports / f"{name}-sequence-classification-onnx-0123456789abcdef"
        entry.mkdir(parents=True)
        (entry / "model.onnx").write_bytes(b"x" * size)
        record_source(entry, source)
        sizes[entry.name] = size + (entry / "cache.json").stat().st_size
    shutil.rmtree(tmp_path / "models" / "gone")
    (exports / "older-sequence-classification-openvino-fedcba9876543210").mkdir()  # made before records were kept
    zoo = demo / default_zoo_dir().name
    for folder in (zoo, demo / "zoo-minilm-bbc-news-0000000000", demo / f".{zoo.name}.staging"):
        folder.mkdir(parents=True)
        (folder / "weights.bin").write_bytes(b"z" * 1500)
    killed = [exports / ".live-x.partial-abc", demo / f".{zoo.name}.partial-def"]
    for folder in killed:
        folder.mkdir()
        (folder / "half.bin").write_bytes(b"h" * 100)
        old = os.stat(folder).st_mtime - PARTIAL_AGE_S - 60
        os.utime(folder, (old, old))
    (demo / f".{zoo.name}.lock").write_text("")
    return exports, demo, zoo, sizes


def test_cache_lists_each_entry_with_its_size_and_what_can_go(caches, capsys):
    exports, demo, zoo, sizes = caches
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    total = (sum(sizes.values()) + 100) / 1000
    assert f"exports  {exports}  (4 entries, {total:.1f} KB)" in out and f"demo     {demo}  (4 entries, 4.6 KB)" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    live = "live-sequence-classification-onnx-0123456789abcdef"
    assert lines[live].split()[1:] == [f"{sizes[live] / 1000:.1f}", "KB"]
    assert "stale: its source folder" in lines["gone-sequence-classification-onnx-0123456789abcdef"]
    assert "gone is gone (--prune removes it)" in lines["gone-sequence-classification-onnx-0123456789abcdef"]
    assert "left by a killed export or build: --prune removes it" in lines[".live-x.partial-abc"]
    older = lines["older-sequence-classification-openvino-fedcba9876543210"]
    assert older.endswith("no record of its source (not made by this version): only --clear exports removes it")
    assert lines[zoo.name].endswith("the demo's zoo")
    assert lines["zoo-minilm-bbc-news-0000000000"].endswith("a zoo of other settings or another version")
    assert "the next `compactbert demo` resumes it" in lines[f".{zoo.name}.staging"]


def test_prune_removes_only_what_no_run_can_use_again(caches, capsys):
    exports, demo, zoo, sizes = caches
    assert main(["cache", "--prune", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted((os.path.basename(r["path"]), r["bytes"]) for r in report["removed"]) == [
        (".live-x.partial-abc", 100),
        (f".{zoo.name}.partial-def", 100),
        (
            "gone-sequence-classification-onnx-0123456789abcdef",
            sizes["gone-sequence-classification-onnx-0123456789abcdef"],
        ),
    ]
    assert sorted(p.name for p in exports.iterdir()) == [
        "live-sequence-classification-onnx-0123456789abcdef",
        "older-sequence-classification-openvino-fedcba9876543210",
    ]
    kept = [zoo.name, f".{zoo.name}.lock", f".{zoo.name}.staging", "zoo-minilm-bbc-news-0000000000"]
    assert sorted(p.name for p in demo.iterdir()) == sorted(kept)
    assert [len(c["entries"]) for c in report["caches"]] == [2, 3]


def test_clear_empties_a_cache_but_not_under_a_running_build(caches, capsys):
    exports, demo, zoo, sizes = caches
    with open(demo / f".{zoo.name}.lock") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a demo build of this zoo is running
        assert main(["cache", "--clear", "all"]) == 2
        assert "a demo build is writing" in capsys.readouterr().err
        assert (demo / zoo.name).is_dir() and len(list(exports.iterdir())) == 4  # nothing removed
    assert main(["cache", "--clear", "demo"]) == 0
    out = capsys.readouterr().out
    assert f"removed {demo / zoo.name} (1.5 KB): --clear demo" in out
    assert [p.name for p in demo.iterdir()] == [f".{zoo.name}.lock"]
    assert f"demo     {demo}  (0 entries, 0 B)" in out
