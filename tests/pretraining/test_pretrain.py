"""Pretraining recipes end to end on a tiny model and corpus: Trainer run, per-objective logs, held-out SOP/NSP/MLM
scores, the saved model, resuming, and the `compactbert pretrain` command."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForPreTraining, TrainingArguments

from compactbert.cli import main
from compactbert.models.albert_sop import AlbertSopConfig, AlbertSopForPreTraining
from compactbert.pretraining import (
    MaskingCollator,
    PretrainingTrainer,
    build_pairs,
    evaluate_pretraining,
    parse_pretrain_recipe,
    pretrain,
    pretraining_split,
    read_documents,
    split_documents,
)

from support.helpers import make_tokenizer
from support.trainers import RecordingMixin

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
    assert metrics["documents"] == {"train": 16, "eval": 4}
    folder = tmp_path / "run" / "model"
    model = AutoModelForPreTraining.from_pretrained(folder)
    # the held-out scores are the saved model's, on pairs of the 4 held-out documents (the data seed is the seed)
    seed = metrics["seed"]
    _, eval_docs = split_documents(read_documents(str(tmp_path / "corpus.txt")), 0.2, seed)
    for objective in ("sop", "nsp"):
        pairs = build_pairs(eval_docs, make_tokenizer(), objective, max_length=24, seed=seed + 1)
        assert metrics["held_out"][objective] == evaluate_pretraining(model, make_tokenizer(), pairs, seed=seed + 2)
        assert metrics["held_out"][objective]["pairs"] == 8  # 4 held-out documents x 2 consecutive pairs
    # pretraining_split hands scripts the same held-out documents, pairs and masks
    _, data_args, _ = parse_pretrain_recipe(path, {"sentence_objective": "nsp"})
    split = pretraining_split(data_args, make_tokenizer(), seed)
    assert split.eval_documents == eval_docs
    for objective in ("sop", "nsp"):
        pairs = split.eval_pairs[objective]
        assert metrics["held_out"][objective] == evaluate_pretraining(
            model, make_tokenizer(), pairs, seed=split.eval_mask_seed
        )
    batch = split.eval_collator(make_tokenizer())([pairs[i] for i in range(len(pairs))])
    expected = MaskingCollator(make_tokenizer(), seed=seed + 2)([pairs[i] for i in range(len(pairs))])
    assert torch.equal(batch["labels"], expected["labels"])
    assert type(model).__name__ == "AlbertSopForPreTraining"
    assert (model.config.sentence_objective, model.config.sharing) == ("nsp", "attention")
    assert model.config.vocab_size == len(make_tokenizer())
    assert json.loads((folder / "metrics.json").read_text())["nsp_accuracy"] == metrics["nsp_accuracy"]
    # resume from the step-2 checkpoint: state restored, one more step trained (MLM masks are drawn afresh). Its
    # weights are marked first, so a run that did not start from them cannot pass
    checkpoint = tmp_path / "run" / "checkpoint-2"
    key = "albert.encoder.albert_layer_groups.1.albert_layers.0.ffn.weight"
    marked = load_file(checkpoint / "model.safetensors")
    marked[key] = marked[key] + 0.5
    save_file(marked, checkpoint / "model.safetensors", metadata={"format": "pt"})
    resumed = pretrain(
        *parse_pretrain_recipe(
            path, {"sentence_objective": "nsp", "resume_from_checkpoint": str(checkpoint), "overwrite": True}
        )
    )
    assert resumed["train"]["global_step"] == 3
    assert resumed["log_history"][:2] == metrics["log_history"][:2]  # steps 1-2 come from the checkpoint's state
    step_3 = AutoModelForPreTraining.from_pretrained(folder).state_dict()[key]
    moved = (step_3 - marked[key]).abs().max()  # one AdamW step from the marked weights, at lr 5e-5 or less
    assert 0 < moved < 5e-4


def tiny_albert(tokenizer, seed=0):
    torch.manual_seed(seed)
    return AlbertSopForPreTraining(
        AlbertSopConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, sharing="all", **TINY_MODEL)
    )


@pytest.mark.parametrize("predicted", [0, 1])
def test_held_out_scores_of_a_model_with_known_outputs(predicted):
    """A model whose heads ignore their input: its SOP head always says `predicted`, its MLM head always the same
    token; on pairs whose label balance is known, the scores are known numbers."""
    tokenizer = make_tokenizer()
    pairs = build_pairs(DOCUMENTS * 3, tokenizer, "sop", max_length=24, seed=0)
    labels = pairs["sentence_label"]
    keep = [i for i, label in enumerate(labels) if label == 0] + [labels.index(1)]  # every in-order pair, 1 swapped
    pairs = pairs.select(keep)
    in_order = len(keep) - 1
    # the targets evaluate_pretraining masks: the same seeded masks, batch by batch (batches of 5)
    collator = MaskingCollator(tokenizer, seed=7)
    targets = torch.cat(
        [
            collator([pairs[j] for j in range(i, min(i + 5, len(pairs)))])["labels"].flatten()
            for i in range(0, len(pairs), 5)
        ]
    )
    targets = targets[targets != -100]
    favourite = int(targets.mode().values)  # the head's one answer: the most frequent target
    hits = int((targets == favourite).sum())
    assert 0 < hits < len(targets)
    model = tiny_albert(tokenizer)
    with torch.no_grad():
        model.sop_classifier.classifier.weight.zero_()
        model.sop_classifier.classifier.bias.copy_(torch.tensor([2.0, -2.0] if predicted == 0 else [-2.0, 2.0]))
        model.predictions.decoder.weight.zero_()
        model.predictions.decoder.bias.zero_()
        model.predictions.decoder.bias[favourite] = 3.0  # logits: 3 for `favourite`, 0 for every other token
    scores = evaluate_pretraining(model, tokenizer, pairs, batch_size=5, seed=7)
    assert scores["pairs"] == len(pairs) and scores["masked_tokens"] == len(targets)
    assert scores["sentence_accuracy"] == (in_order if predicted == 0 else 1) / len(pairs)
    assert scores["mlm_accuracy"] == hits / len(targets)
    # cross-entropy: log(sum of exp(logits)) minus the target's logit
    log_total = math.log(len(tokenizer) - 1 + math.exp(3.0))
    assert scores["mlm_loss"] == pytest.approx(log_total - 3.0 * hits / len(targets), rel=1e-5)


class RecordingPretrainingTrainer(RecordingMixin, PretrainingTrainer):
    """Keeps what `compute_loss` hands to the logging mixin (`support.trainers.RecordingMixin`)."""


def test_a_recipes_mlm_weight_weighs_the_training_loss_and_stays_out_of_the_config(recipe):
    path, tmp_path = recipe
    metrics = pretrain(*parse_pretrain_recipe(path, {"mlm_weight": 0.1}))
    logged = [h for h in metrics["log_history"] if "loss" in h]
    assert len(logged) == 3
    for h in logged:
        assert h["loss"] == pytest.approx(0.1 * h["mlm_loss"] + h["sentence_loss"], abs=2e-3)
    assert metrics["recipe"]["model"]["mlm_weight"] == 0.1
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert "mlm_weight" not in config and "mlm_bias_prior" not in config


@pytest.mark.parametrize("mlm_weight", [1.0, 0.25])
def test_objective_losses_logged_in_training_and_evaluation_are_the_means_of_what_compute_loss_gave(
    tmp_path, mlm_weight
):
    tokenizer = make_tokenizer()
    pairs = build_pairs(DOCUMENTS * 2, tokenizer, "sop", max_length=24, seed=0).remove_columns(["document"])
    args = TrainingArguments(
        output_dir=str(tmp_path / "run"),
        max_steps=4,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=2,
        logging_steps=2,
        eval_strategy="steps",
        eval_steps=2,
        per_device_eval_batch_size=3,
        learning_rate=1e-3,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    t = RecordingPretrainingTrainer(
        model=tiny_albert(tokenizer),
        args=args,
        train_dataset=pairs,
        eval_dataset=pairs.select(range(7)),
        data_collator=MaskingCollator(tokenizer, seed=0),
        mlm_weight=mlm_weight,
    )
    t.train()
    names = ("mlm_loss", "sentence_loss")
    train_calls = [values for training, _, values in t.recorded if training]
    train_logs = [entry for entry in t.state.log_history if "loss" in entry]
    assert len(train_calls) == 4 * 2 and [entry["step"] for entry in train_logs] == [2, 4]
    for entry, window in zip(train_logs, (train_calls[:4], train_calls[4:]), strict=True):  # 2 steps x 2 micro-batches
        for name in names:
            assert entry[name] == pytest.approx(sum(v[name] for v in window) / 4, rel=1e-5)
        # the total the optimizer followed: the MLM loss weighted by mlm_weight, the sentence loss by 1
        assert entry["loss"] == pytest.approx(mlm_weight * entry["mlm_loss"] + entry["sentence_loss"], rel=1e-4)
    eval_calls = [(size, values) for training, size, values in t.recorded if not training]
    eval_logs = [entry for entry in t.state.log_history if "eval_loss" in entry]
    assert [size for size, _ in eval_calls] == [3, 3, 1] * 2 and len(eval_logs) == 2
    for i, entry in enumerate(eval_logs):
        group = eval_calls[3 * i : 3 * i + 3]
        for name in names:  # each batch weighs as many examples as it holds, as in eval_loss
            assert entry[f"eval_{name}"] == pytest.approx(sum(n * v[name] for n, v in group) / 7, rel=1e-5)
        expected = mlm_weight * entry["eval_mlm_loss"] + entry["eval_sentence_loss"]
        assert entry["eval_loss"] == pytest.approx(expected, rel=1e-4)


def test_recipe_errors_are_clear(recipe):
    path, tmp_path = recipe
    with pytest.raises(
        ValueError, match=r"unknown recipe keys \['sharring'\] \(did you mean: sharring -> sharing\?\)"
    ):
        parse_pretrain_recipe(path, {"sharring": "all"})
    with pytest.raises(ValueError, match="unknown masking 'spans'"):
        parse_pretrain_recipe(path, {"masking": "spans"})
    with pytest.raises(ValueError, match=r"mlm_weight must be >= 0 \(0: the sentence task alone\), got -0.5"):
        parse_pretrain_recipe(path, {"mlm_weight": -0.5})
    with pytest.raises(ValueError, match=r"embedding_size must be between 2 and hidden_size 32, got 64 \(E > H would"):
        parse_pretrain_recipe(path, {"hidden_size": 32, "embedding_size": 64})  # as `compactbert albert` refuses it
    with pytest.raises(ValueError, match=r"max_length 5000 is longer than .* has positions for \(64, its max_posi"):
        pretrain(*parse_pretrain_recipe(path, {"max_length": 5000, "max_steps": 1}))
    for key, value in (("num_hidden_layers", 0), ("num_hidden_layers", -3), ("num_attention_heads", 0)):
        with pytest.raises(ValueError, match=rf"{key} must be a whole number >= 1, got {value}"):
            pretrain(*parse_pretrain_recipe(path, {key: value, "max_steps": 1}))
    (tmp_path / "run" / "model").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="already exists; choose another output_dir or set overwrite: true"):
        pretrain(*parse_pretrain_recipe(path, {"max_steps": 1}))
    (tmp_path / "a-file").write_text("x")  # an output_dir that is a file: said before any work
    with pytest.raises(NotADirectoryError, match=r"a-file is a file; give a folder for the run"):
        pretrain(*parse_pretrain_recipe(path, {"max_steps": 1, "output_dir": str(tmp_path / "a-file")}))


@pytest.mark.parametrize("name", ["albert-sop-bbc-small", "albert-nsp-bbc-small"])
def test_committed_recipes_parse(name):
    model_args, data_args, training_args = parse_pretrain_recipe(f"configs/{name}.yaml")
    assert model_args.sentence_objective == name.split("-")[1]
    assert data_args.corpus == "bbc-news" and training_args.learning_rate == 1e-3


def test_the_bbc_news_corpus_is_the_training_articles_of_the_task_split_so_its_test_articles_stay_unseen():
    from compactbert.data import load_task
    from compactbert.pretraining import bbc_bodies

    for seed in (42, 3):
        split = load_task("bbc-news", seed=seed).dataset
        documents = read_documents("bbc-news", split_seed=seed)  # one body per training article, in its order
        assert documents == bbc_bodies(split["train"]["text"]) and len(documents) == split["train"].num_rows
        assert len(documents) < split["train"].num_rows + split["test"].num_rows  # not every article
    assert read_documents("bbc-news") == read_documents("bbc-news", split_seed=42)  # every recipe's default split


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


def test_cli_pretrain_refuses_a_recipe_that_cannot_train(recipe, capsys):
    path, tmp_path = recipe
    assert main(["pretrain", str(path), "--max_steps", "0", "--num_train_epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "compactbert pretrain: error: nothing to train: num_train_epochs is 0 and max_steps is 0" in err
    assert not (tmp_path / "run").exists()


def test_the_random_init_follows_the_recipe_seed(recipe):
    """The model is made before Trainer seeds the process: its random init must still come from `seed`."""
    path, tmp_path = recipe
    trained = []
    for run, (seed, state) in enumerate([(0, 1), (0, 2), (1, 1)]):
        torch.manual_seed(state)  # what earlier work in the process left behind
        out = tmp_path / f"r{run}"
        pretrain(*parse_pretrain_recipe(path, {"seed": seed, "max_steps": 1, "output_dir": str(out)}))
        trained.append(load_file(out / "model" / "model.safetensors"))
    assert all(torch.equal(trained[0][k], trained[1][k]) for k in trained[0])
    assert not all(torch.equal(trained[0][k], trained[2][k]) for k in trained[0])
