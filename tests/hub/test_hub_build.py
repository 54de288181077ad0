"""`compactbert build`: recipes, the end-to-end build of a test-sized entry, and the push-readiness checks."""

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard

from compactbert.cli import main
from compactbert.hardware import machine_description
from compactbert.hub.build import BUILDERS, PLOT, read_recipe
from compactbert.hub.validate import card_metadata, folder_problems

from support.zoo import REPO_ID, tiny_recipe

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
ZOO = sorted(p for p in CONFIGS.glob("*.yaml") if "family" in (yaml.safe_load(p.read_text()) or {}))


def test_zoo_has_offline_and_paper_entries():
    sources = {yaml.safe_load(p.read_text())["source"] for p in ZOO}
    assert "minilm" in sources and "google-bert/bert-base-uncased" in sources


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_zoo_recipes_parse_and_name_a_builder(path):
    recipe = read_recipe(path)
    assert recipe.family in BUILDERS
    assert recipe.name == path.stem and recipe.repo_id and recipe.repo_id.endswith("/" + recipe.name)
    assert recipe.card.repo_id == recipe.repo_id
    from compactbert.finetune import parse_recipe

    parse_recipe(None, recipe.training | {"output_dir": "unused"})  # every training key is a known argument


def test_built_folder(built):
    info = json.loads((built / "build.json").read_text())
    metrics, comparison = info["metrics"], info["comparison"]
    assert not {"output_dir", "overwrite", "file"} & set(info["recipe"])  # nothing of this machine's paths
    assert folder_problems(built) == []
    card = ModelCard.load(built / "README.md")
    assert card.data.model_name == "bert-top6"
    values = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert values == {"accuracy": metrics["test"]["accuracy"], "f1": metrics["test"]["macro_f1"]}
    # the source column comes from the baseline: the unshrunk source fine-tuned with the same recipe
    assert comparison["source"]["num_hidden_layers"] == 4 and comparison["source"]["parameters_estimated"] is False
    source_acc = f"{comparison['source']['accuracy']:.4f}"
    share = f"{100 * metrics['test']['accuracy'] / comparison['source']['accuracy']:.1f}%"
    assert any(
        line.startswith("| test accuracy")
        and line.rstrip(" |").endswith(f"| {source_acc}: this model keeps {share} of it")
        for line in card.text.splitlines()
    )
    latency = comparison["latency"]
    for name in ("model", "source"):
        assert len(latency[name]["samples_ms"]) == 3
        assert latency[name]["min_ms"] <= latency[name]["median_ms"] <= latency[name]["max_ms"]
    assert f"{latency['model']['median_ms']:.1f} ms" in card.text and latency["dtype"] == "float32"
    assert latency["runtime"] == "torch" and "float32, run by PyTorch (both models)" in card.text
    # the card and build.json name the machine: its cores, CPU model and bf16 units
    assert latency["device"] == f"a {machine_description()}"
    assert f"thread(s) on {latency['device']}." in card.text
    record = info["build"]
    assert record["machine"] == machine_description() and record["wall_seconds"] > 0
    assert (built / PLOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({PLOT})" in card.text
    config = json.loads((built / "config.json").read_text())
    assert config["kept_layers"] == [0, 1] and config["drop_strategy"] == "top"
    assert 'from_pretrained("org/bert-top6"' in card.text
    # finetune's own output folder (written by save_model) carries its card too, with the same eval results
    finetuned = ModelCard.load(built.parent / "train" / "model" / "README.md")
    assert {r.metric_type: r.metric_value for r in finetuned.data.eval_results} == values
    assert "Latency was not measured" in finetuned.text
    # what the build trained is what it published
    assert (built / "model.safetensors").read_bytes() == (
        built.parent / "train" / "model" / "model.safetensors"
    ).read_bytes()


def test_build_refuses_an_existing_folder_and_keeps_it(built, tmp_path):
    recipe = yaml.safe_load((built.parent.parent / "recipe.yaml").read_text())
    copy = tmp_path / "model"
    shutil.copytree(built, copy)
    recipe["output_dir"] = str(tmp_path)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe))
    before = sorted(p.name for p in copy.iterdir())
    assert main(["build", str(path)]) == 2
    assert sorted(p.name for p in copy.iterdir()) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"family": "distil_bert"}, "can build: albert_sop, shrunk_bert, tiny_bert"),
        ({"colour": "red"}, "unknown keys ['colour']"),
        ({"card": {"licence": "mit"}}, "unknown keys ['licence'] in card"),
        ({"training": {"shrink_drop": 2}}, "set by the recipe's top-level keys"),
        ({"method": {"strategy": "top"}}, "recipe.yaml: method: a shrunk_bert recipe needs strategy and drop"),
        ({"method": {"strategy": "top", "drop": 2, "keep": [0]}}, "method: give keep, or strategy and drop, not both"),
        ({"method": {"strategy": "top", "drop": None}}, "needs strategy and drop (e.g. method: {strategy: top, dro"),
        ({"method": []}, "recipe.yaml: method must be a mapping of the family's settings"),
        ({"method": {"strategy": "top", "drop": "two"}}, "recipe.yaml: method: drop takes an integer; got 'two'"),
        ({"method": [2]}, "recipe.yaml: method must be a mapping of the family's settings"),
        ({"method": {"layers": 2}}, "recipe.yaml: method: unknown shrunk_bert method keys"),
        ({"latency": {"repeats": 0}}, "repeats >= 1"),
        ({"latency": {"repeats": "many"}}, "latency: repeats takes an integer; got 'many'"),
        ({"training": {"learning_rate": "fast"}}, "recipe.yaml: training: learning_rate takes a number; got 'fast'"),
        ({"latency": {"backend": "tensorrt"}}, "unknown latency backend 'tensorrt'; choose one of: torch, auto, onnx"),
    ],
)
def test_bad_recipes_are_clear_errors(tmp_path, capsys, change, message):
    path = tiny_recipe(tmp_path, **change)
    assert main(["build", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "build" / "model").exists()


@pytest.mark.parametrize("key", ["name", "source"])
def test_a_recipe_without_a_required_key_says_which_and_what_a_recipe_needs(tmp_path, capsys, key):
    path = tiny_recipe(tmp_path)
    recipe = yaml.safe_load(path.read_text())
    del recipe[key]
    path.write_text(yaml.safe_dump(recipe))
    assert main(["build", str(path)]) == 2
    assert f"{path} has no {key}; it needs name, family, source" in capsys.readouterr().err


def test_an_output_dir_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    path = tiny_recipe(tmp_path)
    assert main(["build", str(path), "--output-dir", str(tmp_path / "afile" / "zoo")]) == 2
    assert f"output_dir {tmp_path / 'afile' / 'zoo'}: {tmp_path / 'afile'} is a file" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "mine"


def test_a_finetune_recipe_is_not_a_zoo_recipe(capsys):
    assert main(["build", str(CONFIGS / "bbc-news-minilm-top3.yaml")]) == 2
    assert "not a zoo recipe" in capsys.readouterr().err


# -- push readiness -----------------------------------------------------------------------------------------------


def broken(built, tmp_path, change):
    folder = tmp_path / "m"
    shutil.copytree(built, folder)
    change(folder)
    return folder_problems(folder)


def edit_json(path, **changes):
    data = json.loads(path.read_text()) | changes
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: (f / "modeling_shrunk_bert.py").unlink(), "modeling_shrunk_bert.py (named by config.json auto_map"),
        (lambda f: (f / "configuration_shrunk_bert.py").unlink(), "configuration_shrunk_bert.py"),
        (lambda f: edit_json(f / "config.json", auto_map=None), "has no auto_map"),
        (lambda f: (f / "model.safetensors").rename(f / "pytorch_model.bin"), "pickle files"),
        # a .bin that is no OpenVINO export's weight blob (no graph and export.json beside it) counts as a pickle
        (
            lambda f: (f / "openvino").mkdir() or (f / "openvino" / "openvino_model.bin").write_bytes(b"x"),
            "pickle files",
        ),
        (lambda f: (f / "model.safetensors").unlink(), "no safetensors weights"),
        (lambda f: (f / "tokenizer.json").unlink(), "no tokenizer"),
        (lambda f: (f / "README.md").unlink(), "README.md (the card) is missing"),
        (lambda f: (f / "README.md").write_text("# no metadata\n"), "no YAML metadata"),
        (lambda f: (f / "config.json").write_text("{"), "not valid JSON"),
    ],
)
def test_folder_problems_name_what_is_missing(built, tmp_path, change, expected):
    problems = broken(built, tmp_path, change)
    assert any(expected in p for p in problems), problems


def test_a_local_task_file_is_named_not_located_in_the_card(built):
    meta = card_metadata((built / "README.md").read_text())
    assert meta["model-index"][0]["name"] == REPO_ID.split("/")[1]
    assert meta["model-index"][0]["results"][0]["dataset"] == {
        "name": "tiny sentiment",
        "type": "task",
        "split": "test",
    }


def test_a_training_number_written_as_text_is_read_as_the_fields_number(tmp_path):
    training = read_recipe(tiny_recipe(tmp_path, training={"max_steps": "2.0", "learning_rate": "3e-4"})).training
    assert (training["max_steps"], training["learning_rate"]) == (2, 3e-4) and isinstance(training["max_steps"], int)


def test_a_training_section_that_is_not_a_mapping_is_refused_naming_the_recipe(tmp_path):
    path = tiny_recipe(tmp_path)
    recipe = yaml.safe_load(path.read_text())
    recipe["training"] = ["max_length", 16]
    path.write_text(yaml.safe_dump(recipe))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: training must be a mapping of field: value"):
        read_recipe(path)
