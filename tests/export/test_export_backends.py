"""The runtime backends of `load_for_inference`: OpenVINO and ONNX Runtime behind InferenceModel's interface, the
export cache, exported folders, and `backend="auto"` (chosen by an injected measurement; PyTorch when a runtime is
missing, fails or changes a prediction)."""

import gc
import sys

import numpy as np
import pytest
import torch
from transformers import BertForSequenceClassification

import compactbert
from compactbert.export import SAMPLE_TEXTS, BackendChoice, RuntimeInferenceModel, choose_backend, export_model
from compactbert.export import backends as backends_module
from compactbert.export.runtime import Session
from compactbert.hardware import cpu_has_native_bf16
from compactbert.inference import InferenceModel, load_for_inference

from support.helpers import TEXTS, make_bert, make_tokenizer, spread_classifier

RUNTIMES = ["openvino", "onnxruntime"]
LABELS = {0: "sport", 1: "tech", 2: "politics"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    model = make_bert(
        BertForSequenceClassification, num_layers=2, num_labels=3, id2label=LABELS, initializer_range=0.2
    )
    path = tmp_path_factory.mktemp("source") / "model"
    compactbert.save_model(spread_classifier(compactbert.shrink(model, "top", num_drop=1)), path, make_tokenizer())
    return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One export cache for the module: each runtime exports the folder once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def torch_model(folder):
    return load_for_inference(folder, dtype="fp32")


def fixed_measure(times: dict[str, float], calls: list | None = None):
    """A measurement that says each backend takes `times[name]` ms (and records what it was asked to time)."""

    def measure(fns):
        if calls is not None:
            calls.append(sorted(fns))
        for fn in fns.values():
            fn()  # each runner runs: a broken one would fail here
        return {name: times[name] for name in fns}

    return measure


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_runtime_backend_predicts_what_pytorch_predicts(runtime, folder, cache, torch_model, monkeypatch):
    loaded = load_for_inference(folder, dtype="fp32", backend=runtime, cache_dir=cache)
    assert isinstance(loaded, RuntimeInferenceModel) and isinstance(loaded, InferenceModel)
    assert loaded.backend == runtime and loaded.backend_choice is None and loaded.dtype == torch.float32
    assert loaded.label_names == torch_model.label_names == list(LABELS.values())
    assert loaded.num_parameters == torch_model.num_parameters and loaded.model is not None
    texts = [*TEXTS, "the film", "a great team"]
    expected = torch_model.predict_proba(texts)
    np.testing.assert_allclose(loaded.predict_proba(texts), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(loaded.predict_proba(texts, batch_size=2), expected, rtol=0, atol=1e-5)
    assert len(set(expected.argmax(-1).tolist())) == 3
    assert [p["label"] for p in loaded.predict(texts)] == [p["label"] for p in torch_model.predict(texts)]
    encoded = loaded.encode(texts[:2])
    np.testing.assert_allclose(
        loaded.forward(encoded).logits.numpy(), torch_model.forward(encoded).logits.numpy(), rtol=0, atol=1e-4
    )
    outputs = loaded.runner(texts[:3])()
    assert outputs["logits"].shape == (3, 3)
    # the export is cached: loading again exports nothing
    monkeypatch.setattr(backends_module, "write_export", lambda *a, **k: pytest.fail("exported again"))
    again = load_for_inference(folder, dtype="fp32", backend=runtime, cache_dir=cache)
    assert again.folder == loaded.folder and again.folder.parent == cache


def test_the_encoder_runs_on_a_runtime_too(folder, cache):
    loaded = load_for_inference(folder, task="base", dtype="fp32", backend="openvino", cache_dir=cache)
    reference = load_for_inference(folder, task="base", dtype="fp32")
    encoded = reference.encode(TEXTS)
    got, expected = loaded.forward(encoded), reference.forward(encoded)
    np.testing.assert_allclose(got.last_hidden_state.numpy(), expected.last_hidden_state.numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(got.pooler_output.numpy(), expected.pooler_output.numpy(), rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="has no classification head"):
        loaded.predict_proba(TEXTS)


def test_an_exported_folder_loads_with_its_runtime_and_no_pytorch_model(folder, tmp_path, torch_model):
    exported = export_model(folder, tmp_path / "onnx", format="onnx", verify=False).folder
    loaded = load_for_inference(exported, backend="auto")
    assert loaded.backend == "onnxruntime" and loaded.model is None and loaded.dtype == torch.float32
    assert (
        loaded.backend_choice.backend == "onnxruntime" and "is an exported onnx model" in loaded.backend_choice.reason
    )
    assert loaded.num_parameters == torch_model.num_parameters and loaded.label_names == list(LABELS.values())
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), torch_model.predict_proba(TEXTS), rtol=0, atol=1e-5)
    assert load_for_inference(exported, backend="onnxruntime").backend == "onnxruntime"
    plain = load_for_inference(exported)  # the default: the folder's own runtime
    assert plain.backend == "onnxruntime" and plain.model is None and plain.backend_choice is None
    with pytest.raises(ValueError, match="is an exported onnx model with no PyTorch weights; load it with"):
        load_for_inference(exported, backend="torch")
    with pytest.raises(ValueError, match="runs with backend='onnxruntime', not 'openvino'"):
        load_for_inference(exported, backend="openvino")
    with pytest.raises(ValueError, match="was exported as task 'sequence-classification'; load it with task="):
        load_for_inference(exported, task="base", backend="auto")
    # an exported folder runs at the precision its export.json records, unless dtype names one (OpenVINO runs a bf16
    # hint in fp32 on a CPU without bf16 units, and the model says so)
    bf16 = export_model(folder, tmp_path / "ov", format="openvino", dtype="bf16", verify=False).folder
    runs_in = torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    assert load_for_inference(bf16, backend="auto").dtype == runs_in
    assert load_for_inference(bf16).backend == "openvino" and load_for_inference(bf16).dtype == runs_in
    assert load_for_inference(bf16, backend="openvino", dtype="fp32").session.dtype == "fp32"


def test_auto_chooses_the_fastest_backend_the_measurement_names(folder, cache):
    calls = []
    loaded = load_for_inference(
        folder,
        dtype="fp32",
        backend="auto",
        cache_dir=cache,
        measure=fixed_measure({"torch": 10.0, "openvino": 4.0, "onnxruntime": 8.0}, calls),
    )
    assert loaded.backend == "openvino" and isinstance(loaded, RuntimeInferenceModel)
    choice = loaded.backend_choice
    assert choice.backend == "openvino" and choice.rejected == {}
    assert choice.relative_time == pytest.approx({"torch": 1.0, "openvino": 0.4, "onnxruntime": 0.8})
    assert choice.times_ms["openvino"] == {"batch 1": 4.0, "batch 8": 4.0}
    assert choice.dtypes == {"torch": "fp32", "openvino": "fp32", "onnxruntime": "fp32"}
    assert calls == [["onnxruntime", "openvino", "torch"]] * 2  # every backend, on two sample batches
    assert choice.reason.startswith("openvino (fp32): 0.40x PyTorch's time on this CPU (batch 1 and batch 8")
    assert "predictions unchanged on 16 sample texts; onnxruntime 0.80x" in choice.reason
    assert choice.as_dict()["backend"] == "openvino"

    slow = fixed_measure({"torch": 5.0, "openvino": 6.0, "onnxruntime": 5.0})  # a tie with torch keeps torch
    kept = load_for_inference(folder, dtype="fp32", backend="auto", cache_dir=cache, measure=slow)
    assert kept.backend == "torch" and type(kept) is InferenceModel
    assert kept.backend_choice.backend == "torch"
    assert kept.backend_choice.reason.startswith("torch: no runtime was faster on this CPU (openvino 1.20x")


def test_auto_falls_back_to_pytorch_when_no_runtime_is_installed(folder, cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` fails, and find_spec finds nothing
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    measure = fixed_measure({})  # would fail if asked to time anything: there is nothing to compare
    loaded = load_for_inference(folder, dtype="fp32", backend="auto", cache_dir=cache, measure=measure)
    assert loaded.backend == "torch" and type(loaded) is InferenceModel
    assert loaded.backend_choice.rejected == {
        "openvino": "not installed: pip install 'compactbert[openvino]' (from a checkout: pip install -e "
        "'.[openvino]')",
        "onnxruntime": "not installed: pip install 'compactbert[onnx]' (from a checkout: pip install -e '.[onnx]')",
    }
    assert loaded.backend_choice.reason == (
        "torch: no runtime to compare with (openvino: not installed: pip install 'compactbert[openvino]' (from a "
        "checkout: pip install -e '.[openvino]'); onnxruntime: not installed: pip install 'compactbert[onnx]' (from a "
        "checkout: pip install -e '.[onnx]'))"
    )
    with pytest.raises(
        ImportError, match=r"backend='openvino' needs openvino, .*pip install 'compactbert\[openvino\]'"
    ):
        load_for_inference(folder, backend="openvino", cache_dir=cache)


def test_auto_leaves_out_a_runtime_that_fails(folder, cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)

    def failing_open(cls, path, *args, **kwargs):
        raise RuntimeError("the plugin refused the graph")

    monkeypatch.setattr(RuntimeInferenceModel, "open", classmethod(failing_open))
    loaded = load_for_inference(folder, dtype="fp32", backend="auto", cache_dir=cache, measure=fixed_measure({}))
    assert loaded.backend == "torch"
    assert loaded.backend_choice.rejected["openvino"] == "failed to load: RuntimeError: the plugin refused the graph"


class ShuffledSession(Session):
    """A session whose logits are its inner session's, rolled by one label: every prediction changes."""

    def __init__(self, inner: Session):
        self.inner, self.runtime, self.dtype = inner, inner.runtime, inner.dtype
        self.input_names, self.output_names = inner.input_names, inner.output_names

    def run(self, feed):
        return {name: np.roll(value, 1, axis=-1) for name, value in self.inner.run(feed).items()}


def test_auto_refuses_a_runtime_that_changes_predictions(folder, cache, torch_model):
    good = load_for_inference(folder, dtype="fp32", backend="onnxruntime", cache_dir=cache)
    bad = load_for_inference(folder, dtype="fp32", backend="openvino", cache_dir=cache)
    bad.session = ShuffledSession(bad.session)
    measure = fixed_measure({"torch": 10.0, "openvino": 1.0, "onnxruntime": 7.0})
    chosen, choice = choose_backend(torch_model, {"openvino": bad, "onnxruntime": good}, measure=measure)
    assert chosen is good and choice.backend == "onnxruntime"
    assert choice.rejected["openvino"].startswith(f"predictions differ from PyTorch's on {len(SAMPLE_TEXTS)} of ")
    assert "left out: openvino (predictions differ" in choice.reason and "openvino" not in choice.times_ms
    assert isinstance(choice, BackendChoice) and good.backend_choice is choice


def test_a_loaded_model_is_exported_to_a_temporary_folder_that_goes_with_it(tokenizer):
    model = spread_classifier(
        make_bert(BertForSequenceClassification, num_layers=2, num_labels=3, id2label=LABELS, initializer_range=0.2)
    )
    expected = load_for_inference(model, tokenizer=tokenizer, dtype="fp32").predict_proba(TEXTS)
    loaded = load_for_inference(model, tokenizer=tokenizer, dtype="fp32", backend="onnxruntime")
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), expected, rtol=0, atol=1e-5)
    folder = loaded.folder
    assert folder.exists() and loaded.model is model
    del loaded
    gc.collect()
    assert not folder.exists()


def test_backend_errors_say_what_to_do(folder, cache):
    with pytest.raises(ValueError, match=r"unknown backend 'tensorrt'; expected one of \('torch', 'auto'"):
        load_for_inference(folder, backend="tensorrt")
    with pytest.raises(ValueError, match="onnxruntime runs fp32 only on the CPU; pass dtype='fp32' or 'auto'"):
        load_for_inference(folder, dtype="bf16", backend="onnxruntime", cache_dir=cache)
    with pytest.raises(ValueError, match="runs on the CPU; got device='meta'"):
        load_for_inference(folder, device="meta", backend="openvino", cache_dir=cache)
    int8 = load_for_inference(folder, quantize="int8", backend="auto", cache_dir=cache, measure=fixed_measure({}))
    assert int8.backend == "torch" and int8.backend_choice.rejected == {
        runtime: f"not compared: quantize='int8' with backend='auto' is PyTorch's dynamic int8 (for {runtime}'s "
        f"int8, pass backend={runtime!r})"
        for runtime in ("openvino", "onnxruntime")
    }
