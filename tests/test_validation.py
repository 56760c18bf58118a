"""The shared checks of bertsteps/validation.py, and that no module writes its own."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

import bertsteps
from bertsteps.cli import _positive
from bertsteps.validation import is_int, positive_int

PACKAGE = Path(__file__).resolve().parent.parent / "bertsteps"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, True),
        (-3, True),
        (2**70, True),
        (True, False),
        (False, False),
        (1.0, False),
        ("1", False),
        (None, False),
    ],
)
def test_is_int(value: object, expected: bool) -> None:
    assert is_int(value) is expected


def test_positive_int_returns_the_value() -> None:
    assert positive_int(1, "k") == 1
    assert positive_int(512, "batch_size") == 512


@pytest.mark.parametrize("value", [0, -1, True, 2.0, "3", None])
def test_positive_int_refuses(value: object) -> None:
    with pytest.raises(bertsteps.BertStepsError) as info:
        positive_int(value, "k")
    assert str(info.value) == f"k must be a positive int, got {value!r}"


def test_positive_int_raises_the_error_asked_for() -> None:
    with pytest.raises(bertsteps.SentenceError):
        positive_int(0, "batch_size", error=bertsteps.SentenceError)
    with pytest.raises(argparse.ArgumentTypeError) as info:
        positive_int(-2, "the value", error=argparse.ArgumentTypeError)
    assert str(info.value) == "the value must be a positive int, got -2"
    with pytest.raises(bertsteps.TokenError) as token_info:
        positive_int(0, "k", error=bertsteps.TokenError, noun="whole number")
    assert str(token_info.value) == "k must be a positive whole number, got 0"


def test_command_line_counts() -> None:
    assert _positive("7") == 7
    assert _positive(" 12 ") == 12
    for text, shown in [("0", "0"), ("-4", "-4"), ("abc", "'abc'")]:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            _positive(text)
        assert str(info.value) == (
            f"the value must be a positive whole number, got {shown}"
        )


def test_every_caller_uses_the_shared_checks() -> None:
    """The int-but-not-bool test is written once, in validation.py."""
    pattern = re.compile(r"isinstance\([^)]*,\s*bool\)")
    written = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    )
    assert written == ["validation.py"]
    positive = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if "positive_int(" in path.read_text(encoding="utf-8")
    )
    assert positive == [
        "cli.py",
        "explorer.py",
        "masked_lm.py",
        "neighbours.py",
        "sentences.py",
        "similarity.py",
        "validation.py",
    ]
