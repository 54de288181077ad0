"""compactbert.io: files written in one rename, scratch folders, run folders a stopped run leaves, the paths a committed
result records, and sizes."""

import gc
import json
import os
import tempfile

import pytest

from compactbert.io import (
    DATA_FOLDER,
    EXPORT_FOLDER,
    MODEL_FOLDER,
    RESULTS_FOLDER,
    ZOO_FOLDER,
    ScratchFolder,
    check_replaceable,
    file_in_the_way,
    file_size,
    no_empty_folder_left,
    relative_path,
    write_file_atomically,
    write_folder_atomically,
    write_json_atomically,
    write_text_atomically,
)


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


def test_a_scratch_folder_goes_when_removed_or_with_its_owner(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    removed, collected = ScratchFolder("x-"), ScratchFolder("y-")
    assert removed.path.parent == tmp_path and removed.path.name.startswith("x-")
    (removed.path / "graph" / "model.xml").parent.mkdir()
    (removed.path / "graph" / "model.xml").write_text("<net/>")
    removed.remove()
    removed.remove()  # a second time is a no-op
    assert not removed.path.exists() and collected.path.exists()
    path = collected.path
    del collected
    gc.collect()
    assert list(tmp_path.iterdir()) == [] and not path.exists()


def test_sizes_print_in_binary_units_one_decimal_above_bytes():
    assert [file_size(n) for n in (0, 1023, 1024, 1536, 70 * 2**20, 3 * 2**30, 5000 * 2**30)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "70.0 MiB",
        "3.0 GiB",
        "5000.0 GiB",
    ]


def test_the_file_in_the_way_of_a_folder(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert file_in_the_way(tmp_path / "afile") == tmp_path / "afile"
    assert file_in_the_way(tmp_path / "afile" / "deeper" / "still") == tmp_path / "afile"
    assert file_in_the_way(tmp_path / "new" / "folder") is None and file_in_the_way(tmp_path) is None


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_a_stopped_run_leaves_no_empty_folder_it_made(tmp_path, stop):
    run = tmp_path / "runs" / "mine"
    with pytest.raises(stop), no_empty_folder_left(run):
        (run / "logs").mkdir(parents=True)
        raise stop
    assert not (tmp_path / "runs").exists() and tmp_path.exists()  # the parents made for it go too, not the rest


def test_a_folder_with_a_file_or_one_there_before_is_kept(tmp_path):
    with pytest.raises(KeyboardInterrupt), no_empty_folder_left(tmp_path / "a"):
        (tmp_path / "a" / "checkpoint-10").mkdir(parents=True)
        (tmp_path / "a" / "checkpoint-10" / "model.safetensors").write_bytes(b"x")  # something to resume from
        raise KeyboardInterrupt
    (tmp_path / "b").mkdir()
    with pytest.raises(KeyboardInterrupt), no_empty_folder_left(tmp_path / "b"):
        raise KeyboardInterrupt
    with no_empty_folder_left(tmp_path / "c"):  # work that finished keeps what it made, even empty
        (tmp_path / "c").mkdir()
    assert all((tmp_path / name).is_dir() for name in "abc")


def test_a_parent_another_run_uses_too_is_kept(tmp_path):
    """Two runs started together under a new runs/: the one stopped first leaves the other's folder and runs/."""
    with pytest.raises(RuntimeError), no_empty_folder_left(tmp_path / "runs" / "a"):
        (tmp_path / "runs" / "a").mkdir(parents=True)
        (tmp_path / "runs" / "b").mkdir()  # the other run's, still empty
        raise RuntimeError
    assert not (tmp_path / "runs" / "a").exists() and (tmp_path / "runs" / "b").is_dir()


def test_a_saved_tokenizer_carries_no_load_state(tmp_path):
    """transformers writes how this process loaded a tokenizer (`local_files_only`, `is_local`) into its config; a
    model folder, and so a published repository, is written without them, and loads as before."""
    from transformers import AutoTokenizer

    from compactbert.io import save_tokenizer

    from support.helpers import make_tokenizer

    make_tokenizer().save_pretrained(tmp_path / "source")
    loaded = AutoTokenizer.from_pretrained(tmp_path / "source", local_files_only=True)
    loaded.save_pretrained(tmp_path / "plain")
    assert json.loads((tmp_path / "plain" / "tokenizer_config.json").read_text())["local_files_only"] is True
    save_tokenizer(loaded, tmp_path / "ours")
    config = json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())
    assert "local_files_only" not in config and "is_local" not in config and config["do_lower_case"] is True
    again = AutoTokenizer.from_pretrained(tmp_path / "ours")
    assert again("the team win")["input_ids"] == loaded("the team win")["input_ids"]


def _fill(folder):
    (folder / "model.safetensors").write_bytes(b"new")


@pytest.mark.parametrize(
    "kind", [MODEL_FOLDER, EXPORT_FOLDER, ZOO_FOLDER, DATA_FOLDER, RESULTS_FOLDER], ids=lambda kind: kind.name
)
def test_overwrite_replaces_a_folder_of_the_kind_written_or_an_empty_one(tmp_path, kind):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_folder_atomically(empty, _fill, overwrite=True, kind=kind)
    assert sorted(p.name for p in empty.iterdir()) == ["model.safetensors"]
    out = tmp_path / "out"
    out.mkdir()
    (out / kind.marks[0]).write_text("{}")
    (out / "notes.txt").write_text("old")  # a file of that folder goes with it
    write_folder_atomically(out, _fill, overwrite=True, kind=kind)
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]


def test_overwrite_refuses_a_folder_of_another_kind_or_of_someone_s_own_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("precious")
    with pytest.raises(FileExistsError, match=r"is not a model folder \(no config.json in it; it holds thesis.txt\)"):
        write_folder_atomically(out, _fill, overwrite=True, kind=MODEL_FOLDER)
    assert (out / "thesis.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing was written beside it
    (out / "zoo.json").write_text("{}")  # a folder with a zoo.json written into it, holding someone's models
    with pytest.raises(FileExistsError, match="is not a model folder"):
        write_folder_atomically(out, _fill, overwrite=True, kind=MODEL_FOLDER)
    with pytest.raises(FileExistsError, match="is not an export folder"):
        check_replaceable(out, EXPORT_FOLDER)
    write_folder_atomically(out, _fill, overwrite=True, cache_entry=True)  # compactbert's own cache entry: replaced
    assert not (out / "thesis.txt").exists()


def test_overwrite_refuses_the_current_folder_and_the_folders_above_it(tmp_path, monkeypatch):
    here = tmp_path / "work" / "run"
    here.mkdir(parents=True)
    (here / "config.json").write_text("{}")
    monkeypatch.chdir(here)
    for output in (".", here, tmp_path / "work"):
        with pytest.raises(FileExistsError, match="is the current folder or holds it"):
            write_folder_atomically(output, _fill, overwrite=True)
    assert (here / "config.json").exists()


def test_overwrite_refuses_a_folder_holding_the_source_and_lets_a_source_be_replaced(tmp_path):
    parent = tmp_path / "runs"
    source = parent / "model"
    source.mkdir(parents=True)
    (source / "config.json").write_text("{}")
    (parent / "config.json").write_text("{}")  # a model folder, but one that holds the source
    with pytest.raises(FileExistsError, match=r"holds .*model, which the new folder is made from"):
        check_replaceable(parent, MODEL_FOLDER, [source])
    with pytest.raises(FileExistsError, match="which the new folder is made from"):
        write_folder_atomically(parent, _fill, overwrite=True, kind=MODEL_FOLDER, sources=[source])
    assert (source / "config.json").exists()
    # the source itself, by what is made from it
    write_folder_atomically(source, _fill, overwrite=True, kind=MODEL_FOLDER, sources=[source])
    assert sorted(p.name for p in source.iterdir()) == ["model.safetensors"]
