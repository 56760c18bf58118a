"""What attention heads look at: the share of attention on named patterns, against an even spread.

A head "attends to the previous token" only if it gives the previous token clearly more
weight than a head that spreads its attention evenly would. For every query token and
every pattern this module computes two numbers: the attention mass the head puts on the
pattern's tokens, and the mass an even spread over the sentence's real tokens would put
there (for the previous token ``1/n``, for the special tokens ``#special/n``). Averaged
over many query tokens, their quotient is the head's *ratio* for the pattern: 1 means
no preference, 10 means ten times what an even spread gives.

The patterns, measured on the query rows of real, non-special tokens (``[CLS]``,
``[SEP]`` and padding rows are left out):

* ``previous token``: the token just before, when that is not a special token;
* ``token itself``: the query's own position;
* ``next token``: the token just after, when that is not a special token;
* ``special tokens``: every ``[CLS]`` and ``[SEP]`` of the sentence;
* ``same word``: the other WordPiece pieces of the query's word (rows of words of
  several pieces only).

A head is **named** for a pattern when its share is at least ``threshold`` (3) times
the even-spread share and that pattern has the largest ratio among the head's
patterns; otherwise it has no clear pattern.

Examples:
    >>> from bertsteps import load
    >>> found = attention_patterns(load(), ["the cat sat on the mat.", "tokenizers split words."])
    >>> found.share.shape  # (layers, heads, patterns)
    torch.Size([6, 12, 5])
    >>> found.name(0, 2)
    'previous token'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import BertStepsError

if TYPE_CHECKING:
    from .checkpoints import Bert
    from .claims import Claim

PATTERNS: tuple[str, ...] = (
    "previous token",
    "token itself",
    "next token",
    "special tokens",
    "same word",
)
"""The patterns measured, in the order of the last axis of ``HeadPatterns.share``."""

THRESHOLD = 3.0
"""A head is named for a pattern only at this many times the even-spread share, or more."""


@dataclass(frozen=True)
class HeadPatterns:
    """Per layer and head, the attention share on each pattern and what an even spread gives.

    ``share`` is ``(layers, heads, patterns)``: the mean, over query rows, of the attention
    mass on the pattern's tokens. ``even`` is ``(patterns,)``: the same mean for an even
    spread over each row's real tokens (it depends on the input only). ``rows`` counts the
    query rows each pattern was measured on (0: the pattern did not occur, its ratio is
    NaN). ``entropy`` is ``(layers, heads)``, the mean entropy of the query rows in nats;
    ``even_entropy`` is the same for an even spread. All tensors are float32 on the CPU.

    Examples:
        >>> from bertsteps import load
        >>> found = attention_patterns(load(), ["the cat sat on the mat."])
        >>> found.describe(0, 2)
        'previous token 100% (9.0×)'
        >>> found.named("previous token")[0]
        (0, 2)
    """

    patterns: tuple[str, ...]
    share: torch.Tensor
    even: torch.Tensor
    rows: torch.Tensor
    entropy: torch.Tensor
    even_entropy: float
    threshold: float = THRESHOLD

    @property
    def ratio(self) -> torch.Tensor:
        """``share / even``, ``(layers, heads, patterns)``; NaN for a pattern with no rows."""
        return torch.where(
            self.rows > 0, self.share / self.even.clamp_min(1e-12), torch.nan
        )

    @property
    def winner(self) -> torch.Tensor:
        """``(layers, heads)``: the index of the pattern each head is named for, or -1.

        The pattern with the largest ratio wins if that ratio is at least ``threshold``.
        """
        ratio = self.ratio.nan_to_num(nan=-1.0)
        best, index = ratio.max(dim=-1)
        return torch.where(best >= self.threshold, index, -1)

    @property
    def largest_ratio(self) -> float:
        """The largest ratio of any head and pattern: about 1 when every head spreads evenly."""
        return float(self.ratio.nan_to_num(nan=-math.inf).max())

    def name(self, layer: int, head: int) -> str | None:
        """The pattern head ``head`` of layer ``layer`` (both from 0) is named for, or ``None``."""
        k = int(self.winner[layer, head])
        return self.patterns[k] if k >= 0 else None

    def named(
        self, pattern: str, layer: int | None = None
    ) -> list[tuple[int, int]]:
        """``(layer, head)`` of every head named for ``pattern``, clearest (largest ratio) first.

        ``layer`` keeps one layer's heads only. The list is empty when no head qualifies.
        """
        k = self._index(pattern)
        found = [
            (int(lay), int(h))
            for lay, h in (self.winner == k).nonzero().tolist()
            if layer is None or lay == layer
        ]
        return sorted(
            found, key=lambda lh: -float(self.ratio[lh[0], lh[1], k])
        )

    def strongest(
        self, pattern: str, layer: int | None = None
    ) -> tuple[int, int]:
        """``(layer, head)`` with the largest ratio for ``pattern``, named for it or not."""
        k = self._index(pattern)
        ratio = self.ratio[..., k].nan_to_num(nan=-1.0)
        if layer is not None:
            return layer, int(ratio[layer].argmax())
        flat = int(ratio.argmax())
        return flat // ratio.shape[1], flat % ratio.shape[1]

    def describe(self, layer: int, head: int) -> str:
        """``'previous token 100% (9.0×)'``: the head's pattern, share and ratio, or ``'no clear pattern'``."""
        name = self.name(layer, head)
        if name is None:
            return "no clear pattern"
        k = self.patterns.index(name)
        return f"{name} {float(self.share[layer, head, k]):.0%} ({float(self.ratio[layer, head, k]):.1f}×)"

    def _index(self, pattern: str) -> int:
        if pattern not in self.patterns:
            raise BertStepsError(
                f"unknown pattern {pattern!r}; measured: {', '.join(self.patterns)}"
            )
        return self.patterns.index(pattern)


def pattern_targets(
    special: torch.Tensor, word_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """Which keys each query's pattern points at: ``(patterns, batch, seq, seq)`` booleans.

    ``special`` is ``(batch, seq)``, true at ``[CLS]``/``[SEP]``; ``word_ids`` gives each
    token's word number (-1 for none); ``attention_mask`` is 1 at real tokens, 0 at
    padding. Rows of special tokens and padding are all false.

    Examples:
        >>> t = pattern_targets(torch.tensor([[True, False, False, True]]),
        ...                     torch.tensor([[-1, 0, 0, -1]]), torch.ones(1, 4))
        >>> t[PATTERNS.index("previous token"), 0].nonzero().tolist()  # row 1's previous is [CLS]
        [[2, 1]]
        >>> t[PATTERNS.index("same word"), 0].nonzero().tolist()
        [[1, 2], [2, 1]]
    """
    real = attention_mask.bool()
    special = special.bool() & real
    plain = real & ~special  # real, non-special tokens
    seq = real.shape[-1]
    pos = torch.arange(seq, device=real.device)
    query = plain[:, :, None]
    key = plain[:, None, :]
    offset = (
        pos[None, None, :] - pos[None, :, None]
    )  # key position - query position
    same_word = (word_ids[:, :, None] == word_ids[:, None, :]) & (
        word_ids[:, :, None] >= 0
    )
    targets = {
        "previous token": query & key & (offset == -1),
        "token itself": query & (offset == 0),
        "next token": query & key & (offset == 1),
        "special tokens": query & special[:, None, :],
        "same word": query & key & same_word & (offset != 0),
    }
    return torch.stack([targets[p] for p in PATTERNS])


def head_patterns(
    attentions: torch.Tensor | Sequence[torch.Tensor],
    special: torch.Tensor,
    word_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *,
    threshold: float = THRESHOLD,
) -> HeadPatterns:
    """Measure every head's share on each pattern, from attention probabilities.

    ``attentions`` is one layer's ``(batch, heads, seq, seq)`` probabilities (such as a
    by-hand softmax) or one per layer (``forward(...).attentions``); ``special``,
    ``word_ids`` and ``attention_mask`` are ``(batch, seq)`` as in ``pattern_targets``.
    Query rows of all sentences are pooled: every row counts once.

    Examples:
        >>> probs = torch.full((1, 1, 4, 4), 0.25)  # one head spreading evenly over 4 tokens
        >>> found = head_patterns(probs, torch.tensor([[True, False, False, True]]),
        ...                       torch.tensor([[-1, 0, 1, -1]]))
        >>> found.ratio[0, 0, :4].tolist(), found.name(0, 0)
        ([1.0, 1.0, 1.0, 1.0], None)
    """
    layers = (
        [attentions]
        if isinstance(attentions, torch.Tensor) and attentions.dim() == 4
        else list(attentions)
    )
    if not layers or any(
        a.dim() != 4 or a.shape[-1] != a.shape[-2] for a in layers
    ):
        raise BertStepsError(
            "attentions must be (batch, heads, seq, seq) tensors, one per layer"
        )
    probs = torch.stack(
        [a.detach().to("cpu", torch.float32) for a in layers]
    )  # (L, B, H, n, n)
    batch, seq = probs.shape[1], probs.shape[-1]
    mask = (
        torch.ones(batch, seq)
        if attention_mask is None
        else attention_mask.to("cpu")
    )
    special, word_ids = special.to("cpu"), word_ids.to("cpu")
    if not (mask.shape == special.shape == word_ids.shape == (batch, seq)):
        raise BertStepsError(
            f"special {tuple(special.shape)}, word_ids {tuple(word_ids.shape)} and attention_mask "
            f"{tuple(mask.shape)} must all be (batch, seq) = {(batch, seq)}"
        )
    targets = pattern_targets(special, word_ids, mask)  # (P, B, n, n)
    has_row = targets.any(
        dim=-1
    )  # (P, B, n): the rows each pattern is measured on
    n_real = mask.float().sum(dim=-1)  # (B,)
    rows = has_row.sum(dim=(1, 2))  # (P,)
    weight = (
        has_row.float() / rows.clamp_min(1)[:, None, None]
    )  # each row counts once
    # share on the pattern: sum of the row's probabilities over the pattern's keys
    on_pattern = torch.einsum("lbhqk,pbqk->lbhpq", probs, targets.float())
    share = torch.einsum("lbhpq,pbq->lhp", on_pattern, weight)
    even = (targets.float().sum(dim=-1) / n_real[None, :, None] * weight).sum(
        dim=(1, 2)
    )

    plain = (
        mask.bool() & ~special.bool()
    )  # query rows of real, non-special tokens
    if not plain.any():
        raise BertStepsError(
            "no real, non-special token to measure attention from"
        )
    row_weight = plain.float() / plain.sum()
    log_p = probs.clamp_min(1e-12).log()
    entropy = -(probs * log_p).sum(dim=-1)  # (L, B, H, n)
    entropy = torch.einsum("lbhq,bq->lh", entropy, row_weight)
    even_entropy = float((n_real.log()[:, None] * row_weight).sum())
    return HeadPatterns(
        patterns=PATTERNS,
        share=share,
        even=even,
        rows=rows,
        entropy=entropy,
        even_entropy=even_entropy,
        threshold=float(threshold),
    )


def token_roles(
    bert: Bert, sentences: Sequence[str]
) -> dict[str, torch.Tensor]:
    """The model inputs for ``sentences`` (padded into one batch), plus ``special`` and ``word_ids``.

    ``special`` is true at the sentence markers (``[CLS]``, ``[SEP]``), not at ``[UNK]``.
    ``word_ids`` numbers the words of each sentence as the tokenizer splits them (pieces
    of one word share a number); special tokens and padding get -1.

    Examples:
        >>> from bertsteps import load
        >>> roles = token_roles(load(), ["tokenize it"])
        >>> roles["word_ids"].tolist(), roles["special"].tolist()
        ([[-1, 0, 0, 1, -1]], [[True, False, False, False, True]])
    """
    from .inference import encode

    texts = list(sentences)
    if not texts or any(not isinstance(s, str) for s in texts):
        raise BertStepsError("sentences must be a non-empty list of str")
    inputs = encode(bert, texts, padding=True)
    ids = inputs["input_ids"].to("cpu")
    tok = (
        bert.tokenizer
    )  # the sentence markers only: an [UNK] inside the text is a word token
    markers = {
        tok.cls_token_id,
        tok.sep_token_id,
        tok.bos_token_id,
        tok.eos_token_id,
    } - {None}
    special_ids = torch.tensor(sorted(markers), dtype=torch.long)
    mask = inputs["attention_mask"].to("cpu").bool()
    special = torch.isin(ids, special_ids) & mask
    if bert.tokenizer.is_fast:
        words = [
            [-1 if w is None else w for w in inputs.word_ids(b)]
            for b in range(len(texts))
        ]
    else:  # WordPiece: a piece starting with ## continues the previous word
        words = []
        for row, is_special in zip(
            ids.tolist(), special.tolist(), strict=True
        ):
            number, numbers = -1, []
            for token, s in zip(
                bert.tokenizer.convert_ids_to_tokens(row),
                is_special,
                strict=True,
            ):
                if not s and not token.startswith("##"):
                    number += 1
                numbers.append(-1 if s else number)
            words.append(numbers)
    word_ids = torch.tensor(words).masked_fill(~mask | special, -1)
    return {**inputs, "special": special, "word_ids": word_ids}


def attention_patterns(
    bert: Bert,
    sentences: Sequence[str],
    *,
    attentions: Sequence[torch.Tensor] | torch.Tensor | None = None,
    threshold: float = THRESHOLD,
) -> HeadPatterns:
    """Run the model on ``sentences`` (one padded batch) and measure every layer's heads.

    Pass ``attentions`` (for the same sentences, in the same batch) to measure those
    instead, such as one layer's by-hand softmax.

    Examples:
        >>> from bertsteps import load
        >>> found = attention_patterns(load(), ["the cat sat on the mat."])
        >>> found.patterns[0], round(float(found.even[0]), 3)  # 1/9: the sentence has 9 tokens
        ('previous token', 0.111)
    """
    roles = token_roles(bert, sentences)
    if attentions is None:
        inputs = {
            k: v for k, v in roles.items() if k not in ("special", "word_ids")
        }
        with torch.inference_mode():
            attentions = bert.model(
                **inputs, output_attentions=True
            ).attentions
    return head_patterns(
        attentions,
        roles["special"],
        roles["word_ids"],
        roles["attention_mask"],
        threshold=threshold,
    )


_PHRASES = {
    "previous token": "the previous token",
    "token itself": "the token itself",
    "next token": "the next token",
    "special tokens": "the special tokens [CLS] and [SEP]",
    "same word": "the other pieces of its own word",
}


def _criterion(found: HeadPatterns) -> str:
    return (
        f"a head is named for a pattern when its share is at least {found.threshold:g}× the even-spread share "
        f"and no other of its {len(found.patterns)} patterns ({', '.join(found.patterns)}) has a larger ratio"
    )


def pattern_claim(
    found: HeadPatterns, pattern: str, layer: int, *, id: str
) -> Claim:
    """A claim that some head of ``layer`` is named for ``pattern``, with its share and ratio.

    ``layer`` counts from 0 (``attentions[layer]``) and is written from 1 ("layer 1");
    heads are written from 0, as they are indexed.

    Examples:
        >>> from bertsteps import load
        >>> found = attention_patterns(load(), ["the cat sat on the mat."])
        >>> c = pattern_claim(found, "previous token", 0, id="prev")
        >>> c.holds, c.sentence.startswith("Head 2 of layer 1 attends to the previous token")
        (True, True)
    """
    from .claims import claim

    k = found._index(pattern)
    phrase = _PHRASES.get(pattern, pattern)
    share, ratio = found.share[layer, :, k], found.ratio[layer, :, k]
    named = found.named(pattern, layer)
    where = f"layer {layer + 1}"
    rows = int(found.rows[k])
    measure = (
        f"{where}, share on {pattern} ÷ even-spread share ({float(found.even[k]):.1%}) over {rows} token rows: "
        + (
            ", ".join(f"head {h} {float(r):.1f}×" for h, r in enumerate(ratio))
            if rows
            else "no rows (not measured)"
        )
        + f"; heads named for it: {', '.join(str(h) for _, h in named) or 'none'}"
    )
    criterion = (
        _criterion(found)
        + f"; the sentence says whether any head of {where} is named for {pattern}"
    )

    def numbers(h: int) -> str:
        return f"{float(share[h]):.0%} of each token's attention on average, {float(ratio[h]):.1f}× an even spread"

    if named:
        first = named[0][1]
        true = (
            f"Head {first} of {where} attends to {phrase}: {numbers(first)}."
        )
        others = [h for _, h in named[1:]]
        if len(others) == 1:
            h = others[0]
            true += f" Head {h} does too, less clearly ({float(share[h]):.0%}, {float(ratio[h]):.1f}×)."
        elif others:
            listed = ", ".join(map(str, others[:-1])) + f" and {others[-1]}"
            details = "; ".join(
                f"head {h} {float(share[h]):.0%}, {float(ratio[h]):.1f}×"
                for h in others
            )
            true += f" Heads {listed} do too, less clearly ({details})."
        false = ""
    else:
        true = ""
        if rows == 0:
            false = f"These sentences have no word split into pieces, so no head of {where} can be named for {phrase}."
        else:
            h = found.strongest(pattern, layer)[1]
            other = found.name(layer, h)
            reason = (
                f"its clearest pattern is {_PHRASES.get(other, other)}"
                if other is not None
                else f"under the {found.threshold:g}× criterion"
            )
            false = (  # "them": the tokens in that role, one for each query token
                f"No head of {where} attends clearly to {phrase}: the closest, head {h}, gives them "
                f"{numbers(h)} ({reason})."
            )
    return claim(
        id, bool(named), true, false, measure=measure, criterion=criterion
    )


def focus_claim(
    found: HeadPatterns,
    layer: int,
    *,
    id: str,
    fraction: float = 0.5,
    min_gap: float = 0.05,
) -> Claim:
    """A claim that some head of ``layer`` is focused: its rows' mean entropy is at most ``fraction`` of an even spread's.

    Examples:
        >>> from bertsteps import load
        >>> found = attention_patterns(load(), ["the cat sat on the mat."])
        >>> focus_claim(found, 0, id="focus").holds
        True
    """
    from .claims import claim

    entropy = found.entropy[layer]
    sharp, broad = int(entropy.argmin()), int(entropy.argmax())
    even = found.even_entropy
    where = f"layer {layer + 1}"
    low, high = float(entropy[sharp]), float(entropy[broad])
    distinct = (
        high - low >= min_gap
    )  # otherwise no head is more focused than another
    if distinct:
        numbers = (
            f"an entropy of {low:.2f} nats on average, against {even:.2f} for an even "
            f"spread over the same tokens (the most spread-out head, head {broad}, has {high:.2f})"
        )
        false = f"No head of {where} is focused: the rows of even the most focused, head {sharp}, have {numbers}."
    else:
        numbers = ""
        false = (
            f"No head of {where} is focused, and none is more focused than another: the rows of every head "
            f"have an entropy of about {low:.2f} nats on average (from {low:.2f} to {high:.2f}), against "
            f"{even:.2f} for an even spread over the same tokens."
        )
    return claim(
        id,
        distinct and low <= fraction * even,
        f"The most focused head of {where} is head {sharp}: its rows have {numbers}.",
        false,
        measure=f"{where}, mean row entropy per head: "
        + ", ".join(f"head {h} {float(e):.2f}" for h, e in enumerate(entropy))
        + f" nats; even spread {even:.2f}",
        criterion=f"the lowest mean row entropy is at most {fraction:g}× an even spread's ({fraction * even:.2f} nats) "
        f"and at least {min_gap:g} nats below the highest (heads are named only when they differ by that much)",
    )


def overview_claim(found: HeadPatterns, *, id: str) -> Claim:
    """A claim that some head of some layer has a clear pattern, with counts and layers per pattern.

    Examples:
        >>> from bertsteps import load
        >>> c = overview_claim(attention_patterns(load(), ["the cat sat on the mat."]), id="overview")
        >>> c.holds, "previous token" in c.sentence
        (True, True)
    """
    from .claims import claim

    layers, heads = found.winner.shape
    total = layers * heads
    parts = []
    for pattern in found.patterns:
        named = found.named(pattern)
        if named:
            where = sorted({lay + 1 for lay, _ in named})
            parts.append(
                f"{len(named)} attend{'s' if len(named) == 1 else ''} to {_PHRASES.get(pattern, pattern)} "
                f"(in layer{'s' if len(where) > 1 else ''} {', '.join(map(str, where))})"
            )
    listed = (
        "; ".join(parts[:-1]) + "; and " + parts[-1]
        if len(parts) > 1
        else "".join(parts)
    )
    count = int((found.winner >= 0).sum())
    true = (
        f"By this criterion {count} of the {total} heads have a clear pattern: {listed}. "
        f"The other {total - count} have none."
    )
    false = (
        f"By this criterion none of the {total} heads, in any layer, has a clear pattern: the largest ratio of "
        f"any head to an even spread is {found.largest_ratio:.1f}×, under the {found.threshold:g}× needed."
    )
    return claim(
        id,
        count > 0,
        true,
        false,
        measure=f"heads named per pattern over {layers} layers × {heads} heads: "
        + ", ".join(f"{p} {len(found.named(p))}" for p in found.patterns)
        + f"; largest ratio {found.largest_ratio:.1f}×",
        criterion=_criterion(found)
        + "; the sentence says whether any head is named",
    )
