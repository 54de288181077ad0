"""What a card says of where a model came from, as a user's own journey writes its folders: a teacher fine-tuned on
a local CSV (`finetune`), students distilled from it (`distill`, saved in `<run>/model`), a zoo entry (`build`) and a
push. The card names the teacher and the losses and stages the run recorded, compares the model with its teacher's
test accuracy on the same split, is titled by the run (or the recipe, or the repository), and names no local path."""

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from safetensors.torch import save_file

from compactbert.cli import main
from compactbert.hub import render_card, validate_card
from compactbert.hub.build import build, read_recipe
from compactbert.hub.push import plan_push

from support.zoo import tiny_shrunk_folder

TEST = {"accuracy": 0.75, "macro_f1": 0.74, "majority_label": "fresh", "majority_accuracy": 0.55}
DATA = {"task": "out/reviews.csv", "split_seed": 42, "max_eval_samples": None}


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.texts = []

    def emit(self, record):
        self.texts.append(record.getMessage())


def run_folder(root: Path, name: str, config: dict, metrics: dict) -> Path:
    """`<root>/out/runs/<name>/model` as a run writes it: config.json, weights, metrics.json."""
    folder = root / "out" / "runs" / name / "model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"num_hidden_layers": 2, "hidden_size": 32} | config))
    save_file({"w": torch.zeros(4, 8)}, folder / "model.safetensors")
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def distilled(stages=("prediction",), losses=None, test=None, split_seed=42) -> dict:
    """metrics.json as `compactbert distill` writes it (a teacher, its stages and loss weights, no `method`)."""
    return {
        "train_stages": [{"stage": s, "epoch": 1.0, "teacher_layers": None} for s in stages],
        "test": test or TEST,
        "task": DATA["task"],
        "teacher": "out/runs/teacher2/model",
        "split_seed": split_seed,
        "seed": 0,
        "label_names": ["fresh", "rotten"],
        "stages": list(stages),
        "losses": losses or {"ce": 1.0},
        "recipe": {"data": DATA | {"split_seed": split_seed}, "teacher": {"teacher": "out/runs/teacher2/model"}},
    }


@pytest.fixture
def journey(tmp_path, monkeypatch):
    """The newcomer's folders, seen from where they ran the commands: a BERT teacher fine-tuned on the CSV, a
    TinyBert pruned from it and a 3-layer BERT made of its layers 0, 2, 4, both distilled with soft targets."""
    monkeypatch.chdir(tmp_path)
    teacher = {"test": {"accuracy": 0.8, "macro_f1": 0.79}, "task": DATA["task"], "split_seed": 42}
    bert = {"model_type": "bert", "architectures": ["BertForSequenceClassification"], "num_hidden_layers": 6}
    run_folder(tmp_path, "teacher2", bert | {"hidden_size": 48}, teacher | {"recipe": {"data": DATA}})
    (tmp_path / DATA["task"]).write_text("review,sentiment\n")  # the user's own CSV
    tiny = {
        "model_type": "tiny_bert",
        "architectures": ["TinyBertForSequenceClassification"],
        "fit_size": 48,
        "fit_projection": "shared",
        "teacher_model": None,
        "pruned_from": "out/runs/teacher2/model",
        "pruning": {"kept_layers": [0, 2], "source_num_hidden_layers": 6, "importance": "activation"},
    }
    shrunk = {
        "model_type": "shrunk_bert",
        "architectures": ["ShrunkBertForSequenceClassification"],
        "hidden_size": 48,
        "intermediate_size": 37,
        "num_hidden_layers": 3,
        "kept_layers": [0, 2, 4],
        "source_num_hidden_layers": 6,
        "source_model": "out/runs/teacher2/model",
        "drop_strategy": "distil-init:every-other",
    }
    return {
        "pruned4": run_folder(tmp_path, "pruned4", tiny, distilled()),
        "distil3": run_folder(tmp_path, "distil3", shrunk, distilled(losses={"ce": 1.0, "label": 1.0})),
    }


def rows(text: str) -> dict[str, list[str]]:
    """The card's table rows: first cell -> the other cells."""
    cells = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")
    ]
    return {row[0]: row[1:] for row in cells}


def test_a_pruned_students_card_names_the_teacher_it_was_distilled_from(journey):
    card = render_card(journey["pruned4"], model_id="out/runs/pruned4/model")
    assert validate_card(str(card)) == []
    assert "Teacher: `teacher2`." in card.text and "not recorded" not in card.text  # named by its run's folder


def test_a_pruned_students_card_names_the_losses_it_was_distilled_with_and_no_other(journey):
    card = render_card(journey["pruned4"])
    # only the soft-target loss was used: no hidden-state or embedding loss, so no projection to speak of
    assert "projected" not in card.text and "hidden-state" not in card.text
    assert rows(card.text)["soft targets (teacher logits)"] == ["1.0"]
    assert "1. **task distillation: prediction** on the reviews training split, 1.0 epoch(s)" in card.text


def test_a_student_made_of_its_teachers_layers_says_it_was_distilled(journey):
    card = render_card(journey["distil3"], model_id="out/runs/distil3/model")
    assert validate_card(str(card)) == []
    text = card.text
    assert "3 of the 6 transformer layers of its teacher `teacher2` (source layers 0, 2, 4)" in text
    assert "Then distilled from the teacher `teacher2`" in text and "fine-tuned on the task (see" not in text
    assert rows(text)["soft targets (teacher logits)"] == ["1.0"] and rows(text)["task labels"] == ["1.0"]
    assert "Strategy: `every-other`" in text and "sanh2019distilbert" in text


def test_a_student_made_of_its_teachers_layers_without_a_distillation_record_claims_no_training(journey):
    """`init_student` saved as it is, or trained by a DistillationTrainer of one's own: the card says what the config
    records (made of the teacher's layers) and that the training since is not recorded, not that it was distilled."""
    folder = journey["distil3"].parent.parent / "untrained" / "model"
    shutil.copytree(journey["distil3"], folder)
    (folder / "metrics.json").unlink()
    text = render_card(folder).text
    assert "3 of the 6 transformer layers of its teacher `teacher2` (source layers 0, 2, 4)" in text  # its run
    assert "How it was trained since is not recorded here" in text
    assert "distilled from that teacher on the task" not in text and "Then distilled from" not in text
    assert "started as the teacher's weights" in text and "sanh2019distilbert" in text
    (folder / "metrics.json").write_text(json.dumps({"test": TEST, "task": DATA["task"]}))  # evaluate --write's
    assert "was fine-tuned on the task" not in render_card(folder).text  # scored since, not trained
    # a distillation that recorded its teacher but no losses or stages: no sentence ends on a colon
    (folder / "metrics.json").write_text(json.dumps({"teacher": "out/runs/teacher2/model"}))
    text = render_card(folder).text
    assert "not fine-tuned on the labels alone." in text and "labels alone:" not in text


@pytest.mark.parametrize("name", ["pruned4", "distil3"])
def test_the_card_shows_the_teachers_test_accuracy_on_the_same_split_and_the_share_kept(journey, name):
    text = render_card(journey[name]).text
    header = next(line for line in text.splitlines() if line.startswith("| | this model"))
    assert header == "| | this model | teacher (teacher2) |"
    assert rows(text)["test accuracy (reviews)"] == ["0.7500", "0.8000: this model keeps 93.8% of it"]
    assert rows(text)["parameters"][1].startswith("32 (0.0M): this model has 100% of them")  # read from its folder
    assert "The teacher (`teacher2`) reached accuracy 0.8000 and macro-F1 0.7900 on the same split" in text
    # evaluated on another split: nothing to compare with
    metrics = journey[name] / "metrics.json"
    metrics.write_text(json.dumps(json.loads(metrics.read_text()) | {"split_seed": 7}))
    assert "0.8000" not in render_card(journey[name]).text


@pytest.mark.parametrize("name", ["pruned4", "distil3"])
def test_the_teachers_score_the_distillation_recorded_is_shown_where_its_folder_is_not(
    journey, tmp_path, monkeypatch, name
):
    """A distill run scores its teacher on the student's own test texts (`teacher_scores`): the card shows that score
    from a folder moved away from the teacher (or from another working folder), and prefers it where both exist."""
    metrics = journey[name] / "metrics.json"
    scored = {"teacher_scores": {"test": {"accuracy": 0.78, "macro_f1": 0.77}}}
    metrics.write_text(json.dumps(json.loads(metrics.read_text()) | scored))
    expected = ["0.7500", "0.7800: this model keeps 96.2% of it"]
    assert rows(render_card(journey[name]).text)["test accuracy (reviews)"] == expected  # the teacher is here
    moved = tmp_path / "elsewhere" / name / "model"
    journey[name].rename(moved.parent.mkdir(parents=True) or moved)
    shutil.rmtree(tmp_path / "out" / "runs" / "teacher2")  # the teacher is gone, and the CSV is not found from here
    monkeypatch.chdir(tmp_path / "elsewhere")
    text = render_card(moved).text
    assert rows(text)["test accuracy (reviews)"] == expected  # the task file is named as a file, not as a Hub id
    assert "The teacher (`teacher2`), scored by the distillation run, reached accuracy 0.7800" in text


@pytest.mark.parametrize("name", ["pruned4", "distil3"])
def test_a_run_folders_card_is_titled_by_the_run_and_names_no_local_path(journey, name):
    card = render_card(journey[name], model_id=f"out/runs/{name}/model")
    assert card.text.lstrip().startswith(f"# {name}\n") and card.data.model_name == name
    # the usage examples load the folder where it is; nothing else locates the teacher or the task on this machine
    assert str(card).count("out/") == str(card).count(f'"out/runs/{name}/model"')
    assert "(`reviews.csv`, split seed 42" in card.text


def test_a_pushed_card_is_rendered_for_the_repository(tmp_path, capfd):
    metrics = {"test": TEST | {"accuracy": 0.9}, "task": "bbc-news", "split_seed": 42, "label_names": ["a", "b"]}
    folder = tiny_shrunk_folder(tmp_path / "runs" / "shrunk3" / "model", metrics=metrics)
    local = (folder / "README.md").read_text()
    assert "# shrunk3\n" in local and 'from_pretrained("my-user/shrunk3")' not in local
    plan = plan_push(folder, "my-user/shrunk3")
    card = plan.replaced["README.md"].decode()
    assert "# my-user/shrunk3\n" in card and 'from_pretrained("my-user/shrunk3")' in card and validate_card(card) == []
    assert str(tmp_path) not in card and str(tmp_path) in local
    assert main(["push", str(folder), "--repo-id", "my-user/shrunk3", "--dry-run"]) == 0
    out = capfd.readouterr().out
    assert "README.md (the card) goes up rendered for my-user/shrunk3" in out
    assert (folder / "README.md").read_text() == local  # the local card is left as it is


def test_a_card_edited_by_hand_goes_up_as_it_is(tmp_path, capfd):
    metrics = {"test": TEST | {"accuracy": 0.9}, "task": "bbc-news", "split_seed": 42, "label_names": ["a", "b"]}
    folder = tiny_shrunk_folder(tmp_path / "runs" / "shrunk3" / "model", metrics=metrics)
    edited = (folder / "README.md").read_text().replace("# shrunk3\n", "# shrunk3\n\nOur support-ticket router.\n", 1)
    (folder / "README.md").write_text(edited)
    plan = plan_push(folder, "my-user/shrunk3")
    assert "README.md" not in plan.replaced and plan.card_edited  # the user's words are not rendered away
    assert main(["push", str(folder), "--repo-id", "my-user/shrunk3", "--dry-run"]) == 0
    assert "README.md (the card) goes up as it is: it was edited since compactbert wrote it" in capfd.readouterr().out


def test_a_build_is_titled_by_its_recipe_and_shows_the_gates_reference_as_the_fine_tuned_source(built, tmp_path):
    """No repository and no baseline: the title is the recipe's name, and the gate's reference (the source
    fine-tuned on the same task and split by another run) gives the source's test accuracy. Timing the model as a
    bare encoder prints no load report."""
    recipe = yaml.safe_load((built.parent.parent / "recipe.yaml").read_text())
    reference = built.parent / "baseline" / "model"
    recipe |= {"name": "reviews-even3", "output_dir": str(tmp_path / "zoo"), "baseline": False, "repo_id": None}
    recipe |= {"gate": {"min_retention": 0.5, "reference_accuracy": str(reference)}}
    path = tmp_path / "zoo.yaml"
    path.write_text(yaml.safe_dump(recipe))
    reports = ListHandler()
    logging.getLogger("transformers").addHandler(reports)  # where transformers logs (not to the root logger)
    try:
        folder = build(read_recipe(path), force=True)
    finally:
        logging.getLogger("transformers").removeHandler(reports)
    assert not [text for text in reports.texts if "LOAD REPORT" in text or "UNEXPECTED" in text]
    card = ModelCard.load(folder / "README.md")
    assert card.text.lstrip().startswith("# reviews-even3\n")
    accuracy = json.loads((reference / "metrics.json").read_text())["test"]["accuracy"]
    assert rows(card.text)["test accuracy (tiny sentiment)"][1].startswith(f"{accuracy:.4f}: this model keeps")
    reference_line = (
        "The source, fine-tuned on the same task by another run (`baseline`, the quality gate's reference),"
    )
    assert reference_line in card.text
