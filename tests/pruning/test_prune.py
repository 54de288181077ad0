"""`prune()`: pruning to the source's own shape is exact, smaller targets keep the best units, bad targets are refused
with the limit named, and the result saves, loads (also as remote code) and records where it came from."""

import math

import pytest
import torch
from transformers import (
    AlbertConfig,
    AlbertModel,
    AutoModelForSequenceClassification,
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
)

import compactbert
from compactbert import PruneTarget, TinyBertConfig, prune

from support.helpers import TEXTS, make_bert, make_tokenizer, run_without_compactbert

SMALL = {"num_hidden_layers": 2, "hidden_size": 24, "intermediate_size": 20, "num_attention_heads": 4}


def _classifier(num_layers=3, **overrides):
    model = make_bert(BertForSequenceClassification, num_layers=num_layers, num_attention_heads=4, **overrides)
    model.config.id2label, model.config.label2id = {0: "neg", 1: "pos"}, {"neg": 0, "pos": 1}
    return model


@pytest.mark.parametrize(
    "head", [BertModel, BertForSequenceClassification, BertForMaskedLM, BertForPreTraining], ids=lambda c: c.__name__
)
@pytest.mark.parametrize("importance", ["activation", "magnitude"])
def test_pruning_to_the_sources_own_shape_gives_the_same_outputs(head, importance, batch):
    source = make_bert(head, num_layers=3, num_attention_heads=4)
    pruned = prune(source, {}, TEXTS, make_tokenizer(), importance=importance, progress=False).eval()
    assert type(pruned).__name__ == head.__name__.replace("Bert", "TinyBert", 1)
    with torch.no_grad():
        expected, got = source(**batch, output_hidden_states=True), pruned(**batch, output_hidden_states=True)
    for name in ("logits", "prediction_logits", "seq_relationship_logits", "last_hidden_state", "pooler_output"):
        if name in expected:
            assert torch.allclose(got[name], expected[name], atol=1e-6), name
    assert pruned.config.pruning["kept_layers"] == [0, 1, 2] and pruned.config.pruning["layer_strategy"] == "all"
    projected = pruned.project_to_teacher(got.hidden_states)  # the starting projection is the identity here
    assert all(torch.allclose(p, h, atol=1e-6) for p, h in zip(projected, expected.hidden_states, strict=True))


def test_a_smaller_target_is_cut_from_the_best_units_and_records_it():
    source = _classifier()
    with torch.no_grad():  # switch off hidden channel 7 and FFN neuron 3 of source layer 2
        for norm in (m for m in source.modules() if isinstance(m, torch.nn.LayerNorm)):
            norm.weight[7], norm.bias[7] = 0, 0
        source.bert.encoder.layer[2].intermediate.dense.weight[3] = 0
        source.bert.encoder.layer[2].intermediate.dense.bias[3] = 0
    pruned = prune(source, PruneTarget(**SMALL), TEXTS, make_tokenizer(), layers=[0, 2], progress=False)
    assert isinstance(pruned, compactbert.TinyBertForSequenceClassification)
    config = pruned.config
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size, config.num_attention_heads) == (
        2,
        24,
        20,
        4,
    )
    assert config.fit_size == 32 and config.fit_projection == "shared" and config.pruned_from
    assert config.id2label == {0: "neg", 1: "pos"} and config.num_labels == 2
    record = config.pruning
    assert record["kept_layers"] == [0, 2] and record["layer_strategy"] == "explicit"
    assert (record["source_head_dim"], record["head_dim"]) == (8, 6)
    assert (record["source_hidden_size"], record["hidden_size"]) == (32, 24)
    assert (record["source_intermediate_size"], record["intermediate_size"]) == (37, 20)
    assert record["importance"] == "activation" and record["calibration_size"] == len(TEXTS)
    # the projection to the source's width is the channel selection: column j is a one at the kept channel
    projection = pruned.bert.fit_dense.weight
    kept = projection.argmax(dim=0).tolist()
    assert projection.sum().item() == 24 and kept == sorted(kept) and 7 not in kept
    assert torch.equal(pruned.bert.fit_dense.bias, torch.zeros(32))
    # the word embeddings are the source's kept columns; queries are scaled by sqrt(6 / 8)
    assert torch.equal(
        pruned.bert.embeddings.word_embeddings.weight, source.bert.embeddings.word_embeddings.weight[:, kept]
    )
    src_q, q = (
        source.bert.encoder.layer[2].attention.self.query.bias,
        pruned.bert.encoder.layer[1].attention.self.query.bias,
    )
    assert all(any(math.isclose(x, y * math.sqrt(6 / 8), rel_tol=1e-6) for y in src_q.tolist()) for x in q.tolist())
    # the switched-off neuron is not among layer 1's 20 kept neurons: no kept row of the FFN input is all zeros
    assert pruned.bert.encoder.layer[1].intermediate.dense.weight.abs().sum(dim=1).min() > 0


def test_fewer_heads_keep_the_best_heads():
    source = _classifier(num_layers=2)
    with torch.no_grad():  # head 1 of layer 0 has no values: it contributes nothing
        source.bert.encoder.layer[0].attention.self.value.weight[8:16] = 0
        source.bert.encoder.layer[0].attention.self.value.bias[8:16] = 0
    target = {"num_attention_heads": 2, "hidden_size": 16}
    pruned = prune(source, target, TEXTS, make_tokenizer(), progress=False)
    heads = pruned.config.pruning["kept_heads"]
    assert len(heads) == 2 and all(len(h) == 2 for h in heads) and 1 not in heads[0]
    assert pruned.config.pruning["head_dim"] == 8  # 16 / 2: the heads keep their size, so queries are not scaled


@pytest.mark.parametrize(
    ("target", "layers", "message"),
    [
        ({"hidden_size": 40}, None, r"hidden_size=40 but the source has only 32 hidden channels"),
        ({"intermediate_size": 38}, None, r"intermediate_size=38 but the source has only 37 FFN neurons"),
        ({"num_hidden_layers": 4}, None, r"num_hidden_layers=4 but the source has only 3 layers"),
        ({"num_attention_heads": 8}, None, r"num_attention_heads=8 but the source has only 4 attention heads"),
        ({"hidden_size": 30}, None, r"hidden_size \(30\) must be divisible by num_attention_heads \(4\)"),
        ({"hidden_size": 30, "num_attention_heads": 3}, None, r"heads would have 10 dimensions .* source's have 8"),
        ({"num_hidden_layers": 2}, [0, 1, 2], r"layers lists 3 source layers but the target has num_hidden_layers=2"),
        ({"num_hidden_layers": 2}, [0, 3], r"0-based source layer indices in \[0, 2\], got \[3\]"),
        ({"num_hidden_layers": 2}, [1, 1], r"layers must be unique"),
        ({"num_hidden_layers": 2}, "sideways", r"unknown strategy 'sideways'; choose one of: top"),
        ({"depth": 2}, None, r"unknown target sizes \['depth'\]"),
        ({"hidden_size": 0}, None, r"hidden_size must be a positive integer"),
    ],
)
def test_bad_targets_are_refused_naming_the_limit(target, layers, message):
    with pytest.raises(ValueError, match=message):
        prune(_classifier(), target, TEXTS, make_tokenizer(), layers=layers, progress=False)


def test_sources_that_are_not_bert_are_refused(tmp_path):
    albert = AlbertModel(AlbertConfig(vocab_size=40, hidden_size=16, num_attention_heads=2, intermediate_size=20))
    with pytest.raises(ValueError, match=r"'albert' model; prune\(\) takes BERT-architecture models"):
        prune(albert, {}, TEXTS, make_tokenizer(), progress=False)
    with pytest.raises(ValueError, match=r"a pruned model is a TinyBert, which has these heads"):
        prune(make_bert(BertForTokenClassification, num_layers=2), {}, TEXTS, make_tokenizer(), progress=False)
    with pytest.raises(ValueError, match=r"unknown importance 'gradient'"):
        prune(_classifier(), {}, TEXTS, make_tokenizer(), importance="gradient")
    with pytest.raises(ValueError, match=r"needs its tokenizer: pass tokenizer="):
        prune(_classifier(), {}, TEXTS, progress=False)


@pytest.mark.parametrize(
    ("layers", "kept", "strategy"),
    [(None, [0, 1, 2, 4], "even-alternate"), ("top", [0, 1, 2, 3], "top"), ([1, 2, 3, 5], [1, 2, 3, 5], "explicit")],
)
def test_the_layer_choice(layers, kept, strategy):
    pruned = prune(
        _classifier(num_layers=6), {"num_hidden_layers": 4}, TEXTS, make_tokenizer(), layers=layers, progress=False
    )
    assert (pruned.config.pruning["kept_layers"], pruned.config.pruning["layer_strategy"]) == (kept, strategy)


def test_the_layers_named_set_the_depth_when_the_target_leaves_it_out():
    """`layers=[0, 2, 4]` with no `num_hidden_layers` means three layers, not the source's six (a generator too)."""
    pruned = prune(
        _classifier(num_layers=6),
        {"hidden_size": 16},
        TEXTS,
        make_tokenizer(),
        layers=(i for i in (4, 0, 2)),
        progress=False,
    )
    assert pruned.config.num_hidden_layers == 3 and pruned.config.pruning["kept_layers"] == [0, 2, 4]
    assert pruned.config.pruning["layer_strategy"] == "explicit"


def test_the_default_layer_choice_falls_back_to_top_when_more_than_half_go():
    pruned = prune(_classifier(num_layers=6), {"num_hidden_layers": 2}, TEXTS, make_tokenizer(), progress=False)
    assert pruned.config.pruning["kept_layers"] == [0, 1] and pruned.config.pruning["layer_strategy"] == "top"


@pytest.mark.parametrize("importance", ["activation", "magnitude"])
def test_the_contribution_strategy_scores_layers_on_the_calibration_texts(importance):
    source, tokenizer = _classifier(num_layers=4), make_tokenizer()
    pruned = prune(
        source,
        {"num_hidden_layers": 2},
        TEXTS,
        tokenizer,
        layers="contribution",
        importance=importance,
        progress=False,
    )
    scores = compactbert.layer_contributions(source, tokenizer, TEXTS, progress=False)
    record = pruned.config.pruning
    assert record["layer_contributions"] == pytest.approx(scores, abs=1e-6)
    assert record["kept_layers"] == compactbert.select_layers(4, "contribution", 2, scores)
    assert record["calibration_size"] == len(TEXTS)


def test_a_folder_source_uses_its_tokenizer_and_the_default_calibration_sample(tmp_path):
    folder = tmp_path / "source"
    _classifier().save_pretrained(folder)
    make_tokenizer().save_pretrained(folder)
    pruned = prune(folder, SMALL, calibration_size=10, progress=False)
    assert pruned.config.pruned_from == str(folder) and pruned.config.pruning["calibration_size"] == 10
    assert type(pruned).__name__ == "TinyBertForSequenceClassification"
    only_magnitude = prune(folder, SMALL, importance="magnitude", progress=False)
    assert only_magnitude.config.pruning["calibration_size"] == 0  # the weights alone: no texts read


def test_calibration_size_caps_the_given_texts():
    pruned = prune(_classifier(), SMALL, TEXTS * 10, make_tokenizer(), calibration_size=6, progress=False)
    assert pruned.config.pruning["calibration_size"] == 6


def test_a_pruned_model_saves_loads_and_loads_as_remote_code(tmp_path, batch):
    pruned = prune(_classifier(), SMALL, TEXTS, make_tokenizer(), progress=False).eval()
    pruned.save_pretrained(tmp_path / "pruned")
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "pruned").eval()
    assert loaded.config.pruning == pruned.config.pruning and loaded.config.pruned_from == pruned.config.pruned_from
    assert torch.equal(loaded.bert.fit_dense.weight, pruned.bert.fit_dense.weight)
    with torch.no_grad():
        expected = pruned(**batch).logits
    assert torch.allclose(loaded(**batch).logits, expected, atol=1e-6)
    result = run_without_compactbert(
        """
        from transformers import AutoModelForSequenceClassification
        model = AutoModelForSequenceClassification.from_pretrained(args[0], trust_remote_code=True).eval()
        ids = torch.tensor([[2, 5, 6, 3]])
        with torch.no_grad():
            result = {"logits": model(input_ids=ids).logits, "pruning": model.config.pruning}
        """,
        tmp_path,
        str(tmp_path / "pruned"),
    )
    with torch.no_grad():
        assert torch.allclose(result["logits"], pruned(input_ids=torch.tensor([[2, 5, 6, 3]])).logits, atol=1e-6)
    assert result["pruning"]["kept_layers"] == pruned.config.pruning["kept_layers"]


def test_a_tiny_bert_config_target_and_a_tiny_bert_source(batch):
    target = TinyBertConfig(vocab_size=10, num_hidden_layers=2, hidden_size=24, intermediate_size=20, num_attention_heads=4, fit_projection="per-layer")  # fmt: skip
    pruned = prune(_classifier(), target, TEXTS, make_tokenizer(), progress=False)
    assert pruned.config.fit_projection == "per-layer" and len(pruned.bert.fit_dense) == 3
    assert pruned.config.vocab_size == _classifier().config.vocab_size  # only the sizes are read from the target
    # pruning a pruned TinyBert again: its own projection is replaced by the new selection (to its width, 24)
    again = prune(pruned, {"hidden_size": 16}, TEXTS, make_tokenizer(), progress=False)
    assert again.config.fit_size == 24 and again.bert.fit_dense.weight.shape == (24, 16)
    assert again.config.pruning["source_hidden_size"] == 24


def test_a_shrunk_bert_source():
    shrunk = compactbert.shrink(_classifier(num_layers=4), keep=[0, 1, 3])
    pruned = prune(shrunk, {"num_hidden_layers": 2}, TEXTS, make_tokenizer(), layers=[0, 2], progress=False)
    assert type(pruned).__name__ == "TinyBertForSequenceClassification"
    assert pruned.config.pruning["kept_layers"] == [0, 2] and not hasattr(pruned.config, "drop_strategy")


@pytest.mark.slow
def test_pruning_minilm_to_tinybert_4():
    pruned = prune(
        "minilm",
        PruneTarget(num_hidden_layers=4, hidden_size=312, intermediate_size=1200, num_attention_heads=12),
        calibration_size=16,
        progress=False,
    )
    record = pruned.config.pruning
    assert record["kept_layers"] == [0, 1, 2, 4] and (record["source_head_dim"], record["head_dim"]) == (32, 26)
    assert type(pruned).__name__ == "TinyBertModel" and 14.0e6 < pruned.num_parameters() < 14.6e6
