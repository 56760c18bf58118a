"""A page's elements and runs of text with their offsets, read with Python's html.parser.

The hooks change a page by editing it at these offsets (:func:`splice`) and leave every
other byte as it was: ``hooks/pageassets.py`` (scrolling blocks, copy buttons, names)
and ``hooks/mathml.py`` (formulas in the text).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from html.parser import HTMLParser

# HTML's void elements: they have no content and no end tag.
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# A start tag's name, then each of its attributes, as html.parser reads them (its
# tagfind_tolerant and attrfind_tolerant): where an attribute lies inside a start tag.
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*(?:\s|/(?!>))*")
_ATTRIBUTE = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*"
    r"('[^']*'|\"[^\"]*\"|(?!['\"])[^>\s]*))?(?:\s|/(?!>))*"
)


class Element:
    """One element of a page: its tag, its attributes, and where it lies in the page's text.

    ``start`` is the ``<`` of its start tag and ``start_end`` the offset after that tag's
    ``>``; ``inner_end`` is the ``<`` of its end tag and ``end`` the offset after it. An
    element without an end tag (a void element, or one left open) ends where its content
    ends: there ``inner_end == end``.
    """

    __slots__ = (
        "_classes",
        "attrs",
        "children",
        "end",
        "inner_end",
        "parent",
        "previous",
        "start",
        "start_end",
        "tag",
    )

    def __init__(
        self,
        tag: str,
        attrs: list[tuple[str, str | None]],
        start: int,
        start_end: int,
        parent: Element | None,
        previous: Element | None,
    ) -> None:
        self.tag = tag
        # a repeated attribute: the first counts, as in a browser
        self.attrs: dict[str, str | None] = dict(reversed(attrs))
        self._classes: frozenset[str] | None = None
        self.start = start
        self.start_end = start_end
        self.inner_end = start_end
        self.end = start_end
        self.parent = parent
        self.previous = previous  # the element just before it in its parent
        self.children: list[Element] = []

    @property
    def classes(self) -> frozenset[str]:
        if self._classes is None:
            self._classes = frozenset((self.attrs.get("class") or "").split())
        return self._classes

    def descendants(self) -> Iterator[Element]:
        for child in self.children:
            yield child
            yield from child.descendants()


class Tree(HTMLParser):
    """A page's elements, in document order, with their offsets in ``source``, and its text.

    End tags close the innermost open element of their name (the ones opened inside it and
    left open end there too); an end tag with no open element of its name is ignored.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0]  # html.parser counts lines at "\n" only
        at = source.find("\n")
        while at >= 0:
            self.line_starts.append(at + 1)
            at = source.find("\n", at + 1)
        self.elements: list[Element] = []
        self.roots: list[Element] = []
        # Each run of text: where it starts, and its text (character references decoded).
        self.text_at: list[int] = []
        self.texts: list[str] = []
        self.token_at: list[
            int
        ] = []  # where every tag, run of text or comment starts
        self._open: list[Element] = []
        # Closed by the last end tag: they end where the next token starts.
        self._closing: list[Element] = []
        self.feed(source)
        self.close()
        for element in self._closing:
            element.end = len(source)
        for element in self._open:
            element.inner_end = element.end = len(source)

    def _here(self) -> int:
        line, column = self.getpos()
        at = self.line_starts[line - 1] + column
        self.token_at.append(at)
        if self._closing:
            for element in self._closing:
                element.end = at
            self._closing.clear()
        return at

    def _element(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> Element:
        start = self._here()
        parent = self._open[-1] if self._open else None
        siblings = parent.children if parent is not None else self.roots
        element = Element(
            tag,
            attrs,
            start,
            start + len(self.get_starttag_text() or ""),
            parent,
            siblings[-1] if siblings else None,
        )
        siblings.append(element)
        self.elements.append(element)
        return element

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        element = self._element(tag, attrs)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        at = self._here()
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth].tag == tag:
                break
        else:
            return
        for element in self._open[depth + 1 :]:
            element.inner_end = element.end = at
        element = self._open[depth]
        element.inner_end = at
        self._closing.append(element)
        del self._open[depth:]

    def handle_data(self, data: str) -> None:
        self.text_at.append(self._here())
        self.texts.append(data)

    def handle_comment(self, data: str) -> None:
        self._here()

    def handle_decl(self, decl: str) -> None:
        self._here()

    def handle_pi(self, data: str) -> None:
        self._here()

    def unknown_decl(self, data: str) -> None:
        self._here()

    def text_runs(self) -> Iterator[tuple[int, int, str]]:
        """Each run of text: its start and end in ``source``, and its text (decoded)."""
        for start, text in zip(self.text_at, self.texts, strict=True):
            following = bisect.bisect_right(self.token_at, start)
            end = (
                self.token_at[following]
                if following < len(self.token_at)
                else len(self.source)
            )
            yield start, end, text

    def text(self, element: Element) -> str:
        """The element's text, character references decoded, without its tags."""
        first = bisect.bisect_left(self.text_at, element.start_end)
        last = bisect.bisect_left(self.text_at, element.inner_end)
        return "".join(self.texts[first:last])

    def first(self, tag: str, cls: str) -> Element | None:
        """The first ``tag`` element of class ``cls``."""
        return next(
            (e for e in self.elements if e.tag == tag and cls in e.classes),
            None,
        )

    def after_name(self, element: Element) -> int:
        """Where an attribute goes first: right after the start tag's name."""
        return element.start + 1 + len(element.tag)

    def before_close(self, element: Element) -> int:
        """Where an attribute goes last: before the start tag's ``>`` (or ``/>``)."""
        at = element.start_end - 1
        if self.source[at - 1] == "/" and self.source[at - 2] in " \"'":
            at -= 1
        return at

    def attribute(self, element: Element, name: str) -> tuple[int, int] | None:
        """Where the attribute ``name`` (its name, ``=`` and value) lies in the page."""
        tag = self.source[element.start : element.start_end]
        match = _TAG_NAME.match(tag)
        at = match.end() if match else len(tag)
        while (
            attribute := _ATTRIBUTE.match(tag, at)
        ) and attribute.end() > at:
            if attribute.group(1).lower() == name:
                end = (
                    attribute.end(3)
                    if attribute.group(3) is not None
                    else attribute.end(1)
                )
                return element.start + attribute.start(1), element.start + end
            at = attribute.end()
        return None

    def whitespace_after(self, at: int) -> int:
        while at < len(self.source) and self.source[at].isspace():
            at += 1
        return at

    def whitespace_before(self, at: int) -> int:
        while at > 0 and self.source[at - 1].isspace():
            at -= 1
        return at


# (start, end, text): text in place of source[start:end].
Edit = tuple[int, int, str]


def splice(source: str, edits: list[Edit]) -> str:
    """``source`` with every edit made; insertions at one offset keep their order."""
    out: list[str] = []
    at = 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < at:
            raise ValueError(f"overlapping edits at offset {start}")
        out.append(source[at:start])
        out.append(text)
        at = end
    out.append(source[at:])
    return "".join(out)
