"""`compactbert distill RECIPE.yaml`: teacher folder -> DistilBERT-style student, stages, saved model, torchrun."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.distillation import hidden_mse
from compactbert.distillation.arguments import STAGES
from compactbert.distillation.recipe import parse_distill_recipe, ran_losses
from compactbert.finetune import build_model

from support.distill_recipes import distill_recipe as recipe
from support.distill_recipes import make_teacher, save_with_tokenizer
from support.helpers import make_bert, make_tokenizer


@pytest.fixture
def teacher_folder(tmp_path):
    return save_with_tokenizer(make_teacher(), tmp_path / "teacher")


def test_distill_cli_two_stages_saves_a_plain_student_that_learned(tmp_path, teacher_folder, capsys):
    # the student: another random 4-layer BERT, shrunk to its layers 0 and 2 (so it starts far from the teacher)
    source = save_with_tokenizer(
        make_bert(BertForSequenceClassification, num_layers=4, hidden_size=48, num_attention_heads=2, seed=5),
        tmp_path / "student-source",
    )
    fields = {"student_init": None, "model": str(source), "shrink_keep": [0, 2]}
    path = recipe(tmp_path, teacher_folder, stages=["intermediate", "prediction"], **fields)
    assert main(["distill", str(path), "--alpha_cos", "1.0"]) == 0
    out = capsys.readouterr().out
    final = tmp_path / "run" / "model"
    metrics = json.loads((final / "metrics.json").read_text())
    # the student's scores, the majority class and the teacher on the same test texts, with the share kept
    test, teacher_test = metrics["test"], metrics["teacher_scores"]["test"]
    assert f"test        accuracy {test['accuracy']:.4f}" in out
    assert f"majority    accuracy {test['majority_accuracy']:.4f}  (always '{test['majority_label']}'" in out
    assert f"teacher     accuracy {teacher_test['accuracy']:.4f}" in out
    assert f"the student keeps {test['accuracy'] / teacher_test['accuracy']:.1%} of it" in out
    assert [h["stage"] for h in metrics["train_stages"]] == ["intermediate", "prediction"]
    assert [h["teacher_layers"] for h in metrics["train_stages"]] == [[1, 3], None]  # only intermediate matches layers
    for ran in metrics["train_stages"]:  # each stage records the losses it trained on (a card names it by them)
        assert ran["losses"] == {c: w for c, w in metrics["losses"].items() if c in STAGES[ran["stage"]]}
    assert metrics["train_stages"][0]["losses"]["cos"] == 1.0 and "cos" not in metrics["train_stages"][1]["losses"]
    assert metrics["kept_layers"] == [0, 2] and metrics["teacher"] == str(teacher_folder)
    student = AutoModelForSequenceClassification.from_pretrained(final)
    assert type(student).__name__ == "ShrunkBertForSequenceClassification"
    assert student.config.hidden_size == 48 and student.config.id2label == {0: "negative", 1: "positive"}
    with safe_open(final / "model.safetensors", "pt") as f:
        assert not [k for k in f.keys() if "projection" in k or "encoder.layer.2" in k]
    # it learned: on the held-out test split, its hidden states and its predictions are closer to the teacher's than
    # those of the student it started from
    model_args = parse_distill_recipe(path)[0]
    start, _ = build_model(model_args, ["negative", "positive"])
    teacher = AutoModelForSequenceClassification.from_pretrained(teacher_folder).eval()
    test = load_task(str(tmp_path / "reviews.csv"), text_column="review", label_column="sentiment").dataset["test"]
    batch = make_tokenizer()(list(test["text"]), padding=True, truncation=True, max_length=16, return_tensors="pt")
    mask = batch["attention_mask"]

    def distance(model):  # (hidden-state MSE to teacher layers 1 and 3, KL of the teacher's to the student's labels)
        with torch.no_grad():
            s, t = model.eval()(**batch, output_hidden_states=True), teacher(**batch, output_hidden_states=True)
        hidden = sum(hidden_mse(s.hidden_states[i + 1], t.hidden_states[j + 1], mask) for i, j in enumerate([1, 3]))
        t_log, s_log = t.logits.log_softmax(-1), s.logits.log_softmax(-1)
        return float(hidden), float((t_log.exp() * (t_log - s_log)).sum(-1).mean())

    (hidden_before, kl_before), (hidden_after, kl_after) = distance(start), distance(student)
    assert hidden_after < 0.95 * hidden_before and kl_after < 0.5 * kl_before, (distance(start), distance(student))


def test_distill_recipe_errors(tmp_path, teacher_folder, capsys):
    path = recipe(tmp_path, teacher_folder)
    with pytest.raises(ValueError, match=r"unknown recipe keys \['alpha_kl'\]"):
        parse_distill_recipe(path, {"alpha_kl": 1})
    with pytest.raises(ValueError, match="unknown stage 'warmup'"):
        parse_distill_recipe(path, {"stages": ["warmup"]})
    with pytest.raises(ValueError, match="unknown student_init 'odd'"):
        parse_distill_recipe(path, {"student_init": "odd"})
    with pytest.raises(ValueError, match="teacher is required"):
        parse_distill_recipe(None, {"output_dir": str(tmp_path)})
    # said before the first stage (or the general distillation, or a build's teacher) trains, not when it starts
    checkpointed = {"gradient_checkpointing": True, "stages": ["intermediate", "prediction"]}
    with pytest.raises(ValueError, match=r"stage intermediate: gradient_checkpointing is true, but the attention"):
        parse_distill_recipe(path, checkpointed)
    assert parse_distill_recipe(path, checkpointed | {"alpha_attn": 0})[3].stages == ["intermediate", "prediction"]
    general = {"gradient_checkpointing": True, "stages": ["prediction"], "student_init": "tiny-bert"}
    with pytest.raises(ValueError, match=r"general distillation: gradient_checkpointing is true, but the attention"):
        parse_distill_recipe(path, general | {"general_epochs": 1})
    assert (
        main(
            [
                "distill",
                str(path),
                "--stage",
                "general",
                "--alpha_ce",
                "0",
                "--alpha_hidden",
                "0",
                "--alpha_attn",
                "0",
                "--alpha_embed",
                "0",
            ]
        )
        == 2
    )
    assert "nothing to train" in capsys.readouterr().err
    assert main(["distill", str(path), "--teacher", str(tmp_path / "gone")]) == 2
    assert "the teacher (teacher: in the recipe, or --teacher): model folder" in capsys.readouterr().err


def test_distill_under_torchrun_two_processes(tmp_path, teacher_folder):
    path = recipe(tmp_path, teacher_folder, stage="all", alpha_label=0.5, num_train_epochs=2)
    torchrun = Path(sys.executable).parent / "torchrun"
    assert torchrun.exists(), f"torchrun not found next to {sys.executable}"
    command = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "compactbert.cli", "distill", str(path)]
    env = os.environ | {"OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}  # torchrun leaves a folder there
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    # 76 train examples (80% of 96); 2 processes x 16 = 32 per step -> 3 steps per epoch (5 in one process)
    assert metrics["train"]["global_step"] == 2 * 3
    assert set(metrics["losses"]) == {"ce", "label", "embed", "hidden", "attn"}
    assert metrics["kept_layers"] == [0, 2] and metrics["train"]["teacher_layers"] == [1, 3]  # every-other init


def test_a_narrower_student_distils_under_torchrun_in_two_stages(tmp_path, teacher_folder):
    """Its projection runs after the student's forward (in the loss), and the intermediate stage leaves the head
    without gradient: with DDP's default search for unused parameters the first backward failed ("mark a variable
    ready only once"); the trainer asks DDP for a static graph."""
    fields = {"student_init": "tiny-bert", "tiny_bert_layers": 2, "tiny_bert_hidden_size": 32, "tiny_bert_heads": 2}
    fields |= {"tiny_bert_intermediate_size": 37, "stages": ["intermediate", "prediction"], "max_steps": 2}
    path = recipe(tmp_path, teacher_folder, **fields)
    torchrun = Path(sys.executable).parent / "torchrun"
    command = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "compactbert.cli", "distill", str(path)]
    env = os.environ | {"OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["intermediate", "prediction"]
    assert all(h["global_step"] == 2 for h in metrics["train_stages"])
    student = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run" / "model")
    assert (student.config.hidden_size, student.config.fit_size) == (32, 48)


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parents[2] / "configs" / "distill").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_committed_distill_recipe_parses(path, tmp_path):
    _, teacher_args, data_args, training_args = parse_distill_recipe(path, {"output_dir": str(tmp_path)})
    assert teacher_args.teacher and data_args.task and training_args.active_components


def test_tiny_bert_student_with_general_then_task_distillation(tmp_path, teacher_folder):
    path = recipe(
        tmp_path,
        teacher_folder,
        student_init="tiny-bert",
        tiny_bert_layers=2,
        tiny_bert_hidden_size=32,
        tiny_bert_intermediate_size=37,
        tiny_bert_heads=2,
        general_teacher=str(teacher_folder),
        general_epochs=1,
        general_max_texts=16,
        stages=["intermediate", "prediction"],
    )
    assert main(["distill", str(path)]) == 0
    final = tmp_path / "run" / "model"
    metrics = json.loads((final / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["general", "intermediate", "prediction"]
    assert [h["teacher_layers"] for h in metrics["train_stages"]] == [[1, 3], [1, 3], None]
    assert metrics["train_stages"][0]["texts"] == 16 and metrics["train_stages"][0]["global_step"] == 1
    # every stage's losses: general's and intermediate's layer losses, then prediction's soft targets
    assert list(metrics["losses"]) == ["embed", "hidden", "attn", "ce"], metrics["losses"]
    student = AutoModelForSequenceClassification.from_pretrained(final)
    assert type(student).__name__ == "TinyBertForSequenceClassification"
    assert student.config.hidden_size == 32 and student.config.fit_size == 48
    with safe_open(final / "model.safetensors", "pt") as f:
        assert [k for k in f.keys() if "fit_dense" in k]  # TinyBert's own projection, trained and saved
        assert not [k for k in f.keys() if "distillation_projection" in k]


def test_the_losses_recorded_are_those_of_every_stage_that_ran():
    weights = {"ce": 1.0, "label": 0.5, "mlm": 0.3, "cos": 0.0, "embed": 1.0, "hidden": 2.0, "attn": 1.0}
    args = SimpleNamespace(**{f"alpha_{c}": w for c, w in weights.items()})
    assert ran_losses(args, ["prediction"]) == {"ce": 1.0, "label": 0.5}
    # general distillation trains the layers (its ce and mlm are not used there), before the task stages
    layers = {"embed": 1.0, "hidden": 2.0, "attn": 1.0}
    assert ran_losses(args, ["prediction"], general=True) == layers | {"ce": 1.0, "label": 0.5}
    assert ran_losses(args, ["intermediate", "prediction"]) == layers | {"ce": 1.0, "label": 0.5}
    assert ran_losses(args, ["intermediate"]) == layers


def pruned_recipe(tmp_path, teacher_folder, **extra):
    fields = {
        "student_init": "pruned",
        "tiny_bert_layers": 2,
        "tiny_bert_hidden_size": 32,
        "tiny_bert_intermediate_size": 30,
        "tiny_bert_heads": 2,
    }
    return recipe(tmp_path, teacher_folder, **(fields | extra))


def test_pruned_student_prediction_stage(tmp_path, teacher_folder):
    assert main(["distill", str(pruned_recipe(tmp_path, teacher_folder))]) == 0
    final = tmp_path / "run" / "model"
    metrics = json.loads((final / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["prediction"]
    assert metrics["kept_layers"] == [0, 2]  # the default layer choice: even-alternate drops teacher layers 3 and 1
    student = AutoModelForSequenceClassification.from_pretrained(final)
    assert type(student).__name__ == "TinyBertForSequenceClassification"
    config = student.config
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (2, 32, 30)
    assert config.fit_size == 48 and config.pruned_from == str(teacher_folder)
    assert config.id2label == {0: "negative", 1: "positive"}
    # importance was scored on the task's own training texts: all 76 of them (80% of 96), fewer than the 1,024 asked
    assert config.pruning["calibration_size"] == 76 and config.pruning["importance"] == "activation"


def test_pruned_student_intermediate_then_prediction_with_the_kept_layer_map(tmp_path, teacher_folder):
    path = pruned_recipe(
        tmp_path,
        teacher_folder,
        prune_layers="top",
        prune_calibration_size=24,
        layer_map="kept",
        stages=["intermediate", "prediction"],
    )
    assert main(["distill", str(path)]) == 0
    final = tmp_path / "run" / "model"
    metrics = json.loads((final / "metrics.json").read_text())
    assert [h["stage"] for h in metrics["train_stages"]] == ["intermediate", "prediction"]
    # each student layer learned from the teacher layer it was cut from (top keeps 0 and 1; uniform would be 1, 3)
    assert [h["teacher_layers"] for h in metrics["train_stages"]] == [[0, 1], None]
    assert metrics["kept_layers"] == [0, 1]
    student = AutoModelForSequenceClassification.from_pretrained(final)
    assert student.config.pruning["calibration_size"] == 24 and student.config.pruning["layer_strategy"] == "top"
    with safe_open(final / "model.safetensors", "pt") as f:
        projection = f.get_tensor("bert.fit_dense.weight")  # (48, 32): trained away from the 0/1 selection it began as
    assert projection.shape == (48, 32) and not torch.equal(projection, projection.round())


def test_pruned_student_recipe_errors(tmp_path, teacher_folder, capsys):
    path = pruned_recipe(tmp_path, teacher_folder)
    assert parse_distill_recipe(path, {"prune_layers": "0,3"})[1].prune_layers == [0, 3]
    assert parse_distill_recipe(path, {"prune_layers": "[1, 2]"})[1].prune_layers == [1, 2]
    assert parse_distill_recipe(path, {"prune_layers": "contribution"})[1].prune_layers == "contribution"
    with pytest.raises(ValueError, match="apply to student_init: pruned only"):
        parse_distill_recipe(path, {"student_init": "tiny-bert", "prune_layers": "top"})
    with pytest.raises(ValueError, match="unknown prune_importance 'gradient'"):
        parse_distill_recipe(path, {"prune_importance": "gradient"})
    # a student wider than the teacher cannot be cut out of it
    assert main(["distill", str(path), "--tiny_bert_hidden_size", "64", "--tiny_bert_heads", "2"]) == 2
    assert "hidden_size=64 but the source has only 48 hidden channels" in capsys.readouterr().err
    # fewer heads than the teacher: the attention loss cannot compare heads one to one
    assert (
        main(
            [
                "distill",
                str(path),
                "--tiny_bert_heads",
                "1",
                "--tiny_bert_hidden_size",
                "16",
                "--stage",
                "intermediate",
            ]
        )
        == 2
    )
    assert "alpha_attn compares attention heads one to one" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["--num_train_epochs", "-3"], "num_train_epochs must be >= 0"),
        (["--num_train_epochs", "0"], "nothing to train: num_train_epochs is 0 and max_steps is -1"),
        (["--learning_rate", "0"], "learning_rate must be > 0 (e.g. 1e-4), got 0"),
        (["--per_device_train_batch_size", "0"], "per_device_train_batch_size must be a whole number >= 1, got 0"),
        (["--max_train_samples", "0"], "max_train_samples must be >= 1 when given, got 0"),
        (["--max_length", "5000"], "max_length 5000 is longer than the teacher"),
    ],
)
def test_distill_refuses_a_recipe_that_cannot_train(tmp_path, teacher_folder, capsys, override, message):
    assert main(["distill", str(recipe(tmp_path, teacher_folder)), *override]) == 2
    err = capsys.readouterr().err
    assert f"compactbert distill: error: {message}" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_random_init_student_follows_the_recipe_seed(tmp_path, teacher_folder):
    """The student is made before any Trainer seeds the process: its random init must still come from `seed`."""
    fields = {"student_init": "tiny-bert", "tiny_bert_layers": 2, "tiny_bert_hidden_size": 32,
              "tiny_bert_intermediate_size": 37, "tiny_bert_heads": 2, "stages": ["prediction"]}  # fmt: skip
    trained = []
    for run, (seed, state) in enumerate([(0, 1), (0, 2), (1, 1)]):
        torch.manual_seed(state)  # what earlier work in the process left behind
        path = recipe(tmp_path, teacher_folder, seed=seed, output_dir=str(tmp_path / f"r{run}"), **fields)
        assert main(["distill", str(path)]) == 0
        trained.append(AutoModelForSequenceClassification.from_pretrained(tmp_path / f"r{run}" / "model").state_dict())
    assert all(torch.equal(trained[0][k], trained[1][k]) for k in trained[0])
    assert not all(torch.equal(trained[0][k], trained[2][k]) for k in trained[0])


@pytest.mark.parametrize(
    "labels, message",
    [
        ({0: "fresh", 1: "rotten"}, r"the teacher's labels \['fresh', 'rotten'\] are not those of task"),
        ({0: "positive", 1: "negative"}, r"the teacher's labels are in another order \(\['positive', 'negative'\]\)"),
        ({0: "negative", 1: "positive", 2: "mixed"}, r"the teacher predicts 3 labels .* but task .* has 2"),
    ],
)
def test_a_teacher_of_other_labels_is_refused_before_training(tmp_path, labels, message, capsys):
    teacher = make_teacher()
    if len(labels) != teacher.config.num_labels:
        teacher.config.num_labels = len(labels)
        teacher = BertForSequenceClassification(teacher.config)
    teacher.config.id2label, teacher.config.label2id = labels, {v: k for k, v in labels.items()}
    folder = save_with_tokenizer(teacher, tmp_path / "teacher")
    # what the teacher was fine-tuned on, as finetune records it: the refusal says how to distil on that
    recipe_data = {"text_column": "text", "label_column": "verdict"}
    (folder / "metrics.json").write_text(json.dumps({"task": "my-reviews.csv", "recipe": {"data": recipe_data}}))
    path = recipe(tmp_path, folder)
    assert main(["distill", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "(--task my-reviews.csv --text_column text --label_column verdict)" in err
    assert not (tmp_path / "run" / "model").exists()


def test_a_teacher_without_a_trained_head_is_refused_before_anything_is_written(tmp_path, capsys):
    from transformers import BertModel

    folder = save_with_tokenizer(make_bert(BertModel), tmp_path / "encoder")  # a bare encoder: no classifier
    assert main(["distill", str(recipe(tmp_path, folder))]) == 2
    err = capsys.readouterr().err
    assert "holds no trained classification head (its config names BertModel): fine-tune it" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("names", [["LABEL_0", "LABEL_1"], ["NEGATIVE", "Positive"]])
def test_a_teacher_of_unnamed_or_differently_cased_labels_is_taken_and_the_student_gets_the_tasks_names(
    tmp_path, names
):
    teacher = make_teacher()
    teacher.config.id2label, teacher.config.label2id = dict(enumerate(names)), {n: i for i, n in enumerate(names)}
    folder = save_with_tokenizer(teacher, tmp_path / "teacher")
    assert main(["distill", str(recipe(tmp_path, folder))]) == 0
    final = tmp_path / "run" / "model"
    assert AutoModelForSequenceClassification.from_pretrained(final).config.id2label == {0: "negative", 1: "positive"}
    assert json.loads((final / "metrics.json").read_text())["label_names"] == ["negative", "positive"]
