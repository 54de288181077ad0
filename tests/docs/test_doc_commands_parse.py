"""The commands the pages show but the tests do not run (blocks marked `skip`: minutes of training, the Hub, a
server) still parse: each `compactbert ...` line with the command's own parser (a recipe command's fields and recipe
file too), each `python scripts/X.py ...` line with the script's, and a zoo recipe's section shown as
`# in configs/<entry>.yaml` is read into a committed recipe. Nothing is run, so a renamed option or recipe
shows up here instead of in a reader's terminal. Shell variables stand for `1`; a synopsis's `[--option VALUE]`
brackets are dropped, and its placeholder `N` stands for `1`.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex

import pytest

from doc_pages import ROOT, all_blocks
from support.scripts import load_script

SHOWN = [
    (block.where, command)
    for block in all_blocks()
    if block.lang == "bash" and not block.runs
    for command in block.commands()
]


class Parsed(Exception):
    """Raised where a command would start its work: everything before it parsed."""


def words_of(command: str) -> list[str]:
    command = re.sub(r'"?\$\{?[A-Za-z_][A-Za-z_0-9]*\}?"?', "1", command)  # $seed, "$TORCH_INDEX_URL" -> 1
    words = [w.strip("[]") for w in shlex.split(command, comments=True)]
    return ["1" if w == "N" else w for w in words if w]


def compactbert_argv(words: list[str]) -> list[str] | None:
    if words[0] == "compactbert":
        return words[1:]
    if "-m" in words and words[words.index("-m") + 1 :][:1] == ["compactbert.cli"]:  # torchrun / accelerate launch
        return words[words.index("-m") + 2 :]
    return None


def is_script(words: list[str]) -> bool:
    return len(words) > 1 and words[0] == "python" and re.fullmatch(r"scripts/\w+\.py", words[1]) is not None


CASES = [
    pytest.param(command, id=f"{where}:{command[:60]}")
    for where, command in SHOWN
    if compactbert_argv(words_of(command)) is not None or is_script(words_of(command))
]


def test_the_pages_show_commands_that_are_not_run():
    assert len(CASES) >= 30  # the skipped blocks' compactbert and script lines; a broken reader would find none


@pytest.fixture
def check(monkeypatch, capsys):
    """`check(command)` parses a shown command without running it: the recipe commands stop once their recipe is
    read, a script once its parser has parsed; a command that does not parse fails the test, saying why."""

    def stop(*args, **kwargs):
        raise Parsed

    for module, name in (
        ("compactbert.finetune", "finetune"),
        ("compactbert.distillation.recipe", "distill"),
        ("compactbert.pretraining.pretrain", "pretrain"),  # the module, which the package's `pretrain` shadows
        ("compactbert.hub.build", "build"),
    ):
        monkeypatch.setattr(importlib.import_module(module), name, stop)
    monkeypatch.chdir(ROOT)  # recipes are named from the repository root
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(parser, args=None, namespace=None):
        parsed = original(parser, args, namespace)
        if parser.prog != "compactbert":  # the top-level parser hands over to a command; a script's parser is done
            raise Parsed
        return parsed

    def parses(command: str) -> None:
        words = words_of(command)
        argv = compactbert_argv(words)
        try:
            if argv is not None:
                from compactbert.cli.commands import COMMANDS, build_parser

                found = next((c for c in COMMANDS if c.name == argv[0]), None)
                assert found is not None, f"no command {argv[0]!r}"
                assert found.misuse(argv[1:]) is None, found.misuse(argv[1:])
                args = build_parser().parse_args(argv)
                if getattr(found, "runner", None) is None:  # argparse was the whole of it
                    return
                run = lambda: args.run(args)  # noqa: E731  (finetune, distill, pretrain, build: recipe and fields)
            else:
                module = load_script(words[1].removeprefix("scripts/").removesuffix(".py"))
                monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
                run = lambda: module.main(words[2:])  # noqa: E731
            try:
                run()
            except Parsed:
                return
            raise AssertionError("it ran on past its parser: the check cannot stop it there")
        except SystemExit as exit:
            pytest.fail(f"{command}\ndoes not parse: {capsys.readouterr().err.strip() or exit}")
        except Exception as err:
            pytest.fail(f"{command}\ndoes not parse: {type(err).__name__}: {err}")
        finally:
            monkeypatch.setattr(argparse.ArgumentParser, "parse_args", original)

    return parses


@pytest.mark.parametrize("command", CASES)
def test_a_command_the_pages_show_parses(command, check):
    check(command)


@pytest.mark.parametrize(
    "command",
    [
        "compactbert shrink minilm --strategy top --drop-count 3",  # an option that does not exist
        "compactbert no-such-command",
        "compactbert finetune configs/no-such-recipe.yaml",
        "compactbert finetune configs/bbc-news-minilm-top3.yaml --no_such_field 1",  # a field no dataclass has
        "compactbert distill configs/distill/bbc-news-minilm-3layer.yaml --alpha_attn lots",  # a value of the wrong type
        "python scripts/training_cost.py --no-such-option",
        "python scripts/pruning_study.py --cells no-such-cell",
    ],
)
def test_the_check_fails_a_command_that_does_not_parse(command, check):
    with pytest.raises(pytest.fail.Exception, match="does not parse"):
        check(command)


ENTRY_SNIPPETS = [
    pytest.param(block.code, id=block.where)
    for block in all_blocks()
    if block.lang == "yaml" and block.code.startswith("# in configs/<entry>.yaml")
]


@pytest.mark.parametrize("snippet", ENTRY_SNIPPETS)
def test_a_zoo_recipe_section_the_pages_show_is_read(snippet, tmp_path):
    """A page's `# in configs/<entry>.yaml` snippet, put into a committed zoo recipe, is a recipe `build` reads."""
    import yaml

    from compactbert.hub.recipe import read_recipe

    values = yaml.safe_load((ROOT / "configs" / "minilm-top3-bbc-news.yaml").read_text()) | yaml.safe_load(snippet)
    path = tmp_path / "entry.yaml"
    path.write_text(yaml.safe_dump(values))
    recipe = read_recipe(path)
    for key, value in yaml.safe_load(snippet).items():  # each setting the snippet shows is the recipe's
        got = getattr(recipe, key)
        if isinstance(value, dict):
            assert {field: getattr(got, field) for field in value} == value
        else:
            assert list(got) == value
