"""Pretraining recipes end to end on a tiny model and corpus: Trainer run, per-objective logs, held-out SOP/NSP/MLM
scores, the saved model, resuming, and the `compactbert pretrain` command."""

import json

import pytest
import torch
from transformers import AutoModelForPreTraining

from compactbert.cli import main
from compactbert.pretraining import parse_pretrain_recipe, pretrain

from helpers import make_tokenizer

TINY_MODEL = {
    "embedding_size": 16,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
}
DOCUMENTS = [
    "the movie was very good\n\nthe actor is funny\n\na great story with music",
    "the team win the game\n\nit was not boring\n\nthe sport news is good",
    "a bad film with a bad plot\n\nthis is not great\n\nthe story was awful",
    "the news of the game\n\nthe team lose\n\nit is boring and not funny",
]


@pytest.fixture
def recipe(tmp_path):
    make_tokenizer().save_pretrained(tmp_path / "tok")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n===\n".join(DOCUMENTS * 5))
    fields = TINY_MODEL | {
        "tokenizer": str(tmp_path / "tok"),
        "sharing": "attention",
        "corpus": str(corpus),
        "max_length": 24,
        "eval_documents": 0.2,
        "output_dir": str(tmp_path / "run"),
        "max_steps": 3,
        "per_device_train_batch_size": 8,
        "logging_steps": 1,
        "save_steps": 2,
        "report_to": "none",
        "disable_tqdm": True,
        "bf16_auto": False,
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(json.dumps(fields))  # JSON is YAML
    return path, tmp_path


def test_pretrain_writes_a_model_with_held_out_scores_and_per_objective_logs(recipe):
    path, tmp_path = recipe
    metrics = pretrain(*parse_pretrain_recipe(path, {"sentence_objective": "nsp"}))
    assert metrics["train"]["global_step"] == 3
    logged = [h for h in metrics["log_history"] if "loss" in h]
    assert len(logged) == 3
    for h in logged:
        assert h["loss"] == pytest.approx(h["mlm_loss"] + h["sentence_loss"], abs=2e-3)
    for objective in ("sop", "nsp"):
        scores = metrics["held_out"][objective]
        assert scores["pairs"] == 8  # 4 held-out documents x 2 consecutive pairs
        assert 0 <= scores["sentence_accuracy"] <= 1 and scores["masked_tokens"] >= 8
    assert metrics["documents"] == {"train": 16, "eval": 4}
    folder = tmp_path / "run" / "model"
    model = AutoModelForPreTraining.from_pretrained(folder)
    assert type(model).__name__ == "AlbertSopForPreTraining"
    assert (model.config.sentence_objective, model.config.sharing) == ("nsp", "attention")
    assert model.config.vocab_size == len(make_tokenizer())
    assert json.loads((folder / "metrics.json").read_text())["nsp_accuracy"] == metrics["nsp_accuracy"]
    # resume from the step-2 checkpoint: state restored, one more step trained (MLM masks are drawn afresh)
    checkpoint = tmp_path / "run" / "checkpoint-2"
    at_step_2 = AutoModelForPreTraining.from_pretrained(checkpoint)
    resumed = pretrain(
        *parse_pretrain_recipe(
            path, {"sentence_objective": "nsp", "resume_from_checkpoint": str(checkpoint), "overwrite": True}
        )
    )
    assert resumed["train"]["global_step"] == 3
    assert resumed["log_history"][:2] == metrics["log_history"][:2]
    again = AutoModelForPreTraining.from_pretrained(folder)
    step_3 = again.albert.encoder.albert_layer_groups[1].albert_layers[0].ffn.weight
    assert not torch.equal(step_3, at_step_2.albert.encoder.albert_layer_groups[1].albert_layers[0].ffn.weight)


def test_recipe_errors_are_clear(recipe):
    path, tmp_path = recipe
    with pytest.raises(
        ValueError, match=r"unknown recipe keys \['sharring'\] \(did you mean: sharring -> sharing\?\)"
    ):
        parse_pretrain_recipe(path, {"sharring": "all"})
    with pytest.raises(ValueError, match="unknown masking 'spans'"):
        parse_pretrain_recipe(path, {"masking": "spans"})
    (tmp_path / "run" / "model").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="already exists; choose another output_dir or set overwrite: true"):
        pretrain(*parse_pretrain_recipe(path, {"max_steps": 1}))


@pytest.mark.parametrize("name", ["albert-sop-bbc-small", "albert-nsp-bbc-small"])
def test_committed_recipes_parse(name):
    model_args, data_args, training_args = parse_pretrain_recipe(f"configs/{name}.yaml")
    assert model_args.sentence_objective == name.split("-")[1]
    assert data_args.corpus == "bbc-news" and training_args.learning_rate == 1e-3


def test_cli_pretrain_reports_bad_input_with_exit_code_2(recipe, capsys):
    path, _ = recipe
    assert main(["pretrain", str(path), "--sharing", "half"]) == 2
    assert "unknown sharing 'half'; choose one of: all, attention, ffn, none" in capsys.readouterr().err


def test_cli_pretrain_runs_a_recipe(recipe, capsys):
    path, tmp_path = recipe
    assert main(["pretrain", str(path), "--max_steps", "1", "--sharing", "ffn"]) == 0
    out = capsys.readouterr().out
    assert "held-out  SOP accuracy" in out and "NSP accuracy" in out and "MLM accuracy" in out
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["sharing"] == "ffn"
