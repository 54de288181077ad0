"""Fine-tuning recipes: parsing, shrink + fine-tune end to end on a tiny model, LoRA merged, torchrun, real BBC."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.finetune import FinetuneArguments, finetune, parse_recipe, predict_labels

from support.helpers import make_bert, make_tokenizer
from support.tasks import write_sentiment_csv


@pytest.fixture
def tiny_source(tmp_path):
    folder = tmp_path / "tiny-bert"
    make_bert(BertForSequenceClassification, num_layers=4).save_pretrained(folder)
    make_tokenizer().save_pretrained(folder)
    return folder


def recipe_fields(tmp_path, source, **extra):
    return {
        "model": str(source),
        "task": str(write_sentiment_csv(tmp_path / "reviews.csv")),
        "text_column": "review",
        "label_column": "sentiment",
        "max_length": 16,
        "output_dir": str(tmp_path / "run"),
        "num_train_epochs": 6,
        "learning_rate": 3e-3,
        "per_device_train_batch_size": 16,
        "eval_strategy": "no",
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "seed": 0,
    } | extra


def test_recipe_parsing_and_errors(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: minilm\nshrink_strategy: top\nshrink_drop: 3\noutput_dir: out\nlearning_rate: 1.0e-4\n")
    model_args, data_args, training_args = parse_recipe(recipe, {"num_train_epochs": 2})
    assert (model_args.shrink_strategy, model_args.shrink_drop) == ("top", 3)
    assert data_args.task == "bbc-news" and training_args.learning_rate == 1e-4 and training_args.num_train_epochs == 2
    assert isinstance(training_args, FinetuneArguments)
    with pytest.raises(
        ValueError, match=r"unknown recipe keys \['learning_rat'\] \(did you mean: learning_rat -> learning_rate"
    ):
        parse_recipe(recipe, {"learning_rat": 1})
    with pytest.raises(ValueError, match="unknown shrink_strategy 'topp'.*--shrink_strategy null --shrink_drop null"):
        parse_recipe(None, {"output_dir": "o", "shrink_strategy": "topp", "shrink_drop": 1})
    with pytest.raises(ValueError, match="go together.*set both to null"):
        parse_recipe(None, {"output_dir": "o", "shrink_strategy": "top"})
    with pytest.raises(ValueError, match="lora_rank must be >= 0"):
        parse_recipe(None, {"output_dir": "o", "lora_rank": -1})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        parse_recipe(tmp_path / "missing.yaml")
    _, _, exponent = parse_recipe(recipe, {"learning_rate": "5e-5", "output_dir": "o"})  # YAML 1.1 reads a string
    assert exponent.learning_rate == 5e-5
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="must be a YAML mapping"):
        parse_recipe(tmp_path / "list.yaml")


def test_shrink_then_finetune_end_to_end(tmp_path, tiny_source):
    fields = recipe_fields(tmp_path, tiny_source, shrink_strategy="bottom", shrink_drop=2)
    metrics = finetune(*parse_recipe(None, fields))
    assert metrics["test"]["accuracy"] >= 0.9, metrics["test"]  # chance is 0.5
    final = tmp_path / "run" / "model"
    saved = json.loads((final / "metrics.json").read_text())
    assert saved["test"]["accuracy"] == metrics["test"]["accuracy"] and saved["kept_layers"] == [2, 3]
    model = AutoModelForSequenceClassification.from_pretrained(final)
    assert type(model).__name__ == "ShrunkBertForSequenceClassification"
    assert model.config.kept_layers == [2, 3] and model.config.id2label == {0: "negative", 1: "positive"}
    tokenizer = AutoTokenizer.from_pretrained(final)
    predicted = predict_labels(model, tokenizer, ["a good movie", "an awful film"])
    assert [model.config.id2label[int(i)] for i in predicted] == ["positive", "negative"]
    with pytest.raises(FileExistsError, match="already exists"):
        finetune(*parse_recipe(None, fields))


def test_a_run_stopped_before_its_first_checkpoint_leaves_no_folder(tmp_path, tiny_source, monkeypatch):
    """Ctrl+C during training: the run folder the Trainer made (empty: nothing saved yet) is removed."""
    from transformers import Trainer

    def stopped(self, *args, **kwargs):
        assert (tmp_path / "run").is_dir()  # the Trainer made it
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "train", stopped)
    with pytest.raises(KeyboardInterrupt):
        finetune(*parse_recipe(None, recipe_fields(tmp_path, tiny_source)))
    assert not (tmp_path / "run").exists()


def test_every_training_run_removes_the_empty_run_folder_it_made():
    from compactbert.distillation.recipe import distill
    from compactbert.io import leaves_no_empty_run_folder
    from compactbert.pretraining import pretrain

    wrapper = leaves_no_empty_run_folder(lambda training_args: None).__code__
    assert [run.__code__ is wrapper for run in (finetune, distill, pretrain)] == [True, True, True]


def test_lora_is_merged_into_plain_weights(tmp_path, tiny_source):
    fields = recipe_fields(
        tmp_path,
        tiny_source,
        lora_rank=8,
        lora_alpha=16,
        lora_target_modules=["query", "value", "dense"],
        learning_rate=1e-2,
        num_train_epochs=10,
        bf16_auto=False,
    )
    metrics = finetune(*parse_recipe(None, fields))
    assert metrics["test"]["loss"] < 0.65, metrics["test"]  # learned something: chance is ln 2 = 0.69
    final = tmp_path / "run" / "model"
    assert not (final / "adapter_config.json").exists()
    from safetensors import safe_open

    with safe_open(final / "model.safetensors", "pt") as f:
        assert not [k for k in f.keys() if "lora" in k]
    model = AutoModelForSequenceClassification.from_pretrained(final)  # plain transformers, no peft
    source = AutoModelForSequenceClassification.from_pretrained(tiny_source)
    query = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(model.state_dict()[query], source.state_dict()[query])  # the adapter was merged in
    # the merged model predicts what the adapter model predicted at evaluation time
    test = load_task(fields["task"], text_column="review", label_column="sentiment").dataset["test"]
    predicted = predict_labels(model, AutoTokenizer.from_pretrained(final), test["text"], max_length=16, bf16=False)
    assert (predicted == test["label"]).mean() == pytest.approx(metrics["test"]["accuracy"])


def test_finetune_cli_with_overrides(tmp_path, tiny_source, capsys):
    recipe = tmp_path / "recipe.yaml"
    fields = recipe_fields(tmp_path, tiny_source, shrink_strategy="top", shrink_drop=2)
    import yaml

    recipe.write_text(yaml.safe_dump(fields))
    assert main(["finetune", str(recipe), "--num_train_epochs", "1", "--output_dir", str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out
    assert "test        accuracy" in printed and "cli/model" in printed
    metrics = json.loads((tmp_path / "cli" / "model" / "metrics.json").read_text())
    assert metrics["train"]["epoch"] == 1.0
    # the shrink step says which layers it kept and dropped, as `compactbert shrink` does
    layers = json.loads((tiny_source / "config.json").read_text())["num_hidden_layers"]
    kept, dropped = list(range(layers - 2)), list(range(layers - 2, layers))
    assert f"shrunk:     kept {kept}, dropped {dropped} (0-based source layers; strategy top)" in printed
    assert f"majority    accuracy {metrics['test']['majority_accuracy']:.4f}" in printed
    assert main(["finetune", str(recipe), "--bogus", "1"]) == 2
    assert "unknown recipe keys ['bogus']" in capsys.readouterr().err


def test_same_recipe_under_torchrun_two_processes(tmp_path, tiny_source):
    import yaml

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_fields(tmp_path, tiny_source, num_train_epochs=12, bf16_auto=False)))
    torchrun = Path(sys.executable).parent / "torchrun"  # installed with torch
    assert torchrun.exists(), f"torchrun not found next to {sys.executable}"
    command = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "compactbert.cli", "finetune", str(recipe)]
    env = os.environ | {"OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}  # torchrun leaves a folder there
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    # 192 train examples; 2 processes x batch 16 = 32 per step -> 6 steps per epoch (12 in one process)
    assert metrics["train"]["global_step"] == 12 * 6
    assert metrics["test"]["accuracy"] >= 0.9, metrics["test"]


@pytest.mark.slow
def test_real_minilm_top3_on_bbc_news_is_far_above_chance(tmp_path):
    """The study's smallest slice: MiniLM with its top 3 layers dropped, one short fine-tune on BBC News (on the first
    64 tokens of each article: the topic shows there, and the suite stays short)."""
    recipe = Path(__file__).resolve().parents[1] / "configs" / "bbc-news-minilm-top3.yaml"
    overrides = {"output_dir": str(tmp_path / "bbc"), "num_train_epochs": 1, "disable_tqdm": True, "max_length": 64}
    metrics = finetune(*parse_recipe(recipe, overrides))
    assert metrics["kept_layers"] == [0, 1, 2]
    assert metrics["test"]["accuracy"] > 0.8, metrics["test"]  # chance is 0.2 (5 balanced-ish topics)


@pytest.mark.parametrize(
    "recipe",
    [  # zoo recipes (with a `family`) are `compactbert build` recipes, tested in tests/hub/test_hub_build.py;
        # pretraining recipes (with a `sentence_objective`) are tested in tests/pretraining/test_pretrain.py
        p
        for p in sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
        if not {"family", "sentence_objective"} & set(yaml.safe_load(p.read_text()) or {})
    ],
    ids=lambda p: p.name,
)
def test_every_committed_recipe_parses(recipe, tmp_path):
    model_args, data_args, training_args = parse_recipe(recipe, {"output_dir": str(tmp_path)})
    assert model_args.model and data_args.task and training_args.learning_rate > 0


def test_pickle_only_source_needs_opt_in(tmp_path, tiny_source):
    folder = tmp_path / "pickled"
    model = AutoModelForSequenceClassification.from_pretrained(tiny_source)
    model.config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    make_tokenizer().save_pretrained(folder)
    fields = recipe_fields(tmp_path, folder, num_train_epochs=1, max_train_samples=16)
    with pytest.raises(ValueError, match="only pickle weights"):
        finetune(*parse_recipe(None, fields))
    metrics = finetune(*parse_recipe(None, fields | {"allow_pickle": True}))
    assert metrics["train"]["global_step"] == 1


def test_cli_reports_bad_recipes_without_a_traceback(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    assert main(["finetune", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "compactbert finetune: error:" in err and "Traceback" not in err
    (tmp_path / "a.yaml").write_text("model: minilm\n")
    for command in ("finetune", "build"):  # the folder of the recipes, not one of them
        assert main([command, str(tmp_path)]) == 2
        assert (
            f"recipe {tmp_path} is a folder; give one recipe file in it: a.yaml, broken.yaml"
            in capsys.readouterr().err
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"num_train_epochs": -3},
            "num_train_epochs must be >= 0 (passes over the training split, e.g. 1 or 0.5), got -3",
        ),
        (
            {"num_train_epochs": 0},
            "nothing to train: num_train_epochs is 0 and max_steps is -1; set num_train_epochs > 0",
        ),
        ({"num_train_epochs": 0, "max_steps": 0}, "nothing to train: num_train_epochs is 0 and max_steps is 0"),
        ({"learning_rate": 0}, "learning_rate must be > 0 (e.g. 1e-4), got 0"),
        ({"learning_rate": -1e-3}, "learning_rate must be > 0 (e.g. 1e-4), got -0.001"),
        ({"per_device_train_batch_size": 0}, "per_device_train_batch_size must be a whole number >= 1, got 0"),
        ({"per_device_eval_batch_size": -1}, "per_device_eval_batch_size must be a whole number >= 1, got -1"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps must be a whole number >= 1, got 0"),
        ({"max_train_samples": 0}, "max_train_samples must be >= 1 when given, got 0"),
        ({"max_length": 5000}, "has positions for (64, its max_position_embeddings): pass --max_length 64 or less"),
    ],
)
def test_a_recipe_that_cannot_train_is_refused_before_any_work(tmp_path, tiny_source, capsys, fields, message):
    """`num_train_epochs: -3` used to save an untrained model and print its chance-level accuracy without a word."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_fields(tmp_path, tiny_source, **fields)))
    assert main(["finetune", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert message in err and "compactbert finetune: error: " in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing was written, not even the run folder


def test_steps_alone_are_enough_and_an_empty_training_split_is_refused(tmp_path, tiny_source, capsys):
    _, _, training_args = parse_recipe(None, recipe_fields(tmp_path, tiny_source, num_train_epochs=0, max_steps=2))
    assert (training_args.num_train_epochs, training_args.max_steps) == (0, 2)  # max_steps > 0 trains
    empty = tmp_path / "empty.csv"
    empty.write_text("review,sentiment\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_fields(tmp_path, tiny_source, task=str(empty))))
    assert main(["finetune", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "compactbert finetune: error: " in err and "empty.csv has no rows" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "model").exists()


def test_a_classifier_of_another_number_of_labels_needs_a_new_head_asked_for(tmp_path, capsys):
    source = tmp_path / "three-labels"
    make_bert(BertForSequenceClassification, num_layers=2, num_labels=3).save_pretrained(source)
    make_tokenizer().save_pretrained(source)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_fields(tmp_path, source, num_train_epochs=1)))
    assert main(["finetune", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "is a classifier of 3 labels ['LABEL_0', 'LABEL_1', 'LABEL_2'], but the task has 2" in err
    assert "pass --ignore_mismatched_sizes true" in err and not (tmp_path / "run").exists()
    assert main(["finetune", str(recipe), "--ignore_mismatched_sizes", "true"]) == 0  # what the message proposes
    assert AutoConfig.from_pretrained(tmp_path / "run" / "model").num_labels == 2


def saved_weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def test_the_recipe_seed_alone_decides_the_fresh_head_and_so_the_trained_model(tmp_path):
    """A bare encoder gets a fresh classification head; it must come from the recipe's seed, not from whatever state
    the process's generator was left in (Trainer seeds only once the model exists)."""
    source = tmp_path / "encoder"
    make_bert(num_layers=2).save_pretrained(source)  # BertModel: no classifier to load
    make_tokenizer().save_pretrained(source)
    weights = []
    for run, (seed, state) in enumerate([(0, 1), (0, 2), (1, 1)]):
        torch.manual_seed(state)  # what earlier work in the process left behind
        fields = recipe_fields(tmp_path, source, seed=seed, num_train_epochs=1, output_dir=str(tmp_path / f"r{run}"))
        finetune(*parse_recipe(None, fields))
        weights.append(saved_weights(tmp_path / f"r{run}" / "model"))
    same_seed, other_seed = weights[1], weights[2]
    assert all(torch.equal(weights[0][k], same_seed[k]) for k in weights[0])
    assert not torch.equal(weights[0]["classifier.weight"], other_seed["classifier.weight"])


def test_a_masked_lm_source_gets_a_fresh_pooler_with_its_head_and_no_warning(tmp_path, capfd):
    """A masked-LM checkpoint has no pooler at all (shrink and prune of one save none either): the pooler starts fresh
    with the head it feeds, said in the one line, not warned about; its MLM head is said unused."""
    import warnings

    from transformers import BertForMaskedLM

    from compactbert.finetune import ModelArguments, build_model

    source = tmp_path / "mlm"
    make_bert(BertForMaskedLM, num_layers=2).save_pretrained(source)
    make_tokenizer().save_pretrained(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "does not fit" warning
        build_model(ModelArguments(model=str(source)), ["negative", "positive"])
    err = capfd.readouterr().err
    assert (
        f"{source}: the classification head (bert.pooler.dense.bias, bert.pooler.dense.weight, classifier.bias, "
        "classifier.weight) starts from random weights (it has none)"
    ) in err
    assert f"{source}: its other heads' weights are not used" in err and "cls.predictions" in err


def test_a_fresh_head_is_said_in_one_line_and_any_other_weight_that_does_not_fit_loudly(tmp_path, capfd, caplog):
    """A bare encoder gets a fresh classification head, as fine-tuning expects: one line of ours says so instead of
    transformers' load report (once per model the demo's first build trains). A weight other than the head's that the
    source lacks, or holds in excess, is still reported loudly."""
    from safetensors.torch import load_file, save_file
    from transformers.utils import logging as transformers_logging

    from compactbert.finetune import ModelArguments, build_model

    source = tmp_path / "encoder"
    make_bert(num_layers=2).save_pretrained(source)  # BertModel: no classifier to load
    make_tokenizer().save_pretrained(source)
    verbosity = transformers_logging.get_verbosity()
    build_model(ModelArguments(model=str(source)), ["negative", "positive"])
    err = capfd.readouterr().err
    assert (
        f"{source}: the classification head (classifier.bias, classifier.weight) starts from random weights (it has "
        "none); fine-tuning trains it for 2 labels"
    ) in err
    assert "LOAD REPORT" not in err + caplog.text and "MISSING" not in err + caplog.text
    assert transformers_logging.get_verbosity() == verbosity  # as it was

    tensors = load_file(source / "model.safetensors")
    missing = next(k for k in tensors if k.endswith("layer.1.output.dense.bias"))
    del tensors[missing]  # an encoder weight the source lacks
    tensors[missing.replace("output.dense.bias", "extra.weight")] = torch.zeros(2)  # one the encoder has no place for
    tensors["cls.extra.weight"] = torch.zeros(2)  # and a head of the source's own: said unused, not warned about
    save_file(tensors, source / "model.safetensors", metadata={"format": "pt"})
    with pytest.warns(UserWarning) as caught:
        build_model(ModelArguments(model=str(source)), ["negative", "positive"])
    message = " ".join(str(w.message) for w in caught)
    assert f"{source} does not fit BertForSequenceClassification beyond its classification head: weights " in message
    assert "missing from the source (random weights): bert.encoder.layer.1.output.dense.bias" in message
    assert "in the source but not in the model (ignored): encoder.layer.1.extra.weight" in message
    assert "classifier" not in message and "cls." not in message  # the heads are the one-liners'
    err = capfd.readouterr().err
    assert "starts from random weights (it has none)" in err
    assert f"{source}: its other heads' weights are not used (1: cls.extra.weight)" in err


def test_only_the_rows_a_run_uses_are_tokenized():
    """`max_train_samples` / `max_eval_samples` select the first rows before tokenizing: the others are never read."""
    import datasets

    from compactbert.finetune import DataArguments, tokenize_task

    seen = []
    tokenizer = make_tokenizer()

    def counting(texts, *args, **kwargs):
        seen.extend(texts)
        return tokenizer(texts, *args, **kwargs)

    split = {name: datasets.Dataset.from_dict({"text": [f"{name} {i}" for i in range(10)], "label": [0, 1] * 5})
             for name in ("train", "validation", "test")}  # fmt: skip
    encoded = tokenize_task(
        datasets.DatasetDict(split), counting, DataArguments(max_train_samples=3, max_eval_samples=2)
    )
    assert {name: rows.num_rows for name, rows in encoded.items()} == {"train": 3, "validation": 2, "test": 2}
    assert sorted(seen) == sorted(
        ["train 0", "train 1", "train 2", "validation 0", "validation 1", "test 0", "test 1"]
    )
    assert set(encoded["train"].column_names) >= {"input_ids", "label"} and "text" not in encoded["train"].column_names


def test_a_recipe_number_written_as_text_is_read_and_a_word_is_refused_naming_the_field(tmp_path):
    """YAML hands a quoted number or a word over as text: a number field reads the number, and refuses the word
    with the field and what it takes (it failed later as Python's "'<' not supported between 'str' and 'int'")."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text('output_dir: out\nmax_length: "64"\nmax_steps: 2.0\nseed: "7.0"\nwarmup_steps: 0.1\n')
    _, data_args, training_args = parse_recipe(recipe)
    assert (data_args.max_length, training_args.max_steps, training_args.warmup_steps) == (64, 2, 0.1)
    assert training_args.seed == 7 and isinstance(training_args.seed, int)  # "7.0" is read as YAML's 7.0 is
    for key, value, takes in [
        ("learning_rate", "fast", "a number"),
        ("num_train_epochs", '"one"', "a number"),
        ("per_device_train_batch_size", "8.5", "an integer"),
        ("max_train_samples", "true", "an integer or null"),
    ]:
        recipe.write_text(f"output_dir: out\n{key}: {value}\n")
        with pytest.raises(ValueError, match=rf"^recipe {re.escape(str(recipe))}: {key} takes {takes}; got "):
            parse_recipe(recipe)


def test_an_empty_recipe_or_one_that_is_not_yaml_is_refused_naming_the_file(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("")  # saved empty: it would have trained every default (MiniLM on BBC News)
    with pytest.raises(ValueError, match=rf"^recipe {re.escape(str(recipe))} is empty; expected field: value lines"):
        parse_recipe(recipe)
    recipe.write_text("model: minilm\ntask: bbc-news: x\n")
    with pytest.raises(ValueError, match=rf"^recipe {re.escape(str(recipe))} is not valid YAML: mapping values"):
        parse_recipe(recipe)


def test_a_run_folder_in_the_way_is_said_before_any_training(tmp_path):
    """An `output_dir` that is a file, or an `output_dir/model` that is not a model folder (with overwrite), is
    refused by `start_run`, the first step of every training command."""
    from compactbert.finetune import start_run

    (tmp_path / "a-file").write_text("x")
    _, _, training_args = parse_recipe(None, {"output_dir": str(tmp_path / "a-file")})
    with pytest.raises(NotADirectoryError, match="a-file is a file; give a folder for the run"):
        start_run(training_args)
    (tmp_path / "run" / "model").mkdir(parents=True)
    (tmp_path / "run" / "model" / "notes.txt").write_text("mine")
    _, _, training_args = parse_recipe(None, {"output_dir": str(tmp_path / "run"), "overwrite": True})
    with pytest.raises(FileExistsError, match=r"model is not a model folder \(no config.json in it; it holds notes"):
        start_run(training_args)
