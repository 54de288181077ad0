"""`--field value` overrides after a recipe are read by the field's type, as HfArgumentParser reads flags (not by YAML,
which reads `no` as false): the value readers, then every recipe command's parser fed through them."""

import enum
from typing import Any, Literal

import pytest
import yaml
from transformers.trainer_utils import IntervalStrategy

from compactbert.cli import main
from compactbert.cli.common import parse_overrides, split_overrides
from compactbert.fields import field_types, parse_field_value, parse_int_list


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize(
    ("text", "annotation", "expected"),
    [
        ("no", str, "no"),  # YAML would give False
        ("null", str, "null"),  # not nullable: text stays text
        ("0.10", str, "0.10"),
        ("no", IntervalStrategy | str, "no"),
        ("no", bool, False),
        ("YES", bool, True),
        ("t", bool, True),
        ("0", bool, False),
        (None, bool, True),  # a bare --flag
        (None, bool | None, True),
        ("2", int, 2),
        ("-3", int, -3),
        ("5e-4", float, 5e-4),
        ("1e-4", float | None, 1e-4),
        ("2", float, 2.0),
        ("null", int | None, None),
        ("None", int | None, None),
        ("null", str | None, None),  # how a recipe's shrink_strategy is unset (the README does it)
        ("none", str | None, "none"),  # text fields keep `none`: report_to none means no integrations
        ("none", None | str | list[str], "none"),
        ("0,2,4", list[int] | None, [0, 2, 4]),
        ("[0, 2, 4]", list[int] | None, [0, 2, 4]),
        ("[]", list[int], []),
        ("query,value", list[str], ["query", "value"]),
        ("[query, 'value']", list[str], ["query", "value"]),
        ("[intermediate, prediction]", list[str] | None, ["intermediate", "prediction"]),
        ("[tensorboard]", None | str | list[str], ["tensorboard"]),
        ("1,3", str | list[int], "1,3"),  # the text form layer_map reads itself
        ("[1, 3]", str | list[int], [1, 3]),
        ("{a: 1, b: x}", dict | str | None, {"a": 1, "b": "x"}),
        ('{"a": true}', dict[str, Any] | str | None, {"a": True}),
        ("plain", dict | str | None, "plain"),
        ("all", str | bool, "all"),
        ("no", str | bool, False),
        ("blue", Color, "blue"),
        ("False", str | None | Literal[False], False),
        ("x", Any, "x"),
    ],
)
def test_a_value_is_read_by_the_fields_type(text, annotation, expected):
    value = parse_field_value(text, annotation, "field")
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "annotation", "message"),
    [
        ("maybe", bool, "--field takes true or false (also yes/no, 1/0); got 'maybe'"),
        ("abc", int | None, "--field takes an integer or null; got 'abc'"),
        ("1.5", int, "--field takes an integer; got '1.5'"),
        ("fast", float, "--field takes a number; got 'fast'"),
        ("0,x", list[int], "--field takes a list like 0,2,4 or [0, 2, 4]; got '0,x'"),
        ("green", Color, "--field takes one of red, blue; got 'green'"),
        ("{a: [", dict | None, "--field takes a mapping like {key: value} or null"),
        ("[1, 2]", dict, "--field takes a mapping like {key: value}; got '[1, 2]'"),
        (None, int, "--field needs a value: an integer"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_what_the_field_takes(text, annotation, message):
    with pytest.raises(ValueError) as error:
        parse_field_value(text, annotation, "field")
    assert message in str(error.value)


def test_integer_lists_have_one_parser():
    assert parse_int_list("0, 2,4") == parse_int_list("[0,2,4]") == [0, 2, 4]
    assert parse_int_list("") == []
    with pytest.raises(ValueError, match=r"expected comma-separated 0-based layer indices like 0,2,4; got '0,a'"):
        parse_int_list("0,a", "0-based layer indices")


def test_tokens_split_into_fields_and_texts():
    tokens = ["--max-steps", "2", "--eval_strategy=no", "--do_eval", "--learning_rate", "-1e-3", "--max-steps", "3"]
    assert split_overrides(tokens) == {
        "max_steps": "3",
        "eval_strategy": "no",
        "do_eval": None,
        "learning_rate": "-1e-3",
    }
    with pytest.raises(ValueError, match="expected --field value after the recipe, got 'stray'"):
        split_overrides(["--max_steps", "2", "stray", "3"])


def test_field_types_resolve_the_annotations_of_the_recipe_dataclasses():
    from compactbert.finetune import DataArguments, FinetuneArguments, ModelArguments

    types = field_types((ModelArguments, DataArguments, FinetuneArguments))
    assert types["shrink_keep"] == list[int] | None and types["max_train_samples"] == int | None
    assert types["eval_strategy"] == IntervalStrategy | str and types["bf16_auto"] is bool


def test_finetune_overrides_keep_eval_strategy_no_and_read_every_type(tmp_path):
    from compactbert.finetune import DataArguments, FinetuneArguments, ModelArguments, parse_recipe

    assert yaml.safe_load("no") is False  # why overrides are not read as YAML
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        yaml.safe_dump({"output_dir": str(tmp_path / "run"), "shrink_strategy": "top", "shrink_drop": 2})
    )
    tokens = [
        "--eval_strategy", "no",
        "--save_strategy", "no",
        "--shrink_strategy", "null",
        "--shrink_drop", "null",
        "--shrink_keep", "0,2",
        "--max_train_samples", "64",
        "--learning_rate", "5e-4",
        "--bf16_auto", "no",
        "--lora_target_modules", "query,key",
        "--report_to", "none",
        "--overwrite",
    ]  # fmt: skip
    overrides = parse_overrides(tokens, (ModelArguments, DataArguments, FinetuneArguments))
    model_args, data_args, training_args = parse_recipe(recipe, overrides)
    assert training_args.eval_strategy == IntervalStrategy.NO and training_args.save_strategy == "no"
    assert model_args.shrink_strategy is None and model_args.shrink_drop is None and model_args.shrink_keep == [0, 2]
    assert data_args.max_train_samples == 64 and training_args.learning_rate == 5e-4
    assert training_args.bf16_auto is False and training_args.overwrite is True
    assert model_args.lora_target_modules == ["query", "key"] and training_args.report_to == []


def test_the_finetune_command_accepts_eval_strategy_no(tmp_path, capsys):
    """Before, YAML turned `no` into False and TrainingArguments refused it; now parsing passes and the run stops at
    the existing output folder, before any training."""
    (tmp_path / "run" / "model").mkdir(parents=True)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"output_dir": str(tmp_path / "run")}))
    assert main(["finetune", str(recipe), "--eval_strategy", "no", "--save_strategy=no"]) == 2
    err = capsys.readouterr().err
    assert "run/model already exists" in err and "IntervalStrategy" not in err
    assert main(["finetune", str(recipe), "--max_train_samples", "sixty"]) == 2
    assert (
        "compactbert finetune: error: --max_train_samples takes an integer or null; got 'sixty'"
        in capsys.readouterr().err
    )
    assert main(["finetune", str(recipe), "--learning_rat", "1e-4"]) == 2
    assert (
        "unknown recipe keys ['learning_rat'] (did you mean: learning_rat -> learning_rate?)"
        in capsys.readouterr().err
    )


def test_pretrain_overrides_are_read_by_the_pretraining_fields(tmp_path):
    from compactbert.pretraining import (
        PretrainArguments,
        PretrainDataArguments,
        PretrainModelArguments,
        parse_pretrain_recipe,
    )

    tokens = [
        "--sharing",
        "ffn",
        "--max_documents",
        "null",
        "--skip_short_documents",
        "no",
        "--eval_documents",
        "0.25",
    ]
    overrides = parse_overrides(tokens, (PretrainModelArguments, PretrainDataArguments, PretrainArguments))
    model_args, data_args, _ = parse_pretrain_recipe(None, overrides | {"output_dir": str(tmp_path)})
    assert model_args.sharing == "ffn" and data_args.max_documents is None
    assert data_args.skip_short_documents is False and data_args.eval_documents == 0.25


def test_distill_overrides_are_read_by_the_distillation_fields(tmp_path):
    from compactbert.distillation.recipe import DATACLASSES, parse_distill_recipe

    tokens = ["--teacher", "t", "--layer_map", "1,3", "--stages", "[intermediate, prediction]", "--alpha_label", "0.5"]
    base = {"output_dir": str(tmp_path)}
    _, teacher_args, _, training_args = parse_distill_recipe(None, parse_overrides(tokens, DATACLASSES) | base)
    assert teacher_args.teacher == "t" and training_args.layer_map == [1, 3] and training_args.alpha_label == 0.5
    assert training_args.stages == ["intermediate", "prediction"]
    tokens = ["--teacher", "t", "--layer_map", "[0, 2]", "--student_init_layers", "0,2", "--eval_strategy", "no"]
    _, teacher_args, _, training_args = parse_distill_recipe(None, parse_overrides(tokens, DATACLASSES) | base)
    assert training_args.layer_map == [0, 2] and teacher_args.student_init_layers == [0, 2]
    assert training_args.eval_strategy == IntervalStrategy.NO


def test_build_overrides_go_typed_into_the_zoo_recipes_training(tmp_path):
    from compactbert.finetune import DataArguments, FinetuneArguments, ModelArguments
    from compactbert.hub.build import read_recipe

    path = tmp_path / "zoo.yaml"
    path.write_text(
        yaml.safe_dump({"name": "n", "family": "shrunk_bert", "source": "minilm", "training": {"seed": 1}})
    )
    tokens = ["--eval_strategy", "no", "--max_train_samples", "64", "--output_dir", str(tmp_path / "b"), "--overwrite"]
    recipe = read_recipe(path, parse_overrides(tokens, (ModelArguments, DataArguments, FinetuneArguments)))
    assert recipe.training == {"seed": 1, "eval_strategy": "no", "max_train_samples": 64}
    assert recipe.output_dir == str(tmp_path / "b") and recipe.overwrite is True
