"""Local files (CSV / TSV / JSON / JSONL / Parquet) and in-memory `datasets` objects as task specs."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pytest

from compactbert.data import load_task

from support.data_checks import assert_disjoint, assert_stratified


@pytest.fixture
def cache(tmp_path):
    """A private datasets cache, so tests leave nothing in the user's cache."""
    return tmp_path / "hf-cache"


def _rows(n: int = 90, labels=("neg", "neutral", "pos")) -> list[dict]:
    return [
        {"text": f"example number {i} about {labels[i % len(labels)]}", "label": labels[i % len(labels)]}
        for i in range(n)
    ]


def _pairs(task) -> dict[str, str]:
    """text -> label name over all splits."""
    return {
        t: task.label_names[y]
        for split in task.dataset.values()
        for t, y in zip(split["text"], split["label"], strict=True)
    }


def test_csv_with_string_labels(tmp_path, cache):
    rows = _rows()
    pd.DataFrame(rows).to_csv(tmp_path / "data.csv", index=False)
    task = load_task(str(tmp_path / "data.csv"), cache_dir=cache)
    assert task.label_names == ["neg", "neutral", "pos"]  # sorted names
    assert {name: s.num_rows for name, s in task.dataset.items()} == {"train": 72, "validation": 9, "test": 9}
    assert _pairs(task) == {r["text"]: r["label"] for r in rows}  # every row once, with its own label
    assert_disjoint(task)
    assert_stratified(task, tolerance=0.01)  # 30 per class: exactly 24 / 3 / 3


def test_jsonl_with_int_labels_and_text_pair(tmp_path, cache):
    path = tmp_path / "pairs.jsonl"
    with path.open("w") as f:
        for i in range(40):
            f.write(
                json.dumps({"text": f"premise {i}", "text_pair": f"hypothesis {i}", "label": i % 2, "id": i}) + "\n"
            )
    task = load_task(path, cache_dir=cache, seed=3)
    train = task.dataset["train"]
    assert train.column_names == ["text", "text_pair", "label"]
    assert task.label_names == ["0", "1"]
    for text, pair, label in zip(train["text"], train["text_pair"], train["label"], strict=True):
        i = int(text.split()[1])
        assert pair == f"hypothesis {i}" and label == i % 2


def test_json_array_with_label_names(tmp_path, cache):
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"text": f"t{i}", "label": i % 2} for i in range(30)]))
    task = load_task(path, cache_dir=cache, label_names=["bad", "good"])
    assert task.label_names == ["bad", "good"]
    assert _pairs(task)["t3"] == "good"


def test_parquet_with_named_columns_and_sparse_int_labels(tmp_path, cache):
    frame = pd.DataFrame(
        {"review_body": [f"review {i}" for i in range(60)], "stars": [(1, 3, 5)[i % 3] for i in range(60)]}
    )
    frame.to_parquet(tmp_path / "reviews.parquet")
    task = load_task(tmp_path / "reviews.parquet", text_column="review_body", label_column="stars", cache_dir=cache)
    assert task.label_names == ["1", "3", "5"]  # ids 0..2 name the star values
    assert _pairs(task)["review 4"] == "3"
    assert task.dataset["train"].column_names == ["text", "label"]


def test_glue_style_columns_are_mapped(tmp_path, cache):
    frame = pd.DataFrame(
        {"idx": range(30), "sentence1": [f"a{i}" for i in range(30)], "sentence2": [f"b{i}" for i in range(30)]}
    )
    frame["label"] = [i % 2 for i in range(30)]
    frame.to_csv(tmp_path / "mrpc.csv", index=False)
    task = load_task(tmp_path / "mrpc.csv", cache_dir=cache)
    row = task.dataset["test"][0]
    assert row["text_pair"] == "b" + row["text"][1:]

    qnli = pd.DataFrame({"question": [f"q{i}?" for i in range(30)], "sentence": [f"s{i}" for i in range(30)]})
    qnli["label"] = ["entailment", "not_entailment"] * 15
    qnli.to_csv(tmp_path / "qnli.tsv", sep="\t", index=False)
    task = load_task(tmp_path / "qnli.tsv", cache_dir=cache)
    row = task.dataset["train"][0]
    assert (row["text"][0], row["text_pair"][0]) == ("q", "s")
    assert task.label_names == ["entailment", "not_entailment"]


def test_identical_for_a_seed_different_for_another(tmp_path, cache):
    pd.DataFrame(_rows(300)).to_csv(tmp_path / "data.csv", index=False)
    first = load_task(tmp_path / "data.csv", cache_dir=cache, seed=1)
    again = load_task(tmp_path / "data.csv", cache_dir=cache, seed=1)
    other = load_task(tmp_path / "data.csv", cache_dir=cache, seed=2)
    assert first.dataset["test"]["text"] == again.dataset["test"]["text"]
    assert first.dataset["train"]["text"] == again.dataset["train"]["text"]
    assert set(first.dataset["test"]["text"]) != set(other.dataset["test"]["text"])


def test_duplicates_in_a_file_stay_in_one_split(tmp_path, cache):
    rows = _rows(60) + [{"text": r["text"].upper() + "  ", "label": r["label"]} for r in _rows(60)]
    pd.DataFrame(rows).to_csv(tmp_path / "dups.csv", index=False)
    task = load_task(tmp_path / "dups.csv", cache_dir=cache)
    assert sum(s.num_rows for s in task.dataset.values()) == 120  # kept, but grouped
    assert_disjoint(task)


def test_separate_files_per_split(tmp_path, cache):
    folder = tmp_path / "files"  # only the data files: the folder itself is a spec below
    folder.mkdir()
    pd.DataFrame(_rows(90)).to_csv(folder / "train.csv", index=False)
    test_rows = [{"text": f"held out {i}", "label": ("neg", "pos")[i % 2]} for i in range(10)]
    pd.DataFrame(test_rows).to_csv(folder / "test.csv", index=False)
    files = {"train": folder / "train.csv", "test": folder / "test.csv"}
    task = load_task(files, cache_dir=cache)
    assert task.dataset["test"]["text"] == [r["text"] for r in test_rows]  # the given test split, untouched
    assert task.dataset["validation"].num_rows == 9  # carved out of train: 10% of 90
    assert task.dataset["train"].num_rows == 81
    by_folder = load_task(folder, cache_dir=cache)  # a folder: splits named by the file names
    assert by_folder.dataset["test"]["text"] == task.dataset["test"]["text"]
    assert by_folder.dataset["validation"]["text"] == task.dataset["validation"]["text"]


def test_split_column(tmp_path, cache):
    rows = [dict(r, split="dev" if i < 12 else "train") for i, r in enumerate(_rows(90))]
    pd.DataFrame(rows).to_csv(tmp_path / "data.csv", index=False)
    task = load_task(tmp_path / "data.csv", split_column="split", cache_dir=cache)
    # `dev` is the given validation; with no labeled test it becomes the test split
    assert task.dataset["test"]["text"] == [r["text"] for r in rows[:12]]
    assert task.dataset["train"].num_rows + task.dataset["validation"].num_rows == 78
    assert "split" not in task.dataset["train"].column_names


def test_hub_shaped_datasetdict_with_unlabeled_test():
    """A GLUE-shaped set: ClassLabel names, `sentence`, and test labels of -1."""
    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["negative", "positive"]),
            "idx": datasets.Value("int32"),
        }
    )

    def split(prefix, n, labeled=True):
        rows = {"sentence": [f"{prefix} {i}" for i in range(n)], "label": [i % 2 if labeled else -1 for i in range(n)]}
        rows["idx"] = list(range(n))
        return datasets.Dataset.from_dict(rows, features=features)

    given = datasets.DatasetDict(train=split("train", 100), validation=split("dev", 20), test=split("test", 30, False))
    task = load_task(given, validation_size=0.2)
    assert task.label_names == ["negative", "positive"]
    assert task.dataset["test"]["text"] == given["validation"]["sentence"]  # validation serves as the test split
    assert task.dataset["validation"].num_rows == 20  # a new validation: 20% of train
    assert task.dataset["train"].num_rows == 80
    assert not set(task.dataset["test"]["text"]) & set(task.dataset["train"]["text"])


def test_split_names_pick_a_source_split():
    pool = {"text": [f"t{i}" for i in range(40)], "label": [i % 2 for i in range(40)]}
    given = datasets.DatasetDict(
        train=datasets.Dataset.from_dict(pool),
        validation_matched=datasets.Dataset.from_dict({"text": ["m0", "m1"], "label": [0, 1]}),
    )
    task = load_task(given, split_names={"test": "validation_matched"})
    assert task.dataset["test"]["text"] == ["m0", "m1"]


def test_all_three_given_are_kept():
    def part(prefix):
        return datasets.Dataset.from_dict({"text": [f"{prefix}{i}" for i in range(6)], "label": [0, 1] * 3})

    given = datasets.DatasetDict(train=part("a"), validation=part("b"), test=part("c"))
    task = load_task(given)
    for name in ("train", "validation", "test"):
        assert task.dataset[name]["text"] == given[name]["text"]


def test_in_memory_dataset_with_bool_labels():
    pool = datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(20)], "label": [i % 2 == 0 for i in range(20)]})
    task = load_task(pool)
    assert task.label_names == ["false", "true"]
    assert _pairs(task)["t4"] == "true"


def test_whole_keeps_every_labeled_row_in_order_as_one_split(tmp_path, cache):
    """`whole=True`: nothing carved out, the rows in the file's order, one class enough; a DatasetDict's labeled splits
    one after the other (an unlabeled test split left out); a built-in set whole."""
    rows = _rows(10, labels=("pos",))
    pd.DataFrame(rows).to_csv(tmp_path / "held.csv", index=False)
    task = load_task(tmp_path / "held.csv", whole=True, cache_dir=cache)
    assert list(task.dataset) == ["all"] and task.label_names == ["pos"]
    assert task.dataset["all"]["text"] == [r["text"] for r in rows] and set(task.dataset["all"]["label"]) == {0}
    with pytest.raises(ValueError, match="a single class"):  # a task to train on needs two
        load_task(tmp_path / "held.csv", cache_dir=cache)

    given = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 1]}),
        test=datasets.Dataset.from_dict({"text": ["c", "d"], "label": [-1, -1]}),  # unlabeled
        validation=datasets.Dataset.from_dict({"text": ["e"], "label": [1]}),
    )
    whole = load_task(given, whole=True).dataset["all"]
    assert whole["text"] == ["a", "b", "e"] and whole["label"] == [0, 1, 1]
    assert load_task(given, whole=True, split_names={"test": "validation"}).dataset["all"]["text"] == ["e"]
    unlabeled_first = datasets.DatasetDict(  # the columns are read from a table that has labels
        test=datasets.Dataset.from_dict({"text": ["c"]}),
        train=datasets.Dataset.from_dict(
            {"text": ["a", "b"], "label": [1, 1]},
            features=datasets.Features(
                {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
            ),
        ),
    )
    task = load_task(unlabeled_first, whole=True)
    assert task.dataset["all"]["text"] == ["a", "b"] and task.label_names == ["neg", "pos"]  # the ClassLabel's
    assert load_task("bbc-news", whole=True).dataset["all"].num_rows == 2225
