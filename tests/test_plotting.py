"""The heatmap: labels, values in cells, readable text colours, a colormap centred on 0, alt text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import matplotlib
import matplotlib.figure
import numpy as np
import pytest

import bertsteps
from bertsteps.plotting import _text_colour


def test_heatmap_has_labels_values_and_centred_colours() -> None:
    m = np.array([[1.0, 0.25, -0.5], [0.25, 1.0, 0.0], [-0.5, 0.0, 1.0]])
    fig = bertsteps.plot_matrix(m, ["a", "b", "c"], title="demo")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.texts] == [
        format(v, ".2f") for v in m.flat
    ]
    image = ax.images[0]
    assert image.norm.vmin == -1.0 and image.norm.vmax == 1.0
    assert len(fig.axes) == 2  # the heatmap and its colorbar
    assert (
        fig.axes[1].get_ylabel() == "cosine similarity\n(white at 0)"
    )  # signed data: diverging at 0
    assert image.get_cmap().name == "RdBu_r"


def test_values_beyond_one_get_symmetric_limits() -> None:
    fig = bertsteps.plot_matrix(
        [[3.0, -1.0], [0.5, 2.0]], ["x", "y"], show_values=False
    )
    image = fig.axes[0].images[0]
    assert (image.norm.vmin, image.norm.vmax) == (-3.0, 3.0)
    assert len(fig.axes[0].texts) == 0


def test_cell_text_contrasts_with_its_cell() -> None:
    cmap = matplotlib.colormaps["RdBu_r"]
    assert _text_colour(cmap(1.0)) == "white"  # dark red
    assert _text_colour(cmap(0.0)) == "white"  # dark blue
    assert _text_colour(cmap(0.5)) != "white"  # near white
    fig = bertsteps.plot_matrix(
        [[1.0, 0.0]], ["row"], col_labels=["one", "zero"]
    )
    colours = [t.get_color() for t in fig.axes[0].texts]
    assert colours[0] == "white" and colours[1] != "white"


def test_svg_output_is_accessible_and_fits_the_page() -> None:
    fig = bertsteps.plot_matrix([[1.0, 0.5], [0.5, 1.0]], ["king", "queen"])
    html = fig.to_html()
    assert re.match(
        r'<figure class="bertsteps-figure" style="--natural-width:\d+px">'
        r'<svg role="img" aria-label="Heatmap of a 2 by 2 matrix',
        html,
    )
    assert (
        "max-width:100%" in html
        and "<title>Heatmap of a 2 by 2 matrix" in html
    )
    # text stays text: labels and cell values are <text> elements, not paths
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", html)
    labels, values = ["king", "queen"] * 2, ["1.00", "0.50", "0.50", "1.00"]
    assert texts[:8] == [*labels, *values]
    assert "<!-- king -->" not in html  # what a label drawn as paths leaves
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"].startswith("<svg")
    assert (
        fig.to_svg() == fig.to_svg()
    )  # stable output: no timestamp, stable ids


def test_draws_into_given_axes() -> None:
    fig = bertsteps.figure(alt="two heatmaps", figsize=(8, 4))
    left, right = fig.subplots(1, 2)
    assert bertsteps.plot_matrix([[1.0]], ["a"], ax=left) is fig
    assert left.images and not right.images


@pytest.mark.parametrize(
    ("matrix", "labels", "message"),
    [
        (
            [[1.0, 0.0]],
            ["a"],
            r"shape \(1, 2\).*1 row labels and 1 column labels",
        ),
        ([[np.nan]], ["a"], "NaN"),
    ],
)
def test_bad_input(matrix: object, labels: list[str], message: str) -> None:
    with pytest.raises(bertsteps.BertStepsError, match=message):
        bertsteps.plot_matrix(matrix, labels)  # type: ignore[arg-type]


def test_alt_text_is_required() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="alt text"):
        bertsteps.figure(alt=" ")


def test_lines() -> None:
    fig = bertsteps.plot_lines(
        [0, 1, 2],
        {"a": [1.0, 0.5, 0.2], "b": [0.0, 0.1, 0.3]},
        xlabel="layer",
        ylabel="cos",
    )
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[1].get_ydata()) == [0.0, 0.1, 0.3]
    assert (
        ax.get_xlabel() == "layer"
        and "Line plot of cos against layer for a, b" in fig.alt
    )
    with pytest.raises(
        bertsteps.BertStepsError, match="has 2 values but there are 3"
    ):
        bertsteps.plot_lines([0, 1, 2], {"a": [1.0, 2.0]})


def test_scatter() -> None:
    fig = bertsteps.plot_scatter(
        np.array([[0.0, 1.0], [2.0, 3.0]]), ["x", "y"], groups=["g", "h"]
    )
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["x", "y"]
    assert [c.get_label() for c in ax.collections] == ["g", "h"]
    np.testing.assert_allclose(ax.collections[1].get_offsets(), [[2.0, 3.0]])
    with pytest.raises(bertsteps.BertStepsError, match=r"expected \(3, 2\)"):
        bertsteps.plot_scatter(np.zeros((2, 2)), ["a", "b", "c"])


def test_many_labels_are_thinned() -> None:
    labels = [str(i) for i in range(100)]
    fig = bertsteps.plot_matrix(
        np.eye(100), labels, show_values=False, max_ticks=20
    )
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == [str(i) for i in range(0, 100, 5)]
    width, height = fig.get_size_inches()
    assert width <= 10 and height <= 9


def _cell_centres(ax: object, count: int, axis: str) -> list[float]:
    """Data coordinates of the cell centres along ``axis``, from the image's extent."""
    left, right, bottom, top = ax.images[0].get_extent()  # type: ignore[attr-defined]
    lo, hi = (
        (left, right) if axis == "x" else (min(bottom, top), max(bottom, top))
    )
    width = (hi - lo) / count
    return [lo + width * (i + 0.5) for i in range(count)]


@pytest.mark.parametrize(
    ("size", "max_ticks", "step"), [(13, 40, 1), (100, 20, 5), (41, 40, 2)]
)
def test_tick_labels_sit_on_cell_centres(
    size: int, max_ticks: int, step: int
) -> None:
    labels = [f"token{i}" for i in range(size)]
    fig = bertsteps.plot_matrix(
        np.eye(size), labels, show_values=False, max_ticks=max_ticks
    )
    ax = fig.axes[0]
    centres_x, centres_y = (
        _cell_centres(ax, size, "x"),
        _cell_centres(ax, size, "y"),
    )
    ticks = list(range(0, size, step))
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        labels[i] for i in ticks
    ]
    np.testing.assert_allclose(ax.get_xticks(), [centres_x[i] for i in ticks])
    np.testing.assert_allclose(ax.get_yticks(), [centres_y[i] for i in ticks])


def test_slanted_column_labels_end_at_the_middle_of_their_column() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    labels = ["[CLS]", "because", "it", "tired", "[SEP]"]
    fig = bertsteps.plot_matrix(np.eye(5), labels, show_values=False)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    half = np.sqrt(0.5) / 2
    for j, label in enumerate(ax.get_xticklabels()):
        assert label.get_rotation() == 45
        box = label.get_window_extent(renderer)
        label.set_rotation(0)
        height = label.get_window_extent(renderer).height
        label.set_rotation(45)
        # the rotated box's right edge is the lower corner of the label's end: half the
        # text height (times cos 45°) right of the middle of that end
        end_x = box.x1 - height * half
        column_x = ax.transData.transform((j, 0))[0]
        assert abs(end_x - column_x) < 0.5, (label.get_text(), end_x, column_x)
        assert (
            box.y1 < ax.get_window_extent(renderer).y0
        )  # below the heatmap, not over it


def test_short_column_labels_stand_upright_and_centred() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = bertsteps.plot_matrix(np.eye(3), ["0", "1", "2"], show_values=False)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    for j, label in enumerate(ax.get_xticklabels()):
        assert label.get_rotation() == 0
        box = label.get_window_extent(renderer)
        assert (
            abs((box.x0 + box.x1) / 2 - ax.transData.transform((j, 0))[0])
            < 0.5
        )


def test_small_multiples_share_labels_scale_and_colorbar() -> None:
    a = np.array([[0.9, 0.1], [0.3, 0.7]])
    fig = bertsteps.plot_matrices(
        [a, a.T, 1 - a],
        ["x", "y"],
        col_labels=["p", "q"],
        titles=["one", "two", "three"],
        ncols=2,
        outline=[a > 0.5, np.zeros((2, 2), bool), np.zeros((2, 2), bool)],
        colorbar_label="attention weight (0 to 1)",
        alt="three heatmaps",
    )
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["one", "two", "three"]
    assert {
        (ax.images[0].norm.vmin, ax.images[0].norm.vmax) for ax in panels
    } == {(0.0, 1.0)}
    assert all(ax.images[0].get_cmap().name == "Blues" for ax in panels)
    bars = [ax for ax in fig.axes if not ax.images]
    assert (
        len(bars) == 1 and bars[0].get_ylabel() == "attention weight (0 to 1)"
    )
    # row labels on the first column only, column labels under the bottom panel of each column
    shown_left = [ax.yaxis.get_tick_params()["labelleft"] for ax in panels]
    shown_bottom = [ax.xaxis.get_tick_params()["labelbottom"] for ax in panels]
    assert shown_left == [True, False, True]
    assert shown_bottom == [False, True, True]
    assert (
        len(panels[0].patches) == 2 and len(panels[1].patches) == 0
    )  # two framed cells
    frame = panels[0].patches[0]
    x, y = frame.get_xy()
    assert (
        -0.5 < x < 0 and -0.5 < y < 0 and frame.get_width() < 1
    )  # cell (0, 0), framed inside it
    assert (
        x + frame.get_width() < 0.5
    )  # so the frame of the cell next to it does not touch it
    assert fig.alt == "three heatmaps"


def test_small_multiples_bad_input() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="same shape"):
        bertsteps.plot_matrices(
            [np.eye(2), np.eye(3)], ["a", "b"], titles=["1", "2"], alt="x"
        )
    with pytest.raises(
        bertsteps.BertStepsError, match="1 titles for 2 matrices"
    ):
        bertsteps.plot_matrices(
            [np.eye(2), np.eye(2)], ["a", "b"], titles=["1"], alt="x"
        )
    with pytest.raises(bertsteps.BertStepsError, match="alt text"):
        bertsteps.plot_matrices([np.eye(2)], ["a", "b"], titles=["1"], alt="")


def test_svg_shrinks_with_the_column_from_its_natural_width() -> None:
    import re

    fig = bertsteps.plot_matrices(
        [np.eye(3)] * 12,
        ["a", "b", "c"],
        titles=[str(k) for k in range(12)],
        alt="x",
    )
    svg = fig.to_svg()
    head = fig.to_html().split(">", 2)[1]
    natural_pt = float(
        re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', svg).group(1)
    )  # type: ignore[union-attr]
    assert (
        f' width="{natural_pt * 4 / 3:.0f}"' in head
        and "viewBox=" in head
        and 'height="' not in head
    )
    assert (
        "max-width:100%" in head and "height:auto" in head
    )  # shrinks on a phone, keeps its shape
    assert (
        "min-width:0" in head
    )  # the site's stylesheet must not hold it at a fixed width


@pytest.mark.parametrize(
    ("m", "cmap", "limits"),
    [
        (
            [[0.7, 0.85], [0.85, 1.0]],
            "Blues",
            (0.7, 1.0),
        ),  # one-signed: sequential, range from the data
        ([[0.88, 0.9], [0.9, 1.0]], "Blues", (0.88, 1.0)),
        ([[-3.0, -1.0], [-2.0, -0.5]], "Blues_r", (-3.0, -0.5)),
        (
            [[0.5, -0.2], [0.1, 0.3]],
            "RdBu_r",
            (-0.5, 0.5),
        ),  # signed: diverging, symmetric to max |v|
    ],
)
def test_sequential_map_for_one_signed_data(
    m: list[list[float]], cmap: str, limits: tuple[float, float]
) -> None:
    fig = bertsteps.plot_matrix(m, ["a", "b"])
    image = fig.axes[0].images[0]
    assert image.get_cmap().name == cmap
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx(limits)
    assert (
        fig.axes[1].get_ylabel().startswith("cosine similarity\n(")
    )  # the scale is stated


def test_cosines_on_their_full_scale_when_asked() -> None:
    fig = bertsteps.plot_matrix(
        [[0.5, -0.2], [0.1, 0.3]], ["a", "b"], vmin=-1, vmax=1
    )
    assert (
        fig.axes[0].images[0].norm.vmin,
        fig.axes[0].images[0].norm.vmax,
    ) == (-1, 1)


def test_tall_narrow_matrix_gets_a_capped_size_and_readable_text() -> None:
    fig = bertsteps.plot_matrix(
        np.full((13, 2), 0.9),
        [f"token{i}" for i in range(13)],
        col_labels=["layer 1", "layer 2"],
    )
    w, h = fig.get_size_inches()
    assert h <= 8.5 and w <= 6
    texts = fig.axes[0].texts
    assert len(texts) == 13 * 2  # every cell holds its value
    assert min(t.get_fontsize() for t in texts) >= 7.5  # 10 px at natural size


def test_values_hidden_when_cells_are_too_small() -> None:
    fig = bertsteps.plot_matrix(np.eye(40), [str(i) for i in range(40)])
    assert not fig.axes[0].texts


def test_integer_x_gets_integer_ticks_and_markers_only_when_asked() -> None:
    fig = bertsteps.plot_lines(
        [1, 2, 4],
        {"a": [0.5, 0.6, 0.9]},
        connect=False,
        points={"pooler": (4, 0.92)},
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [
        t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]
    ]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert all(line.get_linestyle() == "None" for line in ax.get_lines())
    assert [line.get_label() for line in ax.get_lines()] == ["a", "pooler"]
    fig = bertsteps.plot_lines([0, 1], {"a": [0.0, 1.0]})
    fig.canvas.draw()
    ticks = list(fig.axes[0].get_xticks())
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_diverging_limits_stay_centred_at_zero() -> None:
    fig = bertsteps.plot_matrix(
        [[1.0, -0.08], [-0.08, 1.0]], ["a", "b"], vmin=-0.08, vmax=1.0
    )
    image = fig.axes[0].images[0]
    assert image.get_cmap().name == "RdBu_r" and (
        image.norm.vmin,
        image.norm.vmax,
    ) == (-1.0, 1.0)


def test_tick_labels_thinned_to_what_fits() -> None:
    n = 64
    fig = bertsteps.plot_matrix(
        np.eye(n), [str(i) for i in range(n)], show_values=False
    )
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert 2 <= len(shown) < n and shown[0] == "0"
    size = fig.axes[0].get_xticklabels()[0].get_fontsize()
    cell_pt = fig.axes[0].get_position().height * fig.get_figheight() * 72 / n
    assert size <= 1.3 * cell_pt * n / len(
        shown
    )  # each shown label has room for itself


class _Tables(HTMLParser):
    """The tables of a figure's HTML: caption, header row and body rows, each cell as
    ``(tag, scope, text)`` (the markup leaves out optional end tags, as a browser reads it)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.details: list[dict[str, str | None]] = []
        self.scrollers: list[dict[str, str | None]] = []
        self.summary = ""
        self._in: str | None = None  # "caption", "summary" or a cell

    def handle_starttag(
        self, tag: str, attrs: list[tuple[str, str | None]]
    ) -> None:
        named = dict(attrs)
        if tag == "details":
            self.details.append(named)
        elif tag == "div" and "tabindex" in named:
            self.scrollers.append(named)
        elif tag == "summary":
            self._in = "summary"
        elif tag == "table":
            self.tables.append(
                {"caption": "", "head": [], "body": [], "part": "head"}
            )
        elif tag == "caption":
            self._in = "caption"
        elif tag == "br" and self._in == "caption":
            self.tables[-1]["caption"] += "\n"
        elif tag == "tbody":
            self.tables[-1]["part"] = "body"
        elif tag == "tr":
            self.tables[-1][self.tables[-1]["part"]].append([])
        elif tag in {"th", "td"}:
            row = self.tables[-1][self.tables[-1]["part"]][-1]
            row.append([tag, named.get("scope"), ""])
            self._in = "cell"
            assert set(named) <= {"scope"}, (
                attrs
            )  # no other attribute per cell

    def handle_endtag(self, tag: str) -> None:
        if tag in {"caption", "summary"}:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "summary":
            self.summary += data
        elif self._in == "caption":
            self.tables[-1]["caption"] += data
        elif self._in == "cell":
            self.tables[-1][self.tables[-1]["part"]][-1][-1][2] += data


def _tables(html: str) -> _Tables:
    parsed = _Tables()
    parsed.feed(html)
    parsed.close()
    return parsed


def test_hidden_values_are_in_a_table_of_numbers() -> None:
    rng = np.random.default_rng(3)
    m = rng.uniform(-1, 1, size=(40, 30))
    rows = [f"r{i}" for i in range(40)]
    cols = [f"c{j}" for j in range(30)]
    fig = bertsteps.plot_matrix(m, rows, col_labels=cols, title="demo")
    assert not fig.axes[0].texts  # too small for the values
    html = fig.to_html()
    parsed = _tables(html)
    assert len(parsed.tables) == 1 and len(parsed.details) == 1
    assert "open" not in parsed.details[0]  # closed until the reader opens it
    assert parsed.details[0]["class"] == "bertsteps-numbers"
    assert parsed.summary == "The numbers in this figure"
    assert parsed.scrollers == [
        {
            "tabindex": "0",
            "role": "group",
            "aria-label": "Table of the numbers, scrolls sideways",
        }
    ]
    table = parsed.tables[0]
    assert table["caption"] == "demo"
    (head,) = table["head"]
    assert head[0] == ["th", "col", "row \\ column"]  # never an empty header
    assert head[1:] == [["th", "col", c] for c in cols]
    assert [row[0] for row in table["body"]] == [
        ["th", "row", r] for r in rows
    ]
    cells = [cell for row in table["body"] for cell in row[1:]]
    assert len(cells) == 40 * 30 and {c[0] for c in cells} == {"td"}
    assert all(c[1] is None for c in cells)
    numbers = np.array([float(c[2]) for c in cells]).reshape(40, 30)
    np.testing.assert_array_equal(numbers, np.round(m, 2))
    assert [c[2] for c in cells[:3]] == [format(v, ".2f") for v in m[0, :3]]
    # the table sits after the drawing, inside the figure; the SVG alone has none
    assert (
        html.index("</svg>") < html.index("<details") < html.index("</figure>")
    )
    assert html.endswith("</details></figure>")
    bundle = fig._repr_mimebundle_()
    assert "<table" not in bundle["image/svg+xml"]
    assert "<table" not in fig.to_svg() and "<details" not in fig.to_svg()
    assert "its values are in a table under it" in fig.alt
    assert "each cell shows its value" not in fig.alt


def test_a_heatmap_that_writes_every_value_has_no_table() -> None:
    fig = bertsteps.plot_matrix([[1.0, 0.5], [0.5, 1.0]], ["king", "queen"])
    assert len(fig.axes[0].texts) == 4
    html = fig.to_html()
    assert fig.numbers == ()
    assert "<table" not in html and "<details" not in html
    assert fig.alt.endswith("each cell shows its value.")
    hidden = bertsteps.plot_matrix(
        [[1.0, 0.5], [0.5, 1.0]], ["king", "queen"], show_values=False
    )
    body = _tables(hidden.to_html()).tables[0]["body"]
    assert [[c[2] for c in row] for row in body] == [
        ["king", "1.00", "0.50"],
        ["queen", "0.50", "1.00"],
    ]


def test_the_table_uses_the_heatmaps_format() -> None:
    m = np.array([[0.12345, -2.5], [3.0, 0.0]])
    fig = bertsteps.plot_matrix(m, ["a", "b"], show_values=False, fmt=".3f")
    body = _tables(fig.to_html()).tables[0]["body"]
    assert [[c[2] for c in row[1:]] for row in body] == [
        ["0.123", "-2.500"],
        ["3.000", "0.000"],
    ]


def test_small_multiples_have_one_table_per_panel() -> None:
    rng = np.random.default_rng(7)
    probs = rng.random((5, 4, 4))
    probs /= probs.sum(-1, keepdims=True)  # attention: every value in [0, 1]
    tokens = ["[CLS]", "a", "cat", "[SEP]"]
    titles = [f"head {h}\nprevious token" for h in range(5)]
    fig = bertsteps.plot_matrices(
        list(probs),
        tokens,
        titles=titles,
        ncols=3,
        xlabel="key",
        ylabel="query",
        alt="five heads",
    )
    assert not any(ax.texts for ax in fig.axes)  # show_values=False
    parsed = _tables(fig.to_html())
    assert len(parsed.details) == 1 and len(parsed.scrollers) == 1
    assert parsed.scrollers[0]["aria-label"] == (
        "Tables of the numbers, scrolls sideways"
    )
    assert [t["caption"] for t in parsed.tables] == titles  # lines kept
    for table, p in zip(parsed.tables, probs, strict=True):
        assert table["head"][0][0] == ["th", "col", "query \\ key"]
        assert [c[2] for c in table["head"][0][1:]] == tokens
        numbers = [[float(c[2]) for c in row[1:]] for row in table["body"]]
        np.testing.assert_array_equal(numbers, np.round(p, 2))  # ".2f"
    # values beyond 1: one place, as in the cells; written in the cells: no table
    ratios = bertsteps.plot_matrices(
        [probs[0] + 1, probs[1] + 1], tokens, titles=["x", "y"], alt="r"
    )
    assert {t.fmt for t in ratios.numbers} == {".1f"}
    assert ratios.numbers[0].corner == "row \\ column"
    first = _tables(ratios.to_html()).tables[0]["body"][0]
    assert [c[2] for c in first[1:]] == [
        format(v, ".1f") for v in probs[0][0] + 1
    ]
    shown = bertsteps.plot_matrices(
        [probs[0], probs[1]],
        tokens,
        titles=["x", "y"],
        alt="s",
        show_values=True,
    )
    assert shown.numbers == () and "<table" not in shown.to_html()
    assert [t.get_text() for t in shown.axes[0].texts][:2] == [
        format(v, ".2f") for v in probs[0][0][:2]
    ]


def test_labels_and_titles_in_the_table_are_escaped() -> None:
    labels = ["<b>", "a&b", '"q"']
    fig = bertsteps.plot_matrix(
        np.eye(3), labels, show_values=False, title="x < y & z"
    )
    html = fig.to_html()
    part = html[html.index("<details") :]
    assert "<b>" not in part and "a&b" not in part and '"q"' not in part
    assert "<caption>x &lt; y &amp; z</caption>" in part
    assert '<th scope="col">&lt;b&gt;' in part
    assert '<th scope="row">a&amp;b' in part
    assert '<th scope="col">&quot;q&quot;' in part
    table = _tables(html).tables[0]
    assert [
        c[2] for c in table["head"][0][1:]
    ] == labels  # read back as written


def test_heatmaps_in_your_own_axes_add_their_tables() -> None:
    fig = bertsteps.figure(alt="two heatmaps", figsize=(8, 4))
    left, right = fig.subplots(1, 2)
    bertsteps.plot_matrix(
        [[0.25, 0.5]],
        ["a"],
        col_labels=["x", "y"],
        ax=left,
        show_values=False,
        title="left",
    )
    bertsteps.plot_matrix([[1.0]], ["b"], ax=right, title="right")  # written
    assert [t.caption for t in fig.numbers] == ["left"]
    assert len(_tables(fig.to_html()).tables) == 1
    plain = matplotlib.figure.Figure()
    bertsteps.plot_matrix(
        [[1.0]], ["a"], ax=plain.add_subplot(), show_values=False
    )
    assert not hasattr(plain, "numbers")  # nothing to render it: nothing kept


def test_your_alt_text_ends_by_saying_where_the_values_are() -> None:
    small = bertsteps.plot_matrix(
        [[1.0, 0.5], [0.5, 1.0]], ["a", "b"], alt="Two words compared."
    )
    assert small.alt == "Two words compared. Each cell shows its value."
    hidden = bertsteps.plot_matrix(
        [[1.0, 0.5], [0.5, 1.0]],
        ["a", "b"],
        alt="Two words compared.",
        show_values=False,
    )
    assert hidden.alt == (
        "Two words compared. Its values are in a table under it."
    )
    assert hidden.to_html().count("<td>") == 4
