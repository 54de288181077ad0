"""The quality gate: its pure functions, `compactbert build` refusing (or, with --force, writing and saying so) a model
at the majority class, and `compactbert push` refusing to publish one (or publishing it, with the card's note)."""

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from compactbert.cli import main
from compactbert.hub import validate_card
from compactbert.hub.build import read_recipe
from compactbert.hub.card import render_card_for_repo
from compactbert.hub.gate import (
    NOTE_TITLE,
    QualityGate,
    QualityGateError,
    add_override_note,
    check_metrics,
    check_quality,
    majority_class,
    other_test_texts,
    override_note,
    read_reference,
    settings_from_record,
)
from compactbert.hub.public import public_text
from compactbert.hub.push import gate_folder

from support.zoo import REPO_ID, folder_digest, tiny_recipe, tiny_shrunk_folder

ROOT = Path(__file__).resolve().parents[2]
ALBERT_SOP = ROOT / "docs" / "results" / "zoo" / "albert-sop-small-bbc-news" / "results.json"
NOTE = f"**{NOTE_TITLE}.**"


# -- the pure functions -------------------------------------------------------------------------------------------


def test_majority_class_counts_the_labels():
    assert majority_class([0, 1, 1, 2], ["a", "b", "c"]) == ("b", 0.5)
    assert majority_class([2, 2, 0, 0, 1]) == (0, 0.4)  # a tie goes to the smallest class id
    with pytest.raises(ValueError, match="empty split"):
        majority_class([])


@pytest.mark.parametrize(
    ("accuracy", "passed"),
    [(0.335, True), (0.3349, False), (0.9, True), (0.235, False), (0.10, False)],
)
def test_the_margin_over_the_majority_class(accuracy, passed):
    verdict = check_quality(accuracy, 0.235, majority_label="business")
    assert verdict.passed is passed
    assert verdict.required_accuracy == pytest.approx(0.335)
    if not passed:
        (failure,) = verdict.failures
        assert f"test accuracy {100 * accuracy:.1f}%" in failure and "business, 23.5% of the test split" in failure
        assert "at least 33.5%" in failure and "min_margin_over_majority of 10 points" in failure


def test_the_margin_is_a_setting():
    assert check_quality(0.30, 0.235, min_margin_over_majority=0.05).passed
    assert not check_quality(0.30, 0.235).passed
    assert check_quality(0.235, 0.235, min_margin_over_majority=0).passed  # 0: the majority class itself will do


def test_retention_against_a_reference():
    verdict = check_quality(0.90, 0.235, min_retention=0.97, reference_accuracy=0.959, reference="the teacher")
    (failure,) = verdict.failures
    assert verdict.retention == pytest.approx(0.90 / 0.959)
    assert "keeps 93.8% of the reference accuracy 95.9% (the teacher), below min_retention 97.0%" in failure
    assert "at least 93.0% needed" in failure
    assert check_quality(0.94, 0.235, min_retention=0.97, reference_accuracy=0.959).passed
    both = check_quality(0.2, 0.235, min_retention=0.97, reference_accuracy=0.959).failures
    assert len(both) == 2
    with pytest.raises(ValueError, match="needs a reference accuracy"):
        check_quality(0.9, 0.235, min_retention=0.97)


def test_refusal_names_the_numbers_and_the_override():
    message = check_quality(0.2262, 0.2353, majority_label="business").refusal("publish", "some/folder")
    assert message.startswith("the quality gate refuses to publish some/folder: test accuracy 22.6%")
    assert "23.5%" in message and "33.5%" in message and "pass --force to publish it anyway" in message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_margin_over_majority": 1.5}, r"share in \[0, 1\)"),
        ({"min_margin_over_majority": -0.1}, r"share in \[0, 1\)"),
        ({"min_margin_over_majority": True}, r"share in \[0, 1\)"),
        ({"min_retention": 0}, r"min_retention must be a share in \(0, 1\]"),
        ({"min_retention": 1.2}, r"min_retention must be a share in \(0, 1\]"),
        ({"reference_accuracy": 0.9}, "set min_retention too"),
        ({"min_retention": 0.9, "reference_accuracy": 95.9}, r"accuracy in \(0, 1\]"),
        ({"min_retention": 0.9, "reference_accuracy": ["x"]}, "or the path of a metrics.json"),
    ],
)
def test_bad_gate_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        QualityGate(**settings)


def test_a_reference_from_a_teachers_metrics(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"test": {"accuracy": 0.959}}))
    assert read_reference(tmp_path) == (0.959, f"the test accuracy in {tmp_path / 'metrics.json'}")
    assert read_reference(tmp_path / "metrics.json")[0] == 0.959
    assert read_reference(0.9) == (0.9, "gate.reference_accuracy of the recipe")
    with pytest.raises(FileNotFoundError, match="no metrics.json"):
        read_reference(tmp_path / "missing")
    (tmp_path / "metrics.json").write_text(json.dumps({"validation": {"accuracy": 0.9}}))
    with pytest.raises(ValueError, match="records no test accuracy"):
        read_reference(tmp_path)


@pytest.mark.parametrize(
    ("metrics", "missing"),
    [
        (None, "it has no metrics.json, so no test accuracy: it was never evaluated on a test split"),
        ({"validation": {"accuracy": 0.9}}, "its metrics.json records no test accuracy (test.accuracy)"),
        ({"test": {"accuracy": float("nan"), "majority_accuracy": 0.5}}, "records test accuracy nan, which is no"),
        ({"test": {"accuracy": 95.9, "majority_accuracy": 0.5}}, "records test accuracy 95.9, which is no accuracy"),
        ({"test": {"accuracy": 0.9}}, "records no majority class of the test split (test.majority_accuracy)"),
    ],
)
def test_metrics_that_cannot_be_checked_fail_the_gate(metrics, missing):
    verdict = check_metrics(metrics, QualityGate(0.2))
    (failure,) = verdict.failures
    assert not verdict.passed and missing in failure and verdict.summary() == f"failed: {failure}"
    message = verdict.refusal("publish", "some/folder")
    assert message.startswith(f"the quality gate refuses to publish some/folder: {failure}. Evaluate it on its task")
    assert "pass --force to publish it anyway" in message and "Improve the model" not in message
    record = verdict.record(overridden=True)
    assert record["passed"] is False and record["overridden"] is True and record["failures"] == [failure]
    assert record["min_margin_over_majority"] == 0.2  # the thresholds still travel, for the next check
    assert failure in override_note(record)
    assert check_metrics({"test": {"accuracy": 0.9, "majority_accuracy": 0.5, "majority_label": "x"}}).passed


def test_a_one_class_model_like_the_earlier_albert_sop_zoo_entry_is_refused_and_the_rebuild_passes(tmp_path):
    """The zoo entry that once slipped through predicted one class for every article (22.6% on bbc-news). A
    metrics.json without the majority class (as then) has it computed from bbc-news' test split. The committed
    rebuild of that entry passes with the majority class its build recorded."""
    rebuilt = json.loads(ALBERT_SOP.read_text())["metrics"]
    one_class = {"task": "bbc-news", "split_seed": 42, "test": {"accuracy": 0.2262}}
    (tmp_path / "metrics.json").write_text(json.dumps(one_class))
    with pytest.raises(QualityGateError) as refused:
        gate_folder(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"the quality gate refuses to publish {tmp_path}: test accuracy 22.6% is not clearly")
    assert "(business, 23.5% of the test split): it must be at least 33.5%" in message

    (tmp_path / "metrics.json").write_text(json.dumps(rebuilt))
    verdict = gate_folder(tmp_path)[0]
    assert verdict.passed and rebuilt["test"]["majority_label"] == "business"
    assert rebuilt["test"]["accuracy"] > 0.9


def test_settings_travel_in_the_record():
    verdict = check_quality(0.9, 0.5, min_margin_over_majority=0.2, min_retention=0.95, reference_accuracy=0.92)
    record = verdict.record()
    assert record["passed"] is True and record["overridden"] is False  # a passing model is never "overridden"
    gate, reference = settings_from_record({"quality_gate": record})
    assert (gate.min_margin_over_majority, gate.min_retention, reference[0]) == (0.2, 0.95, 0.92)
    assert settings_from_record({}) == (QualityGate(), None)
    failed = check_quality(0.5, 0.5).record(overridden=True)
    assert failed["overridden"] is True and failed["failures"] == list(check_quality(0.5, 0.5).failures)


def test_the_override_note_goes_under_the_title_once():
    record = check_quality(0.2262, 0.2353, majority_label="business").record(overridden=True)
    card = "---\nlicense: mit\n---\n\n# my-model\n\nA model.\n"
    noted = add_override_note(card, record)
    assert noted.split("\n")[5:8] == ["", override_note(record), ""]
    assert noted.count(NOTE) == 1 and "test accuracy 22.6%" in noted and "--force" in noted
    assert add_override_note(noted, record) == noted
    assert add_override_note("# m\nbody", record) == f"# m\n\n{override_note(record)}\nbody"  # no front matter


# -- compactbert build --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weak_build(tmp_path_factory):
    """A recipe whose tiny model stays at the majority class (one short epoch) and must keep 99% of a hand-made
    reference accuracy of 1.0: `compactbert build` without and with --force -> (exit status, stderr, the folder)."""
    tmp = tmp_path_factory.mktemp("weak")
    (tmp / "teacher").mkdir()
    (tmp / "teacher" / "metrics.json").write_text(json.dumps({"test": {"accuracy": 1.0}}))
    gate = {"min_retention": 0.99, "reference_accuracy": str(tmp / "teacher")}
    path = tiny_recipe(tmp, baseline=False, gate=gate)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        refused = main(["build", str(path)])
    written_after_refusal = (tmp / "build" / "model").exists()
    assert main(["build", str(path), "--force"]) == 0
    return refused, err.getvalue(), written_after_refusal, tmp / "build" / "model"


def test_build_refuses_a_model_at_the_majority_class(weak_build):
    refused, err, written, folder = weak_build
    metrics = json.loads((folder.parent / "train" / "model" / "metrics.json").read_text())  # what finetune measured
    test = metrics["test"]
    assert refused == 2 and not written and "Traceback" not in err
    (err,) = [line for line in err.splitlines() if line.startswith("compactbert build: error:")]  # not the bars
    assert err.startswith(f"compactbert build: error: the quality gate refuses to write {folder}: ")
    assert f"test accuracy {100 * test['accuracy']:.1f}% is not clearly above the majority class" in err
    assert f"{test['majority_label']}, {100 * test['majority_accuracy']:.1f}% of the test split" in err
    assert f"at least {100 * (test['majority_accuracy'] + 0.1):.1f}%" in err
    assert "below min_retention 99.0%" in err and "the reference accuracy 100.0% (the test accuracy in" in err
    assert "pass --force to write it anyway" in err and f"the trained model is in {folder.parent / 'train'}" in err


def test_build_force_writes_the_model_and_the_card_says_why(weak_build):
    _, _, _, folder = weak_build
    gate = json.loads((folder / "metrics.json").read_text())["quality_gate"]
    assert gate["passed"] is False and gate["overridden"] is True and len(gate["failures"]) == 2
    assert json.loads((folder / "build.json").read_text())["metrics"]["quality_gate"] == gate
    card = (folder / "README.md").read_text()
    assert card.count(NOTE) == 1 and all(public_text(failure) in card for failure in gate["failures"])
    assert str(folder.parent) not in card and "(the test accuracy in teacher/metrics.json)" in card  # not the path
    assert card.index(NOTE) < card.index("## How it was made")  # right under the title
    assert validate_card(card) == []


def test_the_finetuned_majority_class_is_that_of_the_test_split(weak_build):
    _, _, _, folder = weak_build
    metrics = json.loads((folder / "metrics.json").read_text())
    from compactbert.data import load_task

    dataset, names = load_task(metrics["task"], seed=metrics["split_seed"])
    assert (metrics["test"]["majority_label"], metrics["test"]["majority_accuracy"]) == majority_class(
        dataset["test"]["label"], names
    )


def test_a_built_model_that_learned_passes(built):
    gate = json.loads((built / "metrics.json").read_text())["quality_gate"]
    assert gate["passed"] is True and gate["overridden"] is False and gate["failures"] == []
    assert NOTE not in (built / "README.md").read_text()


def test_build_refuses_a_model_its_builder_did_not_evaluate(tmp_path, monkeypatch, capsys):
    """A builder (any registered one) whose metrics have no test accuracy: refused; --force writes it, with the note."""
    from compactbert.hub import build as build_module

    real = build_module.BUILDERS["shrunk_bert"]

    def unevaluated(recipe, run_dir):
        built = real(recipe, run_dir)
        del built.metrics["test"]
        return built

    monkeypatch.setitem(build_module.BUILDERS, "shrunk_bert", unevaluated)
    path = tiny_recipe(tmp_path, baseline=False)
    folder = tmp_path / "build" / "model"
    assert main(["build", str(path)]) == 2
    (err,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("compactbert build: error:")]
    assert err.startswith(
        f"compactbert build: error: the quality gate refuses to write {folder}: its metrics.json records no test "
        "accuracy (test.accuracy): it was not evaluated on a test split. Evaluate it on its task's test split first"
    )
    assert "pass --force to write it anyway" in err and not folder.exists()
    assert main(["build", str(path), "--force"]) == 0
    out = capsys.readouterr().out
    assert "test:       not evaluated" in out and "gate:       OVERRIDDEN with --force (the card says so)" in out
    metrics = json.loads((folder / "metrics.json").read_text())
    gate = metrics["quality_gate"]
    assert "test" not in metrics and gate["overridden"] is True and gate["accuracy"] is None
    card = (folder / "README.md").read_text()
    assert card.count(NOTE) == 1 and gate["failures"][0] in card and validate_card(card) == []
    assert "model-index" not in card  # the card claims no results


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gate": {"min_margin": 0.2}}, "unknown keys ['min_margin'] in gate"),
        ({"gate": {"min_margin_over_majority": 10}}, "gate.min_margin_over_majority must be a share in [0, 1)"),
        ({"gate": {"min_retention": 0.9}, "baseline": False}, "gate.min_retention needs a reference accuracy"),
        ({"gate": {"min_retention": 0.9, "reference_accuracy": "nowhere"}}, "names nowhere, which is no metrics.json"),
    ],
)
def test_bad_gates_are_refused_before_anything_trains(tmp_path, capsys, change, message):
    path = tiny_recipe(tmp_path, **change)
    assert main(["build", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert not list((tmp_path / "build").rglob("*.safetensors"))


def test_committed_zoo_recipes_keep_the_default_gate_or_state_theirs():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        values = yaml.safe_load(path.read_text()) or {}
        if "family" in values:
            gate = read_recipe(path).gate
            assert gate.min_margin_over_majority >= 0.10, f"{path.name} weakens the quality gate"


# -- compactbert push ---------------------------------------------------------------------------------------------


def weakened(built: Path, tmp_path: Path, accuracy: float) -> Path:
    """A copy of the built folder whose metrics.json records a lower test accuracy (its majority class: 4 of 7)."""
    folder = tmp_path / "weak"
    shutil.copytree(built, folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["test"]["accuracy"] = accuracy
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_push_refuses_a_model_at_the_majority_class_and_sends_nothing(built, hub, tmp_path, capfd):
    folder = weakened(built, tmp_path, 4 / 7)
    before = folder_digest(folder)
    hub.clear_requests()
    for extra in ([], ["--dry-run"]):
        assert main(["push", str(folder), "--repo-id", REPO_ID, *extra]) == 2
        err = capfd.readouterr().err
        assert err.startswith(f"compactbert push: error: the quality gate refuses to publish {folder}: ")
        assert "test accuracy 57.1% is not clearly above the majority class" in err
        assert "57.1% of the test split" in err and "at least 67.1%" in err and "--force" in err
        assert "Traceback" not in err and "Nothing was sent" in err
    assert hub.requests == [] and not hub.repo_exists(REPO_ID) and folder_digest(folder) == before


def test_push_force_publishes_with_the_note_and_leaves_the_folder(built, hub, tmp_path, capfd):
    hub.card_validator = validate_card
    folder = weakened(built, tmp_path, 0.5)
    before = folder_digest(folder)
    assert main(["push", str(folder), "--repo-id", REPO_ID, "--dry-run", "--force"]) == 0
    out = capfd.readouterr().out
    assert "quality gate: OVERRIDDEN with --force: test accuracy 50.0%" in out
    assert "README.md, metrics.json go up with the override recorded (the local files are unchanged)" in out
    assert main(["push", str(folder), "--repo-id", REPO_ID, "--force"]) == 0
    out = capfd.readouterr().out
    assert "gate:       OVERRIDDEN with --force" in out and "published with --force although" in out
    files = hub.files(REPO_ID)
    card = files["README.md"].decode()
    assert card.count(NOTE) == 1 and "test accuracy 50.0% is not clearly above" in card
    # the card rendered for the repository (from the metrics.json it goes up with), with the note
    assert card == add_override_note(
        render_card_for_repo(folder, REPO_ID), json.loads(files["metrics.json"])["quality_gate"]
    )
    assert json.loads(files["metrics.json"])["quality_gate"]["overridden"] is True
    assert files["model.safetensors"] == (folder / "model.safetensors").read_bytes()
    assert folder_digest(folder) == before


def test_push_of_a_forced_build_needs_force_again_and_adds_no_second_note(weak_build, hub, capfd):
    folder = weak_build[3]
    assert main(["push", str(folder), "--repo-id", REPO_ID]) == 2
    err = capfd.readouterr().err
    assert "the quality gate refuses to publish" in err and "below min_retention 99.0%" in err  # the build's settings
    verdict, line, replaced = gate_folder(folder, force=True)
    assert not verdict.passed and line.startswith("OVERRIDDEN") and replaced == {}  # card and record already say so


def test_push_says_what_the_gate_found(built, capfd):
    assert main(["push", str(built), "--repo-id", REPO_ID, "--dry-run"]) == 0
    assert "quality gate: passed: test accuracy 100.0% >= 67.1%" in capfd.readouterr().out


@pytest.fixture
def tiny_folder(tmp_path):
    return tiny_shrunk_folder(tmp_path / "shrunk")  # shrunk, never fine-tuned: no metrics.json


def test_push_refuses_a_folder_never_evaluated_and_sends_nothing(tiny_folder, hub, capfd):
    before = folder_digest(tiny_folder)
    hub.clear_requests()
    for extra in ([], ["--dry-run"]):
        assert main(["push", str(tiny_folder), "--repo-id", REPO_ID, *extra]) == 2
        err = capfd.readouterr().err
        assert err.startswith(
            f"compactbert push: error: the quality gate refuses to publish {tiny_folder}: it has no metrics.json, "
            "so no test accuracy: it was never evaluated on a test split. Evaluate it on its task's test split first"
        )
        assert "pass --force to publish it anyway" in err and "Nothing was sent" in err and "Traceback" not in err
    assert hub.requests == [] and not hub.repo_exists(REPO_ID) and folder_digest(tiny_folder) == before


@pytest.mark.parametrize(
    ("metrics", "missing"),
    [
        ({"validation": {"accuracy": 0.9, "majority_accuracy": 0.5}}, "records no test accuracy (test.accuracy)"),
        ({"test": {"accuracy": float("nan"), "majority_accuracy": 0.5}}, "records test accuracy nan"),
    ],
)
def test_push_refuses_metrics_without_a_test_accuracy(tmp_path, metrics, missing):
    folder = tiny_shrunk_folder(tmp_path / "shrunk", metrics=metrics)
    with pytest.raises(QualityGateError, match=r"refuses to publish .*: its metrics\.json " + re.escape(missing)):
        gate_folder(folder)
    verdict, line, replaced = gate_folder(folder, force=True)
    assert not verdict.passed and line == f"OVERRIDDEN with --force: {verdict.failures[0]}"
    assert sorted(replaced) == ["README.md", "metrics.json"]
    assert set(json.loads(replaced["metrics.json"])) == {
        *metrics,
        "quality_gate",
    }  # the metrics kept, the verdict added


def test_push_force_publishes_a_folder_never_evaluated_with_the_note(tiny_folder, hub, capfd):
    hub.card_validator = validate_card
    before = folder_digest(tiny_folder)
    assert main(["push", str(tiny_folder), "--repo-id", REPO_ID, "--dry-run", "--force"]) == 0
    out = capfd.readouterr().out
    assert "quality gate: OVERRIDDEN with --force: it has no metrics.json" in out
    assert "README.md, metrics.json go up with the override recorded (the local files are unchanged)" in out
    assert main(["push", str(tiny_folder), "--repo-id", REPO_ID, "--force"]) == 0
    assert "published with --force although" in capfd.readouterr().out
    files = hub.files(REPO_ID)
    record = json.loads(files["metrics.json"])["quality_gate"]  # the only metrics there are: the verdict
    assert json.loads(files["metrics.json"]) == {"quality_gate": record}
    assert record["overridden"] is True and record["accuracy"] is None and "no metrics.json" in record["failures"][0]
    card = files["README.md"].decode()
    assert card.count(NOTE) == 1 and card == add_override_note(render_card_for_repo(tiny_folder, REPO_ID), record)
    assert folder_digest(tiny_folder) == before and not (tiny_folder / "metrics.json").exists()


def test_an_older_folder_gets_its_majority_class_from_its_task(built, tmp_path):
    """A folder written before finetune recorded the majority class: computed from the task's test split."""
    folder = weakened(built, tmp_path, 0.5)
    metrics = json.loads((folder / "metrics.json").read_text())
    for key in ("majority_accuracy", "majority_label"):
        del metrics["test"][key]
    (folder / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(QualityGateError, match=r"test accuracy 50.0% .*\(positive, 57.1% of the test split\)"):
        gate_folder(folder)
    metrics["task"] = metrics["recipe"]["data"]["task"] = str(tmp_path / "moved.csv")
    (folder / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(QualityGateError, match="could not be loaded to compute it .* or pass --force"):
        gate_folder(folder)
    verdict, line, replaced = gate_folder(folder, force=True)  # --force does override it, as the message says
    assert line.startswith("OVERRIDDEN with --force: its metrics.json records no majority class of the test split")
    assert verdict.accuracy == 0.5 and json.loads(replaced["metrics.json"])["quality_gate"]["overridden"] is True


@pytest.mark.parametrize(
    ("metrics", "reference", "said"),
    [
        ({"task": "bbc-news"}, {"task": "bbc-news"}, None),
        ({"task": "bbc-news"}, {}, "the reference's metrics.json records no task"),  # cannot be compared
        ({}, {"task": "bbc-news"}, "its metrics.json records no task"),
        ({"task": "a.csv"}, {"task": "bbc-news"}, "its test accuracy is on a.csv, the reference's on bbc-news"),
        ({"task": "t", "split_seed": 7}, {"task": "t"}, "split seed 7, the reference's of split seed 42"),
        (
            {"task": "t", "recipe": {"data": {"max_eval_samples": 64}}},
            {"task": "t"},
            "its test accuracy is on 64 test texts, the reference's on all",
        ),
    ],
)
def test_test_accuracies_on_other_texts_are_said_to_be(metrics, reference, said):
    found = other_test_texts(metrics, reference)
    assert found is None if said is None else said in found
