"""Every example the README and the guides in docs/ run, runs, and prints what the page shows.

Python blocks run as scripts; a `print(...)  # -> TEXT` line must print TEXT. Shell blocks marked `run` run command
by command; a following `output` block's lines must be in their output, in order. These are the slow documentation
tests (real MiniLM weights, quick training runs): each block is one test, in a fresh folder with `configs/` and `space/`.

Two pages may start from the same quick runs (demo.md shows the demo on the models distillation.md's example
trains, with the same commands). Those leading commands run once per test session: the first block to reach them
runs them and keeps what they wrote and printed; a later block starts from a copy of that folder and output, as if
it had run them itself (it would have run the same commands in the same fresh folder), then runs its own.
"""

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from doc_pages import ROOT, all_blocks, matches, output_of, shown_in_order

pytestmark = pytest.mark.slow

BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python" and b.runs]
COMMANDS = [b for b in BLOCKS if b.lang == "bash" and b.runs]
RUNNER = Path(__file__).with_name("run_example.py")


def shared_start(block) -> list[str]:
    """The longest run of leading commands `block` shares with another run block (none: `[]`)."""
    longest: list[str] = []
    for other in COMMANDS:
        if other is block:
            continue
        common = 0
        for mine, theirs in zip(block.commands(), other.commands(), strict=False):
            if mine != theirs:
                break
            common += 1
        longest = max(longest, block.commands()[:common], key=len)
    return longest


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory, worker_id) -> Iterator[Path]:
    """A folder every worker of this session sees (with xdist, beside the workers' own temporary folders); the
    kept runs go when the worker ends (hundreds of MB: a worker still to come to them runs them again)."""
    base = tmp_path_factory.getbasetemp()
    root = base if worker_id == "master" else base.parent
    yield root
    for kept in root.glob("doc-start-*.lock"):
        with FileLock(kept):
            shutil.rmtree(kept.with_suffix(""), ignore_errors=True)


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
def test_command_example_runs_and_prints_what_the_page_shows(block, tmp_path, shared_runs):
    for folder in ("configs", "space"):  # examples name recipes and the Space folder by relative path
        shutil.copytree(ROOT / folder, tmp_path / folder)
    bin_dir = Path(sys.executable).parent

    def run_commands(commands: list[str]) -> list[str]:
        printed = []
        for command in commands:
            words = shlex.split(command, comments=True)
            assert words[0] == "compactbert", f"{block.where}: only compactbert commands run here, got: {command}"
            done = run([str(bin_dir / "compactbert"), *words[1:]], tmp_path)
            assert done.returncode == 0, f"{block.where}: {command}\n{done.stdout}\n{done.stderr}"
            printed += done.stdout.splitlines()
        return printed

    start = shared_start(block)
    stdout = []
    if start:
        key = hashlib.sha256("\n".join(start).encode()).hexdigest()[:16]
        kept = shared_runs / f"doc-start-{key}"
        with FileLock(f"{kept}.lock"):
            if (kept / "printed.json").is_file():  # another block ran these commands: start from what they left
                shutil.copytree(kept / "folder", tmp_path, dirs_exist_ok=True)
                stdout = json.loads((kept / "printed.json").read_text())
            else:
                stdout = run_commands(start)
                shutil.copytree(tmp_path, kept / "folder", ignore=shutil.ignore_patterns(".tmp"))
                (kept / "printed.json").write_text(json.dumps(stdout))
    stdout += run_commands(block.commands()[len(start) :])
    for shown in (b for b in BLOCKS if b.marker == "output" and output_of(b) == block):
        missing = shown_in_order(shown.code.splitlines(), stdout)
        assert missing is None, f"{shown.where} shows {missing!r}, which the commands did not print:\n" + "\n".join(
            stdout
        )
