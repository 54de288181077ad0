"""Slicing weights by index lists, checked against hand-indexed tensors."""

import math

import pytest
import torch

from compactbert.pruning.importance import AttentionSelection
from compactbert.pruning.slicing import (
    LayerPlan,
    PrunePlan,
    prune_state_dict,
    selection_matrix,
    slice_embedding,
    slice_layer_norm,
    slice_linear,
)

from support.helpers import make_bert


def test_slice_linear_equals_the_hand_indexed_weight():
    weight, bias = torch.arange(20.0).reshape(4, 5), torch.tensor([10.0, 11.0, 12.0, 13.0])
    w, b = slice_linear(weight, bias, out_index=[1, 3], in_index=[0, 2, 4])
    assert torch.equal(w, torch.tensor([[5.0, 7.0, 9.0], [15.0, 17.0, 19.0]]))
    assert torch.equal(b, torch.tensor([11.0, 13.0]))
    w, b = slice_linear(weight, None, in_index=[4])
    assert torch.equal(w, weight[:, [4]]) and b is None
    w, _ = slice_linear(weight)  # nothing given: a copy of everything
    assert torch.equal(w, weight) and w.data_ptr() != weight.data_ptr()


def test_slice_embedding_and_layer_norm_keep_channels():
    table = torch.arange(12.0).reshape(3, 4)
    assert torch.equal(slice_embedding(table, [0, 3]), torch.tensor([[0.0, 3.0], [4.0, 7.0], [8.0, 11.0]]))
    gain, bias = slice_layer_norm(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0, 6.0]), [2])
    assert torch.equal(gain, torch.tensor([3.0])) and torch.equal(bias, torch.tensor([6.0]))


def test_selection_matrix_puts_each_kept_channel_back():
    matrix = selection_matrix([1, 3], 4)
    x = torch.tensor([[7.0, 9.0]])
    assert torch.equal(x @ matrix.T, torch.tensor([[0.0, 7.0, 0.0, 9.0]]))


def _plan(kept_layers, hidden, qk, v, ffn, heads, source_head_dim=8, head_dim=8):
    layer = LayerPlan(AttentionSelection(heads, qk, v), ffn)
    return PrunePlan(kept_layers, hidden, [layer] * len(kept_layers), source_head_dim, head_dim)


def test_prune_state_dict_slices_each_tensor_and_renumbers_layers():
    model = make_bert(num_layers=3, num_attention_heads=4)  # hidden 32: 4 heads of 8, FFN 37
    state = model.state_dict()
    hidden, ffn = [0, 2, 5, 9, 11, 20], [1, 4, 36]
    heads = [1, 3]
    qk = [8, 9, 12, 13, 24, 30]  # 3 dims of heads 1 and 3 (head_dim 8 -> 3)
    v = [10, 11, 15, 25, 26, 31]
    pruned = prune_state_dict(state, _plan([0, 2], hidden, qk, v, ffn, heads, head_dim=3))
    assert not [k for k in pruned if "layer.2." in k]
    src = "encoder.layer.2."  # the pruned model's layer 1 is source layer 2
    scale = math.sqrt(3 / 8)
    assert torch.allclose(
        pruned["encoder.layer.1.attention.self.query.weight"],
        state[src + "attention.self.query.weight"][qk][:, hidden] * scale,
    )
    assert torch.allclose(
        pruned["encoder.layer.1.attention.self.query.bias"], state[src + "attention.self.query.bias"][qk] * scale
    )
    assert torch.equal(
        pruned["encoder.layer.1.attention.self.key.weight"], state[src + "attention.self.key.weight"][qk][:, hidden]
    )
    assert torch.equal(
        pruned["encoder.layer.1.attention.self.value.bias"], state[src + "attention.self.value.bias"][v]
    )
    assert torch.equal(
        pruned["encoder.layer.1.attention.output.dense.weight"],
        state[src + "attention.output.dense.weight"][hidden][:, v],
    )
    assert torch.equal(
        pruned["encoder.layer.1.intermediate.dense.weight"], state[src + "intermediate.dense.weight"][ffn][:, hidden]
    )
    assert torch.equal(
        pruned["encoder.layer.1.output.dense.weight"], state[src + "output.dense.weight"][hidden][:, ffn]
    )
    assert torch.equal(pruned["encoder.layer.1.output.LayerNorm.bias"], state[src + "output.LayerNorm.bias"][hidden])
    assert torch.equal(
        pruned["embeddings.word_embeddings.weight"], state["embeddings.word_embeddings.weight"][:, hidden]
    )
    assert torch.equal(pruned["pooler.dense.weight"], state["pooler.dense.weight"][hidden][:, hidden])  # fmt: skip


def test_prune_state_dict_refuses_a_tensor_it_does_not_know():
    state = {"encoder.layer.0.crossattention.self.query.weight": torch.zeros(2, 2), "lm_head.weight": torch.zeros(2)}
    with pytest.raises(ValueError, match=r"cannot prune the tensors .*crossattention.*lm_head"):
        prune_state_dict(state, _plan([0], [0, 1], [0], [0], [0], [0]))
