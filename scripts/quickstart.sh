#!/usr/bin/env bash
# Set up a virtual environment in .venv and run compactbert's main job or its tests.
#
#   bash scripts/quickstart.sh         # set up, then open the live demo (builds its model zoo on first use, cached)
#   bash scripts/quickstart.sh test    # set up, then run the test suite (in parallel: one worker per core, up to 4)
#
# The demo serves on http://127.0.0.1:7860 (DEMO_ARGS="--host 0.0.0.0 --port 8080" to change; see `compactbert demo
# --help`). The tests drive the demo in a real browser: Debian's chromium, installed with apt-get when missing.
# torch is installed first, pinned to the version the tests run against (TORCH_SPEC, default torch==2.13.0), so that
# no later package pulls another. Which build the pin gets is the package index's choice: the default index's Linux
# wheel brings gigabytes of CUDA packages; TORCH_INDEX_URL, the index of torch's CPU build, takes torch alone from
# there. A torch already in .venv is kept. Everything else comes from pyproject.toml. compactbert is installed (in
# editable mode) once per set of extras: a later start skips pip unless pyproject.toml or the checkout's folder
# changed (a stamp file in the venv holds what it was installed from; delete it to force a re-install) or a package it
# needs is missing or at a version it does not accept.
set -euo pipefail

cd "$(dirname "$0")/.."
MODE="${1:-main}"
VENV="${VENV:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
PYTHON="${PYTHON:-python3}"
USAGE="usage: bash scripts/quickstart.sh [main|test [pytest args...]]"
case "$MODE" in
    main | test) ;;
    -h | --help) echo "$USAGE"; exit 0 ;;
    *) echo "$MODE: not a mode of quickstart.sh (main or test); nothing was installed" >&2; echo "$USAGE" >&2; exit 2 ;;
esac
# the README's line left as it is
if [ "${TORCH_INDEX_URL:-}" = "..." ]; then
    echo "TORCH_INDEX_URL is '...': put torch's CPU index in its place (README, Quick start), or unset it" >&2
    exit 2
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "==> installing $TORCH_SPEC (first, so nothing pulls an unpinned torch)${TORCH_INDEX_URL:+ from $TORCH_INDEX_URL}"
    "$PY" -m pip install --quiet ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
fi
case "$MODE" in
    main) EXTRAS="demo" ;;
    test) EXTRAS="dev,test-demo" ;;
esac
# what the editable install depends on: where the checkout is and pyproject.toml (its checksum)
STAMP="$VENV/.compactbert-installed-${EXTRAS//,/-}"
INSTALLED_FROM="$(pwd) $(cksum < pyproject.toml)"
# whether every requirement of compactbert and of these extras is installed at a version it accepts (a package
# uninstalled or replaced since the stamp was written makes pip run again)
requirements_met() {
    "$PY" - "$EXTRAS" <<'PYTHON' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

extras = sys.argv[1].split(",")
for line in requires("compactbert") or []:
    needed = Requirement(line)
    if needed.marker and not any(needed.marker.evaluate({"extra": extra}) for extra in extras):
        continue
    try:
        if not needed.specifier.contains(version(needed.name), prereleases=True):
            sys.exit(f"{needed.name} {version(needed.name)} does not meet {needed}")
    except PackageNotFoundError:
        sys.exit(f"{needed.name} is not installed")
PYTHON
}
if [ -x "$VENV/bin/compactbert" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$INSTALLED_FROM" ] && requirements_met; then
    echo "==> compactbert (.[$EXTRAS]) is installed from this checkout with what it needs: no pip"
else
    echo "==> installing compactbert and its dependencies (.[$EXTRAS])"
    "$PY" -m pip install --quiet -e ".[$EXTRAS]"
    echo "$INSTALLED_FROM" > "$STAMP"
fi
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TOKENIZERS_PARALLELISM=false

case "$MODE" in
    main)
        # shellcheck disable=SC2086  # DEMO_ARGS is a list of options
        exec "$VENV/bin/compactbert" demo ${DEMO_ARGS:-}
        ;;
    test)
        shift || true
        if [ ! -x /usr/bin/chromium ]; then
            echo "==> installing chromium (Debian package) for the demo's browser test"
            SUDO=""
            if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
            if command -v apt-get >/dev/null; then
                $SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
                    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; } \
                    || echo "!! could not install chromium with apt-get: the browser test will FAIL" >&2
            else
                echo "!! no apt-get and no /usr/bin/chromium: the demo's browser test will FAIL" >&2
            fi
        fi
        export GRADIO_ANALYTICS_ENABLED=False
        # in parallel (pytest-xdist): one worker per core, at most 4 (TEST_WORKERS to choose; 0 runs in this process),
        # each with its share of the cores for torch (tests/conftest.py); later pytest arguments override these
        WORKERS="${TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}"
        if [ "$WORKERS" -gt 4 ]; then WORKERS=4; fi
        if [ "$WORKERS" -le 1 ]; then WORKERS=0; fi
        # the run's temporary files (pytest's folders, exports, virtual environments: gigabytes) in a folder of its
        # own, removed when every test passed (and on CI, or when the run is terminated), kept for a look when one
        # failed
        RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/compactbert-test-run.XXXXXX")"
        trap 'rm -rf "$RUN_TMP"; exit 143' TERM
        STATUS=0
        TMPDIR="$RUN_TMP" "$PY" -m pytest -n "$WORKERS" --dist worksteal "$@" || STATUS=$?
        if [ "$STATUS" = 0 ] || [ -n "${CI:-}" ]; then
            rm -rf "$RUN_TMP"
        else
            echo "==> the run's temporary files are kept in $RUN_TMP (remove it when done)" >&2
        fi
        exit "$STATUS"
        ;;
esac
