"""SOP / NSP pair building: consecutive segments, labels, trimming, determinism, and clear errors."""

import itertools

import pytest

from compactbert.pretraining import bbc_bodies, build_pairs, split_segments, trim_pair

from support.helpers import WORDS


def make_documents(num_documents=6, num_segments=5, words_per_segment=4):
    """Documents whose segments are made of distinct words, so a tokenized segment identifies where it came from."""
    words = itertools.cycle(WORDS)
    documents, segments = [], {}
    for d in range(num_documents):
        paragraphs = []
        for s in range(num_segments):
            text = " ".join(next(words) for _ in range(words_per_segment))
            paragraphs.append(text)
            segments.setdefault(text, []).append((d, s))
        documents.append("\n\n".join(paragraphs))
    return documents


def segment_ids(tokenizer, documents):
    """(document, segment index) -> token ids."""
    return {
        (d, s): tokenizer(text, add_special_tokens=False)["input_ids"]
        for d, doc in enumerate(documents)
        for s, text in enumerate(split_segments(doc))
    }


def split_pair(tokenizer, input_ids, token_type_ids):
    assert input_ids[0] == tokenizer.cls_token_id and input_ids[-1] == tokenizer.sep_token_id
    a_len = token_type_ids.count(0) - 2
    assert input_ids[a_len + 1] == tokenizer.sep_token_id
    return input_ids[1 : a_len + 1], input_ids[a_len + 2 : -1]


def test_split_segments_by_paragraph_and_sentence():
    text = "First one. Second one!\n\n  Third   para? Yes.\n\n\n"
    assert split_segments(text) == ["First one. Second one!", "Third para? Yes."]
    assert split_segments(text, "sentence") == ["First one.", "Second one!", "Third para?", "Yes."]
    assert bbc_bodies(["Title\n\nBody one.\n\nBody two."]) == ["Body one.\n\nBody two."]
    with pytest.raises(ValueError, match="unknown segment unit 'word'; choose one of: paragraph, sentence"):
        split_segments(text, "word")


def test_sop_pairs_are_consecutive_segments_swapped_half_the_time(tokenizer):
    documents = make_documents()
    ids = segment_ids(tokenizer, documents)
    pairs = build_pairs(documents, tokenizer, "sop", max_length=64, seed=1)
    assert len(pairs) == 6 * 4  # n - 1 consecutive pairs per document
    for ex in pairs:
        a, b = split_pair(tokenizer, ex["input_ids"], ex["token_type_ids"])
        first, second = (b, a) if ex["sentence_label"] == 1 else (a, b)
        d = ex["document"]
        assert any(ids[d, s] == first and ids[d, s + 1] == second for s in range(4))
        assert ex["attention_mask"] == [1] * len(ex["input_ids"])
        assert ex["special_tokens_mask"] == [1] + [0] * len(a) + [1] + [0] * len(b) + [1]
    labels = pairs["sentence_label"]
    assert 0.25 < sum(labels) / len(labels) < 0.75


def test_nsp_pairs_take_b_from_another_document_when_label_is_1(tokenizer):
    documents = make_documents()
    ids = segment_ids(tokenizer, documents)
    pairs = build_pairs(documents, tokenizer, "nsp", max_length=64, seed=2)
    assert {0, 1} == set(pairs["sentence_label"])
    for ex in pairs:
        a, b = split_pair(tokenizer, ex["input_ids"], ex["token_type_ids"])
        d = ex["document"]
        s = next(s for s in range(5) if ids[d, s] == a)  # A is always from the document, in place
        if ex["sentence_label"] == 0:
            assert ids[d, s + 1] == b
        else:
            assert any(ids[other, t] == b for other in range(6) if other != d for t in range(5))


def test_pairs_are_deterministic_per_seed(tokenizer):
    documents = make_documents()
    first = build_pairs(documents, tokenizer, "sop", seed=7)
    assert first.to_dict() == build_pairs(documents, tokenizer, "sop", seed=7).to_dict()
    assert first["sentence_label"] != build_pairs(documents, tokenizer, "sop", seed=8)["sentence_label"]


def test_pairs_are_trimmed_to_max_length_keeping_both_segments(tokenizer):
    documents = make_documents(words_per_segment=12)
    pairs = build_pairs(documents, tokenizer, "sop", max_length=11, seed=0)
    assert all(len(ids) <= 11 for ids in pairs["input_ids"])
    for ex in pairs:
        a, b = split_pair(tokenizer, ex["input_ids"], ex["token_type_ids"])
        assert len(a) >= 1 and len(b) >= 1 and len(a) + len(b) == 8


def test_trim_pair_cuts_the_longer_segment():
    import random

    a, b = trim_pair(list(range(10)), [100, 101], 6, random.Random(0))
    assert len(a) == 4 and b == [100, 101]
    assert a == list(range(a[0], a[0] + 4))  # a contiguous piece of the original


@pytest.mark.parametrize(
    ("documents", "kwargs", "message"),
    [
        (
            ["one para only", "a. b\n\nc"],
            {},
            r"1 document\(s\) have fewer than two paragraphs .* skip_short_documents=True",
        ),
        (["good one\n\ntwo", "   "], {}, "document 1 is empty"),
        ([], {}, "no documents given"),
        (["a\n\nb", "c\n\nd"], {"max_length": 4}, "max_length=4 is too small: a pair needs .* at least 5 tokens"),
        (["a\n\nb"], {"objective": "nsp"}, "NSP needs at least two documents"),
        (["a\n\nb"], {"objective": "mlm"}, "unknown objective 'mlm'; choose one of: sop, nsp"),
        (["only one", "and another"], {"skip_short_documents": True}, "no document has two or more paragraphs"),
    ],
)
def test_bad_input_is_refused_clearly(tokenizer, documents, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_pairs(documents, tokenizer, **kwargs)


def test_short_documents_can_be_skipped(tokenizer):
    documents = ["the movie\n\nwas good", "one paragraph only", "the team\n\nwin the game\n\nagain"]
    pairs = build_pairs(documents, tokenizer, "nsp", skip_short_documents=True)
    assert sorted(set(pairs["document"])) == [0, 2] and len(pairs) == 3
