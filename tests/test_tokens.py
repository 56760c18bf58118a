"""Tokens and input word embeddings, checked against the seed notebook's values."""

from __future__ import annotations

import pytest
import torch

import bertsteps

SEED_TEXT = "let's tokenize something?"
SEED_IDS = [101, 2292, 1005, 1055, 19204, 4697, 2242, 1029, 102]
SEED_TOKENS = [
    "[CLS]",
    "let",
    "'",
    "s",
    "token",
    "##ize",
    "something",
    "?",
    "[SEP]",
]


def test_seed_sentence(bert: bertsteps.Bert) -> None:
    t = bertsteps.tokenize(bert, SEED_TEXT)
    assert t.ids == SEED_IDS
    assert t.tokens == SEED_TOKENS
    assert t.ids == bert.tokenizer.encode(SEED_TEXT)
    assert t.pieces() == [
        "",
        "let",
        "'",
        "s",
        "token",
        "ize",
        "something",
        "?",
        "",
    ]
    assert len(t) == 9


def test_tokenize_rejects_non_text(bert: bertsteps.Bert) -> None:
    with pytest.raises(bertsteps.TokenError, match="takes a str"):
        bertsteps.tokenize(bert, 42)  # type: ignore[arg-type]


def test_word_vectors_are_embedding_rows(bert: bertsteps.Bert) -> None:
    words = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]
    vectors = bertsteps.word_vectors(bert, words)
    assert vectors.shape == (8, bert.config.hidden_size)
    assert vectors.dtype == torch.float32 and vectors.device.type == "cpu"
    ids = bert.tokenizer.convert_tokens_to_ids(words)
    torch.testing.assert_close(
        vectors, bert.embedding_matrix[ids].cpu(), rtol=0, atol=0
    )


def test_single_word_string_gives_one_row(bert: bertsteps.Bert) -> None:
    torch.testing.assert_close(
        bertsteps.word_vectors(bert, "king"),
        bertsteps.word_vectors(bert, ["king"]),
    )


def test_split_word_strategies(bert: bertsteps.Bert) -> None:
    pieces = bertsteps.word_pieces(bert, "tokenize")
    assert pieces == ["token", "##ize"]
    rows = bert.embedding_matrix[
        bert.tokenizer.convert_tokens_to_ids(pieces)
    ].cpu()
    torch.testing.assert_close(
        bertsteps.word_vectors(bert, ["tokenize"], strategy="mean")[0],
        rows.mean(0),
    )
    torch.testing.assert_close(
        bertsteps.word_vectors(bert, ["tokenize"], strategy="first")[0],
        rows[0],
    )
    with pytest.raises(bertsteps.TokenError, match=r"\['token', '##ize'\]"):
        bertsteps.word_vectors(bert, ["king", "tokenize"], strategy="error")


def test_uppercase_is_folded_by_the_uncased_vocabulary(
    bert: bertsteps.Bert,
) -> None:
    torch.testing.assert_close(
        bertsteps.word_vectors(bert, "King"),
        bertsteps.word_vectors(bert, "king"),
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["king", ""], "empty word"),
        (["   "], "empty word"),
        ([], "no words"),
        (["\u2603"], r"\[UNK\]"),
        ([3], "must be a str"),
    ],
)
def test_bad_words(
    bert: bertsteps.Bert, words: list[object], message: str
) -> None:
    with pytest.raises(bertsteps.TokenError, match=message):
        bertsteps.word_vectors(bert, words)  # type: ignore[arg-type]


def test_unknown_strategy(bert: bertsteps.Bert) -> None:
    with pytest.raises(bertsteps.TokenError, match="unknown strategy"):
        bertsteps.word_vectors(bert, ["king"], strategy="median")  # type: ignore[arg-type]
