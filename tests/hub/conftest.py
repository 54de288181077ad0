"""Shared, expensive-once fixtures of the publishing tests: one test-sized build for the whole session."""

from pathlib import Path

import pytest

from support.zoo import LEARNS, tiny_recipe


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """`compactbert build` of the test-sized recipe (tiny source, 60-row task, baseline on), trained until it learns
    the task (so it passes the quality gate): the `model` folder."""
    from compactbert.hub.build import build, read_recipe

    return build(read_recipe(tiny_recipe(tmp_path_factory.mktemp("zoo"), training=LEARNS)))
