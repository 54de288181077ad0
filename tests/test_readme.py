"""Every Python example in the README runs, and every command block marked `<!-- readme-test -->` succeeds."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
COMMAND_BLOCKS = re.findall(r"<!-- readme-test -->\n```bash\n(.*?)```", TEXT, flags=re.S)

pytestmark = pytest.mark.slow


def run(command, cwd):
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_readme_has_examples():
    assert len(PYTHON_BLOCKS) >= 3 and len(COMMAND_BLOCKS) >= 1


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example_runs(index, tmp_path):
    script = tmp_path / f"example_{index}.py"
    script.write_text(PYTHON_BLOCKS[index])
    done = run([sys.executable, str(script)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("index", range(len(COMMAND_BLOCKS)))
def test_command_example_runs(index, tmp_path):
    bin_dir = Path(sys.executable).parent
    shutil.copytree(README.parent / "configs", tmp_path / "configs")  # examples name recipes by relative path
    for line in COMMAND_BLOCKS[index].strip().splitlines():
        words = shlex.split(line)
        assert words[0] == "compactbert", f"only compactbert commands are run here, got: {line}"
        done = run([str(bin_dir / "compactbert"), *words[1:]], tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
