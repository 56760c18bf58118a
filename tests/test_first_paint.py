"""Material's stylesheet split for the first paint (hooks/stylesheets.py, hooks/pageassets.py).

The first part must style every element of every page exactly as Material's whole
stylesheet does, and the page must look the same once the rest has arrived: the browser
tests compare the computed style of every element three ways.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
import stylesheets
from stylesheets import Names, selector_can_match, split_for_first_paint

MATERIAL_CSS = sorted(
    (
        Path(__import__("material").__file__).parent
        / "templates"
        / "assets"
        / "stylesheets"
    ).glob("main.*.min.css")
)


def test_a_selector_needs_every_name_it_names() -> None:
    names = Names.of_html(
        '<html dir="ltr"><body><nav class="md-nav" data-md-level="1">'
        '<input class="md-toggle" type="checkbox" id="__toc"><a href="#">x</a>'
        "</nav></body></html>"
    )
    assert selector_can_match(".md-nav a", names)
    assert selector_can_match("[dir=ltr] .md-nav", names)
    assert not selector_can_match("[dir=rtl] .md-nav", names)
    assert selector_can_match('.md-nav[data-md-level="1"]', names)
    assert not selector_can_match(".md-nav[data-md-level='2']", names)
    assert selector_can_match(
        ".md-nav[data-md-level^='2']", names
    )  # name only
    assert not selector_can_match(".md-nav[data-md-state]", names)
    assert not selector_can_match(".md-nav kbd", names)  # no <kbd> anywhere
    assert not selector_can_match("#__search", names)
    # states, pseudo-elements and the insides of :not()/:is() need nothing
    assert selector_can_match(
        ".md-toggle:checked~a:hover::after:not(.md-gone)", names
    )
    assert selector_can_match(":is(.md-gone, kbd) a", names)
    assert not selector_can_match(".md-gone:hover", names)


def test_what_materials_script_adds_counts_as_present() -> None:
    page = Names.of_html('<div class="md-header"></div>')
    script = stylesheets.material_script_names(
        'a.classList.add("md-header--shadow");b.setAttribute("data-md-state",1);'
        'c="md-tag--"+t;d("md-search-result__item");e("md-dialog--active")'
    )
    both = stylesheets.with_script_names(page, script)
    assert selector_can_match(".md-header--shadow", both)
    assert selector_can_match("[data-md-state=blur] .md-header", both)
    assert selector_can_match(".md-tag--python", both)
    # drawn only when the reader searches or copies: after load is soon enough
    assert not selector_can_match(".md-search-result__item", both)
    assert not selector_can_match(".md-dialog--active", both)
    assert not selector_can_match(".md-header--shadow", page)


def test_the_two_parts_hold_every_rule_once_in_order() -> None:
    assert MATERIAL_CSS, (
        "mkdocs-material is not installed: pip install -e '.[docs]'"
    )
    css = MATERIAL_CSS[0].read_text()
    page = (
        '<html class="no-js" dir="ltr"><body dir="ltr"><header class="md-header">'
        '<div class="md-typeset"><h1>t</h1><p>x <code>y</code></p></div></body></html>'
    )
    first, rest = split_for_first_paint(css, Names.of_html(page))

    def flat(text: str) -> list[tuple[str, str, str]]:
        out = []
        for prelude, body in stylesheets.parse_css(text):
            for inner, rule in (
                [(p, b) for p, b in body]
                if isinstance(body, list)
                else [(prelude, body)]
            ):
                out.append(
                    (prelude if isinstance(body, list) else "", inner, rule)
                )
        return out

    whole, a, b = flat(css), flat(first), flat(rest)
    assert len(a) + len(b) == len(whole)
    assert sorted(a + b) == sorted(whole)
    # each part keeps the order the rules had
    position = {rule: i for i, rule in enumerate(whole)}
    assert [position[r] for r in a] == sorted(position[r] for r in a)
    assert [position[r] for r in b] == sorted(position[r] for r in b)
    assert any(".md-typeset h1" in r[1] for r in a)
    assert not any("[dir=rtl]" in r[1] for r in a)
    assert any("[dir=rtl]" in r[1] for r in b)
    assert len(first) < 0.6 * len(css), (len(first), len(css))


# ---------------------------------------------------------------------------------------
# In the browser: the built site


STYLES = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const s = getComputedStyle(e);
    const row = [];
    for (let i = 0; i < s.length; i++) {
      const name = s[i];
      if (name.startsWith('transition') || name.startsWith('animation')) continue;
      row.push(name + ':' + s.getPropertyValue(name));
    }
    // custom properties are listed in the order they were declared: compare by name
    row.sort();
    out.push(e.tagName + '.' + e.className + ' ' + row.join('\\n'));
  }
  return out;
}"""
PAGES = ["", "examples/self_attention/", "reference/by-hand/", "explorer/"]
MATERIAL = {  # Material's own stylesheets, whole: main and palette
    path.name.split(".", 1)[0]: path.read_text()
    for path in MATERIAL_CSS[0].parent.glob("*.min.css")
}


def styles(browser: Any, url: str, scheme: str, *, served: str) -> list[str]:
    """Every element's computed style at ``url`` once loaded, with ``served`` stylesheets
    of Material's: ``"first"`` (the first parts, the rest blocked), ``"whole"`` (Material's
    own files in place of the first parts, the rest blocked) or ``"both"`` (as built)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        color_scheme=scheme,
        reduced_motion="reduce",
    )
    page = context.new_page()
    if served == "whole":
        page.route(
            re.compile(r".*/(main|palette)\.[0-9a-f]+\.first\.css$"),
            lambda route: route.fulfill(
                body=MATERIAL[
                    route.request.url.rsplit("/", 1)[1].split(".")[0]
                ],
                content_type="text/css",
            ),
        )
    if served != "both":
        page.route(re.compile(r".*\.rest\.css$"), lambda route: route.abort())
    page.goto(url, wait_until="load")
    if served == "both":
        page.wait_for_function(
            "() => [...document.styleSheets].filter(s => /rest\\.css$/.test(s.href || '')).length == 2"
        )
    page.wait_for_timeout(300)
    out = page.evaluate(STYLES)
    context.close()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_first_part_styles_every_element_as_the_whole_stylesheet(
    site: Path, server: str, browser: object, scheme: str
) -> None:
    assert sorted(MATERIAL) == ["main", "palette"]
    assert not list((site / "assets" / "stylesheets").glob("*.min.css"))
    for path in PAGES:
        html = (site / path / "index.html").read_text()
        for stem in MATERIAL:
            assert re.search(
                rf'href="[^"]*{stem}\.[0-9a-f]+\.first\.css"', html
            ), (path, stem)
            assert re.search(
                rf'<noscript><link rel="stylesheet" href="[^"]*{stem}\.[0-9a-f]+\.rest\.css"></noscript>',
                html,
            ), (path, stem)
        url = server + path
        first_only = styles(browser, url, scheme, served="first")
        material = styles(browser, url, scheme, served="whole")
        assert len(first_only) > 300, (path, len(first_only))
        # before load: the first parts alone style every element as Material's sheets do
        assert differences(first_only, material) == [], path
        # after load, with the rest: still the same (the cascade kept its order)
        after_load = styles(browser, url, scheme, served="both")
        assert differences(after_load, material) == [], path
        if scheme == "dark":  # the dark palette applied, not left to the rest
            assert any("color-scheme:dark" in row for row in first_only), path


def differences(seen: list[str], expected: list[str]) -> list[tuple]:
    """The elements whose styles differ, each with a few of the declarations that do."""
    assert len(seen) == len(expected), (len(seen), len(expected))
    return [
        (a[:80], sorted(set(a.split("\n")) ^ set(b.split("\n")))[:4])
        for a, b in zip(seen, expected, strict=True)
        if a != b
    ]
