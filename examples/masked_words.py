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
# BERT was trained by hiding words: about one token in seven was replaced by a special
# mask token, and the model had to guess the original from both sides of the context. The
# part of the model that guesses — the *masked-language-model head* — sits on top of the
# encoder: it turns each token's last hidden vector into one score per word of the
# vocabulary. This chapter fills in masked words, then recomputes the head by hand.

# %%
import html

import torch
from IPython.display import Markdown

import bertsteps
from bertsteps import by_hand

bert = bertsteps.load()
config = bert.config
mask = bert.tokenizer.mask_token  # "[MASK]" for BERT

sentences = [
    f"the capital of france is {mask}.",
    f"she poured a cup of {mask} and sat down to read.",
    f"the {mask} barked at the mailman all night.",
    f"he went to the {mask} to deposit his money.",
]
k = 5  # how many guesses to show per sentence

# %% tags=["hide-input"]
if bert.has_mlm_head:
    note = (
        f"This page was computed with **`{bert.name}`**, which has a "
        "masked-language-model head: the guesses below are the checkpoint's own."
    )
else:
    why = (
        " It was fine-tuned to compare sentences, and its head was not kept."
        if bert.source.kind == "bundled"
        else ""
    )
    note = (
        '<div class="admonition warning">'
        '<p class="admonition-title">This build has no masked-word head</p>'
        f"<p>This page was computed with <code>{bert.name}</code>, whose weights hold "
        f"only the encoder, without a masked-language-model head.{why} Rather than "
        "guess with a randomly initialised head, the cells that need the head are "
        "skipped below: this page shows the code, but no predictions.</p>"
        "<p>To see them, rebuild the site with a checkpoint trained for masked-word "
        "prediction:</p>"
        "<pre><code>BERTSTEPS_CHECKPOINT=bert-base-uncased make site</code></pre>"
        "</div>"
    )
Markdown(note)

# %% [markdown]
# ## Filling in the blanks
#
# `bert.masked_lm()` loads the checkpoint with its head (`AutoModelForMaskedLM`). Its
# `logits` hold one score per vocabulary entry for every token; at the masked position, a
# softmax turns them into probabilities. Every cell that needs the head checks
# `bert.has_mlm_head` first, so the page runs with any checkpoint.

# %%
if bert.has_mlm_head:
    mlm = bert.masked_lm()
    inputs = bertsteps.encode(bert, sentences)
    with torch.inference_mode():
        logits = mlm(**inputs).logits  # (batch, seq, vocab_size)

    at_mask = inputs["input_ids"] == bert.tokenizer.mask_token_id  # (batch, seq)
    probs = torch.softmax(logits[at_mask], dim=-1)  # (sentences, vocab_size)
    top = probs.topk(k, dim=-1)
    print(tuple(logits.shape), tuple(probs.shape))

# %%
def cell(word, q):  # one guess as table text: a token may hold * or |
    word = html.escape(word).replace("|", "&#124;").replace("*", "&#42;")
    return f"<b>{word}</b> {q:.1%}" if q >= 0.001 else f"<b>{word}</b> &lt;0.1%"


rows = ["| sentence | top guesses |", "| --- | --- |"]
if bert.has_mlm_head:
    for text, p, ids in zip(sentences, top.values, top.indices, strict=True):
        words = bert.tokenizer.convert_ids_to_tokens(ids.tolist())
        guesses = " · ".join(cell(w, float(q)) for w, q in zip(words, p))
        rows.append(f"| {text.replace(mask, f'`{mask}`')} | {guesses} |")
    table = "\n".join(rows)
else:
    table = f"*No table: `{bert.name}` has no masked-word head (see the note above).*"
Markdown(table)

# %% tags=["hide-input"]
if bert.has_mlm_head:
    first = bert.tokenizer.convert_ids_to_tokens(top.indices[:, 0].tolist())
    sure = int(top.values[:, 0].argmax())
    summary = (
        f"In this build, the most confident guess is **{first[sure]}** for "
        f"“{sentences[sure]}” ({float(top.values[sure, 0]):.1%}); the least "
        f"confident first guess has {float(top.values[:, 0].min()):.1%}. The {k} "
        f"guesses shown cover {float(top.values.sum(dim=-1).min()):.1%} to "
        f"{float(top.values.sum(dim=-1).max()):.1%} of the probability; the rest is "
        f"spread over the other {config.vocab_size - k:,} tokens."
    )
Markdown(summary) if bert.has_mlm_head else None

# %% [markdown]
# ## The head by hand
#
# The head has two parts. A *transform* — a dense layer, the same activation as the
# feed-forward blocks, and a LayerNorm — refines the encoder's last hidden vector. A
# *decoder* then scores that vector against every word: a dense layer from the hidden size
# to the vocabulary size. We start from the encoder's output, `last_hidden_state`, which
# the plain encoder `bert.model` computes with the same weights.

# %%
if bert.has_mlm_head:
    hidden = bertsteps.forward(bert, sentences).last_hidden_state
    with torch.inference_mode():  # the head's own encoder: the same weights
        own = mlm.base_model(**inputs).last_hidden_state
    torch.testing.assert_close(hidden, own)

    head = mlm.cls.predictions
    dense, norm = head.transform.dense, head.transform.LayerNorm
    t = hidden @ dense.weight.T + dense.bias
    t = by_hand.activation(config.hidden_act)(t)  # as in the feed-forward blocks
    t = by_hand.layer_norm(t, norm.weight, norm.bias, norm.eps)

    torch.testing.assert_close(t, head.transform(hidden))
    print(head.transform)

# %% [markdown]
# The decoder's weight matrix has one row per vocabulary entry and one column per hidden
# dimension — the shape of the input word-embedding matrix. In BERT they are *tied*: the
# decoder uses the very same tensor as the input embeddings. So a word's score is the dot
# product of the transformed vector with that word's input embedding, plus a bias per word:
# the model guesses the word whose [embedding](../word_embeddings/) points most the same
# way.

# %%
if bert.has_mlm_head:
    decoder = head.decoder
    if config.tie_word_embeddings:
        embeddings = mlm.get_input_embeddings()
        assert decoder.weight is embeddings.weight  # one tensor, two uses
        torch.testing.assert_close(decoder.weight, bert.embedding_matrix)
    logits_by_hand = t @ decoder.weight.T + decoder.bias  # (batch, seq, vocab)

    torch.testing.assert_close(logits_by_hand, logits)
    probs_by_hand = torch.softmax(logits_by_hand[at_mask], dim=-1)
    torch.testing.assert_close(probs_by_hand, probs)
    print(f"tied: {config.tie_word_embeddings}", tuple(decoder.weight.shape))

# %% tags=["hide-input"]
if bert.has_mlm_head:
    summary = (
        f"Each of the {len(sentences)} masked positions gets {config.vocab_size:,} "
        f"scores from a {config.hidden_size}-number vector; by hand and by the model "
        "they agree "
        f"(word embeddings tied to the decoder: **{config.tie_word_embeddings}**)."
    )
else:
    summary = (
        f"`{bert.name}` has no head to recompute, so the cells above did nothing. "
        "With a checkpoint that has one, they assert that the transform and the "
        "decoder by hand give exactly the model's logits."
    )
Markdown(summary)

# %% [markdown]
# ## Try it
#
# - Write your own sentences with `mask` in them: which contexts make the model sure?
# - Put two masks in one sentence: each is guessed separately, from the same context.
# - Mask a word that WordPiece splits (`tokenize` is `token ##ize`): what does the model
#   guess for each piece?
# - Look at the logits of a position that is *not* masked: does the model guess the
#   word that is there?
# - Rebuild this page with a checkpoint that has the head:
#   `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
