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
import re
from typing import Any

import buildstate  # hooks/buildstate.py: MkDocs puts a hook's own folder on sys.path while loading it
import mkdocs.plugins
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

MATHJAX_URL_IN_NOTEBOOKS = (
    "bertsteps:site-mathjax"  # mkdocs.yml's custom_mathjax_url; stripped below
)
_NOTEBOOK_MATHJAX = re.compile(
    r'<script src="'
    + re.escape(MATHJAX_URL_IN_NOTEBOOKS)
    + r'">\s*</script>\s*'
    r'<!-- MathJax configuration -->\s*<script type="text/x-mathjax-config">.*?</script>',
    re.DOTALL,
)
# nbconvert's loader for mermaid diagrams imports mermaid from a CDN; the chapters draw none.
_NOTEBOOK_MERMAID = re.compile(
    r'<script type="module">(?:(?!</script>).)*?jp-Mermaid.*?</script>',
    re.DOTALL,
)


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
    return _NOTEBOOK_MERMAID.sub("", _NOTEBOOK_MATHJAX.sub("", html))
