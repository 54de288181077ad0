"""A tiny demo zoo (random hidden-32 BERTs, 3 labels) for the demo tests."""

from __future__ import annotations

import json
import socket

from transformers import BertForSequenceClassification

from compactbert import albert_from_bert, prune, save_model, shrink
from compactbert.demo.manifest import CONVERTED, DISTILLED, FINE_TUNED, PRUNED, TEACHER, Zoo, ZooEntry, write_zoo
from compactbert.distillation import init_student

from support.helpers import TEXTS, make_bert, make_tokenizer

LABELS = ["sport", "music", "news"]
TINY_SCORES = [0.91, 0.97, 0.95, 0.99, 0.93, 0.8]  # the "teacher's" contribution scores (made up: a random model)
EXAMPLES = [{"text": "the team win the game", "label": "sport"}, {"text": "a boring film", "label": "music"}]


# the tiny zoo's students of other families (untrained): name -> (family, kind, kept teacher layers, hidden size); the
# Albert-SOP converted from the teacher runs its one shared layer once per teacher layer, each in line with that layer
OTHER_ENTRIES = {
    "tinybert-2-pruned": ("tiny_bert", PRUNED, [0, 3], 16),
    "distilled-3": ("shrunk_bert", DISTILLED, [0, 2, 4], 32),
    "albert-sop-e8-share-all": ("albert_sop", CONVERTED, [0, 1, 2, 3, 4, 5], 32),
}
ALBERT_EMBEDDING_SIZE = 8


# what the stand-in models' metrics.json records: an evaluation on the tiny task's test split that passes the quality
# gate (majority class 34%), as the default zoo's fine-tuned and distilled folders record theirs, so `publish` pushes
STAND_IN_METRICS = {"task": "tiny", "test": {"accuracy": 0.5, "majority_label": "sport", "majority_accuracy": 0.34}}


def _write_metrics(folder) -> None:
    (folder / "metrics.json").write_text(json.dumps(STAND_IN_METRICS))


def make_tiny_zoo(folder) -> Zoo:
    """Teacher: a random 6-layer BERT classifier; fine-tuned entries: it shrunk by top / bottom K=2; entries of other
    families: a TinyBert cut out of it (2 layers x 16), its every other layer and an Albert-SOP converted from it (E 8,
    all layers shared), as the default zoo makes them (all untrained)."""
    id2label = dict(enumerate(LABELS))
    teacher = make_bert(
        BertForSequenceClassification,
        num_layers=6,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    tokenizer = make_tokenizer()
    save_model(teacher, folder / "teacher", tokenizer=tokenizer, extra=_write_metrics)
    entries = []
    for strategy in ("top", "bottom"):
        small = shrink(teacher, strategy, 2)
        save_model(small, folder / f"shrunk-{strategy}-2", tokenizer=tokenizer, extra=_write_metrics)
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
    pruned = prune(
        teacher,
        {"num_hidden_layers": 2, "hidden_size": 16, "intermediate_size": 24, "num_attention_heads": 2},
        TEXTS,
        tokenizer,
        layers=[0, 3],
        progress=False,
    )
    albert = albert_from_bert(teacher, embedding_size=ALBERT_EMBEDDING_SIZE, sharing="all", init="mean")
    students = {"tinybert-2-pruned": pruned, "distilled-3": init_student(teacher, "every-other")}
    for name, student in (students | {"albert-sop-e8-share-all": albert}).items():
        family, kind, kept, _ = OTHER_ENTRIES[name]
        save_model(student, folder / name, tokenizer=tokenizer, extra=_write_metrics)
        entries.append(
            ZooEntry(
                name=name,
                source=name,
                family=family,
                kind=kind,
                description=f"a stand-in {kind} student",
                kept_layers=None if kind == CONVERTED else kept,
                num_parameters=student.num_parameters(),
                num_layers=student.config.num_hidden_layers,
                metrics={"test_accuracy": 0.5},
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
