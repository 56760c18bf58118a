"""The chapter HTML made lighter at build time (hooks/pageassets.py), without changing
what a reader sees or copies."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
import pageassets

ROOT = Path(__file__).resolve().parents[1]

CELL = (
    '<div class="highlight-ipynb hl-python"><pre><span></span>'
    '<span class="n">bert</span><span class="w"> </span><span class="o">=</span>'
    '<span class="w"> </span><span class="n">bertsteps</span><span class="o">.</span>'
    '<span class="n">load</span><span class="p">()</span>\n</pre></div>\n'
    '<div class="clipboard-copy-txt" id="cell-7">bert = bertsteps.load()\n</div>'
)


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_names_and_spaces_lose_their_spans_and_keep_their_text() -> None:
    plain = pageassets.plain_names(CELL)
    assert 'class="n"' not in plain and 'class="w"' not in plain
    assert '<span class="o">=</span>' in plain  # coloured tokens keep theirs
    assert text(plain) == text(CELL)
    assert len(plain) < len(CELL) - 100


def test_the_name_colour_is_the_code_colour() -> None:
    """What makes dropping those spans invisible: both are drawn in the code's colour."""
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text()
    assert "--md-code-hl-name-color: var(--bertsteps-code-fg);" in css
    assert (
        "--jp-mirror-editor-variable-color: var(--bertsteps-code-fg);" in css
    )
    assert "--md-code-fg-color: var(--bertsteps-code-fg);" in css


def test_the_copy_button_copies_the_cells_own_pre() -> None:
    light = pageassets.lighter_copy_buttons(CELL)
    assert "clipboard-copy-txt" not in light
    assert '<pre id="cell-7">' in light
    assert text(light).strip() == "bert = bertsteps.load()"
