"""From text to token ids, and from words to rows of the input word-embedding matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import TokenError

if TYPE_CHECKING:
    import torch

    from .checkpoints import Bert

Strategy = Literal["mean", "first", "error"]


@dataclass(frozen=True)
class Tokenized:
    """A text as the model sees it: ids with the special tokens, their strings, their character spans.

    Examples:
        >>> from bertsteps import load
        >>> t = tokenize(load(), "let's tokenize something?")
        >>> t.tokens[:3], len(t)
        (['[CLS]', 'let', "'"], 9)
    """

    text: str
    ids: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.ids)

    def pieces(self) -> list[str]:
        """Each token's span of the original text (empty for special tokens).

        Examples:
            >>> from bertsteps import load
            >>> tokenize(load(), "Tokenize!").pieces()
            ['', 'Token', 'ize', '!', '']
        """
        return [self.text[a:b] for a, b in self.offsets]


def tokenize(bert: Bert, text: str) -> Tokenized:
    """Split ``text`` into WordPiece tokens, with the special tokens the model expects.

    Examples:
        >>> from bertsteps import load
        >>> tokenize(load(), "let's tokenize something?").ids
        [101, 2292, 1005, 1055, 19204, 4697, 2242, 1029, 102]
    """
    if not isinstance(text, str):
        raise TokenError(f"tokenize() takes a str, got {type(text).__name__}")
    enc = bert.tokenizer(text, return_offsets_mapping=bert.tokenizer.is_fast)
    ids = list(enc["input_ids"])
    offsets = [tuple(o) for o in enc.get("offset_mapping", [(0, 0)] * len(ids))]
    return Tokenized(
        text=text,
        ids=ids,
        tokens=bert.tokenizer.convert_ids_to_tokens(ids),
        offsets=[(int(a), int(b)) for a, b in offsets],
    )


def word_pieces(bert: Bert, word: str) -> list[str]:
    """The WordPiece tokens of one word, without special tokens.

    Examples:
        >>> from bertsteps import load
        >>> word_pieces(load(), "tokenize")
        ['token', '##ize']
    """
    if not isinstance(word, str):
        raise TokenError(f"a word must be a str, got {type(word).__name__}: {word!r}")
    if word.strip() == "":
        raise TokenError("an empty word has no embedding: pass at least one non-space character")
    return list(bert.tokenizer.tokenize(word))


def word_ids(bert: Bert, words: str | Sequence[str], *, strategy: Strategy = "error") -> list[list[int]]:
    """The vocabulary ids of each word's pieces, checked: no empty word, no ``[UNK]``.

    With ``strategy="error"`` a word that splits into several pieces raises an error
    naming the pieces; with ``"mean"`` or ``"first"`` every piece is returned.

    Examples:
        >>> from bertsteps import load
        >>> word_ids(load(), ["king", "queen"])
        [[2332], [3035]]
    """
    if strategy not in ("mean", "first", "error"):
        raise TokenError(f"unknown strategy {strategy!r}: use 'mean', 'first' or 'error'")
    if isinstance(words, str):
        words = [words]
    words = list(words)
    if not words:
        raise TokenError("no words given: pass at least one word")
    unk = bert.tokenizer.unk_token
    result: list[list[int]] = []
    for word in words:
        pieces = word_pieces(bert, word)
        if not pieces:
            raise TokenError(f"{word!r} has no tokens in this vocabulary (only characters the tokenizer drops)")
        if unk is not None and unk in pieces:
            raise TokenError(
                f"{word!r} maps to {unk} (pieces: {pieces}): the vocabulary of {bert.name} has no row for it"
            )
        if len(pieces) > 1 and strategy == "error":
            raise TokenError(
                f"{word!r} is not one token: WordPiece splits it into {pieces}. "
                "Pass strategy='mean' (average the pieces) or strategy='first' (first piece)"
            )
        result.append(bert.tokenizer.convert_tokens_to_ids(pieces))
    return result


def word_vectors(bert: Bert, words: str | Sequence[str], *, strategy: Strategy = "mean") -> torch.Tensor:
    """Input word embeddings of ``words``: a ``(len(words), hidden_size)`` float32 CPU tensor.

    A one-token word gives its row of the embedding matrix. A word that WordPiece splits
    gives the mean of its pieces (``"mean"``), its first piece (``"first"``), or an
    error naming the pieces (``"error"``).

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> word_vectors(bert, ["king", "queen"]).shape
        torch.Size([2, 384])
        >>> import torch
        >>> torch.equal(word_vectors(bert, "king")[0], bert.embedding_matrix[2332].cpu())
        True
    """
    import torch

    matrix = bert.embedding_matrix
    rows = []
    for ids in word_ids(bert, words, strategy=strategy):
        picked = matrix[ids[:1] if strategy == "first" else ids]
        rows.append(picked.mean(dim=0))
    return torch.stack(rows).to("cpu", torch.float32)
