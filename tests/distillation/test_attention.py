"""Pre-softmax attention scores: equal to Q K^T / sqrt(d) computed by hand, from BERT, ShrunkBert alike."""

import torch
from transformers import BertModel

from compactbert import shrink
from compactbert.distillation import attention_score_mse, capture_attention_scores

from support.helpers import make_bert


def manual_scores(model: BertModel, batch) -> list[torch.Tensor]:
    """Q K^T / sqrt(d_head) per layer, from the eager model's own hidden states."""
    out = model(**batch, output_hidden_states=True)
    heads = model.config.num_attention_heads
    scores = []
    for layer, hidden in zip(model.encoder.layer, out.hidden_states[:-1], strict=True):
        attn = layer.attention.self
        b, s, _ = hidden.shape
        q = attn.query(hidden).view(b, s, heads, -1).transpose(1, 2)
        k = attn.key(hidden).view(b, s, heads, -1).transpose(1, 2)
        scores.append(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5)  # (batch, heads, seq, seq)
    return scores


def test_captured_scores_equal_manual_presoftmax_scores(batch):
    model = make_bert(num_layers=3)
    with torch.no_grad():
        expected = manual_scores(model, batch)
        plain = model(**batch).last_hidden_state
        with capture_attention_scores(model) as scores:
            captured_out = model(**batch).last_hidden_state
    assert len(scores) == 3
    for got, want in zip(scores, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # the softmax of the masked scores is what eager returns as attention probabilities
    eager = make_bert(num_layers=3, attn_implementation="eager")
    with torch.no_grad():
        probs = eager(**batch, output_attentions=True).attentions
    additive = (1 - batch["attention_mask"][:, None, None, :].float()) * torch.finfo(torch.float32).min
    torch.testing.assert_close(torch.softmax(scores[1] + additive, -1), probs[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(captured_out, plain, rtol=1e-5, atol=1e-5)  # the forward itself is unchanged
    assert model.config._attn_implementation == "sdpa"  # restored


def test_masked_positions_are_zeroed_in_the_loss(batch):
    model = make_bert(num_layers=2)
    with torch.no_grad(), capture_attention_scores(model) as scores:
        model(**batch)
    noisy = scores[0].clone()
    pad = batch["attention_mask"] == 0
    assert pad.any()  # the test batch has padding
    noisy[pad[:, None, :, None].expand_as(noisy)] += 100.0  # change only padded queries
    noisy[pad[:, None, None, :].expand_as(noisy)] -= 100.0  # and padded keys
    assert attention_score_mse(noisy, scores[0], batch["attention_mask"]).item() == 0.0
    assert attention_score_mse(noisy, scores[0]).item() > 0


def test_shrunk_bert_scores_are_its_kept_layers_scores(batch):
    model = make_bert(num_layers=4)
    small = shrink(model, keep=[0, 1])  # the first two layers see the same inputs in both models
    with torch.no_grad():
        with capture_attention_scores(model) as full:
            model(**batch)
        with capture_attention_scores(small) as kept:
            small(**batch)
    assert len(kept) == 2
    torch.testing.assert_close(kept[1], full[1], rtol=1e-5, atol=1e-5)
    assert small.config._attn_implementation == model.config._attn_implementation
