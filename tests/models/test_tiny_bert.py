"""TinyBert: its config, the projections to the teacher's width (frozen unless distilling), its heads on a TinyBertModel,
and save/load keeping the projections. What every family keeps (registration, remote code, ...) is in
test_family_contract."""

import inspect
import json

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, BertConfig

import compactbert
from compactbert import TinyBertConfig, TinyBertModel, save_model, tiny_bert_config_for
from compactbert.models.tiny_bert import AUTO_CLASSES

from support.helpers import VOCAB

FIT = 48  # a teacher width different from the student's 32


def tiny(**overrides) -> TinyBertConfig:
    fields = dict(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        fit_size=FIT,
    )
    return TinyBertConfig(**(fields | overrides))


def make(cls, seed=0, **overrides):
    torch.manual_seed(seed)
    return cls(tiny(**overrides)).eval()


# ---------------------------------------------------------------- config


def test_default_config_is_tinybert_4():
    config = TinyBertConfig()
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size, config.num_attention_heads) == (
        4,
        312,
        1200,
        12,
    )
    assert config.vocab_size == 30522 and config.fit_size == 768 and config.fit_projection == "shared"
    assert isinstance(config, BertConfig) and config.model_type == "tiny_bert"


def test_default_parameter_count_is_the_papers_14_5m():
    """Counted on the meta device (no memory); checked against the count written out by hand."""
    embeddings = 30522 * 312 + 512 * 312 + 2 * 312 + 2 * 312  # words, positions, token types, LayerNorm
    layer = 4 * (312 * 312 + 312) + 2 * 312 + (312 * 1200 + 1200) + (1200 * 312 + 312) + 2 * 312
    pooler = 312 * 312 + 312
    fit = 312 * 768 + 768
    with torch.device("meta"):
        shared = TinyBertModel(TinyBertConfig())
        per_layer = TinyBertModel(TinyBertConfig(fit_projection="per-layer"))
    encoder = sum(p.numel() for name, p in shared.named_parameters() if not name.startswith("fit_dense"))
    assert encoder == embeddings + 4 * layer + pooler == 14_350_248  # the paper's "14.5M": without projection
    assert shared.num_parameters() == encoder + fit == 14_590_632  # with the one shared projection
    assert per_layer.num_parameters() == encoder + 5 * fit


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"hidden_size": 30, "num_attention_heads": 4},
            r"hidden_size \(30\) must be divisible by num_attention_heads \(4\)",
        ),
        ({"fit_projection": "each"}, "unknown fit_projection 'each'; choose one of: shared, per-layer, none"),
        ({"fit_projection": "none"}, "fit_projection='none' needs fit_size == hidden_size"),
        ({"fit_size": 0}, "fit_size must be a positive integer, got 0"),
        ({"num_hidden_layers": 0}, "num_hidden_layers must be a positive integer"),
    ],
)
def test_config_validates(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny(**overrides)


def test_config_round_trips_through_json(tmp_path):
    config = tiny(fit_projection="per-layer", teacher_model="org/teacher")
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "tiny_bert" and saved["fit_size"] == FIT and saved["fit_projection"] == "per-layer"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is TinyBertConfig
    assert loaded.to_diff_dict() | {"_name_or_path": ""} == config.to_diff_dict() | {"_name_or_path": ""}
    assert (loaded.fit_size, loaded.fit_projection, loaded.teacher_model) == (FIT, "per-layer", "org/teacher")


def test_config_for_a_teacher_takes_its_vocabulary_and_width():
    teacher = BertConfig(vocab_size=1000, hidden_size=384, max_position_embeddings=128, type_vocab_size=3)
    teacher._name_or_path = "org/minilm-finetuned"
    config = tiny_bert_config_for(teacher, num_hidden_layers=2, intermediate_size=600)
    assert (config.vocab_size, config.max_position_embeddings, config.type_vocab_size) == (1000, 128, 3)
    assert config.fit_size == 384 and config.teacher_model == "org/minilm-finetuned"
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (2, 312, 600)
    assert tiny_bert_config_for(teacher, hidden_size=384, fit_projection="none").fit_projection == "none"


# ---------------------------------------------------------------- registration


@pytest.mark.parametrize("cls", AUTO_CLASSES.values(), ids=list(AUTO_CLASSES))
def test_every_head_runs_a_tiny_bert_encoder_with_its_projection(cls):
    model = make(cls)
    assert type(model.base_model) is TinyBertModel  # not the BertModel transformers' head builds
    assert isinstance(model.base_model.fit_dense, torch.nn.Linear)


# ---------------------------------------------------------------- projections


def test_shared_projection_maps_every_state_with_one_linear(batch):
    model = make(compactbert.TinyBertForSequenceClassification)
    hidden = model(**batch, output_hidden_states=True).hidden_states
    assert len(hidden) == 4  # embedding output + 3 layers
    projected = model.project_to_teacher(hidden)
    fit = model.bert.fit_dense
    assert isinstance(fit, torch.nn.Linear) and (fit.in_features, fit.out_features) == (32, FIT)
    assert len(projected) == 4
    for h, p in zip(hidden, projected, strict=True):
        assert p.shape == (*h.shape[:2], FIT)
        assert torch.allclose(p, h @ fit.weight.T + fit.bias)
    assert fit.weight.std() < 0.05  # BERT's N(0, 0.02) initialisation, not PyTorch's default


def test_per_layer_projections_are_distinct_and_need_every_state(batch):
    model = make(TinyBertModel, fit_projection="per-layer")
    assert len(model.fit_dense) == 4
    hidden = model(**batch, output_hidden_states=True).hidden_states
    same = (hidden[1],) * 4  # the same tensor through each projection gives four different results
    projected = model.project_to_teacher(same)
    for i, p in enumerate(projected):
        assert torch.allclose(p, model.fit_dense[i](hidden[1]))
    assert not torch.allclose(projected[0], projected[1])
    with pytest.raises(ValueError, match=r"every layer's output \(4 tensors.*got 2"):
        model.project_to_teacher(hidden[:2])


def test_no_projection_returns_the_states_unchanged(batch):
    model = make(TinyBertModel, fit_projection="none", fit_size=32)
    assert not hasattr(model, "fit_dense")
    hidden = model(**batch, output_hidden_states=True).hidden_states
    assert all(a is b for a, b in zip(model.project_to_teacher(hidden), hidden, strict=True))


def projection_parameters(model) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if ".fit_dense" in f".{n}"}


@pytest.mark.parametrize("projection", ["shared", "per-layer"])
def test_projection_is_frozen_until_a_distiller_trains_it_through_the_head(batch, projection):
    model = make(compactbert.TinyBertForMaskedLM, fit_projection=projection).train()
    assert projection_parameters(model) and not any(p.requires_grad for p in projection_parameters(model).values())

    def projection_loss():
        hidden = model(**batch, output_hidden_states=True).hidden_states
        target = torch.randn(*hidden[0].shape[:2], FIT, generator=torch.Generator().manual_seed(0))
        return sum(((p - target) ** 2).mean() for p in model.project_to_teacher(hidden))

    with pytest.warns(UserWarning, match="projection to the teacher's width is frozen"):
        projection_loss().backward()  # a distiller that forgot to turn it on is told
    assert all(p.grad is None for p in projection_parameters(model).values())

    model.zero_grad()
    model.set_projection_trainable()
    projection_loss().backward()
    for name, param in projection_parameters(model).items():
        assert param.requires_grad and param.grad is not None and param.grad.abs().sum() > 0, name
    assert model.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    model.set_projection_trainable(False)
    assert not any(p.requires_grad for p in projection_parameters(model).values())


def test_fine_tuning_leaves_the_projection_out_and_a_loaded_model_has_it_frozen(batch, tmp_path):
    """So DDP fine-tuning needs no find_unused_parameters: every trainable parameter gets a gradient."""
    model = make(compactbert.TinyBertForSequenceClassification).train()
    model.set_projection_trainable()  # as a distillation left it
    model.save_pretrained(tmp_path)
    loaded, info = compactbert.TinyBertForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert not any(p.requires_grad for p in projection_parameters(loaded).values())
    assert not any(p.requires_grad for p in projection_parameters(AutoModel.from_pretrained(tmp_path)).values())
    loaded.train()(**batch, labels=torch.tensor([0, 1, 1, 0])).loss.backward()
    assert [n for n, p in loaded.named_parameters() if p.requires_grad and p.grad is None] == []


# ---------------------------------------------------------------- heads


def test_every_head_returns_a_loss_with_labels(batch):
    ids, labels = batch["input_ids"], batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    base = make(TinyBertModel)
    assert base(**batch).last_hidden_state.shape == (*ids.shape, 32)

    clf = make(compactbert.TinyBertForSequenceClassification, num_labels=3)
    out = clf(**batch, labels=torch.tensor([0, 1, 2, 1]))
    assert out.loss.ndim == 0 and out.logits.shape == (4, 3)
    assert torch.allclose(out.loss, torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1, 2, 1])))

    mlm = make(compactbert.TinyBertForMaskedLM)
    assert mlm.cls.predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight  # tied to the new base
    out = mlm(**batch, labels=labels)
    assert out.loss.ndim == 0 and out.logits.shape == (*ids.shape, len(VOCAB))

    pre = make(compactbert.TinyBertForPreTraining)
    assert pre.cls.predictions.decoder.weight is pre.bert.embeddings.word_embeddings.weight
    both = pre(**batch, labels=labels, next_sentence_label=torch.tensor([0, 1, 0, 1]))
    mlm_only = pre(**batch, labels=labels, output_hidden_states=True)
    logits = mlm_only.prediction_logits
    expected = torch.nn.functional.cross_entropy(logits.view(-1, len(VOCAB)), labels.view(-1))
    assert torch.allclose(mlm_only.loss, expected)
    assert both.loss > mlm_only.loss  # the next-sentence loss is added when its labels are given
    assert len(mlm_only.hidden_states) == 4
    assert torch.equal(pre(**batch, labels=labels, return_dict=False)[0], mlm_only.loss)  # loss first in tuples
    for model in (base, clf, mlm, pre):  # the Trainer keeps only the dataset columns that forward() names
        assert {"input_ids", "attention_mask", "token_type_ids"} <= set(inspect.signature(model.forward).parameters)


# ---------------------------------------------------------------- save / load


@pytest.fixture
def saved_classifier(tmp_path, tokenizer):
    model = make(
        compactbert.TinyBertForSequenceClassification,
        fit_projection="per-layer",
        id2label={0: "negative", 1: "positive"},
        teacher_model="org/teacher",
    )
    return model, save_model(model, tmp_path / "clf", tokenizer=tokenizer)


def test_round_trip_keeps_outputs_and_projections(saved_classifier, batch):
    model, folder = saved_classifier
    loaded = AutoModelForSequenceClassification.from_pretrained(folder)
    assert type(loaded) is compactbert.TinyBertForSequenceClassification
    assert loaded.config.teacher_model == "org/teacher" and loaded.config.fit_projection == "per-layer"
    assert loaded.state_dict().keys() == model.state_dict().keys()
    with torch.inference_mode():
        assert torch.equal(loaded(**batch).logits, model(**batch).logits)
        hidden = model(**batch, output_hidden_states=True).hidden_states
        for a, b in zip(loaded.project_to_teacher(hidden), model.project_to_teacher(hidden), strict=True):
            assert torch.equal(a, b)
    base = AutoModel.from_pretrained(folder)  # the encoder alone, projections included
    assert type(base) is TinyBertModel
    assert torch.equal(base.fit_dense[2].weight, model.bert.fit_dense[2].weight)


def test_a_bert_checkpoint_loads_as_a_tiny_bert_and_says_so(tmp_path):
    """Its config.json says model_type "bert"; that used to stay on the loaded config as an attribute."""
    BertConfig(**{k: v for k, v in tiny().to_dict().items() if k in BertConfig().to_dict()}).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "bert"
    assert TinyBertConfig.from_pretrained(tmp_path).model_type == "tiny_bert"
