"""One word in one sentence, followed through every layer of the encoder.

The input embedding of a token is one fixed row of a matrix, whatever surrounds it.
After the embedding layer and each encoder layer the token's vector depends on its
position and on the other tokens. :func:`word_in_context` finds a word in a sentence,
runs the encoder once, and returns the word's vector at every layer (averaged over
its WordPiece tokens when the word is split).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import TokenError

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


def word_positions(bert: Bert, text: str, word: str, *, occurrence: int = 0) -> tuple[tuple[int, int], list[int]]:
    """Where ``word`` is in ``text``: its character span and the positions of its tokens.

    The word is matched as a whole word (not inside a longer one), ignoring case;
    ``occurrence`` picks which match (0 is the first). Positions count the special
    tokens, so they index ``encode(bert, text)`` and ``forward(bert, text)`` directly.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> word_positions(bert, "Bank on it: the bank is open.", "bank", occurrence=1)
        ((16, 20), [6])
        >>> word_positions(bert, "Let's tokenize it.", "tokenize")
        ((6, 14), [4, 5])
    """
    from .tokens import tokenize

    if not isinstance(text, str) or not isinstance(word, str):
        raise TokenError("word_positions() takes a text and a word, both str")
    if word.strip() == "":
        raise TokenError("an empty word cannot be found: pass at least one non-space character")
    if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 0:
        raise TokenError(f"occurrence must be an int >= 0 (0 is the first match), got {occurrence!r}")
    if not bert.tokenizer.is_fast:
        raise TokenError(f"the tokenizer of {bert.name} gives no character offsets: a fast tokenizer is needed")
    pattern = re.compile(rf"(?<!\w){re.escape(word.strip())}(?!\w)", re.IGNORECASE)
    matches = list(pattern.finditer(text))
    if len(matches) <= occurrence:
        found = f"only {len(matches)} time(s)" if matches else "not at all"
        raise TokenError(f"{word!r} occurs {found} as a whole word in {text!r}; occurrence={occurrence} asked")
    start, end = matches[occurrence].span()
    tokenized = tokenize(bert, text)
    special = set(bert.tokenizer.all_special_ids)
    positions = [
        i
        for i, ((a, b), token_id) in enumerate(zip(tokenized.offsets, tokenized.ids, strict=True))
        if token_id not in special and b > a and a < end and b > start
    ]
    if not positions:
        raise TokenError(f"{word!r} was found in {text!r} but no token covers it (was the text truncated?)")
    return (start, end), positions


def word_in_context(bert: Bert, text: str, word: str, *, occurrence: int = 0) -> WordInContext:
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
    states = torch.stack(out.hidden_states)[:, 0]  # (layers + 1, seq, hidden)
    ids = bert.tokenizer(text)["input_ids"]
    picked = [ids[p] for p in positions]
    return WordInContext(
        text=text,
        word=word,
        span=span,
        positions=positions,
        tokens=bert.tokenizer.convert_ids_to_tokens(picked),
        ids=picked,
        layers=states[:, positions].mean(dim=1).to("cpu", torch.float32),
    )
