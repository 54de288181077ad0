"""compactbert.bench.inference_options: every way to run a classifier, compared on quality and (interleaved) speed."""

import gc
import json
import tempfile

import pytest
import torch
from transformers import BertForSequenceClassification

import compactbert
from compactbert.bench import (
    Variant,
    compare_batching,
    compare_threads,
    compare_variants,
    inference_markdown_report,
    inference_options,
    inference_plot_report,
    machine_info,
    write_inference_report,
)
from compactbert.inference import load_for_inference

from support.helpers import TEXTS, make_bert, make_tokenizer, spread_classifier

TEXTS_12 = TEXTS * 3
LOGIT_TOLERANCE = 0.5  # bf16 and int8 rounding move this model's logits by about 0.07 and 0.14


def confident_classifier() -> BertForSequenceClassification:
    """A random 2-layer BERT classifier with large logits that tell the texts apart (`spread_classifier`)."""
    return spread_classifier(
        make_bert(BertForSequenceClassification, num_layers=2, num_labels=3, initializer_range=0.2)
    )


@pytest.fixture(scope="module")
def fp32_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    compactbert.save_model(confident_classifier(), folder, make_tokenizer(), overwrite=True)
    return load_for_inference(folder, dtype="fp32")


@pytest.fixture
def bf16_hardware(monkeypatch):
    """Pretend the CPU has native bf16 units (the tiny test model runs emulated bf16 fast enough anywhere)."""
    monkeypatch.setattr(inference_options, "native_bf16", lambda: True)


def test_variants_are_compared_with_fp32_on_quality_and_speed(fp32_model, monkeypatch, bf16_hardware):
    broken = Variant("broken", "raises when built", lambda loaded: 1 / 0)
    absent = Variant("absent", "needs a module that is not installed", lambda loaded: None, needs="no_such_module_xyz")
    monkeypatch.setitem(inference_options.VARIANTS, "broken", broken)
    monkeypatch.setitem(inference_options.VARIANTS, "absent", absent)
    reference = fp32_model.predict_proba(TEXTS_12, sort_by_length=False).argmax(-1)
    labels = [int(p) for p in reference]
    labels[0] = (labels[0] + 1) % 3  # one wrong label: fp32 accuracy is 11/12

    report = compare_variants(
        fp32_model,
        TEXTS_12,
        labels,
        variants=["bf16", "int8-dynamic", "broken", "absent"],
        batch_size=4,
        max_length=16,
        repeats=2,
        warmup=0,
        progress=False,
    )
    rows = {row["variant"]: row for row in report["variants"]}
    assert list(rows) == ["fp32", "bf16", "int8-dynamic"]  # fp32 is always there, first
    assert rows["fp32"]["agreement_with_fp32"] == 1.0 and rows["fp32"]["max_abs_logit_diff"] == 0.0
    assert rows["fp32"]["predictions"] == reference.tolist()
    assert rows["fp32"]["accuracy"] == pytest.approx(11 / 12)
    # the model tells the texts apart by wide margins (so a variant that lost its weights, all logits 0, is off by
    # more than the tolerance), and bf16 and int8 keep every prediction and stay within the tolerance
    batch = fp32_model.tokenizer(TEXTS_12, padding="max_length", max_length=16, return_tensors="pt")
    with torch.inference_mode():
        top2 = fp32_model.model(**batch).logits.topk(2, dim=-1).values
    assert set(rows["fp32"]["predictions"]) == {0, 1, 2}
    assert (top2[:, 0] - top2[:, 1]).min() > 2 * LOGIT_TOLERANCE
    for name in ("bf16", "int8-dynamic"):
        assert rows[name]["predictions"] == rows["fp32"]["predictions"], name
        assert rows[name]["agreement_with_fp32"] == 1.0 and rows[name]["accuracy"] == pytest.approx(11 / 12)
        assert 0 < rows[name]["max_abs_logit_diff"] < LOGIT_TOLERANCE, name
    for row in rows.values():
        assert 0.0 <= row["agreement_with_fp32"] <= 1.0 and row["setup_s"] >= 0
    assert {m["variant"]: m["why"] for m in report["missing"]} == {
        "broken": "failed here: ZeroDivisionError: division by zero",
        "absent": "no_such_module_xyz is not installed (pip install no_such_module_xyz)",
    }
    assert list(report["timings"]) == ["batch 4", "batch 1"]
    for timings in report["timings"].values():
        assert set(timings) == set(rows) and timings["fp32"]["speedup_vs_fp32"] == 1.0
        assert all(len(t["samples_ms"]) == 2 for t in timings.values())
    # the model every variant was built from is untouched
    assert {p.dtype for p in fp32_model.model.parameters()} == {torch.float32}


def test_bad_input_says_what_was_expected(fp32_model):
    with pytest.raises(ValueError, match="unknown variant.*choose from: fp32"):
        compare_variants(fp32_model, TEXTS, [0, 1, 2, 0], variants=["fp8"])
    with pytest.raises(ValueError, match="as many labels as texts"):
        compare_variants(fp32_model, TEXTS, [0, 1])
    bf16 = load_for_inference(fp32_model.model.config._name_or_path, dtype="bf16")
    with pytest.raises(ValueError, match="needs the fp32 model"):
        compare_variants(bf16, TEXTS, [0, 1, 2, 0])


def test_bf16_variants_are_left_out_where_bf16_is_emulated_unless_asked(fp32_model, monkeypatch):
    monkeypatch.setattr(inference_options, "native_bf16", lambda: False)
    kwargs = dict(batch_size=4, max_length=16, repeats=1, warmup=0, progress=False)
    variants = ["bf16", "bf16-autocast", "int8-dynamic"]
    report = compare_variants(fp32_model, TEXTS, [0, 1, 2, 0], variants=variants, **kwargs)
    assert [row["variant"] for row in report["variants"]] == ["fp32", "int8-dynamic"]
    assert {m["variant"]: m["why"] for m in report["missing"]} == {
        "bf16": inference_options.EMULATED_BF16,
        "bf16-autocast": inference_options.EMULATED_BF16,
    }
    assert "no native bf16 units" in inference_options.EMULATED_BF16
    machine = machine_info(1) | {"load_average_at_end": None}
    text = inference_markdown_report(
        report | {"model": "tiny", "data": "four texts", "date": "today", "machine": machine}
    )
    assert "`bf16`: not measured, this machine has no native bf16 units" in text
    forced = compare_variants(fp32_model, TEXTS, [0, 1, 2, 0], variants=["bf16"], emulated_bf16=True, **kwargs)
    assert [row["variant"] for row in forced["variants"]] == ["fp32", "bf16"] and forced["missing"] == []
    assert set(compare_threads(fp32_model, TEXTS, [1], batch_size=4, max_length=16, repeats=1)) == {
        "fp32, 1 thread(s)"
    }
    assert set(
        compare_threads(fp32_model, TEXTS, [1], batch_size=4, max_length=16, repeats=1, emulated_bf16=True)
    ) == {"fp32, 1 thread(s)", "bf16, 1 thread(s)"}


def test_batching_threads_and_the_report(fp32_model, tmp_path, bf16_hardware):
    batching = compare_batching(fp32_model, {"short": TEXTS_12}, batch_size=4, repeats=1, warmup=0)
    assert batching["short"]["same_predictions"] == 1.0 and batching["short"]["texts"] == 12
    assert batching["short"]["speedup_sorted"] > 0 and len(batching["short"]["sorted"]["samples_ms"]) == 1
    before = torch.get_num_threads()
    threads = compare_threads(fp32_model, TEXTS, [1], batch_size=4, max_length=16, repeats=1)
    assert set(threads) == {"fp32, 1 thread(s)", "bf16, 1 thread(s)"} and torch.get_num_threads() == before

    report = compare_variants(
        fp32_model, TEXTS, [0, 1, 2, 0], variants=["bf16"], batch_size=4, max_length=16, repeats=1, warmup=0,
        progress=False,
    )  # fmt: skip

    report |= {
        "batching": batching,
        "threads": threads,
        "model": "tiny",
        "data": "four texts",
        "machine": machine_info(1) | {"load_average_at_end": None},
        "date": "today",
        "note": "PROVISIONAL",
    }
    text = inference_markdown_report(report, "python scripts/benchmark.py")
    assert "**PROVISIONAL**" in text and "python scripts/benchmark.py" in text
    assert "| bf16 | " in text and "| short | 12 |" in text and "| fp32, 1 thread(s) |" in text
    inference_plot_report(report, tmp_path / "inference.png")
    assert (tmp_path / "inference.png").read_bytes()[:4] == b"\x89PNG"

    files = write_inference_report(report, tmp_path / "out", "python scripts/benchmark.py")
    assert [f.name for f in files] == ["inference.json", "inference.md", "inference.png"]
    saved = json.loads(files[0].read_text(encoding="utf-8"))
    assert saved["command"] == "python scripts/benchmark.py" and saved["threads"] == threads
    assert files[1].read_text(encoding="utf-8") == text
    assert files[2].read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f.name for f in files]  # no partial files left


def test_the_runtime_variants_run_the_exported_model_and_keep_every_prediction(
    fp32_model, bf16_hardware, monkeypatch, tmp_path
):
    """ONNX Runtime and OpenVINO go through compactbert.export: in fp32 they keep every prediction and the logits;
    their exports are scratch, gone once compared (or when one fails to export)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    variants = ["onnxruntime-fp32", "openvino-fp32", "openvino-bf16"]
    kwargs = dict(batch_size=4, max_length=16, repeats=1, warmup=0, progress=False)
    report = compare_variants(fp32_model, TEXTS_12, [0, 1, 2] * 4, variants=variants, **kwargs)
    rows = {row["variant"]: row for row in report["variants"]}
    assert report["missing"] == [] and list(rows) == ["fp32", *variants]
    assert len(set(rows["fp32"]["predictions"])) == 3
    for name in ("onnxruntime-fp32", "openvino-fp32"):
        assert rows[name]["predictions"] == rows["fp32"]["predictions"], name
        assert rows[name]["max_abs_logit_diff"] < 1e-4, name
    assert rows["openvino-bf16"]["predictions"] == rows["fp32"]["predictions"]
    assert rows["openvino-bf16"]["max_abs_logit_diff"] < LOGIT_TOLERANCE
    assert inference_options.VARIANTS["openvino-bf16"].bf16 and inference_options.VARIANTS["openvino-fp32"].needs
    gc.collect()
    assert list(tmp_path.iterdir()) == []

    from compactbert.export import exporter

    monkeypatch.setattr(exporter, "write_export", lambda *args: 1 / 0)
    report = compare_variants(fp32_model, TEXTS_12, [0, 1, 2] * 4, variants=["openvino-fp32"], **kwargs)
    assert report["missing"][0]["variant"] == "openvino-fp32" and list(tmp_path.iterdir()) == []


def test_the_openvino_int8_variant_runs_the_calibrated_int8_graph(fp32_model, monkeypatch):
    """`openvino-int8` is `compactbert export --dtype int8`'s graph: calibrated (here on the texts the tiny head
    separates, see tests/export/test_export_int8.py) it keeps every prediction, with int8's logit error."""
    pytest.importorskip("nncf")
    from compactbert.export import exporter

    calibrated = []

    def calibration(folder, n, data=None):
        calibrated.append(n)
        return exporter.TaskTexts(list(TEXTS_12), None, "the texts", None)

    monkeypatch.setattr(exporter, "calibration_texts", calibration)
    kwargs = dict(batch_size=4, max_length=16, repeats=1, warmup=0, progress=False)
    report = compare_variants(fp32_model, TEXTS_12, [0, 1, 2] * 4, variants=["openvino-int8"], **kwargs)
    rows = {row["variant"]: row for row in report["variants"]}
    assert calibrated == [300] and report["missing"] == []
    assert rows["openvino-int8"]["predictions"] == rows["fp32"]["predictions"]
    # int8's error, not the fp32 graph's; well under the head's margin of several logits (larger on CPUs without
    # VNNI, where the int8 kernels differ: 1.4 measured on an AVX2-only one, under 1 with VNNI)
    assert 1e-4 < rows["openvino-int8"]["max_abs_logit_diff"] < 2.5
