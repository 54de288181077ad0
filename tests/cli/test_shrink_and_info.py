"""`compactbert shrink` and `compactbert info`, in-process and through the installed console script."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoModel, AutoTokenizer, BertForSequenceClassification

from compactbert import STRATEGIES
from compactbert.cli import main
from compactbert.data import list_builtin_tasks

from support.helpers import TEXTS, make_bert


@pytest.fixture
def source(tmp_path, tokenizer):
    folder = tmp_path / "src"
    make_bert(BertForSequenceClassification).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_shrink_saves_a_ready_model_and_prints_the_summary(source, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["shrink", str(source), "--strategy", "top", "--drop", "6", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "kept:       [0, 1, 2, 3, 4, 5]" in printed
    assert "dropped:    [6, 7, 8, 9, 10, 11]" in printed
    assert "parameters:" in printed and "->" in printed
    assert f"(load: AutoModelForSequenceClassification.from_pretrained('{out}') after" in printed  # with its head
    model = AutoModel.from_pretrained(out)
    assert model.config.kept_layers == [0, 1, 2, 3, 4, 5]
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer(TEXTS[0])["input_ids"] == AutoTokenizer.from_pretrained(source)(TEXTS[0])["input_ids"]


def test_shrink_explicit_and_contribution(source, tmp_path, capsys):
    assert main(["shrink", str(source), "--keep-layers", "0,4,8", "-o", str(tmp_path / "a")]) == 0
    assert "kept:       [0, 4, 8]" in capsys.readouterr().out
    calibration = tmp_path / "texts.txt"
    calibration.write_text("\n".join(TEXTS) + "\n\n")
    args = ["shrink", str(source), "--strategy", "contribution", "--drop", "4", "--calibration-file", str(calibration)]
    assert main([*args, "-o", str(tmp_path / "b")]) == 0
    printed = capsys.readouterr().out
    assert "[CLS] in/out cosine per source layer:" in printed
    assert len(json.loads((tmp_path / "b" / "config.json").read_text())["layer_contributions"]) == 12


@pytest.mark.parametrize(
    ("choice", "kept"),
    [
        (["--keep-layers", "0", "4", "8"], [0, 4, 8]),  # as `prune --keep-layers` takes them
        (["--keep-layers", "0,4,8"], [0, 4, 8]),
        (["--keep-layers", "8,0", "4"], [0, 4, 8]),
        (["--drop-layers", "1", "3", "5", "7", "9", "11"], [0, 2, 4, 6, 8, 10]),
        (["--drop-layers", "1,3,5,7,9,11"], [0, 2, 4, 6, 8, 10]),
    ],
)
def test_shrink_takes_layer_indices_spaced_or_comma_separated(source, tmp_path, capsys, choice, kept):
    assert main(["shrink", str(source), *choice, "-o", str(tmp_path / "out")]) == 0
    assert f"kept:       {kept}" in capsys.readouterr().out
    assert AutoModel.from_pretrained(tmp_path / "out").config.kept_layers == kept


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--keep-layers", "0", "x"], "expected 0-based layer indices like 0 2 4 or 0,2,4; got 'x'"),
        (["--drop-layers", "1.5"], "expected 0-based layer indices like 0 2 4 or 0,2,4; got '1.5'"),
        (["--keep-layers", ","], "expected at least one of the 0-based layer indices"),
        (["--keep-layers", "0", "2"], "not allowed with argument --keep-layers"),  # with --drop-layers below
    ],
)
def test_shrink_layer_indices_that_are_not_indices_are_refused_by_the_parser(source, tmp_path, capsys, extra, message):
    if message.startswith("not allowed"):
        extra = [*extra, "--drop-layers", "1"]
    with pytest.raises(SystemExit) as exit_info:
        main(["shrink", str(source), "-o", str(tmp_path / "out"), *extra])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_source_after_the_layer_list_is_refused_with_where_to_put_it(source, tmp_path, capsys):
    """The list takes every word up to the next option, so the source given after it is read as an index: the error
    says so (it was accepted when the option took one comma list)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["shrink", "--keep-layers", "0,2,4", str(source), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and f"got '{source}'" in err and "give the source before it" in err
    assert main(["shrink", str(source), "--keep-layers", "0,2,4", "-o", str(tmp_path / "out")]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--drop", "12"], r"must be in \[1, 11\]"),
        (["--keep-layers", "0,99"], r"in \[0, 11\]"),
        (["--keep-layers", "0", "99"], r"keep indices must be ints in \[0, 11\], got \[99\]"),
        (["--keep-layers", "0", "2", "2"], r"keep indices must be unique, got \[0, 2, 2\]"),
        (["--drop-layers", "1,3", "3"], r"drop indices must be unique, got \[1, 3, 3\]"),
        (["--drop-layers", *map(str, range(12))], "keeps 0 of 12 layers; keep at least one"),
        (
            ["--strategy", "contribution", "--drop", "2", "--calibration-file", "/nonexistent.txt"],
            "--calibration-file /nonexistent.txt does not exist",
        ),
        ([], "give --drop K"),
        (["--keep-layers", "0", "1", "--drop", "3"], r"give either the layers \(--keep-layers / --drop-layers\) or"),
    ],
)
def test_shrink_bad_input_exits_2_with_a_message(source, tmp_path, capsys, extra, message):
    assert main(["shrink", str(source), "-o", str(tmp_path / "out"), *extra]) == 2
    assert pytest.importorskip("re").search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_unknown_strategy_is_rejected_with_the_choices(source, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["shrink", str(source), "--strategy", "topp", "--drop", "2", "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'topp'" in err and all(name in err for name in STRATEGIES)


def test_existing_output_needs_overwrite(source, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["shrink", str(source), "--drop", "2", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and (out / "keep.txt").exists()
    # --overwrite replaces a model folder, not a folder of someone's own files, nor one holding the source
    assert main(["shrink", str(source), "--drop", "2", "-o", str(out), "--overwrite"]) == 2
    assert "is not a model folder (no config.json in it" in capsys.readouterr().err and (out / "keep.txt").exists()
    (out / "keep.txt").unlink()
    assert main(["shrink", str(source), "--drop", "2", "-o", str(out), "--overwrite"]) == 0
    (tmp_path / "config.json").write_text("{}")  # a model folder, but one that holds the model to shrink
    assert main(["shrink", str(out), "--drop", "1", "-o", str(tmp_path), "--overwrite"]) == 2
    assert "which the new folder is made from" in capsys.readouterr().err and (out / "config.json").exists()
    assert main(["shrink", str(out), "--drop", "1", "-o", str(out), "--overwrite"]) == 0  # replaces its source
    before = re.search(r"parameters: (\S+) -> (\S+) \(([-+]\d+\.\d)%\)", capsys.readouterr().out)
    assert before is not None and float(before[3]) < 0  # counted before it was replaced (it said +0.0%)


def test_info_lists_the_registry_and_describes_a_folder(source, tmp_path, capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert list(info["strategies"]) == list(STRATEGIES) and "shrunk_bert" in info["families"]
    assert list(info["builtin_tasks"]) == list_builtin_tasks()  # what --task takes by name, from the registry
    assert info["builtin_tasks"]["bbc-news"]["labels"] == ["business", "entertainment", "politics", "sport", "tech"]
    assert main(["info"]) == 0
    assert "  rotten-tomatoes Rotten Tomatoes review snippets: " in capsys.readouterr().out
    assert main(["shrink", str(source), "--strategy", "bottom", "--drop", "3", "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "shrunk_bert" in printed and "drop_strategy      bottom" in printed
    assert "           0  dropped\n" in printed and "          11  kept\n" in printed
    # no layer was scored (a bottom drop): no empty score column, and no scores without a metrics.json
    assert "source layer  status\n" in printed and "cosine" not in printed and "test accuracy" not in printed


def test_info_says_what_a_trained_folder_scored_and_kept_of_its_teacher(source, tmp_path, capsys):
    assert main(["shrink", str(source), "--strategy", "top", "--drop", "9", "-o", str(tmp_path / "out")]) == 0
    test = {"accuracy": 0.76, "macro_f1": 0.75, "majority_label": "fresh", "majority_accuracy": 0.55}
    metrics = {"task": "reviews.csv", "test": test, "teacher": "runs/teacher/model"}
    metrics["teacher_scores"] = {"test": {"accuracy": 0.8, "macro_f1": 0.79}}
    (tmp_path / "out" / "metrics.json").write_text(json.dumps(metrics))
    capsys.readouterr()
    assert main(["info", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-3:] == [
        "task               reviews.csv",
        "test accuracy      0.7600 (macro-F1 0.7500); always 'fresh', the majority class: 0.5500",
        "teacher            runs/teacher/model (test accuracy 0.8000 on the same texts; the model keeps 95.0% of it)",
    ]
    assert main(["info", str(tmp_path / "out"), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    assert scores["test"] == test and scores["teacher_test_accuracy"] == 0.8
    # a metrics.json that holds no scores of this shape: the folder is described without them
    for broken in ({"test": None}, {"test": 0.7}, {"test": test, "teacher": 3}, []):
        (tmp_path / "out" / "metrics.json").write_text(json.dumps(broken))
        assert main(["info", str(tmp_path / "out")]) == 0
        printed = capsys.readouterr().out
        assert "teacher " not in printed and ("test accuracy" in printed) == (broken == {"test": test, "teacher": 3})


def test_console_script_is_installed(source, tmp_path):
    script = Path(sys.executable).parent / "compactbert"  # installed next to the interpreter by pip
    assert script.exists(), "the compactbert console script is not installed: pip install -e ."
    done = subprocess.run(
        [str(script), "shrink", str(source), "--strategy", "odd-alternate", "--drop", "2", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "kept:       [0, 1, 2, 3, 4, 5, 6, 7, 9, 11]" in done.stdout


def test_shrink_from_a_hub_id_saves_model_and_tokenizer(hub, source, tmp_path, capsys):
    hub.create_model_repo("org/bert12", source)
    assert main(["shrink", "org/bert12", "--strategy", "symmetric", "--drop", "4", "-o", str(tmp_path / "o")]) == 0
    assert "source:     org/bert12 (12 layers)" in capsys.readouterr().out
    assert (tmp_path / "o" / "tokenizer.json").exists()
    assert AutoModel.from_pretrained(tmp_path / "o").config.kept_layers == [0, 1, 2, 3, 8, 9, 10, 11]
