"""`exports:` in a zoo recipe: the built folder also holds the model for OpenVINO and ONNX Runtime, verified, and its
card's loading examples run from the Hub (the local stand-in) with no PyTorch in the process."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from huggingface_hub import ModelCard

from compactbert.cli import main
from compactbert.hub.build import build, read_recipe

from support.scripts import load_script
from support.zoo import LEARNS, REPO_ID, tiny_recipe

NO_TORCH = "import sys\nsys.modules['torch'] = None  # any import of torch fails: the example must not need it\n"


@pytest.fixture(scope="module")
def built_with_exports(tmp_path_factory):
    return build(
        read_recipe(
            tiny_recipe(
                tmp_path_factory.mktemp("zoo"),
                training=LEARNS,
                exports=["openvino", "onnx", "openvino-int8", "onnxruntime-int8"],
            )
        )
    )


def onnx_nodes(path):
    import onnx

    return onnx.load(str(path)).graph.node


def test_exports_are_verified_subfolders_that_the_card_describes(built_with_exports):
    folder = built_with_exports
    assert (folder / "openvino" / "openvino_model.xml").is_file() and (folder / "onnx" / "model.onnx").is_file()
    for kind, fmt, dtype in (
        ("openvino", "openvino", "fp32"),
        ("onnx", "onnx", "fp32"),
        ("openvino-int8", "openvino", "int8"),
        ("onnxruntime-int8", "onnx", "int8"),
    ):
        export = json.loads((folder / kind / "export.json").read_text())
        assert export["format"] == fmt and export["dtype"] == dtype
        assert export["verification"]["predictions_unchanged"] == 1.0
        assert export["source"] == str(folder)  # the built folder, not the partial one it was exported from
        assert (folder / kind / "tokenizer.json").is_file() and (folder / kind / "config.json").is_file()
    int8 = json.loads((folder / "openvino-int8" / "export.json").read_text())["quantization"]
    assert "train split" in int8["calibration"]["on"]  # calibrated on the task's training texts
    exports = json.loads((folder / "build.json").read_text())["comparison"]["exports"]
    assert [(e["folder"], e["format"], e["dtype"]) for e in exports] == [
        ("openvino", "openvino", "fp32"),
        ("onnx", "onnx", "fp32"),
        ("openvino-int8", "openvino", "int8"),
        ("onnxruntime-int8", "onnx", "int8"),
    ]
    card = ModelCard.load(folder / "README.md").text
    assert "## Running it without PyTorch" in card
    assert "| `openvino/` | OpenVINO | 100.0% |" in card and "| `onnx/` | ONNX Runtime | 100.0% |" in card
    assert "| `openvino-int8/` | OpenVINO int8 | 100.0% |" in card
    assert "| `onnxruntime-int8/` | ONNX Runtime int8 | 100.0% |" in card
    assert "DynamicQuantizeLinear" in {n.op_type for n in onnx_nodes(folder / "onnxruntime-int8" / "model.onnx")}
    assert "not ready" not in card


@pytest.mark.parametrize("runtime", ["OpenVINO", "ONNX Runtime", "OpenVINO int8", "ONNX Runtime int8"])
def test_the_cards_examples_run_from_the_hub_without_pytorch(built_with_exports, hub, tmp_path, runtime):
    hub.create_model_repo(REPO_ID, built_with_exports)
    card = (built_with_exports / "README.md").read_text()
    section = card[card.index(f"With {runtime} (") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(NO_TORCH + code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() in {"negative", "positive"}
    assert hub.requests_matching("GET", f"/api/models/{REPO_ID}")  # downloaded through the Hub client


def test_an_unknown_export_format_is_refused_before_training(tmp_path, capsys):
    assert main(["build", str(tiny_recipe(tmp_path, exports=["tflite"]))]) == 2
    assert (
        "exports: ['tflite'] must name each format once, of: openvino, openvino-int8, onnx, onnxruntime-int8 (unknown: ['tflite'])"
        in (capsys.readouterr().err)
    )
    assert not (tmp_path / "build").exists()
    recipe = tiny_recipe(tmp_path, exports=["openvino"])
    assert main(["build", "--exports", "onnx,onnx", str(recipe)]) == 2  # the recipe's check, on what --exports names
    assert "exports: ['onnx', 'onnx'] must name each format once" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_exports_none_builds_without_the_recipes_exports(tmp_path, capsys):
    """`build --exports none` skips the exports a recipe asks for (a quick build), `--exports onnx` writes that one."""
    recipe = tiny_recipe(tmp_path, training=LEARNS, exports=["openvino", "onnx"])
    assert main(["build", str(recipe), "--exports", "none", "--output-dir", str(tmp_path / "none")]) == 0
    folder = tmp_path / "none" / "model"
    assert (folder / "README.md").is_file() and not (folder / "openvino").exists() and not (folder / "onnx").exists()
    assert json.loads((folder / "build.json").read_text())["comparison"].get("exports", []) == []
    assert "Running it without PyTorch" not in (folder / "README.md").read_text()
    assert main(["build", str(recipe), "--exports"]) == 2
    assert "--exports needs a value: the formats to export, comma-separated, or none" in capsys.readouterr().err
    assert read_recipe(recipe, {"exports": ["onnx"]}).exports == ["onnx"]
    assert read_recipe(recipe, {"exports": ["onnx"]}).training.get("exports") is None  # not a training argument


def test_an_export_that_does_not_hold_refuses_the_build_and_says_where_the_trained_model_is(
    tmp_path, capsys, monkeypatch, recwarn
):
    import compactbert.export as export_package
    from compactbert.export import ExportResult, FailedExportWarning
    from compactbert.export.verdict import warn_written

    real_export = export_package.export_model

    def int8_flips_predictions(source, output, format, dtype):
        result = real_export(source, output, format=format, dtype=dtype)
        if dtype == "int8":  # as the second rotten-tomatoes fine-tune did (docs/speed.md#int8-on-openvino)
            verification = result.info["verification"] | {"predictions_unchanged": 0.989, "passed": False}
            info = result.info | {"verification": verification, "passed": False}
            warn_written(result.folder, info)  # as export_model warns: the build says it in its own words instead
            return ExportResult(result.folder, info)
        return result

    monkeypatch.setattr(export_package, "export_model", int8_flips_predictions)
    recipe = tiny_recipe(tmp_path, training=LEARNS, exports=["openvino", "openvino-int8"])
    assert main(["build", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert (
        "the openvino-int8 export of bert-top6 changed 1.1% of the predictions (an export keeps at least 99.5% of "
        "them) on the first " in err
    )
    assert " texts of the test split of " in err
    assert f"Nothing was written to {tmp_path / 'build' / 'model'}" in err
    assert f"the trained model is in {tmp_path / 'build' / 'train'}" in err
    assert "take 'openvino-int8' out of the recipe's exports" in err and "Traceback" not in err
    assert not (tmp_path / "build" / "model").exists()  # not the model, not its fp32 export either
    assert (tmp_path / "build" / "train").is_dir()  # the training is kept
    assert not [w for w in recwarn if w.category is FailedExportWarning]  # no "kept to inspect": nothing is kept


def test_the_zoo_report_lists_each_export_with_its_verification(built_with_exports, tmp_path):
    zoo_report = load_script("zoo_report")
    out = zoo_report.report(built_with_exports, tmp_path / "report", command="compactbert build tiny.yaml")
    text = (out / "results.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| `openvino/`", "OpenVINO, fp32"],
        ["| `onnx/`", "ONNX Runtime, fp32"],
        ["| `openvino-int8/`", "OpenVINO, int8"],
        ["| `onnxruntime-int8/`", "ONNX Runtime, int8"],
    ]
    exports = json.loads((built_with_exports / "build.json").read_text())["comparison"]["exports"]
    for row, export in zip(rows, exports, strict=True):
        v = export["verification"]
        assert f"| {v['on']} | {100 * v['predictions_unchanged']:.1f}% |" in row
    assert json.loads((out / "results.json").read_text())["command"] == "compactbert build tiny.yaml"
    assert (out / "model_card.md").read_text() == (built_with_exports / "README.md").read_text()
