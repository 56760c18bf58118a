"""Every page of the built site, as axe-core sees it, light and dark; and what each page loads.

axe-core comes from npm into ``.cache/node`` (``benchmarks/pages.py`` installs it with
``npm install --prefix``); without npm the test fails and names the install step. The
`site`, `server` and `browser` fixtures (one build per session) are in conftest.py.
Lighthouse is not run here: ``benchmarks/pages.py`` does, for ``make bench``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.pages import (
    SCHEMES,
    WIDTHS,
    axe_page,
    axe_source,
    pages_of,
    serious,
)

pytestmark = pytest.mark.slow

CHAPTERS_WITH_MATH = [  # TeX in their Markdown cells, typeset as MathML at build
    "examples/word_embeddings/",
    "examples/embedding_layer/",
    "examples/self_attention/",
    "examples/feed_forward/",
]


@pytest.fixture(scope="module")
def axe() -> str:
    try:
        return axe_source()
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def paths(site: Path) -> list[str]:
    found = pages_of(site)
    # the list is the site's pages, not an empty or partial one
    assert {"", "explorer/", "reference/", "examples/word_embeddings/"} <= set(
        found
    ), found
    assert sum(p.startswith("examples/") for p in found) >= 8, found
    return found


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_or_critical_axe_violation(
    browser: object,
    server: str,
    paths: list[str],
    axe: str,
    scheme: str,
    width: int,
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme
    )  # type: ignore[attr-defined]
    page = context.new_page()
    problems = []
    checked = 0
    for path in paths:
        # the scheme really is the one asked for (Material follows prefers-color-scheme)
        found = serious(axe_page(page, server + path, axe))
        shown = page.evaluate(
            "() => document.body.getAttribute('data-md-color-scheme')"
        )
        assert shown == ("slate" if scheme == "dark" else "default"), (
            path,
            shown,
        )
        checked += 1
        problems += [
            f"/{path} {v['id']} ({v['impact']}, {v['nodes']} nodes): {v['help']} {v['targets']}"
            for v in found
        ]
    context.close()
    assert checked == len(paths)
    assert problems == [], "\n".join(problems)


def test_scrolling_blocks_take_the_keyboard(
    browser: object, server: str
) -> None:
    """On a phone, a chapter's code and outputs scroll sideways: each such block is focusable and named."""
    page = browser.new_page(viewport={"width": 390, "height": 900})  # type: ignore[attr-defined]
    page.goto(server + "examples/tokenization/", wait_until="load")
    blocks = page.evaluate(
        """() => [...document.querySelectorAll('article *')].filter(el => {
             const s = getComputedStyle(el);
             return /(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
           }).map(el => ({
             tag: el.tagName, cls: el.className, tabindex: el.getAttribute('tabindex'), name: el.getAttribute('aria-label'),
             // as axe counts it: the block or something inside it takes the focus
             reachable: el.tabIndex >= 0 || el.querySelector('[tabindex="0"], a[href], button, input') !== null,
           }))"""
    )
    assert sum(b["tag"] == "PRE" for b in blocks) >= 3, blocks
    for block in blocks:
        assert block["reachable"], block
        if block["tag"] == "PRE":
            assert block["tabindex"] == "0" and block["name"], block
    page.close()


def test_each_page_loads_only_what_it_uses(
    site: Path, paths: list[str]
) -> None:
    stylesheets = sorted(
        (site / "assets" / "stylesheets").glob("notebook.*.css")
    )
    assert len(stylesheets) == 1, stylesheets
    notebook_css = stylesheets[0]
    assert (
        5_000 < notebook_css.stat().st_size < 60_000
    )  # trimmed: JupyterLab's whole sheet is ~590 KB
    css = notebook_css.read_text()
    assert ".jp-OutputArea-output" in css and ".highlight-ipynb" in css
    assert (
        ".jp-Mermaid" not in css and ".jp-DirListing" not in css
    )  # rules no page can match
    for path in paths:
        html = (site / path / "index.html").read_text()
        links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        scripts = re.findall(r'<script src="([^"]+)"', html)
        chapter = path.startswith("examples/")
        assert any("notebook." in href for href in links) == chapter, (
            path,
            links,
        )
        assert (
            ".jupyter-wrapper{--md-red-50" not in html
            and "jp-Mermaid" not in html.split("<article")[0]
        ), path
        # the API reference is a section of pages (about 100 names among them): each page's
        # HTML plus Material's ~270 KiB of CSS/JS stays within 450 KiB transferred at load
        reference = path.startswith("reference/")
        assert len(html) < (
            400_000 if chapter else 150_000 if reference else 250_000
        ), (path, len(html))
        assert any(s.endswith("javascripts/explorer.js") for s in scripts) == (
            path == "explorer/"
        ), (path, scripts)
        assert any(
            href.endswith("stylesheets/explorer.css") for href in links
        ) == (path == "explorer/"), (path, links)
        api_page = path.startswith("reference/") and path != "reference/"
        assert (
            any(href.endswith("_mkdocstrings.css") for href in links)
            == api_page
        ), (path, links)
        # Material's bundle does not hold up the first paint
        assert re.search(
            r'<script src="[^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js" defer>',
            html,
        ), path
        # formulas are MathML typeset at build time: no page loads a math script
        assert not any("mathjax" in s.lower() for s in scripts), (
            path,
            scripts,
        )
        if path in CHAPTERS_WITH_MATH:
            assert "<math " in html, path
        text = re.sub(
            r"<(pre|code|math)\b.*?</\1>",
            "",
            html.split("<article")[1],
            flags=re.DOTALL,
        )  # no TeX left untypeset
        for tex in ("$$", "\\frac", "\\(", "\\mathbf"):
            assert tex not in text, (path, tex)
        for tag in re.findall(
            r'<script src="[^"]+javascripts/explorer\.js"[^>]*>', html
        ):
            assert " defer" in tag, (path, tag)


def test_math_typeset_after_instant_navigation(
    browser: object, server: str
) -> None:
    """From a page without math to one with it, by Material's instant navigation: the
    formulas arrive typeset (MathML in the page), and the browser lays them out."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server + "getting-started/", wait_until="networkidle")
    assert page.locator("math").count() == 0
    page.click("nav a[href$='examples/word_embeddings/']")
    page.wait_for_function(
        "() => location.pathname.endsWith('/examples/word_embeddings/')"
    )
    formula = page.locator("math[display=block]").first
    formula.wait_for(state="visible")
    box = formula.bounding_box()
    assert box is not None and box["height"] > 30, (
        box
    )  # a fraction: taller than a line (20 px)
    page.close()


def test_search_index_fetched_when_search_opens(
    browser: object, server: str
) -> None:
    """The search index is not part of every page's load; search works once opened."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server, wait_until="networkidle")
    page.wait_for_timeout(500)
    index = "() => performance.getEntriesByType('resource').filter(e => e.name.includes('search_index.json')).length"
    assert page.evaluate(index) == 0
    page.click(".md-search__input")  # in the header at this width
    page.fill(".md-search__input", "WordPiece")
    page.wait_for_function(
        "() => document.querySelectorAll('.md-search-result__item').length > 0",
        timeout=20_000,
    )
    assert page.evaluate(index) == 1
    titles = page.locator(".md-search-result__item").all_inner_texts()
    assert any("Tokenization" in t for t in titles), titles
    page.close()
