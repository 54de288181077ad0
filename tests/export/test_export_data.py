"""The data an export is verified and calibrated on: the task metrics.json records, found where it can be without a
guess, `data=` / `--data` naming it, and saying so when it could not be loaded."""

import json
import warnings

import pytest
from transformers import BertForSequenceClassification

import compactbert
from compactbert.cli import main
from compactbert.export import SAMPLE_TEXTS, DataNotLoadedWarning, export_model
from compactbert.export.texts import task_texts
from compactbert.records import locate_recorded_task

from support.helpers import make_bert, make_tokenizer, spread_classifier

LABELS = {0: "fresh", 1: "rotten", 2: "mixed"}  # (spread_classifier sets three labels apart)
RECIPE = {"data": {"text_column": "review", "label_column": "sentiment"}}


def write_reviews(path, rows: int = 40) -> None:
    """A CSV with the walk's column names (review, sentiment), not the default ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["review,sentiment"] + [
        f"review number {i} of a {'fine' if i % 2 else 'dull'} film,{'fresh' if i % 2 else 'rotten'}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project as the newcomer had it: `out/reviews.csv`, a model under `out/runs/x/model` whose metrics.json
    records the task as the relative path typed in the project folder; the tests run from another folder."""
    root = tmp_path / "project"
    write_reviews(root / "out" / "reviews.csv")
    model = make_bert(
        BertForSequenceClassification, num_layers=2, num_labels=3, id2label=LABELS, initializer_range=0.2
    )
    folder = root / "out" / "runs" / "x" / "model"
    compactbert.save_model(spread_classifier(compactbert.shrink(model, "top", num_drop=1)), folder, make_tokenizer())
    metrics = {"task": "out/reviews.csv", "split_seed": 42, "recipe": RECIPE}
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return folder


def test_a_recorded_relative_path_is_found_under_the_model_folders_ancestors_when_one_has_it(project):
    csv = project.parents[2] / "reviews.csv"
    assert locate_recorded_task("out/reviews.csv", project) == (str(csv), [csv])
    found = task_texts(project, 3, "test")
    assert found.not_loaded is None and len(found.texts) == 3 and "review number" in found.texts[0]
    assert found.where == f"the first 3 texts of the test split of out/reviews.csv, found at {csv} (seed 42)"
    # names that are no relative data file are read as they are
    assert locate_recorded_task("bbc-news", project) == ("bbc-news", [])
    assert locate_recorded_task("owner/name", project) == ("owner/name", [])


def test_two_ancestors_with_the_file_are_not_guessed_between(project):
    write_reviews(project.parents[1] / "out" / "reviews.csv")  # out/runs/out/reviews.csv: a second match
    spec, matches = locate_recorded_task("out/reviews.csv", project)
    assert spec == "out/reviews.csv" and len(matches) == 2
    found = task_texts(project, 3, "test")
    assert found.texts == list(SAMPLE_TEXTS[:3])
    assert found.not_loaded.startswith("the task 'out/reviews.csv' could not be loaded: FileNotFoundError")
    assert "(and 2 ancestors of the model folder have it: " in found.not_loaded


def test_data_names_the_task_and_its_columns_come_from_the_recipe(project, tmp_path):
    (project.parents[2] / "reviews.csv").rename(tmp_path / "moved.csv")  # nothing to find any more
    assert task_texts(project, 3, "test").not_loaded is not None
    found = task_texts(project, 3, "train", data=tmp_path / "moved.csv")
    assert found.where == f"the first 3 texts of the train split of {tmp_path / 'moved.csv'} (seed 42)"
    assert all("review number" in text for text in found.texts)
    with pytest.raises(ValueError, match=r"the data '.*missing.csv' could not be loaded: FileNotFoundError"):
        task_texts(project, 3, "test", data=tmp_path / "missing.csv")


def test_an_export_says_how_to_name_the_data_it_could_not_load(project, tmp_path, capsys):
    (project.parents[2] / "reviews.csv").rename(tmp_path / "moved.csv")
    with pytest.warns(DataNotLoadedWarning, match=r"verification on 4 built-in sample texts .* data='PATH'"):
        result = export_model(project, tmp_path / "api", format="openvino", verify_samples=4)
    assert result.verification["task_not_loaded"].startswith("the task 'out/reviews.csv' could not be loaded")

    # the command line names its option, and --data verifies on the task with the recipe's columns
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotLoadedWarning)  # the command prints its own line instead
        assert main(["export", str(project), "--format", "openvino", "-o", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err
    assert (
        "note: the verification ran on built-in texts, not the model's own, because the task 'out/reviews.csv' " in err
    )
    assert (
        "name the data with --data TASK_OR_FILE (its column names and split seed still come from metrics.json)" in err
    )
    assert "data='PATH'" not in err
    argv = ["export", str(project), "--format", "openvino", "-o", str(tmp_path / "named"), "--data"]
    assert main([*argv, str(tmp_path / "moved.csv")]) == 0
    captured = capsys.readouterr()
    assert f"on the first 4 texts of the test split of {tmp_path / 'moved.csv'} (seed 42)" in captured.out
    assert "note:" not in captured.err
