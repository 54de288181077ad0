"""scripts/distillation_study.py: the cells' settings and the report, without training anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study():
    return load_script("distillation_study")


class Captured(Exception):
    pass


def fields_of(study, monkeypatch, cell: str, overrides: dict | None = None) -> dict:
    """The recipe fields a cell would train with (the recipe parser is stopped before anything runs)."""
    seen = {}

    def capture(path, fields):
        seen.update(fields)
        raise Captured

    monkeypatch.setattr(study, "parse_distill_recipe", capture)
    monkeypatch.setattr(study, "parse_recipe", capture)
    with pytest.raises(Captured):
        study.run_cell("rotten-tomatoes", cell, Path("/nonexistent"), None, overrides or {})
    return seen


def test_tinybert_cells_differ_only_in_the_general_stage(study, monkeypatch):
    with_general = fields_of(study, monkeypatch, "tinybert4")
    without = fields_of(study, monkeypatch, "tinybert4-nogeneral")
    assert with_general.pop("general_epochs") == 1 and "general_epochs" not in without
    assert with_general.pop("output_dir").endswith("tinybert4") and without.pop("output_dir").endswith("nogeneral")
    assert with_general == without
    assert without["student_init"] == "tiny-bert" and without["learning_rate"] == 1e-3
    assert without["stages"] == ["intermediate", "prediction"]
    assert without["train_sampling_strategy"] == "group_by_length"
    # the task's learning rate for the other cells; a --learning-rate given on the command line wins everywhere
    assert fields_of(study, monkeypatch, "top3-kd")["learning_rate"] == 1e-4
    assert fields_of(study, monkeypatch, "tinybert4", {"learning_rate": 5e-4})["learning_rate"] == 5e-4


def run(cell: str, accuracy: float, layers: int, hidden: int, seconds: float) -> dict:
    return {
        "task": "rotten-tomatoes", "cell": cell, "test_accuracy": accuracy, "test_macro_f1": accuracy - 0.01,
        "num_parameters": 14_500_000 if hidden == 312 else 17_400_000, "num_hidden_layers": layers,
        "hidden_size": hidden, "losses": {"ce": 1.0, "label": 1.0}, "stages": None, "wall_seconds": seconds,
        "model_dir": "/nonexistent",
    }  # fmt: skip


def test_report_gives_every_row_its_shapes_speed_and_minutes(study, tmp_path):
    results = {
        "setup": {
            "command": "python scripts/distillation_study.py --tasks rotten-tomatoes",
            "tasks": {"rotten-tomatoes": {}},
            "overrides": {},
            "load_average": {"start": [0.1, 0.2, 0.3], "end": [1.0, 1.0, 1.0]},
        },
        "runs": {
            "rotten-tomatoes/teacher": run("teacher", 0.80, 6, 384, 300) | {"losses": {"label": 1.0}},
            "rotten-tomatoes/distil3-labels": run("distil3-labels", 0.78, 3, 384, 120),
            "rotten-tomatoes/tinybert4-nogeneral": run("tinybert4-nogeneral", 0.60, 4, 312, 90),
        },
        "speed": {"task": "rotten-tomatoes", "speedup_vs_teacher": {"3-layer student": 2.0, "TinyBert-4": 5.0}},
    }
    study.summarize(results, tmp_path)
    table = (tmp_path / "results.md").read_text()
    rows = {line.split(" | ")[1]: line for line in table.splitlines() if line.startswith("| rotten-tomatoes |")}
    assert set(rows) == {"teacher", "distil3-labels", "tinybert4-nogeneral"}
    assert rows["teacher"].endswith("| 1.000 | 1.00x | 5.0 |")
    # a 3-layer row takes the 3-layer student's measured speed, a TinyBert row the TinyBert-4's
    assert rows["distil3-labels"].endswith(f"| {0.78 / 0.80:.3f} | 2.00x | 2.0 |")
    assert rows["tinybert4-nogeneral"].endswith(f"| {0.60 / 0.80:.3f} | 5.00x | 1.5 |")
    assert "TinyBert cells: 1e-3" in table and "Load average at start [0.1, 0.2, 0.3]" in table
    assert "32 rotten-tomatoes test texts" in table
    assert (tmp_path / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert json.dumps(results)  # the report leaves the results JSON-ready
