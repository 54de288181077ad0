"""Sentence-pair data for ALBERT-style pretraining: documents -> segments -> SOP or NSP pairs, as `datasets` maps.

Sentence-order prediction (SOP, Lan et al. 2020): two consecutive segments A, B of the same document; with
probability 1/2 they are swapped (label 1), else kept in order (label 0). Both classes share topic and style, so
the model must learn discourse order. Next-sentence prediction (NSP, Devlin et al. 2019), for comparison: B is
the segment that follows A (label 0) or, with probability 1/2, a segment of another document (label 1), which a
model can often tell apart by topic alone.

Everything is seeded per document (`seed`, document index), so the pairs do not depend on batching or processes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from datasets import Dataset

from ..models.albert_sop import SENTENCE_OBJECTIVES as OBJECTIVES

SEGMENT_UNITS = ("paragraph", "sentence")
# [CLS] A [SEP] B [SEP] needs 3 special tokens, and at least one token of each segment
MIN_MAX_LENGTH = 5

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9£$])")


def split_segments(text: str, unit: str = "paragraph") -> list[str]:
    """Split a document into segments: paragraphs (blank-line separated) or sentences (., !, ? then a capital).

    Empty segments are dropped; sentence splitting also breaks at paragraph boundaries.
    """
    if unit not in SEGMENT_UNITS:
        raise ValueError(f"unknown segment unit '{unit}'; choose one of: {', '.join(SEGMENT_UNITS)}")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if unit == "paragraph":
        return [" ".join(p.split()) for p in paragraphs]
    return [" ".join(s.split()) for p in paragraphs for s in _SENTENCE_END.split(p) if s.strip()]


def bbc_bodies(texts: Sequence[str]) -> list[str]:
    """BBC News articles (`read_bbc_news`: title, blank line, body) without their title line."""
    return [text.split("\n", 1)[1].strip() if "\n" in text else text for text in texts]


def trim_pair(a: list[int], b: list[int], max_tokens: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """Trim the longer segment, one token at a time from its front or back (chosen at random, as BERT does), until
    `len(a) + len(b) <= max_tokens`."""
    a, b = list(a), list(b)
    while len(a) + len(b) > max_tokens:
        longer = a if len(a) >= len(b) else b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()
    return a, b


def build_pairs(
    documents: Sequence[str] | Dataset,
    tokenizer,
    objective: str = "sop",
    max_length: int = 128,
    unit: str = "paragraph",
    seed: int = 0,
    text_column: str = "text",
    skip_short_documents: bool = False,
    num_proc: int | None = None,
) -> Dataset:
    """Build tokenized SOP or NSP pairs from documents.

    Every two consecutive segments (A, B) of a document make one example (a document of n segments gives n - 1).
    SOP swaps half of them (`sentence_label` 1); NSP replaces B in half of them with a random segment of another
    document (`sentence_label` 1). Pairs are trimmed to `max_length` tokens including `[CLS] A [SEP] B [SEP]`.

    Args:
        documents: texts, or a `datasets.Dataset` with a `text_column`.
        tokenizer: a BERT-style tokenizer (`[CLS]`, `[SEP]`, token type ids).
        objective: `"sop"` or `"nsp"`.
        unit: `"paragraph"` or `"sentence"` segments (see `split_segments`).
        skip_short_documents: drop documents with fewer than two segments instead of raising.

    Returns:
        A `Dataset` with `input_ids`, `token_type_ids`, `attention_mask`, `special_tokens_mask` (unpadded) and
        `sentence_label`, plus `document` (index of the source document).

    Raises:
        ValueError: for an unknown objective or unit, `max_length` below 5, an empty document, a document with
            fewer than two segments (unless skipped), or NSP with a single document.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective '{objective}'; choose one of: {', '.join(OBJECTIVES)}")
    if max_length < MIN_MAX_LENGTH:
        raise ValueError(
            f"max_length={max_length} is too small: a pair needs [CLS] A [SEP] B [SEP], so at least "
            f"{MIN_MAX_LENGTH} tokens; use 128 or more for real text"
        )
    if isinstance(documents, Dataset):
        if text_column not in documents.column_names:
            raise ValueError(f"documents have no '{text_column}' column; columns are {documents.column_names}")
        documents = documents[text_column]
    if len(documents) == 0:
        raise ValueError("no documents given; expected at least one document with two or more segments")
    segmented = []
    for index, text in enumerate(documents):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"document {index} is empty; every document needs text (remove empty ones first)")
        segmented.append(split_segments(text, unit))
    short = [i for i, segments in enumerate(segmented) if len(segments) < 2]
    if short and not skip_short_documents:
        raise ValueError(
            f"{len(short)} document(s) have fewer than two {unit}s and cannot make a pair (first: {short[:5]}); "
            f"split by sentence (unit='sentence'), or pass skip_short_documents=True to drop them"
        )
    usable = [i for i, segments in enumerate(segmented) if len(segments) >= 2]
    if not usable:
        raise ValueError(f"no document has two or more {unit}s; nothing to pair")
    if objective == "nsp" and len(usable) < 2:
        raise ValueError("NSP needs at least two documents (B is drawn from another document half of the time)")

    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    if cls is None or sep is None:
        raise ValueError("the tokenizer needs [CLS] and [SEP] tokens (a BERT / ALBERT style tokenizer)")
    budget = max_length - 3  # [CLS] A [SEP] B [SEP]
    source = Dataset.from_dict({"document": usable, "segments": [segmented[i] for i in usable]})

    def encode(batch):
        out = {key: [] for key in ("input_ids", "token_type_ids", "special_tokens_mask", "sentence_label", "document")}
        for document, segments in zip(batch["document"], batch["segments"], strict=True):
            rng = random.Random(f"{seed}-{objective}-{document}")
            ids = tokenizer(segments, add_special_tokens=False)["input_ids"]
            for i in range(len(segments) - 1):
                a, b, label = ids[i], ids[i + 1], int(rng.random() < 0.5)
                if label and objective == "sop":
                    a, b = b, a
                elif label:  # nsp: B from a random other document
                    other = rng.choice(usable)
                    while other == document:
                        other = rng.choice(usable)
                    b = tokenizer(rng.choice(segmented[other]), add_special_tokens=False)["input_ids"]
                if not a or not b:
                    continue  # a segment that tokenizes to nothing (e.g. only unknown symbols) makes no pair
                a, b = trim_pair(a, b, budget, rng)
                # ALBERT's and BERT's pair format: [CLS] A [SEP] B [SEP], token types 0 for A, 1 for B
                out["input_ids"].append([cls, *a, sep, *b, sep])
                out["token_type_ids"].append([0] * (len(a) + 2) + [1] * (len(b) + 1))
                out["special_tokens_mask"].append([1] + [0] * len(a) + [1] + [0] * len(b) + [1])
                out["sentence_label"].append(label)
                out["document"].append(document)
        return out

    pairs = source.map(
        encode,
        batched=True,
        batch_size=64,
        remove_columns=source.column_names,
        num_proc=num_proc,
        desc=f"{objective} pairs",
    )
    return pairs.map(lambda ex: {"attention_mask": [1] * len(ex["input_ids"])}, desc="attention masks")
