"""The README is the front door and docs/ holds the rest: every relative link among them must lead somewhere.

A link is `[text](target)` or `![alt](target)` outside code. A target that is not a URL must name a file
that exists (relative to the page), and a `#anchor` must name a heading of that file, slugged as GitHub
does. The README stays short enough to read in five minutes: at most 200 lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_bench_smoke import ROOT

PAGES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def prose(text: str) -> str:
    """The text with fenced code blocks and inline code removed (links there are examples, not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            problems.append(f"{target}: no such file {destination}")
        elif anchor and destination.is_file() and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{target}: {destination.name} has no heading with anchor #{anchor}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_the_readme_is_at_most_200_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_a_missing_file_and_a_missing_heading_are_both_caught(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## Which CuPy for which card\n\n## Notes\n\n## Notes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md) [ok](other.md#which-cupy-for-which-card) [ok](other.md#notes-1) [self](#top)\n"
        "[gone](missing.md) ![img](pics/none.png) [bad anchor](other.md#no-such-heading)\n"
        "[web](https://example.com/x.md) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n# Top\n")
    problems = broken_links(page)
    assert [p.split(":")[0] for p in problems] == ["missing.md", "pics/none.png", "other.md#no-such-heading"]


def test_slugs_follow_github():
    assert slug("Split's memory against the size of train.csv") == "splits-memory-against-the-size-of-traincsv"
    assert slug("The space: `tune.yaml`, or `--space FILE`") == "the-space-tuneyaml-or---space-file"
    assert slug("Why not `kagglehub`?") == "why-not-kagglehub"
