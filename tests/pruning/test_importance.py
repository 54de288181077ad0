"""Importance scores: the pure functions on small tensors by hand, and the hook-collected scores of tiny BERTs
(a neuron, channel, head or dimension whose weights are zeroed scores lowest)."""

import math

import pytest
import torch
from transformers import BertModel

from compactbert.pruning.importance import (
    activation_scores,
    head_output_norms,
    magnitude_scores,
    masked_mean_abs,
    select_attention,
    top_k,
)

from support.helpers import TEXTS, make_bert, make_tokenizer


def test_masked_mean_abs_ignores_padding():
    x = torch.tensor([[[1.0, -2.0], [3.0, 4.0], [100.0, 100.0]], [[-5.0, 0.0], [7.0, 8.0], [9.0, -10.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    expected = torch.tensor([[2.0, 3.0], [7.0, 6.0]])
    assert torch.allclose(masked_mean_abs(x, mask), expected)


def test_head_output_norms_match_a_loop_over_heads():
    torch.manual_seed(0)
    context, weight = torch.randn(2, 3, 6), torch.randn(5, 6)  # 3 heads of 2, hidden 5
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    got = head_output_norms(context, weight, 3, mask)
    for b in range(2):
        for h in range(3):
            tokens = [t for t in range(3) if mask[b, t]]
            norms = [(context[b, t, 2 * h : 2 * h + 2] @ weight[:, 2 * h : 2 * h + 2].T).norm() for t in tokens]
            assert math.isclose(float(got[b, h]), float(sum(norms) / len(norms)), rel_tol=1e-5)


def test_top_k_keeps_the_best_in_index_order_and_ties_go_to_the_lower_index():
    assert top_k(torch.tensor([0.5, 3.0, 1.0, 3.0, 2.0]), 3) == [1, 3, 4]
    assert top_k(torch.tensor([1.0, 1.0, 1.0]), 2) == [0, 1]
    assert top_k(torch.tensor([1.0, 2.0]), 2) == [0, 1]
    with pytest.raises(ValueError, match=r"cannot keep 3 of 2 scores"):
        top_k(torch.tensor([1.0, 2.0]), 3)


def test_select_attention_keeps_heads_then_dimensions_per_head():
    heads = torch.tensor([5.0, 1.0, 3.0])  # 3 heads of 3 dims; keep heads 0 and 2, 2 dims each
    qk = torch.tensor([1.0, 9.0, 5.0, 0.0, 0.0, 0.0, 7.0, 2.0, 8.0])
    v = torch.tensor([3.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 4.0, 4.0])
    selection = select_attention(heads, qk, v, num_heads=2, head_dim=2)
    assert selection.heads == [0, 2]
    assert selection.qk == [1, 2, 6, 8]
    assert selection.v == [0, 2, 7, 8]


def test_ffn_score_is_the_l2_over_texts_of_the_mean_abs_activation():
    model, tokenizer = make_bert(num_layers=2), make_tokenizer()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    captured = []  # the GELU output of layer 1's FFN, taken at a different module than the scorer's hook
    handle = model.encoder.layer[1].intermediate.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        model(**batch)
    handle.remove()
    per_text = [captured[0][b, batch["attention_mask"][b].bool()].abs().mean(dim=0) for b in range(len(TEXTS))]
    expected = torch.stack(per_text).pow(2).sum(dim=0).sqrt()
    scores = activation_scores(model, tokenizer, TEXTS, batch_size=3, progress=False)  # two batches: 3 + 1
    assert torch.allclose(scores.ffn[1], expected, rtol=1e-4)
    assert scores.num_texts == len(TEXTS) and scores.layer_contributions is None
    assert model.training is False


def test_calibration_runs_in_eval_mode_and_restores_training_mode():
    model, tokenizer = make_bert(num_layers=2, hidden_dropout_prob=0.5), make_tokenizer()
    model.train()
    first = activation_scores(model, tokenizer, TEXTS, progress=False)
    second = activation_scores(model, tokenizer, TEXTS, progress=False)
    assert torch.equal(first.ffn[0], second.ffn[0])  # no dropout: the same scores twice
    assert model.training is True


def _zeroed_model():
    """A 2-layer BERT (hidden 32, 4 heads of 8, FFN 37) with one unit of each kind switched off."""
    model = make_bert(num_layers=2, num_attention_heads=4)
    with torch.no_grad():
        layer = model.encoder.layer[0]
        layer.intermediate.dense.weight[5] = 0  # FFN neuron 5 outputs GELU(0) = 0
        layer.intermediate.dense.bias[5] = 0
        attention = layer.attention
        attention.self.value.weight[16:24] = 0  # head 2's values (and so its context) are 0
        attention.self.value.bias[16:24] = 0
        attention.self.query.weight[3] = 0  # query dim 3 of head 0 is 0, so pair 3 adds nothing to the scores
        attention.self.query.bias[3] = 0
        attention.output.dense.weight[:, 10] = 0  # value dim 2 of head 1 reaches no output
        for norm in (model.embeddings.LayerNorm, *(m for m in model.modules() if type(m).__name__ == "LayerNorm")):
            norm.weight[7] = 0  # hidden channel 7 is 0 after every LayerNorm
            norm.bias[7] = 0
    return model


@pytest.mark.parametrize("measure", ["activation", "magnitude"])
def test_a_switched_off_unit_scores_lowest(measure):
    model = _zeroed_model()
    if measure == "activation":
        scores = activation_scores(model, make_tokenizer(), TEXTS, progress=False)
    else:
        scores = magnitude_scores(model)
    assert int(scores.ffn[0].argmin()) == 5 and float(scores.ffn[0][5]) == 0.0
    assert int(scores.heads[0].argmin()) == 2 and float(scores.heads[0][2]) == 0.0
    assert int(scores.qk[0][:8].argmin()) == 3 and float(scores.qk[0][3]) == 0.0
    assert int(scores.v[0][8:16].argmin()) == 2 and float(scores.v[0][10]) == 0.0
    hidden = scores.hidden([0, 1])
    assert int(hidden.argmin()) == 7 and float(hidden[7]) == 0.0
    assert min(float(s.min()) for s in (scores.ffn[1], scores.heads[1], scores.qk[1])) > 0


def test_activation_scores_can_score_layer_contributions_in_the_same_pass():
    from compactbert import layer_contributions

    model, tokenizer = make_bert(num_layers=3), make_tokenizer()
    scores = activation_scores(model, tokenizer, TEXTS, layer_contributions=True, progress=False)
    expected = layer_contributions(model, tokenizer, TEXTS, progress=False)
    assert scores.layer_contributions == pytest.approx(expected, abs=1e-6)


def test_activation_scores_refuse_no_texts():
    with pytest.raises(ValueError, match="at least one non-empty calibration text"):
        activation_scores(BertModel(make_bert(num_layers=1).config), make_tokenizer(), ["", "  "], progress=False)
