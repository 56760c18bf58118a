"""MkDocs hook: check the links inside notebook pages, which MkDocs itself does not validate.

MkDocs checks links in Markdown pages (``validation`` in mkdocs.yml). Chapter pages are
rendered by nbconvert, so their links are checked here, after the build, against the
built site: a relative link must reach a page or file of the site, and its ``#anchor``
an ``id`` on that page. A broken link is logged as a warning, so ``--strict`` fails.
"""

from __future__ import annotations

import logging
import os
import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.links")

_ids: dict[str, set[str]] = {}  # page url -> ids on that page
_links: list[tuple[str, str]] = []  # (page url, href) found in chapters
_urls: set[str] = set()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        for name, value in attrs:
            if name in {"id", "name"} and value:
                self.ids.add(value)
            elif name == "href" and tag == "a" and value:
                self.hrefs.append(value)


def on_pre_build(config: MkDocsConfig) -> None:
    _ids.clear()
    _links.clear()
    _urls.clear()


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    whole = _Collector()
    whole.feed(output)
    _ids[page.url] = whole.ids
    if page.file.src_uri.startswith("examples/"):
        content = _Collector()
        content.feed(page.content or "")
        _links.extend((page.url, href) for href in content.hrefs)
    return output


def on_post_build(config: MkDocsConfig) -> None:
    site = config.site_dir
    for page_url, href in _links:
        parts = urlsplit(href)
        if (
            parts.scheme
            or parts.netloc
            or href.startswith(("mailto:", "javascript:"))
        ):
            continue  # external links are not ours to check offline
        target = page_url
        if parts.path:
            base = posixpath.dirname(
                page_url + "x"
            )  # the folder the page's relative links start from
            target = posixpath.normpath(
                posixpath.join(base, unquote(parts.path))
            )
            target = (
                ""
                if target == "."
                else target + ("/" if parts.path.endswith("/") else "")
            )
        on_disk = os.path.join(site, target)
        if target not in _ids and not (
            os.path.isfile(on_disk)
            or os.path.isfile(os.path.join(on_disk, "index.html"))
        ):
            log.warning(
                "Chapter page '%s' links to '%s', which is not in the site",
                page_url,
                href,
            )
            continue
        if (
            parts.fragment
            and target in _ids
            and unquote(parts.fragment) not in _ids[target]
        ):
            log.warning(
                "Chapter page '%s' links to '%s', but that page has no anchor '#%s'",
                page_url,
                href,
                parts.fragment,
            )
