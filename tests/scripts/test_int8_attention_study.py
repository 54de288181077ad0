"""scripts/int8_attention_study.py on a tiny classifier: both int8 exports and bf16, verified, timed, written.
No bounds on the times or the agreement: those are whatever the machine and the tiny model give."""

import json

import pytest
from transformers import BertForSequenceClassification

import compactbert

from support.helpers import make_bert, make_tokenizer
from support.scripts import load_script

pytest.importorskip("nncf", reason="int8 export needs nncf (the openvino extra)")


@pytest.fixture(scope="module")
def study():
    return load_script("int8_attention_study")


def test_the_study_exports_both_ways_verifies_and_times_side_by_side(study, tmp_path):
    model = make_bert(BertForSequenceClassification, num_layers=2, num_labels=3)
    folder = tmp_path / "model"
    compactbert.save_model(model, folder, make_tokenizer())
    (folder / "metrics.json").write_text(json.dumps({"task": "bbc-news", "split_seed": 7}))
    out = tmp_path / "out"
    argv = [str(folder), "--verify-samples", "6", "--calibration-samples", "4", "--rounds", "2", "--out", str(out)]
    assert study.main(argv) == 0

    results = json.loads((out / "results.json").read_text())
    assert results["command"] == "python scripts/int8_attention_study.py " + " ".join(argv)
    exports = results["models"][str(folder)]["exports"]
    assert list(exports) == ["int8, attention quantized", "int8, attention in the rest's precision", "bf16"]
    assert exports["int8, attention quantized"]["quantization"]["not_quantized"] == []
    assert exports["int8, attention in the rest's precision"]["quantization"]["not_quantized"] == [
        "ScaledDotProductAttention"
    ]
    assert exports["bf16"]["quantization"] is None
    for record in exports.values():
        check = record["verification"]
        assert check["texts"] == 6 and check["on"].startswith("the first 6 texts of the test split of bbc-news")
        assert 0 <= check["predictions_unchanged"] <= 1
    timing = results["models"][str(folder)]["timing"]
    assert set(timing) == {"1", "32"}
    for batch in timing.values():
        assert all(len(ms) == 2 and min(ms) > 0 for ms in batch["ms"].values())
        assert set(batch["speedup_vs_bf16"]) == {
            "int8, attention quantized",
            "int8, attention in the rest's precision",
        }
        assert batch["attention_quantized_speedup"] > 0
    readme = (out / "README.md").read_text()
    assert readme.count(f"| {folder} |") == 1 and "| bf16 |" in readme


def test_the_study_refuses_a_folder_that_is_no_model(study, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        study.main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "not a model folder (no config.json)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
