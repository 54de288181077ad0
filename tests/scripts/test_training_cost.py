"""scripts/training_cost.py's machinery on tiny random BERTs: fields, ratios from the timings, targets, files.
No wall-clock bounds: the timings themselves are whatever the machine gives."""

import copy
import json
import random
import statistics
from pathlib import Path

import pytest
import torch
from transformers import BertForSequenceClassification

from support.helpers import WORDS, make_bert, make_tokenizer
from support.scripts import load_script

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
BUDGET = {"examples": 8, "batch_size": 4, "step_repeats": 2, "step_warmup": 1, "epoch_rounds": 2}


@pytest.fixture(scope="module")
def cost():
    return load_script("training_cost")


@pytest.fixture(scope="module")
def measured(cost, tmp_path_factory):
    rng = random.Random(0)
    texts = [" ".join(rng.sample(WORDS, rng.randint(3, 9))) for _ in range(BUDGET["examples"])]
    labels = [i % 2 for i in range(len(texts))]
    teacher = make_bert(BertForSequenceClassification, num_layers=4)
    student = make_bert(BertForSequenceClassification, num_layers=2, seed=1).train()
    workdir = str(tmp_path_factory.mktemp("runs"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is quicker, and immune to a busy machine's scheduling
    try:
        return cost.measure(teacher, student, make_tokenizer(), texts, labels, BUDGET, workdir), texts
    finally:
        torch.set_num_threads(threads)


def _ratio_of_medians(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b)


def test_step_ratios_come_from_the_interleaved_timings(cost, measured):
    results, _ = measured
    assert list(results["step"]) == list(cost.LOSSES)
    for name, row in results["step"].items():
        assert row["losses"] == cost.LOSSES[name]
        samples = {kind: t["samples_ms"] for kind, t in row["timings_ms"].items()}
        assert set(samples) == {"distillation", "plain + teacher forward", "plain"}
        assert all(len(s) == BUDGET["step_repeats"] for s in samples.values())
        for key, base in (("ratio_vs_plain_plus_teacher", "plain + teacher forward"), ("ratio_vs_plain", "plain")):
            ratio = row[key]
            assert ratio["median"] == pytest.approx(_ratio_of_medians(samples["distillation"], samples[base]))
            per_round = [a / b for a, b in zip(samples["distillation"], samples[base], strict=True)]
            assert (ratio["min"], ratio["max"]) == pytest.approx((min(per_round), max(per_round)))


def test_epochs_interleaved_cache_filled_once_and_sized(cost, measured):
    results, texts = measured
    epoch, rounds = results["epoch"], BUDGET["epoch_rounds"]
    steps = len(texts) // BUDGET["batch_size"]
    assert epoch["steps_per_epoch"] == steps and epoch["examples"] == len(texts)
    seconds = epoch["seconds"]
    assert set(seconds) == {"plain", "distillation, cached", "distillation, uncached"}
    assert all(len(s["samples_s"]) == rounds for s in seconds.values())  # the warm-up round is not among them
    cached, plain = seconds["distillation, cached"]["samples_s"], seconds["plain"]["samples_s"]
    assert epoch["ratio_cached_vs_plain"]["median"] == pytest.approx(_ratio_of_medians(cached, plain))
    assert epoch["ratio_uncached_vs_plain"]["median"] == pytest.approx(
        _ratio_of_medians(seconds["distillation, uncached"]["samples_s"], plain)
    )
    assert epoch["cache_filling_epoch_seconds"] == epoch["warm_up_seconds"]["distillation, cached"]
    # the teacher ran in the filling epoch only; uncached, in every epoch
    assert epoch["teacher_forwards"] == {"cached": steps, "uncached": steps * (rounds + 1)}
    assert epoch["cache_examples"] == len(set(texts))
    # soft targets only: one row of 2 logits per example, bf16 under autocast
    assert epoch["cache_bytes"] == len(set(texts)) * 2 * (2 if epoch["bf16"] else 4)
    default, intermediate = cost.LOSSES
    sizes = results["cache_size"]
    assert sizes[default]["bytes_per_example"] == 2 * (2 if epoch["bf16"] else 4)
    assert sizes[intermediate]["bytes_per_example"] > 50 * sizes[default]["bytes_per_example"]  # states and scores


def test_targets_follow_the_ratios_and_check_flags_a_miss(cost, measured):
    results, _ = measured
    rows = results["targets"]
    default = next(iter(cost.LOSSES))
    assert [r["checked"] for r in rows] == [True, False, True]
    assert rows[0]["ratio"] == results["step"][default]["ratio_vs_plain_plus_teacher"]["median"]
    assert rows[-1]["ratio"] == results["epoch"]["ratio_cached_vs_plain"]["median"]
    assert all(r["pass"] == (r["ratio"] <= r["target"]) for r in rows)
    slow = copy.deepcopy(results)
    slow["epoch"]["ratio_cached_vs_plain"]["median"] = cost.EPOCH_TARGET + 0.01
    assert [r["pass"] for r in cost.evaluate_targets(slow)][-1] is False
    fast = copy.deepcopy(results)
    fast["epoch"]["ratio_cached_vs_plain"]["median"] = cost.EPOCH_TARGET - 0.01
    assert [r["pass"] for r in cost.evaluate_targets(fast)][-1] is True


def test_results_written_as_json_markdown_and_plot(cost, measured, tmp_path):
    results = copy.deepcopy(measured[0])
    results["setup"] = {
        "command": "python scripts/training_cost.py --quick",
        "task": "tiny",
        "teacher": "tiny teacher",
        "student": "tiny student",
        "batch_size": BUDGET["batch_size"],
        "max_length": 128,
        "step_repeats": BUDGET["step_repeats"],
        "step_warmup": BUDGET["step_warmup"],
        "bf16": False,
        "machine": {"cpu": "test", "threads": 1, "torch": "x", "load_average_at_start": None},
    }
    written = cost.write_results(results, tmp_path / "out")
    assert [p.name for p in written] == ["results.json", "results.md", "training_cost.png"]
    assert json.loads(written[0].read_text()) == json.loads(json.dumps(results))
    text = written[1].read_text()
    assert "python scripts/training_cost.py --quick" in text
    for row in results["targets"]:
        assert f"| {row['what']} | {row['ratio']:.3f} |" in text
    assert written[2].stat().st_size > 0
