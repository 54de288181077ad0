"""The figures that README.md and the guides in docs/ quote, held to the committed result files under docs/results/.

    python scripts/doc_figures.py           # check every page; exit 1 and list the problems
    python scripts/doc_figures.py --write   # rewrite the generated tables, then check

A page quotes a measured figure in one of three ways, and this check (run by tests/docs/test_doc_figures.py) holds
each to its source:

- a **generated table**, between `<!-- figures: NAME -->` and `<!-- /figures -->`: written by `doc_tables.TABLES[NAME]`
  from the result file it cites, with a first line naming the machine it was measured on; `--write` regenerates
  it, the check fails when the page's copy differs;
- a **claim** in a sentence: `doc_claims.CLAIMS` (and `doc_claims_speed.SPEED_CLAIMS`, `doc_claims_demo.DEMO_CLAIMS`) hold, per page, the text the page must contain, rendered from the
  result file (so a wrong or stale figure fails), and the page's section must name the machine kind the file
  records (its CPU's bf16 units: AVX512-BF16 or AMX, AVX2 for none, or what the file records instead);
- a figure no committed file backs has, in the same sentence, the visible marker `[no result file` (with the
  reason after a colon).

"Measured figure" means, in a page's prose (outside code, links and generated tables): a number with a unit
(%, x, ms, s, min, h, GiB, MiB, M, B, k, GFLOP/s, points, seconds, minutes, hours) or with a decimal point. Every one
must be inside a claim, a finding, a generated table or a sentence with the marker, or be listed in
`doc_findings.NOT_MEASURED` (settings, targets, the papers' figures) or `doc_findings.CODE_FIGURES` (outputs of the code
or the data, which the tests compute). Counts (221 articles, 3,495 steps) are not measurements.
"""

from __future__ import annotations

import argparse
import re
import sys

from doc_claims import CLAIMS as PAGE_CLAIMS
from doc_claims_demo import DEMO_CLAIMS
from doc_claims_speed import SPEED_CLAIMS
from doc_findings import CODE_FIGURES, FINDINGS, NOT_MEASURED
from doc_results import ROOT
from doc_tables import TABLES

CLAIMS = PAGE_CLAIMS + SPEED_CLAIMS + DEMO_CLAIMS

MARKER = "[no result file"
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


# ------------------------------------------------------------------------------------------------------ checking

_FENCE = re.compile(r"^```.*?^```[^\n]*$", re.S | re.M)
_GENERATED = re.compile(r"<!-- figures: ([\w-]+) -->\n(.*?)<!-- /figures -->", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_UNIT = (
    r"(?:%|x\b|\s?ms\b|\s?s\b|\s?min\b|\s?h\b|\s?GiB\b|\s?MiB\b|M\b|B\b|k\b|\s?GFLOP/s|\s?points?\b"
    r"|\s(?:seconds?|minutes?|hours?)\b)"
)
FIGURE = re.compile(rf"(?<![\w.\-/:])[-+]?\d[\d,]*(?:(?:\.\d+)(?![.\d])(?:{_UNIT})?|{_UNIT})")


def _blank(match: re.Match) -> str:
    """The match replaced by spaces (newlines kept), so offsets stay those of the page."""
    return re.sub(r"[^\n]", " ", match.group(0))


def prose(text: str) -> str:
    """The page with code, comments, link targets, images and generated tables blanked out."""
    for pattern in (_GENERATED, _FENCE, _COMMENT, _IMAGE, _CODE_SPAN, _LINK_TARGET):
        text = pattern.sub(_blank, text)
    return text


_SENTENCE_BREAK = re.compile(r"\.\s+(?=[A-Z*(`\[])|\n\s*\n|\n\s*[-|] |\n\d+\. ")


def sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end]: from the last break before it (a full stop before a space and a
    capital, a blank line, a new list item or table row) to the next one."""
    before = [m.end() for m in _SENTENCE_BREAK.finditer(text, 0, start)]
    after = _SENTENCE_BREAK.search(text, end)
    return text[before[-1] if before else 0 : after.start() if after else len(text)]


def _sections(text: str) -> list[tuple[int, int]]:
    starts = [m.start() for m in re.finditer(r"^#+ ", text, re.M)] + [len(text)]
    return list(zip([0, *starts[:-1]], starts, strict=True))


def section_of(text: str, offset: int) -> str:
    """The text of the section (heading to heading; headings found outside code) that holds `offset`."""
    for start, end in _sections(prose(text)):
        if start <= offset < end:
            return text[start:end]
    return text


def find(text: str, expected: str) -> tuple[int, int] | None:
    """Where `expected` is in `text`, any run of whitespace matching any other (pages wrap their lines)."""
    words = expected.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    return match.span() if match else None


def generated_blocks(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _GENERATED.finditer(text)}


def render(text: str, page: str) -> str:
    """The page with every generated table rewritten from its result file."""

    def block(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES:
            raise KeyError(f"{page}: unknown generated table '{name}'; known: {', '.join(sorted(TABLES))}")
        return f"<!-- figures: {name} -->\n" + "\n".join(TABLES[name](page)) + "\n<!-- /figures -->"

    return _GENERATED.sub(block, text)


def check_page(page: str, text: str) -> list[str]:
    """Every problem with the figures of one page, as messages that say what to change."""
    problems = []
    if render(text, page) != text:
        problems.append(
            f"{page}: a generated table differs from its result file; run python scripts/doc_figures.py --write"
        )
    covered: list[tuple[int, int]] = []
    for claim in (c for c in CLAIMS if c.page == page):
        expected = claim.text()
        span = find(text, expected)
        if span is None:
            problems.append(f"{page}: should contain (from {claim.source.path}):\n    {expected!r}")
            continue
        covered.append(span)
        if claim.source.kind not in section_of(text, span[0]):
            problems.append(
                f"{page}: the section quoting {expected[:50]!r} does not name the machine it was measured on "
                f"({claim.source.kind!r}, from {claim.source.path})"
            )
    for finding_page, words, holds in FINDINGS:
        if finding_page == page:
            if find(text, words) is None:
                problems.append(
                    f"{page}: the checked statement {words!r} is gone; update FINDINGS in scripts/doc_findings.py"
                )
            elif not holds():
                problems.append(f"{page}: {words!r} is not what the result file says")
    for finding_page, words, _ in FINDINGS:
        span = find(text, words) if finding_page == page else None
        if span is not None:
            covered.append(span)
    exempt = NOT_MEASURED.get(page, []) + [snippet for _, snippet in CODE_FIGURES.get(page, [])]
    for snippet in exempt:
        span = find(text, snippet)
        if span is None:
            problems.append(f"{page}: NOT_MEASURED or CODE_FIGURES lists {snippet!r}, which the page no longer has")
        else:
            covered.append(span)
    visible = prose(text)
    for match in FIGURE.finditer(visible):
        start, end = match.span()
        if any(a <= start and end <= b for a, b in covered):
            continue
        if MARKER in sentence(visible, start, end):
            continue
        line = text.count("\n", 0, start) + 1
        problems.append(
            f"{page}:{line}: the figure {match.group(0).strip()!r} has no source: quote it through a claim "
            "(scripts/doc_claims.py) or a generated table (scripts/doc_tables.py), list it in NOT_MEASURED or "
            "CODE_FIGURES (scripts/doc_findings.py: "
            f"a setting, target or paper figure; an output of the code), or mark it '{MARKER}: why]'"
        )
    return problems


def check(pages: list[str] = PAGES) -> list[str]:
    problems = []
    for page in pages:
        problems += check_page(page, (ROOT / page).read_text(encoding="utf-8"))
    known = set(pages)
    problems += [f"CLAIMS names {c.page}, which is not a page" for c in CLAIMS if c.page not in known]
    return problems


def write(pages: list[str] = PAGES) -> list[str]:
    """Regenerate every generated table; returns the pages that changed."""
    changed = []
    for page in pages:
        path = ROOT / page
        text = path.read_text(encoding="utf-8")
        new = render(text, page)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated tables first")
    args = parser.parse_args(argv)
    if args.write:
        for page in write():
            print(f"rewrote {page}")
    problems = check()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {len(PAGES)} page(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
