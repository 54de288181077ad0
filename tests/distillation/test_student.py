"""`init_student`: DistilBERT-style students are ShrunkBerts; `"pruned"` cuts a TinyBert out of the teacher."""

import pytest
import torch
from transformers import BertForSequenceClassification

from compactbert.distillation import init_student

from support.helpers import TEXTS, make_bert, make_tokenizer


def test_a_pruned_student_is_a_tiny_bert_with_the_teachers_head():
    teacher = make_bert(BertForSequenceClassification, num_layers=4, num_attention_heads=4)
    target = {"num_hidden_layers": 2, "hidden_size": 16, "intermediate_size": 20, "num_attention_heads": 4}
    student = init_student(
        teacher, "pruned", target=target, prune_layers=[1, 3], calibration_texts=TEXTS, tokenizer=make_tokenizer(),
        progress=False,
    )  # fmt: skip
    assert type(student).__name__ == "TinyBertForSequenceClassification"
    assert student.config.pruning["kept_layers"] == [1, 3] and student.config.fit_size == 32
    assert student.config.hidden_size == 16 and student.config.num_labels == teacher.config.num_labels
    # the classifier is the teacher's, on the kept channels
    kept = student.bert.fit_dense.weight.argmax(dim=0)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight[:, kept])


def test_the_default_pruned_shape_is_tinybert_4_so_a_narrow_teacher_is_refused():
    teacher = make_bert(BertForSequenceClassification, num_layers=4)
    with pytest.raises(ValueError, match=r"hidden_size=312 but the source has only 32 hidden channels"):
        init_student(teacher, "pruned", calibration_texts=TEXTS, tokenizer=make_tokenizer())


def test_pruning_options_apply_to_pruned_students_only():
    teacher = make_bert(BertForSequenceClassification, num_layers=4)
    with pytest.raises(ValueError, match=r"prune_layers, calibration_size apply to layers='pruned' only"):
        init_student(teacher, "every-other", prune_layers="top", calibration_size=8)
