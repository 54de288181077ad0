"""scripts/quickstart.sh's install steps, run against a stand-in virtual environment whose python and compactbert
only write down how they were called (nothing is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STAND_IN = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "{log}"
case "$*" in
    "-c import torch") [ -e "{venv}/torch-installed" ] || exit 1 ;;   # no torch until pip has installed it
    "-m pip install "*torch==*) touch "{venv}/torch-installed" ;;
    "- "*) [ ! -e "{venv}/requirement-missing" ] || exit 1 ;;  # are compactbert's requirements met
    "-m pytest "*) touch "$TMPDIR/left-by-a-test"; echo "TMPDIR=$TMPDIR" >> "{log}"; [ ! -e "{venv}/tests-fail" ] || exit 3 ;;
esac
"""


@pytest.fixture
def stand_in_venv(tmp_path):
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "compactbert"):
        (venv / "bin" / name).write_text(STAND_IN.format(log=log, venv=venv))
        (venv / "bin" / name).chmod(0o755)
    return venv, log


@pytest.fixture
def checkout(tmp_path):
    """A copy of the script and of pyproject.toml, for the tests that change pyproject.toml."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "quickstart.sh", root / "scripts")
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def run_quickstart(venv: Path, root: Path = ROOT, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX_URL", "TORCH_SPEC", "DEMO_ARGS")}
    return subprocess.run(
        ["bash", "scripts/quickstart.sh", *args],
        cwd=root,
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


def test_the_readmes_placeholder_index_is_refused_before_anything_runs(stand_in_venv):
    venv, log = stand_in_venv
    done = run_quickstart(venv, TORCH_INDEX_URL="...")
    assert done.returncode == 2
    assert "TORCH_INDEX_URL is '...'" in done.stderr
    assert not log.exists()


@pytest.mark.parametrize("mode", ["tests", "--verbose"])
def test_an_unknown_mode_is_refused_before_anything_is_installed(stand_in_venv, mode):
    venv, log = stand_in_venv
    done = run_quickstart(venv, ROOT, mode)
    assert done.returncode == 2
    assert f"{mode}: not a mode of quickstart.sh (main or test); nothing was installed" in done.stderr
    assert "usage: bash scripts/quickstart.sh [main|test [pytest args...]]" in done.stderr
    assert not log.exists()


def test_help_prints_the_usage_and_installs_nothing(stand_in_venv):
    venv, log = stand_in_venv
    done = run_quickstart(venv, ROOT, "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: bash scripts/quickstart.sh")
    assert not log.exists()


def test_a_second_start_skips_pip_until_pyproject_changes(stand_in_venv, checkout):
    venv, log = stand_in_venv
    assert run_quickstart(venv, checkout).returncode == 0
    log.write_text("")
    done = run_quickstart(venv, checkout)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == ["python -c import torch", "python - demo", "compactbert demo"]  # no pip
    assert "no pip" in done.stdout

    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# a changed dependency\n")
    log.write_text("")
    done = run_quickstart(venv, checkout)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "python -c import torch",  # torch is there: kept
        "python -m pip install --quiet -e .[demo]",
        "compactbert demo",
    ]


def test_a_requirement_missing_since_the_install_installs_compactbert_again(stand_in_venv, checkout):
    """A package uninstalled or replaced since the stamp was written (the venv changed under it): pip runs again."""
    venv, log = stand_in_venv
    assert run_quickstart(venv, checkout).returncode == 0
    (venv / "requirement-missing").touch()
    log.write_text("")
    done = run_quickstart(venv, checkout)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "python -c import torch",
        "python - demo",  # the check fails
        "python -m pip install --quiet -e .[demo]",
        "compactbert demo",
    ]


def test_the_requirements_check_reads_this_venvs_compactbert(tmp_path):
    """The check quickstart.sh runs before skipping pip, run for real by this test environment's python (where
    compactbert and its test extras are installed): met; and a requirement this environment lacks is found."""
    import re
    import sys

    script = (ROOT / "scripts" / "quickstart.sh").read_text()
    check = re.search(r"<<'PYTHON' 2>/dev/null\n(.*?)\nPYTHON\n", script, re.S).group(1)
    done = subprocess.run([sys.executable, "-", "dev,test-demo"], input=check, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lacking = check.replace('requires("compactbert") or []', '["no-such-package-xyz>=1"]')
    done = subprocess.run([sys.executable, "-", "demo"], input=lacking, capture_output=True, text=True)
    assert done.returncode == 1 and "no-such-package-xyz is not installed" in done.stderr


def test_a_failed_install_leaves_no_stamp(stand_in_venv, checkout):
    venv, log = stand_in_venv
    python = venv / "bin" / "python"
    python.write_text(python.read_text() + 'if [ "$*" = "-m pip install --quiet -e .[demo]" ]; then exit 1; fi\n')
    assert run_quickstart(venv, checkout).returncode != 0
    log.write_text("")
    run_quickstart(venv, checkout)
    assert "python -m pip install --quiet -e .[demo]" in log.read_text().splitlines()  # tried again


def test_the_test_runs_temporary_files_are_removed_when_it_passes_and_kept_when_it_fails(stand_in_venv, checkout):
    """`quickstart.sh test` gives the suite a temporary folder of its own (exports, virtual environments: gigabytes
    that would otherwise pile up in /tmp run after run): removed after a passing run, kept and named after a failing
    one (not on CI), whose exit status it keeps."""
    venv, log = stand_in_venv
    scratch = checkout / "tmp"
    scratch.mkdir()
    bin_dir = checkout / "bin"  # no chromium install from this test: an apt-get (and a sudo) that do nothing
    bin_dir.mkdir()
    for name in ("apt-get", "sudo"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / name).chmod(0o755)
    env = {"TMPDIR": str(scratch), "PATH": f"{bin_dir}:{os.environ['PATH']}", "TEST_WORKERS": "0", "CI": ""}

    done = run_quickstart(venv, checkout, "test", "-k", "something", **env)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert "python -m pytest -n 0 --dist worksteal -k something" in calls
    run_tmp = Path(next(line for line in calls if line.startswith("TMPDIR="))[len("TMPDIR=") :])
    assert run_tmp.parent == scratch and run_tmp.name.startswith("compactbert-test-run.")
    assert list(scratch.iterdir()) == []

    (venv / "tests-fail").touch()
    log.write_text("")
    done = run_quickstart(venv, checkout, "test", **env)
    assert done.returncode == 3
    (kept,) = scratch.iterdir()
    assert (kept / "left-by-a-test").exists()
    assert f"the run's temporary files are kept in {kept}" in done.stderr

    assert run_quickstart(venv, checkout, "test", **env | {"CI": "true"}).returncode == 3
    assert list(scratch.iterdir()) == [kept]  # on CI a failed run's folder goes too
