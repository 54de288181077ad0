"""ShrunkBert config, registration with the Auto classes, heads, save/load and the remote-code path."""

import copy
import json
import os

import pytest
import torch
import transformers
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, BertConfig, pipeline

import compactbert
from compactbert import ShrunkBertConfig, save_model, shrink
from compactbert.models import register_family
from compactbert.models.shrunk_bert import AUTO_CLASSES

from helpers import TEXTS, make_bert, run_without_compactbert, tiny_config

HEAD_CLASSES = sorted(AUTO_CLASSES.items())


def shrunk_config(**overrides):
    fields = tiny_config(3).to_dict() | dict(kept_layers=[0, 5, 9], source_num_hidden_layers=12)
    fields.pop("model_type")
    return ShrunkBertConfig(**(fields | overrides))


# ---------------------------------------------------------------- config


def test_config_defaults_mean_nothing_dropped():
    config = ShrunkBertConfig(num_hidden_layers=4)
    assert config.kept_layers == [0, 1, 2, 3]
    assert config.source_num_hidden_layers == 4
    assert config.dropped_layers == []
    assert isinstance(config, BertConfig) and config.model_type == "shrunk_bert"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kept_layers": [0, 5]}, "kept_layers has 2 entries but num_hidden_layers is 3"),
        ({"kept_layers": [0, 5, 5]}, "unique"),
        ({"kept_layers": [0, 9, 5]}, "increasing"),
        ({"kept_layers": [0, 5, 12]}, r"\[0, 11\]"),
        ({"kept_layers": [-1, 5, 9]}, r"\[0, 11\]"),
        ({"layer_contributions": [0.5] * 3}, "one entry per source layer"),
    ],
)
def test_config_validates_provenance(overrides, message):
    with pytest.raises(ValueError, match=message):
        shrunk_config(**overrides)


def test_config_round_trips_through_json(tmp_path):
    config = shrunk_config(drop_strategy="explicit", source_model="org/src", layer_contributions=[0.9] * 12)
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["kept_layers"] == [0, 5, 9] and saved["model_type"] == "shrunk_bert"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is ShrunkBertConfig
    for key in ("kept_layers", "drop_strategy", "source_num_hidden_layers", "source_model", "layer_contributions"):
        assert getattr(loaded, key) == getattr(config, key)
    assert loaded.dropped_layers == [1, 2, 3, 4, 6, 7, 8, 10, 11]


def test_tampered_config_is_refused_on_load(tmp_path):
    shrunk_config().save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    saved["num_hidden_layers"] = 2  # the classic bug: fewer layers than kept_layers says
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="kept_layers has 3 entries"):
        AutoConfig.from_pretrained(tmp_path)


# ---------------------------------------------------------------- registration


@pytest.mark.parametrize(("auto_name", "cls"), HEAD_CLASSES)
def test_every_head_is_registered_with_its_auto_class(auto_name, cls):
    model = getattr(transformers, auto_name).from_config(shrunk_config())
    assert type(model) is cls
    assert isinstance(model, compactbert.ShrunkBertPreTrainedModel)
    assert model.config_class is ShrunkBertConfig and cls.base_model_prefix == "bert"


def test_auto_config_knows_the_model_type():
    assert type(AutoConfig.for_model("shrunk_bert", num_hidden_layers=2)) is ShrunkBertConfig
    assert "shrunk_bert" in compactbert.list_families()


def test_registry_refuses_clashes_and_accepts_the_same_family_twice():
    register_family(ShrunkBertConfig, dict(AUTO_CLASSES), tokenizer_class=transformers.BertTokenizer)  # no-op

    class Imposter(ShrunkBertConfig):
        pass

    with pytest.raises(ValueError, match="already registered by compactbert"):
        register_family(Imposter, {})

    class BertAgain(BertConfig):
        model_type = "bert"

    with pytest.raises(ValueError, match="already used by BertConfig"):
        register_family(BertAgain, {})


# ---------------------------------------------------------------- heads: identical to a hand-made BERT


def head_inputs(cls, batch):
    if "MultipleChoice" in cls.__name__:  # (batch, choices, seq)
        return {k: v.unsqueeze(1).repeat(1, 2, 1) for k, v in batch.items()}
    return dict(batch)


@pytest.mark.parametrize(("auto_name", "shrunk_cls"), HEAD_CLASSES)
def test_shrunk_outputs_equal_a_hand_made_bert_with_the_same_layers(auto_name, shrunk_cls, batch):
    bert_cls = next(b for b in shrunk_cls.__bases__ if b is not compactbert.ShrunkBertPreTrainedModel)
    source = make_bert(bert_cls)
    shrunk = shrink(source, "even-alternate", 4)
    assert type(shrunk) is shrunk_cls
    assert shrunk.config.kept_layers == [0, 1, 2, 3, 4, 6, 8, 10]

    hand = copy.deepcopy(source)
    encoder = hand.base_model.encoder
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in shrunk.config.kept_layers])
    hand.config.num_hidden_layers = 8

    inputs = head_inputs(shrunk_cls, batch)
    with torch.inference_mode():
        expected, got = hand(**inputs).to_tuple(), shrunk(**inputs).to_tuple()
    assert len(expected) == len(got) > 0
    for a, b in zip(expected, got, strict=True):
        assert torch.equal(a, b)  # to the last bit


def test_head_returns_loss_with_labels(batch):
    model = shrink(make_bert(transformers.BertForSequenceClassification, num_labels=3), "top", 6)
    out = model(**batch, labels=torch.tensor([0, 1, 2, 1]))
    assert out.loss is not None and out.loss.ndim == 0 and out.logits.shape == (4, 3)


# ---------------------------------------------------------------- save / load


@pytest.fixture
def saved_classifier(tmp_path, tokenizer):
    source = make_bert(
        transformers.BertForSequenceClassification, id2label={0: "negative", 1: "positive"}, label2id=None
    )
    model = shrink(source, "symmetric", 4)
    folder = save_model(model, tmp_path / "clf", tokenizer=tokenizer)
    return model, folder


def test_save_writes_safetensors_remote_code_and_auto_map(saved_classifier):
    _, folder = saved_classifier
    names = set(os.listdir(folder))
    assert {"model.safetensors", "config.json", "configuration_shrunk_bert.py", "modeling_shrunk_bert.py"} <= names
    assert not any(name.endswith((".bin", ".pt", ".pth")) for name in names)
    auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
    assert auto_map["AutoConfig"] == "configuration_shrunk_bert.ShrunkBertConfig"
    assert set(auto_map) == {"AutoConfig", *AUTO_CLASSES}


def test_round_trip_keeps_provenance_and_outputs(saved_classifier, batch):
    model, folder = saved_classifier
    loaded = AutoModelForSequenceClassification.from_pretrained(folder)
    assert type(loaded) is compactbert.ShrunkBertForSequenceClassification
    assert loaded.config.kept_layers == model.config.kept_layers == [0, 1, 2, 3, 8, 9, 10, 11]
    assert loaded.config.drop_strategy == "symmetric" and loaded.config.source_num_hidden_layers == 12
    with torch.inference_mode():
        assert torch.equal(loaded(**batch).logits, model(**batch).logits)
    base = AutoModel.from_pretrained(folder)  # the encoder alone, from a classifier checkpoint
    assert type(base) is compactbert.ShrunkBertModel
    with torch.inference_mode():
        assert torch.equal(base(**batch).last_hidden_state, model.bert(**batch).last_hidden_state)


def test_text_classification_pipeline_loads_the_saved_folder(saved_classifier):
    model, folder = saved_classifier
    classify = pipeline("text-classification", model=str(folder))
    results = classify(TEXTS)
    assert [r["label"] for r in results] == [
        model.config.id2label[int(i)]
        for i in model(**classify.tokenizer(TEXTS, padding=True, return_tensors="pt")).logits.argmax(-1)
    ]
    assert all(r["label"] in {"negative", "positive"} for r in results)


REMOTE_BODY = """
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

model = AutoModelForSequenceClassification.from_pretrained(args[0], trust_remote_code=True)
base = AutoModel.from_pretrained(args[0], trust_remote_code=True)
batch = AutoTokenizer.from_pretrained(args[0])(args[1:], padding=True, return_tensors="pt")
with torch.inference_mode():
    result = {
        "logits": model(**batch).logits,
        "hidden": base(**batch).last_hidden_state,
        "class": type(model).__name__,
        "module": type(model).__module__,
        "kept": model.config.kept_layers,
    }
"""


def test_remote_code_loads_without_compactbert(saved_classifier, tmp_path, batch):
    model, folder = saved_classifier
    got = run_without_compactbert(REMOTE_BODY, tmp_path, str(folder), *TEXTS, env={"HF_HUB_OFFLINE": "1"})
    assert got["class"] == "ShrunkBertForSequenceClassification"
    assert got["module"].startswith("transformers_modules")  # the copied code, not compactbert
    assert got["kept"] == model.config.kept_layers
    with torch.inference_mode():
        assert torch.equal(got["logits"], model(**batch).logits)
        assert torch.equal(got["hidden"], model.bert(**batch).last_hidden_state)
