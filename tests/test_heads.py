"""Attention-head patterns: shares against an even spread, and the criterion that names a head."""

from __future__ import annotations

import pytest
import torch

import bertsteps
from bertsteps.heads import (
    PATTERNS,
    head_patterns,
    pattern_targets,
    token_roles,
)

PREV, SELF, NEXT, SPECIAL, WORD = range(5)

# [CLS] w0 w1a w1b w2 w3 [SEP]: word 1 is split into two pieces
SPECIAL_MASK = torch.tensor([[True, False, False, False, False, False, True]])
WORD_IDS = torch.tensor([[-1, 0, 1, 1, 2, 3, -1]])
N = 7


def heads_from(*rows_of: torch.Tensor) -> torch.Tensor:
    """One layer, one sentence: ``(1, heads, seq, seq)`` from ``(seq, seq)`` matrices."""
    return torch.stack(rows_of)[None]


def even() -> torch.Tensor:
    return torch.full((N, N), 1.0 / N)


def previous_head() -> torch.Tensor:
    """Every token puts all its weight on the token before it ([CLS] on itself)."""
    m = torch.zeros(N, N)
    m[0, 0] = 1.0
    m[torch.arange(1, N), torch.arange(0, N - 1)] = 1.0
    return m


def mixed(
    special: torch.Tensor, words: torch.Tensor, shares: dict[int, float]
) -> torch.Tensor:
    """Each word row gives ``shares[p]`` to pattern ``p``'s keys (evenly) and the rest evenly to the other keys."""
    targets = pattern_targets(special, words, torch.ones_like(words)).float()[
        :, 0
    ]  # (P, n, n)
    n = words.shape[-1]
    m = torch.full((n, n), 1.0 / n)
    for i in range(n):
        row, used, given = (
            torch.zeros(n),
            torch.zeros(n, dtype=torch.bool),
            0.0,
        )
        for p, share in shares.items():
            on = targets[p, i].bool() & ~used
            if on.any():
                row[on] = share / int(on.sum())
                used |= on
                given += share
        if given == 0:
            continue
        rest = ~used
        row[rest] = (1 - given) / int(rest.sum())
        m[i] = row
    return m


def long_sentence(words: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``[CLS]``, ``words`` one-piece words, ``[SEP]``: the special mask and word ids."""
    special = torch.zeros(1, words + 2, dtype=torch.bool)
    special[0, [0, -1]] = True
    ids = torch.tensor([[-1, *range(words), -1]])
    return special, ids


def test_even_spread_has_ratio_one_and_no_name() -> None:
    found = head_patterns(heads_from(even()), SPECIAL_MASK, WORD_IDS)
    assert found.share.shape == (1, 1, len(PATTERNS))
    torch.testing.assert_close(found.ratio[0, 0], torch.ones(len(PATTERNS)))
    assert found.winner.tolist() == [[-1]]
    assert (
        found.name(0, 0) is None and found.describe(0, 0) == "no clear pattern"
    )
    assert found.entropy[0, 0].item() == pytest.approx(found.even_entropy)
    assert found.largest_ratio == pytest.approx(1.0)


def test_even_shares_are_exact() -> None:
    found = head_patterns(heads_from(even()), SPECIAL_MASK, WORD_IDS)
    # word rows 1..5; previous: rows 2..5 (row 1 follows [CLS]); next: rows 1..4 (row 5 precedes [SEP])
    assert found.rows.tolist() == [4, 5, 4, 5, 2]
    torch.testing.assert_close(
        found.even, torch.tensor([1 / N, 1 / N, 1 / N, 2 / N, 1 / N])
    )


def test_padding_is_left_out() -> None:
    pad = 3
    seq = N + pad
    special = torch.cat(
        [SPECIAL_MASK, torch.zeros(1, pad, dtype=torch.bool)], dim=1
    )
    words = torch.cat([WORD_IDS, torch.full((1, pad), -1)], dim=1)
    mask = torch.cat([torch.ones(1, N), torch.zeros(1, pad)], dim=1)
    m = torch.zeros(seq, seq)
    m[:N, :N] = previous_head()
    m[N:, :] = 1.0 / seq  # padding rows: whatever they hold must not count
    found = head_patterns(heads_from(m), special, words, mask)
    torch.testing.assert_close(
        found.even[:4], torch.tensor([1 / N, 1 / N, 1 / N, 2 / N])
    )
    assert found.rows.tolist() == [4, 5, 4, 5, 2]
    assert found.share[0, 0, PREV].item() == pytest.approx(1.0)


def test_previous_token_head_is_named() -> None:
    found = head_patterns(
        heads_from(even(), previous_head()), SPECIAL_MASK, WORD_IDS
    )
    assert found.share[0, 1, PREV].item() == pytest.approx(1.0)
    assert found.ratio[0, 1, PREV].item() == pytest.approx(N)
    assert found.winner.tolist() == [[-1, PREV]]
    assert found.named("previous token") == [(0, 1)]
    assert found.named("next token") == []
    assert found.describe(0, 1) == f"previous token 100% ({N:.1f}×)"
    assert found.strongest("previous token") == (0, 1)


def test_threshold_is_three_times_even() -> None:
    below = mixed(
        SPECIAL_MASK, WORD_IDS, {PREV: 2.9 / N}
    )  # 2.9 × the even share
    above = mixed(SPECIAL_MASK, WORD_IDS, {PREV: 3.1 / N})
    found = head_patterns(heads_from(below, above), SPECIAL_MASK, WORD_IDS)
    assert found.ratio[0, 0, PREV].item() == pytest.approx(2.9)
    assert found.ratio[0, 1, PREV].item() == pytest.approx(3.1)
    assert found.winner.tolist() == [[-1, PREV]]


def test_largest_ratio_wins() -> None:
    special, words = long_sentence(
        18
    )  # n = 20: even shares 1/20 (previous) and 2/20 (special)
    m = mixed(special, words, {PREV: 0.2, SPECIAL: 0.5})
    found = head_patterns(heads_from(m), special, words)
    assert found.ratio[0, 0, PREV].item() == pytest.approx(4.0)
    assert found.ratio[0, 0, SPECIAL].item() == pytest.approx(5.0)
    assert found.name(0, 0) == "special tokens"
    assert found.named("previous token") == []
    claim = bertsteps.pattern_claim(found, "previous token", 0, id="prev")
    assert not claim.holds
    assert (
        "head 0, gives them 20% of each token's attention on average, 4.0× an even spread"
        in claim.sentence
    )
    assert (
        "its clearest pattern is the special tokens [CLS] and [SEP]"
        in claim.sentence
    )
    assert bertsteps.pattern_claim(
        found, "special tokens", 0, id="special"
    ).holds
    m = mixed(special, words, {PREV: 0.2})
    plural = bertsteps.pattern_claim(
        head_patterns(heads_from(m), special, words),
        "special tokens",
        0,
        id="s",
    )
    assert not plural.holds and "head 0, gives them " in plural.sentence


def test_a_pattern_with_a_larger_ratio_takes_the_name() -> None:
    # all weight on the previous token for word rows, which for the second piece of the split
    # word is also the same word: previous (7×) beats same word (3.5×)
    found = head_patterns(heads_from(previous_head()), SPECIAL_MASK, WORD_IDS)
    assert found.ratio[0, 0, WORD].item() == pytest.approx(0.5 / (1 / N))
    assert found.name(0, 0) == "previous token"
    claim = bertsteps.pattern_claim(found, "same word", 0, id="same-word")
    assert not claim.holds
    assert "its clearest pattern is the previous token" in claim.sentence


def test_same_word_head() -> None:
    m = mixed(SPECIAL_MASK, WORD_IDS, {WORD: 1.0})
    found = head_patterns(heads_from(m), SPECIAL_MASK, WORD_IDS)
    assert found.share[0, 0, WORD].item() == pytest.approx(1.0)
    assert found.name(0, 0) == "same word"


def test_claims_hold_for_a_clear_head_and_not_for_an_even_one() -> None:
    found = head_patterns(
        heads_from(even(), previous_head()), SPECIAL_MASK, WORD_IDS
    )
    yes = bertsteps.pattern_claim(found, "previous token", 0, id="prev")
    assert yes.holds
    assert yes.sentence.startswith(
        "Head 1 of layer 1 attends to the previous token: 100%"
    )
    assert "7.0× an even spread" in yes.sentence
    no = bertsteps.pattern_claim(found, "next token", 0, id="next")
    assert not no.holds and no.sentence.startswith(
        "No head of layer 1 attends clearly to the next token"
    )
    assert "under the 3× criterion" in no.sentence
    assert bertsteps.focus_claim(found, 0, id="focus").holds
    overview = bertsteps.overview_claim(found, id="overview")
    assert (
        overview.holds
        and "1 of the 2 heads have a clear pattern" in overview.sentence
    )

    flat = head_patterns(heads_from(even(), even()), SPECIAL_MASK, WORD_IDS)
    assert [
        bertsteps.pattern_claim(flat, p, 0, id="p").holds for p in PATTERNS
    ] == [False] * 5
    flat_focus = bertsteps.focus_claim(flat, 0, id="focus")
    assert not flat_focus.holds
    assert (
        "none is more focused than another" in flat_focus.sentence
    )  # equal heads: none is named
    assert (
        "most focused, head" not in flat_focus.sentence
        and "spread-out head" not in flat_focus.sentence
    )
    overview = bertsteps.overview_claim(flat, id="overview")
    assert not overview.holds and "none of the 2 heads" in overview.sentence


def test_a_pattern_that_never_occurs_is_not_measured() -> None:
    words = torch.tensor([[-1, 0, 1, 2, 3, 4, -1]])  # no split word
    found = head_patterns(heads_from(even()), SPECIAL_MASK, words)
    assert found.rows[WORD].item() == 0
    assert torch.isnan(found.ratio[0, 0, WORD])
    claim = bertsteps.pattern_claim(found, "same word", 0, id="w")
    assert not claim.holds and "no word split into pieces" in claim.sentence


def test_bad_input() -> None:
    with pytest.raises(
        bertsteps.BertStepsError, match=r"\(batch, heads, seq, seq\)"
    ):
        head_patterns(torch.ones(3, 3), SPECIAL_MASK, WORD_IDS)
    with pytest.raises(bertsteps.BertStepsError, match="must all be"):
        head_patterns(heads_from(even()), SPECIAL_MASK[:, :5], WORD_IDS)
    found = head_patterns(heads_from(even()), SPECIAL_MASK, WORD_IDS)
    with pytest.raises(bertsteps.BertStepsError, match="unknown pattern"):
        found.named("dogs")


def test_token_roles(bert: bertsteps.Bert) -> None:
    roles = token_roles(bert, ["tokenize it", "a b c d"])
    assert roles["word_ids"].tolist() == [
        [-1, 0, 0, 1, -1, -1],
        [-1, 0, 1, 2, 3, -1],
    ]
    assert roles["special"].tolist() == [
        [True, False, False, False, True, False],
        [True, False, False, False, False, True],
    ]


SENTENCES = [
    "the cat sat on the mat because it was tired.",
    "unbelievably, the tokenizer splits rare words into smaller pieces.",
    "she gave her brother the keys before the long drive home.",
]


def test_bundled_default_has_a_previous_token_head(
    bert: bertsteps.Bert,
) -> None:
    found = bertsteps.attention_patterns(bert, SENTENCES)
    assert found.share.shape == (6, 12, 5)
    assert found.name(0, 2) == "previous token"
    assert found.share[0, 2, PREV].item() > 0.95
    assert found.named("previous token", 0)[0] == (0, 2)
    assert found.named(
        "special tokens"
    )  # the later layers' heads lean on [CLS]/[SEP]
    assert found.entropy[0, 2].item() < 0.1 * found.even_entropy


def test_by_hand_probabilities_measure_the_same(bert: bertsteps.Bert) -> None:
    inputs = bertsteps.encode(bert, SENTENCES[:2])
    out = bertsteps.forward(bert, SENTENCES[:2])
    steps = bertsteps.attention_by_hand(
        bert.model.encoder.layer[0],
        out.hidden_states[0],
        bert.config,
        inputs["attention_mask"],
    )
    by_hand = bertsteps.attention_patterns(
        bert, SENTENCES[:2], attentions=[steps.probs]
    )
    model = bertsteps.attention_patterns(bert, SENTENCES[:2])
    torch.testing.assert_close(by_hand.share[0], model.share[0])
    torch.testing.assert_close(by_hand.even, model.even)


def test_random_weights_have_no_clear_head(tiny: bertsteps.Bert) -> None:
    found = bertsteps.attention_patterns(tiny, SENTENCES)
    assert found.share.shape == (2, 4, 5)
    assert found.winner.tolist() == [[-1] * 4, [-1] * 4]
    assert found.largest_ratio < 1.5
    claims = [bertsteps.pattern_claim(found, p, 0, id="p") for p in PATTERNS]
    assert [c.holds for c in claims] == [False] * 5
    assert not bertsteps.focus_claim(found, 0, id="f").holds
    assert not bertsteps.overview_claim(found, id="o").holds


def test_unknown_tokens_are_words_not_markers(bert: bertsteps.Bert) -> None:
    roles = token_roles(
        bert, ["a \u2603 b"]
    )  # the snowman is not in the vocabulary
    tokens = bert.tokenizer.convert_ids_to_tokens(
        roles["input_ids"][0].tolist()
    )
    assert tokens == ["[CLS]", "a", "[UNK]", "b", "[SEP]"]
    assert roles["special"].tolist() == [[True, False, False, False, True]]
    assert roles["word_ids"].tolist() == [[-1, 0, 1, 2, -1]]
