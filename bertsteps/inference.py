"""Running the encoder: model inputs on the right device, and every intermediate result kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from .errors import TokenError

if TYPE_CHECKING:
    from transformers import BatchEncoding
    from transformers.modeling_outputs import (
        BaseModelOutputWithPoolingAndCrossAttentions,
    )

    from .checkpoints import Bert


def encode(
    bert: Bert,
    text: str | Sequence[str],
    text_pair: str | Sequence[str] | None = None,
    **kwargs: Any,
) -> BatchEncoding:
    """Model inputs for ``text`` (and ``text_pair``) as tensors on ``bert.device``; a list is padded into a batch.

    Extra keyword arguments go to the tokenizer (``truncation=True``, ``max_length=...``).
    A text longer than the model's limit ([`max_tokens`][bertsteps.max_tokens]) is a
    [`TokenError`][bertsteps.TokenError] naming both lengths, unless ``truncation=True`` cuts it.

    Examples:
        >>> from bertsteps import load
        >>> batch = encode(load(), ["a short one", "and a longer sentence here"])
        >>> sorted(batch.keys()), tuple(batch["input_ids"].shape)
        (['attention_mask', 'input_ids', 'token_type_ids'], (2, 7))
    """
    texts = [text] if isinstance(text, str) else list(text)
    if not texts or any(not isinstance(t, str) for t in texts):
        raise TokenError("encode() takes a str or a non-empty list of str")
    options: dict[str, Any] = {
        "return_tensors": "pt",
        "padding": len(texts) > 1,
        "verbose": False,
        **kwargs,
    }
    pair = (
        text_pair
        if text_pair is None or isinstance(text_pair, str) or len(texts) > 1
        else list(text_pair)
    )
    batch = bert.tokenizer(
        text if isinstance(text, str) else texts, pair, **options
    )
    limit = max_tokens(bert)
    length = int(batch["input_ids"].shape[-1])
    if length > limit:
        raise TokenError(
            f"the text is {length} tokens long (with [CLS] and [SEP]), but {bert.name} reads at most {limit}: "
            f"shorten it, split it into parts, or pass truncation=True to keep the first {limit}"
        )
    return batch.to(bert.device)


def max_tokens(bert: Bert) -> int:
    """The most tokens (special ones included) the encoder can read at once: its position rows.

    RoBERTa's first two position rows are never used (its positions start after the
    padding id). The tokenizer's own ``model_max_length`` counts too when it is smaller.

    Examples:
        >>> from bertsteps import load
        >>> max_tokens(load())
        512
    """
    limit = int(getattr(bert.config, "max_position_embeddings", 0) or 0) or 512
    if bert.config.model_type == "roberta":
        limit -= 2  # its position ids start after the padding id
    tokenizer_limit = getattr(bert.tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < limit:
        limit = tokenizer_limit
    return limit


def forward(
    bert: Bert,
    text: str | Sequence[str],
    text_pair: str | Sequence[str] | None = None,
    **kwargs: Any,
) -> BaseModelOutputWithPoolingAndCrossAttentions:
    """Run the encoder on ``text`` and keep every layer's hidden states and attention weights.

    ``hidden_states[0]`` is the output of the embedding layer, ``hidden_states[i]`` the output
    of layer ``i``; ``attentions[i]`` has shape ``(batch, heads, seq, seq)``.

    Examples:
        >>> from bertsteps import load
        >>> bert = load()
        >>> out = forward(bert, "the river bank")
        >>> len(out.hidden_states) == bert.config.num_hidden_layers + 1
        True
        >>> tuple(out.attentions[0].shape)
        (1, 12, 5, 5)
    """
    inputs = encode(bert, text, text_pair, **kwargs)
    with torch.inference_mode():
        return bert.model(
            **inputs, output_hidden_states=True, output_attentions=True
        )
