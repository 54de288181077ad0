"""Bad specs and bad data fail with messages that say what was wrong, what was expected and what to do."""

from __future__ import annotations

import json
import time

import datasets
import pandas as pd
import pytest

from compactbert.data import load_task
from compactbert.data.sources import parse_hub_id


@pytest.fixture
def cache(tmp_path):
    """A private datasets cache, so tests leave nothing in the user's cache."""
    return tmp_path / "hf-cache"


def _write_csv(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("spec", ["builtin:bbc", "imdb-reviews:/data/file.csv.bz2"])
def test_unknown_builtin_lists_the_valid_names(spec):
    with pytest.raises(ValueError, match="unknown built-in task") as info:
        load_task(spec)
    assert "bbc-news, rotten-tomatoes" in str(info.value)


def test_colon_hub_config_points_to_the_slash_form():
    with pytest.raises(ValueError, match=r"write 'glue/sst2' or pass config="):
        load_task("glue:sst2")


def test_missing_columns_list_the_columns_found(tmp_path, cache):
    path = _write_csv(tmp_path / "data.csv", body=["a", "b"], y=[0, 1])
    with pytest.raises(ValueError, match="no text column") as info:
        load_task(path, cache_dir=cache)
    assert "columns found: ['body', 'y']" in str(info.value) and "text_column=" in str(info.value)
    with pytest.raises(ValueError, match="no label column") as info:
        load_task(path, text_column="body", cache_dir=cache)
    assert "columns found: ['body', 'y']" in str(info.value) and "label_column=" in str(info.value)
    with pytest.raises(ValueError, match="no text column 'review'; columns found: \\['body', 'y'\\]"):
        load_task(path, text_column="review", label_column="y", cache_dir=cache)


def test_a_file_without_a_header_row_is_said_to_lack_one(tmp_path, cache):
    """Its first row is read as the column names (and is not among the examples): the names look like data."""
    (tmp_path / "rows.csv").write_text(
        "".join(f"the movie number {i},{'pos' if i % 2 else 'neg'}\n" for i in range(20))
    )
    with pytest.raises(ValueError, match="no text column") as info:
        load_task(tmp_path / "rows.csv", cache_dir=cache)
    assert "Names like 'the movie number 0' look like data: if the file has no header row" in str(info.value)
    with pytest.raises(ValueError, match="no text column") as info:
        load_task(_write_csv(tmp_path / "named.csv", body=["a", "b"], y=[0, 1]), cache_dir=cache)
    assert "look like data" not in str(info.value)  # real names get no such hint


def test_a_file_that_is_not_utf8_says_so_and_how_to_convert_it(tmp_path, cache):
    rows = "text,label\n" + "".join(f"caf\u00e9 number {i},{i % 2}\n" for i in range(20))
    (tmp_path / "cp1252.csv").write_bytes(rows.encode("cp1252"))
    with pytest.raises(ValueError, match=r"cp1252.csv: it is not UTF-8 text \('utf-8' codec can't decode byte 0xe9"):
        load_task(tmp_path / "cp1252.csv", cache_dir=cache)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(FileNotFoundError, match="data file .*missing.csv does not exist"):
        load_task(tmp_path / "missing.csv")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"unsupported data file .*notes.txt.*expected one of: \.csv, \.tsv"):
        load_task(tmp_path / "notes.txt")


def test_empty_data(tmp_path, cache):
    (tmp_path / "empty.csv").write_text("text,label\n")
    with pytest.raises(ValueError, match="empty.csv has no rows"):
        load_task(tmp_path / "empty.csv", cache_dir=cache)
    with pytest.raises(ValueError, match="has no rows in its training split"):
        load_task(datasets.Dataset.from_dict({"text": [], "label": []}))
    (tmp_path / "nothing.csv").write_text("")  # not even a header: said so, not as datasets' generation error
    with pytest.raises(ValueError, match=r"nothing.csv \(split 'train'\) is empty; expected a header"):
        load_task(tmp_path / "nothing.csv", cache_dir=cache)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0.5, 1.5] * 10, r"labels are float \(e\.g\. 0\.5\)"),
        (
            [1, None] * 10,
            r"10 rows have no label \(None\), the first at row 1 \(counting from 0; line 2 of the file\)",
        ),
        ([1, "pos"] * 10, r"labels mix types \['int', 'str'\]"),
    ],
)
def test_labels_that_are_neither_ids_nor_names(tmp_path, cache, labels, message):
    path = _write_jsonl(tmp_path / "data.jsonl", [{"text": f"t{i}", "label": y} for i, y in enumerate(labels)])
    with pytest.raises(ValueError, match=message) as info:
        load_task(path, cache_dir=cache)
    assert "Expected integer class ids or class names" in str(info.value)


def test_a_missing_label_in_a_csv_file_is_found_by_its_data_row_and_the_fix_is_named_for_every_caller(tmp_path, cache):
    path = tmp_path / "reviews.csv"
    path.write_text(
        "review,verdict\n" + "".join(f"text {i},{'' if i == 5 else 'pos' if i % 2 else 'neg'}\n" for i in range(20))
    )
    with pytest.raises(ValueError) as info:
        load_task(path, text_column="review", label_column="verdict", cache_dir=cache)
    message = str(info.value)
    # the whole file is one table: no split is named, and the row is found in the file
    assert message.startswith(f"label column 'verdict' in {path}: 1 row has no label (None), the first at row 5 ")
    assert "(counting from 0; data row 6 of the file, after its header)" in message
    assert (
        "label_column=NAME in Python, `label_column: NAME` in a recipe or `--label_column NAME` on the command line"
        in message
    )
    with pytest.raises(ValueError, match="Name it: text_column=NAME in Python, `text_column: NAME` in a"):
        load_task(path, text_column="text", label_column="verdict", cache_dir=cache)


def test_negative_labels_in_part_of_a_split():
    pool = datasets.Dataset.from_dict({"text": ["a", "b", "c", "d"], "label": [0, 1, -1, 1]})
    with pytest.raises(ValueError, match="has 1 negative labels"):
        load_task(pool)


def test_single_class(tmp_path, cache):
    path = _write_csv(tmp_path / "one.csv", text=[f"t{i}" for i in range(20)], label=["pos"] * 20)
    with pytest.raises(ValueError, match=r"single class \('pos'\).*at least two classes"):
        load_task(path, cache_dir=cache)


def test_string_labels_outside_label_names(tmp_path, cache):
    path = _write_csv(tmp_path / "d.csv", text=[f"t{i}" for i in range(20)], label=["pos", "neg", "meh", "pos"] * 5)
    with pytest.raises(ValueError, match=r"labels \['meh'\] that are not among label_names \['neg', 'pos'\]"):
        load_task(path, label_names=["neg", "pos"], cache_dir=cache)


@pytest.mark.parametrize(
    ("labels", "clash"), [(["pos", "neg", "pos "], "['pos', 'pos ']"), (["Neg", "neg"], "['Neg', 'neg']")]
)
def test_labels_that_differ_only_by_case_or_spaces_are_refused_not_split_into_classes(tmp_path, cache, labels, clash):
    path = _write_csv(tmp_path / "d.csv", text=[f"t{i}" for i in range(24)], label=(labels * 12)[:24])
    with pytest.raises(ValueError, match="differ only by case or surrounding spaces") as info:
        load_task(path, cache_dir=cache)
    assert f"[{clash}]; each would be a class of its own" in str(info.value)


def test_int_labels_beyond_label_names():
    pool = datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(20)], "label": [0, 1, 2, 3] * 5})
    with pytest.raises(ValueError, match=r"labels \[0, 1, 2, 3\] that are not ids of the 2 class names"):
        load_task(pool, label_names=["a", "b"])


def test_text_that_is_not_text():
    pool = datasets.Dataset.from_dict({"text": ["a", None, "c", "d"], "label": [0, 1, 0, 1]})
    with pytest.raises(
        ValueError, match=r"1 of 4 values of column 'text'.*row 1 \(counting from 0\), is missing \(None\)"
    ):
        load_task(pool)


def test_too_few_examples_to_stratify():
    pool = datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(21)], "label": [0] * 20 + [1]})
    with pytest.raises(ValueError, match=r"cannot make a stratified split.*Examples per class: \{'0': 20, '1': 1\}"):
        load_task(pool)
    copies = datasets.Dataset.from_dict(
        {"text": [f"t{i % 7}" for i in range(21)], "label": [i % 7 % 2 for i in range(21)]}
    )
    with pytest.raises(ValueError, match=r"split of 7 examples \(21 rows: the copies of a text stay together\)"):
        load_task(copies)


@pytest.mark.parametrize(("validation_size", "test_size"), [(0, 0.1), (0.1, 1.0), (0.5, 0.5), ("0.1", 0.1)])
def test_bad_fractions(validation_size, test_size):
    with pytest.raises(ValueError, match="fraction between 0 and 1|must be below 1"):
        load_task("bbc-news", validation_size=validation_size, test_size=test_size)


def test_bad_split_options(tmp_path, cache):
    path = _write_csv(tmp_path / "d.csv", text=["a", "b"], label=[0, 1], part=["train", "holdout"])
    with pytest.raises(ValueError, match=r"split column 'part'.*values \['holdout', 'train'\]"):
        load_task(path, split_column="part", cache_dir=cache)
    with pytest.raises(ValueError, match=r"no split column 'fold'; columns found: \['text', 'label', 'part'\]"):
        load_task(path, split_column="fold", cache_dir=cache)
    given = datasets.DatasetDict(other=datasets.Dataset.from_dict({"text": ["a"], "label": [0]}))
    with pytest.raises(ValueError, match=r"no training split; splits found: \['other'\].*split_names="):
        load_task(given)
    with pytest.raises(ValueError, match="split_names keys must be among"):
        load_task(given, split_names={"training": "other"})


def test_data_path_only_for_builtin_sets(tmp_path, cache):
    path = _write_csv(tmp_path / "d.csv", text=["a", "b"], label=[0, 1])
    with pytest.raises(ValueError, match="data_path is only for built-in sets"):
        load_task(path, data_path=tmp_path, cache_dir=cache)


def test_parse_hub_id():
    assert parse_hub_id("glue/sst2") == ("glue", "sst2")
    assert parse_hub_id("stanfordnlp/imdb") == ("stanfordnlp/imdb", None)
    assert parse_hub_id("nyu-mll/glue/mrpc") == ("nyu-mll/glue", "mrpc")
    assert parse_hub_id("rotten_tomatoes", "default") == ("rotten_tomatoes", "default")
    with pytest.raises(ValueError, match="names config 'sst2' but config='cola'"):
        parse_hub_id("glue/sst2", "cola")
    with pytest.raises(ValueError, match="expected 'name', 'owner/name'"):
        parse_hub_id("a/b/c/d")


@pytest.mark.parametrize("spec", ["glue/sst2", "rotten_tomatoes", "bbc_news"])
def test_hub_id_offline_fails_fast_and_says_what_to_do(monkeypatch, tmp_path, spec):
    # set after `datasets` was imported (which read it as off), as a notebook would: load_task must still honour it
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ConnectionError) as info:
        load_task(spec, cache_dir=tmp_path)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "HF_HUB_OFFLINE=1" in message and "not in the local datasets cache" in message
    assert "built-in set (bbc-news, rotten-tomatoes)" in message and "local CSV / JSON / JSONL / Parquet" in message
    assert ("did you mean the built-in 'bbc-news'" in message) == (spec == "bbc_news")
    assert datasets.config.HF_HUB_OFFLINE is False  # restored


def test_hub_unreachable_and_not_found_messages(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'x' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(ConnectionError, match="could not be reached.*set HF_HUB_OFFLINE=1 to fail at once"):
        load_task("owner/some-set")

    def not_found(*args, **kwargs):
        raise datasets.exceptions.DatasetNotFoundError("Dataset 'owner/some-set' doesn't exist on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", not_found)
    with pytest.raises(ValueError, match="'owner/some-set' was not found: Dataset 'owner/some-set' doesn't exist"):
        load_task("owner/some-set")


def test_builtin_sets_refuse_column_options(tmp_path):
    with pytest.raises(ValueError, match="text_column, label_names cannot be used with the built-in set 'bbc-news'"):
        load_task("bbc-news", text_column="body", label_names=["a", "b"])
    with pytest.raises(ValueError, match="got two paths for 'bbc-news'"):
        load_task(f"bbc-news:{tmp_path}", data_path=tmp_path)
