"""DistillationTrainer on heads other than a classifier's: a question-answering head's span ends, and a multiple-choice
head's layers (its choices flattened into the batch)."""

import random

import pytest
import torch
from datasets import Dataset
from transformers import BertForMultipleChoice, BertForQuestionAnswering, default_data_collator

from compactbert.distillation import DistillationTrainer, DistillationTrainingArguments

from support.helpers import WORDS, make_bert, make_tokenizer

NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}


@pytest.fixture(scope="module")
def squad_like():
    """Questions and contexts of varied length, padded per batch, with an answer span inside each context."""
    tokenizer, rng = make_tokenizer(), random.Random(0)
    rows = {"input_ids": [], "token_type_ids": [], "attention_mask": [], "start_positions": [], "end_positions": []}
    for _ in range(24):
        question, context = " ".join(rng.sample(WORDS, 2)), " ".join(rng.sample(WORDS, rng.randint(4, 9)))
        encoded = tokenizer(question, context, padding="max_length", max_length=16, truncation=True)
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            rows[key].append(encoded[key])
        start = rng.randint(4, sum(encoded["attention_mask"]) - 2)
        rows["start_positions"].append(start)
        rows["end_positions"].append(start + 1)
    return Dataset.from_dict(rows)


def distil(tmp_path, dataset, name, **overrides):
    teacher = make_bert(BertForQuestionAnswering, num_layers=4, hidden_size=48, intermediate_size=64, **NO_DROPOUT)
    with torch.no_grad():  # a confident teacher: spans far from uniform, which a fresh student must learn
        teacher.qa_outputs.weight.mul_(200.0)
    student = make_bert(BertForQuestionAnswering, num_layers=2, seed=1, **NO_DROPOUT)  # knows nothing yet
    args = DistillationTrainingArguments(
        **{
            "output_dir": str(tmp_path / name),
            "stage": "prediction",
            "alpha_ce": 1.0,
            "temperature": 2.0,
            "max_steps": 3,
            "per_device_train_batch_size": 8,
            "learning_rate": 1e-3,
            "lr_scheduler_type": "constant",  # the same steps whatever max_steps
            "logging_steps": 1,
            "report_to": "none",
            "save_strategy": "no",
            "use_cpu": True,
            "disable_tqdm": True,
            "seed": 0,
        }
        | overrides
    )
    trainer = DistillationTrainer(
        model=student, args=args, teacher=teacher, train_dataset=dataset, data_collator=default_data_collator
    )
    trainer.train()
    return trainer, student


def test_a_question_answering_student_learns_the_teachers_span_distributions(tmp_path, squad_like):
    trainer, student = distil(tmp_path, squad_like, "fresh")
    losses = [entry["loss_ce"] for entry in trainer.state.log_history if "loss_ce" in entry]
    assert len(losses) == 3 and losses[0] > losses[-1] > 0  # it learns, and the loss is not trivially 0
    cached, cached_student = distil(tmp_path, squad_like, "cached", cache_teacher_outputs=True, max_steps=6)
    assert cached.teacher_forwards == 3  # 24 examples, 3 batches: the second epoch comes from the cache
    first_epoch = [entry["loss_ce"] for entry in cached.state.log_history if "loss_ce" in entry][:3]
    assert first_epoch == pytest.approx(losses, rel=1e-4)


def test_a_multiple_choice_student_learns_the_teachers_layers_on_each_choices_real_tokens(tmp_path):
    """The batch's mask is (examples, choices, tokens) while the states are (examples x choices, tokens, hidden): the
    layer losses failed on the shapes ("mask shape (8, 2, 16) does not match")."""
    tokenizer, rng = make_tokenizer(), random.Random(1)
    rows = {"input_ids": [], "attention_mask": [], "labels": []}
    for _ in range(16):
        prompt = " ".join(rng.sample(WORDS, 2))
        choices = [" ".join(rng.sample(WORDS, rng.randint(1, 6))) for _ in range(2)]
        encoded = tokenizer([prompt] * 2, choices, padding="max_length", max_length=16, truncation=True)
        rows["input_ids"].append(encoded["input_ids"])
        rows["attention_mask"].append(encoded["attention_mask"])
        rows["labels"].append(rng.randint(0, 1))
    teacher = make_bert(BertForMultipleChoice, num_layers=4, hidden_size=48, intermediate_size=64, **NO_DROPOUT)
    student = make_bert(BertForMultipleChoice, num_layers=2, seed=1, **NO_DROPOUT)  # narrower: projected
    args = DistillationTrainingArguments(
        output_dir=str(tmp_path), stage="all", alpha_label=0.5, max_steps=4, per_device_train_batch_size=8,
        learning_rate=1e-3, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    trainer = DistillationTrainer(
        model=student, args=args, teacher=teacher, train_dataset=Dataset.from_dict(rows),
        data_collator=default_data_collator,
    )  # fmt: skip
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss_hidden" in entry]
    assert len(logged) == 4 and {"loss_ce", "loss_label", "loss_embed", "loss_attn"} <= set(logged[0])
    assert logged[-1]["loss_hidden"] < logged[0]["loss_hidden"]
