"""The layer-drop study's report: the 'within N points' rule, the tables and the plots, on synthetic results."""

from pathlib import Path

import pytest

from support.scripts import load_script

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="module")
def report():
    return load_script("study_report")


def run(task, strategy, k, accuracy, seed=0):
    kept = list(range(6 - k)) if strategy != "full" else list(range(6))
    return {"task": task, "seed": seed, "strategy": strategy, "k": k, "test_accuracy": accuracy,
            "kept_layers": kept, "num_parameters": 22_700_000 - 1_800_000 * k}  # fmt: skip


def synthetic():
    runs = {}
    for seed, full in enumerate([0.900, 0.910]):
        runs[f"t/seed{seed}/full/k0"] = run("t", "full", 0, full, seed)
        # top: -0.5 points at K=2, -1.5 at K=3, -0.4 at K=4 (a later K passing must not count past a failing one)
        for k, drop in [(2, 0.005), (3, 0.015), (4, 0.004)]:
            runs[f"t/seed{seed}/top/k{k}"] = run("t", "top", k, full - drop, seed)
        for k, drop in [(2, 0.025), (3, 0.05)]:
            runs[f"t/seed{seed}/bottom/k{k}"] = run("t", "bottom", k, full - drop, seed)
        runs[f"t/seed{seed}/full/k0/no-retraining"] = [
            {
                "task": "t",
                "seed": seed,
                "strategy": "top",
                "k": 2,
                "kept_layers": [0, 1, 2, 3],
                "test_accuracy_no_retraining": 0.6,
            }  # fmt: skip
        ]
    latency = {str(n): {"median_ms": 10.0 * n, "min_ms": 9.0 * n, "max_ms": 11.0 * n, "relative": n / 6,
                        "dtype": "bf16", "batch": 32, "seq": 128} for n in range(1, 7)}  # fmt: skip
    setup = {"source": "MiniLM", "command": "python scripts/layer_drop_study.py", "machine": "2 threads",
             "bf16": True, "seeds": {"t": [0, 1]}, "tasks": {"t": {"learning_rate": 1e-4}},
             "training": {"num_train_epochs": 1, "per_device_train_batch_size": 32, "max_length": 128}}  # fmt: skip
    return {"runs": runs, "latency": latency, "setup": setup}


def test_within_points_stops_at_the_first_failing_k(report):
    results = synthetic()
    tuned, _ = report._cells(results)
    base = 0.905
    assert report.max_drop_within(tuned, "t", "top", [2, 3, 4], base, 1) == 2  # K=3 fails, so K=4 does not count
    assert report.max_drop_within(tuned, "t", "top", [2, 3, 4], base, 2) == 4
    assert report.max_drop_within(tuned, "t", "bottom", [2, 3, 4], base, 2) == 0
    assert report.max_drop_within(tuned, "t", "bottom", [2, 3, 4], base, 3) == 2


def test_report_tables_and_plots(report, tmp_path):
    report.write_report(synthetic(), tmp_path, [2, 3, 4], {"t": [0, 1]})
    text = (tmp_path / "results.md").read_text()
    assert "| top | 2 | 0, 1, 2, 3 | 19.1M | 0.67 | 90.0 ± 0.7 (89.5–90.5) | -0.5 | 60.0 |" in text
    assert "| t | top | 2 | 4 | 4 |" in text and "| t | bottom | 0 | 0 | 2 |" in text
    assert "bf16 autocast" in text
    assert (tmp_path / "accuracy_vs_layers.png").stat().st_size > 10_000
    assert (tmp_path / "latency_vs_layers.png").stat().st_size > 5_000


def test_accuracies_over_seeds_read_as_mean_and_deviation_in_points():
    report = load_script("study_report")
    assert report.mean_and_deviation([0.5, 0.7, 0.6]) == "60.0 ± 10.0"
    assert report.mean_and_deviation([0.8]) == "80.0" and report.mean_and_deviation([]) == "–"
