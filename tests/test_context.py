"""A word's vector at every layer: found by offsets, averaged over pieces, equal to the encoder's own states."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.context import WordInContext, word_in_context, word_positions
from tests.conftest import probe_chapter


def test_single_token_word_matches_every_hidden_state(
    bert: bertsteps.Bert,
) -> None:
    text = "She sat on the bank of the river."
    w = word_in_context(bert, text, "bank")
    assert w.tokens == ["bank"] and w.ids == [
        bert.tokenizer.convert_tokens_to_ids("bank")
    ]
    assert text[w.span[0] : w.span[1]] == "bank"
    out = bertsteps.forward(bert, text)
    assert len(w.layers) == bert.config.num_hidden_layers + 1
    for layer, state in enumerate(out.hidden_states):
        torch.testing.assert_close(
            w.layers[layer], state[0, w.positions[0]].cpu()
        )
    # `last` is what the encoder hands on: its last hidden state at the word
    torch.testing.assert_close(
        w.last, out.last_hidden_state[0, w.positions[0]].cpu()
    )


def test_split_word_is_the_mean_of_its_pieces(bert: bertsteps.Bert) -> None:
    text = "Please tokenize this sentence."
    w = word_in_context(bert, text, "tokenize")
    assert w.tokens == ["token", "##ize"] and w.positions == [2, 3]
    out = bertsteps.forward(bert, text)
    expected = torch.stack(out.hidden_states)[:, 0, 2:4].mean(dim=1).cpu()
    torch.testing.assert_close(w.layers, expected)


def test_case_occurrence_and_whole_words(bert: bertsteps.Bert) -> None:
    text = "Banking aside, BANK on the bank."
    assert word_positions(bert, text, "bank") == ((15, 19), [4])
    assert word_positions(bert, text, "bank", occurrence=1) == ((27, 31), [7])
    assert bertsteps.tokenize(bert, text).tokens[4] == "bank"
    with pytest.raises(bertsteps.TokenError, match="only 2 time"):
        word_positions(bert, text, "bank", occurrence=2)
    with pytest.raises(bertsteps.TokenError, match="not at all"):
        word_positions(bert, "Banking is fun.", "bank")


@pytest.mark.parametrize(
    ("word", "occurrence", "message"),
    [
        ("", 0, "empty word"),
        ("bank", -1, "occurrence must be"),
        ("bank", True, "occurrence must be"),
    ],
)
def test_bad_arguments(
    bert: bertsteps.Bert, word: str, occurrence: object, message: str
) -> None:
    with pytest.raises(bertsteps.TokenError, match=message):
        word_positions(bert, "the bank", word, occurrence=occurrence)  # type: ignore[arg-type]


def test_same_token_at_the_same_position_is_equal_at_layer_0_only(
    bert: bertsteps.Bert,
) -> None:
    a = word_in_context(bert, "the bank of the river", "bank")
    b = word_in_context(bert, "the bank approved my loan", "bank")
    assert a.positions == b.positions
    torch.testing.assert_close(
        a.layers[0], b.layers[0]
    )  # token + position: the same
    assert not torch.allclose(
        a.last, b.last
    )  # the layers mixed in different contexts


def test_senses_of_bank_separate_in_the_default_checkpoint(
    bert: bertsteps.Bert,
) -> None:
    """A fact of the bundled default (not asserted by chapters): same-sense pairs end up closer."""
    river = [
        word_in_context(bert, s, "bank").last
        for s in (
            "We fished from the bank of the river.",
            "The river overflowed its bank.",
        )
    ]
    money = [
        word_in_context(bert, s, "bank").last
        for s in (
            "I deposited cash at the bank.",
            "The bank raised its interest rates.",
        )
    ]
    cos = bertsteps.cosine_matrix(torch.stack(river + money))
    same = (cos[0, 1] + cos[2, 3]) / 2
    across = cos[:2, 2:].mean()
    assert float(same) > float(across)


def test_random_checkpoint_of_another_size(tiny_folder: Path) -> None:
    tiny = bertsteps.load(tiny_folder, device="cpu")
    w = word_in_context(tiny, "a bank account", "bank")
    assert tuple(w.layers.shape) == (
        tiny.config.num_hidden_layers + 1,
        tiny.config.hidden_size,
    )


@pytest.mark.slow  # runs the chapter twice, in subprocesses
def test_chapter_sense_measures_follow_the_checkpoint(
    tmp_path: Path, tiny_folder: Path
) -> None:
    """The numbers behind the chapter's sense claims: met by the default, not by random weights."""

    probe = (
        "import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); "
        "print(json.dumps({'gained': ns['gained'], 'right': ns['right'], 'n': ns['n'], "
        "'beyond': ns['beyond_position'], 'same_start': ns['same_start_last'], "
        "'ones': len(ns['shown_one']), 'ones_same_place': len(ns['same_place'])}))"
    )
    chapter = (
        Path(__file__).resolve().parent.parent
        / "examples"
        / "contextual_embeddings.py"
    )
    found = {}
    for name, checkpoint in (("default", None), ("random", tiny_folder)):
        found[name] = probe_chapter(chapter, probe, tmp_path, checkpoint)
    default, random = found["default"], found["random"]
    assert set(default["gained"]) == {"bank", "bat"}
    assert min(default["gained"].values()) >= 0.02  # senses-separate holds
    assert (
        default["right"] == default["n"] == 8 and default["beyond"] >= 0.02
    )  # bank-sorted-by-meaning holds
    assert (
        max(abs(g) for g in random["gained"].values()) < 0.01
    )  # random layers add no sense gap
    assert random["beyond"] < 0.02  # bank-sorted-by-meaning fails
    assert (
        default["same_start"] < 0.999 <= random["same_start"]
    )  # layers-add-context: held, not held
    assert (
        random["ones"] >= 1 and random["ones_same_place"] == random["ones"]
    )  # 1.00 cells: position alone
    assert default["ones"] == 0


def fake_word(layers: list[list[float]]) -> WordInContext:
    return WordInContext(
        text="",
        word="w",
        span=(0, 1),
        positions=[1],
        tokens=["w"],
        ids=[1],
        layers=torch.tensor(layers),
    )


def test_sense_gap_holds_when_layers_separate_senses() -> None:
    # layer 0: every vector alike (position only); last layer: sense a along x, sense b along y
    a = [fake_word([[1.0, 1.0], [1.0, 0.1 * i]]) for i in (0, 1)]
    b = [fake_word([[1.0, 1.0], [0.1 * i, 1.0]]) for i in (0, 1)]
    gap = bertsteps.senses_by_layer(a, b)
    torch.testing.assert_close(gap.same, torch.tensor([1.0, 0.99503719]))
    assert float(gap.gap[0]) == pytest.approx(0.0, abs=1e-6)
    assert (
        gap.gained > 0.8 and gap.widest == 1
    )  # the chapter's criterion (>= 0.02) holds


def test_sense_gap_fails_when_layers_add_nothing_beyond_position() -> None:
    # the same vectors at both layers: whatever gap position makes stays, nothing is gained
    a = [fake_word([[1.0, 0.2 * i], [1.0, 0.2 * i]]) for i in (0, 1)]
    b = [
        fake_word([[1.0, 0.5 + 0.2 * i], [1.0, 0.5 + 0.2 * i]]) for i in (0, 1)
    ]
    gap = bertsteps.senses_by_layer(a, b)
    assert float(gap.gap[0]) > 0.01  # a gap from "position" alone
    assert gap.gained == pytest.approx(
        0.0, abs=1e-6
    )  # the criterion (>= 0.02) fails
    with pytest.raises(bertsteps.TokenError, match="at least two sentences"):
        bertsteps.senses_by_layer(a[:1], b)


def test_sense_sorting_holds_and_fails() -> None:
    senses = ["a", "a", "b", "b"]
    sorted_ = bertsteps.sense_sorting(
        torch.tensor([[1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.1, 1.0]]), senses
    )
    assert (sorted_.right, sorted_.n) == (4, 4) and sorted_.margin > 0.8
    mixed = bertsteps.sense_sorting(
        torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.05], [0.05, 1.0]]),
        senses,
    )
    assert (
        mixed.right == 0 and mixed.margin < 0
    )  # every nearest neighbour has the other sense
    with pytest.raises(bertsteps.TokenError, match="two different senses"):
        bertsteps.sense_sorting(torch.eye(3), ["a", "a", "a"])
