"""bertsteps.by_hand: every intermediate result of a BERT layer, recomputed in plain torch,
equals the model's own — on the default checkpoint, on random ones of other sizes, with padding."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from transformers.activations import ACT2FN

import bertsteps
from bertsteps import by_hand
from tests.conftest import probe_chapter

TEXTS = [
    "the river bank",
    "she sat on the bank of the river and watched the water",
]


def hooked(
    bert: bertsteps.Bert, inputs: dict[str, torch.Tensor]
) -> dict[str, list[torch.Tensor]]:
    """The model's own self-attention context and attention-block output, for every layer."""
    seen: dict[str, list[torch.Tensor]] = {
        "context": [],
        "attention": [],
        "intermediate": [],
    }
    handles = []
    for layer in bert.model.encoder.layer:
        handles.append(
            layer.attention.self.register_forward_hook(
                lambda m, a, o: seen["context"].append(o[0])
            )
        )
        handles.append(
            layer.attention.register_forward_hook(
                lambda m, a, o: seen["attention"].append(o[0])
            )
        )
        handles.append(
            layer.intermediate.register_forward_hook(
                lambda m, a, o: seen["intermediate"].append(o)
            )
        )
    try:
        with torch.inference_mode():
            bert.model(**inputs)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def check_every_step(
    bert: bertsteps.Bert, texts: str | list[str]
) -> list[by_hand.LayerSteps]:
    inputs = bertsteps.encode(bert, texts)
    out = bertsteps.forward(bert, texts)
    steps = bertsteps.encoder_by_hand(bert, inputs)
    seen = hooked(bert, inputs)
    assert len(steps) == bert.config.num_hidden_layers
    torch.testing.assert_close(steps[0].input, out.hidden_states[0])
    keep = inputs["attention_mask"].bool()
    for i, step in enumerate(steps):
        # chained from layer to layer, rounding differences grow fastest at padding
        # positions, whose vectors nothing uses: those are compared layer by layer below
        torch.testing.assert_close(step.attention.probs, out.attentions[i])
        torch.testing.assert_close(
            step.attention.context[keep], seen["context"][i][keep]
        )
        torch.testing.assert_close(
            step.attention.output[keep], seen["attention"][i][keep]
        )
        torch.testing.assert_close(
            step.feed_forward.activated[keep], seen["intermediate"][i][keep]
        )
        torch.testing.assert_close(
            step.output[keep], out.hidden_states[i + 1][keep]
        )
        # one layer from the model's own input: equal everywhere, padding included
        alone = bertsteps.layer_by_hand(
            bert.model.encoder.layer[i],
            out.hidden_states[i],
            bert.config,
            inputs["attention_mask"],
        )
        torch.testing.assert_close(alone.output, out.hidden_states[i + 1])
        # padding gets no attention from any real token
        to_padding = step.attention.probs * (~keep)[:, None, None, :]
        assert torch.count_nonzero(to_padding) == 0
    torch.testing.assert_close(
        steps[-1].output[keep], out.last_hidden_state[keep]
    )
    return steps


def test_default_checkpoint_one_sentence(bert: bertsteps.Bert) -> None:
    steps = check_every_step(bert, TEXTS[1])
    heads, hidden = bert.config.num_attention_heads, bert.config.hidden_size
    first = steps[0].attention
    seq = first.probs.shape[-1]
    assert first.query.shape == (1, heads, seq, hidden // heads)
    assert first.context.shape == (1, seq, hidden)
    assert steps[0].feed_forward.intermediate.shape == (
        1,
        seq,
        bert.config.intermediate_size,
    )
    rows = first.probs.sum(dim=-1)
    torch.testing.assert_close(rows, torch.ones_like(rows))
    # the scores really are scaled dot products
    torch.testing.assert_close(
        first.scores,
        first.query @ first.key.transpose(-1, -2) / math.sqrt(hidden // heads),
    )


def test_default_checkpoint_padded_batch(bert: bertsteps.Bert) -> None:
    steps = check_every_step(bert, TEXTS)
    mask = bertsteps.encode(bert, TEXTS)["attention_mask"]
    assert mask[0].tolist().count(0) > 0  # the short sentence is padded
    short = int(mask[0].sum())
    alone = bertsteps.encoder_by_hand(bert, bertsteps.encode(bert, TEXTS[0]))
    # padding changes nothing for the real tokens of the short sentence
    torch.testing.assert_close(
        steps[-1].output[0, :short], alone[-1].output[0]
    )


def test_random_checkpoint_of_another_size(tiny: bertsteps.Bert) -> None:
    assert (
        tiny.config.hidden_size == 48 and tiny.config.num_attention_heads == 4
    )
    steps = check_every_step(tiny, TEXTS)
    assert (
        steps[0].attention.query.shape[1:2] == (4,)
        and steps[0].attention.query.shape[-1] == 12
    )


def test_random_mlm_checkpoint(tiny_mlm_folder: Path) -> None:
    other = bertsteps.load(tiny_mlm_folder, device="cpu")
    assert (
        other.config.hidden_size,
        other.config.num_attention_heads,
        other.config.num_hidden_layers,
    ) == (32, 2, 3)
    check_every_step(other, TEXTS)


@pytest.mark.parametrize(
    "name",
    ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh"],
)
def test_activations_match_transformers(name: str) -> None:
    x = torch.linspace(-6, 6, 241)
    torch.testing.assert_close(by_hand.activation(name)(x), ACT2FN[name](x))


def test_gelu_values() -> None:
    x = torch.tensor([-1.0, 0.0, 1.0, 3.0])
    expected = torch.tensor([-0.158655, 0.0, 0.841345, 2.995950])
    torch.testing.assert_close(by_hand.gelu(x), expected, atol=1e-5, rtol=0)


def test_unknown_activation_is_an_error() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="no by-hand version"):
        by_hand.activation("mystery")


def test_layer_norm_matches_torch() -> None:
    torch.manual_seed(0)
    x, w, b = torch.randn(3, 5, 16) * 4 + 2, torch.randn(16), torch.randn(16)
    torch.testing.assert_close(
        by_hand.layer_norm(x, w, b, 1e-12),
        torch.nn.functional.layer_norm(x, (16,), w, b, 1e-12),
    )


def test_additive_mask_and_heads() -> None:
    mask = by_hand.additive_mask(torch.tensor([[1, 1, 0], [1, 1, 1]]))
    assert mask is not None and mask.shape == (2, 1, 1, 3)
    assert mask[0, 0, 0].tolist() == [0.0, 0.0, torch.finfo(torch.float32).min]
    assert mask[1].abs().sum() == 0
    assert by_hand.additive_mask(None) is None
    x = torch.arange(24.0).view(1, 2, 12)
    heads = by_hand.split_heads(x, 3)
    assert heads[0, 1, 0].tolist() == [
        4.0,
        5.0,
        6.0,
        7.0,
    ]  # head 1 is the second slice of 4
    assert torch.equal(by_hand.merge_heads(heads), x)
    with pytest.raises(bertsteps.BertStepsError, match="not a multiple"):
        by_hand.split_heads(x, 5)


def test_training_mode_is_refused(tiny: bertsteps.Bert) -> None:
    tiny.model.train()
    try:
        with pytest.raises(bertsteps.BertStepsError, match="training mode"):
            bertsteps.encoder_by_hand(tiny, bertsteps.encode(tiny, "hello"))
    finally:
        tiny.model.eval()


def test_pooler_by_hand_equals_pooler_output(
    bert: bertsteps.Bert, tiny: bertsteps.Bert
) -> None:
    for model in (bert, tiny):
        assert (
            model.model.pooler is not None
        )  # both checkpoints hold pooler weights
        out = bertsteps.forward(model, TEXTS)
        pooled = bertsteps.pooler_by_hand(
            model.model.pooler, out.last_hidden_state
        )
        torch.testing.assert_close(pooled.first, out.last_hidden_state[:, 0])
        torch.testing.assert_close(
            pooled.projected,
            model.model.pooler.dense(out.last_hidden_state[:, 0]),
        )
        torch.testing.assert_close(pooled.output, out.pooler_output)
        assert pooled.output.shape == (2, model.config.hidden_size)


def test_pooler_by_hand_on_known_weights() -> None:
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertPooler

    pooler = BertPooler(
        BertConfig(hidden_size=2, num_attention_heads=1)
    ).requires_grad_(False)
    pooler.dense.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, -2.0]]))
    pooler.dense.bias.copy_(torch.tensor([0.0, 1.0]))
    hidden = torch.tensor([[[0.5, 1.0], [9.0, 9.0]]])  # only position 0 counts
    steps = bertsteps.pooler_by_hand(pooler, hidden)
    torch.testing.assert_close(steps.projected, torch.tensor([[0.5, -1.0]]))
    torch.testing.assert_close(
        steps.output, torch.tanh(torch.tensor([[0.5, -1.0]]))
    )


def test_no_pooler_is_an_error() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="no pooler"):
        bertsteps.pooler_by_hand(None, torch.zeros(1, 3, 4))


def fake_layer(
    x: torch.Tensor,
    attn_change: torch.Tensor,
    h: torch.Tensor,
    ffn_change: torch.Tensor,
    out: torch.Tensor,
) -> by_hand.LayerSteps:
    z = torch.zeros(1)
    attention = by_hand.AttentionSteps(z, z, z, z, z, z, z, attn_change, h)
    return by_hand.LayerSteps(
        x, attention, by_hand.FeedForwardSteps(z, z, ffn_change, out)
    )


def test_layer_changes_on_constructed_layers() -> None:
    x = torch.tensor([[[3.0, 4.0], [1.0, 0.0]]])  # two tokens, lengths 5 and 1
    still = fake_layer(
        x, torch.zeros_like(x), x, torch.zeros_like(x), x
    )  # changes nothing
    turned = fake_layer(
        x,
        torch.tensor(
            [[[0.0, 5.0], [0.0, 0.5]]]
        ),  # as long as the first token, half the second
        x,
        torch.tensor([[[0.5, 0.0], [0.0, 2.0]]]),
        torch.tensor(
            [[[-4.0, 3.0], [0.0, 1.0]]]
        ),  # first token turned 90°, second 90°
    )
    changes = bertsteps.layer_changes([still, turned])
    torch.testing.assert_close(
        changes.cosine, torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    )
    torch.testing.assert_close(
        changes.attention, torch.tensor([[0.0, 0.0], [1.0, 0.5]])
    )
    torch.testing.assert_close(
        changes.feed_forward, torch.tensor([[0.0, 0.0], [0.1, 2.0]])
    )
    with pytest.raises(bertsteps.BertStepsError, match="no layers"):
        bertsteps.layer_changes([])


def test_layer_changes_match_the_steps(
    bert: bertsteps.Bert, tiny: bertsteps.Bert
) -> None:
    """Trained layers change tokens a lot; freshly initialised ones hardly at all."""
    found = {}
    for model in (bert, tiny):
        steps = bertsteps.encoder_by_hand(
            model, bertsteps.encode(model, TEXTS[1])
        )
        changes = bertsteps.layer_changes(steps)
        last = steps[-1]
        expected = last.feed_forward.projected[0].norm(
            dim=-1
        ) / last.attention.output[0].norm(dim=-1)
        torch.testing.assert_close(changes.feed_forward[-1], expected)
        torch.testing.assert_close(
            changes.cosine[0],
            torch.nn.functional.cosine_similarity(
                steps[0].input[0], steps[0].output[0], dim=-1
            ),
        )
        found[model.name] = float(changes.attention.mean())
    assert found[bert.name] > 0.2
    assert found[tiny.name] < 0.05


@pytest.mark.slow  # runs the chapter twice, in subprocesses
def test_feed_forward_chapter_measures_follow_the_checkpoint(
    tmp_path: Path, tiny_folder: Path
) -> None:
    """The numbers behind the feed-forward chapter's claims: met by the default, not by random weights."""

    probe = (
        "import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); "
        "print(json.dumps({'negative': ns['negative'], 'gap': ns['gap'], 'turn': ns['turn'].tolist(), "
        "'smallest': ns['smallest'], 'stands_out': ns['stands_out'], "
        "'pooler_bias': float(ns['pooler'].dense.bias.abs().max())}))"
    )
    chapter = (
        Path(__file__).resolve().parent.parent / "examples" / "feed_forward.py"
    )
    found = {}
    for name, checkpoint in (("default", None), ("random", tiny_folder)):
        found[name] = probe_chapter(chapter, probe, tmp_path, checkpoint)
    default, random = found["default"], found["random"]
    assert len(default["gap"]) == 6 and len(random["gap"]) == 2
    # ffn-mostly-off, layernorm-matters, one-layer-turns-most, blocks-change-substantially
    assert default["negative"] >= 0.6 and random["negative"] < 0.6
    assert min(default["gap"]) >= 0.1 and max(random["gap"]) < 0.1
    assert default["stands_out"] is True and random["stands_out"] is False
    assert max(random["turn"]) < 0.05
    assert default["smallest"] >= 0.1 and random["smallest"] < 0.1
    # pooler-trained: both poolers still have the zero biases of BERT's initialisation
    assert default["pooler_bias"] == 0.0 and random["pooler_bias"] == 0.0
