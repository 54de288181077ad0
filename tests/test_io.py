"""compactbert.io: files written in one rename, and the paths a committed result records."""

import json
import os

import pytest

from compactbert.io import relative_path, write_file_atomically, write_json_atomically, write_text_atomically


def test_files_appear_whole_or_not_at_all(tmp_path):
    path = write_json_atomically(tmp_path / "new" / "r.json", {"a": [1, 2], "é": "·"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, 2], "é": "·"}
    assert path.read_text(encoding="utf-8").endswith("}\n")
    assert write_text_atomically(tmp_path / "r.md", "# title · 1–2\n").read_text(encoding="utf-8") == "# title · 1–2\n"

    def fails(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_file_atomically(path, fails)
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, 2], "é": "·"}  # the old file is untouched
    with pytest.raises(RuntimeError):
        write_file_atomically(tmp_path / "never.txt", fails)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["new", "r.json", "r.md"]  # no partial file left


def test_relative_path_names_no_local_folder(tmp_path):
    root = tmp_path / "repo"
    (root / "runs" / "model").mkdir(parents=True)
    assert relative_path(root / "runs" / "model", root) == "runs/model"
    assert relative_path(str(root / "runs" / ".." / "runs" / "model"), root) == "runs/model"
    assert relative_path(tmp_path / "elsewhere", root) == os.fspath(tmp_path / "elsewhere")  # outside: as given
    assert relative_path("sentence-transformers/all-MiniLM-L6-v2", root) == "sentence-transformers/all-MiniLM-L6-v2"


def test_same_path_names_one_file_however_written(tmp_path, monkeypatch):
    from compactbert.io import same_path

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "reviews.csv").write_text("text,label\n")
    monkeypatch.chdir(tmp_path)
    assert same_path("data/reviews.csv", str(tmp_path / "data" / "reviews.csv"))
    assert same_path("bbc-news", "bbc-news") and not same_path("bbc-news", "rotten-tomatoes")
    assert not same_path("data/reviews.csv", "data/missing.csv")  # a name that is no file is only itself
