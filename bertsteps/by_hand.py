"""One BERT layer recomputed by hand, in plain torch, keeping every intermediate result.

A BERT layer is self-attention followed by a feed-forward block, each closed by a
residual connection and a LayerNorm. The functions here redo that arithmetic with the
layer's own weights — matrix products, a softmax, an activation, a normalisation — and
return each step, so a page can show it and prove it equal to what the model computes.

Dropout is left out: the model is in eval mode, where dropout does nothing.

Examples:
    >>> import torch
    >>> from bertsteps import encode, load
    >>> bert = load()
    >>> inputs = encode(bert, "the river bank")
    >>> steps = encoder_by_hand(bert, inputs)
    >>> len(steps) == bert.config.num_hidden_layers
    True
    >>> torch.testing.assert_close(steps[-1].output, bert.model(**inputs).last_hidden_state)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import torch

from .errors import BertStepsError

if TYPE_CHECKING:
    from transformers import PretrainedConfig

    from .checkpoints import Bert

Activation = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class AttentionSteps:
    """Every intermediate result of one self-attention block.

    Shapes: ``query``, ``key``, ``value`` and ``head_context`` are
    ``(batch, heads, seq, head_size)``; ``scores`` and ``probs`` are
    ``(batch, heads, seq, seq)``; the rest are ``(batch, seq, hidden)``.
    """

    query: torch.Tensor
    key: torch.Tensor
    value: torch.Tensor
    scores: torch.Tensor  # QK^T / sqrt(head_size), plus the additive mask
    probs: torch.Tensor  # softmax over the last axis: the attention weights
    head_context: torch.Tensor  # probs @ value, per head
    context: torch.Tensor  # heads merged back: the self-attention output
    projected: torch.Tensor  # the output projection (dense) of the context
    output: (
        torch.Tensor
    )  # LayerNorm(projected + input): the attention block's output


@dataclass(frozen=True)
class FeedForwardSteps:
    """Every intermediate result of one feed-forward block, ``(batch, seq, ...)``."""

    intermediate: (
        torch.Tensor
    )  # dense to the intermediate size, before the activation
    activated: torch.Tensor  # after the activation
    projected: torch.Tensor  # dense back to the hidden size
    output: torch.Tensor  # LayerNorm(projected + input): the layer's output


@dataclass(frozen=True)
class LayerSteps:
    """One whole layer: its input, its attention block, its feed-forward block."""

    input: torch.Tensor
    attention: AttentionSteps
    feed_forward: FeedForwardSteps

    @property
    def output(self) -> torch.Tensor:
        """The layer's output, ``(batch, seq, hidden)``: the next layer's input."""
        return self.feed_forward.output


def gelu(x: torch.Tensor) -> torch.Tensor:
    """The exact GELU: ``x * Φ(x) = 0.5 x (1 + erf(x / √2))``.

    Examples:
        >>> gelu(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """The tanh approximation of GELU (``gelu_new``): ``0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))``.

    Examples:
        >>> gelu_tanh(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8412])
    """
    return (
        0.5
        * x
        * (
            1.0
            + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3)))
        )
    )


_ACTIVATIONS: Mapping[str, Activation] = {
    "gelu": gelu,
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "relu": lambda x: x.clamp(min=0),
    "silu": lambda x: x * torch.sigmoid(x),
    "swish": lambda x: x * torch.sigmoid(x),
    "tanh": torch.tanh,
}


def activation(name: str) -> Activation:
    """The by-hand activation for a config's ``hidden_act`` (``"gelu"``, ``"relu"``, ...).

    Examples:
        >>> activation("gelu") is gelu
        True
        >>> activation("relu")(torch.tensor([-2.0, 3.0]))
        tensor([0., 3.])
    """
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise BertStepsError(
            f"no by-hand version of the activation {name!r}; known: {', '.join(sorted(_ACTIVATIONS))}"
        )
    return _ACTIVATIONS[name]


def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float
) -> torch.Tensor:
    """Normalise each vector to mean 0 and variance 1 over its last axis, then scale and shift.

    Examples:
        >>> y = layer_norm(torch.tensor([[1.0, 2.0, 3.0]]), torch.ones(3), torch.zeros(3), 1e-12)
        >>> [round(v, 4) for v in y[0].tolist()]
        [-1.2247, 0.0, 1.2247]
    """
    mean = x.mean(dim=-1, keepdim=True)
    var = (
        (x - mean).pow(2).mean(dim=-1, keepdim=True)
    )  # biased, as LayerNorm uses
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def linear(x: torch.Tensor, dense: torch.nn.Linear) -> torch.Tensor:
    """``x @ W^T + b`` with a ``torch.nn.Linear``'s weight and bias.

    Examples:
        >>> dense = torch.nn.Linear(2, 1).requires_grad_(False)
        >>> _ = dense.weight.copy_(torch.tensor([[1.0, 2.0]])), dense.bias.fill_(0.5)
        >>> linear(torch.tensor([[3.0, 4.0]]), dense)
        tensor([[11.5000]])
    """
    out = x @ dense.weight.T
    return out if dense.bias is None else out + dense.bias


def additive_mask(
    attention_mask: torch.Tensor | None, dtype: torch.dtype = torch.float32
) -> torch.Tensor | None:
    """Turn a ``(batch, seq)`` mask of 1 (token) and 0 (padding) into ``(batch, 1, 1, seq)``
    numbers to add to the scores: 0 for a token, the most negative ``dtype`` for padding,
    so that padding gets zero weight after the softmax.

    Examples:
        >>> additive_mask(torch.tensor([[1, 1, 0]]))
        tensor([[[[ 0.0000e+00,  0.0000e+00, -3.4028e+38]]]])
    """
    if attention_mask is None:
        return None
    padding = attention_mask[:, None, None, :] == 0
    return torch.zeros(
        padding.shape, dtype=dtype, device=padding.device
    ).masked_fill(padding, torch.finfo(dtype).min)


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``(batch, seq, hidden)`` to ``(batch, heads, seq, hidden / heads)``: each head its own slice.

    Examples:
        >>> split_heads(torch.zeros(1, 5, 12), 3).shape
        torch.Size([1, 3, 5, 4])
    """
    batch, seq, hidden = x.shape
    if hidden % num_heads:
        raise BertStepsError(
            f"hidden size {hidden} is not a multiple of {num_heads} heads"
        )
    return x.view(batch, seq, num_heads, hidden // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(batch, heads, seq, head_size)`` back to ``(batch, seq, heads * head_size)``.

    Examples:
        >>> x = torch.randn(2, 5, 12)
        >>> torch.equal(merge_heads(split_heads(x, 3)), x)
        True
    """
    batch, heads, seq, size = x.shape
    return x.transpose(1, 2).reshape(batch, seq, heads * size)


def attention_by_hand(
    layer: Any,
    hidden_states: torch.Tensor,
    config: PretrainedConfig,
    attention_mask: torch.Tensor | None = None,
) -> AttentionSteps:
    """The self-attention block of ``layer`` (a ``BertLayer``) on ``(batch, seq, hidden)`` inputs.

    ``attention_mask`` is the tokenizer's ``(batch, seq)`` mask of 1 and 0, or ``None``.

    Examples:
        >>> from bertsteps import forward, load
        >>> bert = load()
        >>> out = forward(bert, "the river bank")
        >>> steps = attention_by_hand(bert.model.encoder.layer[0], out.hidden_states[0], bert.config)
        >>> torch.testing.assert_close(steps.probs, out.attentions[0])
    """
    heads = config.num_attention_heads
    head_size = config.hidden_size // heads
    attn = layer.attention
    query = split_heads(linear(hidden_states, attn.self.query), heads)
    key = split_heads(linear(hidden_states, attn.self.key), heads)
    value = split_heads(linear(hidden_states, attn.self.value), heads)
    scores = (
        query @ key.transpose(-1, -2) * head_size**-0.5
    )  # = / sqrt(head_size)
    mask = additive_mask(attention_mask, scores.dtype)
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1)
    head_context = probs @ value
    context = merge_heads(head_context)
    projected = linear(context, attn.output.dense)
    norm = attn.output.LayerNorm
    output = layer_norm(
        projected + hidden_states, norm.weight, norm.bias, norm.eps
    )
    return AttentionSteps(
        query,
        key,
        value,
        scores,
        probs,
        head_context,
        context,
        projected,
        output,
    )


def feed_forward_by_hand(
    layer: Any, attention_output: torch.Tensor, config: PretrainedConfig
) -> FeedForwardSteps:
    """The feed-forward block of ``layer`` (a ``BertLayer``) on the attention block's output.

    Examples:
        >>> from bertsteps import forward, load
        >>> bert = load()
        >>> out = forward(bert, "the river bank")
        >>> layer = bert.model.encoder.layer[0]
        >>> attn = attention_by_hand(layer, out.hidden_states[0], bert.config)
        >>> ffn = feed_forward_by_hand(layer, attn.output, bert.config)
        >>> torch.testing.assert_close(ffn.output, out.hidden_states[1])
    """
    intermediate = linear(attention_output, layer.intermediate.dense)
    activated = activation(config.hidden_act)(intermediate)
    projected = linear(activated, layer.output.dense)
    norm = layer.output.LayerNorm
    output = layer_norm(
        projected + attention_output, norm.weight, norm.bias, norm.eps
    )
    return FeedForwardSteps(intermediate, activated, projected, output)


def layer_by_hand(
    layer: Any,
    hidden_states: torch.Tensor,
    config: PretrainedConfig,
    attention_mask: torch.Tensor | None = None,
) -> LayerSteps:
    """One whole ``BertLayer`` by hand: attention, then feed-forward.

    Examples:
        >>> from bertsteps import forward, load
        >>> bert = load()
        >>> out = forward(bert, "the river bank")
        >>> steps = layer_by_hand(bert.model.encoder.layer[0], out.hidden_states[0], bert.config)
        >>> torch.testing.assert_close(steps.output, out.hidden_states[1])
    """
    attention = attention_by_hand(layer, hidden_states, config, attention_mask)
    return LayerSteps(
        hidden_states,
        attention,
        feed_forward_by_hand(layer, attention.output, config),
    )


def encoder_by_hand(
    bert: Bert, inputs: Mapping[str, torch.Tensor]
) -> list[LayerSteps]:
    """Every layer of ``bert``'s encoder by hand, from the embedding layer's output to the last layer.

    ``inputs`` is what [`bertsteps.encode`][bertsteps.encode] returns. The embedding layer itself is
    run by the model; each layer's input is the previous by-hand layer's output.

    Examples:
        >>> from bertsteps import encode, load
        >>> bert = load()
        >>> steps = encoder_by_hand(bert, encode(bert, ["short", "a longer one"]))
        >>> tuple(steps[-1].output.shape) == (2, 5, bert.config.hidden_size)
        True
    """
    model = bert.model
    if model.training:
        raise BertStepsError(
            "the model is in training mode: dropout would make it random; call .eval()"
        )
    if (
        not hasattr(model, "encoder")
        or not hasattr(model.encoder, "layer")
        or not hasattr(model, "embeddings")
    ):
        raise BertStepsError(
            f"{bert.name} is a {bert.config.model_type} model, not laid out like BERT (embeddings, then "
            "encoder.layer): the by-hand steps follow BERT's layers only. Load a BERT checkpoint"
        )
    embeddings = cast("torch.nn.Module", model.embeddings)
    layers = cast("Iterable[torch.nn.Module]", model.encoder.layer)
    token_type_ids = inputs.get("token_type_ids")
    with torch.inference_mode():
        hidden = embeddings(
            input_ids=inputs["input_ids"], token_type_ids=token_type_ids
        )
        steps: list[LayerSteps] = []
        for layer in layers:
            steps.append(
                layer_by_hand(
                    layer, hidden, bert.config, inputs.get("attention_mask")
                )
            )
            hidden = steps[-1].output
    return steps


@dataclass(frozen=True)
class PoolerSteps:
    """The pooler by hand: the ``[CLS]`` vector of the last layer, a dense layer, then tanh.

    Shapes are ``(batch, hidden)``.
    """

    first: (
        torch.Tensor
    )  # the last layer's vector at position 0, the [CLS] token
    projected: torch.Tensor  # the dense layer
    output: torch.Tensor  # tanh of it: the model's pooler_output


def pooler_by_hand(
    pooler: Any, last_hidden_state: torch.Tensor
) -> PoolerSteps:
    """A ``BertPooler`` by hand on the encoder's ``(batch, seq, hidden)`` output.

    ``pooler`` is ``bert.model.pooler``; a checkpoint without pooler weights has none
    (``None``), and then there is nothing to compute.

    Examples:
        >>> from transformers.models.bert.modeling_bert import BertPooler
        >>> from bertsteps import forward, load
        >>> bert = load()
        >>> out = forward(bert, "the river bank")
        >>> steps = pooler_by_hand(bert.model.pooler, out.last_hidden_state)
        >>> torch.testing.assert_close(steps.output, out.pooler_output)
        >>> tuple(steps.output.shape) == (1, bert.config.hidden_size)
        True
    """
    if pooler is None:
        raise BertStepsError(
            "this model has no pooler (its checkpoint holds no pooler weights): nothing to compute"
        )
    first = last_hidden_state[:, 0]
    projected = linear(first, pooler.dense)
    return PoolerSteps(first, projected, torch.tanh(projected))


@dataclass(frozen=True)
class LayerChanges:
    """How much each layer changes each token, measured in two ways, ``(layers, seq)`` each.

    ``cosine`` is the cosine between a token's vector before and after the layer. Both are
    outputs of a LayerNorm, so it ignores their length, but it includes what the
    LayerNorms' learned weight and bias do to the vectors, not only the blocks' changes.

    ``attention`` and ``feed_forward`` measure each block's change *before* its LayerNorm:
    the length of what the block adds (its ``projected`` output) divided by the length of
    the vector it is added to. 0 means the block adds nothing; 1 means it adds a vector as
    long as the token's own.
    """

    cosine: torch.Tensor
    attention: torch.Tensor
    feed_forward: torch.Tensor


def layer_changes(steps: list[LayerSteps], row: int = 0) -> LayerChanges:
    """Measure, for sentence ``row`` of the batch, how much each layer of ``steps`` changes each token.

    ``steps`` is what [`encoder_by_hand`][bertsteps.encoder_by_hand] returns. Padding positions are included:
    pick the real ones with the attention mask.

    Examples:
        >>> from bertsteps import encode, load
        >>> changes = layer_changes(encoder_by_hand(load(), encode(load(), "the river bank")))
        >>> tuple(changes.cosine.shape)  # 6 layers, 5 tokens
        (6, 5)
        >>> bool((changes.feed_forward > 0).all())
        True
    """
    if not steps:
        raise BertStepsError("no layers to measure: steps is empty")
    cos = torch.nn.functional.cosine_similarity
    cosine, attention, feed_forward = [], [], []
    for step in steps:
        x, h = step.input[row], step.attention.output[row]
        cosine.append(cos(x, step.output[row], dim=-1))
        attention.append(
            step.attention.projected[row].norm(dim=-1) / x.norm(dim=-1)
        )
        feed_forward.append(
            step.feed_forward.projected[row].norm(dim=-1) / h.norm(dim=-1)
        )
    return LayerChanges(
        torch.stack(cosine), torch.stack(attention), torch.stack(feed_forward)
    )
