"""scripts/near_duplicates_study.py without a zoo: the near-duplicates of each built-in task's held-out splits,
counted as docs/data.md states them, and a --zoo that holds no zoo refused before anything runs."""

from __future__ import annotations

import json

import pytest

from support.scripts import load_script


def test_the_counts_and_the_report(tmp_path, capsys):
    study = load_script("near_duplicates_study")
    assert study.main(["--out", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    bbc = results["tasks"]["bbc-news"]
    assert (bbc["test"]["texts"], len(bbc["test"]["near_duplicates"])) == (221, 12)
    assert (bbc["validation"]["texts"], len(bbc["validation"]["near_duplicates"])) == (220, 4)
    assert "zoo" not in results and results["command"].endswith("--out " + str(tmp_path / "out"))
    report = (tmp_path / "out" / "results.md").read_text()
    assert "| `bbc-news` | 4 of 220 | 12 of 221 |" in report and report in capsys.readouterr().out


def test_a_folder_without_a_zoo_is_refused(tmp_path, capsys):
    study = load_script("near_duplicates_study")
    with pytest.raises(SystemExit) as exit_:
        study.main(["--zoo", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2 and "no zoo.json there" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_each_model_is_scored_with_and_without_the_near_duplicates(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    study = load_script("near_duplicates_study")
    test = {"text": ["t0", "t1", "t2", "t3"], "label": [0, 1, 0, 1]}
    wrong = {"teacher": set(), "student": {0}}  # the texts each model gets wrong; text 3 is the near-duplicate

    class Model:
        label_names = ["b", "a"]  # in another order than the task's: predictions are mapped by name

        def __init__(self, name):
            self.name = name

        def predict_proba(self, texts, max_length):
            label = [1 - y if i in wrong[self.name] else y for i, y in enumerate(test["label"])]
            return np.eye(2)[[1 - y for y in label]]  # the column of label y's name in ["b", "a"]

    for name in wrong:
        (tmp_path / name).mkdir()
    zoo = SimpleNamespace(
        teacher=SimpleNamespace(name="teacher"),
        entries=[SimpleNamespace(name="student")],
        resolve=lambda entry: str(tmp_path / entry.name),
    )
    monkeypatch.setattr(study, "load_zoo", lambda folder: zoo)
    monkeypatch.setattr(study, "load_for_inference", lambda folder, **_: Model(folder.name))
    scored = study.score_zoo(tmp_path, test, ["a", "b"], [3])["models"]
    assert scored["teacher"] | {"max_length": 0} == {
        "recorded": None, "all": 1.0, "near_duplicates": 1.0, "without": 1.0, "max_length": 0,
        "kept_all": 1.0, "kept_without": 1.0,
    }  # fmt: skip
    student = scored["student"]
    assert (student["all"], student["near_duplicates"], student["without"]) == (0.75, 1.0, 0.6667)
    assert (student["kept_all"], student["kept_without"]) == (0.75, 0.6667)
