"""The studies' results.json name each run's model folder relative to the study's workdir, not this machine's path;
resuming and timing find the folders under `--workdir`, and an older results.json with absolute folders still works.
Nothing trains here: the cells are stand-ins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def distillation():
    return load_script("distillation_study")


@pytest.fixture(scope="module")
def pruning():
    return load_script("pruning_study")


def test_model_dirs_are_recorded_relative_and_read_against_the_workdir(distillation, tmp_path):
    workdir = tmp_path / "study"
    assert distillation.recorded_model_dir(str(workdir / "rotten-tomatoes" / "teacher"), workdir) == (
        "rotten-tomatoes/teacher/model"
    )
    run = {"model_dir": "rotten-tomatoes/teacher/model"}
    assert distillation.model_folder(run, workdir) == workdir / "rotten-tomatoes" / "teacher" / "model"
    assert distillation.model_folder(run, tmp_path / "moved") == tmp_path / "moved" / "rotten-tomatoes/teacher/model"
    old = {"model_dir": "/work/study/bbc-news/teacher/model"}  # an older results.json: taken as it is
    assert distillation.model_folder(old, workdir) == Path("/work/study/bbc-news/teacher/model")


def test_the_committed_pruning_results_name_no_machines_folders():
    results = json.loads((ROOT / "docs" / "results" / "pruning" / "results.json").read_text())
    assert results["runs"] and results["setup"]["workdir"]  # what the folders are relative to
    for run in results["runs"].values():  # the folders run_cell / train_teacher make under the workdir
        folder = "teacher" if run["cell"] == "teacher" else f"{run['cell']}-s{run['seed']}"
        assert run["model_dir"] == f"{run['task']}/{folder}/model"


def fake_row(task: str, cell: str, seed: int, workdir: Path, folder: str) -> dict:
    (workdir / folder).mkdir(parents=True, exist_ok=True)
    return {
        "task": task, "cell": cell, "seed": seed, "test_accuracy": 0.8, "test_macro_f1": 0.8,
        "validation_accuracy": 0.8, "num_parameters": 14_500_000, "num_hidden_layers": 4, "hidden_size": 312,
        "intermediate_size": 1200, "kept_layers": [0, 1, 2, 4], "losses": {"label": 1.0}, "stages": None,
        "wall_seconds": 1.0, "model_dir": f"{folder}",
    }  # fmt: skip


def test_pruning_study_resumes_from_folders_under_the_workdir(pruning, tmp_path, monkeypatch):
    """Runs whose folders exist (relative under --workdir, or absolute from an older file) are not made again; a run
    whose folder is gone is; the new rows record relative folders, and setup the workdir."""
    workdir, out = tmp_path / "study", tmp_path / "out"
    made = []

    def run_cell(task, cell, seed, wd, limit, extra=None):
        made.append((task, cell, seed))
        return fake_row(task, cell, seed, wd, pruning.recorded_model_dir(wd / task / f"{cell}-s{seed}", wd))

    monkeypatch.setattr(pruning, "run_cell", run_cell)
    monkeypatch.setattr(pruning, "train_teacher", lambda task, wd, limit: pytest.fail("the teacher is there"))
    old_teacher = tmp_path / "elsewhere" / "teacher" / "model"  # an older results.json's absolute folder
    old_teacher.mkdir(parents=True)
    out.mkdir()
    runs = {
        "rotten-tomatoes/teacher": fake_row("rotten-tomatoes", "teacher", 0, workdir, "x") | {
            "model_dir": str(old_teacher), "num_hidden_layers": 6},
        "rotten-tomatoes/pruned-labels/s0": fake_row(
            "rotten-tomatoes", "pruned-labels", 0, workdir, "rotten-tomatoes/pruned-labels-s0/model"),
        "rotten-tomatoes/pruned-labels/s1": fake_row(
            "rotten-tomatoes", "pruned-labels", 1, tmp_path / "gone", "rotten-tomatoes/pruned-labels-s1/model"),
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps({"runs": runs, "setup": {}}))
    argv = ["--out", str(out), "--workdir", str(workdir), "--tasks", "rotten-tomatoes"]
    assert pruning.main([*argv, "--cells", "pruned-labels", "--seeds", "0", "1", "--no-speed"]) == 0
    assert made == [("rotten-tomatoes", "pruned-labels", 1)]  # s1's folder is not under --workdir
    results = json.loads((out / "results.json").read_text())
    assert results["setup"]["workdir"] == str(workdir)
    assert results["runs"]["rotten-tomatoes/pruned-labels/s1"]["model_dir"] == "rotten-tomatoes/pruned-labels-s1/model"
    assert results["runs"]["rotten-tomatoes/teacher"]["model_dir"] == str(old_teacher)  # left as it was
    assert "| rotten-tomatoes | pruned-labels | 4 × 312 × 1200 |" in (out / "results.md").read_text()


def test_pruning_study_times_the_folders_under_the_workdir(pruning, tmp_path, monkeypatch):
    timed = {}

    def inference_times(dirs, texts):
        timed.update(dirs)
        return {}

    monkeypatch.setattr(pruning, "inference_times", inference_times)
    runs = {
        "t": fake_row("rotten-tomatoes", "teacher", 0, tmp_path, "rotten-tomatoes/teacher/model"),
        "a": fake_row("rotten-tomatoes", "pruned-labels", 0, tmp_path, "rotten-tomatoes/pruned-labels-s0/model"),
        "b": fake_row("rotten-tomatoes", "pruned-kd", 0, tmp_path / "gone", "rotten-tomatoes/pruned-kd-s0/model"),
    }
    runs["t"] |= {"num_hidden_layers": 6, "hidden_size": 384, "intermediate_size": 1536}
    runs["b"] |= {"num_hidden_layers": 2}
    assert pruning.time_shapes(runs, "rotten-tomatoes", tmp_path) == {"task": "rotten-tomatoes"}
    assert timed == {
        "teacher": str(tmp_path / "rotten-tomatoes/teacher/model"),
        "4 × 312 × 1200": str(tmp_path / "rotten-tomatoes/pruned-labels-s0/model"),
    }  # the 2-layer run's folder is not under the workdir: not timed


def test_a_teacher_whose_folder_is_gone_is_trained_again_as_another_run(pruning, tmp_path, monkeypatch):
    """A results.json made on another machine: its teacher's folder is not here, so the cells cannot distil from it.
    The teacher is trained again and kept beside the recorded one; retention is then against their mean."""
    trained = []

    def train_teacher(task, workdir, limit):
        folder = workdir / task / "teacher" / "model"
        folder.mkdir(parents=True)
        trained.append(task)
        return {"task": task, "cell": "teacher", "test_accuracy": 0.9, "model_dir": f"{task}/teacher/model"}

    monkeypatch.setattr(pruning, "train_teacher", train_teacher)
    recorded = {"task": "bbc-news", "cell": "teacher", "test_accuracy": 0.8, "model_dir": "bbc-news/teacher/model"}
    runs = {"bbc-news/teacher": recorded, "bbc-news/pruned-labels/s0": {"task": "bbc-news", "cell": "pruned-labels"}}
    assert pruning.ensure_teacher(runs, "bbc-news", "bbc-news/teacher", tmp_path, None) is True
    assert runs["bbc-news/teacher"] is recorded and runs["bbc-news/teacher@run2"]["test_accuracy"] == 0.9
    # its folder is here now: nothing trains again, for this task; another task trains under the plain key
    assert pruning.ensure_teacher(runs, "bbc-news", "bbc-news/teacher", tmp_path, None) is False
    assert pruning.ensure_teacher(runs, "rotten-tomatoes", "rotten-tomatoes/teacher", tmp_path, None) is True
    assert trained == ["bbc-news", "rotten-tomatoes"] and "rotten-tomatoes/teacher" in runs

    # retention is against the teacher each run was trained from: the recorded one for a run made before teachers were
    # recorded, its own `teacher_accuracy` after; the teacher's row is the mean of its runs
    report = load_script("study_report")
    old = {"task": "bbc-news", "cell": "pruned-labels", "test_accuracy": 0.76}
    new = {"task": "bbc-news", "cell": "pruned-labels", "test_accuracy": 0.90, "teacher_accuracy": 0.9}
    rows = {("bbc-news", "teacher"): [recorded, runs["bbc-news/teacher@run2"]], ("bbc-news", "pruned-labels"): [old]}
    cells = {
        cell: (mean, retention) for _, cell, _, mean, _, retention, _ in report.study_cells(rows, ["bbc-news"], str)
    }
    assert cells == {"teacher": (pytest.approx(0.85), "100.0%"), "pruned-labels": (0.76, "95.0%")}  # 0.76 / 0.8
    rows[("bbc-news", "pruned-labels")] = [old, new]  # (0.76 + 0.90) / 2 against (0.8 + 0.9) / 2
    cells = {cell: retention for _, cell, _, _, _, retention, _ in report.study_cells(rows, ["bbc-news"], str)}
    assert cells["pruned-labels"] == "97.6%"
