"""scripts/quickstart.sh's install steps, run against a stand-in virtual environment whose python and compactbert
only write down how they were called (nothing is installed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STAND_IN = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "{log}"
if [ "$1" = "-c" ]; then exit 1; fi   # `python -c "import torch"`: no torch yet
"""


@pytest.fixture
def stand_in_venv(tmp_path):
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "compactbert"):
        (venv / "bin" / name).write_text(STAND_IN.format(log=log))
        (venv / "bin" / name).chmod(0o755)
    return venv, log


def run_quickstart(venv: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX_URL", "TORCH_SPEC", "DEMO_ARGS")}
    return subprocess.run(
        ["bash", "scripts/quickstart.sh"],
        cwd=ROOT,
        env={**environ, "VENV": str(venv), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_torch_goes_in_first_pinned_from_the_default_index(stand_in_venv):
    venv, log = stand_in_venv
    done = run_quickstart(venv)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls == [
        "python -c import torch",
        "python -m pip install --quiet torch==2.13.0",
        "python -m pip install --quiet -e .[demo]",
        "compactbert demo",
    ]


def test_torch_index_url_takes_torch_alone_from_that_index(stand_in_venv):
    venv, log = stand_in_venv
    done = run_quickstart(venv, TORCH_INDEX_URL="http://cpu-wheels.invalid/simple", TORCH_SPEC="torch==2.13.0")
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls[1] == "python -m pip install --quiet --index-url http://cpu-wheels.invalid/simple torch==2.13.0"
    assert calls[2] == "python -m pip install --quiet -e .[demo]"  # compactbert's own dependencies: the default index
    assert "from http://cpu-wheels.invalid/simple" in done.stdout
