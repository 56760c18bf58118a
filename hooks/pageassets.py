"""MkDocs hook: each page loads only what it uses, and every scrolling block takes the keyboard.

- **Notebook CSS.** mkdocs-jupyter inlines JupyterLab's whole stylesheet (about 590 KB)
  into every chapter. ``on_page_content`` takes those ``<style>`` blocks out; ``on_env``
  (when every page's content is known, before any file is written) joins them into one
  file, trimmed to the rules that can match something on this site: a rule whose every
  selector names a class or id that no built page has is dropped (selectors inside
  ``:not()``, ``:is()`` and the like are kept as they are), then every custom property
  (``--jp-…``) that nothing reads any more, until none is left. The file is served as
  ``assets/stylesheets/notebook.<hash>.css``: one download for all chapters, cached, and
  renamed when its content changes. Chapter pages link it; other pages don't.
- **Math.** Formulas (arithmatex output on Markdown pages, ``$…$`` and ``$$…$$`` in a
  notebook's Markdown) are typeset as MathML here, at build time (``hooks/mathml.py``):
  no page loads a math script or font. A display formula sits in a keyboard-reachable
  box that scrolls sideways on a narrow screen.
- **Explorer.** ``stylesheets/explorer.css`` and ``javascripts/explorer.js`` only on the page
  that holds ``#bertsteps-explorer`` (whose table of contents is not mounted, so Material's
  anchor tracking leaves the explorer's URL hash alone); mkdocstrings' stylesheet only on
  pages with API docs.
- **Material's bundle** is deferred: it no longer holds up the first paint.
- **Material's stylesheets** in two (``on_post_build``, :mod:`stylesheets`): the rules
  that can match an element of a built page, or one Material's script adds as it starts,
  are the only part that holds up the first paint (``main.<hash>.first.css``, about half
  of ``main.css``; ``palette.<hash>.first.css``, the site's own colours); the rest
  (``….rest.css``: search results, dialogs, right-to-left layouts, other colours,
  features the site does not use) is added after the page's load event, right after the
  first part, so the cascade keeps Material's order.
- **Plain names.** Pygments' spans around names and spaces, drawn in the code's own
  colour anyway, are left out of code cells and highlighted blocks (:func:`plain_names`).
- **Copy buttons.** A code cell's copy button copies the cell's ``<pre>``; mkdocs-jupyter's
  hidden second copy of the code and the inline SVG icon of each button go
  (:func:`lighter_copy_buttons`).
- **Search.** The search index, which every page fetches, leaves out the hidden copy of each
  code cell and plain-text outputs (:func:`exclude_from_search`).
- **Scrolling blocks.** A notebook code cell, output or table, or a figure, that can scroll
  (a line longer than :data:`WIDE_CHARS` characters, or more than :data:`TALL_LINES` lines of
  output) gets ``tabindex="0"``, ``role="group"`` and a name, so it can be scrolled with the
  keyboard (axe: ``scrollable-region-focusable``).

Pages are read with Python's ``html.parser`` (:class:`Tree`): elements are found by tag,
class and attribute, whatever the order or quoting of their attributes, and each change is
made at the offsets of the elements it concerns, so the rest of a page stays as it was,
byte for byte (the approach of ``hooks/mathml.py``).
"""

from __future__ import annotations

import bisect
import hashlib
import html as htmllib
import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import buildcache
import mathml  # hooks/mathml.py: MkDocs puts a hook's own folder on sys.path
import stylesheets
from htmltree import Edit, Element, Tree, splice
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from stylesheets import trimmed_notebook_css

WIDE_CHARS = 30  # a code line wider than a 320 px phone's column (about 31 characters at this code size)
TALL_LINES = 20  # outputs are at most 32em tall (docs/stylesheets/extra.css), then scroll
NOTEBOOK_CSS = "assets/stylesheets/notebook.{}.css"
EXPLORER_JS = "javascripts/explorer.js"
EXPLORER_CSS = "stylesheets/explorer.css"

# Material's bundle, at the end of the body, blocks the parser; deferred, it runs after the
# page is parsed, in the same order, before DOMContentLoaded (scripts that need Material's
# document$ wait for that event: docs/javascripts/explorer.js).
_BUNDLE_SRC = re.compile(r"assets/javascripts/bundle\.[0-9a-f]+\.min\.js$")
_MKDOCSTRINGS_CSS = "assets/_mkdocstrings.css"
_PALETTE_CSS = "assets/stylesheets/palette"
_COPY_ICON = '<span aria-hidden="true" class="clipboard-copy-icon"></span>'


@dataclass
class _Pages:
    """What every page's content holds, filled by on_page_content, read by on_env and
    on_post_page; a new one for each build (``mkdocs serve`` rebuilds in one process)."""

    css_parts: dict[str, None] = field(
        default_factory=dict
    )  # the notebook's <style> blocks, in order, once each
    notebook: set[str] = field(default_factory=set)
    explorer: set[str] = field(default_factory=set)
    # the pages with mkdocstrings' output (API docs)
    api_docs: set[str] = field(default_factory=set)
    # each page's classes and ids
    names: dict[str, tuple[frozenset[str], frozenset[str]]] = field(
        default_factory=dict
    )
    notebook_css_url: str | None = None

    def clear(self) -> None:
        for store in (
            self.css_parts,
            self.notebook,
            self.explorer,
            self.api_docs,
            self.names,
        ):
            store.clear()
        self.notebook_css_url = None


_pages = _Pages()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """A new build: forget the last one's pages."""
    _pages.clear()
    return config


class _Names(HTMLParser):
    """The classes and ids of a page's elements, and whether it holds mkdocstrings' output."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.classes: set[str] = set()
        self.ids: set[str] = set()
        self.api_docs = False
        self.feed(source)
        self.close()

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "class":
                classes = value.split()
                self.classes.update(classes)
                if "doc" in classes and any(
                    c.startswith("doc-") for c in classes
                ):  # mkdocstrings: div.doc.doc-object, h2.doc.doc-heading, ...
                    self.api_docs = True
            elif name == "id":
                self.ids.add(value)


# ---------------------------------------------------------------------------------------
# Page content


def _wide(text: str) -> bool:
    return (
        max((len(line) for line in text.splitlines()), default=0) > WIDE_CHARS
    )


def _code_blocks(tree: Tree, *, markdown: bool = False) -> list[Element]:
    """The ``<pre>`` of each notebook code block (``div.highlight-ipynb > pre``); with
    ``markdown``, of each highlighted block of Markdown or API docs (``div.highlight > pre``)
    too."""
    kinds = (
        {"highlight-ipynb", "highlight"} if markdown else {"highlight-ipynb"}
    )
    return [
        e
        for e in tree.elements
        if e.tag == "pre"
        and e.parent is not None
        and e.parent.tag == "div"
        and e.parent.classes & kinds
    ]


def _inside(element: Element, tag: str, cls: str) -> bool:
    parent = element.parent
    while parent is not None:
        if parent.tag == tag and cls in parent.classes:
            return True
        parent = parent.parent
    return False


def _plain_names(tree: Tree) -> list[Edit]:
    edits = []
    for pre in _code_blocks(tree, markdown=True):
        for span in pre.descendants():
            if (
                span.tag == "span"
                and list(span.attrs) == ["class"]
                and span.classes in ({"n"}, {"w"})
                and not span.children
            ):
                inner = tree.source[span.start_end : span.inner_end]
                edits.append((span.start, span.end, inner))
    return edits


def _copy_buttons(tree: Tree) -> list[Edit]:
    edits: list[Edit] = []
    for copy in tree.elements:
        if copy.tag != "div" or "clipboard-copy-txt" not in copy.classes:
            continue
        cell_id = copy.attrs.get("id")
        block = copy.previous
        if (
            not cell_id
            or block is None
            or block.tag != "div"
            or "highlight-ipynb" not in block.classes
            or not block.children
            or tree.source[block.end : copy.start].strip()
        ):
            continue
        pre = block.children[0]
        if pre.tag != "pre" or "id" in pre.attrs:
            continue
        at = tree.after_name(pre)
        edits.append((at, at, f' id="{htmllib.escape(cell_id)}"'))
        edits.append((block.end, copy.end, ""))
    for icon in tree.elements:
        if icon.tag == "svg" and "clipboard-copy-icon" in icon.classes:
            edits.append((icon.start, icon.end, _COPY_ICON))
    return edits


def _scrollers(tree: Tree) -> list[Edit]:
    # The code cells, not the wrapper of the same name (which has no id).
    cells = [
        e.start
        for e in tree.elements
        if e.tag == "div"
        and "jp-Cell" in e.classes
        and "jp-CodeCell" in e.classes
        and e.attrs.get("id")
    ]

    def cell(element: Element) -> int:
        return bisect.bisect_left(cells, element.start)

    def add(element: Element, attributes: str) -> None:
        at = tree.before_close(element)
        edits.append((at, at, attributes))

    edits: list[Edit] = []
    for pre in _code_blocks(tree):
        if "tabindex" not in pre.attrs and _wide(tree.text(pre)):
            label = f"Code cell {cell(pre.parent or pre)}, scrolls sideways"
            add(pre, f' tabindex="0" role="group" aria-label="{label}"')
    for output in tree.elements:
        if (
            output.tag != "div"
            or "jp-OutputArea-output" not in output.classes
            or not output.children
        ):
            continue
        pre = output.children[0]
        if (
            pre.tag != "pre"
            or "tabindex" in pre.attrs
            or tree.source[output.start_end : pre.start].strip()
        ):
            continue
        text = tree.text(pre)
        if _wide(text) or text.count("\n") > TALL_LINES:
            label = f"Output of code cell {cell(output)}, scrolls"
            add(pre, f' tabindex="0" role="group" aria-label="{label}"')
    wrapper = tree.first("div", "jupyter-wrapper")
    for element in tree.elements:
        if "tabindex" in element.attrs:
            continue
        if (  # tables of notebook outputs scroll (extra.css); Markdown tables are Material's
            element.tag == "table"
            and wrapper is not None
            and element.start >= wrapper.start
            # a heatmap's numbers: their box scrolls and takes the keyboard (plotting.py)
            and not _inside(element, "details", "bertsteps-numbers")
        ):
            label = f"Table in the output of code cell {cell(element)}, scrolls sideways"
            add(element, f' tabindex="0" aria-label="{label}"')
        elif element.tag == "figure" and "bertsteps-figure" in element.classes:
            add(element, ' tabindex="0"')
    return edits


def _search_exclusions(tree: Tree) -> list[Edit]:
    edits: list[Edit] = []
    for element in tree.elements:
        if "data-search-exclude" in element.attrs:
            continue
        if (
            (
                element.tag == "div"
                and element.classes & {"clipboard-copy-txt", "jp-RenderedText"}
            )
            or (element.tag == "span" and "notice" in element.classes)
            or (
                element.tag == "details"
                and "bertsteps-numbers" in element.classes
            )
        ):
            at = tree.after_name(element)
            edits.append((at, at, " data-search-exclude"))
    return edits


def focusable_scrollers(html: str) -> str:
    """``tabindex="0"``, ``role="group"`` and a name on each notebook block that can scroll."""
    return splice(html, _scrollers(Tree(html)))


def plain_names(html: str) -> str:
    """Pygments wraps every name and every run of spaces of a code block in a ``<span>``
    (classes ``n`` and ``w``); on this site both are drawn in the code's own colour
    (extra.css: ``--md-code-hl-name-color`` and the notebook's variable colour are the
    code colour), so the text goes without them: about a quarter of a cell's markup,
    a fifth of the elements of an API page."""
    return splice(html, _plain_names(Tree(html)))


def lighter_copy_buttons(html: str) -> str:
    """Each code cell's copy button copies the cell's own ``<pre>`` (its text is the code)
    instead of a hidden second copy of the code, and draws its icon from the stylesheet
    (extra.css) instead of an inline SVG: about 1 KB less per code cell."""
    return splice(html, _copy_buttons(Tree(html)))


def exclude_from_search(html: str) -> str:
    """``data-search-exclude`` (Material's search skips the element) on what the search index,
    fetched by every page, need not hold: each code cell's second copy (the hidden text of its
    copy button), the button's "Copied!", plain-text outputs (tensors, reprs) and the tables
    of numbers under heatmaps. Prose, code and Markdown outputs stay searchable."""
    return splice(html, _search_exclusions(Tree(html)))


def lighter_notebook(html: str) -> tuple[str, list[str]] | None:
    """A notebook page's content without its ``<style type="text/css">`` blocks (those before
    its ``div.jupyter-wrapper``), and their CSS, in order; with :func:`plain_names`,
    :func:`lighter_copy_buttons`, :func:`focusable_scrollers` and :func:`exclude_from_search`
    applied, all from one reading of the page. None for content that is not a notebook."""
    tree = Tree(html)
    wrapper = tree.first("div", "jupyter-wrapper")
    if wrapper is None:
        return None
    css: list[str] = []
    edits: list[Edit] = []
    for style in tree.elements:
        if style.start >= wrapper.start:
            break
        if (
            style.tag == "style"
            and (style.attrs.get("type") or "").strip().lower() == "text/css"
            and style.end > style.inner_end  # closed by its end tag
        ):
            css.append(html[style.start_end : style.inner_end])
            edits.append((style.start, tree.whitespace_after(style.end), ""))
    edits += _plain_names(tree)
    edits += _copy_buttons(tree)
    edits += _scrollers(tree)
    removed = sorted((start, end) for start, end, _ in edits if end > start)
    starts = [start for start, _ in removed]
    # Not on what went (the hidden copies of the code).
    for edit in _search_exclusions(tree):
        i = bisect.bisect_right(starts, edit[0]) - 1
        if i < 0 or not removed[i][0] < edit[0] < removed[i][1]:
            edits.append(edit)
    return splice(html, edits), css


def on_page_content(
    html: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    uri = page.file.src_uri
    notebook = (  # a page without these words is no notebook: not read twice
        lighter_notebook(html) if "jupyter-wrapper" in html else None
    )
    if notebook is None and "highlight" in html:
        html = plain_names(html)  # Markdown code blocks and API signatures
    if notebook is not None:
        html, css = notebook
        _pages.notebook.add(uri)
        for part in css:
            _pages.css_parts.setdefault(
                part.replace(".highlight ", ".highlight-ipynb "), None
            )
    html, _ = mathml.typeset(html)
    names = _Names(html)
    _pages.names[uri] = (frozenset(names.classes), frozenset(names.ids))
    if "bertsteps-explorer" in names.ids:
        _pages.explorer.add(uri)
    if names.api_docs:
        _pages.api_docs.add(uri)
    return html


def _theme_css(config: MkDocsConfig) -> str:
    """Every stylesheet of the theme and of docs/stylesheets: what may read a custom property."""
    text = []
    for folder in [*config.theme.dirs, config.docs_dir]:
        for path in Path(folder).rglob("*.css"):
            text.append(path.read_text(errors="replace"))
    return "\n".join(text)


def on_env(env: object, config: MkDocsConfig, files: Files) -> object:
    if _pages.css_parts:
        css = trimmed_notebook_css(
            "\n".join(_pages.css_parts),
            {c for classes, _ in _pages.names.values() for c in classes},
            {i for _, ids in _pages.names.values() for i in ids},
            _theme_css(config),
        )
        digest = hashlib.sha256(css.encode()).hexdigest()[:8]
        _pages.notebook_css_url = NOTEBOOK_CSS.format(digest)
        files.append(
            File.generated(config, _pages.notebook_css_url, content=css)
        )
    return env


# ---------------------------------------------------------------------------------------
# The page as written


def _relative(page: Page, target: str) -> str:
    return (
        posixpath.relpath(target, posixpath.dirname(page.url) or ".")
        if page.url
        else target
    )


def _head_end(tree: Tree) -> int:
    head = next((e for e in tree.elements if e.tag == "head"), None)
    return head.inner_end if head is not None else 0


def _before_extra_css(tree: Tree) -> int:
    """Where a stylesheet goes in the head: on the line after Material's palette, before the
    site's own stylesheets (extra.css wins); without a palette, at the end of the head."""
    palette = next(
        (
            e
            for e in tree.elements
            if e.tag == "link" and _PALETTE_CSS in (e.attrs.get("href") or "")
        ),
        None,
    )
    if palette is None:
        return _head_end(tree)
    line_end = tree.source.find("\n", palette.end)
    return line_end + 1 if line_end >= 0 else palette.end


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    uri = page.file.src_uri
    tree = Tree(output)
    edits: list[Edit] = []
    head: list[str] = []
    body: list[str] = []
    # mkdocstrings' stylesheet, with the white space before it: only where it rendered API
    # docs (a page on_page_content saw without them)
    gone = (0, 0)
    if uri in _pages.names and uri not in _pages.api_docs:
        mkdocstrings = next(
            (
                e
                for e in tree.elements
                if e.tag == "link"
                and "stylesheet" in (e.attrs.get("rel") or "").lower().split()
                and (e.attrs.get("href") or "").endswith(_MKDOCSTRINGS_CSS)
            ),
            None,
        )
        if mkdocstrings is not None:
            gone = (
                tree.whitespace_before(mkdocstrings.start),
                mkdocstrings.end,
            )
    if uri in _pages.notebook and _pages.notebook_css_url:
        at = _before_extra_css(tree)
        href = _relative(page, _pages.notebook_css_url)
        link = f'<link rel="stylesheet" href="{href}">'
        if gone[0] <= at < gone[1]:
            # in the white space that goes: the link takes its place, on the same line
            gone = (at, gone[1])
            edits.append((at, at, link))
        else:
            edits.append((at, at, link + "\n"))
    if gone[1] > gone[0]:
        edits.append((*gone, ""))
    if uri in _pages.explorer:
        # Material's anchor tracking (navigation.tracking) rewrites the URL's hash as the page
        # scrolls, which would wipe the explorer's state (#word&a=…&b=…): without a mounted
        # table of contents, it does not run on this page.
        for element in tree.elements:
            if element.attrs.get("data-md-component") == "toc":
                where = tree.attribute(element, "data-md-component")
                if where is not None:
                    start, end = where
                    if tree.source[start - 1].isspace():
                        start -= 1
                    edits.append((start, end, ""))
        head.append(
            f'<link rel="stylesheet" href="{_relative(page, EXPLORER_CSS)}">'
        )
        body.append(
            f'<script src="{_relative(page, EXPLORER_JS)}" defer></script>'
        )
    bundle = next(
        (
            e
            for e in tree.elements
            if e.tag == "script"
            and _BUNDLE_SRC.search(e.attrs.get("src") or "")
        ),
        None,
    )
    if bundle is not None and "defer" not in bundle.attrs:
        src = tree.attribute(bundle, "src")
        at = src[1] if src is not None else tree.before_close(bundle)
        edits.append((at, at, " defer"))
    if head:
        at = _head_end(tree)
        edits.append((at, at, "\n".join(head) + "\n"))
    if body:  # inside the content container: Material's instant navigation runs them too
        at = max(
            (e.inner_end for e in tree.elements if e.tag == "article"),
            default=_head_end(tree),
        )
        edits.append((at, at, "\n".join(body) + "\n"))
    return splice(output, edits)


# ---------------------------------------------------------------------------------------
# Material's stylesheets: what the first paint needs, then the rest

_MATERIAL_CSS = re.compile(r"(?:^|/)((?:main|palette)\.[0-9a-f]+\.min\.css)$")
# Adds the rest of a stylesheet once the page has loaded, right after its first part (the
# cascade keeps Material's order, before extra.css); without script, at once.
_LOAD_REST = (
    '<script>(s=>addEventListener("load",()=>{{const l=document.createElement("link");'
    'l.rel="stylesheet";l.href="{href}";s.before(l)}},{{once:true}}))'
    "(document.currentScript)</script>"
    '<noscript><link rel="stylesheet" href="{href}"></noscript>'
)


def first_paint_edits(
    tree: Tree, parts: dict[str, tuple[str, str]]
) -> list[Edit]:
    """Each link to one of Material's stylesheets (a name in ``parts``) made to load the
    first part, followed by what loads the rest after the page's load event; both parts
    are file names in the stylesheet's folder."""
    edits: list[Edit] = []
    for element in tree.elements:
        match = _MATERIAL_CSS.search(element.attrs.get("href") or "")
        if element.tag != "link" or match is None or match[1] not in parts:
            continue
        href = element.attrs["href"] or ""
        folder = href[: match.start(1)]
        first, rest = parts[match[1]]
        where = tree.attribute(element, "href")
        assert where is not None
        edits.append((*where, f'href="{folder}{first}"'))
        rest_href = htmllib.escape(folder + rest)
        edits.append(
            (element.end, element.end, _LOAD_REST.format(href=rest_href))
        )
    return edits


def on_post_build(config: MkDocsConfig) -> None:
    """Material's ``main.css`` and ``palette.css`` split for the first paint
    (:mod:`stylesheets`), from the names of every page as written and those Material's
    script adds; every page re-linked, Material's whole files removed."""
    site = Path(config.site_dir)
    folder = site / "assets" / "stylesheets"
    sheets = sorted(
        p for p in folder.glob("*.min.css") if _MATERIAL_CSS.search(p.name)
    )
    bundles = list((site / "assets" / "javascripts").glob("bundle.*.min.js"))
    if len(sheets) != 2 or len(bundles) != 1:
        raise PluginError(
            f"expected Material's main.*.min.css, palette.*.min.css and bundle.*.min.js "
            f"in {site}/assets, found {[p.name for p in sheets]} and {len(bundles)} "
            "bundle: is the theme Material for MkDocs 9?"
        )
    pages = {
        path: Tree(path.read_text(encoding="utf-8"))
        for path in sorted(site.rglob("*.html"))
    }
    names = stylesheets.Names(tags=set(), attributes=set(), values=set())
    for tree in pages.values():
        for element in tree.elements:
            names.add_element(element.tag, element.attrs)
    names = stylesheets.with_script_names(
        names,
        stylesheets.material_script_names(
            bundles[0].read_text(encoding="utf-8")
        ),
    )
    parts: dict[str, tuple[str, str]] = {}
    for sheet in sheets:
        stem = sheet.name.split(".", 1)[0]  # main, palette
        first, rest = stylesheets.split_for_first_paint(
            sheet.read_text(encoding="utf-8"), names
        )
        parts[sheet.name] = (
            f"{stem}.{_digest(first)}.first.css",
            f"{stem}.{_digest(rest)}.rest.css",
        )
        buildcache.write_atomic(folder / parts[sheet.name][0], first)
        buildcache.write_atomic(folder / parts[sheet.name][1], rest)
    for path, tree in pages.items():
        edits = first_paint_edits(tree, parts)
        if edits:
            buildcache.write_atomic(path, splice(tree.source, edits))
    for sheet in sheets:  # no page links them any more
        sheet.unlink()
        sheet.with_name(sheet.name + ".map").unlink(missing_ok=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
