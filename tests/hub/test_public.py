"""`compactbert.hub.public`: what goes to the Hub names this machine's files by their run or folder, never by path;
Hub ids, plain names, versions and URLs are kept as they are."""

from __future__ import annotations

import json

import pytest

from compactbert.hub.public import names_machine_path, public_files, public_path, public_record, public_text


@pytest.mark.parametrize(
    ("value", "public"),
    [
        ("/home/me/runs/teacher/model", "teacher"),  # a run's model folder: the run
        ("/home/me/models/bert-base", "bert-base"),
        ("/home/me/data/reviews.csv", "data/reviews.csv"),  # a file: its folder and name
        ("/home/me/runs/teacher/model/metrics.json", "teacher/metrics.json"),
        ("../runs/teacher/model", "../runs/teacher/model"),  # relative to the record: nothing of the machine
        ("../model", "../model"),  # an export's source_folder
        ("~/runs/t2/model", "t2"),
        ("google-bert/bert-base-uncased", "google-bert/bert-base-uncased"),  # a Hub id
        ("minilm", "minilm"),
        ("articles.csv", "articles.csv"),  # a plain name says nothing of the machine
        ("2026.4.1-22982-e213a147257-releases/2026/4", "2026.4.1-22982-e213a147257-releases/2026/4"),  # a version
        ("https://example.org/a/b", "https://example.org/a/b"),
        ("/", "/"),
        ("/home/alice/reviews.csv", "reviews.csv"),  # never the home folder's name
        ("/home/alice/model", "model"),
        ("/Users/alice/runs/model", "runs"),
        ("/root/x.csv", "x.csv"),
        ("/data.csv", "data.csv"),
    ],
)
def test_a_path_is_named_by_its_run_and_anything_else_is_kept(value, public):
    assert public_path(value) == public


def test_a_relative_path_that_exists_here_is_a_machine_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "teacher" / "model").mkdir(parents=True)
    assert names_machine_path("runs/teacher/model") and public_path("runs/teacher/model") == "teacher"
    assert not names_machine_path("runs/student/model")  # not here: it cannot be told from a version or an id


def test_prose_keeps_its_words_and_punctuation():
    text = "reference 90.0% (the test accuracy in /home/me/runs/t/model/metrics.json). See /srv/x/data.csv."
    assert public_text(text) == "reference 90.0% (the test accuracy in t/metrics.json). See x/data.csv."
    assert public_text("teacher=/home/me/runs/t/model, file:/home/me/x/y.csv: 1/2") == "teacher=t, file:x/y.csv: 1/2"


def test_a_whole_value_is_a_path_spaces_and_all_and_label_names_are_kept():
    assert public_record({"source_model": "/Users/John Smith/runs/t/model"}) == {"source_model": "t"}
    assert public_record("~/runs/t2/model") == "t2"
    labels = {"id2label": {"0": "/r/news"}, "label2id": {"/r/news": 0}}  # the model's labels, whatever they look like
    assert public_record(labels) == labels


def test_a_record_is_renamed_at_every_depth_and_keeps_its_other_values():
    record = {
        "teacher": "/home/me/runs/teacher/model",
        "recipe": {"teacher": {"teacher": "/home/me/runs/teacher/model", "layers": [0, 2]}, "task": "bbc-news"},
        "notes": ["kept", "/home/me/runs/x"],
        "accuracy": 0.9,
        "lora": None,
    }
    assert public_record(record) == {
        "teacher": "teacher",
        "recipe": {"teacher": {"teacher": "teacher", "layers": [0, 2]}, "task": "bbc-news"},
        "notes": ["kept", "x"],
        "accuracy": 0.9,
        "lora": None,
    }


def test_public_files_replaces_only_the_records_that_name_paths(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"source_model": "/home/me/runs/teacher/model"}, indent=2) + "\n")
    (tmp_path / "metrics.json").write_text(json.dumps({"task": "bbc-news"}))  # nothing of the machine
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "export.json").write_text(json.dumps({"source": "/home/me/runs/s/model"}))
    (tmp_path / "notes.json").write_text(json.dumps({"where": "/home/me/x/y"}))  # not a record compactbert writes
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"x": "/"}))
    paths = ["config.json", "metrics.json", "onnx/export.json", "notes.json", "tokenizer_config.json"]
    before = {p: (tmp_path / p).read_bytes() for p in paths}
    replaced = {"metrics.json": json.dumps({"reference": "in /home/me/runs/teacher/model/metrics.json"}).encode()}

    renamed = public_files(tmp_path, paths, replaced)

    assert renamed == {
        "config.json": [("/home/me/runs/teacher/model", "teacher")],
        "metrics.json": [("/home/me/runs/teacher/model/metrics.json", "teacher/metrics.json")],  # the replaced one
        "onnx/export.json": [("/home/me/runs/s/model", "s")],
    }
    assert replaced["config.json"] == b'{\n  "source_model": "teacher"\n}\n'  # its last newline kept
    assert json.loads(replaced["metrics.json"]) == {"reference": "in teacher/metrics.json"}
    assert json.loads(replaced["onnx/export.json"]) == {"source": "s"}
    assert set(replaced) == {"config.json", "metrics.json", "onnx/export.json"}
    assert {p: (tmp_path / p).read_bytes() for p in paths} == before  # the local files are unchanged


def test_a_record_that_is_not_json_is_left_to_the_folder_check(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    replaced: dict[str, bytes] = {}
    assert public_files(tmp_path, ["config.json"], replaced) == {} and replaced == {}
