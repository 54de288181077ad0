"""`compactbert build` for the tiny_bert and albert_sop families: test-sized builds (tiny source, 60-row task, a
16-document pretraining corpus), their cards, the published weights, a push to the local Hub and loading it back."""

import json
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.finetune import predict_labels
from compactbert.hub import validate_card
from compactbert.hub.build import (
    albert_conversion_arguments,
    albert_sop_arguments,
    build,
    read_recipe,
    tiny_bert_arguments,
    tiny_bert_record,
)
from compactbert.hub.validate import check_folder, folder_problems

from support.helpers import TEXTS
from support.zoo import LEARNS, logits_without_compactbert, tiny_recipe, tiny_shrunk_folder

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
METHODS = {
    "tiny_bert": {
        "tiny_bert_layers": 2,
        "tiny_bert_hidden_size": 16,
        "tiny_bert_intermediate_size": 24,
        "tiny_bert_heads": 2,
        "general_epochs": 1,
        "general_max_texts": 16,
        "stages": ["intermediate", "prediction"],
        "alpha_label": 0.5,
        "training": {"learning_rate": 2.0e-3},
    },
    "albert_sop": {
        "embedding_size": 8,
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 24,
        "max_position_embeddings": 64,
        "max_length": 32,
        "max_documents": 16,
        "eval_documents": 0.25,
        "training": {"learning_rate": 1.0e-3},
    },
}


# a tiny_bert student cut out of the teacher the build fine-tunes (2 of its 4 layers, half its width), then trained on
# the task labels alone: the zoo recipe's path (configs/minilm-tinybert4-bbc-news.yaml) at test size
PRUNED = {
    "student_init": "pruned",
    "tiny_bert_layers": 2,
    "tiny_bert_hidden_size": 16,
    "tiny_bert_intermediate_size": 24,
    "tiny_bert_heads": 2,
    "prune_layers": [0, 2],
    "prune_calibration_size": 20,
    "stage": "prediction",
    "alpha_ce": 0.0,
    "alpha_label": 1.0,
}


# an albert_sop student converted from the teacher the build fine-tunes (E 8 of its hidden 32, one shared layer started
# as the mean of its 4, SVD weighted by token counts in the training texts), then TinyBERT's two task stages, one to
# one with the teacher's layers: the zoo recipe's path (configs/albert-sop-small-bbc-news.yaml) at test size
CONVERTED = {
    "student_init": "albert",
    "albert_embedding_size": 8,
    "albert_sharing": "all",
    "albert_init": "mean",
    "albert_frequency_weighting": True,
    "stages": ["intermediate", "prediction"],
    "alpha_label": 1.0,
}


# the recipe's training for each family's build: enough to learn the tiny task, so the builds pass the quality gate
# (the Albert-SOP from random init needs twice the epochs: after 10 it was under the majority class with seeds 0 and 1
# at 5e-3, and with seed 0 at 1e-2; after 20 it passed with both seeds at 3e-3 and at 1e-2)
TRAINING = {"tiny_bert": LEARNS, "albert_sop": LEARNS | {"num_train_epochs": 20}}


def repo_id(family: str) -> str:
    return f"org/{family.replace('_', '-')}-test"


@pytest.fixture(scope="module", params=sorted(METHODS))
def family_build(request, tmp_path_factory) -> tuple[str, Path]:
    """(family, the built `model` folder) of a test-sized recipe of each new family."""
    family = request.param
    tmp = tmp_path_factory.mktemp(family)
    name = repo_id(family).split("/")[1]
    path = tiny_recipe(
        tmp, name=name, family=family, method=METHODS[family], repo_id=repo_id(family), training=TRAINING[family]
    )
    return family, build(read_recipe(path))


def test_built_folder_is_ready_and_its_card_says_how_it_was_made(family_build):
    family, folder = family_build
    check_folder(folder)  # raises if not ready to push
    assert folder_problems(folder) == []
    text = (folder / "README.md").read_text()
    assert validate_card(text) == []
    card = ModelCard.load(folder / "README.md")
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    info = json.loads((folder / "build.json").read_text())
    assert config["model_type"] == family and card.data.model_name == repo_id(family).split("/")[1]
    assert {r.metric_type: r.metric_value for r in card.data.eval_results} == {
        "accuracy": metrics["test"]["accuracy"],
        "f1": metrics["test"]["macro_f1"],
    }
    source_accuracy = info["comparison"]["source"]["accuracy"]
    assert f"reached accuracy {source_accuracy:.4f}" in card.text
    run = folder.parent  # <tmp>/build, next to <tmp>/source and <tmp>/task.csv
    if family == "tiny_bert":
        teacher = "source fine-tuned on task by this build"  # the source folder by its name, not its path
        assert config["teacher_model"] == metrics["method"]["teacher"] == teacher  # not the teacher's folder
        assert f"Teacher: `{teacher}`" in card.text
        assert config["num_hidden_layers"] == 2 and config["hidden_size"] == 16 and config["fit_size"] == 32
        assert "1. **general distillation** on 16 unlabeled BBC News training paragraphs" in card.text
        assert "2. **task distillation: intermediate** on the task training split, 10 epoch(s)" in card.text
        assert "3. **task distillation: prediction**" in card.text
        for row in ("| hidden-state MSE (intermediate) | 1.0 |", "| task labels (prediction) | 0.5 |"):
            assert row in card.text
        # the layers the distillation trainer matched (uniform map, 2 of 4 layers), as the run recorded them
        assert [s["teacher_layers"] for s in metrics["train_stages"]] == [[1, 3], [1, 3], None]
        assert "Student layer i learns from teacher layer 1, 3" in card.text
        # a student from random init: the card describes distillation, not pruning
        assert config.get("pruned_from") is None and config.get("pruning") is None
        assert (
            "by transformer distillation (Jiao et al., 2020): its intermediate states as well as its predictions"
            in card.text
        )
        assert "Cut out of" not in card.text and "muralidharan2024minitron" not in card.text
        # the teacher the build fine-tuned is the baseline: the source fine-tuned with the recipe, trained once
        teacher_metrics = json.loads((run / "train" / "teacher" / "model" / "metrics.json").read_text())
        assert source_accuracy == teacher_metrics["test"]["accuracy"] and not (run / "baseline").exists()
    else:
        steps = metrics["method"]["pretraining_steps"]
        assert steps > 0 and config["embedding_size"] == 8 and config["sharing"] == "all"
        assert "| parameter sharing | `all` |" in card.text and "| embedding size E | 8 |" in card.text
        assert f"| pre-training steps | {steps} |" in card.text
        assert (
            "| pre-training data | BBC News article bodies of the training split (split seed 42): 12 documents"
            in card.text
        )  # 16 minus 4 held out
        assert "| after pre-training, on 4 held-out documents | SOP accuracy" in card.text
        assert "sentence-order prediction (SOP)" in card.text and "lan2020albert" in card.text
        assert (run / "baseline" / "model" / "metrics.json").is_file()


def test_published_weights_are_the_evaluated_model(family_build):
    family, folder = family_build
    trained = folder.parent / "train" / "model"
    assert (folder / "model.safetensors").read_bytes() == (trained / "model.safetensors").read_bytes()
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    assert type(model).__name__ == {"tiny_bert": "TinyBert", "albert_sop": "AlbertSop"}[family] + (
        "ForSequenceClassification"
    )
    # its predictions on the test split give the accuracy the build measured, and the card publishes
    info = json.loads((folder / "build.json").read_text())
    dataset, _ = load_task(info["recipe"]["task"], seed=42)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    predicted = predict_labels(model, tokenizer, dataset["test"]["text"], batch_size=16, max_length=16, bf16=False)
    accuracy = float((predicted == dataset["test"]["label"]).mean())
    assert accuracy == pytest.approx(info["metrics"]["test"]["accuracy"], abs=1e-12)


@pytest.fixture
def hub_checked(hub):
    hub.card_validator = validate_card
    return hub


def test_push_and_load_back_with_and_without_compactbert(family_build, hub_checked, tmp_path):
    family, folder = family_build
    assert main(["push", str(folder), "--repo-id", repo_id(family)]) == 0
    assert len(hub_checked.commits_for(repo_id(family))) == 1
    local = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    batch = AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True, return_tensors="pt")
    remote = AutoModelForSequenceClassification.from_pretrained(repo_id(family)).eval()
    with torch.no_grad():
        expected = local(**batch).logits
        assert torch.equal(remote(**batch).logits, expected)
    module, logits = logits_without_compactbert(repo_id(family), TEXTS, tmp_path)
    assert module.startswith("transformers_modules.") and torch.equal(logits, expected)


@pytest.mark.parametrize(
    ("family", "method", "message"),
    [
        ("tiny_bert", {"teacher_folder": "t"}, "unknown tiny_bert method keys ['teacher_folder']; expected"),
        ("tiny_bert", {"student_init_layers": [0, 2]}, "unknown tiny_bert method keys ['student_init_layers']"),
        ("tiny_bert", {"student_init": "every-other"}, "method.student_init must be tiny-bert (a fresh student"),
        ("tiny_bert", {"prune_layers": [0, 1]}, "prune_layers and prune_importance apply to student_init: pruned"),
        ("tiny_bert", PRUNED | {"general_epochs": 1}, "general_epochs (general distillation) applies to student_init"),
        ("tiny_bert", PRUNED | {"prune_importance": "gradient"}, "unknown prune_importance 'gradient'"),
        ("tiny_bert", {"alpha_ce": -1}, "alpha_ce must be >= 0"),
        ("tiny_bert", {"stages": ["warmup"]}, "unknown stage 'warmup'"),
        ("tiny_bert", {"training": {"max_length": 8}}, "method.training takes TrainingArguments fields only"),
        ("tiny_bert", {"temperature": "warm"}, "recipe.yaml: method: temperature takes a number; got 'warm'"),
        ("tiny_bert", {"training": {"learning_rate": "x"}}, "recipe.yaml: method: training: learning_rate takes a"),
        ("albert_sop", {"embedding_size": "big"}, "recipe.yaml: method: embedding_size takes an integer; got 'big'"),
        ("albert_sop", {"layers": 2}, "unknown albert_sop method keys ['layers']; expected"),
        ("albert_sop", {"sharing": "most"}, "unknown sharing 'most'"),
        ("albert_sop", {"training": [1]}, "method.training must be a mapping"),
        ("albert_sop", {"student_init": "pretrained"}, "albert_sop method.student_init must be albert (converted"),
        (
            "albert_sop",
            CONVERTED | {"embedding_size": 8, "sharing": "all"},  # the pretraining path's keys
            "unknown albert_sop method keys ['embedding_size', 'sharing']; expected (student_init: albert) keys",
        ),
        ("albert_sop", CONVERTED | {"general_epochs": 1}, "unknown albert_sop method keys ['general_epochs']"),
        ("albert_sop", CONVERTED | {"albert_sharing": "most"}, "unknown albert_sharing 'most'"),
        ("albert_sop", CONVERTED | {"albert_init": "best"}, "unknown albert_init 'best'"),
        ("albert_sop", CONVERTED | {"training": {"max_length": 8}}, "method.training takes TrainingArguments fields"),
    ],
)
def test_bad_methods_are_clear_errors_before_anything_trains(tmp_path, capsys, family, method, message):
    path = tiny_recipe(tmp_path, family=family, method=method)
    assert main(["build", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    if "expected" in message:  # the error lists what a method may hold
        assert ("general_epochs" if family == "tiny_bert" else "embedding_size") in err
    assert not list((tmp_path / "build").rglob("*.safetensors"))  # refused before any training


def test_zoo_recipes_of_the_new_families_parse(tmp_path):
    recipes = {
        yaml.safe_load(p.read_text())["family"]: read_recipe(p)
        for p in sorted(CONFIGS.glob("*.yaml"))
        if (yaml.safe_load(p.read_text()) or {}).get("family") in METHODS
    }
    assert set(recipes) == set(METHODS)
    teacher, (_, teacher_args, _, training_args) = tiny_bert_arguments(recipes["tiny_bert"], tmp_path)
    # cut out of the teacher the build fine-tunes, no general distillation, then TinyBERT's two task stages
    assert teacher is None and teacher_args.student_init == "pruned" and teacher_args.general_epochs == 0
    assert (teacher_args.tiny_bert_layers, teacher_args.tiny_bert_hidden_size) == (4, 312)  # TinyBERT-4
    assert (teacher_args.tiny_bert_intermediate_size, teacher_args.tiny_bert_heads) == (1200, 12)
    assert (teacher_args.prune_layers, teacher_args.prune_importance) == ("even-alternate", "activation")
    assert teacher_args.prune_calibration_size == 1024
    assert training_args.stages == ["intermediate", "prediction"] and training_args.layer_map == "kept"
    assert (training_args.alpha_hidden, training_args.alpha_attn, training_args.alpha_ce) == (1.0, 1.0, 1.0)
    assert training_args.num_train_epochs == 1 and training_args.learning_rate == 3.0e-4
    # converted from the teacher the build fine-tunes: E 128, all shared from its middle layer, frequency-weighted SVD, then
    # TinyBERT's two task stages
    teacher, (_, teacher_args, data_args, training_args) = albert_conversion_arguments(recipes["albert_sop"], tmp_path)
    assert teacher is None and teacher_args.student_init == "albert" and data_args.task == "bbc-news"
    assert (teacher_args.albert_embedding_size, teacher_args.albert_sharing, teacher_args.albert_init) == (
        128,
        "all",
        "middle",
    )
    assert teacher_args.albert_frequency_weighting and training_args.stages == ["intermediate", "prediction"]
    assert (training_args.alpha_hidden, training_args.alpha_attn, training_args.alpha_ce) == (1.0, 1.0, 1.0)
    assert training_args.learning_rate == 3.0e-4 and training_args.seed == 0  # method.training over training
    assert training_args.per_device_train_batch_size == 16  # method.training: twice the steps of batch 32
    assert recipes["albert_sop"].gate.min_margin_over_majority == 0.10  # the quality gate is on
    # the earlier recipe, pretrained from random init, is still a method: student_init: random and the pretraining keys
    scratch = read_recipe(CONFIGS / "albert-sop-small-bbc-news.yaml")
    scratch.method = {"student_init": "random", "sharing": "all", "corpus": "bbc-news", "training": {"seed": 1}}
    model_args, data_args, pretrain_args = albert_sop_arguments(scratch, tmp_path)
    assert model_args.tokenizer == "minilm" and model_args.sharing == "all" and data_args.corpus == "bbc-news"
    assert pretrain_args.seed == 1


def test_tiny_bert_from_a_given_teacher_trains_no_teacher(tmp_path):
    teacher = tiny_shrunk_folder(tmp_path / "teacher")  # any classifier with the task's two labels (here: untrained)
    method = {k: v for k, v in METHODS["tiny_bert"].items() if not k.startswith("general")}
    method |= {"teacher": str(teacher), "stages": ["prediction"]}
    # a student of an untrained teacher need not beat the majority class: forced past the quality gate, its card
    # says so exactly when the gate refused it
    folder = build(read_recipe(tiny_recipe(tmp_path, family="tiny_bert", method=method, baseline=False)), force=True)
    gate = json.loads((folder / "metrics.json").read_text())["quality_gate"]
    assert (
        gate["overridden"] == (not gate["passed"])
        and ("**Quality gate overridden.**" in (folder / "README.md").read_text()) == gate["overridden"]
    )
    assert not (tmp_path / "build" / "train" / "teacher").exists() and not (tmp_path / "build" / "baseline").exists()
    config = json.loads((folder / "config.json").read_text())
    assert config["teacher_model"] == "teacher" and config["fit_size"] == 32  # named by its folder, not located
    text = (folder / "README.md").read_text()
    assert "Teacher: `teacher`" in text and "1. **task distillation: prediction**" in text
    assert str(tmp_path) not in text
    assert "**general distillation**" not in text and "learns from teacher layer" not in text  # no layer was matched
    assert validate_card(text) == [] and folder_problems(folder) == []


def test_tiny_bert_card_shows_the_teacher_layers_the_distillation_recorded(tmp_path):
    """The card's layer map is the one the task stages' trainers recorded, not one recomputed from the recipe."""
    path = tiny_recipe(tmp_path, family="tiny_bert", method=METHODS["tiny_bert"])
    _, (_, teacher_args, _, training_args) = tiny_bert_arguments(read_recipe(path), tmp_path)
    stages = [
        {"stage": "general", "texts": 16, "teacher_layers": [0, 1]},  # general distillation: another teacher
        {"stage": "intermediate", "teacher_layers": [0, 3]},  # what no named layer_map gives for 2 of 4 layers
        {"stage": "prediction", "teacher_layers": None},
    ]
    record = tiny_bert_record(teacher_args, training_args, {"train_stages": stages}, "the source", "tiny")
    assert record["layer_map"] == [0, 3]
    stages[1]["teacher_layers"] = None  # no task stage matched layers: the card says nothing about them
    assert (
        tiny_bert_record(teacher_args, training_args, {"train_stages": stages}, "the source", "tiny")["layer_map"]
        is None
    )


def build_learning(tmp_path_factory, name: str, family: str, method: dict) -> Path:
    """The built `model` folder of a test-sized recipe `name` of `family` with a training that learns the tiny task."""
    tmp = tmp_path_factory.mktemp(name)
    path = tiny_recipe(tmp, name=name, family=family, method=method, repo_id=f"org/{name}", training=LEARNS)
    return build(read_recipe(path))


def built_records(folder: Path) -> tuple[Path, dict, dict, str]:
    """Check a built folder; return its run folder, config, metrics and the teacher's name on its card (the source
    folder's name, not this machine's run folder)."""
    check_folder(folder)
    run = folder.parent
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    return run, config, metrics, "source fine-tuned on task by this build"


@pytest.fixture(scope="module")
def pruned_build(tmp_path_factory) -> Path:
    """A tiny_bert build whose student is cut out of the fine-tuned teacher."""
    return build_learning(tmp_path_factory, "tiny-bert-pruned", "tiny_bert", PRUNED)


def test_pruned_tiny_bert_build_is_cut_out_of_the_teacher_it_fine_tuned(pruned_build):
    folder = pruned_build
    run, config, metrics, teacher = built_records(folder)
    assert config["model_type"] == "tiny_bert" and config["pruned_from"] == config["teacher_model"] == teacher
    pruning = config["pruning"]
    assert pruning["kept_layers"] == [0, 2] and pruning["layer_strategy"] == "explicit"
    assert (pruning["source_hidden_size"], pruning["hidden_size"]) == (32, 16)
    assert (pruning["source_head_dim"], pruning["head_dim"]) == (16, 8)
    assert (pruning["source_intermediate_size"], pruning["intermediate_size"]) == (37, 24)
    assert pruning["importance"] == "activation" and pruning["calibration_size"] == 20
    assert (config["num_hidden_layers"], config["hidden_size"], config["fit_size"]) == (2, 16, 32)
    # no general distillation: one task stage, on the labels alone
    assert [s["stage"] for s in metrics["train_stages"]] == ["prediction"] and metrics["losses"] == {"label": 1.0}
    assert [s["name"] for s in metrics["method"]["stages"]] == [
        "pruned from the teacher",
        "fine-tuning on the task labels (prediction stage)",
    ]
    # it was cut out of the teacher this build fine-tuned (the baseline), which the gate compared it with
    teacher_dir = run / "train" / "teacher" / "model"
    info = json.loads((folder / "build.json").read_text())
    teacher_metrics = json.loads((teacher_dir / "metrics.json").read_text())
    assert info["comparison"]["source"]["accuracy"] == teacher_metrics["test"]["accuracy"]
    assert metrics["quality_gate"]["passed"] and not (run / "baseline").exists()


def test_pruned_tiny_bert_card_says_what_was_kept_of_the_teacher(pruned_build):
    text = (pruned_build / "README.md").read_text()
    assert validate_card(text) == [] and folder_problems(pruned_build) == []
    assert ModelCard.load(pruned_build / "README.md").data.model_name == "tiny-bert-pruned"
    teacher = "source fine-tuned on task by this build"
    assert f"A **TinyBert** student cut out of {teacher}: a narrow, shallow BERT" in text
    assert f"Cut out of `{teacher}` by `compactbert.prune` (width and depth pruning)" in text
    for row in (
        "| layers | 4 | 2: source layers 0, 2 (0-based; `explicit`) |",
        "| hidden size | 32 | 16 |",
        "| attention heads x head size | 2 x 16 | 2 x 8 |",
        "| FFN size | 37 | 24 |",
        "| task labels (prediction) | 1.0 |",
    ):
        assert row in text
    assert "FFN neurons kept by activation importance, scored on 20 calibration texts" in text
    assert "1. **pruned from the teacher** on 20 texts of the task training split (activation importance)" in text
    assert "2. **fine-tuning on the task labels (prediction stage)** on the task training split, 10 epoch(s)" in text
    assert "**general distillation**" not in text and "by transformer distillation" not in text
    assert "- A pruned student keeps what the kept layers" in text and "muralidharan2024minitron" in text
    assert "soft targets" not in text  # alpha_ce 0: no distillation loss is claimed


def test_pruned_tiny_bert_loads_back_with_and_without_compactbert(pruned_build, tmp_path, hub_checked):
    assert main(["push", str(pruned_build), "--repo-id", "org/tiny-bert-pruned"]) == 0
    local = AutoModelForSequenceClassification.from_pretrained(pruned_build).eval()
    batch = AutoTokenizer.from_pretrained(pruned_build)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = local(**batch).logits
    module, logits = logits_without_compactbert("org/tiny-bert-pruned", TEXTS, tmp_path)
    assert module.startswith("transformers_modules.") and torch.equal(logits, expected)


def test_tiny_bert_record_of_a_magnitude_pruned_student(tmp_path):
    path = tiny_recipe(tmp_path, family="tiny_bert", method=PRUNED | {"prune_importance": "magnitude"})
    _, (_, teacher_args, _, training_args) = tiny_bert_arguments(read_recipe(path), tmp_path)
    stages = [{"stage": "prediction", "teacher_layers": None}]
    pruning = {"importance": "magnitude", "calibration_size": 0}
    record = tiny_bert_record(teacher_args, training_args, {"train_stages": stages}, "src", "tiny", pruning=pruning)
    assert record["stages"][0] == {
        "name": "pruned from the teacher",
        "data": "its weights (magnitude importance)",
        "epochs": None,
    }
    pruning["calibration_size"] = 8  # a layer strategy that scores contributions reads calibration texts
    record = tiny_bert_record(teacher_args, training_args, {"train_stages": stages}, "src", "tiny", pruning=pruning)
    data = "its weights (magnitude importance; layer contributions on 8 texts of the tiny training split)"
    assert record["stages"][0]["data"] == data
    assert record["stages"][1]["name"] == "fine-tuning on the task labels (prediction stage)"
    assert record["losses"] == [{"name": "task labels (prediction)", "weight": 1.0}]


@pytest.fixture(scope="module")
def converted_build(tmp_path_factory) -> Path:
    """An albert_sop build that converts the teacher it fine-tunes."""
    return build_learning(tmp_path_factory, "albert-sop-converted", "albert_sop", CONVERTED)


def test_converted_albert_sop_build_is_the_teacher_it_fine_tuned_converted_then_distilled(converted_build):
    folder = converted_build
    run, config, metrics, teacher = built_records(folder)
    assert config["model_type"] == "albert_sop" and config["source_model"] == metrics["method"]["teacher"] == teacher
    assert (config["embedding_size"], config["sharing"], config["shared_init"]) == (8, "all", "mean")
    assert (config["hidden_size"], config["num_hidden_layers"]) == (32, 4)  # the teacher's width and depth
    assert config["embedding_factorization"] == "frequency_weighted_svd"
    assert 0 < config["embedding_reconstruction_error"] < 1
    # TinyBERT's two task stages after the conversion, every layer matched one to one with the teacher's
    assert [s["stage"] for s in metrics["train_stages"]] == ["intermediate", "prediction"]
    assert [s["teacher_layers"] for s in metrics["train_stages"]] == [[0, 1, 2, 3], None]
    assert [s["name"] for s in metrics["method"]["stages"]] == [
        "converted from the teacher by `albert_from_bert` (the settings above)",
        "task distillation: intermediate",
        "task distillation: prediction",
    ]
    assert metrics["method"]["layer_map"] == [0, 1, 2, 3] and metrics["albert_frequency_texts"] == 48
    assert metrics["method"]["frequency_texts"] == "48 texts of the task training split"  # 60 rows: 48 train
    # the teacher this build fine-tuned is the baseline, and the quality gate compared the model with the task
    teacher_dir = run / "train" / "teacher" / "model"
    info = json.loads((folder / "build.json").read_text())
    teacher_metrics = json.loads((teacher_dir / "metrics.json").read_text())
    assert info["comparison"]["source"]["accuracy"] == teacher_metrics["test"]["accuracy"]
    assert info["comparison"]["source"]["num_parameters"] == teacher_metrics["num_parameters"]
    assert metrics["quality_gate"]["passed"] and not (run / "baseline").exists()
    assert metrics["num_parameters"] < teacher_metrics["num_parameters"]


def test_converted_albert_sop_card_shows_e_sharing_the_svd_error_and_the_saving(converted_build):
    from compactbert.models.albert_sop.card import parameter_parts

    text = (converted_build / "README.md").read_text()
    assert validate_card(text) == [] and folder_problems(converted_build) == []
    config = json.loads((converted_build / "config.json").read_text())
    metrics = json.loads((converted_build / "metrics.json").read_text())
    teacher = "source fine-tuned on task by this build"
    assert f"An **Albert-SOP** model converted from `{teacher}`, a trained BERT" in text
    for row in (
        f"| source | `{teacher}` (4 layers, hidden size 32) |",
        "| embedding size E | 8 (the source's: 32) |",
        "| word-embedding factorisation | frequency-weighted truncated SVD: word row i weighted by 1 + its token count "
        "in 48 texts of the task training split |",
        f"| reconstruction error of the word embeddings | {config['embedding_reconstruction_error']:.4f}: ",
        "| parameter sharing | `all`: one layer, applied 4 times; the shared weights started as the elementwise mean "
        "of the source's 4 layers |",
        "| hidden-state MSE (intermediate) | 1.0 |",
        "| task labels (prediction) | 1.0 |",
    ):
        assert row in text, row
    # the source's parameters are the teacher's as the build counted them (the baseline), not an estimate
    total, source = metrics["num_parameters"], json.loads((converted_build / "build.json").read_text())
    source = source["comparison"]["source"]["num_parameters"]
    parts = parameter_parts(config)
    assert (
        parts["source_embeddings"] + parts["source_layers"] + total - parts["embeddings"] - parts["layers"] == source
    )
    assert "Parameters against the source's:" in text  # no "computed from the config"
    assert (
        f"| total | {total:,} ({total / 1e6:.1f}M) | {source:,} ({source / 1e6:.1f}M): this model has "
        f"{100 * total / source:.1f}% of them, {100 - 100 * total / source:.1f}% fewer |"
    ) in text
    assert f"({100 * parts['embeddings'] / total:.1f}% of the model)" in text
    assert "1. **converted from the teacher by `albert_from_bert` (the settings above)**" in text
    assert "2. **task distillation: intermediate** on the task training split, 10 epoch(s)" in text
    assert "application i learned from teacher layer 0, 1, 2, 3 (in order), one to one" in text
    assert "It was not pre-trained with a sentence objective." in text and "pre-training steps" not in text


def test_converted_albert_sop_loads_back_with_and_without_compactbert(converted_build, tmp_path, hub_checked):
    assert main(["push", str(converted_build), "--repo-id", "org/albert-sop-converted"]) == 0
    local = AutoModelForSequenceClassification.from_pretrained(converted_build).eval()
    assert type(local).__name__ == "AlbertSopForSequenceClassification"
    batch = AutoTokenizer.from_pretrained(converted_build)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = local(**batch).logits
    module, logits = logits_without_compactbert("org/albert-sop-converted", TEXTS, tmp_path)
    assert module.startswith("transformers_modules.") and torch.equal(logits, expected)
