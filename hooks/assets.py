"""MkDocs hook: what the site serves itself, and what it says about the checkpoint.

- No page loads MathJax: formulas are typeset as MathML at build time
  (``hooks/mathml.py``, called by ``hooks/pageassets.py``). The MathJax script tag
  mkdocs-jupyter adds to each notebook page is removed, and so is nbconvert's mermaid
  loader, which would import mermaid from a CDN.
- ``config.extra.checkpoint`` holds what the checkpoint this build renders with is (the
  fields of its :func:`bertsteps.model_card`, read once per build by hooks/buildstate.py),
  for the footer and the home page.
- ``$BERTSTEPS_SITE_VERSION`` (set by ``hooks/sites.py``) makes this build one rendering of
  several: Material's version selector, and a ``site_url`` ending in that folder.
"""

from __future__ import annotations

import dataclasses
import os
from html.parser import HTMLParser
from typing import Any

import buildstate  # hooks/buildstate.py: MkDocs puts a hook's own folder on sys.path while loading it
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MATHJAX_URL_IN_NOTEBOOKS = (
    "bertsteps:site-mathjax"  # mkdocs.yml's custom_mathjax_url; stripped below
)


class _Strip(HTMLParser):
    """Finds, with an HTML parser, the elements of a page's content that the site does not want:
    the MathJax loader and settings mkdocs-jupyter adds to a notebook page (the site uses no
    MathJax) and nbconvert's mermaid loader, which imports mermaid from a CDN (the chapters
    draw no diagrams). Whatever the attributes' order, quoting or spacing."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.html = html
        self.line_starts = [0] + [
            i + 1 for i, ch in enumerate(html) if ch == "\n"
        ]
        self.spans: list[tuple[int, int]] = []
        self.script: tuple[int, dict[str, str | None], list[str]] | None = None

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        if tag == "script":
            self.script = (self.position(), dict(attrs), [])

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self.script is None:
            return
        start, attrs, text = self.script
        self.script = None
        end = self.html.find(">", self.position()) + 1
        kind = (attrs.get("type") or "").lower()
        if (
            attrs.get("src") == MATHJAX_URL_IN_NOTEBOOKS
            or kind == "text/x-mathjax-config"
            or (kind == "module" and "jp-Mermaid" in "".join(text))
        ):
            self.spans.append((start, end))

    def handle_comment(self, data: str) -> None:
        if data.strip() == "MathJax configuration":
            start = self.position()
            self.spans.append((start, self.html.find("-->", start) + 3))


def strip_notebook_scripts(html: str) -> str:
    """``html`` without mkdocs-jupyter's MathJax loader and settings and nbconvert's mermaid loader."""
    if "<script" not in html:
        return html
    parser = _Strip(html)
    parser.feed(html)
    parser.close()
    kept, at = [], 0
    for start, end in sorted(parser.spans):
        kept.append(html[at:start])
        at = end
    kept.append(html[at:])
    return "".join(kept)


def checkpoint_facts(card: Any) -> dict[str, object]:
    """What templates say about the checkpoint: the fields and sentences of its ``bertsteps.ModelCard``, and how it compares with bert-base."""
    compare_with_bert_base = buildstate.bertsteps().compare_with_bert_base
    return {
        **dataclasses.asdict(card),
        "head_size": card.head_size,
        "summary": card.summary,
        "comparison": compare_with_bert_base(card),
    }


@mkdocs.plugins.event_priority(100)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    # for templates (the footer) and the home page's macros: they read config.extra
    config.extra["checkpoint"] = checkpoint_facts(
        buildstate.for_config(config).card
    )
    version = os.environ.get("BERTSTEPS_SITE_VERSION", "").strip()
    if version:  # one rendering of several (hooks/sites.py): Material's selector reads ../versions.json
        config.extra["version"] = {"provider": "mike"}
        if config.site_url:
            config.site_url = config.site_url.rstrip("/") + f"/{version}/"
    return config


def on_page_content(
    html: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    return strip_notebook_scripts(html)
