"""compactbert bench across runtimes: rows on each backend side by side, scored within it and against torch by the
machine kind, int8 rows, and the backends a run records (tiny sizes, injected timings, no timing claims)."""

import sys
import tempfile

import pytest

from compactbert import bench
from compactbert.bench import (
    PEAK,
    TEACHER,
    run_benchmark,
    runtime_speedups,
)
from compactbert.bench import run as bench_run
from compactbert.cli import main
from compactbert.cli.bench import bench_command
from compactbert.cli.commands import build_parser
from compactbert.export import formats as formats_module

from support.helpers import fake_timer


def test_runtimes_are_scored_against_the_same_row_on_torch_by_the_machine_kind():
    def row(model, backend, batch, dtype, samples):
        median = sorted(samples)[len(samples) // 2]
        return {"model": model, "backend": backend, "batch": batch, "dtype": dtype, "samples_ms": samples,
                "median_ms": median}  # fmt: skip

    results = [
        row(TEACHER, "torch", 1, "bf16", [10.0, 20.0, 10.0]),
        row(TEACHER, "openvino", 1, "bf16", [5.0, 10.0, 5.1]),  # 2x in every round but the last
        row(TEACHER, "torch", 32, "bf16", [120.0, 120.0, 120.0]),
        row(TEACHER, "openvino", 32, "bf16", [100.0, 100.0, 100.0]),
        row(TEACHER, "torch", 1, "fp32", [20.0, 20.0, 20.0]),
        row(TEACHER, "onnxruntime", 1, "fp32", [16.0, 16.0, 16.0]),
        row("tinybert-4", "openvino", 1, "bf16", [1.0, 1.0, 1.0]),  # no torch row of its own: not compared
    ]
    bf16_machine = {(r["batch"], r["dtype"], r["backend"]): r for r in runtime_speedups(results, has_bf16_units=True)}
    assert set(bf16_machine) == {(1, "bf16", "openvino"), (32, "bf16", "openvino"), (1, "fp32", "onnxruntime")}
    batch1 = bf16_machine[(1, "bf16", "openvino")]
    assert batch1["speedup"] == pytest.approx(2.0) and (batch1["threshold"], batch1["status"]) == (2.0, "met")
    assert bf16_machine[(32, "bf16", "openvino")]["status"] == "met"  # 1.2x, the target at larger batches
    # fp32 is not the path on a CPU with bf16 units: reported without a target; on an AVX2-only CPU it is judged
    assert bf16_machine[(1, "fp32", "onnxruntime")]["status"] == "reported"
    avx2 = {(r["batch"], r["dtype"]): r for r in runtime_speedups(results, has_bf16_units=False)}
    assert (avx2[(1, "fp32")]["threshold"], avx2[(1, "fp32")]["status"]) == (1.4, "missed")  # 1.25x
    assert avx2[(1, "bf16")]["status"] == "reported"
    markdown = bench.markdown_report(
        {
            "machine": {
                "cpu": "a CPU",
                "threads": 2,
                "cores_available": 2,
                "bf16_units": ["avx512_bf16"],
                "torch": "-",
                "transformers": "-",
                "load_average_at_start": 0,
                "load_average_at_end": 0,
            },
            "date": "today",
            "peak": {},
            "results": [],
            "checks": [],
            "missing": [],
            "settings": {"seq": 8, "warmup": 0, "repeats": 3, "quick": True},
            "runtime_speedups": runtime_speedups(results, has_bf16_units=True),
        }
    )
    assert "## Runtimes vs PyTorch" in markdown
    assert f"| {TEACHER} | 1 | bf16 | openvino | 10.0 | 5.1 | 2.00x | >= 2x | met |" in markdown


def test_rows_run_on_each_backend_side_by_side_and_are_scored_within_it(monkeypatch, tmp_path, capsys):
    """`--backend torch,openvino,onnxruntime`: every row exported and run by each runtime in the same rounds as on
    torch (same outputs in fp32), rows and targets per backend, ONNX Runtime in fp32 only; the exports removed after."""
    seen = {}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        seen[progress] = {name: fn() for name, fn in fns.items()}  # every runner runs, the runtimes' on the same ids
        return fake_timer({TEACHER: 100.0, f"{TEACHER} @ openvino": 40.0})(fns, repeats, warmup)

    monkeypatch.setattr(bench_run, "native_bf16", lambda: True)
    report = run_benchmark(
        models=["shrunk-top6"], batches=[2], seq_len=8, dtypes=["fp32", "bf16"], repeats=1, warmup=0, quick=True,
        timer=timer, progress=True, backends=["torch", "openvino", "onnxruntime"],
    )  # fmt: skip
    fp32 = seen["batch 2, fp32"]
    assert set(fp32) == {PEAK} | {
        f"{m}{s}" for m in (TEACHER, "shrunk-top6") for s in ("", " @ openvino", " @ onnxruntime")
    }
    for model in (TEACHER, "shrunk-top6"):
        expected = fp32[model].last_hidden_state.numpy()
        for backend in ("openvino", "onnxruntime"):
            got = fp32[f"{model} @ {backend}"]["last_hidden_state"]
            assert got.shape == expected.shape and abs(got - expected).max() < 1e-4, (model, backend)
    assert not any("onnxruntime" in name for name in seen["batch 2, bf16"])
    assert {"model": "every row on onnxruntime, bf16", "why": "onnxruntime runs fp32 only"} in report["missing"]
    settings = {(r["dtype"], r["backend"]) for r in report["results"]}
    assert settings == {
        ("fp32", "torch"),
        ("fp32", "openvino"),
        ("fp32", "onnxruntime"),
        ("bf16", "torch"),
        ("bf16", "openvino"),
    }
    assert report["settings"]["backends"] == ["torch", "openvino", "onnxruntime"]
    assert list((tmp_path / "scratch").iterdir()) == []  # the exports were scratch
    teacher_on = {r["backend"]: r for r in report["results"] if r["model"] == TEACHER and r["dtype"] == "fp32"}
    assert teacher_on["openvino"]["median_ms"] == 40.0 and teacher_on["torch"]["median_ms"] == 100.0
    # ratios are within a backend: each backend's teacher is its own reference
    assert teacher_on["openvino"]["speedup_vs_teacher"] == 1.0 and teacher_on["torch"]["speedup_vs_teacher"] == 1.0
    checks = [c for c in report["checks"] if c["target"] == "top-6 speedup (paper: 50% less time)"]
    assert sorted((c["dtype"], c.get("backend", "torch")) for c in checks) == sorted(settings)
    markdown = bench.markdown_report(report)
    assert "## batch 2, fp32 on openvino" in markdown and "## batch 2, bf16 (matmul rate" in markdown
    assert "| 2 | fp32 on onnxruntime |" in markdown

    monkeypatch.setitem(sys.modules, "openvino", None)  # as if it were not installed
    report = run_benchmark(
        models=["bert-6"], batches=[1], seq_len=8, dtypes=["fp32"], repeats=1, warmup=0, quick=True,
        timer=fake_timer({}), progress=False, backends=["torch", "openvino"],
    )  # fmt: skip
    assert report["missing"] == [
        {
            "model": "every row on openvino",
            "why": "not installed: pip install 'compactbert[openvino]' (from a checkout: pip install -e '.[openvino]')",
        }
    ]
    assert {r["backend"] for r in report["results"]} == {"torch"}
    assert main(["bench", "--quick", "--backend", "tensorrt"]) == 2
    assert (
        "unknown backend(s) ['tensorrt']; expected a list of ['torch', 'openvino', 'openvino-int8', 'onnxruntime', 'onnxruntime-int8']"
        in (capsys.readouterr().err)
    )


def test_a_run_that_fails_while_timing_leaves_no_export_behind(monkeypatch, tmp_path):
    """The rows' exports are scratch: removed when timing raises (Ctrl-C included), and when exporting is
    interrupted."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        assert [p.name for p in tmp_path.iterdir()][0].startswith("compactbert-bench-openvino-")  # exported
        raise KeyboardInterrupt

    kwargs = dict(models=["bert-6"], batches=[1], seq_len=8, dtypes=["fp32"], repeats=1, warmup=0, quick=True)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(**kwargs, timer=timer, progress=False, backends=["torch", "openvino"])
    assert list(tmp_path.iterdir()) == []

    exports = []

    def interrupted(*args, **kwargs):  # the second row's export is interrupted
        exports.append(args[2])
        if len(exports) == 2:
            raise KeyboardInterrupt
        return real_write_export(*args, **kwargs)

    from compactbert.export import exporter

    real_write_export = exporter.write_export
    monkeypatch.setattr(exporter, "write_export", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(**kwargs, timer=timer, progress=False, backends=["torch", "openvino"])
    assert len(exports) == 2 and list(tmp_path.iterdir()) == []


def test_int8_rows_are_quantized_and_compared_with_pytorch_at_the_settings_precision(monkeypatch):
    """`--backend openvino-int8`: each row's OpenVINO graph quantized by NNCF (on random-token sequences), run with its
    other operations at the setting's precision, and compared with PyTorch at that precision (the issue's 2x is
    against today's bf16 path); without nncf the backend is left out with the extra to install."""
    pytest.importorskip("nncf")
    from compactbert.export import quantize as quantize_module

    seen, quantized = {}, []
    real_quantize = quantize_module.quantize_openvino

    def spy(folder, feeds, on):
        quantized.append((len(feeds), feeds[0]["input_ids"].shape, on))
        return real_quantize(folder, feeds, on)

    monkeypatch.setattr(quantize_module, "quantize_openvino", spy)

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        seen[progress] = {name: fn() for name, fn in fns.items()}
        return fake_timer({TEACHER: 100.0, f"{TEACHER} @ openvino-int8": 40.0})(fns, repeats, warmup)

    monkeypatch.setattr(bench_run, "native_bf16", lambda: True)
    # a CPU with bf16 units, where the 2x target at batch 1 applies (on an AVX2-only one it is 1.4x in fp32)
    import compactbert.hardware

    monkeypatch.setattr(
        compactbert.hardware, "read_cpuinfo", lambda: "model name\t: a CPU\nflags\t\t: avx2 avx512_bf16\n"
    )
    report = run_benchmark(
        models=["tinybert-4"], batches=[1], seq_len=8, dtypes=["bf16"], repeats=1, warmup=0, quick=True,
        timer=timer, progress=False, backends=["torch", "openvino-int8"],
    )  # fmt: skip
    assert quantized == [(bench_run.CALIBRATION_SEQUENCES, (1, 8), bench_run.INT8_CALIBRATION)] * 2
    ran = seen[False]
    for model in (TEACHER, "tinybert-4"):
        got, expected = ran[f"{model} @ openvino-int8"]["last_hidden_state"], ran[model].last_hidden_state
        assert got.shape == tuple(expected.shape)
    speedups = {(r["model"], r["backend"], r["dtype"]): r for r in report["runtime_speedups"]}
    teacher = speedups[(TEACHER, "openvino-int8", "bf16")]
    assert teacher["speedup"] == 2.5 and teacher["threshold"] == 2.0 and teacher["status"] == "met"

    monkeypatch.setattr(formats_module, "missing_modules", lambda names: [n for n in names if n == "nncf"])
    report = run_benchmark(
        models=["bert-6"], batches=[1], seq_len=8, dtypes=["fp32"], repeats=1, warmup=0, quick=True,
        timer=fake_timer({}), progress=False, backends=["torch", "openvino", "openvino-int8"],
    )  # fmt: skip
    assert report["missing"] == [
        {
            "model": "every row on openvino-int8",
            "why": "not installed: pip install 'compactbert[openvino]' (from a checkout: pip install -e '.[openvino]')",
        }
    ]
    assert {r["backend"] for r in report["results"]} == {"torch", "openvino"}


def test_the_bench_command_records_its_backends(monkeypatch):
    monkeypatch.setattr(bench_run, "time_side_by_side", fake_timer({}))
    args = ["bench", "--quick", "--models", "bert-6", "--batch", "1", "--seq", "8", "--dtype", "fp32"]
    parsed = build_parser().parse_args([*args, "--backend", "torch,onnxruntime"])
    assert bench_command(parsed) == (
        "compactbert bench --models bert-6 --batch 1 --seq 8 --dtype fp32 --backend torch,onnxruntime --repeats 5 "
        "--warmup 1 --quick"
    )
    assert bench_command(build_parser().parse_args(args)).startswith(
        "compactbert bench --models bert-6 --batch 1 --seq 8 --dtype fp32 --repeats 5"
    )


def test_onnxruntime_int8_rows_take_int8_weights_and_meet_the_avx2_target_by_their_speed(monkeypatch):
    """`--backend onnxruntime-int8`: each row's ONNX graph with its linear layers' weights quantized (nothing to
    calibrate), run beside PyTorch fp32 and held to the AVX2-only target (1.4x at batch 1) on a CPU without bf16
    units."""
    import onnx

    import compactbert.hardware
    from compactbert.export import quantize as quantize_module

    graphs = []
    real_quantize = quantize_module.quantize_onnx

    def spy(folder):
        record = real_quantize(folder)
        graphs.append(sorted({n.op_type for n in onnx.load(str(folder / "model.onnx")).graph.node}))
        return record

    monkeypatch.setattr(quantize_module, "quantize_onnx", spy)
    monkeypatch.setattr(compactbert.hardware, "read_cpuinfo", lambda: "model name\t: a CPU\nflags\t\t: avx avx2\n")
    seen = {}

    def timer(fns, repeats, warmup, progress=False, min_sample_ms=0.0):
        seen.update({name: fn() for name, fn in fns.items()})
        return fake_timer({TEACHER: 100.0, f"{TEACHER} @ onnxruntime-int8": 50.0, "tinybert-4 @ onnxruntime-int8": 9.0,
                           "tinybert-4": 10.0})(fns, repeats, warmup)  # fmt: skip

    report = run_benchmark(
        models=["tinybert-4"], batches=[1], seq_len=8, dtypes=["fp32"], repeats=1, warmup=0, quick=True,
        timer=timer, progress=False, backends=["torch", "onnxruntime-int8"],
    )  # fmt: skip
    assert len(graphs) == 2 and all("MatMulInteger" in ops and "DynamicQuantizeLinear" in ops for ops in graphs)
    for model in (TEACHER, "tinybert-4"):
        got, expected = seen[f"{model} @ onnxruntime-int8"]["last_hidden_state"], seen[model].last_hidden_state
        assert got.shape == tuple(expected.shape)
    speedups = {r["model"]: r for r in report["runtime_speedups"]}
    assert (speedups[TEACHER]["speedup"], speedups[TEACHER]["threshold"], speedups[TEACHER]["status"]) == (
        2.0, 1.4, "met"
    )  # fmt: skip
    assert (speedups["tinybert-4"]["threshold"], speedups["tinybert-4"]["status"]) == (1.4, "missed")
