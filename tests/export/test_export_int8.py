"""`compactbert export --format openvino --dtype int8`: NNCF's post-training quantization of the exported graph,
calibrated on the task's train split, verified on its test split; opening an int8 graph; the errors."""

import json
import logging
import shutil
import warnings
from logging.handlers import BufferingHandler

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.data.builtin import default_calibration_texts
from compactbert.export import FailedExportWarning, MissingRuntimeError, export_model, open_session, verify_export
from compactbert.export import backends as backends_module
from compactbert.export import exporter as exporter_module
from compactbert.export import formats as formats_module
from compactbert.export.texts import TaskTexts

from support.helpers import TEXTS, make_tokenizer, save_spread_classifier

pytest.importorskip("nncf", reason="int8 export needs nncf (the openvino extra)")


@pytest.fixture(scope="module")
def bbc_classifier(tmp_path_factory):
    """A saved tiny classifier whose metrics.json names bbc-news (split seed 7), like a fine-tuned folder's."""
    return save_spread_classifier(tmp_path_factory.mktemp("source") / "model", {"task": "bbc-news", "split_seed": 7})


def fixed_texts(texts, where="the texts"):
    """A stand-in for `calibration_texts` / `verification_texts`: up to `n` of `texts`, said to be `where`."""
    return lambda folder, n, data=None: TaskTexts(list(texts)[:n], None, where)


@pytest.fixture(scope="module")
def separated_int8(bbc_classifier, tmp_path_factory):
    """The int8 export calibrated on the texts the tiny head separates by several logits (the tiny model reads BBC
    articles as [UNK]s, and its logits there are near ties that int8 may flip), unverified."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exporter_module, "calibration_texts", fixed_texts(TEXTS))
        out = tmp_path_factory.mktemp("int8") / "int8"
        return export_model(bbc_classifier, out, format="openvino", dtype="int8", verify=False).folder


@pytest.fixture(scope="module")
def fp32_export(bbc_classifier, tmp_path_factory):
    out = tmp_path_factory.mktemp("fp32") / "fp32"
    return export_model(bbc_classifier, out, format="openvino", verify=False).folder


def test_int8_export_is_quantized_calibrated_on_train_and_verified_on_test(bbc_classifier, fp32_export, tmp_path):
    result = export_model(
        bbc_classifier, tmp_path / "int8", format="openvino", dtype="int8", calibration_samples=12, verify_samples=24
    )
    info = json.loads((result.folder / "export.json").read_text())
    assert info == result.info and info["dtype"] == "int8"
    quantization = info["quantization"]
    assert quantization["calibration"] == {
        "on": "the first 12 texts of the train split of bbc-news (seed 7)",
        "texts": 12,
    }
    assert (
        quantization["nncf"]
        and quantization["seconds"] >= 0
        and "int8 weights and activations" in quantization["method"]
    )
    graph = (result.folder / "openvino_model.xml").read_text()
    assert "FakeQuantize" in graph or 'element_type="i8"' in graph  # quantized: the fp32 graph has neither
    assert quantization["not_quantized"] == ["ScaledDotProductAttention"]
    attention_inputs = quantized_inputs(result.folder, "ScaledDotProductAttention", first=3)  # Q, K, V (then mask)
    linear_inputs = quantized_inputs(result.folder, "MatMul", first=2)
    assert attention_inputs == [False] * len(attention_inputs) and len(attention_inputs) == 2 * 3  # 2 layers: Q, K, V
    assert sum(linear_inputs) >= 2 * 6  # the linear layers' activations and weights are quantized
    assert not (result.folder / "int8_model.xml").exists()  # the staged graph replaced the fp32 one
    check = result.verification
    assert check["dtype"] == "int8" and check["on"] == "the first 24 texts of the test split of bbc-news (seed 7)"
    assert check["rest_precision"] in ("bf16", "fp32")  # what OpenVINO chose for the other operations on this CPU
    assert check["predictions_compared"] == 24 and check["passed"] == (check["predictions_unchanged"] >= 0.995)
    assert check["max_abs_logit_diff"] > 0  # int8 is not fp32: the outputs moved
    assert "FakeQuantize" not in (fp32_export / "openvino_model.xml").read_text()


def test_the_int8_graph_predicts_what_pytorch_does_where_the_head_separates(bbc_classifier, separated_int8):
    """Calibrated and verified on the texts its head separates by several logits, the int8 graph must predict what
    PyTorch does."""
    texts = list(TEXTS)
    model = AutoModelForSequenceClassification.from_pretrained(bbc_classifier).eval()
    held = verify_export(model, make_tokenizer(), separated_int8, "sequence-classification", texts)
    assert held["dtype"] == "int8" and held["predictions_unchanged"] == 1.0 and held["passed"]
    assert held["max_abs_logit_diff"] > 1e-4  # int8, not the fp32 graph
    assert len(set(torch_predictions(model, texts))) == 3  # the texts are not all one label: the check has teeth


def quantized_inputs(folder, op_type: str, first: int) -> list[bool]:
    """For each of the `first` inputs of each `op_type` operation of the OpenVINO graph in `folder`: whether a
    FakeQuantize (or an int8 weight's dequantization) feeds it."""
    import openvino

    model = openvino.Core().read_model(str(folder / "openvino_model.xml"))
    seen = []
    for op in model.get_ops():
        if op.get_type_name() == op_type:
            seen += [fed_by_quantizer(value.get_node()) for value in op.input_values()[:first]]
    return seen


def fed_by_quantizer(node, depth: int = 3) -> bool:
    """Whether `node` is, or is reached through up to `depth` reshaping / converting operations from, a quantizer."""
    if node.get_type_name() == "FakeQuantize" or any(
        o.get_element_type().get_type_name() == "i8" for o in node.outputs()
    ):
        return True
    passthrough = ("Convert", "Reshape", "Transpose", "Multiply", "Subtract")
    if depth == 0 or node.get_type_name() not in passthrough:
        return False
    return any(fed_by_quantizer(value.get_node(), depth - 1) for value in node.input_values())


def torch_predictions(model, texts) -> list[int]:
    with torch.inference_mode():
        return model(**make_tokenizer()(list(texts), padding=True, return_tensors="pt")).logits.argmax(-1).tolist()


def test_an_int8_export_has_a_folder_of_its_own_by_default(bbc_classifier):
    from compactbert.export import default_output

    assert default_output(bbc_classifier, "openvino", "int8") == bbc_classifier.with_name("model-openvino-int8")
    assert default_output("minilm", "openvino", "int8").as_posix() == "minilm-openvino-int8"
    assert default_output("minilm", "openvino").as_posix() == "minilm-openvino"


def test_calibration_texts_come_from_train_never_test(bbc_classifier, tmp_path):
    texts, pairs, where, _ = exporter_module.calibration_texts(bbc_classifier, 5)
    data = load_task("bbc-news", seed=7).dataset
    assert texts == data["train"]["text"][:5] and pairs is None and "train split" in where
    assert not set(texts) & set(data["test"]["text"])
    bare = tmp_path / "bare"
    shutil.copytree(bbc_classifier, bare)
    (bare / "metrics.json").unlink()
    texts, _, where, not_loaded = exporter_module.calibration_texts(bare, 7)
    assert texts == default_calibration_texts(7)[:7]
    assert where == "7 built-in BBC News articles (no metrics.json names a task)" and not_loaded is None


def test_an_int8_graph_opens_as_int8_with_the_rest_at_the_asked_precision(separated_int8, fp32_export):
    folder = separated_int8
    own = open_session(folder)
    assert own.dtype == "int8" and "INFERENCE_PRECISION_HINT" not in own.config  # OpenVINO's default for the rest
    rest = open_session(folder, dtype="fp32")
    assert rest.dtype == "int8" and rest.config["INFERENCE_PRECISION_HINT"] == "f32"
    with pytest.raises(ValueError, match="holds an fp32 graph; int8 needs a quantized one"):
        open_session(fp32_export, dtype="int8")


def test_load_for_inference_runs_openvino_int8_from_the_cache(bbc_classifier, tmp_path, monkeypatch):
    """`load_for_inference(..., backend="openvino", quantize="int8")`: the graph quantized once into the cache (its own
    entry beside the fp32 one), calibrated like `compactbert export --dtype int8`, run with its other operations at
    `dtype`; the PyTorch model beside it is the unquantized one."""
    from compactbert.inference import load_for_inference

    texts = list(TEXTS)
    for name in ("calibration_texts", "verification_texts"):
        monkeypatch.setattr(exporter_module, name, fixed_texts(texts))
    monkeypatch.setattr(backends_module, "verification_texts", exporter_module.verification_texts)
    cache = tmp_path / "cache"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the graph holds: no warning
        loaded = load_for_inference(bbc_classifier, dtype="fp32", backend="openvino", quantize="int8", cache_dir=cache)
    assert loaded.backend == "openvino" and loaded.quantized == "int8" and loaded.dtype == torch.float32
    check = loaded.export_info["verification"]
    assert check["on"] == "the texts" and check["passed"] and check["predictions_compared"] == len(texts)
    assert loaded.session.dtype == "int8" and loaded.session.config["INFERENCE_PRECISION_HINT"] == "f32"
    assert loaded.export_info["quantization"]["calibration"] == {"on": "the texts", "texts": len(texts)}
    assert loaded.model is not None and loaded.model.classifier.weight.dtype == torch.float32  # not torch's int8
    reference = AutoModelForSequenceClassification.from_pretrained(bbc_classifier).eval()
    assert [p["label"] for p in loaded.predict(texts)] == [
        reference.config.id2label[i] for i in torch_predictions(reference, texts)
    ]
    fp32 = load_for_inference(bbc_classifier, dtype="fp32", backend="openvino", cache_dir=cache)
    assert fp32.quantized is None and fp32.session.dtype == "fp32"
    assert sorted(p.name.rsplit("-", 1)[0] for p in cache.iterdir()) == [
        "model-sequence-classification-openvino",
        "model-sequence-classification-openvino-int8",
    ]
    monkeypatch.setattr(exporter_module, "calibration_texts", None)  # a second load reuses the cached graph
    again = load_for_inference(bbc_classifier, dtype="fp32", backend="openvino", quantize="int8", cache_dir=cache)
    assert again.folder == loaded.folder and again.quantized == "int8"


def test_an_int8_graph_that_does_not_hold_warns_on_every_load(
    bbc_classifier, tmp_path, monkeypatch, reference_predicts_otherwise
):
    from compactbert.inference import load_for_inference

    texts = list(TEXTS)
    monkeypatch.setattr(backends_module, "verification_texts", fixed_texts(texts))
    monkeypatch.setattr(exporter_module, "calibration_texts", fixed_texts(texts))
    cache = tmp_path / "cache"
    expected = r"the int8 graph of .* changed 100\.0% of the predictions .* on the texts: int8 does not hold"
    for _ in range(2):  # made, then read from the cache: the warning each time
        with pytest.warns(FailedExportWarning, match=expected):
            loaded = load_for_inference(bbc_classifier, backend="openvino", quantize="int8", cache_dir=cache)
        assert loaded.quantized == "int8" and loaded.export_info["verification"]["passed"] is False
    assert len(list(cache.iterdir())) == 1


def test_an_exported_folder_loads_as_what_it_holds(bbc_classifier, separated_int8, fp32_export):
    from compactbert.inference import load_for_inference

    folder = separated_int8
    int8 = load_for_inference(folder, backend="openvino", quantize="int8")
    assert int8.quantized == "int8" and int8.model is None
    assert load_for_inference(folder, backend="openvino").quantized == "int8"  # export.json says what it is
    with pytest.raises(
        ValueError, match=r"is an exported fp32 model; quantize='int8' needs an int8 export: `compactbert"
    ):
        load_for_inference(fp32_export, backend="openvino", quantize="int8")
    with pytest.raises(ValueError, match=r"unknown quantize 'int4'; expected None or one of \('int8',\)"):
        load_for_inference(bbc_classifier, backend="openvino", quantize="int4")


def test_a_fallback_calibration_warns_and_a_failed_quantization_leaves_nothing(bbc_classifier, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    shutil.copytree(bbc_classifier, folder)
    (folder / "metrics.json").write_text(json.dumps({"task": "no-such-owner/no-such-set-xyz"}))
    with pytest.warns(
        UserWarning, match="int8 calibration on 3 built-in BBC News articles \\(the task 'no-such-owner"
    ):
        result = export_model(folder, tmp_path / "int8", format="openvino", dtype="int8", calibration_samples=3,
                              verify=False)  # fmt: skip
    assert result.info["quantization"]["calibration"]["texts"] == 3

    def broken(folder, feeds, on, *rest):
        (folder / "int8_model.xml").write_text("half a graph")
        raise RuntimeError("the quantizer fell over")

    monkeypatch.setattr(exporter_module, "quantize_openvino", broken)
    with pytest.raises(RuntimeError, match="the quantizer fell over"):
        export_model(bbc_classifier, tmp_path / "out" / "int8", format="openvino", dtype="int8")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    from compactbert.inference import load_for_inference

    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="the quantizer fell over"):
        load_for_inference(bbc_classifier, backend="openvino", quantize="int8", cache_dir=cache)
    assert not cache.exists() or list(cache.iterdir()) == []  # no half-quantized graph is cached


def test_calibration_feeds_carry_every_input_the_graph_takes():
    from compactbert.export.quantize import encode_calibration

    names = ["input_ids", "attention_mask", "token_type_ids"]
    feeds = encode_calibration(make_tokenizer(), ["the film", "a dull film"], ["good", "bad"], names, max_length=16)
    assert [sorted(f) for f in feeds] == [sorted(names)] * 2
    assert feeds[0]["token_type_ids"].tolist() == [[0, 0, 0, 0, 1, 1]]  # [CLS] the film [SEP] good [SEP]
    assert all(v.dtype.name == "int64" and v.shape[0] == 1 for f in feeds for v in f.values())

    class NoTypes:  # a tokenizer without token_type_ids (DistilBERT's): the graph's input is zeros
        def __call__(self, text, pair=None, **kwargs):
            encoded = make_tokenizer()(text, pair, **kwargs)
            return {k: v for k, v in encoded.items() if k != "token_type_ids"}

    feed = encode_calibration(NoTypes(), ["the film"], None, names)[0]
    assert feed["token_type_ids"].tolist() == [[0, 0, 0, 0]] and feed["input_ids"].shape == (1, 4)


def test_nncf_quantizes_quietly_and_leaves_its_log_level_as_it_was(fp32_export, tmp_path, monkeypatch, capsys):
    """NNCF's progress bars and INFO lines are hidden while it quantizes, its warnings are not, and its log level is
    what it was afterwards; with NNCF's logger set below INFO (DEBUG, as docs/export.md says), NNCF shows them."""
    from compactbert.export.quantize import encode_calibration, graph_inputs, quantize_openvino, quiet_nncf

    nncf_logger = logging.getLogger("nncf")
    records = BufferingHandler(capacity=10_000)  # what NNCF logs, whichever stream its own handler writes to
    monkeypatch.setattr(nncf_logger, "handlers", [*nncf_logger.handlers, records])
    feeds = encode_calibration(make_tokenizer(), list(TEXTS), None, graph_inputs(fp32_export))

    def quantize(name):
        records.buffer.clear()
        folder = shutil.copytree(fp32_export, tmp_path / name)
        capsys.readouterr()
        quantize_openvino(folder, feeds, "the texts")
        printed = capsys.readouterr()
        return printed.out + printed.err, [r.levelname for r in records.buffer]

    level = nncf_logger.level
    printed, levels = quantize("quiet")
    assert "Statistics collection" not in printed and "Applying" not in printed and "nncf" not in printed
    assert "INFO" not in levels
    assert nncf_logger.level == level and nncf_logger.getEffectiveLevel() == logging.INFO  # NNCF's default
    with quiet_nncf():
        nncf_logger.warning("kept")
        nncf_logger.info("hidden")
    assert [r.getMessage() for r in records.buffer] == ["kept"]
    import rich

    with pytest.raises(RuntimeError, match="NNCF failed"), quiet_nncf():  # a quantization that fails midway
        raise RuntimeError("NNCF failed")
    assert nncf_logger.level == level and rich.get_console().quiet is False  # both put back all the same

    monkeypatch.chdir(tmp_path)  # at DEBUG, NNCF writes graphs to ./nncf_debug
    nncf_logger.setLevel(logging.DEBUG)  # a user asking for NNCF's detail
    try:
        printed, levels = quantize("detailed")
        assert nncf_logger.level == logging.DEBUG
    finally:
        nncf_logger.setLevel(level)
    assert "Statistics collection" in printed and "Applying Fast Bias correction" in printed and "INFO" in levels


def test_int8_errors_say_what_to_do(bbc_classifier, tmp_path, monkeypatch, capsys):
    assert main(["export", str(bbc_classifier), "--format", "openvino", "--calibration-samples", "8"]) == 2
    assert "--calibration-samples sets the texts an int8 quantization is calibrated on: add --dtype int8" in (
        capsys.readouterr().err
    )
    with pytest.raises(ValueError, match="calibration_samples must be >= 1, got 0"):
        export_model(bbc_classifier, tmp_path / "x", format="openvino", dtype="int8", calibration_samples=0)
    monkeypatch.setattr(formats_module, "missing_modules", lambda names: [n for n in names if n == "nncf"])
    with pytest.raises(
        MissingRuntimeError, match=r"quantizing to int8 for openvino needs nncf.*compactbert\[openvino\]"
    ):
        export_model(bbc_classifier, tmp_path / "x", format="openvino", dtype="int8")
    assert not (tmp_path / "x").exists()


def test_the_command_quantizes_and_says_on_what(bbc_classifier, tmp_path, monkeypatch, capsys):
    # verified on the texts the tiny head separates (above), so that the command passes
    for name in ("verification_texts", "calibration_texts"):
        monkeypatch.setattr(exporter_module, name, fixed_texts(TEXTS))
    out = tmp_path / "int8"
    argv = ["export", str(bbc_classifier), "--format", "openvino", "--dtype", "int8", "-o", str(out)]
    assert main([*argv, "--calibration-samples", "6", "--verify-samples", "8"]) == 0
    printed = capsys.readouterr().out
    assert "exporting " in printed and " to openvino (int8) ..." in printed
    assert "quantized to int8 with NNCF " in printed
    assert "calibrated on the texts" in printed
    assert "verified in int8 (the other operations in " in printed and ") against PyTorch fp32 on the texts" in printed
    assert f"predictions unchanged 100.0% of {min(8, len(TEXTS))}" in printed


def test_the_command_says_what_to_do_when_int8_changes_predictions(
    bbc_classifier, tmp_path, reference_predicts_otherwise, capsys
):
    out = tmp_path / "int8"
    argv = ["export", str(bbc_classifier), "--format", "openvino", "--dtype", "int8", "-o", str(out)]
    assert main([*argv, "--calibration-samples", "4", "--verify-samples", "8"]) == 1
    err = capsys.readouterr().err
    assert "verification failed: the rule is predictions unchanged on >= 99.5%" in err
    assert "int8 does not hold for every model (docs/speed.md#int8-on-openvino): export it with --dtype bf16" in err
