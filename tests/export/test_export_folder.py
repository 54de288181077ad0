"""`compactbert export` / `export_model`: the folder it writes (runs with no PyTorch), its verification against
PyTorch, writing all or nothing, and the command line's errors."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

import compactbert
from compactbert.cli import main
from compactbert.data import load_task
from compactbert.export import SAMPLE_TEXTS, default_output, export_model, open_session, verify_export
from compactbert.export import exporter as exporter_module
from compactbert.export import graph as graph_module

from support.helpers import TEXTS, make_bert, make_tokenizer, spread_classifier

ATOL = 1e-4
LABELS = {0: "sport", 1: "tech", 2: "politics"}

# Runs an exported folder the way a deployment without PyTorch would: `tokenizers` and the runtime only
NO_TORCH = r"""
import json, sys
sys.modules["torch"] = None  # `import torch` fails from here on, in this process and in what it imports
import numpy as np
from tokenizers import Tokenizer

folder, runtime, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tokenizer = Tokenizer.from_file(f"{folder}/tokenizer.json")
tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]"), pad_token="[PAD]")
encodings = tokenizer.encode_batch(texts)
feed = {
    "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
    "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
}
if runtime == "onnxruntime":
    import onnxruntime
    session = onnxruntime.InferenceSession(f"{folder}/model.onnx", providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], feed)[0]
else:
    import openvino
    compiled = openvino.Core().compile_model(f"{folder}/openvino_model.xml", "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    logits = compiled(feed)["logits"]
labels = json.load(open(f"{folder}/config.json"))["id2label"]
print(json.dumps({"logits": logits.tolist(), "labels": [labels[str(i)] for i in logits.argmax(-1)],
                  "torch": sys.modules["torch"] is None}))
"""


@pytest.fixture(scope="module")
def classifier_folder(tmp_path_factory):
    """A saved tiny ShrunkBert classifier that tells the texts apart."""
    model = make_bert(
        BertForSequenceClassification, num_layers=4, num_labels=3, id2label=LABELS, initializer_range=0.2
    )
    folder = tmp_path_factory.mktemp("source") / "model"
    compactbert.save_model(spread_classifier(compactbert.shrink(model, "top", num_drop=2)), folder, make_tokenizer())
    return folder


def torch_logits(folder, texts) -> np.ndarray:
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    batch = make_tokenizer()(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        return model(**batch).logits.numpy()


@pytest.mark.parametrize("fmt", ["onnx", "openvino"])
def test_the_exported_folder_runs_without_torch_and_predicts_what_pytorch_does(fmt, classifier_folder, tmp_path):
    result = export_model(classifier_folder, tmp_path / "out", format=fmt)
    info = json.loads((tmp_path / "out" / "export.json").read_text())
    assert result.folder == (tmp_path / "out").absolute() and info == result.info
    assert info["format"] == fmt and info["dtype"] == "fp32" and info["task"] == "sequence-classification"
    assert info["source"] == str(classifier_folder) and info["model_type"] == "shrunk_bert"
    assert info["architecture"] == "ShrunkBertForSequenceClassification"
    assert info["inputs"] == ["input_ids", "attention_mask", "token_type_ids"] and info["outputs"] == ["logits"]
    assert info["dynamic_axes"] == {"batch": 0, "sequence": 1} and info["max_sequence_length"] == 64
    if fmt == "onnx":
        assert info["opset"] >= 18 and info["onnx"] and info["runtime"] == "onnxruntime"
    else:
        assert info["openvino"].startswith("20") and info["runtime"] == "openvino"
    names = {p.name for p in result.folder.iterdir()}
    assert {"config.json", "tokenizer.json", "tokenizer_config.json", "export.json", *info["files"]} <= names
    assert "model.safetensors" not in names
    check = result.verification
    assert result.passed and check["passed"] and check["predictions_unchanged"] == 1.0
    assert check["texts"] == check["predictions_compared"] == len(SAMPLE_TEXTS) and check["dtype"] == "fp32"
    assert check["on"] == f"{len(SAMPLE_TEXTS)} built-in sample texts (no metrics.json names a task)"
    assert 0 <= check["max_abs_logit_diff"] < ATOL and check["max_abs_diff"] == {"logits": check["max_abs_logit_diff"]}

    texts = [*TEXTS, "the film"]
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(result.folder), info["runtime"], json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ran = json.loads(done.stdout.strip().splitlines()[-1])
    assert ran["torch"] is True  # torch stayed blocked: nothing imported it
    expected = torch_logits(classifier_folder, texts)
    np.testing.assert_allclose(np.array(ran["logits"]), expected, rtol=0, atol=ATOL)
    assert ran["labels"] == [LABELS[i] for i in expected.argmax(-1)]
    assert len(set(expected.argmax(-1).tolist())) > 1  # the texts are not all one label: the check has teeth


def test_verification_runs_on_the_test_split_of_the_task_metrics_json_names(classifier_folder, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(classifier_folder, folder)
    (folder / "metrics.json").write_text(json.dumps({"task": "bbc-news", "split_seed": 7}))
    result = export_model(folder, tmp_path / "out", format="openvino", verify_samples=6)
    check = result.verification
    assert check["on"] == "the first 6 texts of the test split of bbc-news (seed 7)"
    assert check["texts"] == 6 and check["predictions_unchanged"] == 1.0 and check["passed"]
    found = exporter_module.verification_texts(folder, 6)
    assert found.texts == load_task("bbc-news", seed=7).dataset["test"]["text"][:6] and found.pairs is None

    (folder / "metrics.json").write_text(json.dumps({"task": "no-such-owner/no-such-set-xyz"}))
    found = exporter_module.verification_texts(folder, 3)
    assert found.texts == list(SAMPLE_TEXTS[:3])
    assert found.where.startswith("3 built-in sample texts (the task 'no-such-owner/no-such-set-xyz' could not be ")
    assert found.not_loaded.startswith("the task 'no-such-owner/no-such-set-xyz' could not be loaded: ")


def test_verification_reports_changed_predictions_and_outputs(tmp_path, tokenizer):
    """Verifying an exported model against another model (another seed) fails, with the numbers; against its own
    model it passes. For an encoder (no predictions) the rule is the cosine similarity of each text's outputs."""
    for task, cls in (("sequence-classification", BertForSequenceClassification), ("base", None)):
        own = make_bert(cls, num_layers=2, num_labels=3, initializer_range=0.2, seed=0)
        other = make_bert(cls, num_layers=2, num_labels=3, initializer_range=0.2, seed=1)
        folder = tmp_path / task
        folder.mkdir()
        exporter_module.write_export(own, tokenizer, folder, "openvino", "fp32", task, "tiny")
        texts = list(SAMPLE_TEXTS)
        same = verify_export(own, tokenizer, folder, task, texts, batch_size=5)
        changed = verify_export(other, tokenizer, folder, task, texts, batch_size=5)
        assert same["passed"] and not changed["passed"], task
        assert same["max_abs_logit_diff"] < ATOL < 0.1 < changed["max_abs_logit_diff"], task
        if task == "base":
            assert same["predictions_unchanged"] is None and changed["predictions_unchanged"] is None
            assert same["min_cosine_similarity"] > 0.9999 and changed["min_cosine_similarity"] < 0.99
            assert set(same["max_abs_diff"]) == {"last_hidden_state", "pooler_output"}
        else:
            assert same["predictions_unchanged"] == 1.0 > changed["predictions_unchanged"]
            assert (
                changed["predictions_compared"] == len(texts)
                and changed["rule"] == "predictions unchanged on >= 99.5%"
            )


def test_default_output_and_nothing_left_behind_by_a_failed_export(classifier_folder, tmp_path, monkeypatch):
    assert default_output(classifier_folder, "onnx") == classifier_folder.with_name("model-onnx")
    assert default_output("minilm", "openvino").as_posix() == "minilm-openvino"
    assert default_output("owner/some-model", "onnx").as_posix() == "some-model-onnx"

    def broken(model, tokenizer, task, folder):
        (folder / "model.onnx").write_text("half a graph")
        raise RuntimeError("the converter fell over")

    monkeypatch.setitem(graph_module.WRITERS, "onnx", broken)
    monkeypatch.setattr(exporter_module, "WRITERS", graph_module.WRITERS)
    with pytest.raises(RuntimeError, match="the converter fell over"):
        export_model(classifier_folder, tmp_path / "out", format="onnx")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one


def test_openvino_precision_is_recorded_and_asked_for(classifier_folder, tmp_path):
    """OpenVINO's CPU plugin computes in bf16 by default where the CPU has bf16 units: an fp32 export asks for f32."""
    import openvino

    result = export_model(classifier_folder, tmp_path / "bf16", format="openvino", dtype="bf16", verify=False)
    assert result.info["dtype"] == "bf16" and result.verification is None and result.passed is None
    fp32 = open_session(result.folder, dtype="fp32")
    assert str(fp32.compiled.get_property("INFERENCE_PRECISION_HINT")) in ("f32", "<Type: 'float32'>")
    bf16 = open_session(result.folder)  # export.json's precision
    assert bf16.dtype == "bf16"
    if "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        assert "bf" in str(bf16.compiled.get_property("INFERENCE_PRECISION_HINT"))
    with pytest.raises(ValueError, match="onnxruntime runs onnx models in fp32, int8, not bf16"):
        export_model(classifier_folder, tmp_path / "onnx", format="onnx", verify=False)
        open_session(tmp_path / "onnx", dtype="bf16")


# --------------------------------------------------------------------------------------------------- the command


def test_the_command_exports_verifies_and_prints(classifier_folder, tmp_path, capsys):
    out = tmp_path / "exported"
    assert main(["export", str(classifier_folder), "--format", "onnx", "-o", str(out), "--verify-samples", "4"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out.absolute()}: model.onnx, config.json, tokenizer, export.json" in printed
    assert "task sequence-classification (ShrunkBertForSequenceClassification), inputs input_ids" in printed
    assert "verified in fp32 against PyTorch fp32 on 4 built-in sample texts (no metrics.json names a task)" in printed
    assert "largest absolute output difference " in printed and ", predictions unchanged 100.0% of 4" in printed
    assert json.loads((out / "export.json").read_text())["verification"]["texts"] == 4

    # `info` describes what it wrote: no weights to count, the export's record and the folder it was made from
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "exported           onnx (runs on onnxruntime), fp32" in info
    assert "architecture       ShrunkBertForSequenceClassification" in info
    size = (out / "model.onnx").stat().st_size
    assert size < 2**20 and f"files              model.onnx ({size / 2**10:.1f} KiB), config.json, tokenizer" in info
    assert "verification       passed: predictions unchanged 100.0% of 4, largest output difference " in info
    assert f"source             {classifier_folder} (found at {classifier_folder.resolve()})" in info
    assert main(["info", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["format"] == "onnx" and record["source_found"] == str(classifier_folder.resolve())
    unverified = tmp_path / "unverified"
    assert main(["export", str(classifier_folder), "--format", "onnx", "-o", str(unverified), "--no-verify"]) == 0
    capsys.readouterr()
    assert main(["info", str(unverified)]) == 0
    assert "verification       none: exported with --no-verify (loading it warns)" in capsys.readouterr().out


def test_the_command_exits_1_when_predictions_change(
    classifier_folder, tmp_path, reference_predicts_otherwise, capsys
):
    out = tmp_path / "exported"
    assert main(["export", str(classifier_folder), "--format", "openvino", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "verification failed: the rule is predictions unchanged on >= 99.5%" in captured.err
    assert (
        f"{out} is kept to inspect (export.json says passed: false); do not deploy it: load_for_inference warns "
        "when it loads it, and backend='auto' does not choose it" in captured.err
    )
    assert "int8 does not hold" not in captured.err  # an fp32 export that changes predictions is no int8 matter
    info = json.loads((out / "export.json").read_text())
    assert info["verification"]["passed"] is False and info["passed"] is False
    assert info["note"].startswith("kept to inspect, not to deploy: the verification failed")
    # the source, relative to the export: no path of this machine in the file, and found where both are moved to
    assert info["source_folder"] == os.path.relpath(classifier_folder.resolve(), out.resolve())


def test_the_command_says_what_was_wrong(classifier_folder, tmp_path, monkeypatch, capsys):
    def error_of(*argv: str) -> str:
        assert main(["export", *argv]) == 2
        return capsys.readouterr().err

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "has no config.json; expected a saved transformers model folder" in error_of(str(empty), "--format", "onnx")
    no_weights = tmp_path / "config-only"
    no_weights.mkdir()
    (no_weights / "config.json").write_text((classifier_folder / "config.json").read_text())
    assert "no weights in" in error_of(str(no_weights), "--format", "onnx")
    assert "does not exist" in error_of(str(tmp_path / "missing"), "--format", "onnx")
    assert "onnx models run in fp32, int8, not 'bf16'" in error_of(
        str(classifier_folder), "--format", "onnx", "--dtype", "bf16"
    )
    exported = tmp_path / "exported"
    assert main(["export", str(classifier_folder), "--format", "onnx", "-o", str(exported), "--no-verify"]) == 0
    assert "not verified (--no-verify)" in capsys.readouterr().out
    # the command line's form of what to do, not the Python API's (overwrite=True, dtype=...)
    assert f"output folder {exported} already exists; choose another (--output) or pass --overwrite" in error_of(
        str(classifier_folder), "--format", "onnx", "-o", str(exported)
    )
    with pytest.raises(FileExistsError, match="already exists; choose another or pass overwrite=True"):
        export_model(classifier_folder, exported, format="onnx")
    # --overwrite does not let an export replace the model it is made from (its weights would be lost)
    assert "is the model folder the export is made from: replacing it would lose its weights" in error_of(
        str(classifier_folder), "--format", "onnx", "-o", str(classifier_folder), "--overwrite"
    )
    assert (classifier_folder / "model.safetensors").exists()
    with pytest.raises(ValueError, match=r"dtype='bf16' is an OpenVINO precision \(format='openvino'\)"):
        export_model(classifier_folder, tmp_path / "x", format="onnx", dtype="bf16")
    assert "is already an exported onnx model (export.json)" in error_of(str(exported), "--format", "openvino")
    for option in ("--verify-samples", "--calibration-samples"):
        with pytest.raises(SystemExit) as exit_info:
            main(["export", str(classifier_folder), "--format", "onnx", option, "0"])
        assert exit_info.value.code == 2 and f"argument {option}: must be >= 1, got 0" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if openvino were not installed
    assert (
        "exporting to openvino needs openvino, which is not installed: pip install 'compactbert[openvino]' (from a "
        "checkout: pip install -e '.[openvino]')"
        in error_of(str(classifier_folder), "--format", "openvino", "-o", str(tmp_path / "ov"))
    )
    assert not (tmp_path / "ov").exists()
    # a head the folder does not hold would be random, and verified against itself
    err = error_of(
        str(classifier_folder), "--format", "onnx", "--task", "token-classification", "-o", str(tmp_path / "t")
    )
    assert "holds a ShrunkBertForSequenceClassification, not a token-classification head" in err
    assert "(--task auto: sequence-classification) or its encoder (--task base)" in err
    encoder = tmp_path / "encoder"
    compactbert.save_model(compactbert.shrink(make_bert(num_layers=2), "top", num_drop=1), encoder, make_tokenizer())
    err = error_of(str(encoder), "--format", "onnx", "--task", "sequence-classification", "-o", str(tmp_path / "t"))
    assert "holds a ShrunkBertModel, not a sequence-classification head" in err
    headless = tmp_path / "headless"  # its config names a classifier, its weights hold none
    shutil.copytree(classifier_folder, headless)
    weights = load_file(headless / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("classifier")}, headless / "model.safetensors")
    err = error_of(str(headless), "--format", "onnx", "-o", str(tmp_path / "t"))
    assert "weights lack classifier.bias, classifier.weight: its sequence-classification head would be random" in err
    assert not (tmp_path / "t").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(classifier_folder), "--format", "tflite"])
    assert exit_info.value.code == 2 and "invalid choice: 'tflite'" in capsys.readouterr().err


def test_a_missing_runtime_is_named_with_the_extra_and_the_checkouts_form(monkeypatch):
    """compactbert is on no package index: the hint says how to install the extra from a checkout too."""
    from compactbert.export.formats import FORMATS, MissingRuntimeError, require
    from compactbert.export.quantize import require_quantizer

    for name in ("onnx", "onnxscript", "onnxruntime", "openvino", "nncf"):
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    with pytest.raises(MissingRuntimeError) as missing:
        require(FORMATS["onnx"])
    assert str(missing.value) == (
        "exporting to onnx needs onnx, onnxscript, onnxruntime, which are not installed: pip install "
        "'compactbert[onnx]' (from a checkout: pip install -e '.[onnx]')"
    )
    with pytest.raises(MissingRuntimeError) as missing:
        require_quantizer()
    assert str(missing.value) == (
        "quantizing to int8 for openvino needs openvino, nncf, which are not installed: pip install "
        "'compactbert[openvino]' (from a checkout: pip install -e '.[openvino]')"
    )


def test_a_failed_verification_reads_as_what_moved_against_the_rule():
    from compactbert.export.exporter import what_moved

    classifier = {"predictions_unchanged": 0.989, "min_cosine_similarity": None, "passed": False}
    assert what_moved(classifier) == "changed 1.1% of the predictions (an export keeps at least 99.5% of them)"
    encoder = {"predictions_unchanged": None, "min_cosine_similarity": 0.924, "passed": False}
    assert what_moved(encoder) == (
        "moved the token states to a cosine similarity of 0.924 (an export keeps each text's at least 0.99)"
    )


def test_runtimes_have_one_title_everywhere():
    """Cards, the zoo report and the demo name runtimes from one table: the format, its backend and int8 alike."""
    from compactbert.export.formats import INT8_RUNTIME, runtime_title

    assert [runtime_title(n) for n in ("torch", "onnx", "onnxruntime", "openvino", INT8_RUNTIME)] == [
        "PyTorch",
        "ONNX Runtime",
        "ONNX Runtime",
        "OpenVINO",
        "OpenVINO",
    ]
    assert runtime_title("tensorrt") == "tensorrt"  # a name it does not know is shown as it is
    assert runtime_title(None) == runtime_title("") == "PyTorch"  # recorded before runtimes were


def test_verify_samples_with_no_verify_is_refused(classifier_folder, tmp_path, capsys):
    argv = ["export", str(classifier_folder), "--format", "onnx", "-o", str(tmp_path / "x")]
    assert main([*argv, "--no-verify", "--verify-samples", "5"]) == 2
    assert "--verify-samples sets the texts the verification runs on: leave out --no-verify" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_an_export_into_its_own_source_given_as_dot_is_refused_by_name(classifier_folder, tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(classifier_folder, copy)
    monkeypatch.chdir(copy)
    # the suggestion is named by the folder `.` is (it was "PosixPath('.') has an empty name")
    with pytest.raises(FileExistsError, match=r"^\. is the model folder the export is made from.*/model-onnx\)$"):
        export_model(".", ".", format="onnx", overwrite=True, verify=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        FileExistsError, match=r"model is the model folder the export is made from.*\(by default: .*model-onnx\)"
    ):
        export_model("model", "model", format="onnx", overwrite=True, verify=False)
    assert (copy / "model.safetensors").exists()
