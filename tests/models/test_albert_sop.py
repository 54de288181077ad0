"""Albert-SOP: config, sharing modes (against transformers' ALBERT), the paper's parameter counts, heads on the
sharing-aware encoder, the pretraining losses, loading transformers `albert` checkpoints, and save/load keeping the
sharing. What every family keeps (registration, remote code, ...) is in test_family_contract."""

import json

import pytest
import torch
import transformers
from transformers import AlbertConfig, AlbertForPreTraining, AlbertModel, AutoConfig, AutoModel

import compactbert
from compactbert import AlbertSopConfig, AlbertSopForPreTraining, AlbertSopModel, save_model
from compactbert.models.albert_sop import AUTO_CLASSES, SHARING_MODES

from support.helpers import VOCAB

TINY = dict(
    vocab_size=len(VOCAB),
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=3,
    num_attention_heads=2,
    intermediate_size=37,
    max_position_embeddings=64,
)


def tiny(**overrides) -> AlbertSopConfig:
    return AlbertSopConfig(**(TINY | overrides))


def make(cls, seed=0, **overrides):
    torch.manual_seed(seed)
    return cls(tiny(**overrides)).eval()


# ---------------------------------------------------------------- config


def test_config_defaults_are_albert_base():
    config = AlbertSopConfig()
    assert config.model_type == "albert_sop" and isinstance(config, AlbertConfig)
    assert (config.sharing, config.sentence_objective) == ("all", "sop")
    assert (config.embedding_size, config.hidden_size, config.num_hidden_layers) == (128, 768, 12)
    assert (config.num_attention_heads, config.intermediate_size, config.vocab_size) == (12, 3072, 30000)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sharing": "layers"}, r"unknown sharing 'layers'; choose one of: all, attention, ffn, none"),
        ({"sentence_objective": "nsp2"}, r"unknown sentence_objective 'nsp2'; choose one of: sop, nsp"),
        ({"num_hidden_groups": 2}, "num_hidden_groups=2 .* choose what the layers share with sharing="),
        ({"inner_group_num": 2}, "inner_group_num=2"),
        ({"hidden_size": 33}, r"hidden_size \(33\) must be a multiple of num_attention_heads \(2\)"),
    ],
)
def test_config_refuses_bad_fields(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny(**overrides)


def test_config_round_trips_and_is_registered(tmp_path):
    tiny(sharing="ffn", sentence_objective="nsp").save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (saved["model_type"], saved["sharing"], saved["sentence_objective"]) == ("albert_sop", "ffn", "nsp")
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is AlbertSopConfig and (loaded.sharing, loaded.sentence_objective) == ("ffn", "nsp")
    assert "albert_sop" in compactbert.list_families()


# ---------------------------------------------------------------- parameter counts: the paper's Table 4 / 3

# ALBERT paper, base models (L=12, H=768, V=30000): parameters in millions by embedding size and sharing
PAPER_PARAMETERS = {
    (128, "all"): 12,
    (128, "attention"): 64,
    (128, "ffn"): 38,
    (128, "none"): 89,
    (768, "all"): 31,
    (768, "attention"): 83,
    (768, "ffn"): 57,
    (768, "none"): 108,
}


@pytest.mark.parametrize(("embedding_size", "sharing"), sorted(PAPER_PARAMETERS))
def test_base_parameter_counts_match_the_paper_within_3_percent(embedding_size, sharing):
    with torch.device("meta"):  # shapes only: no memory, no init time
        model = AlbertSopModel(AlbertSopConfig(embedding_size=embedding_size, sharing=sharing))
    count = sum(p.numel() for p in model.parameters())
    paper = PAPER_PARAMETERS[embedding_size, sharing] * 1e6
    assert abs(count - paper) / paper <= 0.03, f"{count / 1e6:.2f}M vs paper {paper / 1e6:.0f}M"


def test_sharing_stores_each_block_once():
    per_mode = {s: make(AlbertSopModel, sharing=s) for s in SHARING_MODES}
    layer = per_mode["all"].encoder.albert_layer_groups[0].albert_layers[0]
    attention = sum(p.numel() for p in layer.attention.parameters())
    ffn = sum(p.numel() for p in layer.parameters()) - attention
    counts = {s: m.num_parameters() for s, m in per_mode.items()}
    extra_layers = TINY["num_hidden_layers"] - 1
    assert counts["attention"] == counts["all"] + extra_layers * ffn
    assert counts["ffn"] == counts["all"] + extra_layers * attention
    assert counts["none"] == counts["all"] + extra_layers * (attention + ffn)
    keys = per_mode["attention"].state_dict().keys()
    assert not any(k.startswith("encoder.albert_layer_groups.1.albert_layers.0.attention") for k in keys)
    assert "encoder.albert_layer_groups.2.albert_layers.0.ffn.weight" in keys


# ---------------------------------------------------------------- sharing modes against transformers' ALBERT


def transformers_equivalent(model: AlbertSopModel) -> AlbertModel:
    """A transformers AlbertModel with one group per layer, every layer filled from what `model` shares."""
    config = AlbertConfig(**TINY, num_hidden_groups=TINY["num_hidden_layers"])
    reference = AlbertModel(config).eval()
    groups = model.encoder.albert_layer_groups
    with torch.no_grad():
        for name, tensor in reference.state_dict().items():
            if ".albert_layer_groups." not in name:
                tensor.copy_(model.state_dict()[name])
                continue
            i = int(name.split(".albert_layer_groups.")[1].split(".")[0])
            local = name.split(".albert_layers.0.")[1]
            owner = groups[0] if len(groups) == 1 else groups[i]
            layer = owner.albert_layers[0]
            shared = (local.startswith("attention.") and not layer.own_attention) or (
                not local.startswith("attention.") and not layer.own_ffn
            )
            tensor.copy_((groups[0] if shared else owner).albert_layers[0].state_dict()[local])
    return reference


@pytest.mark.parametrize("sharing", SHARING_MODES)
def test_each_sharing_mode_equals_transformers_albert_with_those_weights_repeated(sharing, batch):
    model = make(AlbertSopModel, sharing=sharing)
    reference = transformers_equivalent(model)
    with torch.inference_mode():
        got, expected = model(**batch), reference(**batch)
    assert torch.equal(got.last_hidden_state, expected.last_hidden_state)
    assert torch.equal(got.pooler_output, expected.pooler_output)


@pytest.mark.parametrize("sharing", SHARING_MODES)
def test_every_layer_reports_hidden_states_and_attentions(sharing, batch):
    model = make(AlbertSopModel, sharing=sharing, attn_implementation="eager")
    with torch.inference_mode():
        out = model(**batch, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == TINY["num_hidden_layers"] + 1
    assert len(out.attentions) == TINY["num_hidden_layers"]


@pytest.mark.parametrize("sharing", ["attention", "ffn"])
def test_a_shared_block_gets_the_sum_of_every_layers_gradient(sharing, batch):
    model = make(AlbertSopModel, sharing=sharing)
    reference = transformers_equivalent(model)
    weights = torch.randn(model(**batch).last_hidden_state.shape, generator=torch.Generator().manual_seed(0))
    for m in (model, reference):
        (m(**batch).last_hidden_state * weights).sum().backward()
    name = "attention.query.weight" if sharing == "attention" else "ffn.weight"
    shared = model.encoder.albert_layer_groups[0].albert_layers[0].get_parameter(name).grad
    per_layer = [group.albert_layers[0].get_parameter(name).grad for group in reference.encoder.albert_layer_groups]
    assert shared.abs().sum() > 0 and all(g.abs().sum() > 0 for g in per_layer)
    assert torch.allclose(shared, sum(per_layer), atol=1e-6)


# ---------------------------------------------------------------- loading transformers `albert` checkpoints


@pytest.mark.parametrize(
    ("albert_cls", "sop_cls"), [(AlbertForPreTraining, AlbertSopForPreTraining), (AlbertModel, AlbertSopModel)]
)
def test_albert_checkpoint_loads_into_sharing_all_with_identical_outputs(tmp_path, batch, albert_cls, sop_cls):
    torch.manual_seed(3)
    albert = albert_cls(AlbertConfig(**TINY)).eval()
    albert.save_pretrained(tmp_path)  # model_type "albert", keys albert.* / predictions.* / sop_classifier.*
    loaded = sop_cls.from_pretrained(tmp_path).eval()
    assert loaded.config.model_type == "albert_sop" and loaded.config.sharing == "all"
    with torch.inference_mode():
        expected, got = albert(**batch).to_tuple(), loaded(**batch).to_tuple()
    assert len(got) >= len(expected) > 0
    for a, b in zip(expected, got, strict=False):
        assert torch.equal(a, b)


def test_a_bert_checkpoint_is_refused_pointing_to_the_conversion(tmp_path):
    """transformers would fail on the shapes, then (with its suggested ignore_mismatched_sizes=True) load an ALBERT
    of random weights; a BERT becomes an Albert-SOP by albert_from_bert."""
    size = {k: TINY[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads")}
    transformers.BertModel(transformers.BertConfig(**size, intermediate_size=64)).save_pretrained(tmp_path)
    for extra in ({}, {"ignore_mismatched_sizes": True}):
        with pytest.raises(ValueError, match=r"a 'bert' model's config is not an ALBERT's.*albert_from_bert\(folder"):
            AlbertSopModel.from_pretrained(tmp_path, **extra)
    with pytest.raises(ValueError, match="`compactbert albert FOLDER --output DIR`"):
        AlbertSopConfig.from_pretrained(tmp_path)


# ---------------------------------------------------------------- heads


@pytest.mark.parametrize("cls", AUTO_CLASSES.values(), ids=list(AUTO_CLASSES))
def test_every_head_runs_the_sharing_aware_encoder(cls):
    model = make(cls, sharing="ffn")
    assert type(model.base_model) is AlbertSopModel  # not the AlbertModel transformers' head builds
    assert type(model.base_model.encoder).__name__ == "AlbertSopTransformer"
    assert len(model.base_model.encoder.albert_layer_groups) == TINY["num_hidden_layers"]


def test_pretraining_loss_is_mlm_plus_sentence_loss(batch):
    model = make(AlbertSopForPreTraining, sharing="none")
    labels = torch.where(batch["attention_mask"].bool(), batch["input_ids"], -100)
    labels[:, ::2] = -100
    sentence = torch.tensor([0, 1, 1, 0])
    out = model(**batch, labels=labels, sentence_label=sentence)
    assert isinstance(out, compactbert.AlbertSopForPreTrainingOutput)
    mlm = torch.nn.functional.cross_entropy(out.prediction_logits.flatten(0, 1), labels.flatten())
    assert torch.allclose(out.mlm_loss, mlm) and torch.allclose(
        out.sentence_loss, torch.nn.functional.cross_entropy(out.sop_logits, sentence)
    )
    assert torch.allclose(out.loss, out.mlm_loss + out.sentence_loss)
    # transformers' name for the sentence label, and logits only at the targets: the same losses
    sparse = model(**batch, labels=labels, sentence_order_label=sentence, logits_at_targets_only=True)
    assert sparse.prediction_logits.shape == ((labels != -100).sum(), len(VOCAB))
    assert torch.allclose(sparse.mlm_loss, out.mlm_loss) and torch.allclose(sparse.loss, out.loss)
    assert torch.allclose(model(**batch, labels=labels).loss, out.mlm_loss)
    assert torch.allclose(model(**batch, sentence_label=sentence).loss, out.sentence_loss)
    assert model(**batch).loss is None


# ---------------------------------------------------------------- save / load / remote code


@pytest.fixture
def saved_classifier(tmp_path, tokenizer):
    model = make(
        compactbert.AlbertSopForSequenceClassification, sharing="attention", sentence_objective="nsp", num_labels=3
    )
    return model, save_model(model, tmp_path / "clf", tokenizer=tokenizer)


def test_round_trip_keeps_the_sharing_and_objective(saved_classifier, batch):
    model, folder = saved_classifier
    loaded = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    assert type(loaded) is compactbert.AlbertSopForSequenceClassification
    assert (loaded.config.sharing, loaded.config.sentence_objective) == ("attention", "nsp")
    assert loaded.state_dict().keys() == model.state_dict().keys()  # each shared block stored once, as saved
    base = AutoModel.from_pretrained(folder)
    with torch.inference_mode():
        assert torch.equal(loaded(**batch).logits, model(**batch).logits)
        assert torch.equal(base(**batch).last_hidden_state, model.albert(**batch).last_hidden_state)
