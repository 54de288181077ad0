"""A tiny demo zoo (random hidden-32 BERTs, 3 labels) for the demo tests."""

from __future__ import annotations

import socket

from transformers import BertForSequenceClassification

from compactbert import save_model, shrink
from compactbert.demo.zoo import FINE_TUNED, TEACHER, Zoo, ZooEntry, write_zoo

from support.helpers import make_bert, make_tokenizer

LABELS = ["sport", "music", "news"]
TINY_SCORES = [0.91, 0.97, 0.95, 0.99, 0.93, 0.8]  # the "teacher's" contribution scores (made up: a random model)
EXAMPLES = [{"text": "the team win the game", "label": "sport"}, {"text": "a boring film", "label": "music"}]


def make_tiny_zoo(folder) -> Zoo:
    """Teacher: a random 6-layer BERT classifier; fine-tuned entries: it shrunk by top / bottom K=2 (untrained)."""
    id2label = dict(enumerate(LABELS))
    teacher = make_bert(
        BertForSequenceClassification,
        num_layers=6,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    tokenizer = make_tokenizer()
    save_model(teacher, folder / "teacher", tokenizer=tokenizer)
    entries = []
    for strategy in ("top", "bottom"):
        small = shrink(teacher, strategy, 2)
        save_model(small, folder / f"shrunk-{strategy}-2", tokenizer=tokenizer)
        entries.append(
            ZooEntry(
                name=f"shrunk-{strategy}-2",
                source=f"shrunk-{strategy}-2",
                family="shrunk_bert",
                kind=FINE_TUNED,
                strategy=strategy,
                num_drop=2,
                kept_layers=small.config.kept_layers,
                num_parameters=small.num_parameters(),
                num_layers=4,
            )
        )
    zoo = Zoo(
        root=folder,
        task="tiny",
        label_names=LABELS,
        teacher=ZooEntry(name="teacher", source="teacher", family="bert", kind=TEACHER, num_layers=6),
        entries=entries,
        contributions=TINY_SCORES,
        examples=EXAMPLES,
    )
    write_zoo(folder, zoo)
    return zoo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
