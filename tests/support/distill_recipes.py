"""The tiny teacher and the distill recipe of the `compactbert distill` tests (tests/distillation/test_recipe*.py)."""

from __future__ import annotations

from pathlib import Path

import yaml
from transformers import BertForSequenceClassification

from support.helpers import make_bert, make_tokenizer
from support.tasks import write_sentiment_csv

TEACHER_LAYERS = 4


def make_teacher() -> BertForSequenceClassification:
    """A random 4-layer, hidden-48 BERT classifier with the sentiment task's two labels."""
    teacher = make_bert(
        BertForSequenceClassification, num_layers=TEACHER_LAYERS, hidden_size=48, num_attention_heads=2
    )
    teacher.config.id2label, teacher.config.label2id = {0: "negative", 1: "positive"}, {"negative": 0, "positive": 1}
    return teacher


def save_with_tokenizer(model, folder: Path) -> Path:
    """`model` and the tiny tokenizer saved in `folder` (a teacher, or a student's source, of a recipe)."""
    model.save_pretrained(folder)
    make_tokenizer().save_pretrained(folder)
    return folder


def distill_recipe(tmp_path: Path, teacher_folder: Path, **extra) -> Path:
    """A distill recipe (YAML in `tmp_path`) for the 96-review sentiment CSV: every-other student of the teacher, one
    epoch; `extra` fields replace or add to it."""
    fields = {
        "teacher": str(teacher_folder),
        "student_init": "every-other",
        "task": str(write_sentiment_csv(tmp_path / "reviews.csv", n=96)),
        "text_column": "review",
        "label_column": "sentiment",
        "max_length": 16,
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 1,
        "per_device_train_batch_size": 16,
        "learning_rate": 1e-3,
        "report_to": "none",
        "save_strategy": "no",
        "disable_tqdm": True,
        "bf16_auto": False,
        "seed": 0,
    } | extra
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(fields))
    return path
