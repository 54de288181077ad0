"""The README and the guides in docs/ as the documentation tests read them: code blocks, their markers, links.

A block's marker is the HTML comment on the line right before its opening fence (see docs/development.md):
`<!-- doc-test: run -->`, `<!-- doc-test: skip: REASON -->`, `<!-- doc-test: output -->` or
`<!-- doc-test: prefix of docs/PAGE.md -->`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

_BLOCK = re.compile(
    r"(?:^<!-- doc-test: (?P<marker>[^\n]*?) -->\n)?^```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.S | re.M
)
_EXPECTED = re.compile(r"^(?P<statement>\s*print\(.*\))\s*#\s*->\s(?P<expected>.*?)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: str  # path from the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None  # the doc-test marker's text ("run", "skip: why", "output", "prefix of docs/x.md") or None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        """Whether the tests run it: Python unless marked otherwise, shell commands only when marked `run`."""
        if self.lang == "python":
            return self.marker is None
        return self.lang == "bash" and self.marker == "run"

    @property
    def prefix_of(self) -> str | None:
        return self.marker[len("prefix of ") :] if self.marker and self.marker.startswith("prefix of ") else None

    def expected_prints(self) -> dict[int, str]:
        """Line number in the block (1-based) -> the text a `print(...)  # -> TEXT` line must print."""
        out = {}
        for number, line in enumerate(self.code.splitlines(), start=1):
            match = _EXPECTED.match(line)
            if match:
                out[number] = match.group("expected")
        return out

    def commands(self) -> list[str]:
        """The shell commands of a bash block, backslash continuations joined."""
        joined = re.sub(r"\\\n\s*", " ", self.code)
        return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def read(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def blocks(page: str) -> list[Block]:
    text = read(page)
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(Block(page, line, match.group("lang"), match.group("code"), match.group("marker")))
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def output_of(block: Block) -> Block | None:
    """The run block whose output an `output` block shows: the block right before it on its page."""
    page_blocks = blocks(block.page)
    index = page_blocks.index(block)
    return page_blocks[index - 1] if index > 0 else None


def matches(expected: str, printed: str) -> bool:
    """Whether `printed` is `expected`, where `...` in `expected` stands for any text."""
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, printed, flags=re.S) is not None


def shown_in_order(shown: list[str], output: list[str]) -> str | None:
    """None when every shown line is a line of `output`, in order (trailing spaces aside); else the first missing."""
    lines = iter(line.rstrip() for line in output)
    for want in (line.rstrip() for line in shown if line.strip()):
        if not any(matches(want, got) for got in lines):
            return want
    return None


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: str) -> set[str]:
    text = _FENCE.sub("", read(page))
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.M)}


_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links(page: str) -> list[str]:
    """The relative link targets of a page's prose (not code)."""
    text = _FENCE.sub("", read(page))
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z]+:", t)]
