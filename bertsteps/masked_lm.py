"""Filling in masked words with a checkpoint's masked-language-model head.

The head is what BERT's masked-word pretraining trained; checkpoints without one (the
bundled all-MiniLM-L6-v2) are refused with a clear error instead of a randomly
initialised head. :func:`fill_mask` returns, for every ``[MASK]`` in a text, the head's
``k`` most probable tokens with their probabilities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch

from .errors import TokenError
from .validation import positive_int

if TYPE_CHECKING:
    from .checkpoints import Bert


class Guess(NamedTuple):
    """One guess for a masked position: the token and its probability under the head."""

    token: str
    probability: float


def fill_mask(bert: Bert, text: str, k: int = 5) -> list[list[Guess]]:
    """The ``k`` most probable tokens for each mask token in ``text``, in order of the masks.

    Write the tokenizer's mask token (``[MASK]`` for BERT) where a word is to be
    guessed. Raises :class:`~bertsteps.errors.CheckpointError` for a checkpoint without
    a masked-LM head, and :class:`~bertsteps.errors.TokenError` for a text with no mask.

    Examples:
        >>> from bertsteps import load
        >>> try:
        ...     fill_mask(load(), "the capital of france is [MASK].")
        ... except ValueError as err:
        ...     print(str(err)[:61])
        sentence-transformers/all-MiniLM-L6-v2 has no masked-language
    """
    from .inference import encode

    positive_int(k, "k", error=TokenError, noun="whole number")
    mask = bert.tokenizer.mask_token
    if mask is None:
        raise TokenError(
            f"the tokenizer of {bert.name} has no mask token, so no word can be masked"
        )
    if not isinstance(text, str) or mask not in text:
        raise TokenError(
            f"{text!r} has no {mask}: write {mask} where a word should be guessed"
        )
    mlm = bert.masked_lm()
    inputs = encode(
        bert, text, truncation=True, max_length=bert.tokenizer.model_max_length
    )
    at_mask = inputs["input_ids"][0] == bert.tokenizer.mask_token_id
    if not bool(at_mask.any()):
        raise TokenError(
            f"{text!r}: the {mask} was cut off by truncation at {bert.tokenizer.model_max_length} tokens"
        )
    with torch.inference_mode():
        logits = mlm(**inputs).logits[0, at_mask]  # (masks, vocab)
    top = torch.softmax(logits.float(), dim=-1).topk(
        min(k, logits.shape[-1]), dim=-1
    )
    return [
        [
            Guess(bert.tokenizer.convert_ids_to_tokens(int(i)), float(p))
            for i, p in zip(ids, probs, strict=True)
        ]
        for ids, probs in zip(top.indices.cpu(), top.values.cpu(), strict=True)
    ]
