"""Sybil must collect every Python code fence in docs/ and README.md.

Sybil silently skips a fence it does not recognise (```` ```py ````, or one with attributes
such as ```` ```python title="x.py" ````): such a block would never be tested. So the
fences are counted here independently and compared with what Sybil collected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import conftest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
PYTHON_FENCE = re.compile(
    r"^ {0,4}(`{3,}|~{3,})\s*\{?\.?(python|py|pycon|python3)\b",
    re.MULTILINE | re.IGNORECASE,
)


def fence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every Python fence: from its opening line to its closing fence."""
    spans = []
    for match in PYTHON_FENCE.finditer(text):
        close = re.compile(
            rf"^ {{0,4}}{re.escape(match.group(1))}\s*$", re.MULTILINE
        ).search(text, match.end())
        spans.append((match.start(), close.end() if close else len(text)))
    return spans


def collected_fences(page: Path, sybil: object) -> int:
    """How many fences hold at least one example Sybil collected (a doctest block gives several)."""
    starts = [example.region.start for example in sybil.parse(page)]  # type: ignore[attr-defined]
    return sum(
        any(a <= s < b for s in starts)
        for a, b in fence_spans(page.read_text())
    )


def sybil_for(page: Path) -> object:
    return (
        conftest.readme
        if page.name == "README.md" and page.parent == ROOT
        else conftest.docs
    )


@pytest.mark.parametrize(
    "page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES]
)
def test_sybil_collects_every_python_fence(page: Path) -> None:
    fences = len(fence_spans(page.read_text()))
    collected = collected_fences(page, sybil_for(page))
    assert collected == fences, (
        f"{page.name}: {fences} Python fences, Sybil collected {collected}"
    )


def test_the_fence_counter_sees_fences_sybil_would_skip(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '```python\n1 + 1\n```\n\n```python title="x.py"\n2 + 2\n```\n\n```py\n3\n```\n'
    )
    assert len(fence_spans(page.read_text())) == 3
    assert collected_fences(page, conftest.docs) == 1


def test_docs_have_python_blocks() -> None:
    assert sum(len(fence_spans(p.read_text())) for p in PAGES) >= 10
