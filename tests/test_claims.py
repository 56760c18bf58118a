"""Claims: the sentence follows the criterion, and the note tells readers how it was decided."""

from __future__ import annotations

import pytest

import bertsteps


def test_the_sentence_follows_the_criterion() -> None:
    yes = bertsteps.claim(
        "trend",
        True,
        "It falls.",
        "It does not fall.",
        measure="slope -0.2",
        criterion="slope < 0",
    )
    no = bertsteps.claim(
        "trend",
        False,
        "It falls.",
        "It does not fall.",
        measure="slope 0.1",
        criterion="slope < 0",
    )
    assert (yes.sentence, yes.holds) == ("It falls.", True)
    assert (no.sentence, no.holds) == ("It does not fall.", False)
    assert str(no) == "It does not fall."


def test_the_note_names_measure_criterion_and_outcome() -> None:
    c = bertsteps.claim(
        "head-3",
        False,
        "a",
        "b",
        measure="share 0.08 < 0.23",
        criterion="share >= 3 x uniform",
    )
    md = c._repr_markdown_()
    assert md.startswith("b\n\n<details")
    assert 'data-claim="head-3" data-holds="false"' in md
    assert "share 0.08 &lt; 0.23" in md and "share &gt;= 3 x uniform" in md
    assert "not met" in md


@pytest.mark.parametrize("bad", ["", "Has Caps", "under_score", "-lead"])
def test_a_bad_id_is_refused(bad: str) -> None:
    with pytest.raises(bertsteps.BertStepsError, match="claim id"):
        bertsteps.claim(bad, True, "a", "b", measure="m", criterion="c")
