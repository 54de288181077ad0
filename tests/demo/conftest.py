"""Fixtures of the demo tests: a tiny zoo on disk, the demo launched over it, a wheel of compactbert (for the
published Space) and a real headless browser page."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from support.demo import free_port, make_tiny_zoo
from support.scripts import load_script

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def tiny_zoo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-zoo")
    make_tiny_zoo(folder)
    return folder


@pytest.fixture
def zoo(tmp_path):
    """A tiny zoo of this test's own (publishing tests change it)."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    make_tiny_zoo(folder)
    return folder


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """A wheel of compactbert built from this checkout (what a published Space installs)."""
    from compactbert.demo.space import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def app_url(tiny_zoo_dir):
    """The demo over the tiny zoo, launched on 127.0.0.1 and a free port for the whole session."""
    from compactbert.demo import create_demo, launch

    demo = create_demo(str(tiny_zoo_dir), dtype="fp32")
    _, url, _ = launch(demo, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    shot = load_script("demo_screenshot")  # the README's screenshot launches chromium the same way
    chromium = shot.CHROMIUM
    assert shutil.which(chromium), f"{chromium} is missing: apt-get install chromium (scripts/quickstart.sh test does)"
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as playwright:
        # a fresh profile (--user-data-dir) per run: Playwright takes it as launch_persistent_context's argument
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            args=shot.CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1400},
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
