"""The masked-language-model head: loading it, and filling in masked words with it.

The head is what BERT's masked-word pretraining trained; checkpoints without one (the
bundled all-MiniLM-L6-v2) are refused with a clear error instead of a randomly
initialised head. [`masked_lm_head`][bertsteps.masked_lm.masked_lm_head] loads it once
per [bertsteps.Bert][] (what `bert.masked_lm()` returns), and
[`fill_mask`][bertsteps.fill_mask] returns, for every ``[MASK]`` in a text, the head's
``k`` most probable tokens with their probabilities.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from .errors import CheckpointError, TokenError
from .validation import positive_int

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from .checkpoints import Bert

# BERT's masked-LM head: every tensor of it must be there (the decoder's weight is tied to
# the word embeddings and may be absent); one stray key is not a head.
_BERT_MLM_HEAD = (
    "cls.predictions.bias",
    "cls.predictions.transform.dense.weight",
    "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.LayerNorm.weight",
    "cls.predictions.transform.LayerNorm.bias",
)
# The heads of the other families bertsteps loads: RoBERTa's, and DistilBERT's.
_OTHER_MLM_HEAD_PREFIXES = ("lm_head.", "vocab_projector.", "vocab_transform.")


def has_complete_mlm_head(weight_names: Iterable[str]) -> bool:
    """Whether weights with these names hold a whole masked-LM head (BERT: all five tensors).

    Examples:
        >>> has_complete_mlm_head(["cls.predictions.bias"])
        False
        >>> has_complete_mlm_head(["lm_head.dense.weight"])  # RoBERTa's head
        True
    """
    names = {n.removeprefix("bert.") for n in weight_names}
    if any(n.startswith("cls.predictions.") for n in names):
        return all(key in names for key in _BERT_MLM_HEAD)
    return any(n.startswith(_OTHER_MLM_HEAD_PREFIXES) for n in names)


def masked_lm_head(bert: Bert) -> PreTrainedModel:
    """``bert``'s encoder with its masked-language-model head, loaded once, on first use.

    Raises [bertsteps.CheckpointError][] when the checkpoint has no head, rather than
    inventing a randomly initialised one.

    Examples:
        >>> from bertsteps import load
        >>> try:
        ...     masked_lm_head(load())
        ... except ValueError as err:
        ...     print(str(err)[:61])
        sentence-transformers/all-MiniLM-L6-v2 has no masked-language
    """
    if not bert.has_mlm_head:
        raise CheckpointError(
            f"{bert.name} has no masked-language-model head (its weights hold only the encoder). "
            "Load a checkpoint trained for masked-word prediction, such as 'bert-base-uncased'"
        )
    if bert._masked_lm is None:
        from transformers import AutoModelForMaskedLM

        from .checkpoints import _LOAD_OPTIONS, _quiet_transformers

        with _quiet_transformers():
            mlm = AutoModelForMaskedLM.from_pretrained(
                bert.source.folder, **_LOAD_OPTIONS
            )
        bert._masked_lm = mlm.to(bert.device).eval().requires_grad_(False)
    return bert._masked_lm


class Guess(NamedTuple):
    """One guess for a masked position: the token and its probability under the head."""

    token: str
    probability: float


def fill_mask(bert: Bert, text: str, k: int = 5) -> list[list[Guess]]:
    """The ``k`` most probable tokens for each mask token in ``text``, in order of the masks.

    Write the tokenizer's mask token (``[MASK]`` for BERT) where a word is to be
    guessed. Raises [`CheckpointError`][bertsteps.CheckpointError] for a checkpoint without
    a masked-LM head, and [`TokenError`][bertsteps.TokenError] for a text with no mask.

    Examples:
        >>> from bertsteps import load
        >>> try:
        ...     fill_mask(load(), "the capital of france is [MASK].")
        ... except ValueError as err:
        ...     print(str(err)[:61])
        sentence-transformers/all-MiniLM-L6-v2 has no masked-language
    """
    import torch

    from .inference import encode
    from .tokens import id_tokens

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
    mlm = masked_lm_head(bert)
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
            Guess(token, float(p))
            for token, p in zip(
                id_tokens(bert.tokenizer, ids.tolist()), probs, strict=True
            )
        ]
        for ids, probs in zip(top.indices.cpu(), top.values.cpu(), strict=True)
    ]
