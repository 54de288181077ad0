"""albert_from_bert(): exact with E = H and no sharing, the SVD's tail energy with E < H, the init rules, every bad
input, and a converted model saved, reloaded and loaded as remote code."""

import json

import pytest
import torch
import transformers
from transformers import (
    BertForMaskedLM,
    BertForMultipleChoice,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
)

import compactbert
from compactbert.conversion import factorize_embeddings, shared_weights

from support.helpers import TEXTS, make_bert, make_tokenizer, run_without_compactbert, tiny_config

NUM_LAYERS = 3
HIDDEN = 32


def source_bert(cls=BertModel, **overrides):
    """A tiny random BERT whose LayerNorms have non-trivial scales and shifts (so getting them wrong shows)."""
    model = make_bert(cls, num_layers=NUM_LAYERS, **overrides)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name:
                parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model


def inputs(num_choices: int | None = None) -> dict:
    generator = torch.Generator().manual_seed(2)
    shape = (2, 9) if num_choices is None else (2, num_choices, 9)
    ids = torch.randint(5, tiny_config().vocab_size, shape, generator=generator)
    mask = torch.ones(shape, dtype=torch.long)
    mask[1, ..., 6:] = 0  # padding in the second example
    token_types = torch.zeros(shape, dtype=torch.long)
    token_types[..., 4:] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": token_types}


HEADS = [
    (BertModel, "AlbertSopModel", "last_hidden_state", {}),
    (BertForSequenceClassification, "AlbertSopForSequenceClassification", "logits", {"num_labels": 3}),
    (BertForTokenClassification, "AlbertSopForTokenClassification", "logits", {"num_labels": 4}),
    (BertForQuestionAnswering, "AlbertSopForQuestionAnswering", "start_logits", {}),
    (BertForMultipleChoice, "AlbertSopForMultipleChoice", "logits", {}),
]


@pytest.mark.parametrize(("cls", "albert_name", "output", "overrides"), HEADS, ids=[h[1] for h in HEADS])
def test_no_sharing_with_e_equal_to_h_reproduces_the_source(cls, albert_name, output, overrides):
    source = source_bert(cls, **overrides)
    albert = compactbert.albert_from_bert(source, embedding_size=HIDDEN, sharing="none")
    assert type(albert).__name__ == albert_name and not albert.training
    assert albert.config.embedding_reconstruction_error < 1e-12
    batch = inputs(num_choices=2 if cls is BertForMultipleChoice else None)
    with torch.inference_mode():
        expected, got = source(**batch, output_hidden_states=True), albert(**batch, output_hidden_states=True)
    torch.testing.assert_close(got[output], expected[output], atol=1e-5, rtol=0)
    assert len(got.hidden_states) == len(expected.hidden_states) == NUM_LAYERS + 1
    for mine, theirs in zip(got.hidden_states[1:], expected.hidden_states[1:], strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=0)
    if cls is BertModel:
        torch.testing.assert_close(got.pooler_output, expected.pooler_output, atol=1e-5, rtol=0)


def test_a_classifier_keeps_its_labels_and_a_shrunk_bert_converts_too():
    source = source_bert(BertForSequenceClassification, num_labels=2, id2label={0: "rotten", 1: "fresh"})
    shrunk = compactbert.shrink(source, keep=[0, 2])
    albert = compactbert.albert_from_bert(shrunk, embedding_size=HIDDEN, sharing="none")
    assert albert.config.id2label == {0: "rotten", 1: "fresh"} and albert.config.num_hidden_layers == 2
    with torch.inference_mode():
        torch.testing.assert_close(albert(**inputs()).logits, shrunk(**inputs()).logits, atol=1e-5, rtol=0)


def test_a_tiny_bert_converts_without_its_projection():
    from compactbert import TinyBertConfig, TinyBertForSequenceClassification

    torch.manual_seed(0)
    config = tiny_config(NUM_LAYERS).to_dict() | {"fit_size": 48}
    source = TinyBertForSequenceClassification(TinyBertConfig(**config)).eval()
    albert = compactbert.albert_from_bert(source, embedding_size=HIDDEN, sharing="none")
    assert not [name for name in albert.state_dict() if "fit_dense" in name]
    with torch.inference_mode():
        torch.testing.assert_close(albert(**inputs()).logits, source(**inputs()).logits, atol=1e-5, rtol=0)


def test_a_folder_source_is_read_and_named(tmp_path):
    source = source_bert(BertForSequenceClassification, num_labels=3)
    source.save_pretrained(tmp_path / "bert")
    albert = compactbert.albert_from_bert(tmp_path / "bert", embedding_size=HIDDEN, sharing="none")
    assert type(albert).__name__ == "AlbertSopForSequenceClassification"
    assert albert.config.source_model == str(tmp_path / "bert") and albert.config.shared_init is None
    with torch.inference_mode():
        torch.testing.assert_close(albert(**inputs()).logits, source(**inputs()).logits, atol=1e-5, rtol=0)


# ---------------------------------------------------------------- the factorised embedding with E < H


def centred_word_embeddings(source) -> torch.Tensor:
    word = source.embeddings.word_embeddings.weight.detach().double()
    return word - word.mean(dim=1, keepdim=True)


@pytest.mark.parametrize("embedding_size", [2, 8, 20])
def test_plain_svd_error_is_the_tail_energy_of_the_singular_values(embedding_size):
    source = source_bert()
    albert = compactbert.albert_from_bert(source, embedding_size=embedding_size, sharing="none")
    singular = torch.linalg.svdvals(centred_word_embeddings(source))
    kept = embedding_size - 1  # the E-space LayerNorm centres: E values carry E - 1 directions
    tail = (singular[kept:].square().sum() / singular.square().sum()).sqrt()
    assert albert.config.embedding_factorization == "svd"
    assert albert.config.embedding_reconstruction_error == pytest.approx(float(tail), rel=1e-9)
    assert albert.config.embedding_size == embedding_size
    assert albert.embeddings.word_embeddings.weight.shape == (tiny_config().vocab_size, embedding_size)


def test_the_embedding_output_is_the_source_layernorm_of_the_projected_sum():
    source, embedding_size = source_bert(), 8
    albert = compactbert.albert_from_bert(source, embedding_size=embedding_size, sharing="none")
    batch = inputs()
    ids, types = batch["input_ids"], batch["token_type_ids"]
    emb = source.embeddings
    total = (
        emb.word_embeddings(ids)
        + emb.position_embeddings(torch.arange(ids.shape[1]))
        + emb.token_type_embeddings(types)
    ).double()
    total = total - total.mean(dim=-1, keepdim=True)
    _, _, vh = torch.linalg.svd(centred_word_embeddings(source), full_matrices=False)
    top = vh[: embedding_size - 1].T  # (H, E - 1): the top right singular vectors (their signs do not matter)
    eps = source.config.layer_norm_eps * embedding_size / HIDDEN
    expected = torch.nn.functional.layer_norm(
        total @ top @ top.T, (HIDDEN,), emb.LayerNorm.weight.double(), emb.LayerNorm.bias.double(), eps
    )
    with torch.inference_mode():
        got = albert.encoder.embedding_hidden_mapping_in(albert.embeddings(ids, token_type_ids=types))
    torch.testing.assert_close(got.double(), expected, atol=1e-5, rtol=0)


def test_frequency_weighted_svd_fits_frequent_rows_better_and_reports_the_plain_error():
    generator = torch.Generator().manual_seed(3)
    word = torch.randn(40, 12, generator=generator, dtype=torch.float64)
    position, token_type = torch.randn(16, 12, dtype=torch.float64), torch.randn(2, 12, dtype=torch.float64)
    weights = torch.ones(40, dtype=torch.float64)
    weights[:5] = 50.0  # five frequent tokens
    plain = factorize_embeddings(word, position, token_type, 5)
    weighted = factorize_embeddings(word, position, token_type, 5, row_weights=weights)
    centred = word - word.mean(dim=1, keepdim=True)

    def row_errors(directions):
        return (centred - centred @ directions @ directions.T).square().sum(dim=1)

    assert (weights * row_errors(weighted.directions)).sum() < (weights * row_errors(plain.directions)).sum()
    assert row_errors(weighted.directions).sum() > row_errors(plain.directions).sum()  # Eckart-Young
    assert weighted.reconstruction_error == pytest.approx(
        float(row_errors(weighted.directions).sum().sqrt() / torch.linalg.matrix_norm(centred)), rel=1e-9
    )
    # the E-space tables are the centred tables in the basis, whose E-space mean is zero
    assert torch.allclose(weighted.word, centred @ weighted.basis)
    assert torch.allclose(weighted.word.sum(dim=1), torch.zeros(40, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(weighted.basis.T @ weighted.basis, torch.eye(5, dtype=torch.float64), atol=1e-10)


def test_frequency_texts_weight_the_svd_by_the_tokenizers_counts(tokenizer):
    source = source_bert()
    plain = compactbert.albert_from_bert(source, embedding_size=6, sharing="none")
    weighted = compactbert.albert_from_bert(
        source, embedding_size=6, sharing="none", frequency_texts=TEXTS, tokenizer=tokenizer
    )
    assert weighted.config.embedding_factorization == "frequency_weighted_svd"
    assert weighted.config.embedding_reconstruction_error > plain.config.embedding_reconstruction_error
    counts = torch.zeros(tiny_config().vocab_size, dtype=torch.float64)
    for row in tokenizer(TEXTS)["input_ids"]:
        for i in row:
            counts[i] += 1
    word = source.embeddings.word_embeddings.weight.detach()
    expected = factorize_embeddings(
        word, source.embeddings.position_embeddings.weight.detach(),
        source.embeddings.token_type_embeddings.weight.detach(), 6, row_weights=counts + 1,
    )  # fmt: skip
    assert weighted.config.embedding_reconstruction_error == pytest.approx(expected.reconstruction_error, rel=1e-9)


# ---------------------------------------------------------------- shared layers and the init rules


def test_shared_weights_follow_each_rule_by_hand():
    layers = [{"w": torch.tensor([1.0, 4.0]), "b": torch.tensor([0.0])} for _ in range(4)]
    for i, layer in enumerate(layers):
        layer["w"] = layer["w"] * (i + 1)  # [1, 4], [2, 8], [3, 12], [4, 16]
        layer["b"] = layer["b"] + 10 * i
    expected = {
        "mean": ([2.5, 10.0], [15.0]),
        "first": ([1.0, 4.0], [0.0]),
        "middle": ([3.0, 12.0], [20.0]),  # 4 // 2 = 2: the later of the two middle layers
        "last": ([4.0, 16.0], [30.0]),
        1: ([2.0, 8.0], [10.0]),
        "3": ([4.0, 16.0], [30.0]),
    }
    for rule, (w, b) in expected.items():
        got = shared_weights(layers, rule)
        assert (got["w"].tolist(), got["b"].tolist()) == (w, b), rule
    assert shared_weights(layers[:3], "middle")["w"].tolist() == [2.0, 8.0]


def group_tensor(albert, group: int, name: str) -> torch.Tensor:
    return albert.state_dict()[f"encoder.albert_layer_groups.{group}.albert_layers.0.{name}"]


def source_tensors(source, name: str) -> list[torch.Tensor]:
    return [source.state_dict()[f"encoder.layer.{i}.{name}"] for i in range(NUM_LAYERS)]


def test_shared_layers_start_from_the_middle_source_layer_unless_told_otherwise():
    source = source_bert()
    albert = compactbert.albert_from_bert(source, embedding_size=8, sharing="all")
    assert albert.config.shared_init == "middle"
    middle = source_tensors(source, "intermediate.dense.weight")[NUM_LAYERS // 2]
    torch.testing.assert_close(group_tensor(albert, 0, "ffn.weight"), middle)


@pytest.mark.parametrize("init", ["mean", "first", "middle", "last", 1])
def test_sharing_all_starts_the_one_layer_by_the_rule_and_applies_it_once_per_source_layer(init):
    source = source_bert()
    source.set_attn_implementation("eager")  # for attention maps; the student attends as its source does
    albert = compactbert.albert_from_bert(source, embedding_size=8, sharing="all", init=init)
    assert albert.config._attn_implementation == "eager"
    assert albert.config.shared_init == str(init) and len(albert.encoder.albert_layer_groups) == 1
    chosen = {"mean": [0, 1, 2], "first": [0], "middle": [1], "last": [2], 1: [1]}[init]
    for bert_name, albert_name in [
        ("attention.self.query.weight", "attention.query.weight"),
        ("attention.output.LayerNorm.bias", "attention.LayerNorm.bias"),
        ("intermediate.dense.weight", "ffn.weight"),
        ("output.LayerNorm.weight", "full_layer_layer_norm.weight"),
    ]:
        expected = torch.stack([source_tensors(source, bert_name)[i] for i in chosen]).mean(dim=0)
        torch.testing.assert_close(group_tensor(albert, 0, albert_name), expected)
    with torch.inference_mode():
        out = albert(**inputs(), output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == NUM_LAYERS + 1 and len(out.attentions) == NUM_LAYERS


@pytest.mark.parametrize(("sharing", "shared", "own"), [
    ("attention", ("attention.self.key.weight", "attention.key.weight"), ("output.dense.weight", "ffn_output.weight")),
    ("ffn", ("output.dense.weight", "ffn_output.weight"), ("attention.self.key.weight", "attention.key.weight")),
])  # fmt: skip
def test_partial_sharing_takes_the_unshared_block_from_the_matching_source_layer(sharing, shared, own):
    source = source_bert()
    albert = compactbert.albert_from_bert(source, embedding_size=8, sharing=sharing, init="last")
    assert len(albert.encoder.albert_layer_groups) == NUM_LAYERS
    torch.testing.assert_close(group_tensor(albert, 0, shared[1]), source_tensors(source, shared[0])[2])
    for i in range(NUM_LAYERS):
        torch.testing.assert_close(group_tensor(albert, i, own[1]), source_tensors(source, own[0])[i])
        if i:  # the shared block lives in group 0 only
            assert f"encoder.albert_layer_groups.{i}.albert_layers.0.{shared[1]}" not in albert.state_dict()


def test_sharing_stores_each_shared_block_once_instead_of_once_per_layer():
    source = source_bert()
    counts = {
        sharing: compactbert.albert_from_bert(source, embedding_size=8, sharing=sharing).num_parameters()
        for sharing in ("none", "ffn", "attention", "all")
    }
    layer = source.encoder.layer[0]
    attention = sum(p.numel() for p in layer.attention.parameters())  # q, k, v, output dense, LayerNorm
    ffn = sum(p.numel() for m in (layer.intermediate, layer.output) for p in m.parameters())
    assert counts["none"] - counts["attention"] == (NUM_LAYERS - 1) * attention
    assert counts["none"] - counts["ffn"] == (NUM_LAYERS - 1) * ffn
    assert counts["none"] - counts["all"] == (NUM_LAYERS - 1) * (attention + ffn)
    h, e, rows = HIDDEN, 8, tiny_config().vocab_size + 64 + 2  # word, position and token-type rows
    source_embeddings = rows * h + 2 * h  # tables and LayerNorm in H-space
    albert_embeddings = rows * e + 2 * e + (e * h + h)  # tables and LayerNorm in E-space, the mapping E -> H
    assert source.num_parameters() - counts["none"] == source_embeddings - albert_embeddings


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"embedding_size": HIDDEN + 1}, ValueError, r"embedding_size must be between 2 and the source's hidden size 32, got 33"),
    ({"embedding_size": 0}, ValueError, r"between 2 and the source's hidden size 32, got 0"),
    ({"embedding_size": 1}, ValueError, r"E = 1 carries nothing"),
    ({"embedding_size": 8.0}, TypeError, r"embedding_size must be an int"),
    ({"sharing": "layers"}, ValueError, r"unknown sharing 'layers'; choose one of: all, attention, ffn, none"),
    ({"init": "median"}, ValueError, r"unknown init 'median'; choose one of: mean, first, middle, last, or a 0-based"),
    ({"init": 3}, ValueError, r"init layer index 3 is out of range: the source has layers 0..2"),
    ({"init": 1.5}, TypeError, r"init must be a rule name or a layer index"),
])  # fmt: skip
def test_bad_arguments_say_what_is_allowed(kwargs, error, message):
    with pytest.raises(error, match=message):
        compactbert.albert_from_bert(source_bert(), **{"embedding_size": 8} | kwargs)


def test_a_head_albert_cannot_take_is_refused():
    with pytest.raises(ValueError, match=r"cannot convert a BertForMaskedLM: .*BertForSequenceClassification"):
        compactbert.albert_from_bert(source_bert(BertForMaskedLM), embedding_size=8)


def test_a_non_bert_source_is_refused(tmp_path):
    albert = compactbert.albert_from_bert(source_bert(), embedding_size=8)
    with pytest.raises(
        ValueError, match=r"^the given AlbertSopModel is a 'albert_sop' model; albert_from_bert\(\) takes"
    ):
        compactbert.albert_from_bert(albert, embedding_size=8)  # not named as the BERT its config records
    albert.save_pretrained(tmp_path / "albert")
    with pytest.raises(ValueError, match=r"model_type one of: bert, shrunk_bert, tiny_bert"):
        compactbert.albert_from_bert(tmp_path / "albert", embedding_size=8)
    with pytest.raises(TypeError, match=r"source must be a model, a folder or a Hub id, got int"):
        compactbert.albert_from_bert(3)


def test_frequency_texts_need_a_tokenizer_and_some_text():
    with pytest.raises(ValueError, match=r"needs its tokenizer: pass tokenizer="):
        compactbert.albert_from_bert(source_bert(), embedding_size=8, frequency_texts=TEXTS)
    with pytest.raises(ValueError, match=r"frequency_texts is empty"):
        compactbert.albert_from_bert(source_bert(), embedding_size=8, frequency_texts=[], tokenizer=make_tokenizer())


# ---------------------------------------------------------------- save / load / remote code


REMOTE_BODY = """
import transformers
from transformers import AutoTokenizer

folder = args[0]
batch = AutoTokenizer.from_pretrained(folder)(args[1:], padding=True, return_tensors="pt")
model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
with torch.inference_mode():
    result = {"logits": model(**batch).logits, "module": type(model).__module__, "config": model.config.to_dict()}
"""


def test_a_converted_model_round_trips_and_loads_as_remote_code(tmp_path, tokenizer):
    source = source_bert(BertForSequenceClassification, num_labels=3)
    albert = compactbert.albert_from_bert(source, embedding_size=8, sharing="attention", init="middle")
    folder = compactbert.save_model(albert, tmp_path / "albert", tokenizer=tokenizer)
    saved = json.loads((folder / "config.json").read_text())
    provenance = ("source_model", "embedding_size", "sharing", "shared_init", "embedding_factorization")
    assert {key: saved[key] for key in provenance} == {
        "source_model": "BertForSequenceClassification",
        "embedding_size": 8,
        "sharing": "attention",
        "shared_init": "middle",
        "embedding_factorization": "svd",
    }
    assert saved["embedding_reconstruction_error"] == albert.config.embedding_reconstruction_error > 0
    batch = tokenizer(TEXTS[:2], padding=True, return_tensors="pt")
    loaded = transformers.AutoModelForSequenceClassification.from_pretrained(folder)
    assert type(loaded) is type(albert)
    with torch.inference_mode():
        expected = albert(**batch).logits
        assert torch.equal(loaded(**batch).logits, expected)
    remote = run_without_compactbert(REMOTE_BODY, tmp_path, str(folder), *TEXTS[:2], env={"HF_HUB_OFFLINE": "1"})
    assert not remote["module"].startswith("compactbert")
    assert remote["config"]["shared_init"] == "middle"
    torch.testing.assert_close(remote["logits"], expected)


def test_configs_saved_before_the_conversion_fields_load_with_none(tmp_path):
    from compactbert import AlbertSopConfig

    old = AlbertSopConfig(vocab_size=50, embedding_size=8, hidden_size=32, num_attention_heads=2).to_dict()
    for key in ("source_model", "shared_init", "embedding_factorization", "embedding_reconstruction_error"):
        del old[key]
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = transformers.AutoConfig.from_pretrained(tmp_path)
    assert (loaded.source_model, loaded.shared_init, loaded.embedding_reconstruction_error) == (None, None, None)
