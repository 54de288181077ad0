"""MLM masking collator: 15% targets, 80/10/10, whole words and n-grams, special tokens untouched, seeded."""

import pytest
import torch
from transformers import BertTokenizer

from compactbert.pretraining import MaskingCollator

from support.helpers import VOCAB


@pytest.fixture
def wordpiece():
    """A tiny tokenizer whose words split into `##` pieces: 'playing' -> play ##ing."""
    pieces = ["play", "##ing", "##ed", "run", "##ner", "##s", "the", "a", "fast", "slow", "game"]
    return BertTokenizer(vocab=dict(VOCAB) | {p: len(VOCAB) + i for i, p in enumerate(pieces)})


def examples(tokenizer, count=64, seed=0):
    rng = torch.Generator().manual_seed(seed)
    words = ["playing", "runners", "the", "a", "fast", "slow", "game", "played", "runs"]
    out = []
    for _ in range(count):
        a = " ".join(
            words[i]
            for i in torch.randint(len(words), (int(torch.randint(20, 60, (1,), generator=rng)),), generator=rng)
        )
        b = " ".join(words[i] for i in torch.randint(len(words), (30,), generator=rng))
        enc = tokenizer(a, b, return_special_tokens_mask=True)
        out.append(dict(enc) | {"sentence_label": int(torch.randint(2, (1,), generator=rng))})
    return out


def word_starts(tokenizer, ids):
    return [not tokenizer.convert_ids_to_tokens(i).startswith("##") for i in ids]


@pytest.mark.parametrize("masking", ["token", "whole_word", "ngram"])
def test_targets_are_15_percent_of_real_tokens_never_special_or_padding(wordpiece, masking):
    batch_examples = examples(wordpiece)
    batch = MaskingCollator(wordpiece, masking=masking, seed=0)(batch_examples)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["sentence_label"].tolist() == [ex["sentence_label"] for ex in batch_examples]
    for row, ex in enumerate(batch_examples):
        n = len(ex["input_ids"])
        targets = (batch["labels"][row] != -100).nonzero().flatten().tolist()
        maskable = n - sum(ex["special_tokens_mask"])
        # whole words / n-grams may stop below the budget rather than split a word
        assert round(0.15 * maskable) - (0 if masking == "token" else 4) <= len(targets) <= round(0.15 * maskable)
        assert all(ex["special_tokens_mask"][t] == 0 and t < n for t in targets)
        assert batch["labels"][row, targets].tolist() == [ex["input_ids"][t] for t in targets]
        assert batch["input_ids"][row, n:].eq(wordpiece.pad_token_id).all()


def test_80_10_10_replacement(wordpiece):
    batch_examples = examples(wordpiece, count=400)
    batch = MaskingCollator(wordpiece, seed=1)(batch_examples)
    targets = batch["labels"] != -100
    original = batch["labels"][targets]
    got = batch["input_ids"][targets]
    total = targets.sum().item()
    masked = (got == wordpiece.mask_token_id).sum().item() / total
    unchanged = (got == original).sum().item() / total
    assert total > 3000
    assert abs(masked - 0.8) < 0.03 and abs(unchanged - 0.1) < 0.03 and abs(1 - masked - unchanged - 0.1) < 0.03
    assert torch.equal(batch["input_ids"][~targets], torch.where(targets, 0, batch["input_ids"])[~targets])


@pytest.mark.parametrize("masking", ["whole_word", "ngram"])
def test_whole_words_are_masked_together(wordpiece, masking):
    batch_examples = examples(wordpiece)
    batch = MaskingCollator(wordpiece, masking=masking, seed=2)(batch_examples)
    split_words = 0
    for row, ex in enumerate(batch_examples):
        starts = word_starts(wordpiece, ex["input_ids"])
        target = (batch["labels"][row] != -100).tolist()
        for i in range(1, len(ex["input_ids"])):
            if not starts[i]:  # a ## piece is a target exactly when the token before it is
                split_words += 1
                assert target[i] == target[i - 1]
    assert split_words > 100


def test_ngram_masking_makes_multi_word_spans(wordpiece):
    def longest_span(masking):
        batch = MaskingCollator(wordpiece, masking=masking, seed=3)(examples(wordpiece))
        spans = []
        for row in (batch["labels"] != -100).tolist():
            run = 0
            for t in row + [False]:
                run = run + 1 if t else (spans.append(run) or 0)
        return sum(s >= 4 for s in spans)

    assert longest_span("ngram") > 2 * longest_span("whole_word")


def test_masks_are_seeded(wordpiece):
    batch_examples = examples(wordpiece)
    first = MaskingCollator(wordpiece, seed=5)(batch_examples)
    again = MaskingCollator(wordpiece, seed=5)(batch_examples)
    other = MaskingCollator(wordpiece, seed=6)(batch_examples)
    assert torch.equal(first["input_ids"], again["input_ids"]) and torch.equal(first["labels"], again["labels"])
    assert not torch.equal(first["labels"], other["labels"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"masking": "span"}, "unknown masking 'span'; choose one of: token, whole_word, ngram"),
        ({"mlm_probability": 0}, r"mlm_probability must be in \(0, 1\)"),
        ({"max_ngram": 0}, "max_ngram must be >= 1"),
    ],
)
def test_bad_options_are_refused(wordpiece, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskingCollator(wordpiece, **kwargs)
