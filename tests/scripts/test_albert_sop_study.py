"""albert_sop_study on hand-written inputs: the start both objectives continue from, the fine-tuning seeds (cells,
table and per-seed report) and the sessions of a resumed study."""

import argparse
import json
import re
import subprocess

import pytest

from support.scripts import load_script

CONFIG = {"embedding_size": 128, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
          "intermediate_size": 1536, "source_model": "sentence-transformers/all-MiniLM-L6-v2"}  # fmt: skip


def describe(tmp_path, config: dict, metrics: dict | None = None) -> tuple[str, str]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    if metrics is not None:
        (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    return load_script("albert_sop_study").model_description({"start": str(tmp_path)})


def test_a_random_start_is_described_as_such():
    model, start = load_script("albert_sop_study").model_description({})
    assert start == "random init" and model.startswith("E=128, H=256, 4 layers all shared")


def test_a_converted_start_names_its_source_and_the_shared_layers_init(tmp_path):
    model, start = describe(tmp_path, CONFIG | {"sharing": "all", "shared_init": "middle"})
    assert model == "E=128, H=384, 6 layer applications, sharing all, 12 heads, FFN 1536"
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert` (shared layers from its middle), "
        "MLM and sentence heads fresh"
    )


def test_an_unshared_start_has_no_shared_layers_clause(tmp_path):
    _, start = describe(tmp_path, CONFIG | {"sharing": "none", "shared_init": None})
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert`, MLM and sentence heads fresh"
    )


def test_a_distilled_start_says_it_was_distilled_and_from_which_teacher(tmp_path):
    config = CONFIG | {"sharing": "all", "shared_init": "middle", "source_model": "/runs/bbc-news/teacher/model"}
    _, start = describe(tmp_path, config, {"teacher": "/runs/bbc-news/teacher/model", "task": "bbc-news"})
    assert start == (
        "converted from bbc-news/teacher by `albert_from_bert` (shared layers from its middle), then distilled from "
        "bbc-news/teacher on `bbc-news`, MLM and sentence heads fresh"
    )


def test_a_general_distilled_start_says_how_many_steps_and_from_which_teacher(tmp_path):
    config = CONFIG | {"sharing": "all", "shared_init": "middle"}
    _, start = describe(tmp_path, config, {"stage": "general", "teacher": "minilm", "steps": 200})
    assert start == (
        "converted from sentence-transformers/all-MiniLM-L6-v2 by `albert_from_bert` (shared layers from its middle), "
        "then 200 steps of general distillation from minilm, MLM and sentence heads fresh"
    )


def pretrain_cell(sop: float, nsp: float) -> dict:
    return {
        "sop_accuracy": sop, "nsp_accuracy": nsp, "mlm_accuracy": 0.1, "num_parameters": 4_876_476,
        "train": {"global_step": 100, "train_runtime": 600.0}, "pairs": {"train": 900, "eval_sop": 747, "eval_nsp": 747},
        "documents": {"train": 1606, "eval": 178}, "log_history": [{"step": 10, "mlm_loss": 7.0, "sentence_loss": 0.7}],
        "wall_s": 600.0,
    }  # fmt: skip


def tuned(seed: int, accuracy: float, task: str) -> dict:
    fields = {"max_length": 128, "num_train_epochs": 2, "seed": seed, "max_train_samples": None}
    return {"seed": seed, "test_accuracy": accuracy, "test_macro_f1": accuracy - 0.1, "fields": fields, "wall_s": 60.0}


def test_the_report_gives_the_mean_and_spread_over_seeds_and_each_seed_apart(tmp_path):
    study = load_script("albert_sop_study")
    results = {"pretrain/sop": pretrain_cell(0.6, 0.5), "pretrain/nsp": pretrain_cell(0.55, 0.6)}
    for seed, accuracy in ((42, 0.5), (1, 0.7), (2, 0.6)):  # written out of seed order
        results[study.finetune_cell_name("sop", "bbc-news", seed)] = tuned(seed, accuracy, "bbc-news")
    results[study.finetune_cell_name("nsp", "bbc-news", 1)] = tuned(1, 0.8, "bbc-news")  # one seed only
    assert [run["seed"] for run in study.sop_finetune_runs(results, "sop", "bbc-news")] == [1, 2, 42]
    assert study.sop_finetune_runs(results, "sop", "rotten-tomatoes") == []
    study.write_report(results, tmp_path, "python scripts/albert_sop_study.py", wall_s=1200.0)
    report = (tmp_path / "results.md").read_text()
    assert "seeds 1, 2, 42: mean ± standard deviation" in report
    assert "| SOP | 60.0 | 50.0 | 10.0 | 60.0 ± 10.0 | – |" in report
    assert "| pretrained with | task | seed 1 | seed 2 | seed 42 |" in report
    assert "| SOP | `bbc-news` | 70.0 (0.60) | 60.0 (0.50) | 50.0 (0.40) |" in report
    assert "| NSP | `bbc-news` | 80.0 (0.70) | – | – |" in report  # a seed not run is a dash, not a shifted column
    assert "rotten-tomatoes` |" not in report  # no row for a task without runs


def test_each_seed_of_the_budget_is_a_cell_and_cells_already_run_are_kept(tmp_path, monkeypatch):
    study = load_script("albert_sop_study")
    ran = []

    def run(command, check):  # the cell's process, stood in for: write a result where the study reads it
        name = command[command.index("--cell") + 1]
        ran.append(name)
        out = command[command.index("--cell-out") + 1]
        with open(out, "w") as f:
            json.dump({"wall_s": 1.0}, f)

    monkeypatch.setattr(subprocess, "run", run)
    results = {"pretrain/sop": {}, "finetune/sop/bbc-news/seed42": {}}
    study.chain("sop", results, lambda: None, tmp_path, False, {"finetune_seeds": [42, 7]})
    assert ran == [
        "finetune/sop/bbc-news/seed7",
        "finetune/sop/rotten-tomatoes/seed42",
        "finetune/sop/rotten-tomatoes/seed7",
    ]
    ran.clear()
    study.chain("nsp", {}, lambda: None, tmp_path, False, {})  # the default seeds
    assert ran == ["pretrain/nsp"] + [
        f"finetune/nsp/{task}/seed{seed}" for task in study.FINETUNE for seed in study.FINETUNE_SEEDS
    ]
    ran.clear()
    study.chain("nsp", {}, lambda: None, tmp_path, False, {"no_finetune": True})
    assert ran == ["pretrain/nsp"]


def test_a_resumed_study_adds_a_session_to_those_of_the_file():
    study = load_script("albert_sop_study")
    assert study.earlier_sessions({}) == []
    assert study.earlier_sessions({"cells": {}}) == []  # an interrupted file from before sessions: its time unknown
    old = {"command": "python scripts/albert_sop_study.py", "machine": "2-core X (AVX2 only)", "wall_s": 2075.3}
    assert study.earlier_sessions(old | {"cells": {}}) == [old]
    sessions = [old, old | {"wall_s": 500.0}]
    assert study.earlier_sessions({"sessions": sessions, "wall_s": 2575.3}) == sessions


@pytest.mark.parametrize(("text", "error"), [("42,x", "comma-separated whole numbers"), ("1,2,1", "given twice")])
def test_fine_tuning_seeds_are_whole_numbers_given_once(text, error):
    study = load_script("albert_sop_study")
    assert study._seed_list("42,1,2") == [42, 1, 2]
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        study._seed_list(text)


def test_a_resumed_study_records_each_session_with_the_cells_it_ran(tmp_path, monkeypatch):
    study = load_script("albert_sop_study")

    def chain(objective, results, save, workdir, quick, budget):  # a first session pretrains, a second fine-tunes
        if f"pretrain/{objective}" not in results:
            results[f"pretrain/{objective}"] = pretrain_cell(0.6, 0.5)
        else:
            results[study.finetune_cell_name(objective, "bbc-news", 1)] = tuned(1, 0.7, "bbc-news")
        save()

    monkeypatch.setattr(study, "chain", chain)
    argv = ["--out", str(tmp_path / "out"), "--workdir", str(tmp_path / "runs")]
    assert study.main(argv) == 0 and study.main(argv) == 0
    saved = json.loads((tmp_path / "out/results.json").read_text())
    assert [s["cells"] for s in saved["sessions"]] == [
        ["pretrain/sop", "pretrain/nsp"],
        ["finetune/sop/bbc-news/seed1", "finetune/nsp/bbc-news/seed1"],
    ]
    assert saved["wall_s"] == pytest.approx(sum(s["wall_s"] for s in saved["sessions"]))
    report = (tmp_path / "out/results.md").read_text()
    assert re.search(r"; in 2 sessions: \d+-core .+ \(0 min, 2 cells\); \d+-core .+ \(0 min, 2 cells\);", report)
    assert study.machine_words(saved["sessions"][:1]) == saved["sessions"][0]["machine"]  # one: its line alone
    assert study.machine_words([]) is None
    monkeypatch.setattr(study, "chain", lambda *args: None)  # everything already run: nothing to record
    assert study.main([*argv, "--finetune-seeds", "1"]) == 0
    assert json.loads((tmp_path / "out/results.json").read_text()) == saved
    with pytest.raises(SystemExit, match=r"another budget \(pretrain_epochs None -> 3.0\): resume it with its own"):
        study.main([*argv, "--pretrain-epochs", "3"])  # other cells would join these: another --out
    assert json.loads((tmp_path / "out/results.json").read_text()) == saved
