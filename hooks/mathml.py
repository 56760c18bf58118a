"""TeX in a page's text, typeset once at build time as MathML: no script, no font download.

Chromium, Firefox and Safari render MathML Core themselves, so a page with formulas weighs
what its text weighs (MathJax 2 was about 540 KiB on every page with a formula) and the
formulas are read by screen readers as mathematics.

What counts as TeX is what MathJax looked for on these pages: ``$…$`` and ``$$…$$`` in a
notebook's Markdown (cells and Markdown outputs), ``\\(…\\)`` and ``\\[…\\]`` (what
``pymdownx.arithmatex`` writes in generic mode on Markdown pages). Text inside ``code``,
``pre``, ``script``, ``style``, ``textarea``, ``svg``, ``math`` and elements of class
``clipboard-copy-txt`` (the hidden copy of a code cell) is left alone, as are entities
elsewhere: only the text between two tags is rewritten, and only where it holds TeX.
A display formula sits in a ``span.bertsteps-math`` that scrolls sideways when the column
is narrower than the formula (docs/stylesheets/extra.css), reachable by keyboard.

>>> typeset('<p>A cosine of $1$ means <code>$x$</code>.</p>')[0].count("<math")
1
"""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser

from latex2mathml.converter import convert

SKIP_TAGS = frozenset(
    {
        "code",
        "pre",
        "script",
        "style",
        "textarea",
        "svg",
        "math",
        "kbd",
        "samp",
    }
)
SKIP_CLASSES = frozenset({"clipboard-copy-txt", "tex2jax_ignore", "nomath"})

# Display first, so "$$x$$" is not read as two empty inline formulas around "x".
_TEX = re.compile(
    r"\$\$(?P<d1>.+?)\$\$"
    r"|\\\[(?P<d2>.+?)\\\]"
    r"|\\\((?P<i1>.+?)\\\)"
    r"|(?<![\\$\w])\$(?P<i2>[^\s$](?:[^$\n]*?[^\s$\\])?)\$(?!\d)",
    re.DOTALL,
)


class MathError(ValueError):
    """A formula that cannot be typeset: the build stops and names it."""


class _TextSpans(HTMLParser):
    """Offsets ``[start, end)`` of every run of text outside the skipped elements."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0]
        for line in source.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.events: list[
            tuple[int, bool]
        ] = []  # (offset, is text we may rewrite)
        self.skipping: list[str] = []  # tag names of the open skipped elements

    def _here(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _markup(self) -> None:
        self.events.append((self._here(), False))

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        self._markup()
        classes = set((dict(attrs).get("class") or "").split())
        if self.skipping and tag == self.skipping[0]:
            self.skipping.append(tag)  # the same element nested: count it
        elif not self.skipping and (
            tag in SKIP_TAGS or classes & SKIP_CLASSES
        ):
            self.skipping.append(tag)

    def handle_startendtag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        self._markup()

    def handle_endtag(self, tag: str) -> None:
        self._markup()
        if self.skipping and tag == self.skipping[0]:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        self.events.append((self._here(), not self.skipping))

    def handle_comment(self, data: str) -> None:
        self._markup()

    def handle_decl(self, decl: str) -> None:
        self._markup()

    def handle_pi(self, data: str) -> None:
        self._markup()

    def unknown_decl(self, data: str) -> None:
        self._markup()

    def spans(self) -> list[tuple[int, int]]:
        self.feed(self.source)
        self.close()
        ends = [offset for offset, _ in self.events[1:]] + [len(self.source)]
        return [
            (start, end)
            for (start, text), end in zip(self.events, ends, strict=True)
            if text and end > start
        ]


def to_mathml(tex: str, display: bool) -> str:
    """One formula as a ``<math>`` element.

    >>> to_mathml(r"\\sqrt{d}", display=False)[:50]
    '<math xmlns="http://www.w3.org/1998/Math/MathML" d'
    """
    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises several kinds
        raise MathError(
            f"cannot typeset the formula {tex!r} as MathML ({error}); "
            "write it with commands latex2mathml knows, or escape the $"
        ) from error
    if (
        "\\" in mathml
    ):  # latex2mathml passes a command it does not know through
        raise MathError(
            f"the formula {tex!r} uses a command latex2mathml does not know; "
            "write it with another command"
        )
    return mathml


def _typeset_text(text: str) -> tuple[str, int]:
    """Plain text (entities decoded) with each formula replaced by MathML, re-escaped."""
    out: list[str] = []
    count = 0
    at = 0
    for match in _TEX.finditer(text):
        out.append(htmllib.escape(text[at : match.start()], quote=False))
        display = match["d1"] is not None or match["d2"] is not None
        tex = next(g for g in match.groups() if g is not None)
        formula = to_mathml(tex, display)
        if (
            display
        ):  # scrolls sideways on a narrow screen: reachable by keyboard, named
            formula = (
                '<span class="bertsteps-math" tabindex="0" role="group" '
                f'aria-label="Formula">{formula}</span>'
            )
        out.append(formula)
        count += 1
        at = match.end()
    out.append(htmllib.escape(text[at:], quote=False))
    return "".join(out), count


def typeset(html: str) -> tuple[str, int]:
    """``html`` with every formula in its text typeset as MathML, and how many there were.

    >>> page, n = typeset(r'<p>\\(d_k\\) and $$\\frac{1}{d}$$</p>')
    >>> n, page.count('display="block"')
    (2, 1)
    """
    pieces: list[str] = []
    total = 0
    at = 0
    for start, end in _TextSpans(html).spans():
        text = htmllib.unescape(html[start:end])
        if "$" not in text and "\\" not in text:
            continue
        typeset_text, count = _typeset_text(text)
        if count:
            pieces.append(html[at:start])
            pieces.append(typeset_text)
            at = end
            total += count
    pieces.append(html[at:])
    return "".join(pieces), total
