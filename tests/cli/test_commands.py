"""The command line's shape: one registry of `Command`s, help that loads no torch, and imports that run one way
(nothing in the library imports `compactbert.cli`; argparse lives only there)."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compactbert.cli import COMMANDS, Command, build_parser
from compactbert.cli.common import print_scores
from compactbert.cli.recipes import BUILD, FINETUNE, RecipeCommand

FINETUNE_MISUSE = FINETUNE.misuse

SRC = Path(__file__).resolve().parents[2] / "src" / "compactbert"

# Runs every help (top level, then each command) in one fresh interpreter, noting after each which heavy modules
# are loaded and, for torch, which compactbert lines imported it first.
HELP_PROBE = """
import contextlib, io, json, sys, traceback

HEAVY = ("torch", "transformers", "datasets", "gradio")
first_import = {}


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in HEAVY and name not in first_import:
            stack = traceback.extract_stack()
            first_import[name] = [f"{f.filename}:{f.lineno}" for f in stack if "compactbert" in f.filename]
        return None


sys.meta_path.insert(0, Watch())
from compactbert.cli import COMMANDS, main

loaded = {}
for argv in [["--help"]] + [[command.name, "--help"] for command in COMMANDS]:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
    loaded[" ".join(argv)] = [name for name in HEAVY if name in sys.modules]
print(json.dumps({"loaded": loaded, "first_import": first_import}))
"""


def test_help_of_every_command_imports_no_torch():
    done = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(probe["loaded"]) == ["--help"] + [f"{command.name} --help" for command in COMMANDS]
    with_torch = [argv for argv, names in probe["loaded"].items() if "torch" in names]
    assert not with_torch, (
        f"`compactbert {with_torch[0]}` imports torch (and each help after it); first imported from:\n"
        + "\n".join(probe["first_import"]["torch"])
    )


def test_the_registry_is_the_parser():
    names = [command.name for command in COMMANDS]
    assert names == [
        "shrink",
        "albert",
        "finetune",
        "pretrain",
        "distill",
        "evaluate",
        "info",
        "bench",
        "demo",
        "build",
        "push",
        "publish",
        "augment",
        "prune",
        "export",
        "cache",
    ]
    assert all(isinstance(command, Command) and command.help for command in COMMANDS)
    assert {c.name for c in COMMANDS if isinstance(c, RecipeCommand)} == {"finetune", "pretrain", "distill", "build"}
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == names


def test_a_command_name_registered_twice_is_refused():
    with pytest.raises(ValueError, match=r"commands \['info'\] are registered twice"):
        build_parser([*COMMANDS, next(c for c in COMMANDS if c.name == "info")])


def test_recipe_commands_keep_what_follows_the_recipe_for_the_overrides():
    args = build_parser().parse_args(["build", "--output-dir", "d", "zoo.yaml", "--max_steps", "2", "--overwrite"])
    assert (args.recipe, args.output_dir, args.overwrite) == ("zoo.yaml", "d", False)
    assert args.overrides == ["--max_steps", "2", "--overwrite"]
    args = build_parser().parse_args(["finetune", "r.yaml", "--eval_strategy", "no"])
    assert (args.recipe, args.overrides) == ("r.yaml", ["--eval_strategy", "no"])


def test_field_pairs_without_a_recipe_are_refused_with_where_the_recipe_goes(capsys):
    from compactbert.cli import main

    assert main(["finetune", "--model", "minilm", "--task", "t.csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("compactbert finetune: error: the recipe comes first") and "unrecognized" not in err
    assert "compactbert finetune configs/bbc-news-minilm-top3.yaml --model minilm ..." in err
    assert "got --model where the recipe goes" in err
    # build's own options come before the recipe: skipped (with their values) before looking for it
    assert main(["build", "--output-dir", "d", "--overwrite", "--max_steps", "2"]) == 2
    assert "got --max_steps where the recipe goes" in capsys.readouterr().err
    for own in (["--output-dir=d"], ["--output", "d"], ["--force=true"], ["--overwrite"]):  # forms argparse takes
        assert BUILD.misuse([*own, "zoo.yaml", "--max_steps", "2"]) is None, own
    assert COMMANDS[0].misuse(["--model", "x"]) is None  # other commands: argparse says what is wrong
    assert FINETUNE_MISUSE(["r.yaml", "--model", "x"]) is None and FINETUNE_MISUSE(["--help"]) is None


def test_commands_hide_transformers_bars_over_local_weights_and_keep_the_others(tmp_path, capfd):
    from transformers.utils import logging as hf_logging

    from compactbert.cli import main

    assert main(["shrink", "minilm", "--strategy", "top", "--drop", "3", "--output", str(tmp_path / "s")]) == 0
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "Writing model shards" not in err
    hook = hf_logging.set_tqdm_hook(None)  # what the command set, taken out again here

    def factory(*args, **kwargs):
        return kwargs

    assert hook(factory, (), {"desc": "Loading weights"})["disable"] is True
    assert "disable" not in hook(factory, (), {"desc": "Downloading", "total": 3})  # downloads keep their bar


def test_python_dash_m_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "compactbert.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("compactbert "), done.stderr


def test_ctrl_c_ends_a_command_with_a_line_and_130_not_a_traceback(monkeypatch, capsys):
    from compactbert.cli.commands import main

    info = next(c for c in COMMANDS if c.name == "info")

    def interrupted(self, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(info), "run", interrupted)
    assert main(["info", "minilm"]) == 130
    _, err = capsys.readouterr()
    assert err.strip() == "compactbert info: interrupted"
    monkeypatch.setenv("COMPACTBERT_DEBUG", "1")  # the traceback, for whoever asks for it
    with pytest.raises(KeyboardInterrupt):
        main(["info", "minilm"])


def test_a_truncated_weights_file_is_an_error_line_not_a_traceback(tmp_path, capsys):
    import compactbert
    from compactbert.cli.commands import main

    from support.helpers import make_bert, make_tokenizer

    folder = tmp_path / "model"
    compactbert.save_model(compactbert.shrink(make_bert(num_layers=2), "top", num_drop=1), folder, make_tokenizer())
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # what an interrupted copy leaves
    assert main(["export", str(folder), "--format", "onnx", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "compactbert export: error: a weights file is not readable safetensors (corrupt or truncated?" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def imported_modules(path: Path, text: str | None = None) -> set[str]:
    """The absolute names of the modules a source file (or `text` as if it were that file) imports, relative imports
    resolved: `from ..cli import main` in `compactbert/hub/build.py` is `compactbert.cli` and `compactbert.cli.main`."""
    package = ".".join(("compactbert", *path.relative_to(SRC).parent.parts))  # what `.` means in that file
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if text is None else text)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = node.module if node.level == 0 else ".".join(filter(None, (base, node.module)))
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_imports_run_one_way_and_argparse_lives_in_the_cli():
    outside = [path for path in SRC.rglob("*.py") if "cli" not in path.relative_to(SRC).parts]
    assert len(outside) > 30
    back = {
        str(p.relative_to(SRC)) for p in outside if any(m.startswith("compactbert.cli") for m in imported_modules(p))
    }
    assert not back, (
        f"modules outside compactbert/cli import it (the command line imports the library, not back): {back}"
    )
    with_argparse = {str(p.relative_to(SRC)) for p in outside if "argparse" in imported_modules(p)}
    assert not with_argparse, f"argument parsing belongs in compactbert/cli, found in: {with_argparse}"


def test_the_import_scan_resolves_relative_imports():
    """The scan above can fail: relative imports of the command line from a sub-package are resolved to it."""
    module = SRC / "distillation" / "recipe.py"
    assert "compactbert.cli.common" in imported_modules(module, "from ..cli.common import parse_overrides\n")
    assert "compactbert.cli" in imported_modules(module, "from .. import cli\n")
    assert "compactbert.distillation.arguments" in imported_modules(module, "from .arguments import STAGES\n")
    assert "compactbert.cli" in imported_modules(SRC / "hub" / "__init__.py", "from ..cli import main\n")
    assert "compactbert.finetune" in imported_modules(module)


def test_every_file_a_help_names_exists(monkeypatch):
    """A help that points at configs/..., scripts/... or docs/... points at a file of this checkout (or, for a glob,
    at least one)."""
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps at hyphens on a narrow terminal, splitting the paths
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    root = SRC.parents[1]
    named = {}
    for name, parser in subparsers.choices.items():
        for path in re.findall(r"\b(?:configs|scripts|docs)/[\w*./-]*\w", parser.format_help().replace("\n", " ")):
            named.setdefault(path, name)
    assert "configs/distill/bbc-news-minilm-3layer.yaml" in named  # distill's example recipe: the scan sees helps
    missing = {path: command for path, command in named.items() if not list(root.glob(path))}
    assert not missing, f"helps name files that do not exist: {missing}"


def scores(accuracy: float, majority: float = 0.5) -> dict:
    """A run's metrics as `finetune` returns them, with the test split's majority class."""
    split = {"accuracy": accuracy, "macro_f1": accuracy, "majority_label": "fresh", "majority_accuracy": majority}
    return {"validation": dict(split), "test": dict(split)}


@pytest.mark.parametrize(
    "accuracy, warning",
    [
        (0.9, None),
        (0.55, "warning: the model is barely better than always predicting 'fresh' (0.5500 against 0.5000"),
        (0.5, "warning: the model has not learned the task: it does no better than always predicting 'fresh'"),
    ],
)
def test_scores_name_the_majority_class_and_warn_where_the_gate_would_refuse(accuracy, warning, capsys):
    print_scores(scores(accuracy), "reviews.csv")
    out, err = capsys.readouterr()
    assert "majority    accuracy 0.5000  (always 'fresh': the test split's most common label)" in out
    if warning is None:
        assert err == ""
    else:
        assert warning in err and "refuses a model under 0.6000 here (the majority class + 10 points)" in err


def test_scores_after_a_distillation_say_what_the_student_keeps_of_its_teacher(capsys):
    metrics = scores(0.76) | {"teacher_scores": {"test": {"accuracy": 0.8, "macro_f1": 0.79}}}
    print_scores(metrics, "reviews.csv")
    out, err = capsys.readouterr()
    assert "teacher     accuracy 0.8000  macro-F1 0.7900  (the same test texts: the student keeps 95.0% of it)" in out
    assert err == ""  # 95% is publish's floor: kept
    print_scores(scores(38 / 52) | {"teacher_scores": {"test": {"accuracy": 40 / 52, "macro_f1": 0.7}}}, "r.csv")
    assert "warning" not in capsys.readouterr().err  # 38 of 52 against 40 of 52 is 95% (0.9499999... in floats)
    print_scores(scores(0.72) | {"teacher_scores": {"test": {"accuracy": 0.8, "macro_f1": 0.79}}}, "reviews.csv")
    assert (
        "warning: the student keeps 90.0% of its teacher's test accuracy, under the 95% that `compactbert publish` "
        "requires"
    ) in capsys.readouterr().err


def test_helps_that_list_the_built_in_tasks_list_every_one(monkeypatch):
    """A help that names the built-in sets in brackets ("a built-in set (bbc-news, rotten-tomatoes)") names the ones
    registered, so a set added to the registry is not missing from the helps (`compactbert info` lists them too)."""
    from compactbert.data import list_builtin_tasks

    monkeypatch.setenv("COLUMNS", "1000")
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    listed = {}
    for name, parser in subparsers.choices.items():
        for names in re.findall(r"built-in (?:task|set) \(([^)]*)\)", parser.format_help().replace("\n", " ")):
            listed[name] = sorted(n.strip() for n in names.split(","))
    assert set(listed) == {"augment", "evaluate"}  # the scan sees them
    assert all(names == list_builtin_tasks() for names in listed.values()), listed


def test_evaluate_refuses_a_split_seed_out_of_range_before_anything_loads(capsys):
    from compactbert.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "minilm", "--split_seed", "-1"])
    assert exit_info.value.code == 2
    assert "--split_seed: must be from 0 to 4294967295, got -1" in capsys.readouterr().err
