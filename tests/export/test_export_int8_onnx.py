"""`compactbert export --format onnx --dtype int8`: ONNX Runtime's dynamic quantization of the linear layers' weights
(the int8 for CPUs without VNNI), verified like every export; opening and loading it; the errors."""

import json
import logging
import warnings

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

from compactbert.cli import main
from compactbert.export import FailedExportWarning, MissingRuntimeError, export_model, open_session, verify_export
from compactbert.export import backends as backends_module
from compactbert.export import exporter as exporter_module
from compactbert.export import formats as formats_module
from compactbert.inference import load_for_inference

from support.helpers import (
    TEXTS,
    WORDS,
    make_bert,
    make_tokenizer,
    save_spread_classifier,
    spread_classifier,
    tiny_config,
)

onnx = pytest.importorskip("onnx", reason="the ONNX int8 export needs onnx and onnxruntime (the onnx extra)")
pytest.importorskip("onnxruntime", reason="the ONNX int8 export needs onnxruntime (the onnx extra)")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A saved tiny classifier whose head separates `TEXTS` by several logits (int8 may flip near ties)."""
    return save_spread_classifier(tmp_path_factory.mktemp("source") / "model")


@pytest.fixture(scope="module")
def int8_export(classifier, tmp_path_factory):
    return export_model(
        classifier, tmp_path_factory.mktemp("int8") / "int8", format="onnx", dtype="int8", verify=False
    )


def matmul_inputs(folder) -> dict[str, list[str]]:
    """The ONNX graph in `folder`: the operation type feeding each matrix multiplication's second input, by op type."""
    graph = onnx.load(str(folder / "model.onnx")).graph
    producers = {out: node.op_type for node in graph.node for out in node.output}
    initializers = {i.name for i in graph.initializer}
    seen: dict[str, list[str]] = {}
    for node in graph.node:
        if node.op_type in ("MatMul", "MatMulInteger"):
            second = node.input[1]
            seen.setdefault(node.op_type, []).append("weight" if second in initializers else producers[second])
    return seen


def test_the_linear_layers_take_int8_weights_and_the_attention_stays_fp32(classifier, int8_export):
    info = int8_export.info
    assert (info["format"], info["dtype"]) == ("onnx", "int8")
    assert info["quantization"]["method"].startswith("ONNX Runtime dynamic quantization")
    assert "calibration" not in info["quantization"]  # the weights only: nothing to calibrate
    assert json.loads((int8_export.folder / "export.json").read_text())["quantization"] == info["quantization"]
    seen = matmul_inputs(int8_export.folder)
    # 2 layers x (query, key, value, output, intermediate, output) + pooler + classifier, each on an int8 weight
    assert seen["MatMulInteger"] == ["weight"] * 14
    # QK^T and scores x V of both layers: two activations, left in fp32
    assert len(seen["MatMul"]) == 4 and "weight" not in seen["MatMul"]


def test_the_int8_graph_predicts_what_pytorch_does_where_the_head_separates(classifier, int8_export):
    model = AutoModelForSequenceClassification.from_pretrained(classifier).eval()
    texts = list(TEXTS)
    held = verify_export(model, make_tokenizer(), int8_export.folder, "sequence-classification", texts)
    assert (held["dtype"], held["rest_precision"]) == ("int8", "fp32")
    assert held["predictions_unchanged"] == 1.0 and held["passed"]
    assert held["max_abs_logit_diff"] > 1e-4  # int8, not the fp32 graph
    with torch.inference_mode():
        labels = model(**make_tokenizer()(texts, padding=True, return_tensors="pt")).logits.argmax(-1)
    assert len(set(labels.tolist())) == 3  # the texts are not all one label: the check has teeth


def test_an_int8_onnx_graph_opens_as_int8_in_fp32_and_refuses_bf16(int8_export, classifier, tmp_path):
    session = open_session(int8_export.folder)
    assert (session.runtime, session.dtype, session.precision) == ("onnxruntime", "int8", "fp32")
    with pytest.raises(ValueError, match="runs onnx models in fp32, int8, not bf16"):
        open_session(int8_export.folder, dtype="bf16")
    fp32 = export_model(classifier, tmp_path / "fp32", format="onnx", verify=False).folder
    assert open_session(fp32).dtype == "fp32"
    with pytest.raises(
        ValueError, match="int8 needs a quantized one: `compactbert export MODEL --format onnx --dtype"
    ):
        open_session(fp32, dtype="int8")


def test_load_for_inference_runs_onnxruntime_int8_from_the_cache(classifier, tmp_path, monkeypatch):
    """`backend="onnxruntime", quantize="int8"`: the graph quantized once into a cache entry of its own, verified like
    an export (a warning when it does not hold: none here), the PyTorch model beside it left unquantized."""
    texts = list(TEXTS)
    monkeypatch.setattr(backends_module, "verification_texts", lambda folder, n, data=None: exporter_module.TaskTexts(
        texts, None, "the texts"))  # fmt: skip
    cache = tmp_path / "cache"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_for_inference(classifier, backend="onnxruntime", quantize="int8", cache_dir=cache)
    assert (loaded.backend, loaded.quantized, loaded.dtype) == ("onnxruntime", "int8", torch.float32)
    assert loaded.export_info["verification"]["passed"] and loaded.export_info["verification"]["on"] == "the texts"
    assert loaded.model is not None and loaded.model.classifier.weight.dtype == torch.float32  # not torch's int8
    reference = load_for_inference(classifier, dtype="fp32")
    assert [p["label"] for p in loaded.predict(texts)] == [p["label"] for p in reference.predict(texts)]
    fp32 = load_for_inference(classifier, backend="onnxruntime", cache_dir=cache)
    assert fp32.quantized is None and fp32.session.dtype == "fp32"
    assert sorted(p.name.rsplit("-", 1)[0] for p in cache.iterdir()) == [
        "model-sequence-classification-onnx",
        "model-sequence-classification-onnx-int8",
    ]


def test_an_int8_onnx_graph_that_does_not_hold_says_to_export_fp32(classifier, tmp_path):
    """On the built-in texts (read as [UNK]s by the tiny tokenizer) the tiny head's logits are near ties that int8
    flips: the export is refused, pointing to fp32 (ONNX Runtime runs no bf16)."""
    with pytest.warns(
        FailedExportWarning, match=r"export it in fp32 instead \(`compactbert export .* --format onnx`\)"
    ):
        result = export_model(classifier, tmp_path / "int8", format="onnx", dtype="int8")
    assert result.passed is False and result.verification["predictions_unchanged"] < 0.995


def test_the_quantizer_keeps_its_preprocessing_advice_to_itself(classifier, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        export_model(classifier, tmp_path / "int8", format="onnx", dtype="int8", verify=False)
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()]
    assert not logging.getLogger().filters  # the filter is gone again


def test_the_command_quantizes_the_weights_and_refuses_calibration_samples(classifier, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["export", str(classifier), "--format", "onnx", "--dtype", "int8", "--output", str(out),
                 "--no-verify"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "quantized the linear layers' weights to int8 with ONNX Runtime" in printed
    assert "(their inputs are quantized as each batch runs)" in printed
    assert main(["export", str(classifier), "--format", "onnx", "--dtype", "int8", "--calibration-samples", "8",
                 "--output", str(tmp_path / "again")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "the ONNX int8 export quantizes the weights only and calibrates on nothing" in err
    assert not (tmp_path / "again").exists()


def test_without_onnxruntime_the_int8_export_names_the_extra(classifier, tmp_path, monkeypatch):
    monkeypatch.setattr(formats_module, "missing_modules", lambda names: [n for n in names if n == "onnxruntime"])
    with pytest.raises(MissingRuntimeError, match=r"needs onnxruntime.*compactbert\[onnx\]"):
        export_model(classifier, tmp_path / "x", format="onnx", dtype="int8")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("family", ["albert_sop", "shrunk_bert", "tiny_bert", "bert"])
def test_every_familys_classifier_quantizes_and_predicts_as_pytorch_at_new_shapes(family, tmp_path, tokenizer):
    """Each family's classifier (tiny, its head spread so that the first three texts are labels 0, 1, 2 by several
    logits) to ONNX int8: every linear layer on an int8 weight (Albert-SOP's shared layers too), the attention in fp32,
    dynamic batch and sequence axes, PyTorch's predictions."""
    from compactbert.export.exporter import torch_outputs, write_export
    from compactbert.export.quantize import quantize_onnx
    from compactbert.models import FAMILIES

    if family == "bert":
        model = make_bert(BertForSequenceClassification, 2, num_labels=3, initializer_range=0.2)
    else:
        torch.manual_seed(0)
        fields = tiny_config(2, num_labels=3, initializer_range=0.2).to_dict()
        config = FAMILIES[family].config_class()(**{k: v for k, v in fields.items() if k != "model_type"})
        model = FAMILIES[family].auto_classes()["AutoModelForSequenceClassification"](config).eval()
    spread_classifier(model)
    write_export(model, tokenizer, tmp_path, "onnx", "int8", "sequence-classification", f"tiny {family}")
    quantize_onnx(tmp_path)
    seen = matmul_inputs(tmp_path)
    assert seen["MatMulInteger"] and set(seen["MatMulInteger"]) == {"weight"}
    assert seen["MatMul"] and "weight" not in seen["MatMul"]  # the attention's products, in fp32
    session = open_session(tmp_path)
    assert (session.runtime, session.dtype) == ("onnxruntime", "int8")
    shapes = {"one text": TEXTS[:1], "four, padded": TEXTS, "nine, one long": [*TEXTS, *TEXTS, " ".join(WORDS[:40])]}
    for what, texts in shapes.items():
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        expected = torch_outputs(model, "sequence-classification", dict(batch))["logits"]
        got = session.run({name: value.numpy() for name, value in batch.items()})["logits"]
        assert got.shape == expected.shape, what
        assert np.abs(got - expected).max() > 0  # int8, not the fp32 graph
        separated = slice(0, min(3, len(texts)))  # the texts the head tells apart by several logits
        assert (got[separated].argmax(-1) == expected[separated].argmax(-1)).all(), (what, got, expected)
    assert list(expected[:3].argmax(-1)) == [0, 1, 2]  # the check has teeth: three labels
