"""`compactbert evaluate` / `evaluate_model`: a classifier scored on its task's test split, compared with a computation
made here by hand (the task's test rows, the model's logits), with the majority class, its teacher on the same texts,
what its run recorded and the quality gate; an export scored like its PyTorch folder; wrong input refused with what
to do."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from compactbert.cli import main
from compactbert.data import load_task
from compactbert.data.labels import label_order, onto_model_labels
from compactbert.distillation.recipe import distill, parse_distill_recipe
from compactbert.evaluation import evaluate_model, record_evaluation
from compactbert.finetune import finetune, parse_recipe
from compactbert.hub.gate import majority_class

from support.distill_recipes import make_teacher, save_with_tokenizer
from support.tasks import write_sentiment_csv
from support.zoo import LEARNS

DATA = {"text_column": "review", "label_column": "sentiment", "max_length": 16, "split_seed": 3}
RUN = {"report_to": "none", "save_strategy": "no", "disable_tqdm": True, "bf16_auto": False, "seed": 0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A teacher fine-tuned on a sentiment CSV of 120 reviews, and a 2-layer student distilled from it, with 20 of the
    test rows evaluated (`max_eval_samples`): `(folder, teacher folder, task file)`."""
    tmp = tmp_path_factory.mktemp("runs")
    task = write_sentiment_csv(tmp / "reviews.csv", n=240)
    source = save_with_tokenizer(make_teacher(), tmp / "source")
    data = DATA | {"task": str(task), "max_eval_samples": 20}
    finetune(*parse_recipe(None, data | RUN | LEARNS | {"model": str(source), "output_dir": str(tmp / "teacher")}))
    teacher = tmp / "teacher" / "model"
    student = {"teacher": str(teacher), "student_init": "every-other", "output_dir": str(tmp / "student")}
    distill(*parse_distill_recipe(None, data | RUN | LEARNS | student))
    return tmp / "student" / "model", teacher, task


def by_hand(folder, task_file, n=None, teacher_order=None):
    """Accuracy of the folder's model on the test split, computed here from its logits, and the labels."""
    rows = load_task(str(task_file), seed=DATA["split_seed"], text_column="review", label_column="sentiment")
    test = rows.dataset["test"]
    test = test.select(range(n)) if n else test
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        batch = tokenizer(list(test["text"]), truncation=True, max_length=16, padding=True, return_tensors="pt")
        predicted = model(**batch).logits.argmax(-1).numpy()
    names = [model.config.id2label[int(i)] for i in predicted]
    labels = [rows.label_names[i] for i in test["label"]]
    return float(np.mean([a == b for a, b in zip(names, labels, strict=True)])), test["label"]


def test_the_figures_are_those_computed_by_hand_on_the_recorded_task(runs):
    folder, teacher, task = runs
    result = evaluate_model(folder, dtype="fp32", progress=False)
    accuracy, labels = by_hand(folder, task, n=20)
    teacher_accuracy, _ = by_hand(teacher, task, n=20)
    assert (result.task, result.split, result.seed, result.texts) == (str(task), "test", 3, 20)  # as recorded
    assert result.scores.accuracy == pytest.approx(accuracy)
    assert (result.majority_label, result.majority_accuracy) == majority_class(list(labels), ["negative", "positive"])
    assert result.teacher == str(teacher) and result.teacher_scores.accuracy == pytest.approx(teacher_accuracy)
    assert result.kept == pytest.approx(accuracy / teacher_accuracy)
    recorded = json.loads((folder / "metrics.json").read_text())
    assert result.recorded == recorded["test"]["accuracy"] == pytest.approx(result.scores.accuracy)
    assert result.teacher_scores.accuracy == pytest.approx(recorded["teacher_scores"]["test"]["accuracy"])
    assert result.gate["passed"] is (accuracy >= result.majority_accuracy + 0.1)

    whole = evaluate_model(
        folder, dtype="fp32", max_eval_samples=1000, progress=False
    )  # the whole split: not recorded
    assert whole.texts == len(
        load_task(str(task), seed=3, text_column="review", label_column="sentiment").dataset["test"]
    )
    assert whole.recorded is None and whole.scores.accuracy == pytest.approx(by_hand(folder, task)[0])


def test_an_export_is_scored_on_its_sources_task_like_the_pytorch_folder(runs, tmp_path):
    pytest.importorskip("onnxruntime")
    from compactbert.export import export_model

    folder, teacher, _ = runs
    exported = export_model(folder, tmp_path / "onnx", format="onnx", verify_samples=4).folder
    result = evaluate_model(exported, progress=False)
    reference = evaluate_model(folder, dtype="fp32", progress=False)
    assert result.backend == "onnxruntime" and result.task == reference.task and result.texts == reference.texts
    assert result.scores == reference.scores and result.teacher == str(teacher)


def test_an_int8_export_says_int8_and_what_its_other_operations_run_in(runs, tmp_path, capsys):
    pytest.importorskip("nncf")
    from compactbert.export import export_model

    folder, _, _ = runs
    exported = export_model(folder, tmp_path / "int8", format="openvino", dtype="int8", calibration_samples=8,
                            verify=False).folder  # fmt: skip
    result = evaluate_model(exported, progress=False)
    assert result.backend == "openvino" and result.quantized == "int8" and result.dtype in ("bf16", "fp32")
    main(["evaluate", str(exported)])
    assert (
        f"{exported} (openvino, int8, the other operations in {result.dtype}) on 20 texts" in capsys.readouterr().out
    )
    assert evaluate_model(folder, dtype="fp32", progress=False).quantized is None


def test_time_models_times_each_batch_of_real_texts_side_by_side():
    from compactbert.inference import time_models

    class Model:
        def __init__(self):
            self.batches = []

        def runner(self, texts, max_length, text_pairs):
            self.batches.append((list(texts), text_pairs, max_length))
            return lambda: None

    a, b = Model(), Model()
    timed = time_models({"a": a, "b": b}, ["x", "y", "z"], [1, 5], 16, ["p", "q", "r"], repeats=3, min_sample_ms=0)
    assert [sorted(t) for t in timed] == [["a", "b"], ["a", "b"]] and len(timed[1]["a"].samples_ms) == 3
    assert a.batches == [(["x"], ["p"], 16), (["x", "y", "z", "x", "y"], ["p", "q", "r", "p", "q"], 16)]
    with pytest.raises(ValueError, match="batch sizes >= 1"):
        time_models({"a": a}, ["x"], [0])


def test_time_puts_the_model_beside_its_teacher_with_the_paired_speedup(runs, monkeypatch, capsys):
    from compactbert.inference import Timing

    folder, teacher, _ = runs
    seen = []

    def timer(fns, repeats, warmup, progress, min_sample_ms):  # the teacher 3x then 2x slower in its two rounds
        seen.append(sorted(fns))
        return {"model": Timing([2.0, 4.0]), "teacher": Timing([6.0, 8.0])}

    monkeypatch.setattr("compactbert.inference.time_side_by_side", timer)
    result = evaluate_model(folder, dtype="fp32", progress=False, time_batches=[1, 4], time_repeats=2)
    speed = result.speed
    assert seen == [["model", "teacher"]] * 2 and [row["batch"] for row in speed["batches"]] == [1, 4]
    row = speed["batches"][0]
    assert row["speedup"] == pytest.approx(2.5)  # paired per round: median(6/2, 8/4), not 7/3
    assert row["model"] == {"median_ms": 3.0, "min_ms": 2.0, "max_ms": 4.0} and row["teacher"]["median_ms"] == 7.0
    assert speed["model_runs_on"] == speed["teacher_runs_on"] == "torch (fp32)" and speed["repeats"] == 2
    assert main(["evaluate", str(folder), "--dtype", "fp32", "--time", "--time-batches", "1"]) == 0
    out = capsys.readouterr().out
    assert "speed       batch 1: the model 3.00 ms (2.00-4.00), teacher 7.00 ms (6.00-8.00): 2.50x faster" in out
    assert (
        "interleaved rounds on the split's first texts; the model on torch (fp32), the teacher on torch (fp32);" in out
    )
    from compactbert.cli.evaluate import print_speed

    spread = {"median_ms": 2.0, "min_ms": 2.0, "max_ms": 2.0}
    slow = {"batch": 1, "model": spread, "teacher": spread, "speedup": 0.5}
    print_speed(speed | {"batches": [slow], "model_runs_on": "openvino (fp32)"}, "teacher")
    out = capsys.readouterr().out
    assert "2.00x slower" in out and "the teacher on torch (fp32): the ratio includes the runtime" in out
    assert evaluate_model(folder, progress=False).speed is None  # only when asked
    with pytest.raises(ValueError, match="a time batch must be >= 1"):
        evaluate_model(folder, progress=False, time_batches=[0])


def test_labels_are_matched_by_name_in_any_order_and_case(runs, tmp_path):
    folder, _, task = runs
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():  # the same model with its two labels swapped, and named in capitals
        model.classifier.weight.copy_(model.classifier.weight.flip(0))
        model.classifier.bias.copy_(model.classifier.bias.flip(0))
    model.config.id2label, model.config.label2id = {0: "POSITIVE", 1: "NEGATIVE"}, {"POSITIVE": 0, "NEGATIVE": 1}
    swapped = tmp_path / "swapped"
    model.save_pretrained(swapped)
    AutoTokenizer.from_pretrained(folder).save_pretrained(swapped)
    result = evaluate_model(swapped, task, **{k: DATA[k] for k in ("text_column", "label_column")}, split_seed=3,
                            max_length=16, max_eval_samples=20, dtype="fp32", progress=False)  # fmt: skip
    assert result.scores == evaluate_model(folder, dtype="fp32", progress=False).scores
    assert list(label_order(["LABEL_0", "LABEL_1"], ["a", "b"], "t")) == [0, 1]
    with pytest.raises(ValueError, match=r"the model's labels \['x', 'y'\] are not those of task 't' \['a', 'b'\]"):
        label_order(["x", "y"], ["a", "b"], "t")
    with pytest.raises(ValueError, match=r"labels are numbers, .* write the names \(x, y\) in the label column"):
        label_order(["x", "y"], ["0", "1"], "t")


def test_held_out_rows_are_put_in_the_models_label_space_by_the_labels_they_hold():
    model = ["negative", "positive"]
    assert list(onto_model_labels([0, 1, 0], ["POSITIVE", "negative"], model, "f")) == [1, 0, 1]  # any case
    # a label the data declares (a ClassLabel's) but no scored row holds is not asked of the model
    assert list(onto_model_labels([0, 2], ["negative", "neutral", "positive"], model, "f")) == [0, 1]
    with pytest.raises(ValueError, match=r"f has labels the model does not predict: \['neutral'\]"):
        onto_model_labels([1], ["negative", "neutral"], model, "f")
    unnamed = ["LABEL_0", "LABEL_1", "LABEL_2"]
    assert list(onto_model_labels([0, 1, 1], ["0", "2"], unnamed, "f")) == [0, 2, 2]  # numbers are its ids
    with pytest.raises(ValueError, match=r"f has label 2, but the model predicts 2 unnamed labels \(ids 0 to 1\)"):
        onto_model_labels([1], ["0", "2"], unnamed[:2], "f")
    with pytest.raises(ValueError, match=r"f labels its rows with names \['a'\], but the model's labels have none"):
        onto_model_labels([0], ["a"], unnamed, "f")
    with pytest.raises(ValueError, match=r"f labels its rows with numbers \['1'\], and which number is which"):
        onto_model_labels([0], ["1"], model, "f")


def predicted_names(folder, texts):
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        batch = tokenizer(list(texts), truncation=True, max_length=16, padding=True, return_tensors="pt")
        return [model.config.id2label[int(i)] for i in model(**batch).logits.argmax(-1)]


def test_split_all_scores_every_row_of_a_held_out_file_with_some_of_the_labels(runs, tmp_path, capsys):
    """`--split all`: a file held out from training, scored whole (no rows carved out), in the model's label space
    even when it holds one of its labels, against the teacher on the same rows; the task it was trained on refused."""
    folder, teacher, task = runs
    held = write_sentiment_csv(tmp_path / "held.csv", n=30, seed=7)
    columns = {k: DATA[k] for k in ("text_column", "label_column")}
    result = evaluate_model(folder, held, split="all", **columns, dtype="fp32", progress=False)
    rows = list(csv.DictReader(held.open()))
    truth = [row["sentiment"] for row in rows]
    predicted = predicted_names(folder, [row["review"] for row in rows])
    assert result.texts == 30 and result.where == f"all 30 texts of {held}"
    assert result.scores.accuracy == pytest.approx(np.mean([a == b for a, b in zip(predicted, truth, strict=True)]))
    taught = predicted_names(teacher, [row["review"] for row in rows])
    assert result.teacher_scores.accuracy == pytest.approx(
        np.mean([a == b for a, b in zip(taught, truth, strict=True)])
    )
    assert result.gate["passed"] is None and result.recorded is None and result.seed is None  # nothing was split
    with pytest.raises(ValueError, match=r"--split all scores every row as it is, unsplit: a split seed \(7\) means"):
        evaluate_model(folder, held, split="all", split_seed=7, **columns, progress=False)

    positives = tmp_path / "positives.csv"  # one of the model's two labels, in capitals
    with positives.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        writer.writerows([row["review"], "POSITIVE"] for row in rows if row["sentiment"] == "positive")
    one = evaluate_model(folder, positives, split="all", **columns, max_eval_samples=10, dtype="fp32", progress=False)
    first = [row["review"] for row in rows if row["sentiment"] == "positive"][:10]
    assert one.texts == 10 and one.where == f"the first 10 texts of {positives}"
    assert one.scores.accuracy == pytest.approx(predicted_names(folder, first).count("positive") / 10)
    assert (one.majority_label, one.majority_accuracy) == ("positive", 1.0)

    command = ["evaluate", str(folder), "--task", str(held), "--split", "all", "--dtype", "fp32"]
    assert main([*command, "--text_column", "review", "--label_column", "sentiment"]) == 0
    out = capsys.readouterr().out
    assert (
        f"on all 30 texts of {held}" in out
        and "quality gate: not applied: it judges the test split, not 'all'" in out
        and ": the rows' most common label)" in out
    )

    with pytest.raises(
        ValueError, match=r"was trained on part of .*reviews.csv.*score its test split \(--split test\)"
    ):
        evaluate_model(folder, split="all", progress=False)
    on_bbc = tmp_path / "on-bbc"  # a run recorded on the built-in set, named another way
    shutil.copytree(folder, on_bbc)
    metrics = json.loads((on_bbc / "metrics.json").read_text())
    (on_bbc / "metrics.json").write_text(json.dumps(metrics | {"task": "bbc-news", "recipe": {}}))
    for name in ("builtin:bbc-news", "bbc-news:/elsewhere/bbc-text.csv"):
        with pytest.raises(ValueError, match=r"was trained on part of '(builtin:)?bbc-news.*', so scoring all of it"):
            evaluate_model(on_bbc, name, split="all", progress=False)
    other = tmp_path / "other.csv"
    other.write_text("review,sentiment\ngood film,positive\nso so,neutral\n")
    with pytest.raises(ValueError, match=r"has labels the model does not predict: \['neutral'\]; the model's labels"):
        evaluate_model(folder, other, split="all", **columns, progress=False)
    other.write_text("review,sentiment\ngood film,1\nbad film,0\n")
    with pytest.raises(ValueError, match=r"labels its rows with numbers \['0', '1'\], and which number is which"):
        evaluate_model(folder, other, split="all", **columns, progress=False)


def test_wrong_input_is_refused_with_what_to_do(runs, tmp_path):
    folder, _, task = runs
    unrecorded = save_with_tokenizer(make_teacher(), tmp_path / "no-metrics")  # a classifier of no recorded task
    with pytest.raises(ValueError, match=r"records no task \(it has no metrics.json with a task\): name the data"):
        evaluate_model(unrecorded, progress=False)
    with pytest.raises(
        ValueError, match=r"minilm holds no trained classification head \(its config names BertModel\)"
    ):
        evaluate_model("minilm", "bbc-news", progress=False)
    with pytest.raises(ValueError, match=r"the model predicts 2 labels .* but task 'bbc-news' has 5"):
        evaluate_model(folder, "bbc-news", progress=False)
    with pytest.raises(ValueError, match=r"has no 'dev' split; it has train, validation, test"):
        evaluate_model(folder, split="dev", progress=False)
    with pytest.raises(ValueError, match=r"name the data to evaluate on with --task \(task= from Python: a built-in"):
        evaluate_model(unrecorded, progress=False)
    with pytest.raises(ValueError, match=r"max_eval_samples must be >= 1, got 0"):
        evaluate_model(folder, max_eval_samples=0, progress=False)
    with pytest.raises(
        ValueError, match=r"max_length 5000 is longer than .* has positions for \(\d+, its max_position"
    ):
        evaluate_model(folder, max_length=5000, progress=False)  # it failed only on texts that long, in the model
    with pytest.raises(OSError, match="does not exist"):
        evaluate_model(tmp_path / "nowhere", progress=False)


def test_the_command_prints_the_comparison_and_exits_1_when_the_gate_would_refuse(runs, tmp_path, capsys):
    folder, teacher, task = runs
    result = evaluate_model(folder, dtype="fp32", progress=False)
    assert result.gate["passed"]  # the student learned the task
    assert main(["evaluate", str(folder), "--dtype", "fp32"]) == 0
    out = capsys.readouterr().out
    assert f"{folder} (torch, fp32) on 20 texts of the test split of " in out
    assert f"test        accuracy {result.scores.accuracy:.4f}  macro-F1 {result.scores.macro_f1:.4f}" in out
    assert f"majority    accuracy {result.majority_accuracy:.4f}  (always '{result.majority_label}'" in out
    assert f"({teacher}, the same texts: the model keeps {result.kept:.1%} of it)" in out
    assert f"recorded    accuracy {result.recorded:.4f}" in out and f"quality gate: {result.gate['summary']}" in out

    always = tmp_path / "always-negative"  # the student, made to answer "negative" whatever the text
    shutil.copytree(folder, always)
    model = AutoModelForSequenceClassification.from_pretrained(always)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([5.0, -5.0]))
    model.save_pretrained(always)
    assert main(["evaluate", str(always), "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    negative = 1 - float(np.mean(list(by_hand(folder, task, n=20)[1])))  # the share of "negative" (0) test rows
    assert record["scores"]["accuracy"] == pytest.approx(negative) and record["gate"]["passed"] is False
    assert record["gate"]["summary"].startswith("failed: test accuracy")
    assert main(["evaluate", str(always)]) == 1
    err = capsys.readouterr().err
    assert "quality gate: failed: test accuracy" in err and "`build` and `push` would not publish this model" in err


def test_the_recorded_task_named_another_way_keeps_its_recorded_settings(runs, monkeypatch):
    folder, _, task = runs
    monkeypatch.chdir(task.parent)
    result = evaluate_model(folder, "./reviews.csv", dtype="fp32", progress=False)  # recorded as an absolute path
    assert result.texts == 20 and result.seed == 3 and result.recorded is not None


def test_another_split_is_scored_without_the_gate_and_a_recorded_gate_is_applied(runs, tmp_path, capsys):
    folder, _, _ = runs
    validation = evaluate_model(folder, split="validation", dtype="fp32", progress=False)
    recorded = json.loads((folder / "metrics.json").read_text())["validation"]["accuracy"]
    assert validation.recorded == recorded and validation.gate["passed"] is None
    assert main(["evaluate", str(folder), "--split", "validation"]) == 0
    assert "quality gate: not applied: it judges the test split, not 'validation'" in capsys.readouterr().out

    strict = tmp_path / "strict"  # a build recorded a margin of 0.9 over the majority class: no model passes it
    shutil.copytree(folder, strict)
    metrics = json.loads((strict / "metrics.json").read_text())
    metrics["quality_gate"] = {"min_margin_over_majority": 0.9, "min_retention": None}
    (strict / "metrics.json").write_text(json.dumps(metrics))
    result = evaluate_model(strict, dtype="fp32", progress=False)
    assert result.gate["passed"] is False and "min_margin_over_majority of 90 points" in result.gate["failures"][0]


def test_text_pairs_are_read_as_pairs(runs, tmp_path):
    import csv

    folder, _, task = runs
    rows = list(csv.DictReader(task.open()))
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["first", "second", "sentiment"])
        writer.writerows((r["review"][:12], r["review"][12:], r["sentiment"]) for r in rows)
    result = evaluate_model(folder, pairs, text_column="first", text_pair_column="second", label_column="sentiment",
                            split_seed=3, max_length=16, dtype="fp32", progress=False)  # fmt: skip
    split = load_task(str(pairs), seed=3, text_column="first", text_pair_column="second", label_column="sentiment")
    test = split.dataset["test"]
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        batch = tokenizer(list(test["text"]), list(test["text_pair"]), truncation=True, max_length=16, padding=True,
                          return_tensors="pt")  # fmt: skip
        predicted = model(**batch).logits.argmax(-1).numpy()
    assert result.texts == test.num_rows and result.scores.accuracy == pytest.approx(
        np.mean(predicted == test["label"])
    )


def test_an_export_runs_with_its_own_runtime_and_one_copied_away_is_scored_by_what_it_kept(runs, tmp_path):
    pytest.importorskip("onnxruntime")
    from compactbert.export import FailedExportWarning, export_model

    folder, _, _ = runs
    exported = export_model(folder, tmp_path / "onnx", format="onnx", verify_samples=4).folder
    info = json.loads((exported / "export.json").read_text())
    (exported / "export.json").write_text(json.dumps(info | {"passed": False, "verification": info["verification"]
                                                             | {"passed": False}}))  # fmt: skip
    with pytest.warns(FailedExportWarning):  # scored as it is (not its PyTorch folder), with the warning
        assert evaluate_model(exported, progress=False).backend == "onnxruntime"
    alone = tmp_path / "shipped" / "model-onnx"
    shutil.copytree(exported, alone)
    shipped = info | {"source_folder": "../gone", "source": "runs/gone"}
    (alone / "export.json").write_text(json.dumps(shipped))
    config = json.loads((alone / "config.json").read_text())  # and the teacher it was distilled from is gone too
    (alone / "config.json").write_text(json.dumps(config | {"source_model": "runs/gone-teacher/model"}))
    # export.json kept its PyTorch folder's task, data settings, test scores: scored on the same texts, the same gate
    assert shipped["source_record"]["recipe"]["data"]["max_eval_samples"] == 20
    result, reference = evaluate_model(alone, progress=False), evaluate_model(folder, dtype="fp32", progress=False)
    assert (result.task, result.seed, result.texts) == (reference.task, reference.seed, reference.texts)
    assert result.recorded == reference.recorded and result.scores.accuracy == pytest.approx(reference.scores.accuracy)
    assert result.teacher is None  # the teacher is not here
    older = {key: value for key, value in shipped.items() if key != "source_record"}  # exported before it was kept
    (alone / "export.json").write_text(json.dumps(older))
    with pytest.raises(ValueError, match=r"the PyTorch folder it was exported from \(runs/gone, named in its "):
        evaluate_model(alone, progress=False)


def test_a_shrunk_classifier_is_scored_on_its_sources_task_against_it_and_write_records_it(runs, tmp_path, capsys):
    from compactbert.hub.push import gate_folder

    _, teacher, task = runs
    shrunk = tmp_path / "shrunk"  # the fine-tuned teacher minus its top 2 layers, not trained since
    assert main(["shrink", str(teacher), "--strategy", "top", "--drop", "2", "--output", str(shrunk)]) == 0
    capsys.readouterr()
    result = evaluate_model(shrunk, dtype="fp32", progress=False)
    source = evaluate_model(teacher, dtype="fp32", progress=False)
    assert (result.task, result.seed, result.texts) == (str(task), 3, 20)  # its source's task and settings
    assert result.teacher == str(teacher) and result.teacher_role == "source" and result.recorded is None
    assert result.teacher_scores == source.scores and result.kept == pytest.approx(
        result.scores.accuracy / source.scores.accuracy
    )
    assert main(["evaluate", str(shrunk), "--dtype", "fp32"]) == (0 if result.gate["passed"] else 1)
    assert f"source      accuracy {source.scores.accuracy:.4f}" in capsys.readouterr().out

    assert main(["evaluate", str(shrunk), "--dtype", "fp32", "--write"]) == (0 if result.gate["passed"] else 1)
    assert f"wrote {shrunk / 'metrics.json'}" in capsys.readouterr().out
    metrics = json.loads((shrunk / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == result.scores.accuracy and metrics["task"] == str(task)
    assert metrics["test"]["majority_accuracy"] == result.majority_accuracy and metrics["split_seed"] == 3
    assert gate_folder(shrunk, force=True)[0].passed is result.gate["passed"]  # push's gate reads it
    again = evaluate_model(shrunk, dtype="fp32", progress=False)  # now its own record, read back
    assert again.recorded == result.scores.accuracy and again.texts == 20
    with pytest.raises(ValueError, match="already has a metrics.json, the record of the run that trained it"):
        record_evaluation(shrunk, again)
    assert main(["evaluate", str(shrunk), "--write", "--split", "validation"]) == 2
    assert "--write records the test split" in capsys.readouterr().err
    assert main(["evaluate", str(shrunk), "--write"]) == 2  # refused before anything is scored
    err = capsys.readouterr().err
    assert "already has a metrics.json, the record of the run that trained it" in err and "scoring" not in err


def test_a_model_pruned_from_a_pruned_model_is_scored_on_the_task_of_the_classifier_the_chain_started_from(
    runs, tmp_path, capsys
):
    _, teacher, task = runs
    once, twice = tmp_path / "once", tmp_path / "twice"  # neither trained since: neither records a task
    assert main(["prune", str(teacher), "--layers", "3", "--importance", "magnitude", "--output", str(once)]) == 0
    assert main(["prune", str(once), "--layers", "2", "--importance", "magnitude", "--output", str(twice)]) == 0
    capsys.readouterr()
    result = evaluate_model(twice, dtype="fp32", progress=False)
    assert (result.task, result.seed, result.texts) == (str(task), 3, 20)  # the teacher's task and settings
    assert result.teacher == str(teacher) and result.teacher_role == "source"  # not the untrained model between
    assert result.teacher_scores == evaluate_model(teacher, dtype="fp32", progress=False).scores
