"""Formulas typeset as MathML at build time (hooks/mathml.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hooks"))
import mathml


def test_inline_and_display_formulas_become_mathml() -> None:
    html, n = mathml.typeset(
        r"<p>For token $t$: $$\frac{x_j - \mu}{\sqrt{\sigma^2}}$$</p>"
    )
    assert n == 2
    assert html.count("<math ") == 2
    assert html.count('display="block"') == 1
    assert html.count('class="bertsteps-math" tabindex="0"') == 1
    assert "<mfrac>" in html and "<msqrt>" in html
    assert "$" not in html


def test_code_pre_and_the_hidden_copy_of_a_cell_are_left_alone() -> None:
    source = (
        '<pre>cost = "$x$"</pre><code>$y$</code>'
        '<div class="clipboard-copy-txt">f"$\\gamma$"</div>'
        "<svg><text>$z$</text></svg>"
    )
    assert mathml.typeset(source) == (source, 0)


def test_prices_and_lone_dollars_are_not_formulas() -> None:
    source = "<p>It costs $5 and $10, or $ 4.</p>"
    assert mathml.typeset(source) == (source, 0)


def test_entities_in_tex_are_decoded_and_the_rest_of_the_text_kept() -> None:
    html, n = mathml.typeset("<p>A &amp; B: $a &lt; b$ &mdash; done</p>")
    assert n == 1
    assert html.startswith("<p>A &amp; B: <math ")
    assert "<mo>&#x0003C;</mo>" in html
    assert html.endswith("</math> \u2014 done</p>")


def test_arithmatex_generic_output_is_typeset() -> None:
    html, n = mathml.typeset(
        r'<span class="arithmatex">\(d_k\)</span>'
        r'<div class="arithmatex">\[\sqrt{d_k}\]</div>'
    )
    assert n == 2
    assert html.count('display="inline"') == 1
    assert html.count('display="block"') == 1


@pytest.mark.parametrize(
    ("tex", "message"),
    [
        (r"x^", r"^cannot typeset the formula 'x\^' as MathML"),
        (
            r"\foo x",
            r"^the formula '\\\\foo x' uses a command latex2mathml does not know",
        ),
    ],
)
def test_a_formula_that_cannot_be_typeset_names_itself(
    tex: str, message: str
) -> None:
    with pytest.raises(mathml.MathError, match=message):
        mathml.typeset(f"<p>${tex}$</p>")
