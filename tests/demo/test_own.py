"""The demo over one's own models (`compactbert demo --teacher DIR --model DIR`): each model read and described from
its folder, accuracies shown only when comparable, the task's examples and the teacher's layer scores, the zoo
saved for `--zoo` and `publish`, and a page that offers only what the zoo can do."""

from __future__ import annotations

import json

import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification

from compactbert import albert_from_bert, prune, save_model, shrink
from compactbert.cli import main as cli_main
from compactbert.data import load_task
from compactbert.demo import NOT_RETRAINED, Comparer, load_zoo
from compactbert.demo.manifest import CONVERTED, DISTILLED, PRUNED, TEACHER
from compactbert.demo.own import SHRUNK, TRAINED, save_zoo, zoo_from_models
from compactbert.distillation import init_student
from compactbert.shrinking import layer_contributions

from support.helpers import TEXTS, make_bert, make_tokenizer
from support.zoo import tiny_task_csv

LABELS = {0: "negative", 1: "positive"}


def _save(model, folder, metrics=None):
    extra = None if metrics is None else lambda f: (f / "metrics.json").write_text(json.dumps(metrics))
    save_model(model, folder, tokenizer=make_tokenizer(), extra=extra)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A teacher fine-tuned (as its metrics.json says) on a CSV task, and students made from it as users make them:
    shrunk and fine-tuned on the same test texts, distilled on fewer of them, pruned and converted and not trained."""
    root = tmp_path_factory.mktemp("own")
    task = str(tiny_task_csv(root / "task.csv", rows=80))
    record = {"task": task, "split_seed": 42}
    teacher = make_bert(
        BertForSequenceClassification,
        num_layers=4,
        num_labels=2,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    folders = {"teacher": _save(teacher, root / "runs" / "teacher" / "model", record | {"test": {"accuracy": 0.8}})}
    source = str(folders["teacher"])
    folders["small"] = _save(
        shrink(source, "top", 2), root / "runs" / "small" / "model", record | {"test": {"accuracy": 0.76}}
    )
    distilled = record | {"teacher": source, "test": {"accuracy": 0.9}, "recipe": {"data": {"max_eval_samples": 4}}}
    folders["distilled"] = _save(init_student(source, "every-other"), root / "runs" / "distilled" / "model", distilled)
    target = {"num_hidden_layers": 2, "hidden_size": 16, "intermediate_size": 24, "num_attention_heads": 2}
    pruned = prune(source, target, TEXTS, make_tokenizer(), layers=[0, 3], progress=False)
    folders["pruned"] = _save(pruned, root / "pruned")
    scored = record | {"test": {"accuracy": 0.7}, "evaluated_by": "compactbert evaluate"}  # `evaluate --write`'s
    folders["dropped"] = _save(shrink(source, "bottom", 1), root / "dropped", scored)
    folders["albert"] = _save(albert_from_bert(source, embedding_size=8, sharing="all", init="mean"), root / "albert")
    folders["plain"] = _save(make_bert(BertForSequenceClassification, num_layers=2, id2label=LABELS), root / "plain")
    return root, task, folders


def test_each_model_is_described_from_its_records(runs):
    root, task, f = runs
    notes = []
    zoo = zoo_from_models(
        f["teacher"], [f[n] for n in ("small", "distilled", "pruned", "albert", "plain", "dropped")], log=notes.append
    )
    assert zoo.teacher.kind == TEACHER and zoo.teacher.name == "teacher"  # a run's `model` folder, by its run
    assert zoo.teacher.metrics == {"test_accuracy": 0.8} and zoo.teacher.num_layers == 4
    shown = f"{root.name}/task.csv"  # a data file by its folder and name, not this machine's path
    assert zoo.task == shown and zoo.label_names == ["negative", "positive"]
    kinds = {e.name: (e.kind, e.family, e.kept_layers, e.num_layers) for e in zoo.entries}
    assert kinds == {
        "small": (SHRUNK, "shrunk_bert", [0, 1], 2),
        "distilled": (DISTILLED, "shrunk_bert", [0, 2], 2),
        "pruned": (PRUNED, "tiny_bert", [0, 3], 2),
        "albert": (CONVERTED, "albert_sop", None, 4),
        "plain": (TRAINED, "bert", None, 2),
        "dropped": (SHRUNK, "shrunk_bert", [1, 2, 3], 3),
    }
    about = {e.name: e.description for e in zoo.entries}
    assert about["small"] == f"teacher minus 2 layers (top, kept [0, 1]), then trained on {shown}"
    assert about["distilled"] == f"distilled from teacher on {shown} (started from its layers [0, 2])"
    assert about["pruned"] == "cut out of teacher (its layers [0, 3]), not trained since"
    assert about["dropped"] == "teacher minus 1 layer (bottom, kept [1, 2, 3]), not trained since"  # only scored
    assert about["albert"].startswith("Albert-SOP converted from teacher (E = 8, sharing `all`)")
    assert str(root) not in json.dumps(about)  # no path of this machine on the page
    # a test accuracy is shown only when scored on the teacher's texts: the distilled run scored 4 of them
    assert {e.name: e.metrics for e in zoo.entries if e.metrics} == {
        "small": {"test_accuracy": 0.76},
        "dropped": {"test_accuracy": 0.7},
    }
    assert "distilled: its test accuracy is on 4 test texts, the teacher's on all, so the page leaves it" in notes[0]
    small = next(e for e in zoo.entries if e.name == "small")
    assert small.num_parameters == AutoModelForSequenceClassification.from_pretrained(f["small"]).num_parameters()


def test_examples_and_layer_scores_come_from_the_teachers_task(runs):
    _, task, f = runs
    zoo = zoo_from_models(f["teacher"], [f["small"]], log=lambda _: None)
    loaded = load_task(task, seed=42)
    test = dict(zip(loaded.dataset["test"]["text"], loaded.dataset["test"]["label"], strict=True))
    assert zoo.examples and all(LABELS[test[e["text"]]] == e["label"] for e in zoo.examples)  # held-out, labelled
    model = AutoModelForSequenceClassification.from_pretrained(f["teacher"])
    texts = loaded.dataset["train"]["text"][:64]
    expected = layer_contributions(model, AutoTokenizer.from_pretrained(f["teacher"]), texts, progress=False)
    assert zoo.contributions == pytest.approx(expected, abs=1e-5)


def test_without_a_task_the_page_offers_no_contribution_strategy(runs, tmp_path):
    from compactbert.demo.ui import build_demo

    _, _, f = runs
    teacher = _save(AutoModelForSequenceClassification.from_pretrained(f["teacher"]), tmp_path / "untracked")
    notes = []
    zoo = zoo_from_models(teacher, [f["small"]], log=notes.append)
    assert zoo.examples == [] and zoo.contributions is None and zoo.task == ""
    assert any("records no task" in n and "--task" in n for n in notes)
    comparer = Comparer(zoo, dtype="fp32")
    assert "contribution" not in comparer.strategies and "top" in comparer.strategies
    with pytest.raises(ValueError, match="layer contribution scores, and this zoo has none"):
        comparer.compare("good film", "contribution", 1, NOT_RETRAINED, repeats=1)
    # --task gives them, on a split not known to be held out from the models' training: the page says so
    given = zoo_from_models(teacher, [f["small"]], task=runs[1], log=lambda _: None)
    assert given.contributions is not None and given.examples and given.task.endswith("/task.csv")
    assert "not known to be held out" in given.build["examples"]
    page = _components(build_demo(Comparer(given, dtype="fp32")))
    assert any("not known to be held out" in str(getattr(b, "label", "")) for b in page.values())


def test_the_recorded_task_given_again_is_read_as_the_teacher_read_it(runs, tmp_path, monkeypatch):
    """Its split seed and columns: the examples are the teacher's held-out texts, whatever --task spells it."""
    root, task, f = runs
    monkeypatch.chdir(tmp_path)
    renamed = tmp_path / "reviews.csv"  # the same texts under other column names, recorded by the teacher's run
    renamed.write_text((root / "task.csv").read_text().replace("text,label", "review,sentiment", 1))
    record = {"task": str(renamed), "split_seed": 7, "test": {"accuracy": 0.8}}
    record["recipe"] = {"data": {"text_column": "review", "label_column": "sentiment"}}
    model = AutoModelForSequenceClassification.from_pretrained(f["teacher"])
    teacher = _save(model, tmp_path / "runs" / "teacher" / "model", record)
    zoo = zoo_from_models(teacher, [f["small"]], task="reviews.csv", log=lambda _: None)  # relative, from here
    test = load_task(str(renamed), seed=7, text_column="review", label_column="sentiment").dataset["test"]["text"]
    assert "examples" not in zoo.build and {e["text"] for e in zoo.examples} <= set(test)
    seed_42 = set(load_task(task, seed=42).dataset["test"]["text"])
    assert not {e["text"] for e in zoo.examples} <= seed_42  # the teacher's split (seed 7), not --task's default


def test_a_task_of_other_labels_is_refused(runs, tmp_path):
    _, _, f = runs
    other = tmp_path / "topics.csv"
    other.write_text("text,label\n" + "".join(f"good film {i},{'sport' if i % 2 else 'news'}\n" for i in range(40)))
    with pytest.raises(ValueError, match=r"the teacher's labels \[.*\] are not those of task .*topics.csv.* \['news', "
                       r"'sport'\]; name the data the teacher was fine-tuned on \(--task"):  # fmt: skip
        zoo_from_models(f["teacher"], [f["small"]], task=str(other), log=lambda _: None)
    other.write_text("text,label\n" + "".join(f"good film {i},{i % 2}\n" for i in range(40)))
    with pytest.raises(ValueError, match=r"the task's labels are numbers, and which number is which of the model's"):
        zoo_from_models(f["teacher"], [f["small"]], task=str(other), log=lambda _: None)


def test_the_page_starts_on_your_first_model(runs):
    _, _, f = runs
    comparer = Comparer(zoo_from_models(f["teacher"], [f["small"], f["pruned"]], log=lambda _: None), dtype="fp32")
    assert comparer.model_choices == [NOT_RETRAINED, "small", "pruned"]
    assert comparer.default_model == "small"
    result = comparer.compare("good film", repeats=1)  # the defaults: your first model
    assert result["compact"]["name"] == "small" and result["compact"]["kept_layers"] == [0, 1]


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("encoder", "holds no trained classification head"),
        ("export", "is an exported folder: give the PyTorch folder"),
        ("labels", "predicts the labels"),
        ("case", "with its label names"),  # the page compares the names: Positive is not positive
        ("run", "is the folder of a run, not a model folder: its model is"),
        ("twice", "is given as"),
        ("teacher", "is the teacher"),
    ],
)
def test_models_that_cannot_be_compared_are_refused(runs, tmp_path, which, message):
    _, _, f = runs
    if which == "encoder":
        bad = tmp_path / "encoder"
        make_bert(num_layers=2).save_pretrained(bad)
    elif which == "export":
        bad = _save(AutoModelForSequenceClassification.from_pretrained(f["small"]), tmp_path / "exported")
        (bad / "export.json").write_text("{}")
    elif which == "labels":
        bad = _save(make_bert(BertForSequenceClassification, num_layers=2, num_labels=3), tmp_path / "three")
    elif which == "case":
        bad = _save(
            make_bert(BertForSequenceClassification, num_layers=2, id2label={0: "Negative", 1: "Positive"}),
            tmp_path / "cased",
        )
    elif which == "run":
        bad = f["small"].parent  # runs/small, not runs/small/model
    else:
        bad = f["small"] if which == "twice" else f["teacher"]
    with pytest.raises(ValueError, match=message):
        zoo_from_models(f["teacher"], [f["small"], bad] if which == "twice" else [bad], log=lambda _: None)
    with pytest.raises(ValueError, match="at least one model"):
        zoo_from_models(f["teacher"], [], log=lambda _: None)


def test_a_saved_zoo_names_its_models_relative_to_it_and_serves_again(runs, tmp_path):
    root, _, f = runs
    elsewhere = tmp_path / "elsewhere" / "runs" / "small" / "model"  # another run of the same name
    _save(AutoModelForSequenceClassification.from_pretrained(f["small"]), elsewhere)
    zoo = zoo_from_models(f["teacher"], [f["small"], elsewhere], log=lambda _: None)
    assert [e.name for e in zoo.entries] == ["small", "small-2"]  # names stay unique
    written = save_zoo(zoo, tmp_path / "my-zoo")
    data = json.loads(written.read_text())
    assert data["teacher"]["source"] == "../../" + str(f["teacher"].relative_to(root.parent))
    assert str(root) not in written.read_text()
    again = load_zoo(tmp_path / "my-zoo")
    assert again.resolve(again.teacher) == str(tmp_path / "my-zoo" / data["teacher"]["source"])
    assert Comparer(again, dtype="fp32").compare("good film", repeats=1)["compact"]["name"] == "small"


def test_the_cli_prints_and_saves_the_zoo_of_your_models(runs, tmp_path, capsys):
    root, _, f = runs
    argv = ["demo", "--teacher", str(f["teacher"]), "--model", str(f["small"]), "--model", str(f["plain"])]
    assert cli_main([*argv, "--build-only", "--save-zoo", str(tmp_path / "z")]) == 0
    out = capsys.readouterr().out
    assert f"demo zoo: teacher teacher and 2 model(s), {root.name}/task.csv" in out
    assert (
        f"  small (shrunk, shrunk_bert): teacher minus 2 layers (top, kept [0, 1]), then trained on {root.name}/"
        in out
    )
    assert "teacher (teacher, bert): " in out and "test accuracy 80.0%)" in out  # the teacher's, then each share
    assert "(4 layers, " in out and "test accuracy 76.0%, 95.0% of the teacher's)" in out
    assert f"wrote {tmp_path / 'z' / 'zoo.json'}" in out
    assert [e.name for e in load_zoo(tmp_path / "z").entries] == ["small", "plain"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "x"], "--model needs --teacher DIR"),
        (["--model", "x", "--task", "t"], "--model, --task need --teacher DIR"),
        (["--teacher", "t", "--model", "x", "--zoo", "z"], "leave out --zoo"),
    ],
)
def test_the_cli_refuses_options_that_do_not_go_together(argv, message, capsys):
    assert cli_main(["demo", *argv, "--build-only"]) != 0
    assert message in capsys.readouterr().err


def test_a_save_zoo_path_that_cannot_be_a_folder_is_refused_before_anything_loads(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("a file")
    argv = ["demo", "--teacher", str(tmp_path / "missing"), "--model", "x", "--build-only"]
    assert cli_main([*argv, "--save-zoo", str(tmp_path / "notes.txt" / "zoo")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'notes.txt' / 'zoo'} is inside {tmp_path / 'notes.txt'}, which is a file" in err


def test_a_zoo_already_saved_is_replaced_only_with_overwrite(runs, tmp_path, capsys):
    """`--save-zoo DIR` where DIR holds a zoo.json (another zoo, perhaps curated by hand) refuses before anything
    loads and leaves it as it was; `--overwrite` replaces it."""
    _, _, f = runs
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "zoo.json").write_text('{"mine": true}')
    argv = ["demo", "--teacher", str(f["teacher"]), "--model", str(f["small"]), "--build-only"]
    assert cli_main([*argv, "--save-zoo", str(tmp_path / "z")]) == 2
    assert f"{tmp_path / 'z' / 'zoo.json'} already exists (another zoo)" in capsys.readouterr().err
    assert (tmp_path / "z" / "zoo.json").read_text() == '{"mine": true}'
    assert cli_main([*argv, "--save-zoo", str(tmp_path / "z"), "--overwrite"]) == 0
    assert [e.name for e in load_zoo(tmp_path / "z").entries] == ["small"]
    assert cli_main([*argv, "--overwrite"]) == 2  # nothing to replace without --save-zoo
    assert "give --save-zoo DIR" in capsys.readouterr().err


def _components(demo):
    return {getattr(b, "elem_id", None) or getattr(b, "label", None): b for b in demo.blocks.values()}


def test_the_page_offers_only_what_the_zoo_can_do(runs, tmp_path, tiny_zoo_dir):
    from compactbert.demo.ui import build_demo

    _, _, f = runs
    teacher = _save(AutoModelForSequenceClassification.from_pretrained(f["teacher"]), tmp_path / "untracked")
    demo = build_demo(Comparer(zoo_from_models(teacher, [f["small"]], log=lambda _: None), dtype="fp32"))
    page = _components(demo)
    assert page["Compact model"].value == "small"  # your model first, strategy and K greyed out for it
    assert not page["strategy"].interactive and not page["Layers to drop (K)"].interactive
    assert [c[0] for c in page["strategy"].choices] == [
        "top",
        "bottom",
        "even-alternate",
        "odd-alternate",
        "symmetric",
    ]
    assert "no contribution scores" in page["no-contributions"].value  # a sentence, not an empty plot
    intro = next(b.value for b in demo.blocks.values() if "Teacher: **" in str(getattr(b, "value", "")))
    assert "fine-tuned (zoo)" not in intro and "**small** (shrunk, `shrunk_bert`)" in intro
    # the default zoo's page: its fine-tuned strategy and K first, every strategy, the scores drawn
    tiny = _components(build_demo(Comparer(load_zoo(tiny_zoo_dir), dtype="fp32")))
    assert tiny["Compact model"].value == NOT_RETRAINED and tiny["Layers to drop (K)"].value == 2
    assert "no-contributions" not in tiny and [c[0] for c in tiny["strategy"].choices][-1] == "contribution"


def test_a_saved_zoo_of_your_models_publishes_with_its_space(runs, tmp_path, hub, wheel, capfd):
    _, _, f = runs
    save_zoo(zoo_from_models(f["teacher"], [f["small"]], log=lambda _: None), tmp_path / "mine")
    argv = ["publish", str(tmp_path / "mine"), "--org", "org", "--space", "org/mine", "--wheel", str(wheel)]
    code = cli_main([*argv, "--dry-run"])
    out, err = capfd.readouterr()
    assert code == 0, out + err
    assert "teacher -> org/teacher" in out and "small   -> org/small" in out
    assert "small keeps 95.0% of 80.0%, the zoo's teacher" in out  # its test accuracy against the teacher's
    assert cli_main(argv) == 0
    space = json.loads(hub.files("org/mine", repo_type="space")["zoo.json"])
    assert [space["teacher"]["source"], *(e["source"] for e in space["entries"])] == ["org/teacher", "org/small"]
    assert space["entries"][0]["kind"] == SHRUNK and space["entries"][0]["metrics"] == {"test_accuracy": 0.76}
    card = hub.files("org/mine", repo_type="space")["README.md"].decode()  # about these models, not the default zoo
    assert "(4 layers, " in card and "test accuracy 76.0%, 95.0% of the teacher's)" in card
    assert "test accuracy 80.0%" in card and "BBC" not in card and 'Client("org/mine")' in card
    # a model scored on other test texts than the teacher: the share it keeps is unknown, so it is refused
    save_zoo(zoo_from_models(f["teacher"], [f["distilled"]], log=lambda _: None), tmp_path / "elsewhere")
    assert cli_main(["publish", str(tmp_path / "elsewhere"), "--org", "org", "--dry-run"]) == 2
    assert (
        "distilled: the share of the zoo's teacher's test accuracy it keeps is unknown: its test accuracy is on 4 test "
        "texts, the teacher's on all"
    ) in capfd.readouterr().err


def test_models_on_the_hub_are_named_by_their_ids_and_run(runs, hub):
    _, _, f = runs
    hub.create_model_repo("org/small", f["small"])
    zoo = zoo_from_models(f["teacher"], ["org/small"], log=lambda _: None)
    entry = zoo.entries[0]
    assert (entry.name, entry.source, entry.kind, entry.metrics) == (
        "org-small",
        "org/small",
        SHRUNK,
        {"test_accuracy": 0.76},
    )
    result = Comparer(zoo, dtype="fp32").compare("good film", repeats=1)
    assert result["compact"]["name"] == "org-small" and hub.requests_matching("GET", "/org/small/")


@pytest.mark.parametrize("teacher_kind", ["two-layer", "albert"])
def test_a_small_or_non_bert_teacher_gets_a_page_that_works(runs, tmp_path, teacher_kind):
    """A 2-layer teacher (K can only be 1) and an Albert-SOP teacher (no layers to drop: no strategy, no K)."""
    from compactbert.demo.ui import build_demo

    _, _, f = runs
    if teacher_kind == "two-layer":
        teacher = _save(make_bert(BertForSequenceClassification, num_layers=2, id2label=LABELS), tmp_path / "two")
        comparer = Comparer(zoo_from_models(teacher, [f["plain"]], log=lambda _: None), dtype="fp32")
        assert comparer.max_drop("top") == 1 and comparer.default_drop == 1
        with pytest.raises(ValueError, match="can drop 1 to 1 of the teacher's 2 layers, got 2"):
            comparer.compare("good film", "top", 2, NOT_RETRAINED, repeats=1)
        assert comparer.compare("good film", "top", 1, NOT_RETRAINED, repeats=1)["compact"]["num_layers"] == 1
    else:
        comparer = Comparer(zoo_from_models(f["albert"], [f["plain"]], log=lambda _: None), dtype="fp32")
        assert not comparer.can_drop and comparer.model_choices == ["plain"]
    page = _components(build_demo(comparer))  # builds (a K slider from 1 to 1 would not)
    assert page["strategy"].visible is (teacher_kind == "two-layer")
    if teacher_kind == "albert":
        assert "not a BERT whose layers the demo drops" in page["no-contributions"].value


def test_a_task_written_another_way_is_the_same_task(runs, tmp_path, hub, wheel, capfd):
    """A student whose run recorded the teacher's data file by a path relative to where it ran (found above its
    folder), or a built-in set as `builtin:NAME`: the same test texts, so its accuracy is shown and publish checks the
    share it keeps."""
    from compactbert.records import same_recorded_task

    root, task, f = runs
    assert same_recorded_task("builtin:bbc-news", tmp_path, "bbc-news", root)
    assert not same_recorded_task("bbc-news", tmp_path, "rotten-tomatoes", root)
    relative = {"task": "task.csv", "split_seed": 42, "test": {"accuracy": 0.78}}  # run from `root`, found from it
    student = _save(AutoModelForSequenceClassification.from_pretrained(f["small"]), root / "rel" / "model", relative)
    notes = []
    zoo = zoo_from_models(f["teacher"], [student], log=notes.append)
    assert zoo.entries[0].metrics == {"test_accuracy": 0.78} and not any("leaves its accuracy out" in n for n in notes)
    save_zoo(zoo, tmp_path / "z")
    assert cli_main(["publish", str(tmp_path / "z"), "--org", "org", "--dry-run"]) == 0
    assert "rel keeps 97.5% of 80.0%, the zoo's teacher" in capfd.readouterr().out


def test_a_teacher_of_unnamed_labels_takes_the_tasks_and_one_without_a_task_shows_no_share(runs, tmp_path):
    _, task, f = runs
    unnamed = _save(make_bert(BertForSequenceClassification, num_layers=2), tmp_path / "unnamed")  # LABEL_0, LABEL_1
    student = _save(make_bert(BertForSequenceClassification, num_layers=1, seed=1), tmp_path / "student")
    zoo = zoo_from_models(unnamed, [student], task=task, log=lambda _: None)
    assert zoo.label_names == ["LABEL_0", "LABEL_1"] and zoo.examples and zoo.contributions is not None
    # a teacher whose metrics.json names no task: the students' accuracies cannot be set beside its own
    scored = _save(
        AutoModelForSequenceClassification.from_pretrained(f["teacher"]), tmp_path / "t", {"test": {"accuracy": 0.8}}
    )
    notes = []
    zoo = zoo_from_models(scored, [f["small"]], log=notes.append)
    assert zoo.entries[0].metrics == {} and any("the teacher's metrics.json records no task" in n for n in notes)


def test_a_port_out_of_range_or_in_use_is_refused_before_anything_loads(tmp_path, capsys):
    import socket

    with pytest.raises(SystemExit) as exit_info:
        cli_main(["demo", "--port", "99999"])
    assert exit_info.value.code == 2 and "--port: must be from 1 to 65535, got 99999" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # the teacher does not exist: the port is refused first, before the models would be looked at
        argv = ["demo", "--teacher", str(tmp_path / "missing"), "--model", "x", "--port", str(port)]
        assert cli_main(argv) == 2
    assert f"cannot serve on 127.0.0.1:{port} (" in capsys.readouterr().err
