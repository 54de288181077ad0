"""Fixtures of the demo tests: a tiny zoo on disk and the demo launched over it."""

from __future__ import annotations

import os

import pytest

from support.demo import free_port, make_tiny_zoo

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def tiny_zoo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-zoo")
    make_tiny_zoo(folder)
    return folder


@pytest.fixture(scope="session")
def app_url(tiny_zoo_dir):
    """The demo over the tiny zoo, launched on 127.0.0.1 and a free port for the whole session."""
    from compactbert.demo import create_demo, launch

    demo = create_demo(str(tiny_zoo_dir), dtype="fp32")
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()
