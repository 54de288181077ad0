"""The README is a front door and the guides in docs/ hold together: every code block says whether the tests run it,
README examples are the start of tested ones, output blocks follow a run block, and every link resolves."""

import ast
import re

import pytest

from doc_pages import PAGES, ROOT, all_blocks, anchors, blocks, links, output_of, read

BLOCKS = all_blocks()


def test_the_readme_is_a_short_front_door():
    readme = read("README.md")
    assert len(readme.splitlines()) < 300
    for command in ("bash scripts/quickstart.sh ", "bash scripts/quickstart.sh test "):
        assert any(line.startswith(command) for line in readme.splitlines()), f"the README lost {command.strip()!r}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/quickstart.sh test" in ci  # the README's test command is what CI runs


def test_every_guide_is_linked_from_the_readme():
    linked = {target.split("#")[0] for target in links("README.md")}
    assert {page[len("docs/") :] for page in PAGES if page.startswith("docs/")} <= {
        t[len("docs/") :] for t in linked if t.startswith("docs/")
    }


def test_there_are_examples_of_each_kind():
    assert sum(b.lang == "python" and b.runs for b in BLOCKS) >= 10
    assert sum(b.lang == "bash" and b.runs for b in BLOCKS) >= 7
    assert sum(b.marker == "output" for b in BLOCKS) >= 4
    assert sum(b.prefix_of is not None for b in BLOCKS) == 4  # one example per family in the README


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_every_block_says_whether_it_runs(block):
    marker = block.marker
    if marker is not None and marker.startswith("skip"):
        assert re.fullmatch(r"skip: \S.{10,}", marker), f"{block.where}: a skipped block says why: 'skip: REASON'"
        assert block.lang in ("bash", "python"), f"{block.where}: only bash and python blocks are skipped"
    elif block.lang == "bash":
        assert marker == "run" or marker.startswith("prefix of "), (
            f"{block.where}: a bash block needs <!-- doc-test: run --> or <!-- doc-test: skip: REASON --> before it"
        )
    elif block.lang == "python":
        assert marker is None or block.prefix_of, f"{block.where}: unknown marker {marker!r} on a Python block"
    else:
        assert marker in (None, "output"), f"{block.where}: unknown marker {marker!r} on a {block.lang} block"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "bash" and b.runs], ids=lambda b: b.where)
def test_run_blocks_are_compactbert_commands(block):
    assert block.commands(), f"{block.where}: an empty run block"
    for command in block.commands():
        assert command.startswith("compactbert "), f"{block.where}: only compactbert commands are run: {command}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "output"], ids=lambda b: b.where)
def test_output_blocks_follow_a_block_that_runs(block):
    before = output_of(block)
    assert before is not None and before.lang == "bash" and before.runs, (
        f"{block.where}: an output block must come right after a <!-- doc-test: run --> bash block"
    )


def _imported_names(line: str) -> set[str] | None:
    """The names a one-line import statement binds; None when the line is not one."""
    try:
        statements = ast.parse(line).body
    except SyntaxError:
        return None
    if len(statements) != 1 or not isinstance(statements[0], ast.Import | ast.ImportFrom):
        return None
    return {(alias.asname or alias.name).split(".")[0] for alias in statements[0].names}


def _less_imports_it_leaves_out(tested: list[str], shown: list[str]) -> list[str]:
    """The tested example's lines less the import lines that the README leaves out and whose names it never uses."""
    words = set(re.findall(r"\w+", "\n".join(shown)))

    def left_out(line: str) -> bool:
        names = _imported_names(line)
        return line not in shown and names is not None and names.isdisjoint(words)

    return [line for line in tested if not left_out(line)]


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.prefix_of], ids=lambda b: b.where)
def test_readme_examples_are_the_start_of_tested_ones(block):
    """Line for line, but for imports that the tested example needs later and the README's start does not."""
    assert block.prefix_of in PAGES, f"{block.where}: {block.prefix_of} is not a page"
    compile(block.code, block.where, "exec")  # a prefix that ends mid-statement would not run on its own
    lines = block.code.rstrip("\n").splitlines()
    tested = [b for b in blocks(block.prefix_of) if b.lang == block.lang and b.runs]
    if block.lang == "python":
        starts = [_less_imports_it_leaves_out(b.code.splitlines(), lines)[: len(lines)] for b in tested]
    else:
        starts = [b.code.splitlines()[: len(lines)] for b in tested]
    assert lines in starts, (
        f"{block.where} is not, line for line, the start of a tested {block.lang} example in {block.prefix_of}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_links_resolve(page):
    folder = (ROOT / page).parent
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (folder / path).resolve() if path else ROOT / page
        relative = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
        assert file.exists(), f"{page}: the link {target!r} points at {relative}, which does not exist"
        if anchor:
            assert file.suffix == ".md", f"{page}: {target!r} has an anchor into a file that is not a page"
            assert anchor in anchors(relative), f"{page}: {relative} has no heading for #{anchor}"
