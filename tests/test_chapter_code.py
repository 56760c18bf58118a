"""Every line of code a reader sees in a chapter fits the code column at 1280 px.

PEP 8's 79 characters, the line length ruff formats the chapters to (pyproject.toml):
at the notebook code size, a line of 79 characters fits a chapter's code column on a
1280 px screen (tests/test_site.py measures the built pages), so no code cell scrolls
sideways there. Cells tagged ``hide-input`` show only their output.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "examples").glob("*.py"))
LIMIT = 79


def test_the_limit_is_ruffs_line_length() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["ruff"]["line-length"] == LIMIT


def visible_code(path: Path) -> list[str]:
    notebook = jupytext.read(path)
    return [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        and "hide-input" not in cell.metadata.get("tags", [])
        for line in cell.source.splitlines()
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_visible_code_line_is_longer_than_the_column(path: Path) -> None:
    lines = visible_code(path)
    assert len(lines) > 20, f"{path.name}: {len(lines)} visible code lines"
    long = [line for line in lines if len(line) > LIMIT]
    assert long == [], f"{path.name}: lines over {LIMIT} characters: {long}"
