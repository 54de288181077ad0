"""ShrunkBert: its config (the provenance of the drop), heads identical to a hand-made BERT with the kept layers, and
save/load keeping the provenance. What every family keeps (registration, remote code, ...) is in test_family_contract."""

import copy
import json

import pytest
import torch
import transformers
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, BertConfig, pipeline

import compactbert
from compactbert import ShrunkBertConfig, save_model, shrink
from compactbert.models.shrunk_bert import AUTO_CLASSES

from support.helpers import TEXTS, make_bert, tiny_config


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


# ---------------------------------------------------------------- heads: identical to a hand-made BERT


def head_inputs(cls, batch):
    if "MultipleChoice" in cls.__name__:  # (batch, choices, seq)
        return {k: v.unsqueeze(1).repeat(1, 2, 1) for k, v in batch.items()}
    return dict(batch)


@pytest.mark.parametrize("shrunk_cls", AUTO_CLASSES.values(), ids=list(AUTO_CLASSES))
def test_shrunk_outputs_equal_a_hand_made_bert_with_the_same_layers(shrunk_cls, batch):
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


def test_a_bert_checkpoint_loads_as_a_shrunk_bert_keeping_every_layer_and_says_so(tmp_path):
    """Its config.json says model_type "bert"; that used to stay on the loaded config as an attribute."""
    make_bert(num_layers=3).save_pretrained(tmp_path)
    model = compactbert.ShrunkBertModel.from_pretrained(tmp_path)
    assert model.config.model_type == "shrunk_bert" and model.config.kept_layers == [0, 1, 2]
    model.save_pretrained(tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "config.json").read_text())["model_type"] == "shrunk_bert"
