"""bertsteps.masking: BERT's 15% / 80-10-10 masking rule counted on real batches, the binomial
tolerance, and the score of a head's guesses against chance — with cases that hold and that fail."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from transformers import DataCollatorForLanguageModeling

import bertsteps
from bertsteps import masking


def collate(
    bert: bertsteps.Bert, copies: int, **options: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    tok = bert.tokenizer
    enc = tok(
        list(masking.SAMPLE_SENTENCES) * copies,
        return_special_tokens_mask=True,
    )
    examples = [
        {"input_ids": i, "special_tokens_mask": s}
        for i, s in zip(
            enc["input_ids"], enc["special_tokens_mask"], strict=True
        )
    ]
    collator = DataCollatorForLanguageModeling(tok, **options)  # type: ignore[arg-type]
    collator.generator = torch.Generator().manual_seed(1)
    batch = collator(examples)
    original = tok.pad({"input_ids": enc["input_ids"]}, return_tensors="pt")[
        "input_ids"
    ]
    return original, batch["input_ids"], batch["labels"]


def test_counts_of_a_hand_made_masking(bert: bertsteps.Bert) -> None:
    tok = bert.tokenizer
    ids = torch.tensor(
        [tok("the river bank was muddy today")["input_ids"]]
    )  # 6 words + 2 special
    masked, labels = ids.clone(), torch.full_like(ids, -100)
    labels[0, 1:4] = ids[0, 1:4]
    masked[0, 1] = tok.mask_token_id  # the -> [MASK]
    masked[0, 2] = tok.convert_tokens_to_ids("lake")  # river -> a random token
    # bank (position 3) chosen but unchanged
    counts = masking.masking_counts(ids, masked, labels, tok)
    assert counts == masking.MaskingCounts(
        tokens=6, chosen=3, mask=1, random=1, unchanged=1
    )
    html = masking.show_masked(ids[0], masked[0], labels[0], tok)
    assert (
        html
        == "<b>[MASK]</b><small>←the</small> <b>lake</b><small>←river</small> <b><u>bank</u></b> was muddy today"
    )


def test_padding_and_special_tokens_are_not_counted(
    bert: bertsteps.Bert,
) -> None:
    original, masked, labels = collate(bert, copies=1)
    assert (
        int((original == bert.tokenizer.pad_token_id).sum()) > 0
    )  # the batch is padded
    counts = masking.masking_counts(original, masked, labels, bert.tokenizer)
    words = sum(
        len(bert.tokenizer(s)["input_ids"]) - 2
        for s in masking.SAMPLE_SENTENCES
    )
    assert counts.tokens == words
    assert counts.chosen == counts.mask + counts.random + counts.unchanged


def test_the_collator_follows_bert_s_rule(bert: bertsteps.Bert) -> None:
    original, masked, labels = collate(bert, copies=4, mlm_probability=0.15)
    counts = masking.masking_counts(original, masked, labels, bert.tokenizer)
    assert counts.tokens > 2500
    checks = counts.compare()
    assert [c.name for c in checks] == [
        "chosen",
        "[MASK]",
        "random token",
        "unchanged",
    ]
    assert [c.holds for c in checks] == [True, True, True, True]
    assert checks[0].expected == pytest.approx(0.15 * counts.tokens)


def test_a_collator_that_only_masks_breaks_the_rule(
    bert: bertsteps.Bert,
) -> None:
    original, masked, labels = collate(
        bert,
        copies=4,
        mlm_probability=0.15,
        mask_replace_prob=1.0,
        random_replace_prob=0.0,
    )
    counts = masking.masking_counts(original, masked, labels, bert.tokenizer)
    assert (
        counts.mask == counts.chosen > 300
        and counts.random == counts.unchanged == 0
    )
    assert [c.holds for c in counts.compare()] == [True, False, False, False]


def test_too_many_chosen_breaks_the_rule(bert: bertsteps.Bert) -> None:
    original, masked, labels = collate(bert, copies=2, mlm_probability=0.3)
    checks = masking.masking_counts(
        original, masked, labels, bert.tokenizer
    ).compare()
    assert checks[0].name == "chosen" and not checks[0].holds
    assert checks[0].observed > checks[0].high


def test_binomial_tolerance_values() -> None:
    c = masking.binomial_check("x", 20, 100, 0.1)  # expected 10, sd 3
    assert (c.expected, c.sd, c.low, c.high) == pytest.approx(
        (10.0, 3.0, 1.0, 19.0)
    )
    assert c.holds is False
    assert masking.binomial_check("x", 19, 100, 0.1).holds is True
    assert masking.binomial_check("x", 1, 100, 0.1).holds is True
    assert masking.binomial_check("x", 0, 100, 0.1).holds is False
    with pytest.raises(bertsteps.BertStepsError, match="observed <= trials"):
        masking.binomial_check("x", 5, 4, 0.5)


def test_rule_must_split_the_chosen_tokens() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="must be 1"):
        masking.MaskingRule(mask=0.8, random=0.1, keep=0.2)
    with pytest.raises(bertsteps.BertStepsError, match=r"\[0, 1\]"):
        masking.MaskingRule(chosen=1.5)


def test_mismatched_inputs_are_refused(bert: bertsteps.Bert) -> None:
    tok = bert.tokenizer
    ids = torch.tensor([tok("the river bank")["input_ids"]])
    labels = torch.full_like(ids, -100)
    with pytest.raises(bertsteps.BertStepsError, match="one shape"):
        masking.masking_counts(ids, ids[:, :-1], labels, tok)
    changed = ids.clone()
    changed[0, 1] = tok.mask_token_id
    with pytest.raises(
        bertsteps.BertStepsError, match="not chosen was changed"
    ):
        masking.masking_counts(ids, changed, labels, tok)
    special = labels.clone()
    special[0, 0] = ids[0, 0]  # [CLS] chosen
    with pytest.raises(bertsteps.BertStepsError, match="special token"):
        masking.masking_counts(ids, ids, special, tok)
    wrong = labels.clone()
    wrong[0, 1] = ids[0, 2]
    with pytest.raises(bertsteps.BertStepsError, match="original token"):
        masking.masking_counts(ids, ids, wrong, tok)


def test_guess_quality_of_a_uniform_and_of_a_good_guesser() -> None:
    vocab = 1000
    labels = torch.tensor([[-100, 7, 3, -100], [5, -100, -100, 9]])
    uniform = masking.guess_quality(torch.zeros(2, 4, vocab), labels)
    assert uniform.positions == 4
    assert uniform.times_chance == pytest.approx(
        1.0
    ) and uniform.chance == pytest.approx(1e-3)
    assert (
        uniform.times_chance < 10
    )  # the page's criterion fails for a uniform guess
    good = torch.zeros(2, 4, vocab)
    for (row, col), token in zip(
        [(0, 1), (0, 2), (1, 0), (1, 3)], [7, 3, 5, 9], strict=True
    ):
        good[row, col, token] = math.log(
            200.0
        )  # 200 times as likely as any other token
    quality = masking.guess_quality(good, labels)
    assert quality.top1 == 1.0
    assert quality.geometric_mean == pytest.approx(200 / (200 + vocab - 1))
    assert quality.times_chance > 10


def test_a_random_head_guesses_at_chance(tiny_mlm_folder: Path) -> None:
    tiny = bertsteps.load(tiny_mlm_folder, device="cpu")
    _, masked, labels = collate(tiny, copies=1)
    with torch.inference_mode():
        logits = tiny.masked_lm()(input_ids=masked).logits
    quality = masking.guess_quality(logits, labels)
    assert 0.5 < quality.times_chance < 2.0
    assert quality.top1 < 0.05


def test_guess_quality_needs_chosen_positions() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="nothing to score"):
        masking.guess_quality(torch.zeros(1, 3, 5), torch.full((1, 3), -100))
    with pytest.raises(bertsteps.BertStepsError, match="do not match"):
        masking.guess_quality(
            torch.zeros(1, 3, 5), torch.zeros(1, 4, dtype=torch.long)
        )
