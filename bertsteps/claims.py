"""Sentences decided by numbers: a checkpoint-dependent claim, its measure and its criterion.

A page that says "similarity falls with distance" must stay true when the site is rebuilt
with another checkpoint, a random one included. So such a sentence is never written by
hand: the page computes a measure, states a criterion, and [`claim`][bertsteps.claim] picks the
sentence for the outcome. In a notebook a [`Claim`][bertsteps.Claim] shows its sentence, followed by
a folded note, "How this sentence was decided", with the measure and the criterion.

The rendered HTML carries ``data-claim`` (the claim's id) and ``data-holds``
(``true``/``false``), so tests can read from a built page which claims held.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .errors import BertStepsError

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Claim:
    """A sentence chosen by a criterion, with the measure and criterion that chose it.

    ``sentence`` is Markdown. ``holds`` says whether the criterion was met. Claims render
    as Markdown in notebooks (``_repr_markdown_``) and as plain text with ``str()``.

    Examples:
        >>> c = claim("demo", 0.9 > 0.5, "It holds.", "It does not hold.",
        ...           measure="score 0.90", criterion="score > 0.5")
        >>> str(c), c.holds
        ('It holds.', True)
    """

    id: str
    holds: bool
    sentence: str
    measure: str
    criterion: str

    def __str__(self) -> str:
        return self.sentence

    def note(self) -> str:
        """The folded HTML note: what was measured, the criterion and the outcome."""
        outcome = "met" if self.holds else "not met"
        return (
            f'<details class="bertsteps-claim" data-claim="{self.id}" '
            f'data-holds="{str(self.holds).lower()}">'
            "<summary>How this sentence was decided</summary>"
            f"<p><strong>Measured:</strong> {html.escape(self.measure)}<br>"
            f"<strong>Criterion:</strong> {html.escape(self.criterion)}<br>"
            f"<strong>Outcome:</strong> {outcome}, so the sentence above was printed.</p>"
            "</details>"
        )

    def _repr_markdown_(self) -> str:
        return f"{self.sentence}\n\n{self.note()}\n"


def claim(
    id: str,
    holds: bool,
    if_true: str,
    if_false: str,
    *,
    measure: str,
    criterion: str,
) -> Claim:
    """Choose ``if_true`` or ``if_false`` by ``holds``, keeping the measure and criterion.

    ``id`` is a short lowercase name (``position-trend``), unique on its page;
    ``measure`` says what was computed, with its numbers; ``criterion`` states the test
    in words. Both are shown to readers in the note under the sentence.

    Examples:
        >>> c = claim("falls", False, "It falls.", "It does not fall.",
        ...           measure="slope +0.01", criterion="slope < -0.001")
        >>> c.sentence, 'data-holds="false"' in c.note()
        ('It does not fall.', True)
    """
    if not _ID.match(id):
        raise BertStepsError(
            f"claim id {id!r} must be lowercase letters, digits and dashes, e.g. 'position-trend'"
        )
    chosen = bool(holds)
    return Claim(
        id=id,
        holds=chosen,
        sentence=if_true if chosen else if_false,
        measure=measure,
        criterion=criterion,
    )
