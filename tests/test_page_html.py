"""The chapter HTML made lighter at build time (hooks/pageassets.py), without changing
what a reader sees or copies."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

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


# ---------------------------------------------------------------------------------------
# The page is read with a parser: attribute order and quoting do not matter, and what is
# not changed stays byte for byte.


def wrapped(*cells: str) -> str:
    """A notebook's content: cells inside mkdocs-jupyter's wrapper."""
    return '<div class="jupyter-wrapper">\n' + "\n".join(cells) + "\n</div>"


def code_cell(number: int, body: str, outputs: str = "") -> str:
    """A code cell as nbconvert writes it: the id-less wrapper, then the cell."""
    return (
        '<div class="jp-Cell jp-CodeCell jp-Notebook-cell">\n'
        f'<div class="jp-Cell jp-CodeCell jp-Notebook-cell" id="cell-id={number:08x}">\n'
        f"{body}\n{outputs}\n</div>\n</div>"
    )


def output(pre: str, opening: str = "") -> str:
    opening = opening or (
        '<div class="jp-RenderedText jp-OutputArea-output" '
        'data-mime-type="text/plain" tabindex="0">'
    )
    return f"{opening}\n<pre>{pre}</pre>\n</div>"


WIDE = "x" * (pageassets.WIDE_CHARS + 1)


def test_the_tree_knows_where_each_element_lies() -> None:
    source = (
        '<DIV Class="a">\r\n<p>one &amp; <b>two</b><br>three</p>'
        "<!-- c --><svg><path d='M0'/></svg></DIV>tail"
    )
    tree = pageassets.Tree(source)
    tags = [e.tag for e in tree.elements]
    assert tags == ["div", "p", "b", "br", "svg", "path"]
    div, p, b, br, svg, path = tree.elements
    assert source[div.start : div.start_end] == '<DIV Class="a">'
    assert source[div.inner_end : div.end] == "</DIV>"
    assert source[p.start : p.end] == "<p>one &amp; <b>two</b><br>three</p>"
    assert source[br.start : br.end] == "<br>"
    assert source[path.start : path.end] == "<path d='M0'/>"
    assert b.parent is p and br.previous is b and path.parent is svg
    assert tree.text(p) == "one & twothree"
    assert div.classes == {"a"}


def test_an_element_left_open_ends_with_its_parent() -> None:
    source = "<div><p>one<p>two</div>after"
    tree = pageassets.Tree(source)
    div, first, second = tree.elements
    assert source[second.start : second.end] == "<p>two"
    assert second.parent is first  # html.parser does not close <p> itself
    assert source[div.start : div.end] == "<div><p>one<p>two</div>"


def test_names_lose_their_spans_whatever_the_attribute_quoting() -> None:
    block = (
        "<div class='hl-python highlight-ipynb'><pre id=cell-1>"
        "<span class='n'>a</span><span class=w> </span>"
        '<span class="n" id="keep">b</span><span class="n x">c</span>'
        '<span class="o">=</span></pre></div>'
    )
    assert pageassets.plain_names(block) == (
        "<div class='hl-python highlight-ipynb'><pre id=cell-1>"
        'a <span class="n" id="keep">b</span><span class="n x">c</span>'
        '<span class="o">=</span></pre></div>'
    )


def test_names_in_markdown_code_blocks_lose_their_spans_too() -> None:
    markdown = (
        '<div class="language-python highlight"><pre><span></span><code>'
        '<span class="n">a</span><span class="w"> </span><span class="o">=</span>'
        "</code></pre></div>"
    )
    assert pageassets.plain_names(markdown) == (
        '<div class="language-python highlight"><pre><span></span><code>'
        'a <span class="o">=</span></code></pre></div>'
    )


def test_names_outside_code_blocks_keep_their_spans() -> None:
    prose = (
        '<p><span class="n">a</span></p><pre><span class="n">b</span></pre>'
    )
    assert pageassets.plain_names(prose) == prose


def test_the_copy_button_copies_the_pre_whatever_the_attribute_order() -> None:
    cell = (
        '<div class="highlight-ipynb hl-python"><pre>a = 1\n</pre></div>\n'
        '<div id="cell-3" class="clipboard-copy-txt">a = 1\n</div>\n<p>next</p>'
    )
    assert pageassets.lighter_copy_buttons(cell) == (
        '<div class="highlight-ipynb hl-python"><pre id="cell-3">a = 1\n</pre></div>'
        "\n<p>next</p>"
    )


def test_a_copy_without_its_code_block_or_a_pre_with_an_id_stays() -> None:
    alone = '<p>x</p><div class="clipboard-copy-txt" id="cell-3">a</div>'
    assert pageassets.lighter_copy_buttons(alone) == alone
    named = (
        '<div class="highlight-ipynb"><pre id="mine">a</pre></div>'
        '<div class="clipboard-copy-txt" id="cell-3">a</div>'
    )
    assert pageassets.lighter_copy_buttons(named) == named


def test_the_copy_icon_is_drawn_by_the_stylesheet() -> None:
    button = (
        '<clipboard-copy for="cell-1"><span class="notice" hidden="">Copied!</span>'
        '<svg class="clipboard-copy-icon" height="20" aria-hidden="true">'
        '<path d="M0 6"></path><path d="M5 1"/></svg></clipboard-copy>'
    )
    assert pageassets.lighter_copy_buttons(button) == (
        '<clipboard-copy for="cell-1"><span class="notice" hidden="">Copied!</span>'
        '<span aria-hidden="true" class="clipboard-copy-icon"></span></clipboard-copy>'
    )


def test_a_wide_code_cell_takes_the_keyboard_and_is_named_after_its_cell() -> (
    None
):
    page = wrapped(
        code_cell(1, '<div class="highlight-ipynb"><pre>short</pre></div>'),
        code_cell(
            2,
            f'<div class="highlight-ipynb"><pre id="cell-2">{WIDE}</pre></div>',
        ),
    )
    out = pageassets.focusable_scrollers(page)
    assert "<pre>short</pre>" in out
    assert (
        f'<pre id="cell-2" tabindex="0" role="group" '
        f'aria-label="Code cell 2, scrolls sideways">{WIDE}</pre>'
    ) in out


def test_outputs_are_named_after_their_own_cell() -> None:
    """Each label counts the code cells before it in the page as it was read (the regular
    expressions counted in the page as already changed, and named some outputs and every
    table after a later cell)."""
    cells = [
        code_cell(
            n,
            f'<div class="highlight-ipynb"><pre>{WIDE}</pre></div>',
            output(WIDE) + "\n<table><tr><td>1</td></tr></table>",
        )
        for n in range(1, 6)
    ]
    out = pageassets.focusable_scrollers(wrapped(*cells))
    labels = re.findall(r'aria-label="([^"]*)"', out)
    assert labels == [
        label
        for n in range(1, 6)
        for label in (
            f"Code cell {n}, scrolls sideways",
            f"Output of code cell {n}, scrolls",
            f"Table in the output of code cell {n}, scrolls sideways",
        )
    ]


def test_an_output_is_found_whatever_the_attribute_order() -> None:
    tall = "\n".join(["1"] * (pageassets.TALL_LINES + 2))
    opening = (
        '<div data-mime-type="text/plain" tabindex="0" '
        "class='jp-OutputArea-output jp-RenderedText'>"
    )
    page = wrapped(code_cell(1, "", output(tall, opening) + output("short")))
    out = pageassets.focusable_scrollers(page)
    assert (
        f'<pre tabindex="0" role="group" aria-label="Output of code cell 1, '
        f'scrolls">{tall}</pre>'
    ) in out
    assert "<pre>short</pre>" in out


def test_markdown_tables_and_named_tables_stay_as_they_are() -> None:
    before = "<table><tr><td>Markdown</td></tr></table>\n"
    named = (
        '<table aria-label="mine" tabindex="-1"><tr><td>1</td></tr></table>'
    )
    page = before + wrapped(code_cell(1, "", named))
    assert pageassets.focusable_scrollers(page) == page


def test_a_heatmaps_numbers_keep_their_own_box_and_names() -> None:
    """The box around a heatmap's tables of numbers takes the keyboard and names them
    (bertsteps/plotting.py); the tables keep their captions as their names, and no
    Markdown code block of a chapter is taken for a code cell."""
    numbers = (
        '<details class="bertsteps-numbers"><summary>The numbers</summary>'
        '<div tabindex="0" role="group" aria-label="Table of the numbers">'
        "<table><caption>bank</caption><tr><td>1</table></div></details>"
    )
    markdown = f'<div class="highlight"><pre><code>{WIDE}</code></pre></div>'
    page = wrapped(code_cell(1, "", numbers), markdown)
    assert pageassets.focusable_scrollers(page) == page


def test_every_figure_takes_the_keyboard_once() -> None:
    figure = '<figure style="--natural-width:683px" class="bertsteps-figure">'
    assert pageassets.focusable_scrollers(figure + "</figure>") == (
        figure[:-1] + ' tabindex="0"></figure>'
    )
    focused = '<figure class="bertsteps-figure" tabindex="0"></figure>'
    assert pageassets.focusable_scrollers(focused) == focused


def test_search_skips_copies_notices_and_plain_text_outputs() -> None:
    page = (
        '<div id="cell-1" class="clipboard-copy-txt">a</div>'
        '<span hidden="" class="notice">Copied!</span>'
        '<div class="jp-OutputArea-output jp-RenderedText"><pre>1</pre></div>'
        '<div class="jp-RenderedTextual">kept</div>'
        '<div data-search-exclude class="jp-RenderedText">once</div>'
    )
    assert pageassets.exclude_from_search(page) == (
        '<div data-search-exclude id="cell-1" class="clipboard-copy-txt">a</div>'
        '<span data-search-exclude hidden="" class="notice">Copied!</span>'
        '<div data-search-exclude class="jp-OutputArea-output jp-RenderedText">'
        "<pre>1</pre></div>"
        '<div class="jp-RenderedTextual">kept</div>'
        '<div data-search-exclude class="jp-RenderedText">once</div>'
    )


def test_a_notebook_page_is_changed_in_one_reading_as_by_each_step() -> None:
    head = (
        '<style type="text/css">\n.a{color:red}</style>\n'
        "<style media='all' type='text/css'>.b{}</style>  \n"
        "<style>.jp-Mermaid{}</style>\n"
    )
    body = wrapped(
        code_cell(
            1,
            '<div class="zeroclipboard-container"><clipboard-copy for="cell-1">'
            '<span class="notice" hidden="">Copied!</span>'
            '<svg aria-hidden="true" class="clipboard-copy-icon"><path/></svg>'
            "</clipboard-copy></div>\n" + CELL.replace("cell-7", "cell-1"),
            output(WIDE),
        ),
        '<figure class="bertsteps-figure"></figure>',
    )
    lighter = pageassets.lighter_notebook(head + body)
    assert lighter is not None
    page, css = lighter
    assert css == ["\n.a{color:red}", ".b{}"]
    assert page == pageassets.exclude_from_search(
        pageassets.focusable_scrollers(
            pageassets.lighter_copy_buttons(
                pageassets.plain_names("<style>.jp-Mermaid{}</style>\n" + body)
            )
        )
    )
    assert "clipboard-copy-txt" not in page and "<svg" not in page
    assert pageassets.lighter_notebook("<p>not a notebook</p>") is None


def test_what_is_not_changed_stays_byte_for_byte() -> None:
    odd = (
        "<P CLASS=x>caf&eacute; &#39;q&#39; <BR/><br><img src=a.png alt=''>\n"
        "<!-- note --><![CDATA[x]]></P>"
    )
    page = wrapped(
        odd, code_cell(1, '<div class="highlight-ipynb"><pre>a</pre></div>')
    )
    for change in (
        pageassets.plain_names,
        pageassets.lighter_copy_buttons,
        pageassets.focusable_scrollers,
        pageassets.exclude_from_search,
    ):
        assert change(page) == page


def page_with(uri: str, url: str) -> object:
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri), url=url)


MATERIAL = (
    "<html><head>\n"
    '<link href="../assets/stylesheets/palette.1.min.css" rel="stylesheet">\n'
    "  \n"
    '  <link href="../assets/_mkdocstrings.css" rel="stylesheet">\n'
    '<link rel="stylesheet" href="../stylesheets/extra.css">\n'
    "</head><body>"
    '<nav data-md-component="toc" class="md-nav"></nav>'
    '<ul class="md-nav__list" data-md-component="toc" data-md-scrollfix>'
    "</ul><article class='md-content__inner'>{content}</article>"
    '<script id="b" src="../assets/javascripts/bundle.ab12.min.js"></script>'
    "</body></html>"
)


def test_the_page_as_written_loads_what_it_uses() -> None:
    """on_post_page: the notebook stylesheet after the palette, mkdocstrings' stylesheet only
    with API docs, the explorer's files and no mounted table of contents on its page, the
    bundle deferred; attributes in any order."""
    pageassets.on_config(None)  # type: ignore[arg-type]
    explorer = page_with("explorer.md", "explorer/")
    content = '<div id="bertsteps-explorer"></div>'
    pageassets.on_page_content(content, explorer, None, None)  # type: ignore[arg-type]
    pageassets._pages.notebook.add("explorer.md")
    pageassets._pages.notebook_css_url = "assets/stylesheets/notebook.1.css"
    out = pageassets.on_post_page(
        MATERIAL.format(content=content),
        explorer,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )
    assert out == (
        "<html><head>\n"
        '<link href="../assets/stylesheets/palette.1.min.css" rel="stylesheet">\n'
        '<link rel="stylesheet" href="../assets/stylesheets/notebook.1.css">\n'
        '<link rel="stylesheet" href="../stylesheets/extra.css">\n'
        '<link rel="stylesheet" href="../stylesheets/explorer.css">\n'
        "</head><body>"
        '<nav class="md-nav"></nav>'
        '<ul class="md-nav__list" data-md-scrollfix>'
        "</ul><article class='md-content__inner'>" + content + "<script "
        'src="../javascripts/explorer.js" defer></script>\n</article>'
        '<script id="b" src="../assets/javascripts/bundle.ab12.min.js" defer>'
        "</script></body></html>"
    )
    api = page_with("reference/api.md", "reference/api/")
    content = '<div class="doc doc-object">API</div>'
    pageassets.on_page_content(content, api, None, None)  # type: ignore[arg-type]
    out = pageassets.on_post_page(
        MATERIAL.format(content=content),
        api,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
    )
    assert "_mkdocstrings.css" in out and 'data-md-component="toc"' in out
    pageassets.on_config(None)  # type: ignore[arg-type]


def test_the_notebook_stylesheet_keeps_rules_for_names_the_pages_have() -> (
    None
):
    names = pageassets._Names(
        "<div class='jp-a jp-b' id=c><script>x = '<p class=\"jp-d\">'</script>"
    )
    assert names.classes == {"jp-a", "jp-b"} and names.ids == {"c"}
    css = ".jp-a{color:red}\n.jp-d{color:blue}\n#c .jp-b{margin:0}\n#e{x:y}"
    trimmed = pageassets.trimmed_notebook_css(
        css, names.classes, names.ids, ""
    )
    assert (
        trimmed == '@charset "UTF-8";\n.jp-a{color:red}\n#c .jp-b{margin:0}\n'
    )
