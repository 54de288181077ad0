"""TeacherOutputCache on hand-made batches: keys, hits and misses, positions under any padding, bytes held."""

import torch

from compactbert.distillation.cache import TeacherOutputCache, slice_example, stack_examples


def teacher(calls):
    """A stand-in teacher: logits and hidden states computed from the inputs (so each example has its own)."""

    def run(inputs):
        def compute():
            calls.append(inputs["input_ids"].shape[0])
            ids = inputs["input_ids"].float()
            mask = inputs["attention_mask"].float()
            hidden = torch.stack([ids * mask, -ids * mask], dim=-1)  # (batch, seq, 2)
            return {"logits": (ids * mask).sum(-1, keepdim=True).repeat(1, 3), "hidden_states": [hidden]}

        return compute

    return run


def test_cached_outputs_go_back_to_their_positions_with_any_padding():
    torch.manual_seed(0)
    batch, seq = 3, 6
    mask = torch.ones(batch, seq, dtype=torch.bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding
    mask[2, [1, 4]] = False  # holes: not one run of tokens
    fresh = {
        "logits": torch.randn(batch, seq, 5),  # token-level logits
        "hidden_states": [torch.randn(batch, seq, 4) for _ in range(2)],
        "scores": [torch.randn(batch, 2, seq, seq)],
    }
    examples = [slice_example(fresh, mask[i], i) for i in range(batch)]
    assert [e["scores"][0].shape for e in examples] == [(2, 4, 4), (2, 4, 4), (2, 4, 4)]
    restored = stack_examples(examples, mask)
    torch.testing.assert_close(restored["logits"], fresh["logits"] * mask[..., None], rtol=0, atol=0)
    for h, f in zip(restored["hidden_states"], fresh["hidden_states"], strict=True):
        torch.testing.assert_close(h, f * mask[..., None], rtol=0, atol=0)
    pair_mask = mask[:, None, :, None] & mask[:, None, None, :]
    torch.testing.assert_close(restored["scores"][0], fresh["scores"][0] * pair_mask, rtol=0, atol=0)


def test_an_example_is_found_in_another_batch_with_other_padding():
    calls, cache = [], TeacherOutputCache()
    run = teacher(calls)
    first = {
        "input_ids": torch.tensor([[2, 7, 8, 3], [2, 9, 3, 0]]),
        "attention_mask": torch.tensor([[1] * 4, [1, 1, 1, 0]]),
    }
    fresh = cache.fetch(first, run(first))
    assert calls == [2] and len(cache) == 2 and (cache.hits, cache.misses) == (0, 1)
    # the same two examples, in the other order, padded to 5 (the second one left-padded)
    again = {
        "input_ids": torch.tensor([[2, 9, 3, 0, 0], [0, 2, 7, 8, 3]]),
        "attention_mask": torch.tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]]),
    }
    served = cache.fetch(again, run(again))
    assert calls == [2] and (cache.hits, cache.misses) == (1, 1)  # the teacher did not run again
    torch.testing.assert_close(served["logits"], fresh["logits"][[1, 0]], rtol=0, atol=0)
    expected = run(again)()["hidden_states"][0]  # what the teacher gives on this batch: zeros at padding
    torch.testing.assert_close(served["hidden_states"][0], expected, rtol=0, atol=0)


def test_a_batch_with_one_new_example_runs_the_teacher_and_other_inputs_change_the_key():
    calls, cache = [], TeacherOutputCache()
    run = teacher(calls)
    batch = {"input_ids": torch.tensor([[2, 7, 3]]), "attention_mask": torch.tensor([[1, 1, 1]])}
    cache.fetch(batch, run(batch))
    mixed = {"input_ids": torch.tensor([[2, 7, 3], [2, 8, 3]]), "attention_mask": torch.ones(2, 3, dtype=torch.long)}
    cache.fetch(mixed, run(mixed))
    assert calls == [1, 2] and len(cache) == 2
    # same tokens, other segment ids: another example for a teacher that reads token_type_ids
    typed = batch | {"token_type_ids": torch.tensor([[0, 1, 1]])}
    cache.fetch(typed, run(typed))
    assert calls == [1, 2, 1] and len(cache) == 3


def test_bytes_count_each_storage_once():
    calls, cache = [], TeacherOutputCache()
    assert cache.nbytes == 0
    batch = {
        "input_ids": torch.tensor([[2, 7, 3, 0], [2, 8, 8, 3]]),
        "attention_mask": torch.tensor([[1, 1, 1, 0], [1] * 4]),
    }
    cache.fetch(batch, teacher(calls)(batch))
    # per example: a row of 3 sequence-level logits (its own copy) and its real tokens' hidden states (2 wide), fp32
    assert cache.nbytes == 4 * (3 + 3 * 2) + 4 * (3 + 4 * 2)
