"""Which layer makes the best word features? Senses of *bank* and *bat*, measured.

The sentences are those of the Contextual embeddings chapter: each ambiguous word in
a few sentences per sense. A good word feature puts two uses of a word with the same
sense closer (by cosine) than two uses with different senses. [`sense_gaps`][bertsteps.sense_gaps]
measures that for several ways of taking a word's vector from the encoder.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import BertStepsError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .checkpoints import Bert
    from .context import WordInContext

# word -> sense -> sentences using the word in that sense (the Contextual embeddings and Sentence vectors chapters)
SENSE_SENTENCES: dict[str, dict[str, list[str]]] = {
    "bank": {
        "river": [
            "We sat on the bank of the river.",
            "The river overflowed its bank after the storm.",
            "Fishermen lined the muddy bank at dawn.",
        ],
        "money": [
            "We went to the bank to get money.",
            "The bank approved the loan this morning.",
            "She opened an account at the bank downtown.",
        ],
        "rely on": [
            "You can always bank on her support.",
            "Don't bank on the weather staying dry.",
        ],
    },
    "bat": {
        "animal": [
            "A bat flew out of the cave at dusk.",
            "The bat hung upside down in the barn.",
            "Every night a small bat hunts moths.",
        ],
        "sport": [
            "He swung the bat and hit the ball.",
            "She bought a new cricket bat.",
            "The player dropped his bat and ran.",
        ],
    },
}

FEATURES: tuple[str, ...] = (
    "embedding output",
    "last layer",
    "second-to-last layer",
    "sum of the last four layers",
)


def feature_layers(num_layers: int, feature: str) -> list[int]:
    """The hidden states (0 = embedding output) that a word feature sums.

    "sum of the last four layers" sums the last four encoder layers, or all of them
    when the model has fewer.

    Examples:
        >>> feature_layers(6, "sum of the last four layers"), feature_layers(2, "sum of the last four layers")
        ([3, 4, 5, 6], [1, 2])
        >>> feature_layers(6, "second-to-last layer")
        [5]
    """
    if feature == "embedding output":
        return [0]
    if feature == "last layer":
        return [num_layers]
    if feature == "second-to-last layer":
        return [max(num_layers - 1, 0)]
    if feature == "sum of the last four layers":
        return list(range(max(num_layers - 3, 1), num_layers + 1))
    raise BertStepsError(
        f"unknown word feature {feature!r}: use one of {', '.join(FEATURES)}"
    )


@dataclass(frozen=True)
class SenseGap:
    """How well one word feature keeps the senses apart.

    ``within`` is the mean cosine of two uses of a word with the same sense, ``between``
    with different senses, ``gap`` their difference; ``auc`` is the chance that a
    same-sense pair is closer than a different-sense pair (0.5 is chance). ``layers``
    are the hidden states summed.
    """

    feature: str
    layers: list[int]
    within: float
    between: float
    gap: float
    auc: float

    @property
    def label(self) -> str:
        """The feature as a reader should see it: the sum names how many layers it really sums.

        Examples:
            >>> SenseGap("sum of the last four layers", [1, 2], 0.9, 0.8, 0.1, 0.6).label
            'sum of the last 2 layers'
            >>> SenseGap("last layer", [6], 0.9, 0.8, 0.1, 0.6).label
            'last layer'
        """
        if (
            self.feature == "sum of the last four layers"
            and len(self.layers) != 4
        ):
            return f"sum of the last {len(self.layers)} layers"
        return self.feature


def sense_gaps(
    bert: Bert,
    sentences: Mapping[str, Mapping[str, Sequence[str]]] = SENSE_SENTENCES,
    *,
    features: Sequence[str] = FEATURES,
) -> list[SenseGap]:
    """Measure each word feature on ``sentences`` (word -> sense -> sentences).

    Every two uses of the same word form a pair: same sense or different senses.

    Examples:
        >>> from bertsteps import load
        >>> gaps = sense_gaps(load())
        >>> [g.feature for g in gaps][:2], gaps[0].layers
        (['embedding output', 'last layer'], [0])
    """
    from .context import word_in_context
    from .pairs import roc_auc
    from .similarity import cosine_matrix

    found: list[tuple[str, str, WordInContext]] = [
        (word, sense, word_in_context(bert, text, word))
        for word, senses in sentences.items()
        for sense, texts in senses.items()
        for text in texts
    ]
    pairs = [
        (i, j)
        for i, j in itertools.combinations(range(len(found)), 2)
        if found[i][0] == found[j][0]
    ]
    same = torch.tensor(
        [found[i][1] == found[j][1] for i, j in pairs], dtype=torch.bool
    )
    if not bool(same.any()) or bool(same.all()):
        raise BertStepsError(
            "sense_gaps() needs words with two or more senses, and a sense used at least twice"
        )
    layers = torch.stack(
        [w.layers for _, _, w in found]
    )  # (uses, states, hidden)
    result = []
    for feature in features:
        picked = feature_layers(int(bert.config.num_hidden_layers), feature)
        cos = cosine_matrix(layers[:, picked].sum(dim=1), device="cpu")
        scores = torch.stack([cos[i, j] for i, j in pairs])
        within, between = (
            float(scores[same].mean()),
            float(scores[~same].mean()),
        )
        result.append(
            SenseGap(
                feature,
                picked,
                within,
                between,
                within - between,
                roc_auc(scores[same], scores[~same]),
            )
        )
    return result
