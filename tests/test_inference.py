"""encode() and forward(): inputs on the model's device, every intermediate result kept."""

from __future__ import annotations

import pytest
import torch

import bertsteps


def test_encode_single_pair_and_batch(bert: bertsteps.Bert) -> None:
    one = bertsteps.encode(bert, "let's tokenize something?")
    assert one["input_ids"].tolist() == [
        [101, 2292, 1005, 1055, 19204, 4697, 2242, 1029, 102]
    ]
    pair = bertsteps.encode(bert, "first part", "second")
    assert pair["token_type_ids"].tolist() == [[0, 0, 0, 0, 1, 1]]
    batch = bertsteps.encode(bert, ["short", "a longer sentence"])
    assert batch["attention_mask"].tolist() == [
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1],
    ]
    assert batch["input_ids"].device.type == bert.device.type


def test_forward_matches_the_model(bert: bertsteps.Bert) -> None:
    out = bertsteps.forward(bert, "the river bank")
    inputs = bertsteps.encode(bert, "the river bank")
    with torch.no_grad():
        plain = bert.model(**inputs)
    torch.testing.assert_close(out.last_hidden_state, plain.last_hidden_state)
    torch.testing.assert_close(out.hidden_states[-1], plain.last_hidden_state)
    assert len(out.attentions) == bert.config.num_hidden_layers
    rows = out.attentions[0].sum(dim=-1)
    torch.testing.assert_close(
        rows, torch.ones_like(rows)
    )  # each query's weights sum to 1


def test_forward_on_another_size(tiny: bertsteps.Bert) -> None:
    out = bertsteps.forward(tiny, "the river bank")
    assert (
        out.last_hidden_state.shape[-1] == 48 and len(out.hidden_states) == 3
    )


def test_encode_rejects_bad_input(bert: bertsteps.Bert) -> None:
    with pytest.raises(bertsteps.TokenError, match="non-empty list of str"):
        bertsteps.encode(bert, [])
