"""`compactbert cache`: the caches listed with their sizes, what `--prune` removes (only what no run can use again)
and `--clear` (everything compactbert wrote, nothing while a demo build runs, nothing it did not write)."""

import contextlib
import fcntl
import json
import os
import shutil

import pytest

from compactbert.cli import main
from compactbert.demo.zoo import default_zoo_dir
from compactbert.export.cache import PARTIAL_AGE_S, record_source, source_files

OTHER_ZOO = "zoo-minilm-bbc-news-0000000000"


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """An export cache with a live entry, a stale one (its source folder deleted), one from before records, a killed
    export's leftover and a folder that is not compactbert's; a demo cache with the demo's zoo, an older zoo, an
    unfinished build, a killed build's leftover and a folder that is not compactbert's."""
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
        (entry / "export.json").write_text("{}")
        record_source(entry, source, source_files(source))
        sizes[entry.name] = sum(f.stat().st_size for f in entry.iterdir())
    shutil.rmtree(tmp_path / "models" / "gone")
    older = exports / "older-sequence-classification-openvino-fedcba9876543210"  # made before records were kept
    older.mkdir()
    (older / "export.json").write_text("{}")
    zoo = demo / default_zoo_dir().name
    for folder in (zoo, demo / OTHER_ZOO, demo / f".{zoo.name}.staging"):
        folder.mkdir(parents=True)
        (folder / "weights.bin").write_bytes(b"z" * 1500)
    killed = [exports / ".live-x.partial-abc", demo / f".{zoo.name}.partial-def", demo / f".{OTHER_ZOO}.partial-ghi"]
    for folder in killed:
        folder.mkdir()
        (folder / "half.bin").write_bytes(b"h" * 100)
        old = os.stat(folder).st_mtime - PARTIAL_AGE_S - 60
        os.utime(folder, (old, old))
    for root in (exports, demo):  # someone's own folder inside a cache folder
        (root / "my-notes").mkdir()
        (root / "my-notes" / "keep.txt").write_text("mine")
    return exports, demo, zoo, sizes


@contextlib.contextmanager
def building(demo, zoo_name):
    """A demo build of `zoo_name` running: its build lock held."""
    with open(demo / f".{zoo_name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def names(root):
    return sorted(p.name for p in root.iterdir() if p.suffix != ".lock")


def test_cache_lists_each_folder_with_its_size_and_what_it_is(caches, capsys):
    exports, demo, zoo, sizes = caches
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    total = (sum(sizes.values()) + 2 + 100 + 4) / 1024
    assert (
        f"exports  {exports}  (5 entries, {total:.1f} KiB)" in out and f"demo     {demo}  (6 entries, 4.6 KiB)" in out
    )
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    live, gone = (f"{name}-sequence-classification-onnx-0123456789abcdef" for name in ("live", "gone"))
    assert lines[live].split()[1:] == [
        f"{sizes[live] / 1024:.1f}",
        "KiB",
        "from",
        str(exports.parent.parent / "models" / "live"),
    ]
    assert lines[gone].endswith(f"stale: its source folder {exports.parent.parent / 'models' / 'gone'} is gone "
                                "(--prune removes it)")  # fmt: skip
    assert lines["older-sequence-classification-openvino-fedcba9876543210"].endswith(
        "made by an earlier compactbert and not loaded since: only --clear exports removes it"
    )
    assert "left by a killed export or build: --prune removes it" in lines[".live-x.partial-abc"]
    assert lines[zoo.name].endswith("the demo's zoo")
    assert lines[OTHER_ZOO].endswith("a zoo of other settings or another version")
    assert "of the demo's zoo: the next `compactbert demo` resumes it" in lines[f".{zoo.name}.staging"]
    assert [line.endswith("not compactbert's: left alone") for line in out.splitlines() if "my-notes" in line] == [
        True,
        True,
    ]


def test_prune_removes_only_what_no_run_can_use_again(caches, capsys):
    exports, demo, zoo, sizes = caches
    with building(demo, OTHER_ZOO):  # a running build's folders are not touched, however old
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
    assert names(exports) == [
        "live-sequence-classification-onnx-0123456789abcdef",
        "my-notes",
        "older-sequence-classification-openvino-fedcba9876543210",
    ]
    assert names(demo) == sorted(
        [zoo.name, f".{zoo.name}.staging", OTHER_ZOO, f".{OTHER_ZOO}.partial-ghi", "my-notes"]
    )
    assert [len(c["entries"]) for c in report["caches"]] == [3, 5]


def test_clear_removes_what_compactbert_wrote_and_nothing_while_a_build_runs(caches, capsys):
    exports, demo, zoo, _ = caches
    before = (names(exports), names(demo))
    with building(demo, zoo.name):
        for command in (["--clear", "all"], ["--prune", "--clear", "demo"]):
            assert main(["cache", *command]) == 2
            assert f"a demo build is running in {demo} ({zoo.name}); stop it" in capsys.readouterr().err
            assert (names(exports), names(demo)) == before  # nothing removed
    assert main(["cache", "--clear", "demo"]) == 0
    out = capsys.readouterr().out
    assert f"removed {demo / zoo.name} (1.5 KiB): --clear demo" in out
    assert names(demo) == ["my-notes"] and names(exports) == before[0]  # the exports are another cache
    assert f"demo     {demo}  (1 entry, 4 B)" in out
    assert main(["cache", "--clear", "exports"]) == 0
    assert names(exports) == ["my-notes"] and (exports / "my-notes" / "keep.txt").read_text() == "mine"


def test_a_young_half_written_zoo_folder_is_being_written_only_while_its_build_runs(caches, capsys):
    """A build holds its zoo's lock while it writes: a fresh `.partial-` folder of a zoo no build holds was left by
    a killed one (removed by --prune at any age), while one of a running build is being written (left alone)."""
    _, demo, zoo, _ = caches
    fresh = demo / f".{OTHER_ZOO}.partial-new"
    fresh.mkdir()
    (fresh / "half.bin").write_bytes(b"h" * 10)
    with building(demo, OTHER_ZOO):
        assert main(["cache"]) == 0
        lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
        assert lines[fresh.name].endswith("being written")
        assert main(["cache", "--prune"]) == 0 and fresh.is_dir()
    capsys.readouterr()
    assert main(["cache"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    assert lines[fresh.name].endswith("left by a killed export or build: --prune removes it")
    assert main(["cache", "--prune"]) == 0 and not fresh.exists()
    assert f"removed {fresh} (10 B): left by a killed demo build" in capsys.readouterr().out
