"""The comparison behind the page and the API: right models, right numbers, bounded and checked inputs."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from compactbert import STRATEGIES, select_layers
from compactbert.demo import FINE_TUNED_CHOICE, NOT_RETRAINED, Comparer, load_zoo
from compactbert.demo.compare import MAX_REPEATS, MAX_TEXT_CHARS

from support.demo import ALBERT_EMBEDDING_SIZE, LABELS, OTHER_ENTRIES, TINY_SCORES

TEXT = "the team win the game"


@pytest.fixture(scope="module")
def comparer(tiny_zoo_dir):
    return Comparer(load_zoo(tiny_zoo_dir), dtype="fp32")


def reference_proba(folder, text, keep=None):
    """Probabilities straight from transformers, independent of the demo's code path."""
    import torch

    from compactbert import shrink

    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    if keep is not None:
        model = shrink(model, keep=keep).eval()
    batch = AutoTokenizer.from_pretrained(folder)([text], return_tensors="pt")
    with torch.inference_mode():
        return model(**batch).logits.softmax(-1)[0].numpy()


def test_choices_come_from_the_zoo(comparer):
    assert comparer.model_choices == [NOT_RETRAINED, FINE_TUNED_CHOICE, *OTHER_ENTRIES]
    assert [(e.strategy, e.num_drop) for e in comparer.fine_tuned_entries()] == [("top", 2), ("bottom", 2)]
    assert [(e.name, e.strategy, e.num_drop) for e in comparer.other_entries()] == [
        (name, None, None) for name in OTHER_ENTRIES
    ]
    # the entry each choice runs (None: the teacher minus K layers, made on demand), and a clear refusal of another
    assert comparer.entry_for("top", 2, NOT_RETRAINED) is None
    assert comparer.entry_for("bottom", 2, FINE_TUNED_CHOICE).name == "shrunk-bottom-2"
    assert comparer.entry_for("top", 2, "distilled-3").name == "distilled-3"
    with pytest.raises(ValueError, match="unknown model 'nope'; choose one of: dropped, not retrained, "):
        comparer.entry_for("top", 2, "nope")


@pytest.mark.parametrize("name", list(OTHER_ENTRIES))
def test_entries_of_other_families_run_as_themselves(comparer, tiny_zoo_dir, name):
    """A pruned TinyBert, a distilled student and a converted Albert-SOP: their own layers, width and predictions; no
    strategy or K."""
    family, _, kept, hidden = OTHER_ENTRIES[name]
    result = comparer.compare(TEXT, "bottom", 2, name, repeats=2)  # strategy and K are ignored for them
    compact = result["compact"]
    assert compact["name"] == name and compact["strategy"] is None and compact["num_drop"] is None
    assert compact["num_layers"] == len(kept)  # an Albert-SOP keeps no teacher layers: its shared layer runs again
    assert compact["kept_layers"] == (None if family == "albert_sop" else kept)  # the teacher layers it kept
    assert compact["hidden_size"] == hidden and result["teacher"]["hidden_size"] == 32
    assert compact["num_parameters"] < result["teacher"]["num_parameters"]
    compact_p = [compact["probabilities"][label] for label in LABELS]
    np.testing.assert_allclose(compact_p, reference_proba(tiny_zoo_dir / name, TEXT), atol=1e-5)
    config = AutoModelForSequenceClassification.from_pretrained(tiny_zoo_dir / name).config
    assert config.model_type == family  # a pruned TinyBert records its kept layers apart from a ShrunkBert
    if (
        family == "albert_sop"
    ):  # converted: its shared layer runs once per teacher layer; E and the sharing say its size
        assert (
            (compact["embedding_size"], compact["sharing"])
            == (ALBERT_EMBEDDING_SIZE, "all")
            == (
                config.embedding_size,
                config.sharing,
            )
        )
        assert result["teacher"]["embedding_size"] is result["teacher"]["sharing"] is None
    else:
        assert (config.pruning["kept_layers"] if family == "tiny_bert" else config.kept_layers) == kept
        assert compact["embedding_size"] is compact["sharing"] is None


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_not_retrained_drops_the_strategys_layers_from_the_teacher(comparer, tiny_zoo_dir, strategy):
    result = comparer.compare(TEXT, strategy, 2, NOT_RETRAINED, repeats=2)
    scores = TINY_SCORES if strategy == "contribution" else None
    kept = select_layers(6, strategy, 2, scores)
    assert result["compact"]["kept_layers"] == kept
    assert result["compact"]["num_layers"] == 4 and result["teacher"]["num_layers"] == 6
    assert result["compact"]["num_parameters"] < result["teacher"]["num_parameters"]
    teacher_p = np.array([result["teacher"]["probabilities"][label] for label in LABELS])
    compact_p = np.array([result["compact"]["probabilities"][label] for label in LABELS])
    np.testing.assert_allclose(teacher_p, reference_proba(tiny_zoo_dir / "teacher", TEXT), atol=1e-5)
    np.testing.assert_allclose(compact_p, reference_proba(tiny_zoo_dir / "teacher", TEXT, keep=kept), atol=1e-5)
    assert result["teacher"]["label"] == LABELS[int(teacher_p.argmax())]
    assert result["agree"] == (result["teacher"]["label"] == result["compact"]["label"])


def test_fine_tuned_choice_runs_the_zoo_entry(comparer, tiny_zoo_dir):
    result = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=2)
    assert result["compact"]["name"] == "shrunk-bottom-2" and result["compact"]["kept_layers"] == [2, 3, 4, 5]
    compact_p = [result["compact"]["probabilities"][label] for label in LABELS]
    np.testing.assert_allclose(compact_p, reference_proba(tiny_zoo_dir / "shrunk-bottom-2", TEXT), atol=1e-5)


def test_latency_is_measured_side_by_side(comparer):
    result = comparer.compare(TEXT, "top", 3, repeats=4)
    for side in ("teacher", "compact"):
        latency = result[side]["latency_ms"]
        assert 0 < latency["min"] <= latency["median"] <= latency["max"]
    assert result["repeats"] == 4
    assert result["speedup"] == pytest.approx(
        result["teacher"]["latency_ms"]["median"] / result["compact"]["latency_ms"]["median"]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "  "}, "enter a text"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, f"at most {MAX_TEXT_CHARS:,}"),
        ({"strategy": "topp"}, "unknown strategy 'topp'; choose one of: top, bottom"),
        ({"model": "/etc"}, "unknown model choice '/etc'"),
        ({"model": "someone/remote-code-model"}, "unknown model choice"),
        ({"repeats": MAX_REPEATS + 1}, f"between 1 and {MAX_REPEATS}"),
        ({"repeats": 0}, f"between 1 and {MAX_REPEATS}"),
        ({"num_drop": 6}, "can drop 1 to 5"),
        ({"strategy": "even-alternate", "num_drop": 4}, "can drop 1 to 3"),
        ({"model": FINE_TUNED_CHOICE, "num_drop": 3}, "no fine-tuned model for top K=3; it has: top K=2, bottom K=2"),
        ({"num_drop": "two"}, "whole numbers"),
        ({"num_drop": 2.7}, "whole numbers, got 2.7, 2"),  # not run as K=2
        ({"repeats": 10.9}, "whole numbers, got 2, 10.9"),
        ({"num_drop": True}, "whole numbers"),
        ({"text": "\u200b\u200b\u00ad"}, "enter a text"),  # zero-width spaces and a soft hyphen: nothing to read
    ],
)
def test_bad_input_is_refused_with_a_clear_message(comparer, kwargs, message):
    args = {"text": TEXT, "strategy": "top", "num_drop": 2, "model": NOT_RETRAINED, "repeats": 2} | kwargs
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        comparer.compare(**args)


def test_compact_models_are_cached_and_bounded(tiny_zoo_dir):
    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", max_cached=2)
    first = comparer.compact_model("top", 1, NOT_RETRAINED)
    assert comparer.compact_model("top", 1, NOT_RETRAINED) is first
    comparer.compact_model("top", 2, NOT_RETRAINED)
    comparer.compact_model("bottom", 2, NOT_RETRAINED)
    assert len(comparer._cache) == 2 and comparer.compact_model("top", 1, NOT_RETRAINED) is not first


def test_a_first_use_is_announced_before_the_wait(tiny_zoo_dir, tmp_path, monkeypatch):
    """`announce` hears of each model exported for a request, before it is, and only the first time; a model made on
    PyTorch (quick) is not announced."""
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32")
    said: list[str] = []
    teacher = comparer.zoo.teacher.name
    comparer.compare(TEXT, "top", 1, NOT_RETRAINED, repeats=1, announce=said.append)
    assert said == []
    comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1, runtime="onnxruntime", announce=said.append)
    exporting = "preparing it for onnxruntime (exported the first time; cached after)"
    assert said == [f"{name}: {exporting}" for name in (teacher, "shrunk-bottom-2")]
    comparer.compare(TEXT, "top", 1, NOT_RETRAINED, repeats=1, runtime="onnxruntime", announce=said.append)
    assert said[2:] == [f"{teacher} minus 1 layer (top), not retrained: {exporting}"]
    comparer.compare(TEXT, "top", 1, NOT_RETRAINED, repeats=1, runtime="onnxruntime", announce=said.append)
    assert len(said) == 3  # only the first use


def test_a_zoo_of_hub_entries_loads_them_from_the_hub(hub, tiny_zoo_dir, tmp_path):
    import json

    hub.create_model_repo("compactbert/tiny-bottom-2", tiny_zoo_dir / "shrunk-bottom-2")
    manifest = json.loads((tiny_zoo_dir / "zoo.json").read_text())
    manifest["entries"][1]["source"] = "compactbert/tiny-bottom-2"
    manifest["teacher"]["source"] = str(tiny_zoo_dir / "teacher")
    (tmp_path / "hub-zoo.json").write_text(json.dumps(manifest))
    result = Comparer(load_zoo(tmp_path / "hub-zoo.json"), dtype="fp32").compare(
        TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1
    )
    assert result["compact"]["name"] == "shrunk-bottom-2" and result["compact"]["kept_layers"] == [2, 3, 4, 5]
    assert hub.requests_matching("GET", "/compactbert/tiny-bottom-2/")  # fetched through the Hub client


def test_entries_of_other_families_become_choices_of_their_own(tiny_zoo_dir, tmp_path):
    import json

    manifest = json.loads((tiny_zoo_dir / "zoo.json").read_text())
    manifest["teacher"]["source"] = str(tiny_zoo_dir / "teacher")
    student = {"name": "distilled-2-layer", "source": str(tiny_zoo_dir / "shrunk-top-2"), "family": "shrunk_bert"}
    manifest["entries"].append(student | {"kind": "distilled", "description": "a stand-in student"})
    (tmp_path / "zoo.json").write_text(json.dumps(manifest))
    comparer = Comparer(load_zoo(tmp_path), dtype="fp32")
    assert comparer.model_choices == [NOT_RETRAINED, FINE_TUNED_CHOICE, *OTHER_ENTRIES, "distilled-2-layer"]
    result = comparer.compare(TEXT, model="distilled-2-layer", repeats=1)  # strategy and K do not apply
    assert result["compact"]["name"] == "distilled-2-layer" and result["compact"]["num_layers"] == 4
    assert result["compact"]["strategy"] is None and result["compact"]["num_drop"] is None


def test_both_models_run_on_the_chosen_runtime_and_a_comparison_can_switch(tiny_zoo_dir, tmp_path, monkeypatch):
    """`backend="openvino"`: the teacher and every compact model (a zoo entry, a not-retrained drop) are exported
    and run by OpenVINO, with PyTorch's probabilities; `runtime="torch"` runs the same comparison on PyTorch."""
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))  # the on-the-fly exports
    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", backend="openvino")
    assert comparer.backend == "openvino"
    assert comparer.runtime_choices == ["torch", "openvino", "onnxruntime", "openvino-int8", "onnxruntime-int8"]
    on_openvino = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1)
    assert (on_openvino["runtime"], on_openvino["dtype"]) == ("openvino", "float32")
    assert type(comparer.compact_model("bottom", 2, FINE_TUNED_CHOICE)).__name__ == "RuntimeInferenceModel"
    compact_p = [on_openvino["compact"]["probabilities"][label] for label in LABELS]
    np.testing.assert_allclose(compact_p, reference_proba(tiny_zoo_dir / "shrunk-bottom-2", TEXT), atol=1e-4)
    dropped = comparer.compare(TEXT, "top", 2, NOT_RETRAINED, repeats=1)  # shrunk from the teacher, then exported
    assert dropped["runtime"] == "openvino" and dropped["compact"]["kept_layers"] == [0, 1, 2, 3]
    dropped_p = [dropped["compact"]["probabilities"][label] for label in LABELS]
    np.testing.assert_allclose(
        dropped_p, reference_proba(tiny_zoo_dir / "teacher", TEXT, keep=[0, 1, 2, 3]), atol=1e-4
    )
    on_torch = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1, runtime="torch")
    assert on_torch["runtime"] == "torch" and on_torch["compact"]["label"] == on_openvino["compact"]["label"]
    with pytest.raises(ValueError, match=r"unknown runtime 'tensorrt'; choose one of: torch, openvino, onnxruntime"):
        comparer.compare(TEXT, runtime="tensorrt")


def test_a_comparison_can_run_both_models_quantized_to_int8(tiny_zoo_dir, tmp_path, monkeypatch):
    """`runtime="openvino-int8"`: the teacher and the compact model each exported, quantized by NNCF (calibrated on
    their task's train split, else on built-in texts) and run by OpenVINO; the result names the runtime and the precisions."""
    pytest.importorskip("nncf")
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="int8 calibration on 300 built-in BBC News articles") as caught:
        comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", backend="openvino-int8")
        said: list[str] = []
        result = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1, announce=said.append)
    # the page says what the wait is for (the teacher was quantized when the demo started)
    quantizing = "exported and quantized to int8 the first time, which takes a while; cached after"
    assert said == [f"shrunk-bottom-2: preparing it for openvino-int8 ({quantizing})"]
    assert len([w for w in caught if "int8 calibration" in str(w.message)]) == 2  # the teacher and the compact model
    assert comparer.backend == "openvino-int8"
    assert (result["runtime"], result["dtype"]) == ("openvino-int8", "int8 + float32")
    teacher, compact = (
        comparer.teacher_on("openvino-int8"),
        comparer.compact_model("bottom", 2, FINE_TUNED_CHOICE, "openvino-int8"),
    )
    for model in (teacher, compact):
        assert model.backend == "openvino" and model.quantized == "int8" and model.session.dtype == "int8"
        # the tiny zoo's task cannot be loaded here, so the calibration says so and falls back to built-in texts
        assert (
            "built-in BBC News articles (the task 'tiny' could not be loaded"
            in (model.export_info["quantization"]["calibration"]["on"])
        )
    assert set(result["compact"]["probabilities"]) == set(LABELS)
    on_torch = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1, runtime="torch")
    assert (on_torch["runtime"], on_torch["dtype"]) == ("torch", "float32")


def test_a_comparison_can_run_both_models_on_onnxruntime_int8(tiny_zoo_dir, tmp_path, monkeypatch):
    """`runtime="onnxruntime-int8"` (the int8 for CPUs without VNNI): the teacher and the compact model each exported
    with int8 weights and run by ONNX Runtime; nothing to calibrate."""
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", backend="onnxruntime-int8")
    said: list[str] = []
    result = comparer.compare(TEXT, "bottom", 2, FINE_TUNED_CHOICE, repeats=1, announce=said.append)
    quantizing = "exported and its weights quantized to int8 the first time; cached after"
    assert said == [f"shrunk-bottom-2: preparing it for onnxruntime-int8 ({quantizing})"]
    assert comparer.backend == "onnxruntime-int8"
    assert (result["runtime"], result["dtype"]) == ("onnxruntime-int8", "int8 + float32")
    for model in (comparer.teacher_on("onnxruntime-int8"), comparer.compact_model("bottom", 2, FINE_TUNED_CHOICE,
                                                                                  "onnxruntime-int8")):  # fmt: skip
        assert model.backend == "onnxruntime" and model.quantized == "int8" and model.session.dtype == "int8"
        assert "calibration" not in model.export_info["quantization"]
    assert set(result["compact"]["probabilities"]) == set(LABELS)


def test_a_runtime_that_is_not_installed_is_not_offered(tiny_zoo_dir, monkeypatch):
    monkeypatch.setattr("compactbert.export.formats.missing_modules", lambda names: list(names))  # none installed
    comparer = Comparer(load_zoo(tiny_zoo_dir), dtype="fp32")
    assert comparer.runtime_choices == ["torch"] and comparer.backend == "torch"
    with pytest.raises(
        ValueError, match=r"backend 'openvino' is not installed here .*pip install 'compactbert\[openvino\]'"
    ):
        Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", backend="openvino")
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        Comparer(load_zoo(tiny_zoo_dir), dtype="fp32", backend="tpu")


def test_white_space_around_a_text_does_not_count_towards_its_length(comparer):
    result = comparer.compare(" the team win the game " + " " * MAX_TEXT_CHARS, "top", 1, NOT_RETRAINED, repeats=1)
    assert result["compact"]["name"] == "teacher minus 1 layer (top), not retrained"  # one layer, not "1 layers"
    assert comparer.compare(TEXT, "top", 2.0, NOT_RETRAINED, repeats=2.0)["compact"]["num_drop"] == 2  # whole floats
