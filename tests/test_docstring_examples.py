"""The examples in the library's docstrings run and show what they print. They are written as Hugging Face writes
them, inside ```python fences, which are not part of an example's output. An example that takes minutes (building
the demo's zoo) is marked `# doctest: +SKIP`; the caches point into the test's folder, so none runs into a user's."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
FENCE = re.compile(r"^[ \t]*```\w*[ \t]*$", re.M)


class FencedParser(doctest.DocTestParser):
    """doctest's parser, with the Markdown fences around an example read as blank lines."""

    def parse(self, string, name="<string>"):
        return super().parse(FENCE.sub("", string), name)


def modules_with_examples() -> list[str]:
    found = []
    for path in sorted((SRC / "compactbert").rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            parts = path.relative_to(SRC).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_the_modules_are_found():
    assert {"compactbert.io", "compactbert.shrinking.strategies", "compactbert.data.splits"} <= set(
        modules_with_examples()
    )


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here, and caches too
    monkeypatch.setenv("COMPACTBERT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPACTBERT_DEMO_CACHE", str(tmp_path / "demo"))
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    tests = doctest.DocTestFinder(parser=FencedParser()).find(module, module.__name__)
    assert tests, f"{name}: no docstring examples found"
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
