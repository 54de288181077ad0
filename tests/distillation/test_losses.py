"""Distillation losses: zero on identical inputs, known values on small cases worked out by hand."""

import math

import pytest
import torch

from compactbert.distillation import (
    HiddenProjection,
    attention_score_mse,
    cosine_embedding_loss,
    hidden_mse,
    soft_cross_entropy,
    span_soft_cross_entropy,
)


def test_soft_cross_entropy_kl_form_by_hand():
    logits = torch.tensor([[1.0, 2.0, 0.5]])
    assert soft_cross_entropy(logits, logits.clone(), temperature=3.0).item() == pytest.approx(0.0, abs=1e-7)
    # T = 2: p_t = softmax([0, 0]) = [.5, .5]; p_s = softmax([2, 0] / 2) = [e/(e+1), 1/(e+1)]
    student, teacher = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 0.0]])
    p_s = [math.e / (math.e + 1), 1 / (math.e + 1)]
    kl = sum(0.5 * (math.log(0.5) - math.log(p)) for p in p_s)
    assert soft_cross_entropy(student, teacher, temperature=2.0).item() == pytest.approx(kl * 4, rel=1e-5)


def test_soft_cross_entropy_tinybert_form_is_cross_entropy_without_t_squared():
    student, teacher = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 0.0]])
    p_s = [math.e / (math.e + 1), 1 / (math.e + 1)]
    expected = -sum(0.5 * math.log(p) for p in p_s)
    assert soft_cross_entropy(student, teacher, 2.0, form="tinybert").item() == pytest.approx(expected, rel=1e-5)
    # on identical logits it is the teacher's entropy (ln 2 here), not zero
    assert soft_cross_entropy(teacher, teacher, 2.0, form="tinybert").item() == pytest.approx(math.log(2), rel=1e-6)


def test_soft_cross_entropy_mask_selects_positions_and_errors():
    student = torch.tensor([[[2.0, 0.0], [5.0, -5.0]]])  # (batch 1, seq 2, classes 2)
    teacher = torch.tensor([[[0.0, 0.0], [5.0, -5.0]]])
    mask = torch.tensor([[1, 0]])
    only_first = soft_cross_entropy(student[:, :1], teacher[:, :1])
    assert soft_cross_entropy(student, teacher, mask=mask).item() == pytest.approx(only_first.item())
    with pytest.raises(ValueError, match="unknown soft cross-entropy form 'kld'"):
        soft_cross_entropy(student, teacher, form="kld")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        soft_cross_entropy(student, teacher, temperature=0)
    with pytest.raises(ValueError, match="differ in shape"):
        soft_cross_entropy(student, teacher[..., :1])


def test_hidden_mse_ignores_padding():
    teacher = torch.zeros(1, 3, 2)
    student = torch.tensor([[[1.0, 1.0], [0.0, 2.0], [100.0, 100.0]]])  # the last token is padding
    mask = torch.tensor([[1, 1, 0]])
    # per-token means over the hidden axis: 1 and 2 -> mean 1.5
    assert hidden_mse(student, teacher, mask).item() == pytest.approx(1.5)
    assert hidden_mse(teacher, teacher.clone(), mask).item() == 0.0


def test_attention_score_mse_zeroes_masked_query_and_key_positions():
    teacher = torch.zeros(1, 1, 2, 2)
    student = torch.tensor([[[[1.0, 50.0], [50.0, 50.0]]]])  # token 1 is padding: only entry (0, 0) counts
    mask = torch.tensor([[1, 0]])
    # masked entries are zero in the difference; the mean runs over all 4 entries: 1 / 4
    assert attention_score_mse(student, teacher, mask).item() == pytest.approx(0.25)
    assert attention_score_mse(student, student.clone(), mask).item() == 0.0
    assert attention_score_mse(student, teacher).item() == pytest.approx((1 + 3 * 2500) / 4)


def test_cosine_embedding_loss_by_hand():
    teacher = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]])
    student = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]])  # cos 1, 0, -1 (last is padding)
    mask = torch.tensor([[1, 1, 0]])
    assert cosine_embedding_loss(student, teacher, mask).item() == pytest.approx(0.5)  # (0 + 1) / 2
    assert cosine_embedding_loss(student, teacher).item() == pytest.approx(1.0)  # (0 + 1 + 2) / 3
    assert cosine_embedding_loss(teacher, teacher.clone(), mask).item() == pytest.approx(0.0, abs=1e-7)


def test_hidden_projection_maps_widths_and_learns():
    torch.manual_seed(0)
    per_state = HiddenProjection(4, 6, num_states=3, shared=False)
    shared = HiddenProjection(4, 6)
    states = tuple(torch.randn(2, 5, 4) for _ in range(3))
    assert [p.shape for p in per_state(states)] == [torch.Size([2, 5, 6])] * 3
    assert len(list(shared.parameters())) == 2 and len(list(per_state.parameters())) == 6
    with pytest.raises(ValueError, match="expected 3 hidden states"):
        per_state(states[:2])
    target = torch.randn(2, 5, 6)
    optimizer = torch.optim.SGD(shared.parameters(), lr=0.1)
    before = hidden_mse(shared(states[:1])[0], target).item()
    for _ in range(20):
        optimizer.zero_grad()
        hidden_mse(shared(states[:1])[0], target).backward()
        optimizer.step()
    assert hidden_mse(shared(states[:1])[0], target).item() < before


def test_span_loss_is_the_mean_of_the_start_and_end_losses_over_real_tokens():
    torch.manual_seed(0)
    student, teacher = torch.randn(3, 7, 2), torch.randn(3, 7, 2)
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[1, 5:] = 0  # padding
    mask[2, 3:] = 0
    got = span_soft_cross_entropy(student, teacher, 2.0, "kl", mask)
    expected = []
    for i in range(3):
        n = int(mask[i].sum())
        for end in (0, 1):  # each end: a distribution over the example's real tokens
            expected.append(soft_cross_entropy(student[i, :n, end][None], teacher[i, :n, end][None], 2.0, "kl"))
    assert got == pytest.approx(float(torch.stack(expected).mean()), rel=1e-5)
    padded = student.clone()
    padded[mask == 0] = 50.0  # what padding holds does not count
    assert span_soft_cross_entropy(padded, teacher, 2.0, "kl", mask) == pytest.approx(float(got), rel=1e-5)
    assert float(span_soft_cross_entropy(teacher, teacher, 2.0, "kl", mask)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"span logits must be \(batch, seq, 2\)"):
        span_soft_cross_entropy(torch.zeros(2, 5), torch.zeros(2, 5))
