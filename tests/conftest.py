"""Fixtures for every test: offline Hub, a tiny tokenizer and a batch of its texts."""

import atexit
import os
import shutil
import tempfile

# pytest-xdist runs the suite in several worker processes (`-n`): each gets its share of the cores for torch's threads
# (and the subprocesses the tests start), not all of them, so that workers do not fight over the same cores
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _cores // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))

import pytest
from transformers import BertTokenizer

from support.helpers import TEXTS, make_tokenizer

pytest_plugins = ["support.hub_fixtures"]  # the `hub` fixture: a local stand-in of the Hub HTTP API

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# the runtime backends' on-the-fly exports (compactbert.export.cache.default_cache_dir): never the user's cache;
# made by the first process of the run (xdist's workers inherit it) and removed when that process exits
if "COMPACTBERT_CACHE" not in os.environ:
    os.environ["COMPACTBERT_CACHE"] = tempfile.mkdtemp(prefix="compactbert-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["COMPACTBERT_CACHE"], True)


@pytest.fixture
def tokenizer() -> BertTokenizer:
    return make_tokenizer()


@pytest.fixture
def batch(tokenizer):
    return tokenizer(TEXTS, padding=True, return_tensors="pt")
