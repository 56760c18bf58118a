"""BERT's masking rule for pretraining, counted on a real batch.

To pretrain BERT by masked-word prediction, about 15% of the tokens of each sequence are
*chosen*; the model must predict the original token at every chosen position. A chosen
token is not always hidden: 80% of the chosen tokens are replaced by ``[MASK]``, 10% by a
random token and 10% are left unchanged, so that the model cannot rely on ``[MASK]``
marking the only positions that matter. ``transformers``' ``DataCollatorForLanguageModeling``
applies this rule; [`masking_counts`][bertsteps.masking_counts] counts what it did, and
[`MaskingCounts.compare`][bertsteps.MaskingCounts.compare] sets the counts against the rule.

``SAMPLE_SENTENCES`` is a batch of plain English sentences to mask.

Examples:
    >>> rule = MaskingRule()
    >>> rule.chosen, rule.mask, rule.random, rule.keep
    (0.15, 0.8, 0.1, 0.1)
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import BertStepsError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE = -100  # the label of a token that was not chosen: no loss there

SAMPLE_SENTENCES: tuple[str, ...] = (
    "The train to the coast was late again, so we bought coffee and waited on the platform.",
    "My grandmother grows tomatoes, beans and a few stubborn roses behind her house.",
    "The museum opens at ten on weekdays and stays open late on Thursday evenings.",
    "After the storm, the river rose so high that the old footbridge was closed for a week.",
    "He forgot his umbrella at the office and walked home through the rain.",
    "The children built a small boat from cardboard and tried to sail it on the pond.",
    "Our neighbours are painting their kitchen yellow, which surprised everyone on the street.",
    "She practised the piano every morning before school for almost ten years.",
    "The library lends laptops to students who cannot afford to buy their own.",
    "A strong wind blew the leaves off the trees overnight, and the garden looked bare.",
    "The doctor told him to rest his knee and to avoid running for a month.",
    "We missed the last bus and had to share a taxi with two strangers.",
    "The recipe calls for three eggs, a cup of flour and a pinch of salt.",
    "Most of the town's shops close early on Sundays, except the bakery on the corner.",
    "The company hired twenty new engineers to work on its payment software.",
    "My brother fixed the bicycle chain with a screwdriver and a lot of patience.",
    "The mountain path was steep and narrow, but the view from the top was worth it.",
    "She wrote a letter to the newspaper about the noise from the new airport.",
    "The cat slept on the warm windowsill while the dog barked at the postman.",
    "Prices at the market went up after a dry summer ruined much of the harvest.",
    "The teacher asked the class to read two chapters of the novel by Friday.",
    "They painted the fence white and planted sunflowers along the driveway.",
    "The orchestra rehearsed for months before its first concert in the new hall.",
    "I lost my keys somewhere between the station and the supermarket.",
    "The bridge was built more than a hundred years ago and is still in use today.",
    "Our flight was cancelled because of fog, so we spent the night at the airport hotel.",
    "The farmer drove his tractor slowly down the lane, followed by a line of cars.",
    "He learned to cook by watching his father prepare dinner every evening.",
    "The hospital is looking for volunteers to read to patients in the afternoons.",
    "A small fire in the kitchen was put out quickly, and nobody was hurt.",
    "The students protested against the plan to close the university's night classes.",
    "My sister collects old maps and hangs the best ones in her hallway.",
    "The football match was stopped for twenty minutes because of heavy snow.",
    "We rented a cabin by the lake and spent the whole week swimming and reading.",
    "The mayor promised to repair the roads before the start of winter.",
    "The baby finally fell asleep after an hour of singing and gentle rocking.",
    "The shop on the high street sells fresh bread, cheese and local honey.",
    "Scientists measured the temperature of the sea at different depths every day.",
    "The old factory has been turned into flats, a gym and a small cinema.",
    "She ran the last mile of the marathon with a painful blister on her heel.",
    "The village holds a music festival every August that draws visitors from far away.",
    "He apologised for being late and explained that his car would not start.",
    "The birds return to the marshes every spring to build their nests in the reeds.",
    "The committee will announce the winner of the poetry prize next Tuesday.",
    "Our guide told us stories about the castle while we climbed the tower stairs.",
    "The printer ran out of paper just as I needed to print my boarding pass.",
    "The restaurant was full, so we ordered pizza and ate it in the park.",
    "The river that runs through the city was cleaned up and now has fish again.",
)
"""Plain English sentences, everyday topics, about a thousand tokens in all with BERT's WordPiece."""


@dataclass(frozen=True)
class MaskingRule:
    """The probabilities of BERT's masking rule (the defaults are BERT's).

    ``chosen`` is the probability that a token is chosen for prediction; ``mask``,
    ``random`` and ``keep`` split the chosen tokens and sum to 1.

    Examples:
        >>> MaskingRule(chosen=0.2, mask=0.5, random=0.25, keep=0.25).keep
        0.25
    """

    chosen: float = 0.15
    mask: float = 0.8
    random: float = 0.1
    keep: float = 0.1

    def __post_init__(self) -> None:
        parts = (self.chosen, self.mask, self.random, self.keep)
        if any(not 0.0 <= p <= 1.0 for p in parts):
            raise BertStepsError(
                f"masking probabilities must lie in [0, 1], got {parts}"
            )
        if not math.isclose(
            self.mask + self.random + self.keep, 1.0, abs_tol=1e-9
        ):
            raise BertStepsError(
                f"mask + random + keep must be 1 (they split the chosen tokens), got "
                f"{self.mask} + {self.random} + {self.keep}"
            )


@dataclass(frozen=True)
class CountCheck:
    """One count against the rule: ``observed`` of ``trials`` with probability ``probability``.

    ``expected`` and ``sd`` are the mean and standard deviation of a binomial count;
    ``holds`` says whether ``observed`` lies within ``sds`` standard deviations of it.

    Examples:
        >>> c = binomial_check("chosen", 160, 1000, 0.15)
        >>> c.expected, round(c.sd, 2), c.holds
        (150.0, 11.29, True)
    """

    name: str
    observed: int
    trials: int
    probability: float
    expected: float
    sd: float
    sds: float
    holds: bool

    @property
    def low(self) -> float:
        """The lowest count within the tolerance."""
        return self.expected - self.sds * self.sd

    @property
    def high(self) -> float:
        """The highest count within the tolerance."""
        return self.expected + self.sds * self.sd


def binomial_check(
    name: str, observed: int, trials: int, probability: float, sds: float = 3.0
) -> CountCheck:
    """Whether ``observed`` successes in ``trials`` are within ``sds`` binomial standard deviations of the mean.

    Examples:
        >>> binomial_check("random", 30, 150, 0.1).holds  # expected 15, sd 3.67
        False
        >>> binomial_check("random", 12, 150, 0.1).holds
        True
    """
    if trials < 0 or observed < 0 or observed > trials:
        raise BertStepsError(
            f"need 0 <= observed <= trials, got observed={observed}, trials={trials}"
        )
    expected = trials * probability
    sd = math.sqrt(trials * probability * (1.0 - probability))
    return CountCheck(
        name,
        observed,
        trials,
        probability,
        expected,
        sd,
        sds,
        abs(observed - expected) <= sds * sd,
    )


@dataclass(frozen=True)
class MaskingCounts:
    """What a masking step did to a batch, counted.

    ``tokens`` counts the tokens that could be chosen (not ``[CLS]``, ``[SEP]``, padding
    or another special token); ``chosen`` those whose label is kept for prediction;
    ``mask``, ``random`` and ``unchanged`` split the chosen ones by what the model sees in
    their place: ``[MASK]``, another token, or the original token. (A random replacement
    that happens to draw the original token, about one time in 30,000, counts as
    unchanged: the model sees no difference.)

    Examples:
        >>> c = MaskingCounts(tokens=1000, chosen=150, mask=120, random=15, unchanged=15)
        >>> [check.holds for check in c.compare()]
        [True, True, True, True]
    """

    tokens: int
    chosen: int
    mask: int
    random: int
    unchanged: int

    def compare(
        self, rule: MaskingRule | None = None, sds: float = 3.0
    ) -> list[CountCheck]:
        """Each count against ``rule`` (BERT's by default), as a binomial count within ``sds`` standard deviations.

        ``chosen`` is compared out of ``tokens``; ``mask``, ``random`` and ``unchanged``
        out of ``chosen``.

        Examples:
            >>> c = MaskingCounts(tokens=1000, chosen=150, mask=150, random=0, unchanged=0)
            >>> [(check.name, check.holds) for check in c.compare()]
            [('chosen', True), ('[MASK]', False), ('random token', False), ('unchanged', False)]
        """
        rule = rule or MaskingRule()
        return [
            binomial_check(
                "chosen", self.chosen, self.tokens, rule.chosen, sds
            ),
            binomial_check("[MASK]", self.mask, self.chosen, rule.mask, sds),
            binomial_check(
                "random token", self.random, self.chosen, rule.random, sds
            ),
            binomial_check(
                "unchanged", self.unchanged, self.chosen, rule.keep, sds
            ),
        ]


def _maskable(
    input_ids: torch.Tensor, tokenizer: PreTrainedTokenizerBase
) -> torch.Tensor:
    special = torch.tensor(
        sorted(tokenizer.all_special_ids), device=input_ids.device
    )
    return ~torch.isin(input_ids, special)


def masking_counts(
    inputs: torch.Tensor,
    masked: torch.Tensor,
    labels: torch.Tensor,
    tokenizer: PreTrainedTokenizerBase,
) -> MaskingCounts:
    """Count what masking did: ``inputs`` are the original ids, ``masked`` and ``labels`` the collator's output.

    All three are ``(batch, seq)``. A position is chosen where its label is not
    ``-100``; its label must then be the original token.

    Examples:
        >>> from bertsteps import load
        >>> tok = load().tokenizer
        >>> ids = torch.tensor([tok("the river bank was muddy")["input_ids"]])
        >>> masked, labels = ids.clone(), torch.full_like(ids, -100)
        >>> labels[0, 2], masked[0, 2] = ids[0, 2], tok.mask_token_id  # "river" -> [MASK]
        >>> labels[0, 4] = ids[0, 4]                                   # "was", kept as is
        >>> masking_counts(ids, masked, labels, tok)
        MaskingCounts(tokens=5, chosen=2, mask=1, random=0, unchanged=1)
    """
    if not (inputs.shape == masked.shape == labels.shape):
        raise BertStepsError(
            f"inputs, masked and labels must have one shape, got {tuple(inputs.shape)}, "
            f"{tuple(masked.shape)}, {tuple(labels.shape)}"
        )
    chosen = labels != IGNORE
    if not torch.equal(labels[chosen], inputs[chosen]):
        raise BertStepsError(
            "a chosen position's label is not its original token: were inputs and labels paired?"
        )
    if not torch.equal(masked[~chosen], inputs[~chosen]):
        raise BertStepsError(
            "a position that was not chosen was changed: is -100 the label of unchosen tokens?"
        )
    maskable = _maskable(inputs, tokenizer)
    if bool((chosen & ~maskable).any()):
        raise BertStepsError(
            "a special token ([CLS], [SEP], padding, ...) was chosen: masking must skip them"
        )
    is_mask = chosen & (masked == tokenizer.mask_token_id)
    unchanged = chosen & (masked == inputs)
    return MaskingCounts(
        tokens=int(maskable.sum()),
        chosen=int(chosen.sum()),
        mask=int(is_mask.sum()),
        random=int((chosen & ~is_mask & ~unchanged).sum()),
        unchanged=int(unchanged.sum()),
    )


def show_masked(
    inputs: torch.Tensor,
    masked: torch.Tensor,
    labels: torch.Tensor,
    tokenizer: PreTrainedTokenizerBase,
) -> str:
    """One sequence as HTML, every chosen token marked with what replaced it.

    ``inputs``, ``masked`` and ``labels`` are one row, ``(seq,)``. Chosen tokens are bold:
    ``[MASK]`` or a random token is shown with the original after an arrow; a chosen token
    left unchanged is underlined. Special tokens and padding are left out.

    Examples:
        >>> from bertsteps import load
        >>> tok = load().tokenizer
        >>> ids = torch.tensor(tok("the river bank")["input_ids"])
        >>> masked, labels = ids.clone(), torch.full_like(ids, -100)
        >>> labels[2], masked[2] = ids[2], tok.mask_token_id
        >>> show_masked(ids, masked, labels, tok)
        'the <b>[MASK]</b><small>←river</small> bank'
    """
    keep = _maskable(inputs, tokenizer).tolist()
    original = tokenizer.convert_ids_to_tokens(inputs.tolist())
    seen = tokenizer.convert_ids_to_tokens(masked.tolist())
    words: list[str] = []
    for i, ok in enumerate(keep):
        if not ok:
            continue
        was, now = html.escape(original[i]), html.escape(seen[i])
        if int(labels[i]) == IGNORE:
            words.append(was)
        elif now == was:
            words.append(f"<b><u>{was}</u></b>")
        else:
            words.append(f"<b>{now}</b><small>←{was}</small>")
    return " ".join(words)


@dataclass(frozen=True)
class GuessQuality:
    """How well a masked-word head guessed the original tokens at the chosen positions.

    ``mean_log_prob`` is the mean natural log of the probability given to the original
    token; ``top1`` the share of positions where it was the most probable token.
    Guessing uniformly at random gives every token ``1 / vocab_size``.

    Examples:
        >>> q = GuessQuality(positions=10, mean_log_prob=math.log(1e-3), top1=0.2, vocab_size=10_000)
        >>> round(q.geometric_mean, 6), q.chance, round(q.times_chance, 1)
        (0.001, 0.0001, 10.0)
    """

    positions: int
    mean_log_prob: float
    top1: float
    vocab_size: int

    @property
    def geometric_mean(self) -> float:
        """The geometric mean of the probability given to the original token."""
        return math.exp(self.mean_log_prob)

    @property
    def chance(self) -> float:
        """The probability of any one token under a uniform guess: ``1 / vocab_size``."""
        return 1.0 / self.vocab_size

    @property
    def times_chance(self) -> float:
        """``geometric_mean / chance``: 1 for a uniform guess, far above 1 for a trained head."""
        return self.geometric_mean / self.chance


def guess_quality(logits: torch.Tensor, labels: torch.Tensor) -> GuessQuality:
    """Score a head's ``(batch, seq, vocab)`` logits against the collator's ``(batch, seq)`` labels.

    Only chosen positions (label not ``-100``) count.

    Examples:
        >>> labels = torch.tensor([[-100, 2, 0]])
        >>> uniform = torch.zeros(1, 3, 4)
        >>> guess_quality(uniform, labels).times_chance
        1.0
        >>> sure = torch.full((1, 3, 4), -10.0)
        >>> sure[0, 1, 2] = sure[0, 2, 0] = 10.0
        >>> q = guess_quality(sure, labels)
        >>> q.top1, round(q.times_chance, 2)
        (1.0, 4.0)
    """
    if logits.shape[:-1] != labels.shape:
        raise BertStepsError(
            f"logits {tuple(logits.shape)} do not match labels {tuple(labels.shape)}"
        )
    labels = labels.to(logits.device)
    chosen = labels != IGNORE
    if not bool(chosen.any()):
        raise BertStepsError(
            "no position was chosen (every label is -100): nothing to score"
        )
    log_probs = torch.log_softmax(logits[chosen].double(), dim=-1)
    truth = labels[chosen]
    picked = log_probs.gather(-1, truth[:, None])[:, 0]
    return GuessQuality(
        positions=int(chosen.sum()),
        mean_log_prob=float(picked.mean()),
        top1=float((log_probs.argmax(dim=-1) == truth).double().mean()),
        vocab_size=int(logits.shape[-1]),
    )


def guess_cell(token: str, probability: float) -> str:
    """One guess as Markdown-table text: the token in bold (escaped), then its probability.

    Examples:
        >>> guess_cell("paris", 0.4213)
        '<b>paris</b> 42.1%'
        >>> guess_cell("|", 0.0002)
        '<b>&#124;</b> &lt;0.1%'
    """
    word = html.escape(token).replace("|", "&#124;").replace("*", "&#42;")
    return (
        f"<b>{word}</b> {probability:.1%}"
        if probability >= 0.001
        else f"<b>{word}</b> &lt;0.1%"
    )
