"""From text to token ids, and from words to rows of the input word-embedding matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import TokenError
from .validation import is_int

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

    from .checkpoints import Bert

Strategy = Literal["mean", "first", "error"]


def id_tokens(
    tokenizer: PreTrainedTokenizerBase, ids: Sequence[int]
) -> list[str]:
    """The tokens of ``ids``, one string per id.

    Examples:
        >>> from bertsteps import load
        >>> id_tokens(load().tokenizer, [101, 2924, 102])
        ['[CLS]', 'bank', '[SEP]']
    """
    tokens = tokenizer.convert_ids_to_tokens(list(ids))
    assert isinstance(tokens, list)  # a list of ids gives a list of tokens
    return tokens


def token_ids(
    tokenizer: PreTrainedTokenizerBase, tokens: Sequence[str]
) -> list[int]:
    """The ids of ``tokens``, one int per token.

    Examples:
        >>> from bertsteps import load
        >>> token_ids(load().tokenizer, ["bank", "##s"])
        [2924, 2015]
    """
    ids = tokenizer.convert_tokens_to_ids(list(tokens))
    assert isinstance(ids, list)  # a list of tokens gives a list of ids
    return ids


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
    enc = bert.tokenizer(
        text, return_offsets_mapping=bert.tokenizer.is_fast, verbose=False
    )
    ids = list(enc["input_ids"])
    offsets = [
        tuple(o) for o in enc.get("offset_mapping", [(0, 0)] * len(ids))
    ]
    return Tokenized(
        text=text,
        ids=ids,
        tokens=id_tokens(bert.tokenizer, ids),
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
        raise TokenError(
            f"a word must be a str, got {type(word).__name__}: {word!r}"
        )
    if word.strip() == "":
        raise TokenError(
            "an empty word has no embedding: pass at least one non-space character"
        )
    return list(bert.tokenizer.tokenize(word))


def word_ids(
    bert: Bert, words: str | Sequence[str], *, strategy: Strategy = "error"
) -> list[list[int]]:
    """The vocabulary ids of each word's pieces, checked: no empty word, no ``[UNK]``.

    With ``strategy="error"`` a word that splits into several pieces raises an error
    naming the pieces; with ``"mean"`` or ``"first"`` every piece is returned.

    Examples:
        >>> from bertsteps import load
        >>> word_ids(load(), ["king", "queen"])
        [[2332], [3035]]
    """
    if strategy not in ("mean", "first", "error"):
        raise TokenError(
            f"unknown strategy {strategy!r}: use 'mean', 'first' or 'error' (--strategy on the command line)"
        )
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
            raise TokenError(
                f"{word!r} has no tokens in this vocabulary (only characters the tokenizer drops)"
            )
        if unk is not None and unk in pieces:
            raise TokenError(
                f"{word!r} maps to {unk} (pieces: {pieces}): the vocabulary of {bert.name} does not know it, "
                f"and {unk}'s row (id {bert.tokenizer.unk_token_id}) stands for every unknown word alike. "
                "Use a word the tokenizer splits into known pieces"
            )
        if len(pieces) > 1 and strategy == "error":
            raise TokenError(
                f"{word!r} is not one token: WordPiece splits it into {pieces}. "
                "Pass strategy='mean' (average the pieces) or strategy='first' (first piece); "
                "on the command line, --strategy mean or --strategy first"
            )
        result.append(token_ids(bert.tokenizer, pieces))
    return result


def word_vectors(
    bert: Bert, words: str | Sequence[str], *, strategy: Strategy = "mean"
) -> torch.Tensor:
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


def find_word(
    bert: Bert, text: str, word: str, *, occurrence: int = 0
) -> tuple[tuple[int, int], list[int]]:
    """Where ``word`` is in ``text`` as the tokenizer sees both: its character span and token positions.

    Both are tokenized, and the word's tokens are looked for as a run of the text's tokens
    that starts and ends on word boundaries (not inside a longer word). So the match
    follows the tokenizer's normalisation (an uncased checkpoint ignores case and
    accents: ``cafe`` finds ``café``), splits Chinese characters and punctuation like
    it, and finds special tokens such as ``[MASK]`` written in the text. ``occurrence``
    picks the match (0 is the first). Positions count ``[CLS]``, so they index
    ``encode(bert, text)`` directly; the span indexes ``text``.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> find_word(bert, "Un café, s'il vous plaît.", "cafe")
        ((3, 7), [2])
        >>> find_word(bert, "我爱北京", "北京")
        ((2, 4), [3, 4])
    """
    if not isinstance(text, str) or not isinstance(word, str):
        raise TokenError("a text and a word are needed, both str")
    if word.strip() == "":
        raise TokenError(
            "an empty word cannot be found: pass at least one non-space character"
        )
    if not is_int(occurrence) or occurrence < 0:
        raise TokenError(
            f"occurrence must be an int >= 0 (0 is the first match), got {occurrence!r}"
        )
    tok = bert.tokenizer
    if not tok.is_fast:
        raise TokenError(
            f"the tokenizer of {bert.name} gives no character offsets: a fast tokenizer is needed"
        )
    target = list(
        tok(word.strip(), add_special_tokens=False, verbose=False)["input_ids"]
    )
    if not target:
        raise TokenError(
            f"{word!r} gives no tokens: the tokenizer of {bert.name} drops all its characters"
        )
    enc = tok(text, return_offsets_mapping=True, verbose=False)
    ids, offsets, words = (
        list(enc["input_ids"]),
        list(enc["offset_mapping"]),
        enc.word_ids(),
    )
    # A token's word: the pre-tokenizer's word index; special tokens typed in the text are words of their own.
    word_of = [w if w is not None else -1 - i for i, w in enumerate(words)]
    unk = tok.unk_token_id
    width = len(target)
    matches: list[int] = []
    i = 0
    while i + width <= len(ids):
        a, b = offsets[i][0], offsets[i + width - 1][1]
        if (
            ids[i : i + width] == target
            and all(
                offsets[j][1] > offsets[j][0] for j in range(i, i + width)
            )  # not an added [CLS]/[SEP]
            and (i == 0 or word_of[i - 1] != word_of[i])
            and (
                i + width == len(ids)
                or word_of[i + width] != word_of[i + width - 1]
            )
            and (
                unk not in target
                or text[a:b].casefold() == word.strip().casefold()
            )
        ):
            matches.append(i)
            i += width
        else:
            i += 1
    if len(matches) <= occurrence:
        found = f"only {len(matches)} time(s)" if matches else "not at all"
        shown = tok.convert_ids_to_tokens(ids)
        raise TokenError(
            f"{word!r} (tokens {tok.convert_ids_to_tokens(target)}) occurs {found} as a whole word in {text!r} "
            f"(tokens {shown[:40]}{' ...' if len(shown) > 40 else ''}); occurrence={occurrence} asked"
        )
    first = matches[occurrence]
    positions = list(range(first, first + width))
    return (int(offsets[first][0]), int(offsets[positions[-1]][1])), positions
