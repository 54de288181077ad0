"""`student_init: albert`: an Albert-SOP converted from the teacher, distilled on logits alone or on hidden states and
attention scores (one to one: it applies its shared layer as many times as the teacher has layers) then logits."""

import csv
import json

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification

import compactbert
from compactbert.cli import main
from compactbert.data import load_task
from compactbert.distillation import hidden_mse
from compactbert.distillation.recipe import parse_distill_recipe

from support.distill_recipes import distill_recipe, make_teacher, save_with_tokenizer
from support.helpers import make_tokenizer
from support.tasks import write_sentiment_csv

# the student of these tests: the teacher converted to an Albert-SOP (E = 16, all layers shared), two epochs
ALBERT = {
    "student_init": "albert",
    "albert_embedding_size": 16,
    "albert_sharing": "all",
    "albert_init": "mean",
    "num_train_epochs": 2,
}


@pytest.fixture(scope="module")
def teacher_folder(tmp_path_factory):
    """A tiny 4-layer teacher fitted to the keyword task (on texts of its own), so it has opinions to distil."""
    folder = tmp_path_factory.mktemp("teacher")
    teacher = make_teacher()
    with (write_sentiment_csv(folder / "teacher-texts.csv", n=160, seed=1)).open() as f:
        rows = list(csv.reader(f))[1:]
    batch = make_tokenizer()([text for text, _ in rows], padding=True, return_tensors="pt")
    labels = torch.tensor([label == "positive" for _, label in rows]).long()
    optimizer = torch.optim.AdamW(teacher.parameters(), lr=1e-3)
    teacher.train()
    for _ in range(40):  # full-batch steps: the teacher ends near 100% on its texts
        teacher(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return save_with_tokenizer(teacher.eval(), folder / "model")


def recipe(tmp_path, teacher_folder, **extra):
    return distill_recipe(tmp_path, teacher_folder, **ALBERT | extra)


def distance(model, teacher, tmp_path):
    """(hidden-state MSE to every teacher layer, KL of the teacher's to the model's labels) on the test split."""
    test = load_task(str(tmp_path / "reviews.csv"), text_column="review", label_column="sentiment").dataset["test"]
    batch = make_tokenizer()(list(test["text"]), padding=True, truncation=True, max_length=16, return_tensors="pt")
    with torch.no_grad():
        s, t = model.eval()(**batch, output_hidden_states=True), teacher(**batch, output_hidden_states=True)
    mask = batch["attention_mask"]
    hidden = sum(hidden_mse(a, b, mask) for a, b in zip(s.hidden_states[1:], t.hidden_states[1:], strict=True))
    t_log, s_log = t.logits.log_softmax(-1), s.logits.log_softmax(-1)
    return float(hidden), float((t_log.exp() * (t_log - s_log)).sum(-1).mean())


def start_and_final(tmp_path, teacher_folder, **conversion):
    teacher = AutoModelForSequenceClassification.from_pretrained(teacher_folder).eval()
    start = compactbert.albert_from_bert(teacher, **{"init": ALBERT["albert_init"]} | conversion)
    final = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run" / "model")
    return teacher, start, final


def test_prediction_stage_distils_the_logits_into_the_converted_student(tmp_path, teacher_folder):
    path = recipe(tmp_path, teacher_folder, stage="prediction")
    assert main(["distill", str(path)]) == 0
    metrics = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["prediction"]
    assert metrics["train"]["teacher_layers"] is None and metrics["recipe"]["teacher"]["student_init"] == "albert"
    teacher, start, student = start_and_final(tmp_path, teacher_folder, embedding_size=16, sharing="all")
    assert type(student).__name__ == "AlbertSopForSequenceClassification"
    assert (student.config.embedding_size, student.config.sharing, student.config.shared_init) == (16, "all", "mean")
    assert student.config.id2label == {0: "negative", 1: "positive"} and student.config.num_hidden_layers == 4
    assert student.config.embedding_reconstruction_error == pytest.approx(start.config.embedding_reconstruction_error)
    assert metrics["num_parameters"] == student.num_parameters() == start.num_parameters()
    _, kl_before = distance(start, teacher, tmp_path)
    _, kl_after = distance(student, teacher, tmp_path)
    assert kl_after < 0.5 * kl_before, (kl_before, kl_after)


def test_intermediate_then_prediction_matches_every_teacher_layer_without_a_projection(tmp_path, teacher_folder):
    path = recipe(
        tmp_path,
        teacher_folder,
        stages=["intermediate", "prediction"],
        albert_init=1,
        albert_frequency_weighting=True,
    )
    assert main(["distill", str(path)]) == 0
    final = tmp_path / "run" / "model"
    metrics = json.loads((final / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["intermediate", "prediction"]
    assert [h["teacher_layers"] for h in metrics["train_stages"]] == [[0, 1, 2, 3], None]  # one to one
    assert set(metrics["losses"]) == {"ce", "embed", "hidden", "attn"}  # every stage's: intermediate, then prediction
    with safe_open(final / "model.safetensors", "pt") as f:
        assert not [k for k in f.keys() if "projection" in k]  # as wide as the teacher: nothing added
    train = load_task(str(tmp_path / "reviews.csv"), text_column="review", label_column="sentiment").dataset["train"]
    teacher, start, student = start_and_final(
        tmp_path, teacher_folder, embedding_size=16, sharing="all", init=1,
        frequency_texts=list(train["text"]), tokenizer=make_tokenizer(),
    )  # fmt: skip
    assert (student.config.sharing, student.config.shared_init) == ("all", "1")
    assert student.config.embedding_factorization == "frequency_weighted_svd"  # by the training texts' counts:
    assert student.config.embedding_reconstruction_error == pytest.approx(start.config.embedding_reconstruction_error)
    (hidden_before, kl_before), (hidden_after, kl_after) = (
        distance(start, teacher, tmp_path),
        distance(student, teacher, tmp_path),
    )
    assert hidden_after < 0.95 * hidden_before and kl_after < 0.5 * kl_before, (
        (hidden_before, kl_before),
        (hidden_after, kl_after),
    )


@pytest.mark.parametrize(("overrides", "message"), [
    ({"albert_sharing": "layers"}, r"unknown albert_sharing 'layers'; choose one of: all, attention, ffn, none"),
    ({"albert_init": "median"}, r"unknown albert_init 'median'; choose one of: mean, first, middle, last, or a 0-based"),
])  # fmt: skip
def test_an_unknown_albert_field_is_refused_when_the_recipe_is_read(tmp_path, teacher_folder, overrides, message):
    with pytest.raises(ValueError, match=message):
        parse_distill_recipe(recipe(tmp_path, teacher_folder), overrides)


def test_a_too_wide_embedding_is_refused_with_the_teachers_width(tmp_path, teacher_folder, capsys):
    assert main(["distill", str(recipe(tmp_path, teacher_folder, albert_embedding_size=64))]) == 2
    assert "embedding_size must be between 2 and the source's hidden size 48, got 64" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model").exists()
