"""Plots that look right on the site: SVG with real text, alt text, readable in light and dark mode.

Every function returns a [`Figure`][bertsteps.Figure]. In a notebook the figure shows itself as an
inline SVG (whatever ``MPLBACKEND`` says, since it is not a pyplot figure), carrying
its alt text as ``aria-label`` and ``<title>``; in a script, call ``fig.savefig(...)``.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.figure
import matplotlib.patches
import numpy as np

from .errors import BertStepsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

    from .similarity import ArrayLike

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, testable
    "svg.hashsalt": "bertsteps",  # stable ids, so unchanged plots give unchanged pages
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "figure.facecolor": "white",  # a white card stays readable on a dark page
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "text.color": "#1f2328",
    "axes.labelcolor": "#1f2328",
    "xtick.color": "#1f2328",
    "ytick.color": "#1f2328",
}


MARKED_POINTS = 40
"""A connected series with more points than this is drawn as a line alone."""

PHONE_COLUMN_PX = 358
"""The article column of a 390 px phone (Material's 16 px margins), in CSS pixels."""


_LONG_NUMBER = re.compile(r"-?\d+\.\d{3,}")
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [-\d.]+ [-\d.]+\)"')
_FONT_FAMILY = "font-family: 'DejaVu Sans'; "
_STYLED_TAG = re.compile(
    r'<(text|use|path) ((?:(?!class=)[^>])*?)style="([^"]*)"'
)
_BETWEEN_TAGS = re.compile(r">\s+<")
_ID = re.compile(r' id="([^"]+)"')
_REFERENCE = re.compile(r'(?:url\(#|href="#)([^)"]+)')


_GROUP_TAG = re.compile(r"<g(?: [^>]*)?>|</g>")


def _without_bare_groups(body: str) -> str:
    """``<g>`` elements without attributes taken out, their children kept: a group that
    sets nothing changes nothing."""
    out: list[str] = []
    bare: list[bool] = []  # for each open <g>: whether it has no attributes
    at = 0
    for match in _GROUP_TAG.finditer(body):
        out.append(body[at : match.start()])
        tag = match.group()
        if tag == "</g>":
            if not bare.pop():
                out.append(tag)
        else:
            bare.append(tag == "<g>")
            if tag != "<g>":
                out.append(tag)
        at = match.end()
    out.append(body[at:])
    return "".join(out).replace("<g/>", "")


def _two_places(match: re.Match[str]) -> str:
    return f"{float(match.group()):.2f}".rstrip("0").rstrip(".")


def compact_svg(svg: str) -> str:
    """Matplotlib's SVG, lighter and drawn the same: coordinates to 0.01 pt, no rotation
    by 0 degrees, the font family said once on the ``<svg>``, no blank space between tags,
    no ids that nothing references, no groups that set nothing, and a style that several labels, ticks or lines
    share written once, as a class named after the figure (so two figures on one page
    never share a name).

    Examples:
        >>> compact_svg('<svg viewBox="0 0 9 9">\\n <path d="M 1.234567 2 L 3 4.000001"/>'
        ...             '<text style="font-size: 10px; font-family: \\'DejaVu Sans\\'; fill: #000"'
        ...             ' transform="rotate(-0 1.5 2.5)" x="1.5" y="2.5">a</text></svg>')
        '<svg font-family="\\'DejaVu Sans\\'" viewBox="0 0 9 9"><path d="M 1.23 2 L 3 4"/><text style="font-size: 10px; fill: #000" x="1.5" y="2.5">a</text></svg>'
    """
    head_end = svg.index(">")
    head = svg[:head_end].replace(
        "<svg ", "<svg font-family=\"'DejaVu Sans'\" ", 1
    )
    body = _NO_ROTATION.sub("", svg[head_end:]).replace(_FONT_FAMILY, "")
    # numbers only outside embedded images (their base64 text has no decimal points)
    body = _BETWEEN_TAGS.sub("><", _LONG_NUMBER.sub(_two_places, body))
    # matplotlib names every group (figure_1, axes_1, ...): the same ids in every figure
    # of a page; only those a clip path, marker or image reference stay
    used = set(_REFERENCE.findall(body))
    body = _ID.sub(lambda m: m.group(0) if m.group(1) in used else "", body)
    body = _without_bare_groups(body)
    counts = Counter(m.group(3) for m in _STYLED_TAG.finditer(body))
    shared = [style for style, n in counts.most_common() if n > 1]
    if not shared:
        return head + body
    prefix = "b" + hashlib.sha1(body.encode()).hexdigest()[:6]
    names = {style: f"{prefix}{i:x}" for i, style in enumerate(shared)}
    body = _STYLED_TAG.sub(
        lambda m: (
            f'<{m.group(1)} {m.group(2)}class="{names[m.group(3)]}"'
            if m.group(3) in names
            else m.group(0)
        ),
        body,
    )
    rules = "".join(
        f".{name}{{{style.replace(': ', ':').replace('; ', ';')}}}"
        for style, name in names.items()
    )
    return f"{head}><style>{rules}</style{body}"


@dataclass(frozen=True)
class NumberTable:
    """The numbers of one heatmap whose cells do not show them all, for
    [`Figure.to_html`][bertsteps.Figure.to_html]: its ``values`` written with ``fmt``,
    ``rows`` and ``cols`` as header cells, ``corner`` in the top-left header cell (says
    what the rows and columns are), ``caption`` the heatmap's title (its lines kept)."""

    caption: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    values: np.ndarray
    fmt: str
    corner: str = "row \\ column"

    def to_html(self, fallback_caption: str = "") -> str:
        """One ``<table>``: a caption, a header row, then a row header and the values on
        each row. Optional end tags (``</td>``, ``</th>``, ``</tr>``, ``</thead>``) are left
        out and no cell has an attribute but a header's ``scope``: a 64 by 64 matrix
        adds about 36 KB (about 6 KB gzipped).

        Examples:
            >>> NumberTable("a & b", ("x",), ("y", "z"), np.array([[0.5, -1.0]]), ".1f").to_html()
            '<table><caption>a &amp; b</caption><thead><tr><th scope="col">row \\\\ column<th scope="col">y<th scope="col">z<tbody><tr><th scope="row">x<td>0.5<td>-1.0</table>'
        """
        esc = html.escape
        caption = "<br>".join(
            esc(line)
            for line in (self.caption or fallback_caption).splitlines()
        )
        head = "".join(f'<th scope="col">{esc(c)}' for c in self.cols)
        body = "".join(
            f'<tr><th scope="row">{esc(r)}'
            + "".join(f"<td>{format(v, self.fmt)}" for v in row)
            for r, row in zip(self.rows, self.values, strict=True)
        )
        return (
            f"<table>{f'<caption>{caption}</caption>' if caption else ''}"
            f'<thead><tr><th scope="col">{esc(self.corner)}{head}'
            f"<tbody>{body}</table>"
        )


class Figure(matplotlib.figure.Figure):
    """A matplotlib Figure that knows its alt text and renders itself as accessible inline SVG.

    ``numbers`` holds one ``NumberTable`` per heatmap
    whose cells do not show every value ([`plot_matrix`][bertsteps.plot_matrix] and
    [`plot_matrices`][bertsteps.plot_matrices] fill it); ``to_html`` adds them as tables.

    Examples:
        >>> fig = figure(alt="an empty plot")
        >>> "aria-label=\\"an empty plot\\"" in fig.to_html()
        True
    """

    alt: str = "A figure."
    numbers: tuple[NumberTable, ...] = ()

    def to_svg(self) -> str:
        """The figure as an SVG document (text as text, no timestamp)."""
        buf = io.StringIO()
        with matplotlib.rc_context(STYLE):
            self.savefig(
                buf,
                format="svg",
                bbox_inches="tight",
                # no timestamp, and no RDF block naming the format and the program
                metadata={
                    "Date": None,
                    "Creator": None,
                    "Format": None,
                    "Type": None,
                },
            )
        svg = buf.getvalue()
        return compact_svg(svg[svg.index("<svg") :])

    def to_html(self) -> str:
        """The SVG inline with ``role="img"``, ``aria-label`` and ``<title>``, scaled to the page.

        Its ``width`` is its natural size in CSS pixels and ``max-width:100%`` with the
        ``viewBox`` lets it shrink with the column on a phone (a percentage width would not:
        inside a shrink-to-fit box, such as Material's ``figure``, it falls back to 300 px).
        On a narrow screen, where the shrunken text would be small, a "Full size" box under
        the figure shows it at its natural width (``--natural-width``) in a box that scrolls
        sideways (docs/stylesheets/extra.css; no script).

        When some heatmap of the figure does not write every value in its cells (too
        small to hold them, or ``show_values=False``), its numbers follow the drawing
        in a table, in a ``<details class="bertsteps-numbers">`` box that is closed
        until the reader opens it ("The numbers in this figure"): one table per such
        heatmap, captioned with its title, each row and column headed by its label,
        the values written with the heatmap's ``fmt``. The tables sit in a box that
        scrolls sideways and takes the keyboard (``tabindex="0"``, ``role="group"``,
        ``aria-label``). ``to_svg`` and the ``image/svg+xml`` output have no table.

        Examples:
            >>> html = plot_matrix([[1.0, 0.5], [0.5, 1.0]], ["king", "queen"],
            ...                    show_values=False).to_html()
            >>> html[html.index("<details"):html.index("<table>")]
            '<details class="bertsteps-numbers"><summary>The numbers in this figure</summary><div tabindex="0" role="group" aria-label="Table of the numbers, scrolls sideways">'
            >>> html[html.index("<tbody>"):html.index("</table>")]
            '<tbody><tr><th scope="row">king<td>1.00<td>0.50<tr><th scope="row">queen<td>0.50<td>1.00'
        """
        alt = html.escape(self.alt, quote=True)
        svg = self.to_svg()
        head_end = svg.index(">") + 1
        head = svg[:head_end]
        natural = re.search(r'width="([0-9.]+)pt"', head)
        width = (
            f' width="{float(natural.group(1)) * 4 / 3:.0f}"'
            if natural
            else ' width="100%"'
        )
        head = re.sub(
            r'\s(width|height)="[^"]*"', "", head
        )  # the viewBox keeps the shape
        head = head.replace(
            "<svg ",
            f'<svg role="img" aria-label="{alt}"{width} style="max-width:100%;min-width:0;height:auto" ',
            1,
        )
        natural_px = float(natural.group(1)) * 4 / 3 if natural else 0.0
        # on a narrow screen (extra.css): the figure at full size, scrolling sideways;
        # a figure narrower than a phone's column has nothing to gain
        zoom = (
            '<label class="bertsteps-zoom"><input type="checkbox"> '
            "Full size (the figure scrolls sideways)</label>"
            if natural_px > PHONE_COLUMN_PX
            else ""
        )
        natural_width = (
            f' style="--natural-width:{natural_px:.0f}px"' if natural else ""
        )
        return (
            f'<figure class="bertsteps-figure"{natural_width}>{head}'
            f"<title>{alt}</title>{svg[head_end:]}{zoom}{self._numbers_html()}"
            "</figure>"
        )

    def _numbers_html(self) -> str:
        """The tables of ``numbers`` in a closed ``<details>``; nothing when there are none."""
        if not self.numbers:
            return ""
        suptitle = self.get_suptitle()
        several = len(self.numbers) > 1
        tables = "".join(
            table.to_html(
                suptitle
                or (f"Heatmap {k} of {len(self.numbers)}" if several else "")
            )
            for k, table in enumerate(self.numbers, start=1)
        )
        name = "Tables" if several else "Table"
        return (
            '<details class="bertsteps-numbers"><summary>The numbers in this figure</summary>'
            f'<div tabindex="0" role="group" aria-label="{name} of the numbers, scrolls sideways">'
            f"{tables}</div></details>"
        )

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, str]:
        return {
            "text/html": self.to_html(),
            "image/svg+xml": self.to_svg(),
            "text/plain": self.alt,
        }


def figure(
    *, alt: str, figsize: tuple[float, float] = (6.4, 4.8), **kwargs: Any
) -> Figure:
    """A new [`Figure`][bertsteps.Figure] outside pyplot, in the site's style. ``alt`` says what it shows.

    Examples:
        >>> fig = figure(alt="a line", figsize=(4, 3))
        >>> ax = fig.add_subplot()
        >>> _ = ax.plot([0, 1], [0, 1])
        >>> fig.alt
        'a line'
    """
    if not isinstance(alt, str) or not alt.strip():
        raise BertStepsError(
            "every figure needs alt text that says what it shows: pass alt='...'"
        )
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=figsize, layout="constrained", **kwargs)
    fig.alt = alt.strip()
    return fig


def _figure_and_axes(
    ax: Axes | None, alt: str, figsize: tuple[float, float]
) -> tuple[matplotlib.figure.Figure, Axes]:
    """A new figure with one axes, or the figure of the axes the caller gave."""
    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig = figure(alt=alt, figsize=figsize)
    return fig, fig.add_subplot()


def _grid(ax: Axes) -> None:
    ax.grid(True, color="#d0d7de", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _text_colour(rgba: Sequence[float] | np.ndarray) -> str:
    r, g, b = rgba[:3]
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if luminance < 0.5 else "#1f2328"


PAGE_PX = 680
"""About how wide (CSS px) the article column is on a desktop screen: fonts are sized for it."""


def _points(px: float, width_in: float) -> float:
    """The font size (pt) that shows as ``px`` CSS pixels once a figure ``width_in`` inches wide fits the page."""
    natural_px = width_in * 96
    return px / (4 / 3 * min(1.0, PAGE_PX / natural_px))


def colour_scale(
    values: np.ndarray,
    *,
    vmin: float | None = None,
    vmax: float | None = None,
    diverging: bool | None = None,
) -> tuple[str, float, float, str]:
    """``(cmap, lo, hi, note)`` for ``values``: sequential for one-signed data, diverging at 0 for signed.

    One-signed data (all at least 0, or all at most 0) gets a sequential map from its
    lowest to its highest value (or the given ``vmin``/``vmax``); signed data a red/blue
    map centred at 0, symmetric to its largest absolute value (pass ``vmin=-1, vmax=1``
    for cosines on their full scale; uneven ``vmin``/``vmax`` are widened to the larger). ``note`` says which, for the colour bar.

    Examples:
        >>> colour_scale(np.array([0.7, 1.0]))[:3]
        ('Blues', 0.7, 1.0)
        >>> colour_scale(np.array([-0.5, 0.25]))[:3]
        ('RdBu_r', -0.5, 0.5)
    """
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    if values.size:
        low, high = float(values.min()), float(values.max())
    if diverging is None:
        lo_given = low if vmin is None else vmin
        hi_given = high if vmax is None else vmax
        diverging = lo_given < 0 < hi_given
    if diverging:
        ends = (
            [abs(low), abs(high)]
            if vmin is None and vmax is None
            else [abs(v) for v in (vmin, vmax) if v is not None]
        )
        limit = max(ends) or 1.0  # symmetric, so that white stays at 0
        return "RdBu_r", -limit, limit, "white at 0"
    lo = low if vmin is None else vmin
    hi = high if vmax is None else vmax
    if hi - lo <= 0:  # every value alike: a scale around it
        lo, hi = (lo - 0.5, hi + 0.5) if lo == hi else (hi, lo)
    cmap = (
        "Blues_r" if high <= 0 and low < 0 else "Blues"
    )  # all at most 0: the largest size darkest
    return cmap, lo, hi, f"colours span {lo:.2f} to {hi:.2f}"


def plot_matrix(
    matrix: ArrayLike,
    labels: Sequence[str],
    *,
    col_labels: Sequence[str] | None = None,
    show_values: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    fmt: str = ".2f",
    colorbar_label: str = "cosine similarity",
    max_ticks: int = 40,
    alt: str | None = None,
    colorbar: bool = True,
    diverging: bool | None = None,
) -> matplotlib.figure.Figure:
    """A heatmap of ``matrix`` with ``labels`` on both axes and each value written in its cell.

    With more than ``max_ticks`` labels on an axis, only every k-th label is written. Each
    label sits on its cell's centre: a slanted column label ends at the middle of its
    column. ``colorbar=False`` leaves the colour bar out (to share one between panels).

    The colour map follows the data (see ``colour_scale``) unless ``cmap`` is given:
    sequential (light to dark blue) from the lowest to the highest value when every
    value has the same sign, diverging and centred on 0 (blue below, red above,
    symmetric to the largest absolute value) when the values have both signs;
    ``diverging`` forces one or the other, ``vmin``/``vmax`` set the ends (``-1, 1`` for
    cosines on their full scale). The colour bar says which. Cell text is white on
    dark cells and black on light ones, and is left out when the cells are too small
    to hold it. The figure's size follows the number of rows and columns, capped, and
    its fonts show at about 10 px or more on a desktop page. Pass ``ax`` to draw into
    your own axes (then every value is written when ``show_values``: you size the cells).

    When the cells do not show the values (too small for them, or ``show_values=False``),
    the figure keeps them: its HTML ([`Figure.to_html`][bertsteps.Figure.to_html], what a
    notebook shows) ends with a table of every value written with ``fmt``, closed until
    the reader opens it, captioned with ``title``. The alt text, the default or yours,
    ends by saying where the values are (in the cells, or in that table). So does
    a heatmap drawn into your ``ax``, when its figure is a [`Figure`][bertsteps.Figure].

    Examples:
        >>> fig = plot_matrix([[1.0, 0.5], [0.5, 1.0]], ["king", "queen"])
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['1.00', '0.50', '0.50', '1.00']
        >>> fig.axes[0].images[0].get_cmap().name
        'Blues'
        >>> fig.numbers  # every value is in its cell: no table
        ()
        >>> big = plot_matrix(np.eye(40), [str(i) for i in range(40)])
        >>> len(big.axes[0].texts), big.to_html().count("<td>")
        (0, 1600)
    """
    from .similarity import as_matrix

    values = as_matrix(matrix, "matrix").to("cpu").double().numpy()
    rows, cols = (
        list(labels),
        list(col_labels) if col_labels is not None else list(labels),
    )
    if values.shape != (len(rows), len(cols)):
        raise BertStepsError(
            f"matrix has shape {values.shape} but there are {len(rows)} row labels and {len(cols)} column labels"
        )
    if not np.isfinite(values).all():
        raise BertStepsError(
            "matrix holds NaN or infinite values: nothing sensible to colour"
        )
    auto_cmap, lo, hi, note = colour_scale(
        values, vmin=vmin, vmax=vmax, diverging=diverging
    )
    if cmap is None:
        cmap = auto_cmap
    n_rows, n_cols = len(rows), len(cols)
    longest_row = max((len(r) for r in rows), default=1)
    longest_col = max((len(c) for c in cols), default=1)
    with matplotlib.rc_context(STYLE):
        cell = min(
            0.6, 5.0 / max(n_rows, 1), 7.0 / max(n_cols, 1)
        )  # inches; at most 5 x 7 of cells
        label_w = min(2.6, 0.09 * longest_row + 0.3)
        label_h = min(
            2.0, (0.07 * longest_col if longest_col > 3 else 0.2) + 0.3
        )
        width = max(3.2, n_cols * cell + label_w + (1.3 if colorbar else 0.2))
        height = max(2.4, n_rows * cell + label_h + (0.4 if title else 0.1))
        own = ax is None
        texts = [format(v, fmt) for v in values.flat]
        value_pt = min(10.0, _points(10.5, width))
        fits = bool(texts) and (
            max(len(t) for t in texts) * 0.62 * value_pt <= 0.95 * cell * 72
            and value_pt <= 0.8 * cell * 72
        )
        # in the caller's axes, the caller sizes the cells
        written = show_values and bool(texts) and (fits or not own)
        where = (
            "each cell shows its value"
            if written
            else "its values are in a table under it"
            if texts
            else ""
        )
        if alt is None:
            alt = (
                f"Heatmap of a {n_rows} by {n_cols} matrix"
                + (f" ({title})" if title else "")
                + f"; rows: {', '.join(rows)}; columns: {', '.join(cols)}"
                + (f"; {where}." if where else ".")
            )
        elif where:  # the caller's words, then where the values are
            alt = f"{alt.rstrip()} {where[0].upper()}{where[1:]}."
        fig, ax = _figure_and_axes(ax, alt, (width, height))
        fig_w = float(fig.get_figwidth())
        tick_pt = min(11.0, _points(10.5, fig_w))
        # interpolation="none": the SVG holds one pixel per cell (the browser draws them
        # as sharp squares), not an image resampled to the figure's size
        image = ax.imshow(
            values,
            cmap=cmap,
            vmin=lo,
            vmax=hi,
            aspect="equal",
            interpolation="none",
        )
        if own:  # no more labels than fit beside each other at that size
            max_ticks = max(
                2,
                min(
                    max_ticks,
                    int(max(n_rows, n_cols) * cell * 72 / (1.3 * tick_pt)),
                ),
            )
        _label_cells(ax, rows, cols, max_ticks)
        ax.tick_params(labelsize=tick_pt)
        for spine in ax.spines.values():
            spine.set_visible(False)
        if title:
            ax.set_title(title, fontsize=min(12.0, _points(12, fig_w)))
        if written:
            value_pt = min(10.0, _points(10.5, fig_w))
            for (i, j), v in np.ndenumerate(values):
                colour = _text_colour(image.cmap(image.norm(v)))
                ax.text(
                    j,
                    i,
                    format(v, fmt),
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=value_pt,
                )
        root = getattr(
            fig, "figure", None
        )  # the figure itself, or a subfigure's
        if texts and not written and isinstance(root, Figure):
            # the values the cells do not show, for Figure.to_html's table
            root.numbers = (
                *root.numbers,
                NumberTable(
                    title or "", tuple(rows), tuple(cols), values.copy(), fmt
                ),
            )
        if colorbar:
            bar = fig.colorbar(image, ax=ax, shrink=0.8 if n_rows > 3 else 1.0)
            bar.set_label(
                f"{colorbar_label}\n({note})"
                if cmap == auto_cmap
                else colorbar_label,
                fontsize=tick_pt,
            )
            bar.ax.tick_params(labelsize=tick_pt)
            bar.outline.set_visible(False)
    return fig


def _label_cells(
    ax: Axes, rows: Sequence[str], cols: Sequence[str], max_ticks: int
) -> None:
    """Tick labels on cell centres (cell ``i`` spans ``i - 0.5`` to ``i + 0.5``), every k-th one past ``max_ticks``.

    Column labels of more than 3 characters slant at 45°, anchored at their end and
    centred on it vertically, so the middle of a label's last letter sits under the
    middle of its column; shorter ones stand upright, centred under their column.
    """
    col_ticks = range(0, len(cols), max(1, -(-len(cols) // max_ticks)))
    row_ticks = range(0, len(rows), max(1, -(-len(rows) // max_ticks)))
    col_text = [cols[i] for i in col_ticks]
    if max((len(c) for c in col_text), default=0) > 3:
        ax.set_xticks(
            list(col_ticks),
            labels=col_text,
            rotation=45,
            ha="right",
            va="center",
            rotation_mode="anchor",
        )
    else:
        ax.set_xticks(
            list(col_ticks), labels=col_text, rotation=0, ha="center", va="top"
        )
    ax.set_yticks(
        list(row_ticks), labels=[rows[i] for i in row_ticks], va="center"
    )
    ax.tick_params(length=0)
    ax.tick_params(axis="x", pad=7)


INSET = 0.1
"""How far (in cells) an outline frame sits inside its cell."""


def _boolean(matrix: Any) -> np.ndarray:
    """A boolean numpy array from a tensor, array or nested lists."""
    if hasattr(matrix, "detach"):
        matrix = matrix.detach().cpu().numpy()
    return np.asarray(matrix, dtype=bool)


def plot_matrices(
    matrices: Sequence[ArrayLike],
    labels: Sequence[str],
    *,
    titles: Sequence[str],
    alt: str,
    col_labels: Sequence[str] | None = None,
    ncols: int = 4,
    cmap: str = "Blues",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar_label: str = "value",
    colorbar_extend: str = "neither",
    show_values: bool = False,
    fmt: str | None = None,
    outline: Sequence[ArrayLike] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    panel_width: float = 2.4,
    cell_size: float | None = None,
    max_ticks: int = 40,
) -> Figure:
    """Small multiples: one heatmap per matrix, all of the same shape, labels and colour scale.

    Row labels are written on the first column of panels, column labels under the
    bottom panel of each column; one colour bar serves every panel. The colour map is
    sequential (``"Blues"``) by default, for one-signed values such as attention
    probabilities; the limits default to 0 (or the lowest value, if below 0) and the
    highest value (1 when no value exceeds 1); with ``colorbar_extend="max"`` values above
    ``vmax`` take the top colour and the colour bar ends in an arrow. ``outline`` takes
    one boolean matrix per panel: its true cells get an orange frame, inset
    in the cell so that neighbouring frames stay apart. Each panel is
    ``panel_width`` inches wide, or ``cell_size`` inches per column when that is given.

    With ``show_values=True`` every value is written in its cell with ``fmt`` (by default
    ``".2f"`` when every value lies in [0, 1], such as attention probabilities, and
    ``".1f"`` otherwise). With ``show_values=False`` (the default) the numbers are in the
    figure's HTML instead ([`Figure.to_html`][bertsteps.Figure.to_html]): one table per
    panel, captioned with its title, closed until the reader opens it, its top-left
    cell saying what the rows and columns are (``ylabel \\ xlabel``).

    Examples:
        >>> fig = plot_matrices([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.5, 0.5]]], ["a", "b"],
        ...                     titles=["head 0", "head 1"], alt="two attention patterns")
        >>> [ax.get_title() for ax in fig.axes[:2]], fig.axes[0].images[0].norm.vmax
        (['head 0', 'head 1'], 1.0)
        >>> [(t.caption, t.corner, t.fmt) for t in fig.numbers]
        [('head 0', 'row \\\\ column', '.2f'), ('head 1', 'row \\\\ column', '.2f')]
    """
    from .similarity import as_matrix

    values = [
        as_matrix(m, "matrix").to("cpu").double().numpy() for m in matrices
    ]
    if not values:
        raise BertStepsError("plot_matrices needs at least one matrix")
    if len(titles) != len(values):
        raise BertStepsError(
            f"{len(titles)} titles for {len(values)} matrices"
        )
    shape = values[0].shape
    if any(v.shape != shape for v in values):
        raise BertStepsError(
            f"every matrix must have the same shape; got {sorted({v.shape for v in values})}"
        )
    frames = (
        [None] * len(values)
        if outline is None
        else [_boolean(o) for o in outline]
    )
    if len(frames) != len(values) or any(
        f is not None and f.shape != shape for f in frames
    ):
        raise BertStepsError(f"outline needs one {shape} matrix per panel")
    stacked = np.stack(values)
    if not np.isfinite(stacked).all():
        raise BertStepsError(
            "a matrix holds NaN or infinite values: nothing sensible to colour"
        )
    lo = min(0.0, float(stacked.min())) if vmin is None else vmin
    hi = (
        (1.0 if stacked.max() <= 1.0 else float(stacked.max()))
        if vmax is None
        else vmax
    )
    if fmt is None:  # probabilities get two places, larger values one
        fmt = ".2f" if 0.0 <= stacked.min() and stacked.max() <= 1.0 else ".1f"
    rows = list(labels)
    cols = list(col_labels) if col_labels is not None else rows
    ncols = max(1, min(ncols, len(values)))
    nrows = -(-len(values) // ncols)
    if cell_size is not None:
        longest = max(
            len(line)
            for title in titles
            for line in str(title).splitlines() or [""]
        )
        panel_width = max(
            cell_size * shape[1], 0.08 * longest
        )  # room for the title at 9 pt
    height = panel_width * shape[0] / max(shape[1], 1)
    with matplotlib.rc_context(STYLE):
        fig = figure(
            alt=alt,
            figsize=(ncols * panel_width + 1.8, nrows * (height + 0.45) + 1.0),
        )
        fig_w = float(fig.get_figwidth())
        tick_pt = min(13.0, _points(10.5, fig_w))
        title_pt = min(14.0, _points(11, fig_w))
        value_pt = min(11.0, _points(10, fig_w))
        # as many labels as fit at that size: slanted ones need a little more than their height
        fit = max(
            2,
            min(
                int(panel_width * 72 / (1.3 * tick_pt)),
                int(height * 72 / (1.05 * tick_pt)),
            ),
        )
        grid = fig.subplots(nrows, ncols, squeeze=False)
        used = []
        for k, ax in enumerate(grid.flat):
            if k >= len(values):
                ax.remove()
                continue
            plot_matrix(
                values[k],
                rows,
                col_labels=cols,
                show_values=show_values,
                ax=ax,
                title=titles[k],
                cmap=cmap,
                vmin=lo,
                vmax=hi,
                fmt=fmt,
                max_ticks=min(max_ticks, fit),
                colorbar=False,
            )
            ax.title.set_fontsize(title_pt)
            ax.tick_params(
                labelsize=tick_pt,
                labelleft=k % ncols == 0,
                labelbottom=k + ncols >= len(values),
            )
            for text in ax.texts:
                text.set_fontsize(value_pt)
            frame = frames[k]
            if frame is not None:
                for i, j in zip(*np.nonzero(frame), strict=True):
                    ax.add_patch(  # inset, so that the frames of neighbouring cells stay apart
                        matplotlib.patches.Rectangle(
                            (j - 0.5 + INSET, i - 0.5 + INSET),
                            1 - 2 * INSET,
                            1 - 2 * INSET,
                            fill=False,
                            edgecolor="#f08c00",
                            linewidth=1.8,
                        )
                    )
            used.append(ax)
        bar = fig.colorbar(
            used[0].images[0],
            ax=used,
            shrink=min(0.8, 3.5 / (nrows * (height + 0.45))),
            extend=colorbar_extend,
        )
        bar.set_label(colorbar_label, fontsize=tick_pt)
        bar.ax.tick_params(labelsize=tick_pt)
        bar.outline.set_visible(False)
        if xlabel:
            fig.supxlabel(xlabel, fontsize=title_pt)
        if ylabel:
            fig.supylabel(ylabel, fontsize=title_pt)
    # the tables of the panels whose values are not written: rows and columns named
    corner = f"{ylabel or 'row'} \\ {xlabel or 'column'}"
    fig.numbers = tuple(replace(t, corner=corner) for t in fig.numbers)
    return fig


def plot_lines(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    ax: Axes | None = None,
    alt: str | None = None,
    connect: bool = True,
    points: Mapping[str, tuple[float, float]] | None = None,
) -> matplotlib.figure.Figure:
    """One line per entry of ``series`` (its name in the legend), all over the same ``x``.

    A connected series marks each point while there are at most ``MARKED_POINTS`` of
    them (beyond that the marks would merge into a thick line).
    ``connect=False`` draws markers only, for values measured at these ``x`` alone (a line
    would imply values in between); ``points`` adds single labelled markers, name to
    ``(x, y)``. When every ``x`` is a whole number, so are the ticks.

    Examples:
        >>> fig = plot_lines([0, 1, 2], {"bank (river)": [1.0, 0.8, 0.6], "bank (money)": [1.0, 0.9, 0.7]},
        ...                  xlabel="layer", ylabel="cosine similarity")
        >>> [line.get_label() for line in fig.axes[0].get_lines()]
        ['bank (river)', 'bank (money)']
    """
    xs = list(x)
    if not series:
        raise BertStepsError("plot_lines needs at least one series")
    for name, ys in series.items():
        if len(ys) != len(xs):
            raise BertStepsError(
                f"series {name!r} has {len(ys)} values but there are {len(xs)} x values"
            )
    if alt is None:
        alt = (
            f"Line plot{f' ({title})' if title else ''} of {ylabel or 'values'} against {xlabel or 'x'} "
            f"for {', '.join(series)}."
        )
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure_and_axes(ax, alt, (7.0, 4.2))
        markers = "osD^v<>p"
        for k, (name, ys) in enumerate(series.items()):
            if (
                connect
            ):  # a marker on each measured point, while they stay apart
                ax.plot(
                    xs,
                    list(ys),
                    marker="o" if len(xs) <= MARKED_POINTS else "",
                    markersize=4,
                    linewidth=1.8,
                    label=name,
                )
            else:
                ax.plot(
                    xs,
                    list(ys),
                    linestyle="none",
                    marker=markers[k % len(markers)],
                    markersize=7,
                    label=name,
                )
        for k, (name, (px, py)) in enumerate((points or {}).items()):
            ax.plot(
                [px],
                [py],
                linestyle="none",
                marker="*",
                markersize=12,
                color=f"C{len(series) + k}",
                label=name,
            )
        every_x = xs + [px for px, _ in (points or {}).values()]
        if every_x and all(float(v).is_integer() for v in every_x):
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
        if title:
            ax.set_title(title)
        _grid(ax)
        ax.legend(frameon=False, fontsize=9, loc="best")
    return fig


def plot_scatter(
    points: ArrayLike,
    labels: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    ax: Axes | None = None,
    alt: str | None = None,
) -> matplotlib.figure.Figure:
    """A labelled 2-D scatter plot: each point named by ``labels``, coloured by its group.

    Labels are moved apart until none overlaps another (adjustText), each joined to its
    point by a thin line when it had to move.

    Examples:
        >>> fig = plot_scatter([[0, 0], [1, 1], [1, 0]], ["king", "queen", "apple"],
        ...                    groups=["royalty", "royalty", "fruit"])
        >>> sorted(t.get_text() for t in fig.axes[0].texts)
        ['apple', 'king', 'queen']
    """
    from adjustText import adjust_text

    from .similarity import as_matrix

    xy = as_matrix(points, "points").to("cpu").double().numpy()
    names = list(labels)
    if xy.shape != (len(names), 2):
        raise BertStepsError(
            f"points have shape {xy.shape}; expected ({len(names)}, 2), one row per label"
        )
    kinds = list(groups) if groups is not None else [""] * len(names)
    if len(kinds) != len(names):
        raise BertStepsError(f"{len(kinds)} groups for {len(names)} labels")
    if alt is None:
        alt = f"Scatter plot{f' ({title})' if title else ''} of {len(names)} labelled points: {', '.join(names)}."
    with matplotlib.rc_context(STYLE):
        fig, ax = _figure_and_axes(ax, alt, (7.0, 5.6))
        colours = matplotlib.colormaps["tab10"]
        for k, kind in enumerate(dict.fromkeys(kinds)):
            idx = [i for i, g in enumerate(kinds) if g == kind]
            ax.scatter(
                xy[idx, 0],
                xy[idx, 1],
                s=28,
                color=colours(k % 10),
                label=kind or None,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        _grid(ax)
        texts = [
            ax.text(px, py, name, fontsize=9)
            for (px, py), name in zip(xy, names, strict=True)
        ]
        # labels moved apart until none overlaps another or a point (adjustText), with a
        # thin line back to its point where one had to move away
        adjust_text(
            texts,
            x=xy[:, 0],
            y=xy[:, 1],
            ax=ax,
            arrowprops={"arrowstyle": "-", "color": "#57606a", "lw": 0.6},
        )
        if groups is not None:
            ax.legend(frameon=False, fontsize=9, loc="best")
    return fig
