"""One word in one sentence, followed through every layer of the encoder.

The input embedding of a token is one fixed row of a matrix, whatever surrounds it.
After the embedding layer and each encoder layer the token's vector depends on its
position and on the other tokens. [`word_in_context`][bertsteps.word_in_context] finds a word in a sentence,
runs the encoder once, and returns the word's vector at every layer (averaged over
its WordPiece tokens when the word is split).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import TokenError
from .tokens import id_tokens

if TYPE_CHECKING:
    from .checkpoints import Bert


@dataclass(frozen=True)
class WordInContext:
    """A word found in a sentence, with its tokens and its vector at every layer.

    ``positions`` index the encoded sentence (``[CLS]`` is position 0). ``layers`` has
    shape ``(num_hidden_layers + 1, hidden_size)``: row 0 is the output of the embedding
    layer (``hidden_states[0]``), row ``i`` the output of encoder layer ``i``; a word of
    several tokens gets the mean over its tokens. Float32, on the CPU.

    Examples:
        >>> from bertsteps import load
        >>> w = word_in_context(load(), "The river bank was muddy.", "bank")
        >>> w.tokens, w.positions, w.span
        (['bank'], [3], (10, 14))
    """

    text: str
    word: str
    span: tuple[int, int]
    positions: list[int]
    tokens: list[str]
    ids: list[int]
    layers: torch.Tensor

    @property
    def last(self) -> torch.Tensor:
        """The word's vector after the last encoder layer: ``layers[-1]``."""
        return self.layers[-1]


def word_positions(
    bert: Bert, text: str, word: str, *, occurrence: int = 0
) -> tuple[tuple[int, int], list[int]]:
    """Where ``word`` is in ``text``: its character span and the positions of its tokens.

    The word is matched as the tokenizer sees it (``find_word``): as
    a whole word, not inside a longer one, after the tokenizer's normalisation (an uncased
    checkpoint ignores case and accents); Chinese characters, punctuation and special
    tokens such as ``[MASK]`` are found too. ``occurrence`` picks which match (0 is the
    first). Positions count the special tokens, so they index ``encode(bert, text)`` and
    ``forward(bert, text)`` directly.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> word_positions(bert, "Bank on it: the bank is open.", "bank", occurrence=1)
        ((16, 20), [6])
        >>> word_positions(bert, "Let's tokenize it.", "tokenize")
        ((6, 14), [4, 5])
    """
    from .tokens import find_word

    if not isinstance(text, str) or not isinstance(word, str):
        raise TokenError("word_positions() takes a text and a word, both str")
    return find_word(bert, text, word, occurrence=occurrence)


def word_in_context(
    bert: Bert, text: str, word: str, *, occurrence: int = 0
) -> WordInContext:
    """The vector of ``word`` in ``text`` at every layer, from one forward pass.

    Row 0 of ``layers`` is the embedding layer's output, row ``i`` encoder layer ``i``'s;
    a word split into several tokens is the mean of its tokens' vectors.

    Examples:
        >>> from bertsteps import load, forward
        >>> bert = load()
        >>> w = word_in_context(bert, "I opened a bank account.", "bank")
        >>> tuple(w.layers.shape) == (bert.config.num_hidden_layers + 1, bert.config.hidden_size)
        True
        >>> out = forward(bert, "I opened a bank account.")
        >>> torch.testing.assert_close(w.last, out.last_hidden_state[0, w.positions[0]].cpu())
    """
    from .inference import forward

    span, positions = word_positions(bert, text, word, occurrence=occurrence)
    out = forward(bert, text)
    assert out.hidden_states is not None  # forward() asks for them
    states = torch.stack(out.hidden_states)[:, 0]  # (layers + 1, seq, hidden)
    ids = bert.tokenizer(text, verbose=False)["input_ids"]
    picked = [ids[p] for p in positions]
    return WordInContext(
        text=text,
        word=word,
        span=span,
        positions=positions,
        tokens=id_tokens(bert.tokenizer, picked),
        ids=picked,
        layers=states[:, positions].mean(dim=1).to("cpu", torch.float32),
    )


@dataclass(frozen=True)
class SensesByLayer:
    """How alike a word's vectors are within one sense and across two, at every layer.

    ``same`` and ``different`` are ``(layers + 1,)``: the mean cosine over pairs of
    sentences with the same sense, and over pairs with different senses. Layer 0 is the
    embedding layer's output, where vectors of one word differ only by position; so
    [`gained`][bertsteps.SensesByLayer.gained], the gap at the last layer minus the gap at layer 0, is what the
    encoder layers added beyond position.

    Examples:
        >>> g = SensesByLayer(same=torch.tensor([0.9, 0.8, 0.85]), different=torch.tensor([0.9, 0.7, 0.7]))
        >>> [round(v, 2) for v in g.gap.tolist()], round(g.gained, 2), g.widest
        ([0.0, 0.1, 0.15], 0.15, 2)
    """

    same: torch.Tensor
    different: torch.Tensor

    @property
    def gap(self) -> torch.Tensor:
        """Same-sense minus different-sense mean cosine, per layer."""
        return self.same - self.different

    @property
    def gained(self) -> float:
        """The gap at the last layer minus the gap at layer 0: separation beyond position."""
        return float(self.gap[-1] - self.gap[0])

    @property
    def widest(self) -> int:
        """The layer where the gap is largest."""
        return int(self.gap.argmax())


def _mean_cosine_by_layer(
    pairs: list[tuple[WordInContext, WordInContext]],
) -> torch.Tensor:
    cos = torch.nn.functional.cosine_similarity
    return torch.stack(
        [cos(x.layers, y.layers, dim=-1) for x, y in pairs]
    ).mean(dim=0)


def senses_by_layer(
    first: Sequence[WordInContext], second: Sequence[WordInContext]
) -> SensesByLayer:
    """Compare a word's vectors in sentences of two senses, layer by layer.

    Pairs with the same sense come from within ``first`` and within ``second`` (each
    needs at least two sentences); pairs with different senses pair each of ``first``
    with each of ``second``.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> river = [word_in_context(bert, s, "bank") for s in ("the bank of the river", "a muddy river bank")]
        >>> money = [word_in_context(bert, s, "bank") for s in ("the bank lent me money", "my bank account")]
        >>> gap = senses_by_layer(river, money)
        >>> tuple(gap.same.shape) == (bert.config.num_hidden_layers + 1,)
        True
    """
    if len(first) < 2 or len(second) < 2:
        raise TokenError(
            f"each sense needs at least two sentences, got {len(first)} and {len(second)}"
        )
    same = [
        p
        for group in (first, second)
        for p in itertools.combinations(group, 2)
    ]
    different = list(itertools.product(first, second))
    return SensesByLayer(
        _mean_cosine_by_layer(same), _mean_cosine_by_layer(different)
    )


@dataclass(frozen=True)
class SenseSorting:
    """Whether vectors sort by sense: nearest neighbours and mean cosines within and across senses.

    Examples:
        >>> s = SenseSorting(right=3, n=4, within=0.9, across=0.7)
        >>> round(s.margin, 2)
        0.2
    """

    right: int  # vectors whose most similar other vector has the same sense
    n: int
    within: float  # mean cosine over pairs with the same sense
    across: float  # mean cosine over pairs with different senses

    @property
    def margin(self) -> float:
        """``within - across``."""
        return self.within - self.across


def sense_sorting(
    vectors: torch.Tensor, senses: Sequence[str]
) -> SenseSorting:
    """How well ``(n, hidden)`` vectors, one per sentence, sort by the sentences' ``senses``.

    Examples:
        >>> v = torch.tensor([[1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.1, 1.0]])
        >>> s = sense_sorting(v, ["a", "a", "b", "b"])
        >>> s.right, s.n, round(s.within, 3), round(s.across, 3)
        (4, 4, 0.995, 0.099)
    """
    n = len(senses)
    if vectors.ndim != 2 or vectors.shape[0] != n or n < 3:
        raise TokenError(
            f"need one vector per sense label and at least 3 of them, got {tuple(vectors.shape)} and {n}"
        )
    unit = torch.nn.functional.normalize(vectors.float(), dim=-1)
    matrix = unit @ unit.T
    pairs = list(itertools.combinations(range(n), 2))
    within = [float(matrix[i, j]) for i, j in pairs if senses[i] == senses[j]]
    across = [float(matrix[i, j]) for i, j in pairs if senses[i] != senses[j]]
    if not within or not across:
        raise TokenError(
            "need at least two vectors of one sense and two different senses"
        )
    closest = (
        (matrix - 3 * torch.eye(n)).argmax(dim=1).tolist()
    )  # never the vector itself
    right = sum(senses[i] == senses[j] for i, j in enumerate(closest))
    return SenseSorting(
        right, n, sum(within) / len(within), sum(across) / len(across)
    )
