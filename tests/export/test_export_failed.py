"""An export whose verification failed: kept to inspect, marked so in export.json, with a warning when it is written;
loading it by its runtime warns with the figures and what to do, and `backend="auto"` never chooses it (it loads the
PyTorch folder it was made from, and says why, or refuses when there is none). An export never verified
(`--no-verify`) warns when it is loaded, by either backend."""

import json
import shutil
import sys
import warnings

import numpy as np
import pytest
from transformers import BertForSequenceClassification

import compactbert
from compactbert.export import FailedExportWarning, UnverifiedExportWarning, export_model
from compactbert.export.verdict import find_source
from compactbert.inference import InferenceModel, load_for_inference

from support.helpers import TEXTS, make_bert, make_tokenizer, spread_classifier

LABELS = {0: "sport", 1: "tech", 2: "politics"}
NO_RUNTIMES = {"openvino": None, "onnxruntime": None}  # auto then compares nothing: PyTorch, quickly


def no_timing(fns):
    raise AssertionError("nothing should be timed: no runtime is installed")


@pytest.fixture
def source(tmp_path):
    model = make_bert(
        BertForSequenceClassification, num_layers=2, num_labels=3, id2label=LABELS, initializer_range=0.2
    )
    folder = tmp_path / "runs" / "model"
    compactbert.save_model(spread_classifier(compactbert.shrink(model, "top", num_drop=1)), folder, make_tokenizer())
    return folder


@pytest.fixture
def failed_export(source, reference_predicts_otherwise):
    """`runs/model-openvino`: exported next to the source, its verification failed."""
    with pytest.warns(
        FailedExportWarning, match="it is kept to inspect .*: do not deploy it; export it again"
    ) as caught:
        result = export_model(source, format="openvino", verify_samples=4)
    assert result.passed is False
    assert str(caught[0].message).startswith(f"{result.folder} failed its verification when it was exported: its fp32")
    assert caught[0].filename == __file__  # the warning points at the caller's line
    return result.folder


def test_loading_a_failed_export_by_its_runtime_warns_with_the_figures_and_what_to_do(failed_export, source):
    info = json.loads((failed_export / "export.json").read_text())
    assert info["passed"] is False and "load_for_inference warns" in info["note"]
    with pytest.warns(FailedExportWarning) as caught:
        loaded = load_for_inference(failed_export, backend="openvino")
    message = str(caught[0].message)
    assert message.startswith(
        f"{failed_export} failed its verification when it was exported: its fp32 graph changed 100.0% of the "
        "predictions (an export keeps at least 99.5% of them) on 4 built-in sample texts"
    )
    assert "loaded all the same because backend='openvino' asked for it" in message and "do not deploy it" in message
    assert f"export it again (`compactbert export {source.resolve()} --format openvino`)" in message
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert loaded.backend == "openvino" and len(loaded.predict(TEXTS)) == len(TEXTS)


def test_auto_loads_the_pytorch_folder_instead_and_says_why(failed_export, source, monkeypatch):
    for name, module in NO_RUNTIMES.items():
        monkeypatch.setitem(sys.modules, name, module)
    with pytest.warns(FailedExportWarning, match="backend='auto' does not choose it and loaded .*runs/model"):
        loaded = load_for_inference(failed_export, backend="auto", dtype="fp32", measure=no_timing)
    assert type(loaded) is InferenceModel and loaded.backend == "torch"
    choice = loaded.backend_choice
    assert choice.rejected[str(failed_export)].startswith("its export failed verification: its fp32 graph changed")
    assert f"; skipped {failed_export} (its fp32 graph changed 100.0% of the predictions" in choice.reason
    expected = load_for_inference(source, dtype="fp32").predict_proba(TEXTS)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=0, atol=1e-6)


def test_auto_refuses_a_failed_export_whose_source_is_not_found(failed_export, tmp_path, monkeypatch):
    moved = tmp_path / "shipped" / "model-openvino"
    shutil.copytree(failed_export, moved)  # deployed alone, without the PyTorch folder beside it
    info = json.loads((moved / "export.json").read_text())
    info |= {"source_folder": str(tmp_path / "gone"), "source": "runs/model"}
    (moved / "export.json").write_text(json.dumps(info))
    monkeypatch.chdir(tmp_path / "shipped")
    with pytest.raises(ValueError) as refused:
        load_for_inference(moved, backend="auto")
    assert "backend='auto' does not choose an export that failed" in str(refused.value)
    assert "or load this one with backend='openvino' to use it anyway (it warns)" in str(refused.value)


def test_the_source_is_found_as_given_beside_the_export_or_not_at_all(failed_export, source, tmp_path, monkeypatch):
    info = json.loads((failed_export / "export.json").read_text())
    assert find_source(failed_export, info) == source.resolve()  # the folder it recorded
    moved = tmp_path / "moved"
    shutil.copytree(source.parent, moved)  # the source and its export moved together: still found, relative
    assert find_source(moved / failed_export.name, info) == (moved / source.name).resolve()
    del info["source_folder"]  # an export.json written before it was recorded; the source was named "runs/model"
    info["source"] = "runs/model"
    monkeypatch.chdir(tmp_path)
    assert find_source(failed_export, info) == tmp_path / "runs" / "model"  # from the folder it was exported in
    monkeypatch.chdir(tmp_path / "runs")
    assert find_source(failed_export, info) == failed_export.parent / "model"  # the default output's sibling
    assert find_source(tmp_path / "runs" / "other-openvino", info) is None  # not named like one: not guessed
    other = {**info, "model_type": "albert_sop"}
    assert find_source(failed_export, other) is None  # a folder of another model is not its source


def test_a_passing_export_loads_without_a_warning(source, tmp_path):
    passed = export_model(source, tmp_path / "ok", format="openvino", verify_samples=4)
    assert passed.passed and "note" not in passed.info
    with warnings.catch_warnings():
        warnings.simplefilter("error", FailedExportWarning)
        assert load_for_inference(passed.folder, backend="auto").backend == "openvino"


def test_an_unverified_export_warns_when_loaded_by_either_backend(source, tmp_path):
    exported = export_model(source, tmp_path / "quick", format="onnx", verify=False).folder
    for backend in ("onnxruntime", "auto"):
        with pytest.warns(UnverifiedExportWarning, match=r"exported without verification \(--no-verify\)") as caught:
            loaded = load_for_inference(exported, backend=backend)
        message = str(caught[0].message)
        assert "its predictions were never compared with PyTorch's" in message
        assert f"(`compactbert export {source} --format onnx`)" in message and caught[0].filename == __file__
        assert loaded.backend == "onnxruntime" and len(loaded.predict(TEXTS)) == len(TEXTS)
    assert loaded.backend_choice.reason.endswith("(never verified against PyTorch: exported with --no-verify)")
