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

from htmltree import Edit, Tree, splice
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
    tree = Tree(html)
    skipped = [
        (element.start_end, element.inner_end)
        for element in tree.elements
        if element.tag in SKIP_TAGS or element.classes & SKIP_CLASSES
    ]
    edits: list[Edit] = []
    total = 0
    for start, end, text in tree.text_runs():
        if ("$" not in text and "\\" not in text) or any(
            a <= start < b for a, b in skipped
        ):
            continue
        typeset_text, count = _typeset_text(text)
        if count:
            edits.append((start, end, typeset_text))
            total += count
    return splice(html, edits), total
