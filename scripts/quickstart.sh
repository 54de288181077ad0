#!/usr/bin/env bash
# Set up a virtual environment in .venv and run compactbert's main job or its tests.
#
#   bash scripts/quickstart.sh         # set up, then shrink the embedded MiniLM (6 -> 3 layers) and describe it
#   bash scripts/quickstart.sh test    # set up, then run the test suite
#
# torch is installed first and pinned (TORCH_SPEC, default torch==2.13.0): an unpinned torch would pull the CUDA
# build. A torch already in .venv is kept. Everything else comes from pyproject.toml.
set -euo pipefail

cd "$(dirname "$0")/.."
MODE="${1:-main}"
VENV="${VENV:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "==> installing $TORCH_SPEC (first, so nothing pulls an unpinned torch)"
    "$PY" -m pip install --quiet "$TORCH_SPEC"
fi
echo "==> installing compactbert and its dependencies"
"$PY" -m pip install --quiet -e ".[dev]"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TOKENIZERS_PARALLELISM=false

case "$MODE" in
    main)
        "$VENV/bin/compactbert" shrink minilm --strategy top --drop 3 --output out/minilm-top3 --overwrite
        "$VENV/bin/compactbert" info out/minilm-top3
        ;;
    test)
        shift || true
        "$PY" -m pytest "$@"
        ;;
    *)
        echo "usage: bash scripts/quickstart.sh [main|test [pytest args...]]" >&2
        exit 2
        ;;
esac
