"""Stylesheets cut to what the site's pages can use, read with a small CSS reader.

- :func:`trimmed_notebook_css`: mkdocs-jupyter's JupyterLab stylesheet, without the rules
  for classes and ids that no page has, and without the custom properties nothing reads
  (``hooks/pageassets.py`` serves it once for every chapter).
- :func:`split_for_first_paint`: Material's ``main.css`` (and ``palette.css``) in two. The *first* part holds
  every rule that can match an element a page is built with, or one Material's script
  adds as it starts (:func:`material_script_names`); it is the only stylesheet of
  Material's that holds up the first paint. The *rest* (search results, dialogs,
  tooltips, right-to-left layouts, features this site does not use) arrives after the
  page has loaded. Whether a rule "can match" is decided from the names a selector
  requires: its classes, ids, element names and attributes must each occur somewhere on
  the site. States (``:hover``, ``:checked``, ``::before``...) and the insides of
  ``:not()``, ``:is()``, ``:where()`` and ``:has()`` are ignored, so a rule in doubt stays
  in the first part.

Example:
    >>> names = Names.of_html('<p class="note">hi</p>')
    >>> first, rest = split_for_first_paint(
    ...     ".note{color:red}.tip{color:blue}@media print{p{margin:0}}", names
    ... )
    >>> first, rest
    ('@charset "UTF-8";\\n.note{color:red}\\n@media print{\\np{margin:0}\\n}\\n', '@charset "UTF-8";\\n.tip{color:blue}\\n')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


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


def write_css(rules: list, *, compact: bool = True) -> str:
    """The rules as CSS, one to a line; ``compact`` folds runs of white space in the
    declarations (custom property values keep theirs otherwise, as a browser does)."""
    lines = []
    for prelude, body in rules:
        if isinstance(body, list):
            inner = write_css(body, compact=compact)
            lines.append(f"{prelude}{{\n{inner}\n}}")
        else:
            text = re.sub(r"\s+", " ", body) if compact else body
            lines.append(f"{prelude}{{{text}}}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# What a selector needs


@dataclass
class Names:
    """The names a site's elements carry. A field left as None is not checked (the
    notebook stylesheet is trimmed by classes and ids only)."""

    classes: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    tags: set[str] | None = None
    attributes: set[str] | None = None  # attribute names
    values: set[tuple[str, str]] | None = None  # (name, value) pairs
    any_value: set[str] = field(
        default_factory=set
    )  # attributes a script sets, to any value
    class_prefixes: tuple[str, ...] = ()  # classes a script builds: md-tag--…

    @classmethod
    def of_html(cls, *pages: str) -> Names:
        """Every name in ``pages`` (whole HTML documents or fragments).

        Example:
            >>> sorted(Names.of_html('<a class="x y" id=z href=#>.</a>').classes)
            ['x', 'y']
        """
        names = cls(tags=set(), attributes=set(), values=set())
        for page in pages:
            names.add_html(page)
        return names

    def add_html(self, page: str) -> None:
        _Reader(self).feed(page)

    def add_element(
        self, tag: str, attrs: dict[str, str | None] | list
    ) -> None:
        if self.tags is not None:
            self.tags.add(tag)
        for name, value in dict(attrs).items():
            if self.attributes is not None:
                self.attributes.add(name)
            if value is None:
                continue
            if self.values is not None:
                self.values.add((name, value))
            if name == "class":
                self.classes.update(value.split())
            elif name == "id":
                self.ids.add(value)


class _Reader(HTMLParser):
    def __init__(self, names: Names) -> None:
        super().__init__(convert_charrefs=True)
        self.names = names

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        self.names.add_element(tag, attrs)


_PAREN = re.compile(r"\((?:[^()]|\([^()]*\))*\)")
_NAMES = re.compile(r"([.#])((?:[\w-]|\\.)+)")
_ATTRIBUTE = re.compile(
    r"\[\s*([\w-]+)\s*(?:([~|^$*]?=)\s*(\"[^\"]*\"|'[^']*'|[\w-]+)\s*([iIsS])?\s*)?\]"
)
_STATE = re.compile(r"::?[\w-]+")
# an element name: at the start of a compound selector (after a combinator or a comma)
_TAG = re.compile(r"(?:^|[\s>+~(,])([a-zA-Z][\w-]*)")


def selector_can_match(selector: str, names: Names) -> bool:
    """False when the selector needs a class, id, element or attribute (outside
    parentheses) that no page has.

    Example:
        >>> names = Names.of_html('<input type="checkbox" class="toggle">')
        >>> selector_can_match(".toggle:checked~div", names)
        False
        >>> selector_can_match("input.toggle:checked::after", names)
        True
    """
    bare = _PAREN.sub("", selector)
    for match in _ATTRIBUTE.finditer(bare):
        name, operator, value, flag = match.groups()
        if names.attributes is None or name in names.any_value:
            continue
        if name not in names.attributes:
            return False
        if operator == "=" and not flag and names.values is not None:
            if value[0] in "\"'":
                value = value[1:-1]
            if (name, value) not in names.values:
                return False
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    for kind, name in _NAMES.findall(bare):
        if "\\" in name:
            continue  # an escaped name: kept
        if kind == "#":
            if name not in names.ids:
                return False
        elif name not in names.classes and not name.startswith(
            names.class_prefixes or ("\0",)
        ):
            return False
    if names.tags is not None:
        plain = _STATE.sub("", re.sub(r"[.#](?:[\w-]|\\.)+", "", bare))
        for tag in _TAG.findall(plain):
            if tag.lower() not in names.tags:
                return False
    return True


# ---------------------------------------------------------------------------------------
# The notebook stylesheet


def trim_rules(rules: list, names: Names) -> list:
    """The rules with only the selectors that can match; rules left with none dropped."""
    kept: list = []
    for prelude, body in rules:
        if isinstance(body, list):
            inner = trim_rules(body, names)
            if inner:
                kept.append((prelude, inner))
        elif prelude.startswith("@"):  # @font-face, @keyframes, @page
            kept.append((prelude, body))
        else:
            selectors = [s.strip() for s in _split_top(prelude, ",")]
            alive = [s for s in selectors if selector_can_match(s, names)]
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


def trimmed_notebook_css(
    css: str, classes: set[str], ids: set[str], readers: str
) -> str:
    """The rules of ``css`` that can match an element with one of ``classes`` or ``ids`` (those
    of every page), without unread properties."""
    rules = trim_rules(parse_css(css), Names(classes=classes, ids=ids))
    return (
        '@charset "UTF-8";\n'
        + write_css(drop_unread_properties(rules, readers))
        + "\n"
    )


# ---------------------------------------------------------------------------------------
# Material's stylesheet, for the first paint and after it

# What Material's script draws only when the reader acts (types a search, hovers, copies):
# its rules can wait for the rest of the stylesheet.
AFTER_READER_ACTS = ("md-search-result", "md-dialog", "md-tooltip")


def material_script_names(script: str) -> Names:
    """The classes and ``data-md-`` attributes Material's ``bundle.js`` can set, but those of
    :data:`AFTER_READER_ACTS`. A name ending in ``-`` is built on (``md-tag--…``).

    Example:
        >>> js = 'e.classList.add("md-header--shadow");n="md-tag--"+t;x("md-dialog--active")'
        >>> names = material_script_names(
        ...     js + ';setAttribute("data-md-state","");b.dataset("data-md-color-scheme")'
        ... )
        >>> sorted(names.classes), names.class_prefixes, names.any_value
        (['focus-visible', 'js', 'md-header--shadow'], ('md-tag--',), {'data-md-state'})
    """
    tokens = set(re.findall(r"(?<![\w-])md-[\w-]+", script))
    classes = {
        t
        for t in tokens
        if not t.endswith("-") and not t.startswith(AFTER_READER_ACTS)
    }
    prefixes = tuple(
        sorted(
            t
            for t in tokens
            if t.endswith("-") and not t.startswith(AFTER_READER_ACTS)
        )
    )
    # The palette's colours (data-md-color-scheme, -primary, -accent, -media) are copied
    # from the palette's inputs, whose values are in the page: those values, no others.
    attributes = {
        a
        for a in re.findall(r"(?<![\w-])data-md-[\w-]+", script)
        if not a.startswith("data-md-color-")
    }
    return Names(
        # the focus-visible polyfill's class; "js" replaces "no-js" on <html>
        classes=classes | {"focus-visible", "js"},
        any_value=attributes,
        class_prefixes=prefixes,
    )


def _split(rules: list, names: Names) -> tuple[list, list]:
    first: list = []
    rest: list = []
    for prelude, body in rules:
        if isinstance(body, list):
            inner_first, inner_rest = _split(body, names)
            if inner_first:
                first.append((prelude, inner_first))
            if inner_rest:
                rest.append((prelude, inner_rest))
        elif prelude.startswith("@") or any(
            selector_can_match(s.strip(), names)
            for s in _split_top(prelude, ",")
        ):  # @font-face, @keyframes, @property: with the first part
            first.append((prelude, body))
        else:
            rest.append((prelude, body))
    return first, rest


def split_for_first_paint(css: str, names: Names) -> tuple[str, str]:
    """``css`` as two stylesheets: the rules that can match an element with ``names``, and
    the others; each keeps the rules' order (see the module's docstring for an example)."""
    first, rest = _split(parse_css(css), names)
    head = '@charset "UTF-8";\n'
    return (
        head + write_css(first, compact=False) + "\n",
        head + write_css(rest, compact=False) + "\n",
    )


def with_script_names(page_names: Names, script: Names) -> Names:
    """The names of the pages and those a script adds, for :func:`split_for_first_paint`."""
    return Names(
        classes=page_names.classes | script.classes,
        ids=set(page_names.ids),
        tags=None if page_names.tags is None else set(page_names.tags),
        attributes=None
        if page_names.attributes is None
        else page_names.attributes | script.any_value,
        values=None if page_names.values is None else set(page_names.values),
        any_value=page_names.any_value | script.any_value,
        class_prefixes=page_names.class_prefixes + script.class_prefixes,
    )
