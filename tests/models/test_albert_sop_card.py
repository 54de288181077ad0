"""The Albert-SOP card of a model converted from a BERT (`albert_from_bert`): the conversion, the parameters against the
source's and the distillation; a model pre-trained from random init keeps its card."""

import json

import pytest
from transformers import BertForSequenceClassification, BertModel

import compactbert
from compactbert import AlbertSopConfig, AlbertSopForPreTraining, save_model
from compactbert.hub import render_card, validate_card
from compactbert.hub.card import card_context
from compactbert.models.albert_sop.card import describe_method, parameter_parts

from support.helpers import VOCAB, make_bert, make_tokenizer

SHARING = ("all", "attention", "ffn", "none")
METHOD = {  # what `compactbert build` records for a converted model (build_converted_albert_sop)
    "student_init": "albert",
    "teacher": "tiny-source fine-tuned on tiny by this build",
    "frequency_texts": "48 texts of the tiny training split",
    "stages": [
        {
            "name": "converted from the teacher by `albert_from_bert` (the settings above)",
            "data": None,
            "epochs": None,
        },
        {"name": "task distillation: intermediate", "data": "the tiny training split", "epochs": 2},
        {"name": "task distillation: prediction", "data": "the tiny training split", "epochs": 2},
    ],
    "losses": [
        {"name": "hidden-state MSE (intermediate)", "weight": 1.0},
        {"name": "soft targets (teacher logits) (prediction)", "weight": 0.5},
    ],
    "layer_map": [0, 1, 2, 3],
}
METRICS = {"test": {"accuracy": 0.75, "macro_f1": 0.7}, "task": "tiny", "seed": 0, "split_seed": 42}


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def converted_folder(tmp_path, teacher, sharing="all", method=METHOD, **conversion):
    model = compactbert.albert_from_bert(teacher, embedding_size=8, sharing=sharing, **conversion)
    model.config.source_model = "org/tiny-source"

    def extra(folder):
        (folder / "metrics.json").write_text(json.dumps(METRICS | {"method": method}))

    return model, save_model(model, tmp_path / sharing, tokenizer=make_tokenizer(), extra=extra)


@pytest.fixture(scope="module")
def teacher():
    return make_bert(BertForSequenceClassification, num_layers=4, num_labels=2)


@pytest.mark.parametrize("sharing", SHARING)
def test_parameter_parts_are_the_modules_of_the_model_and_of_its_source(teacher, sharing):
    model = compactbert.albert_from_bert(teacher, embedding_size=8, sharing=sharing)
    parts = parameter_parts(model.config.to_dict())
    encoder = model.albert.encoder
    assert parts["embeddings"] == numel(model.albert.embeddings) + numel(encoder.embedding_hidden_mapping_in)
    assert parts["layers"] == numel(encoder.albert_layer_groups)  # each shared block once
    assert parts["source_embeddings"] == numel(teacher.bert.embeddings)
    assert parts["source_layers"] == numel(teacher.bert.encoder)
    # the pooler and the head are the rest, in both
    rest = model.num_parameters() - parts["embeddings"] - parts["layers"]
    assert teacher.num_parameters() == parts["source_embeddings"] + parts["source_layers"] + rest
    if sharing == "none":
        assert parts["layers"] == parts["source_layers"]
    else:
        assert parts["layers"] < parts["source_layers"]


@pytest.mark.parametrize("sharing", SHARING)
def test_the_card_compares_with_the_source_counted_from_the_config(tmp_path, teacher, sharing):
    model, folder = converted_folder(tmp_path, teacher, sharing)
    _, context = card_context(folder)
    source = context["source"]
    assert source["name"] == "org/tiny-source" and source["parameters_estimated"]
    assert source["num_parameters"] == teacher.num_parameters()
    assert (source["num_hidden_layers"], source["hidden_size"]) == (4, 32)
    assert context["num_parameters"] == model.num_parameters()


def test_a_converted_card_shows_the_conversion_the_parameters_and_the_stages(tmp_path, teacher):
    model, folder = converted_folder(tmp_path, teacher, "all", init="middle")
    text = str(render_card(folder))
    assert validate_card(text) == []
    config = model.config
    error = config.embedding_reconstruction_error
    assert "An **Albert-SOP** model converted from `org/tiny-source`, a trained BERT" in text
    assert "It was not pre-trained with a sentence objective." in text
    for row in (
        "| source | `org/tiny-source` (4 layers, hidden size 32) |",
        "| embedding size E | 8 (the source's: 32) |",
        "| word-embedding factorisation | truncated SVD |",
        f"| reconstruction error of the word embeddings | {error:.4f}: ",
        "| parameter sharing | `all`: one layer, applied 4 times; the shared weights started as the source's layer 2 "
        "(0-based) |",
        "| hidden-state MSE (intermediate) | 1.0 |",
        "| soft targets (teacher logits) (prediction) | 0.5 |",
    ):
        assert row in text, row
    parts = parameter_parts(config.to_dict())
    total, source = model.num_parameters(), teacher.num_parameters()
    rest = total - parts["embeddings"] - parts["layers"]
    for row in (
        f"| embeddings (word, position, token type; E → H mapping) | {parts['embeddings']:,} "
        f"({100 * parts['embeddings'] / total:.1f}% of the model) | {parts['source_embeddings']:,} "
        f"({100 * parts['source_embeddings'] / source:.1f}%) |",
        f"| transformer layers (distinct weights) | {parts['layers']:,} ({100 * parts['layers'] / total:.1f}%) | "
        f"{parts['source_layers']:,} ({100 * parts['source_layers'] / source:.1f}%) |",
        f"| pooler and task head | {rest:,} | {rest:,} |",
        f"| total | {total:,} ({total / 1e6:.1f}M) | {source:,} ({source / 1e6:.1f}M): this model has "
        f"{100 * total / source:.1f}% of them, {100 - 100 * total / source:.1f}% fewer |",
    ):
        assert row in text, row
    assert "Then trained from `tiny-source fine-tuned on tiny by this build`:" in text
    assert "1. **converted from the teacher by `albert_from_bert` (the settings above)**\n" in text
    assert "3. **task distillation: prediction** on the tiny training split, 2 epoch(s)" in text
    assert "application i learned from teacher layer 0, 1, 2, 3 (in order), one to one" in text
    assert "jiao2020tinybert" in text and "lan2020albert" in text
    # what belongs to a model pre-trained from random init is not claimed
    assert "sentence objective |" not in text and "Pre-training budget matters" not in text
    assert "its latency is close to the source's" in text


def test_frequency_weighting_names_its_texts_and_a_bare_conversion_has_no_stages(tmp_path, teacher):
    texts = ["the movie was very good", "a boring film"] * 3
    _, folder = converted_folder(
        tmp_path, teacher, "ffn", method={}, frequency_texts=texts, tokenizer=make_tokenizer()
    )
    text = str(render_card(folder))
    assert validate_card(text) == []
    assert "| word-embedding factorisation | frequency-weighted truncated SVD: word row i weighted by 1 + its " in text
    assert "token count in the texts the conversion was given |" in text  # `compactbert albert` records no count
    assert "`ffn`: one feed-forward block; an attention block per layer" in text
    assert "Then trained from" not in text and "Losses:" not in text and "jiao2020tinybert" not in text
    method = describe_method(json.loads((folder / "config.json").read_text()), METHOD)
    assert method["converted"]["frequency_texts"] == "48 texts of the tiny training split"


def test_a_pretraining_head_has_no_source_estimate_and_a_bare_encoder_has(tmp_path):
    bare = make_bert(BertModel, num_layers=2)
    model = compactbert.albert_from_bert(bare, embedding_size=8, sharing="attention")
    folder = save_model(model, tmp_path / "bare", tokenizer=make_tokenizer())
    assert card_context(folder)[1]["source"]["num_parameters"] == bare.num_parameters()
    pretraining = AlbertSopForPreTraining(AlbertSopConfig(**(model.config.to_dict() | {"architectures": None})))
    folder = save_model(pretraining, tmp_path / "pretraining", tokenizer=make_tokenizer())
    _, context = card_context(folder)
    assert context["method"]["converted"] is not None and context["source"] is None  # its MLM head is new
    assert validate_card(str(render_card(folder))) == []


def test_a_model_pretrained_from_random_init_keeps_its_card(tmp_path):
    config = AlbertSopConfig(
        vocab_size=len(VOCAB), embedding_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=24, max_position_embeddings=64, num_labels=2,
    )  # fmt: skip
    from compactbert import AlbertSopForSequenceClassification

    folder = save_model(AlbertSopForSequenceClassification(config), tmp_path / "scratch", tokenizer=make_tokenizer())
    _, context = card_context(folder)
    assert context["method"]["converted"] is None and context["source"] is None
    text = str(render_card(folder))
    assert "pre-trained with sentence-order prediction (SOP)." in text and "converted from" not in text
    assert "| sentence objective | sentence-order prediction (SOP) |" in text
    assert "Pre-training budget matters" in text and "Parameters against the source's" not in text
