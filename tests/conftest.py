"""Shared test helpers: tiny random BERTs (hidden 32) and a tiny tokenizer; no network."""

from __future__ import annotations

import os

import pytest
import torch
from transformers import BertConfig, BertTokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the a an movie film story news sport music game team good bad great awful boring funny is was are not "
    "very and of to in it this that with for on plot actor win lose"
).split()
VOCAB = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
TEXTS = [
    "the movie was very good",
    "a boring film with a bad plot",
    "the team win the game",
    "this is not funny and not great",
]


def tiny_config(num_layers: int = 12, **overrides) -> BertConfig:
    fields = dict(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    return BertConfig(**(fields | overrides))


def make_bert(cls=None, num_layers: int = 12, seed: int = 0, **overrides):
    """A random BERT of class `cls` (default BertModel) in eval mode, reproducible by seed."""
    from transformers import BertModel

    torch.manual_seed(seed)
    return (cls or BertModel)(tiny_config(num_layers, **overrides)).eval()


def make_tokenizer() -> BertTokenizer:
    return BertTokenizer(vocab=dict(VOCAB))


@pytest.fixture
def tokenizer() -> BertTokenizer:
    return make_tokenizer()


@pytest.fixture
def batch(tokenizer):
    return tokenizer(TEXTS, padding=True, return_tensors="pt")
