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
- **Plain names.** Pygments' spans around names and spaces, drawn in the code's own
  colour anyway, are left out of code cells (:func:`plain_names`).
- **Copy buttons.** A code cell's copy button copies the cell's ``<pre>``; mkdocs-jupyter's
  hidden second copy of the code and the inline SVG icon of each button go
  (:func:`lighter_copy_buttons`).
- **Search.** The search index, which every page fetches, leaves out the hidden copy of each
  code cell and plain-text outputs (:func:`exclude_from_search`).
- **Scrolling blocks.** A notebook code cell, output or table, or a figure, that can scroll
  (a line longer than :data:`WIDE_CHARS` characters, or more than :data:`TALL_LINES` lines of
  output) gets ``tabindex="0"``, ``role="group"`` and a name, so it can be scrolled with the
  keyboard (axe: ``scrollable-region-focusable``).
"""

from __future__ import annotations

import hashlib
import html as htmllib
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

import mathml  # hooks/mathml.py: MkDocs puts a hook's own folder on sys.path
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

WIDE_CHARS = 30  # a code line wider than a 320 px phone's column (about 31 characters at this code size)
TALL_LINES = 20  # outputs are at most 32em tall (docs/stylesheets/extra.css), then scroll
NOTEBOOK_CSS = "assets/stylesheets/notebook.{}.css"
EXPLORER_JS = "javascripts/explorer.js"
EXPLORER_CSS = "stylesheets/explorer.css"

_STYLE = re.compile(r'<style type="text/css">(.*?)</style>\s*', re.DOTALL)
_WRAPPER = '<div class="jupyter-wrapper">'
_CODE_CELL = re.compile(
    r'<div class="jp-Cell jp-CodeCell\b[^"]*" id="cell-id='
)  # not the wrapper of the same name
_CODE_BLOCK = re.compile(
    r'<div class="(highlight-ipynb[^"]*)"><pre((?: id="[^"]*")?)>(.*?)</pre></div>',
    re.DOTALL,
)
_PLAIN_TOKEN = re.compile(r'<span class="[nw]">([^<]*)</span>')
# A code cell's block, then mkdocs-jupyter's hidden copy of its code for the copy button.
_COPY_TEXT = re.compile(
    r'(<div class="highlight-ipynb[^"]*"><pre)(>.*?</pre></div>)\s*'
    r'<div class="clipboard-copy-txt" id=("cell-[^"]+")>.*?</div>',
    re.DOTALL,
)
_COPY_ICON = re.compile(
    r'<svg aria-hidden="true" class="clipboard-copy-icon".*?</svg>', re.DOTALL
)
_OUTPUT_PRE = re.compile(
    r'(<div [^>]*?class="[^"]*\bjp-OutputArea-output\b[^"]*"[^>]*>\s*)<pre>(.*?)</pre>',
    re.DOTALL,
)
_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.DOTALL)
_FIGURE = re.compile(r'<figure class="bertsteps-figure"([^>]*)>')
_TAG = re.compile(r"<[^>]+>")
# Material's bundle, at the end of the body, blocks the parser; deferred, it runs after the
# page is parsed, in the same order, before DOMContentLoaded (scripts that need Material's
# document$ wait for that event: docs/javascripts/explorer.js).
_BUNDLE = re.compile(
    r'<script src="[^"]*assets/javascripts/bundle\.[0-9a-f]+\.min\.js"'
)
_MKDOCSTRINGS_CSS = re.compile(
    r'\s*<link rel="stylesheet" href="[^"]*assets/_mkdocstrings\.css">'
)


@dataclass
class _Pages:
    """What every page's content holds, filled by on_page_content, read by on_env and
    on_post_page; a new one for each build (``mkdocs serve`` rebuilds in one process)."""

    css_parts: dict[str, None] = field(
        default_factory=dict
    )  # the notebook's <style> blocks, in order, once each
    notebook: set[str] = field(default_factory=set)
    explorer: set[str] = field(default_factory=set)
    contents: dict[str, str] = field(default_factory=dict)
    notebook_css_url: str | None = None

    def clear(self) -> None:
        for store in (
            self.css_parts,
            self.notebook,
            self.explorer,
            self.contents,
        ):
            store.clear()
        self.notebook_css_url = None


_pages = _Pages()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """A new build: forget the last one's pages."""
    _pages.clear()
    return config


# ---------------------------------------------------------------------------------------
# Page content


def _text(fragment: str) -> str:
    return htmllib.unescape(_TAG.sub("", fragment))


def _wide(text: str) -> bool:
    return (
        max((len(line) for line in text.splitlines()), default=0) > WIDE_CHARS
    )


def focusable_scrollers(html: str) -> str:
    """``tabindex="0"``, ``role="group"`` and a name on each notebook block that can scroll."""
    starts = [m.start() for m in _CODE_CELL.finditer(html)]

    def cell(pos: int) -> int:
        return sum(1 for s in starts if s < pos)

    def code(m: re.Match[str]) -> str:
        if not _wide(_text(m.group(3))):
            return m.group(0)
        label = f"Code cell {cell(m.start())}, scrolls sideways"
        return (
            f'<div class="{m.group(1)}"><pre{m.group(2)} tabindex="0" role="group" '
            f'aria-label="{label}">{m.group(3)}</pre></div>'
        )

    def output(m: re.Match[str]) -> str:
        text = _text(m.group(2))
        if not (_wide(text) or text.count("\n") > TALL_LINES):
            return m.group(0)
        label = f"Output of code cell {cell(m.start())}, scrolls"
        return f'{m.group(1)}<pre tabindex="0" role="group" aria-label="{label}">{m.group(2)}</pre>'

    def table(m: re.Match[str]) -> str:
        if "tabindex" in m.group(1):
            return m.group(0)
        label = f"Table in the output of code cell {cell(m.start())}, scrolls sideways"
        return f'<table{m.group(1)} tabindex="0" aria-label="{label}">{m.group(2)}</table>'

    html = _CODE_BLOCK.sub(code, html)
    html = _OUTPUT_PRE.sub(output, html)
    wrapper = html.find(_WRAPPER)
    if (
        wrapper >= 0
    ):  # tables of notebook outputs scroll (extra.css); Markdown tables are Material's
        html = html[:wrapper] + _TABLE.sub(table, html[wrapper:])
    return _FIGURE.sub(
        lambda m: (
            m.group(0)
            if "tabindex" in m.group(1)
            else f'<figure class="bertsteps-figure"{m.group(1)} tabindex="0">'
        ),
        html,
    )


def plain_names(html: str) -> str:
    """Pygments wraps every name and every run of spaces of a code cell in a ``<span>``
    (classes ``n`` and ``w``); on this site both are drawn in the code's own colour
    (extra.css: ``--md-code-hl-name-color`` and the notebook's variable colour are the
    code colour), so the text goes without them: about a quarter of a cell's markup."""

    def block(m: re.Match[str]) -> str:
        return _PLAIN_TOKEN.sub(r"\1", m.group(0))

    return _CODE_BLOCK.sub(block, html)


def lighter_copy_buttons(html: str) -> str:
    """Each code cell's copy button copies the cell's own ``<pre>`` (its text is the code)
    instead of a hidden second copy of the code, and draws its icon from the stylesheet
    (extra.css) instead of an inline SVG: about 1 KB less per code cell."""
    html = _COPY_TEXT.sub(r"\1 id=\3\2", html)
    return _COPY_ICON.sub(
        '<span aria-hidden="true" class="clipboard-copy-icon"></span>', html
    )


def exclude_from_search(html: str) -> str:
    """``data-search-exclude`` (Material's search skips the element) on what the search index,
    fetched by every page, need not hold: each code cell's second copy (the hidden text of its
    copy button), the button's "Copied!" and plain-text outputs (tensors, reprs). Prose, code
    and Markdown outputs stay searchable."""
    for start in (
        '<div class="clipboard-copy-txt"',
        '<span class="notice"',
        '<div class="jp-RenderedText ',
    ):
        tag, rest = start.split(" ", 1)
        html = html.replace(start, f"{tag} data-search-exclude {rest}")
    return html


def on_page_content(
    html: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    uri = page.file.src_uri
    wrapper = html.find(_WRAPPER)
    notebook = wrapper >= 0
    if notebook:
        head, body = html[:wrapper], html[wrapper:]
        for css in _STYLE.findall(head):
            _pages.css_parts.setdefault(
                css.replace(".highlight ", ".highlight-ipynb "), None
            )
        html = _STYLE.sub("", head) + body
        _pages.notebook.add(uri)
        html = exclude_from_search(
            focusable_scrollers(lighter_copy_buttons(plain_names(html)))
        )
    html, _ = mathml.typeset(html)
    if 'id="bertsteps-explorer"' in html:
        _pages.explorer.add(uri)
    _pages.contents[uri] = html
    return html


# ---------------------------------------------------------------------------------------
# The notebook stylesheet


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets, parentheses and strings."""
    parts, depth, quote, start = [], 0, "", 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_css(css: str) -> list[tuple[str, str | list]]:
    """Top-level rules as ``(prelude, declarations)``, or ``(prelude, [rules])`` for a
    block at-rule (``@media``, ``@supports``); statements such as ``@charset`` are dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules: list[tuple[str, str | list]] = []
    i, n = 0, len(css)
    while i < n:
        brace = css.find("{", i)
        semi = css.find(";", i)
        if brace < 0:
            break
        if 0 <= semi < brace and css[i:semi].strip().startswith(
            "@"
        ):  # @charset, @import
            i = semi + 1
            continue
        depth, j, quote = 1, brace + 1, ""
        while j < n and depth:
            ch = css[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            j += 1
        prelude, body = css[i:brace].strip(), css[brace + 1 : j - 1]
        if prelude.startswith(("@media", "@supports", "@layer", "@container")):
            rules.append((prelude, parse_css(body)))
        else:
            rules.append((prelude, body.strip()))
        i = j
    return rules


_PAREN = re.compile(r"\((?:[^()]|\([^()]*\))*\)")
_NAMES = re.compile(r"([.#])((?:[\w-]|\\.)+)")


def selector_can_match(
    selector: str, classes: set[str], ids: set[str]
) -> bool:
    """False when the selector names a class or id (outside parentheses) that no page has."""
    for kind, name in _NAMES.findall(
        _PAREN.sub("", re.sub(r"\[[^\]]*\]", "", selector))
    ):
        if "\\" in name:
            continue  # an escaped name: kept
        if name not in (classes if kind == "." else ids):
            return False
    return True


def trim_rules(rules: list, classes: set[str], ids: set[str]) -> list:
    """The rules with only the selectors that can match; rules left with none dropped."""
    kept: list = []
    for prelude, body in rules:
        if isinstance(body, list):
            inner = trim_rules(body, classes, ids)
            if inner:
                kept.append((prelude, inner))
        elif prelude.startswith("@"):  # @font-face, @keyframes, @page
            kept.append((prelude, body))
        else:
            selectors = [s.strip() for s in _split_top(prelude, ",")]
            alive = [
                s for s in selectors if selector_can_match(s, classes, ids)
            ]
            if alive and body:
                kept.append((",".join(alive), body))
    return kept


def _declarations(rules: list) -> list[str]:
    out: list[str] = []
    for _, body in rules:
        out.extend(_declarations(body) if isinstance(body, list) else [body])
    return out


def _without_unread(rules: list, read: set[str]) -> tuple[list, bool]:
    """The rules without custom property declarations outside ``read``; whether any went."""
    out: list = []
    removed = False
    for prelude, body in rules:
        if isinstance(body, list):
            inner, gone = _without_unread(body, read)
            removed |= gone
            if inner:
                out.append((prelude, inner))
        elif prelude.startswith("@"):
            out.append((prelude, body))
        else:
            decls = [d.strip() for d in _split_top(body, ";") if d.strip()]
            alive = [
                d
                for d in decls
                if not d.startswith("--") or d.split(":", 1)[0].strip() in read
            ]
            removed |= len(alive) != len(decls)
            if alive:
                out.append((prelude, ";".join(alive)))
    return out, removed


def drop_unread_properties(rules: list, readers: str) -> list:
    """Remove custom property declarations that no ``var()`` in the rules or ``readers``
    reads, again and again (a property read only by removed ones goes too)."""
    while True:
        read = set(
            re.findall(
                r"var\(\s*(--[\w-]+)",
                "\n".join(_declarations(rules)) + readers,
            )
        )
        rules, removed = _without_unread(rules, read)
        if not removed:
            return rules


def write_css(rules: list) -> str:
    lines = []
    for prelude, body in rules:
        if isinstance(body, list):
            lines.append(f"{prelude}{{\n{write_css(body)}\n}}")
        else:
            compact = re.sub(r"\s+", " ", body)
            lines.append(f"{prelude}{{{compact}}}")
    return "\n".join(lines)


def trimmed_notebook_css(css: str, pages: list[str], readers: str) -> str:
    """The rules of ``css`` that can match something in ``pages``, without unread properties."""
    text = "\n".join(pages)
    classes = {
        c
        for attr in re.findall(r'class="([^"]*)"', text)
        for c in attr.split()
    }
    ids = set(re.findall(r'id="([^"]*)"', text))
    rules = trim_rules(parse_css(css), classes, ids)
    return (
        '@charset "UTF-8";\n'
        + write_css(drop_unread_properties(rules, readers))
        + "\n"
    )


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
            list(_pages.contents.values()),
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


def _before_extra_css(output: str, tag: str) -> str:
    """``tag`` in the head after Material's palette, before the site's own stylesheets (extra.css wins)."""
    palette = output.find("assets/stylesheets/palette")
    at = (
        output.find("\n", palette) + 1
        if palette >= 0
        else output.find("</head>")
    )
    return output[:at] + tag + "\n" + output[at:]


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    uri = page.file.src_uri
    head: list[str] = []
    body: list[str] = []
    if uri in _pages.notebook and _pages.notebook_css_url:
        output = _before_extra_css(
            output,
            f'<link rel="stylesheet" href="{_relative(page, _pages.notebook_css_url)}">',
        )
    if uri in _pages.explorer:
        # Material's anchor tracking (navigation.tracking) rewrites the URL's hash as the page
        # scrolls, which would wipe the explorer's state (#word&a=…&b=…): without a mounted
        # table of contents, it does not run on this page.
        output = output.replace(' data-md-component="toc"', "")
        head.append(
            f'<link rel="stylesheet" href="{_relative(page, EXPLORER_CSS)}">'
        )
        body.append(
            f'<script src="{_relative(page, EXPLORER_JS)}" defer></script>'
        )
    if (
        'class="doc doc-' not in output
    ):  # mkdocstrings' stylesheet: only where it rendered API docs
        output = _MKDOCSTRINGS_CSS.sub("", output, count=1)
    output = _BUNDLE.sub(r"\g<0> defer", output, count=1)
    if head:
        output = output.replace("</head>", "\n".join(head) + "\n</head>", 1)
    if body:  # inside the content container: Material's instant navigation runs them too
        at = output.rfind("</article>")
        output = output[:at] + "\n".join(body) + "\n" + output[at:]
    return output
