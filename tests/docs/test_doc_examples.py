"""Every example the README and the guides in docs/ run, runs, and prints what the page shows.

Python blocks run as scripts; a `print(...)  # -> TEXT` line must print TEXT. Shell blocks marked `run` run command
by command; a following `output` block's lines must be in their output, in order. These are the slow documentation
tests (real MiniLM weights, quick training runs): each block is one test, in a fresh folder with `configs/` and `space/`.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from doc_pages import ROOT, all_blocks, matches, output_of, shown_in_order

pytestmark = pytest.mark.slow

BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python" and b.runs]
COMMANDS = [b for b in BLOCKS if b.lang == "bash" and b.runs]
RUNNER = Path(__file__).with_name("run_example.py")


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`command` in `cwd`, offline; what it puts in the temporary folder (an example's `tempfile.mkdtemp()`, a
    library's scratch) lands under `cwd`, which pytest removes, not in the machine's /tmp."""
    scratch = cwd / ".tmp"
    scratch.mkdir(exist_ok=True)
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore", "TOKENIZERS_PARALLELISM": "false"}
    env |= {"TMPDIR": str(scratch)}
    # the on-the-fly exports and the demo's zoos in `cwd` too: an example that lists, prunes or clears the caches
    # (`compactbert cache`) sees its own, never the suite's or this machine's
    env |= {"COMPACTBERT_CACHE": str(cwd / ".cache"), "COMPACTBERT_DEMO_CACHE": str(cwd / ".cache" / "demo")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.where)
def test_python_example_runs_and_prints_what_the_page_shows(block, tmp_path):
    script, record = tmp_path / "example.py", tmp_path / "printed.json"
    script.write_text(block.code, encoding="utf-8")
    done = run([sys.executable, str(RUNNER), str(script), str(record)], tmp_path)
    assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"
    printed = {int(line): texts for line, texts in json.loads(record.read_text()).items()}
    for line, expected in block.expected_prints().items():
        got = printed.get(line, [])
        assert len(got) == 1 and matches(expected, got[0]), (
            f"{block.where}, line {line} of the example: the page shows {expected!r}, it printed {got}"
        )


@pytest.mark.parametrize("block", COMMANDS, ids=lambda b: b.where)
def test_command_example_runs_and_prints_what_the_page_shows(block, tmp_path):
    for folder in ("configs", "space"):  # examples name recipes and the Space folder by relative path
        shutil.copytree(ROOT / folder, tmp_path / folder)
    bin_dir = Path(sys.executable).parent
    stdout = []
    for command in block.commands():
        words = shlex.split(command, comments=True)
        assert words[0] == "compactbert", f"{block.where}: only compactbert commands run here, got: {command}"
        done = run([str(bin_dir / "compactbert"), *words[1:]], tmp_path)
        assert done.returncode == 0, f"{block.where}: {command}\n{done.stdout}\n{done.stderr}"
        stdout += done.stdout.splitlines()
    for shown in (b for b in BLOCKS if b.marker == "output" and output_of(b) == block):
        missing = shown_in_order(shown.code.splitlines(), stdout)
        assert missing is None, f"{shown.where} shows {missing!r}, which the commands did not print:\n" + "\n".join(
            stdout
        )
