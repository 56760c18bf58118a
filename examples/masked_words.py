# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Masked-word prediction
#
# **bert-base-uncased**, the original English BERT, was pretrained on two tasks at once:
# *masked-word prediction* — hide some tokens of a text and guess them from both sides of
# the context — and *next-sentence prediction* — say whether a second sentence followed
# the first. The part of the model that guesses hidden words, the *masked-language-model
# head*, sits on top of the encoder: it turns each token's last hidden vector into one
# score per word of the vocabulary.
#
# Not every BERT-shaped checkpoint was trained this way. The site's bundled default,
# **all-MiniLM-L6-v2**, starts from MiniLM-L6-H384-uncased, a 6-layer model made by
# keeping every second layer of the 12-layer MiniLM-L12-H384-uncased — which was itself
# distilled from a larger pretrained Transformer — and was then fine-tuned with a
# contrastive objective on over a billion sentence pairs, to compare sentences; its
# weights hold no masked-word head.
#
# This chapter shows the masking rule of BERT's pretraining on a real batch — that part
# needs only the tokenizer, so it runs with every checkpoint — and then the head: what it
# computes, step by step, and, for a checkpoint that has one, its guesses.

# %%
import torch
from IPython.display import Markdown
from transformers import DataCollatorForLanguageModeling

import bertsteps
from bertsteps import by_hand, masking

bert = bertsteps.load()
config = bert.config
tokenizer = bert.tokenizer
mask = tokenizer.mask_token  # "[MASK]" for BERT

# %% tags=["hide-input"]
card = bertsteps.model_card(bert)
if bert.has_mlm_head:
    note = (
        f"This page was computed with {card.summary} {card.training} Its masked-word "
        "head is loaded below: the guesses on this page are that head's own."
    )
else:
    note = (
        '<div class="admonition warning">'
        '<p class="admonition-title">This build has no masked-word head</p>'
        f"<p>This page was computed with <code>{bert.name}</code>, whose weights hold "
        f"only the encoder, without a masked-language-model head. "
        f"{card.training.replace('[CLS]', '<code>[CLS]</code>')} Rather than "
        "guess with a randomly initialised head, this page shows the masking rule and "
        "what the head computes on shapes alone, without guesses.</p>"
        "<p>To see guesses, rebuild the site with a checkpoint trained for masked-word "
        "prediction:</p>"
        "<pre><code>BERTSTEPS_CHECKPOINT=bert-base-uncased make site</code></pre>"
        "</div>"
    )
Markdown(note)

# %% [markdown]
# ## The masking rule
#
# BERT's pretraining *chooses* 15% of the tokens of each sequence, at random; the model is
# trained to predict the original token at every chosen position. A chosen token is not
# always hidden:
#
# - 80% of the chosen tokens are replaced by `[MASK]`,
# - 10% by a random token of the vocabulary,
# - 10% are left unchanged.
#
# If every chosen token became `[MASK]`, the model would learn that only `[MASK]`
# positions matter — and `[MASK]` never appears in the texts it is later used on. The
# random and unchanged tokens make it keep a good vector for *every* token.
#
# `transformers` implements the rule in `DataCollatorForLanguageModeling`, which training
# scripts use to build batches. We run it on a batch of everyday English sentences
# (`masking.SAMPLE_SENTENCES`), four copies of it, each copy with its own random draw. The
# collator never chooses `[CLS]`, `[SEP]` or padding: we pass it the tokenizer's
# `special_tokens_mask`.

# %%
encoded = tokenizer(
    list(masking.SAMPLE_SENTENCES) * 4, return_special_tokens_mask=True
)
examples = [
    {"input_ids": ids, "special_tokens_mask": special}
    for ids, special in zip(
        encoded["input_ids"], encoded["special_tokens_mask"]
    )
]
collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
torch.manual_seed(0)  # a fixed random state: the same draw at every build
batch = collator(examples)

original = tokenizer.pad(
    {"input_ids": encoded["input_ids"]}, return_tensors="pt"
)
original = original[
    "input_ids"
]  # the batch before masking, padded the same way
masked, labels = (
    batch["input_ids"],
    batch["labels"],
)  # labels: -100 if not chosen
tuple(masked.shape), int((labels != -100).sum())

# %% [markdown]
# `masking.masking_counts` counts, over the real tokens, which ones were chosen (their
# label is kept) and what the model sees in their place. `compare` sets each count
# against the rule: a count of independent draws is binomial, so we expect it within
# three standard deviations of its mean.

# %%
counts = masking.masking_counts(original, masked, labels, tokenizer)
checks = counts.compare()
count_rows = [
    "| count | observed | rule | expected ± 3 sd | in range |",
    "|---|---:|---:|---:|---:|",
]
for c in checks:
    count_rows.append(
        f"| {c.name} | {c.observed:,} of {c.trials:,} | {c.probability:.0%} | "
        f"{c.expected:.1f} ± {3 * c.sd:.1f} | {'yes' if c.holds else 'no'} |"
    )
Markdown("\n".join(count_rows))

# %% tags=["hide-input"]
share = {c.name: c.observed / c.trials for c in checks}
rule_claim = bertsteps.claim(
    "masking-follows-rule",
    all(c.holds for c in checks),
    f"Of the {counts.tokens:,} tokens, {counts.chosen} were chosen "
    f"({share['chosen']:.1%}); of those, {share['[MASK]']:.0%} became `{mask}`, "
    f"{share['random token']:.0%} a random token and {share['unchanged']:.0%} stayed "
    "as they were. Every count is within three standard deviations of the rule's "
    "expectation: what we see is the 15% / 80-10-10 rule plus the scatter of a random draw.",
    f"Of the {counts.tokens:,} tokens, {counts.chosen} were chosen "
    f"({share['chosen']:.1%}); of those, {share['[MASK]']:.0%} became `{mask}`, "
    f"{share['random token']:.0%} a random token and {share['unchanged']:.0%} stayed "
    "as they were. At least one count is more than three standard deviations from the "
    "rule's expectation: this draw is unusual, or the collator does not follow the rule.",
    measure="; ".join(
        f"{c.name}: {c.observed} of {c.trials}, expected {c.expected:.1f}, sd {c.sd:.2f}"
        for c in checks
    ),
    criterion="every count within 3 binomial standard deviations of trials × probability",
)
rule_claim

# %% [markdown]
# Here are four of the masked sentences as the model would see them, picked to show
# every kind of chosen token the draw produced. Chosen tokens are
# in bold: a replaced one is followed by the original in small print, and an unchanged one
# is underlined. The model is asked to predict the original token at every bold position
# — including the underlined ones, which look like any other token.


# %%
def variety(
    i,
):  # how many kinds of chosen token row i shows, then how many chosen
    c = masking.masking_counts(
        original[i : i + 1], masked[i : i + 1], labels[i : i + 1], tokenizer
    )
    return (c.mask > 0) + (c.random > 0) + (c.unchanged > 0), c.chosen


shown = sorted(
    range(len(masking.SAMPLE_SENTENCES)), key=variety, reverse=True
)[:4]
Markdown(
    "\n".join(
        "- "
        f"{masking.show_masked(original[i], masked[i], labels[i], tokenizer)}"
        for i in shown
    )
)

# %% [markdown]
# ## The head, step by step
#
# The head has two parts. A *transform* — a dense layer, the same activation as the
# feed-forward blocks, and a LayerNorm — refines the encoder's last hidden vector. A
# *decoder* then scores that vector against every word: a dense layer from the hidden size
# to the vocabulary size, plus one bias per word.
#
# When the checkpoint has a head, `bert.masked_lm()` loads it (`AutoModelForMaskedLM`) and
# we compute with its weights. When it has none, we build the head's modules from the
# configuration on PyTorch's `meta` device, which holds shapes but no numbers: every step
# below still runs and shows what it *would* compute, and nothing can be mistaken for a
# guess.

# %%
from transformers.models.bert.modeling_bert import BertOnlyMLMHead

sentences = [
    f"the capital of france is {mask}.",
    f"she poured a cup of {mask} and sat down to read.",
    f"the {mask} barked at the mailman all night.",
    f"he went to the {mask} to deposit his money.",
]
inputs = bertsteps.encode(bert, sentences)
hidden = bertsteps.forward(
    bert, sentences
).last_hidden_state  # the encoder's output

if bert.has_mlm_head:
    mlm = bert.masked_lm()
    head = mlm.cls.predictions  # the checkpoint's own weights
    with torch.inference_mode():  # the head's own encoder: the same weights
        own = mlm.base_model(**inputs).last_hidden_state
    torch.testing.assert_close(hidden, own)
else:
    with torch.device("meta"):  # shapes only: no weights, no numbers
        head = BertOnlyMLMHead(config).predictions
    hidden = hidden.to("meta")
print(
    f"head on {hidden.device.type}:",
    tuple(hidden.shape),
    "(batch, seq, hidden)",
)

# %% [markdown]
# The transform: dense, activation, LayerNorm, each keeping the hidden size.

# %%
dense, norm = head.transform.dense, head.transform.LayerNorm
t = hidden @ dense.weight.T + dense.bias
t = by_hand.activation(config.hidden_act)(t)  # as in the feed-forward blocks
t = by_hand.layer_norm(t, norm.weight, norm.bias, norm.eps)

if bert.has_mlm_head:
    torch.testing.assert_close(t, head.transform(hidden))
print(
    tuple(dense.weight.shape),
    config.hidden_act,
    tuple(norm.weight.shape),
    "->",
    tuple(t.shape),
)

# %% [markdown]
# The decoder's weight matrix has one row per vocabulary entry and one column per hidden
# dimension — the shape of the input word-embedding matrix. In BERT they are *tied*: the
# decoder uses the very same tensor as the input embeddings. So a word's score is the dot
# product of the transformed vector with that word's input embedding, plus a bias per word:
# the head favours the words whose [embedding](../word_embeddings/) points most the same
# way.

# %%
decoder = head.decoder
assert decoder.weight.shape == bert.embedding_matrix.shape  # (vocab, hidden)
logits_by_hand = t @ decoder.weight.T + decoder.bias  # (batch, seq, vocab)

if bert.has_mlm_head:
    if config.tie_word_embeddings:
        assert (
            decoder.weight is mlm.get_input_embeddings().weight
        )  # one tensor, two uses
        torch.testing.assert_close(decoder.weight, bert.embedding_matrix)
    with torch.inference_mode():
        logits = mlm(**inputs).logits  # (batch, seq, vocab_size)
    torch.testing.assert_close(logits_by_hand, logits)
# The head's own numbers, counted part by part. (On the `meta` device the
# decoder's bias and the head's `bias` are two tensors; in a loaded head
# they are one. Count it once.)
head_parts = {
    "dense": dense.weight.numel() + dense.bias.numel(),
    "LayerNorm": norm.weight.numel() + norm.bias.numel(),
    "bias per word": head.bias.numel(),
}
own_weights = sum(head_parts.values())
print(
    tuple(decoder.weight.shape),
    "->",
    tuple(logits_by_hand.shape),
    f"tied: {config.tie_word_embeddings}",
)

# %% tags=["hide-input"]
V, H = config.vocab_size, config.hidden_size
shapes = (
    f"For each token the head turns {H} numbers into {V:,} scores. Tied to the input "
    f"embeddings, the decoder adds no weight matrix of its own: the head's own parameters "
    f"are the transform ({H}×{H} + {H} = {head_parts['dense']:,} for the dense layer, "
    f"{head_parts['LayerNorm']:,} for the LayerNorm) and one bias per word "
    f"({head_parts['bias per word']:,}), {own_weights:,} numbers in all."
)
if bert.has_mlm_head:
    tail = (
        " By hand and by the model, the transform and the logits agree "
        f"(word embeddings tied to the decoder: **{config.tie_word_embeddings}**)."
    )
else:
    tail = (
        f" `{bert.name}` has none of these {own_weights:,} numbers, so the steps above ran "
        "on shapes only; with a checkpoint that has the head, the same cells compute the "
        "scores and assert that they equal the model's logits."
    )
Markdown(shapes + tail)

# %% [markdown]
# ## Filling in the blanks
#
# At a masked position, a softmax turns the scores into probabilities, one per word of
# the vocabulary. Below, the head's first guesses for each sentence — when the checkpoint
# has a head.

# %%
at_mask = inputs["input_ids"] == tokenizer.mask_token_id  # (batch, seq)
k = 5  # how many guesses to show per sentence
rows = ["| sentence | top guesses |", "| --- | --- |"]
if bert.has_mlm_head:
    probs = torch.softmax(logits[at_mask], dim=-1)  # (sentences, vocab_size)
    top = probs.topk(k, dim=-1)
    for text, p, ids in zip(sentences, top.values, top.indices, strict=True):
        words = tokenizer.convert_ids_to_tokens(ids.tolist())
        guesses = " · ".join(
            masking.guess_cell(w, float(q)) for w, q in zip(words, p)
        )
        rows.append(f"| {text.replace(mask, f'`{mask}`')} | {guesses} |")
    table = "\n".join(rows)
else:
    table = (
        f"{int(at_mask.sum())} masked positions, each to be scored against "
        f"{V:,} words — but `{bert.name}` has no head to score them with, "
        "so there are no guesses in this build."
    )
Markdown(table)

# %% [markdown]
# How good are the guesses? On the masked batch of the previous section we know the
# original token at every chosen position, so we can score the head: the probability it
# gives the original token, compared with $1/V$, the probability of any one token when
# guessing uniformly at random.

# %% tags=["hide-input"]
if bert.has_mlm_head:
    with torch.inference_mode():
        on_device = {
            "input_ids": masked,
            "attention_mask": batch["attention_mask"],
        }
        on_device = {name: t.to(bert.device) for name, t in on_device.items()}
        batch_logits = mlm(
            **on_device
        ).logits.cpu()  # the collator's batch is on the CPU
    quality = masking.guess_quality(batch_logits, labels)
    result = bertsteps.claim(
        "guesses-beat-chance",
        quality.times_chance >= 10,
        f"At the {quality.positions} chosen positions, `{bert.name}` gives the original "
        f"token a probability of {quality.geometric_mean:.2%} on average (geometric mean), "
        f"{quality.times_chance:,.0f} times chance, and ranks it first "
        f"{quality.top1:.0%} of the time: the head learned to fill in words.",
        f"At the {quality.positions} chosen positions, `{bert.name}` gives the original "
        f"token a probability of {quality.geometric_mean:.4%} on average (geometric mean), "
        f"{quality.times_chance:.1f} times chance, and ranks it first "
        f"{quality.top1:.1%} of the time: this checkpoint's guesses are no better than "
        "chance, so the table above shows guesses with no skill behind them, not what masked-word training teaches.",
        measure=f"geometric mean probability of the original token {quality.geometric_mean:.3g}, "
        f"chance 1/{quality.vocab_size:,} = {quality.chance:.3g}, ratio {quality.times_chance:.2f}; "
        f"top-1 {quality.top1:.3f} over {quality.positions} positions",
        criterion="geometric mean probability of the original token at least 10 times chance (1/vocab size)",
    )
else:
    result = Markdown(
        f"Without a head there is nothing to score: the {counts.chosen} chosen positions "
        "wait for a checkpoint trained to fill them in."
    )
result

# %% [markdown]
# ## Try it
#
# - Change `mlm_probability`, or pass `mask_replace_prob` and `random_replace_prob` to the
#   collator, and count again.
# - Write your own sentences with `mask` in them: which contexts make the model sure?
# - Put two masks in one sentence: each is guessed separately, from the same context.
# - Mask a word that WordPiece splits (`tokenize` is `token ##ize`): what does the model
#   guess for each piece?
# - Rebuild this page with a checkpoint that has the head:
#   `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
