"""compactbert.export's graphs: every family and head, to ONNX and OpenVINO, equal to PyTorch (fp32) at batch sizes and
lengths other than the ones the graph was captured with."""

import json
import logging

import numpy as np
import pytest
import torch
import transformers
from transformers import AutoConfig, AutoTokenizer

from compactbert.export import EXPORT_TASKS, FORMATS, open_session
from compactbert.export.exporter import torch_outputs, write_export
from compactbert.export.graph import (
    EXAMPLE_LENGTH,
    ONNX_REGISTRY_LOGGER,
    model_input_names,
    quiet_torchvision_notices,
)
from compactbert.models import FAMILIES

from support.helpers import TEXTS, VOCAB, WORDS

TINY = dict(
    vocab_size=len(VOCAB),
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=37,
    max_position_embeddings=64,
    num_labels=3,
    initializer_range=0.2,  # outputs that differ from text to text, so equality has teeth
)
ATOL = 1e-4  # fp32 graphs: the runtimes reorder sums, nothing more
LONG_TEXT = " ".join(WORDS[:40])  # 42 tokens: longer than the 16-token example the graph was captured on
# batch sizes and lengths the graphs were not captured with (the capture: 2 texts padded to 16 tokens)
SHAPES = {"one text, no padding": TEXTS[:1], "four, padded": TEXTS, "nine, one long": [*TEXTS, *TEXTS, LONG_TEXT]}

BERT_HEADS = {
    "AutoModel": transformers.BertModel,
    "AutoModelForSequenceClassification": transformers.BertForSequenceClassification,
    "AutoModelForTokenClassification": transformers.BertForTokenClassification,
    "AutoModelForQuestionAnswering": transformers.BertForQuestionAnswering,
}


def heads_of(family: str) -> dict[str, type]:
    return BERT_HEADS if family == "bert" else FAMILIES[family].auto_classes()


def build(family: str, task: str, seed: int = 0):
    """A tiny random model of `family` with the head of `task`."""
    cls = heads_of(family)[EXPORT_TASKS[task].auto_class]
    fields = TINY | ({"num_labels": 2} if task == "question-answering" else {})  # a start and an end logit
    config = transformers.BertConfig(**fields) if family == "bert" else FAMILIES[family].config_class()(**fields)
    torch.manual_seed(seed)
    return cls(config).eval()


FAMILY_NAMES = [*sorted(FAMILIES), "bert"]
OTHER_TASKS = [t for t in EXPORT_TASKS if t != "sequence-classification"]
# every family to both formats as a classifier; every other head each family has to OpenVINO, and to ONNX on BERT
CASES = [(family, "sequence-classification", fmt) for family in FAMILY_NAMES for fmt in FORMATS]
CASES += [
    (family, task, "openvino")
    for family in FAMILY_NAMES
    for task in OTHER_TASKS
    if EXPORT_TASKS[task].auto_class in heads_of(family)
]
CASES += [("bert", task, "onnx") for task in OTHER_TASKS]


def test_every_family_has_a_classifier_and_an_encoder_to_export():
    for family in FAMILY_NAMES:
        assert {"AutoModel", "AutoModelForSequenceClassification"} <= set(heads_of(family)), family
    assert {(f, fmt) for f, t, fmt in CASES if t == "sequence-classification"} == {
        (f, fmt) for f in FAMILY_NAMES for fmt in ("onnx", "openvino")
    }
    assert {f for f, t, _ in CASES if t == "question-answering"} == {"shrunk_bert", "albert_sop", "bert"}


@pytest.mark.parametrize(("family", "task", "fmt"), CASES, ids=["-".join(case) for case in CASES])
def test_exported_graph_equals_pytorch_at_new_shapes(family, task, fmt, tmp_path, tokenizer):
    model = build(family, task)
    info = write_export(model, tokenizer, tmp_path, fmt, "fp32", task, f"tiny {family}")
    session = open_session(tmp_path)
    expected_outputs = list(EXPORT_TASKS[task].outputs)
    if task == "base" and getattr(model, "pooler", None) is None:
        expected_outputs.remove("pooler_output")
    assert info["outputs"] == session.output_names == expected_outputs
    assert info["inputs"] == session.input_names == ["input_ids", "attention_mask", "token_type_ids"]
    assert session.runtime == FORMATS[fmt].runtime and session.dtype == "fp32"
    for what, texts in SHAPES.items():
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        reference = torch_outputs(model, task, dict(batch))
        got = session.run({name: value.numpy() for name, value in batch.items()})
        for name, value in reference.items():
            assert got[name].shape == value.shape, (what, name)
            np.testing.assert_allclose(got[name], value, rtol=0, atol=ATOL, err_msg=f"{what}: {name}")
            if len(texts) > 1:  # the outputs tell the texts apart, so a graph that ignored its input would fail
                assert np.abs(value[0] - value[1]).max() > 100 * ATOL, (what, name)
    assert max(len(ids) for ids in tokenizer(SHAPES["nine, one long"])["input_ids"]) > EXAMPLE_LENGTH
    # the folder holds the config (with the head's labels) and the tokenizer next to the graph
    assert AutoConfig.from_pretrained(tmp_path).num_labels == model.config.num_labels
    assert AutoTokenizer.from_pretrained(tmp_path)(TEXTS[0])["input_ids"] == tokenizer(TEXTS[0])["input_ids"]
    assert json.loads((tmp_path / "export.json").read_text())["verification"] is None
    assert sorted(info["files"]) == sorted(p.name for p in tmp_path.iterdir() if p.name in FORMATS[fmt].files)


def test_onnx_export_drops_torchs_torchvision_notices_and_nothing_else(tmp_path, tokenizer, monkeypatch):
    """torch.onnx logs "torchvision is not installed. Skipping torchvision::nms" (roi_align, roi_pool, deform_conv2d)
    on every export where torchvision is missing, as compactbert's installs are: our export drops exactly those, and
    only while it runs."""
    import contextlib

    from compactbert.export import graph

    logger = logging.getLogger(ONNX_REGISTRY_LOGGER)
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logging.getLogger("torch.onnx").addHandler(handler)  # above the filtered logger: sees whatever passes it
    try:
        model = build("bert", "sequence-classification")
        with monkeypatch.context() as unfiltered:  # without the filter, the export does log them (to that logger)
            unfiltered.setattr(graph, "quiet_torchvision_notices", contextlib.nullcontext)
            (tmp_path / "noisy").mkdir()
            write_export(model, tokenizer, tmp_path / "noisy", "onnx", "fp32", "sequence-classification", "tiny")
        assert any(message.startswith("torchvision is not installed. Skipping torchvision::") for message in seen)
        seen.clear()
        (tmp_path / "quiet").mkdir()
        write_export(model, tokenizer, tmp_path / "quiet", "onnx", "fp32", "sequence-classification", "tiny")
        assert not any("torchvision" in message for message in seen)
        with quiet_torchvision_notices():
            logger.warning("torchvision is not installed. Skipping %s", "torchvision::nms")  # dropped
            logger.warning("'%s' does not have a 'default' overload. Ignoring.", "x::y")  # kept: another message
            logger.error("torchvision is not installed. Skipping torchvision::nms")  # kept: not a warning
        logger.warning("torchvision is not installed. Skipping %s", "torchvision::nms")  # kept: outside the export
    finally:
        logging.getLogger("torch.onnx").removeHandler(handler)
    assert seen == [
        "'x::y' does not have a 'default' overload. Ignoring.",
        "torchvision is not installed. Skipping torchvision::nms",
        "torchvision is not installed. Skipping torchvision::nms",
    ]
    assert not logger.filters


def test_a_model_without_token_type_ids_is_exported_with_the_inputs_it_takes(tmp_path, tokenizer):
    """DistilBERT takes no token_type_ids: the graph's inputs are the two it takes, and a feed with more is fine."""
    config = transformers.DistilBertConfig(vocab_size=len(VOCAB), dim=32, hidden_dim=37, n_layers=2, n_heads=2)
    torch.manual_seed(0)
    model = transformers.DistilBertModel(config).eval()
    assert model_input_names(model, tokenizer) == ["input_ids", "attention_mask"]
    info = write_export(model, tokenizer, tmp_path, "openvino", "fp32", "base", "distilbert")
    assert info["inputs"] == ["input_ids", "attention_mask"] and info["outputs"] == ["last_hidden_state"]
    batch = tokenizer(TEXTS, padding=True, return_tensors="np")
    got = open_session(tmp_path).run(dict(batch))  # token_type_ids too: ignored
    with torch.inference_mode():
        reference = model(
            input_ids=torch.from_numpy(batch["input_ids"]), attention_mask=torch.from_numpy(batch["attention_mask"])
        )
    np.testing.assert_allclose(got["last_hidden_state"], reference.last_hidden_state.numpy(), rtol=0, atol=ATOL)


def test_a_missing_token_type_ids_input_is_fed_as_zeros(tmp_path, tokenizer):
    model = build("shrunk_bert", "sequence-classification")
    write_export(model, tokenizer, tmp_path, "onnx", "fp32", "sequence-classification", "tiny")
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    del batch["token_type_ids"]
    got = open_session(tmp_path).run({name: value.numpy() for name, value in batch.items()})
    with torch.inference_mode():
        reference = model(**batch).logits.numpy()
    np.testing.assert_allclose(got["logits"], reference, rtol=0, atol=ATOL)


def test_write_export_refuses_what_it_cannot_write(tmp_path, tokenizer):
    model = build("tiny_bert", "sequence-classification")
    with pytest.raises(
        ValueError,
        match=r"onnx models run in fp32, int8, not 'bf16'; dtype='bf16' is an OpenVINO precision \(format='openvino'\)",
    ):
        write_export(model, tokenizer, tmp_path, "onnx", "bf16", "sequence-classification", "tiny")
    with pytest.raises(ValueError, match="unknown export format 'tflite'; choose one of: onnx, openvino"):
        write_export(model, tokenizer, tmp_path, "tflite", "fp32", "sequence-classification", "tiny")
    with pytest.raises(ValueError, match="unknown task 'ner'; choose one of: auto, sequence-classification"):
        write_export(model, tokenizer, tmp_path, "onnx", "fp32", "ner", "tiny")
    with pytest.raises(ValueError, match="export an fp32 model"):
        write_export(model.to(torch.bfloat16), tokenizer, tmp_path, "onnx", "fp32", "sequence-classification", "t")
    assert list(tmp_path.iterdir()) == []
