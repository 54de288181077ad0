"""compactbert bench: rows from the registry, FLOPs by hand, targets, reports, and the CLI (tiny sizes, no timing claims)."""

import json
from pathlib import Path

import pytest
import torch
from transformers import AlbertConfig, AlbertModel, DistilBertConfig, DistilBertModel

from compactbert.bench import (
    BENCH_MODELS,
    PEAK,
    QUICK,
    TARGETS,
    TEACHER,
    BenchModel,
    BuildContext,
    count_flops,
    evaluate_targets,
    paired_ratio,
    register_bench_model,
    resolve_models,
    run_benchmark,
)
from compactbert.bench import run as bench_run
from compactbert.cli import main
from compactbert.inference import Timing

from support.helpers import fake_timer, make_bert

ROW_FIELDS = {
    "model",
    "class",
    "ours",
    "baseline",
    "parameters",
    "non_embedding_parameters",
    "flops_per_sequence",
    "batch",
    "seq",
    "dtype",
    "median_ms",
    "min_ms",
    "max_ms",
    "samples_ms",
    "speedup_vs_teacher",
    "time_vs_baseline",
    "gflops",
    "peak_fraction",
}


def test_bert_flops_match_the_formula_by_hand():
    hidden, ffn, layers, seq = 32, 37, 2, 8  # helpers.tiny_config sizes
    model = make_bert(num_layers=layers)
    model.set_attn_implementation("sdpa")
    linear = 2 * seq * layers * (4 * hidden * hidden + 2 * hidden * ffn)
    attention = 4 * layers * seq * seq * hidden
    pooler = 2 * hidden * hidden
    assert count_flops(model, seq) == linear + attention + pooler
    assert model.config._attn_implementation == "sdpa"  # restored after counting with eager attention


def test_distilbert_has_no_pooler_and_albert_counts_a_shared_layer_once_per_use():
    hidden, ffn, layers, seq, embedding = 32, 48, 3, 8, 16
    distil = DistilBertModel(DistilBertConfig(vocab_size=50, dim=hidden, hidden_dim=ffn, n_layers=layers, n_heads=2))
    per_token = 2 * seq * layers * (4 * hidden * hidden + 2 * hidden * ffn)
    attention = 4 * layers * seq * seq * hidden
    assert count_flops(distil, seq) == per_token + attention

    albert = AlbertModel(
        AlbertConfig(
            vocab_size=50,
            embedding_size=embedding,
            hidden_size=hidden,
            intermediate_size=ffn,
            num_hidden_layers=layers,
            num_attention_heads=2,
        )
    )
    projection = 2 * seq * embedding * hidden
    assert count_flops(albert, seq) == projection + per_token + attention + 2 * hidden * hidden


@pytest.fixture(scope="module")
def ctx():
    return BuildContext(QUICK)


@pytest.mark.parametrize("name", [n for n, spec in BENCH_MODELS.items() if spec.baseline])
def test_every_row_of_ours_has_the_shape_of_its_transformers_baseline(name, ctx):
    """Same matmul work as the baseline (up to BERT's pooler, which DistilBERT lacks): the rows compare like for like."""
    spec = BENCH_MODELS[name]
    if spec.missing_reason() is not None:
        assert spec.family is not None  # only a not-yet-installed family may be missing
        pytest.skip(f"{name}: {spec.missing_reason()}")
    ours, baseline = spec.build(ctx), BENCH_MODELS[spec.baseline].build(ctx)
    assert type(ours).__module__.startswith("compactbert")
    assert not type(baseline).__module__.startswith("compactbert")
    seq = 8
    pooler = 2 * QUICK.hidden_size**2
    assert abs(count_flops(ours, seq) - count_flops(baseline, seq)) in (0, pooler)


def test_shrunk_rows_are_cut_from_the_teacher(ctx):
    top6 = BENCH_MODELS["shrunk-top6"].build(ctx)
    assert top6.config.kept_layers == [0, 1, 2, 3, 4, 5] and top6.config.source_num_hidden_layers == 12
    assert torch.equal(top6.encoder.layer[5].output.dense.weight, ctx.teacher().encoder.layer[5].output.dense.weight)
    distil = BENCH_MODELS["distil-6"].build(ctx)
    assert distil.config.kept_layers == [0, 2, 4, 7, 9, 11]


def test_quick_run_writes_json_markdown_and_plot(tmp_path, capsys):
    out = tmp_path / "bench"
    args = [
        "bench",
        "--quick",
        "--models",
        "shrunk-top6,bert-6",
        "--batch",
        "1,2",
        "--seq",
        "8",
        "--dtype",
        "fp32,bf16",
    ]
    assert main([*args, "--repeats", "1", "--warmup", "0", "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((out / "bench.json").read_text())
    assert json.loads((tmp_path / "r.json").read_text())["results"] == report["results"]
    assert report["command"].startswith("compactbert bench --models shrunk-top6,bert-6 --batch 1,2 --seq 8")
    rows = report["results"]
    assert [(r["model"], r["batch"], r["dtype"]) for r in rows[:3]] == [
        (m, 1, "fp32") for m in (TEACHER, "shrunk-top6", "bert-6")
    ]
    assert len(rows) == 3 * 2 * 2
    for row in rows:
        assert ROW_FIELDS <= set(row)
        assert len(row["samples_ms"]) == 1
        assert row["gflops"] == pytest.approx(row["flops_per_sequence"] * row["batch"] / row["median_ms"] / 1e6)
    top6 = next(r for r in rows if r["model"] == "shrunk-top6")
    assert top6["class"] == "ShrunkBertModel" and top6["baseline"] == "bert-6" and top6["ours"]
    assert set(report["peak"]) == {"fp32/batch1", "fp32/batch2", "bf16/batch1", "bf16/batch2"}
    assert {c["target"] for c in report["checks"]} == {t.name for t in TARGETS}
    markdown = (out / "bench.md").read_text()
    assert "## batch 2, bf16" in markdown and "| shrunk-top6 | ShrunkBertModel |" in markdown
    assert report["command"] in markdown and "Quick run" in markdown
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| teacher | BertModel |" in capsys.readouterr().out


GOOD = {TEACHER: 100.0, "shrunk-top6": 50.0, "bert-6": 50.5}


def test_check_passes_and_fails_on_injected_timings(monkeypatch, capsys):
    args = ["bench", "--quick", "--models", "shrunk-top6,bert-6", "--batch", "1", "--seq", "8", "--dtype", "fp32"]
    args += ["--repeats", "1", "--warmup", "0", "--check"]
    monkeypatch.setattr(bench_run, "time_side_by_side", fake_timer(GOOD))
    assert main(args) == 0
    monkeypatch.setattr(bench_run, "time_side_by_side", fake_timer(GOOD | {"shrunk-top6": 56.0}))  # 1.79x, 11% off
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "2 target(s) missed: shrunk-top6 = bert-6 at batch 1 fp32; top-6 speedup" in captured.err
    assert (
        "| shrunk-top6 = bert-6 | shrunk-top6 time within 3% of bert-6 | 1 | fp32 | 1.109 | missed |" in captured.out
    )


def test_targets_at_their_boundaries():
    def rows(medians, batch=1, dtype="bf16"):
        return [{"model": m, "median_ms": t, "batch": batch, "dtype": dtype} for m, t in medians.items()]

    def status(medians, target):
        return next(c for c in evaluate_targets(rows(medians)) if c["target"] == target)

    top6, parity = "top-6 speedup (paper: 50% less time)", "shrunk-top6 = bert-6"
    assert status({TEACHER: 185.0, "shrunk-top6": 100.0, "bert-6": 100.0}, top6)["status"] == "met"
    assert status({TEACHER: 184.0, "shrunk-top6": 100.0, "bert-6": 100.0}, top6)["status"] == "missed"
    assert status({TEACHER: 200.0, "shrunk-top6": 103.0, "bert-6": 100.0}, parity)["status"] == "met"
    assert status({TEACHER: 200.0, "shrunk-top6": 96.0, "bert-6": 100.0}, parity)["status"] == "missed"  # two-sided
    assert status({TEACHER: 200.0, "shrunk-top6": 104.0, "bert-6": 100.0}, parity)["value"] == pytest.approx(1.04)
    tiny = status({TEACHER: 940.0, "shrunk-top6": 100.0}, "TinyBert-4 speedup (paper: 9.4x)")
    assert tiny["status"] == "not measured" and "tinybert-4" in tiny["why"]
    tiny = next(
        c for c in evaluate_targets(rows({TEACHER: 940.0, "tinybert-4": 100.0})) if c["target"].startswith("TinyBert")
    )
    assert tiny["status"] == "met" and tiny["value"] == pytest.approx(9.4)
    # each (batch, dtype) setting is checked on its own: a fast bf16 never excuses a slow fp32
    both = rows({TEACHER: 200.0, "shrunk-top6": 100.0}, dtype="bf16") + rows(
        {TEACHER: 200.0, "shrunk-top6": 150.0}, dtype="fp32"
    )
    statuses = {c["dtype"]: c["status"] for c in evaluate_targets(both) if c["target"] == top6}
    assert statuses == {"bf16": "met", "fp32": "missed"}


def test_ratios_pair_the_rounds_so_a_slow_round_for_both_cancels():
    # rounds 3-5 ran slow for both rows (another job started): each round's ratio is 1.05 or 1.0, while the ratio of
    # the medians mixes a slow round of one row with a fast round of the other
    shrunk, bert = [105.0, 105.0, 147.0, 140.0, 140.0], [100.0, 100.0, 140.0, 140.0, 140.0]
    assert paired_ratio(shrunk, bert) == pytest.approx(1.05)
    assert paired_ratio([100.0, 100.0, 140.0], [95.0, 95.0, 95.0]) == pytest.approx(100.0 / 95.0)
    assert paired_ratio([10.0, 30.0], [10.0]) == pytest.approx(2.0)  # not the same rounds: ratio of the medians
    with pytest.raises(ValueError, match="at least one sample"):
        paired_ratio([], [1.0])
    # the parity target judges the paired ratio: 3% apart in every round is met, however the rounds drift
    rows = [
        {"model": m, "median_ms": 0.0, "samples_ms": t, "batch": 1, "dtype": "fp32"}
        for m, t in {
            TEACHER: [400.0, 600.0, 800.0],
            "shrunk-top6": [206.0, 309.0, 412.0],
            "bert-6": [200.0, 300.0, 400.0],
        }.items()
    ]
    checks = {c["target"]: c for c in evaluate_targets(rows)}
    assert checks["shrunk-top6 = bert-6"]["status"] == "met"
    assert checks["shrunk-top6 = bert-6"]["value"] == pytest.approx(1.03)
    assert checks["top-6 speedup (paper: 50% less time)"]["value"] == pytest.approx(400.0 / 206.0)


def test_a_saved_report_is_rescored_from_its_samples(tmp_path, monkeypatch, capsys):
    # a report written with other ratios (here: wrong on purpose) is read back with paired ones, and --check judges them
    rounds = {TEACHER: [400.0, 600.0, 800.0], "shrunk-top6": [206.0, 309.0, 412.0], "bert-6": [200.0, 300.0, 400.0]}
    monkeypatch.setattr(
        bench_run, "time_side_by_side", lambda fns, **kw: {n: Timing(rounds.get(n, [1.0] * 3)) for n in fns}
    )
    saved = tmp_path / "old.json"
    args = ["bench", "--quick", "--models", "shrunk-top6,bert-6", "--batch", "1", "--seq", "8", "--dtype", "fp32"]
    assert main([*args, "--json", str(saved)]) == 0
    old = json.loads(saved.read_text())
    for row in old["results"]:
        row["speedup_vs_teacher"], row["time_vs_baseline"] = 99.0, 9.0
    old["checks"] = []
    saved.write_text(json.dumps(old))
    capsys.readouterr()

    out = tmp_path / "rescored"
    assert main(["bench", "--from-json", str(saved), "--out", str(out), "--check"]) == 0
    report = json.loads((out / "bench.json").read_text())
    rows = {r["model"]: r for r in report["results"]}
    assert rows["shrunk-top6"]["time_vs_baseline"] == pytest.approx(1.03)
    assert rows["shrunk-top6"]["speedup_vs_teacher"] == pytest.approx(400.0 / 206.0)
    assert rows[TEACHER]["speedup_vs_teacher"] == pytest.approx(1.0) and rows["bert-6"]["time_vs_baseline"] is None
    assert {c["status"] for c in report["checks"] if c["target"] == "shrunk-top6 = bert-6"} == {"met"}
    assert rows["shrunk-top6"]["samples_ms"] == rounds["shrunk-top6"]  # the times are untouched
    assert report["command"] == old["command"]  # the command that measured it, not the one that re-scored it
    assert report["rescored"]["command"] == f"compactbert bench --from-json {saved} --out {out} --check"
    markdown = (out / "bench.md").read_text()
    assert "re-scored from the stored per-round samples" in markdown and "| 1.030 (bert-6) |" in markdown

    # 4% apart in every round: --check exits 1 on the re-scored report
    for row in old["results"]:
        if row["model"] == "shrunk-top6":
            row["samples_ms"] = [208.0, 312.0, 416.0]
    saved.write_text(json.dumps(old))
    assert main(["bench", "--from-json", str(saved), "--check"]) == 1
    assert "shrunk-top6 = bert-6 at batch 1 fp32" in capsys.readouterr().err

    # bad input says what was expected, and writes nothing
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{")
    for bad, message in (
        ([str(tmp_path / "none.json")], "no such file"),
        ([str(tmp_path / "broken.json")], "not JSON"),
        ([str(tmp_path / "list.json")], "not a compactbert bench report"),
        ([str(saved), "--models", "bert-6"], "--from-json times nothing, so --models would be ignored"),
    ):
        assert main(["bench", "--from-json", *bad, "--out", str(tmp_path / "never")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_rows_whose_family_is_not_installed_are_left_out_and_named(monkeypatch):
    ghost = BenchModel(
        "ghost", "a family that is not installed", lambda ctx: 1 / 0, ours=True, family="no_such_family"
    )
    monkeypatch.setitem(BENCH_MODELS, "ghost", ghost)
    report = run_benchmark(
        models=["ghost"], batches=[1], seq_len=8, dtypes=["fp32"], repeats=1, warmup=0, quick=True,
        timer=fake_timer({}), progress=False,
    )  # fmt: skip
    assert report["missing"] == [
        {"model": "ghost", "why": "the compactbert family 'no_such_family' is not installed in this version"}
    ]
    assert [r["model"] for r in report["results"]] == [TEACHER]
    assert report["peak"]["fp32/batch1"]["gflops_median"] == pytest.approx(2 * QUICK.matmul_size**3 / 100.0 / 1e6)


def test_bf16_is_timed_by_default_only_where_the_hardware_has_it(monkeypatch):
    seen = {}

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        seen["min_sample_ms"] = min_sample_ms
        return fake_timer({})(fns, repeats, warmup)

    settings = dict(models=["bert-6"], batches=[1], seq_len=8, repeats=1, warmup=0, timer=timer, progress=False)
    monkeypatch.setattr(bench_run, "native_bf16", lambda: True)
    assert bench_run.default_dtypes() == ["fp32", "bf16"]
    report = run_benchmark(quick=True, **settings)
    assert {r["dtype"] for r in report["results"]} == {"fp32", "bf16"}
    assert seen["min_sample_ms"] == 0.0  # quick: every forward timed on its own
    monkeypatch.setattr(bench_run, "native_bf16", lambda: False)
    assert bench_run.default_dtypes() == ["fp32"]
    report = run_benchmark(quick=True, **settings)
    assert {r["dtype"] for r in report["results"]} == {"fp32"}
    # asked for explicitly on such a machine, bf16 is timed, with a warning that it is emulated there
    with pytest.warns(UserWarning, match="no native bf16 matrix units"):
        report = run_benchmark(quick=True, dtypes=["bf16"], min_sample_ms=50.0, **settings)
    assert {r["dtype"] for r in report["results"]} == {"bf16"} and seen["min_sample_ms"] == 50.0
    assert report["settings"]["min_sample_ms"] == 50.0


def test_registry_and_bad_input_say_what_was_expected(capsys):
    with pytest.raises(ValueError, match="already registered"):
        register_bench_model(BENCH_MODELS[TEACHER])
    assert [s.name for s in resolve_models(["bert-6"])] == [TEACHER, "bert-6"]
    with pytest.raises(ValueError, match="unknown bench model.*choose from: teacher"):
        resolve_models(["bert-7"])
    for bad, message in (
        (["--models", "bert-7"], "unknown bench model"),
        (["--batch", "0"], "batch sizes must be >= 1"),
        (["--dtype", "fp16"], "unknown dtype"),
        (["--seq", "513"], "seq must be between 1 and 512"),
        (["--warmup", "-1"], "--warmup must be >= 0"),
        (["--json", str(Path(__file__).parent)], "is a folder; give the file to write the JSON report to"),
        (["--out", f"{__file__}/reports"], f"{__file__} is a file; give a folder to write bench.json"),
    ):  # all refused before anything is timed
        assert main(["bench", "--quick", *bad]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--quick", "--repeats", "0"])
    assert "argument --repeats: must be >= 1, got 0" in capsys.readouterr().err
    assert PEAK not in BENCH_MODELS
