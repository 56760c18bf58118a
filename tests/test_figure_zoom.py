"""On a phone a figure fits the column, and a "Full size" box shows it readable, scrolling.

Drawn in Chromium from the site's own stylesheet (docs/stylesheets/extra.css) and a figure
of bertsteps.plotting, without building the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import bertsteps
from bertsteps import plotting

ROOT = Path(__file__).resolve().parents[1]


def heatmap() -> bertsteps.Figure:
    words = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]
    values = [[1.0 if i == j else 0.3 for j in range(8)] for i in range(8)]
    return bertsteps.plot_matrix(
        values, labels=words, alt="A heatmap of eight words"
    )


def test_a_wide_figure_offers_full_size_and_a_small_one_does_not() -> None:
    wide = heatmap().to_html()
    natural = float(re.search(r'<svg [^>]*width="(\d+)"', wide).group(1))
    assert natural > plotting.PHONE_COLUMN_PX
    assert f"--natural-width:{natural:.0f}px" in wide
    assert wide.count('class="bertsteps-zoom"') == 1
    small = plotting.figure(alt="small", figsize=(3, 2))
    small.add_subplot().plot([0, 1], [0, 1])
    assert "bertsteps-zoom" not in small.to_html()


@pytest.mark.slow
def test_full_size_on_a_phone_makes_the_text_readable(browser: object) -> None:
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text()
    page = browser.new_page(viewport={"width": 390, "height": 800})  # type: ignore[attr-defined]
    page.set_content(
        f"<style>body{{margin:16px}} {css}</style>"
        f'<article class="md-typeset">{heatmap().to_html()}</article>'
    )
    svg = page.locator("figure.bertsteps-figure svg")
    fitted = svg.bounding_box()
    assert fitted is not None and fitted["width"] <= 390 - 32 + 1, fitted

    def smallest_text_px() -> float:
        return float(
            page.evaluate(
                """() => Math.min(...[...document.querySelectorAll('figure svg text')]
                    .map(t => t.getBoundingClientRect().height).filter(h => h > 0))"""
            )
        )

    shrunk = smallest_text_px()
    page.get_by_label("Full size").check()
    full = svg.bounding_box()
    natural = float(svg.get_attribute("width"))
    assert full is not None and abs(full["width"] - natural) < 1, (
        full,
        natural,
    )
    assert shrunk < 10  # the reason for the box: fitted, the labels are small
    assert (
        smallest_text_px() >= 10
    )  # at full size every label is 10 px or more
    overflow = page.evaluate(
        "() => { const f = document.querySelector('figure'); return f.scrollWidth - f.clientWidth; }"
    )
    assert overflow > 0  # the figure scrolls inside its box, not the page
    assert (
        page.evaluate(
            "() => document.documentElement.scrollWidth - innerWidth"
        )
        <= 1
    )
    page.close()


def test_a_dense_line_is_drawn_without_a_marker_per_point() -> None:
    def marker(n: int) -> str:
        fig = bertsteps.plot_lines(
            list(range(n)), {"y": [float(i % 7) for i in range(n)]}, alt="a"
        )
        return str(fig.axes[0].lines[0].get_marker())

    limit = plotting.MARKED_POINTS
    assert marker(limit) == "o"
    assert marker(limit + 1) in {"", "None"}


def test_scatter_labels_do_not_overlap() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rng = np.random.default_rng(1)
    names = ["one", "two", "three", "four", "five", "grape", "orange", "apple"]
    points = rng.normal(size=(len(names), 2)) * 0.05  # crowded on purpose
    fig = bertsteps.plot_scatter(points, names, alt="crowded")
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in fig.axes[0].texts]
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(names)
    overlapping = [
        (names[i], names[j])
        for i in range(len(boxes))
        for j in range(i)
        if boxes[i].overlaps(boxes[j])
    ]
    assert overlapping == []


def test_compact_svg_keeps_the_drawing() -> None:
    """The compacted SVG has the same elements, text and attributes that draw (bare
    groups flattened, unreferenced ids dropped, shared styles as classes)."""
    import xml.etree.ElementTree as ET

    fig = heatmap()
    with plotting.matplotlib.rc_context(plotting.STYLE):
        import io

        raw = io.StringIO()
        fig.savefig(raw, format="svg", bbox_inches="tight")
    ns = "{http://www.w3.org/2000/svg}"

    def drawn(svg: str) -> list[tuple[str, str]]:
        root = ET.fromstring(svg[svg.index("<svg") :])
        return [
            (el.tag.removeprefix(ns), (el.text or "").strip())
            for el in root.iter()
            if el.tag.removeprefix(ns) in {"text", "path", "use", "image"}
        ]

    before, after = drawn(raw.getvalue()), drawn(fig.to_svg())
    assert len(before) > 100
    assert after == before
    compact = fig.to_svg()
    assert len(compact) < 0.6 * len(raw.getvalue())
    assert "<g>" not in compact and "<g/>" not in compact
    assert 'id="figure_1"' not in compact
