"""The examples in the compactbert.data docstrings (split sizes included) are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "compactbert.data",
    "compactbert.data.tasks",
    "compactbert.data.splits",
    "compactbert.data.sources",
    "compactbert.data_files",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
