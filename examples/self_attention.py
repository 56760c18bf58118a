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
# # Self-attention by hand
#
# After the embedding layer, every token is a vector that knows only its word, its
# position and its segment. Self-attention is how the tokens of a sentence start to look
# at each other: each token asks a question (its *query*), every token offers an answer
# key (its *key*) and a content (its *value*), and each token's new vector is a weighted
# average of the values, weighted by how well its query matches each key.
#
# This chapter recomputes the first layer's self-attention with plain matrix products,
# one step at a time, and checks every step against what the model itself computes.

# %% [markdown]
# ## The input: one sentence after the embedding layer
#
# `bertsteps.forward` runs the encoder and keeps every intermediate result:
# `hidden_states[0]` is the embedding layer's output, the input of the first layer, and
# `attentions[0]` holds the first layer's attention weights.

# %%
import math

import torch
from IPython.display import Markdown, display

import bertsteps

bert = bertsteps.load()
config = bert.config

sentence = "the cat sat on the mat because it was tired."
out = bertsteps.forward(bert, sentence)
tokens = bertsteps.tokenize(bert, sentence).tokens

x = out.hidden_states[0]  # the embedding layer's output: (batch, seq, hidden)
x.shape

# %% [markdown]
# The first layer of the encoder. Its `attention` block holds the self-attention proper
# (`self`: the query, key and value projections) and an `output` block (a dense
# projection, dropout, and a LayerNorm).

# %%
layer = bert.model.encoder.layer[0]
layer.attention

# %% tags=["hide-input"]
heads = config.num_attention_heads
head_size = config.hidden_size // heads
Markdown(
    f"In this build (`{bert.name}`) the sentence is {len(tokens)} tokens long, the "
    f"hidden size is {config.hidden_size}, and each layer has **{heads} attention "
    f"heads** of {config.hidden_size} / {heads} = **{head_size}** numbers each."
)

# %% [markdown]
# ## Queries, keys and values
#
# Three linear maps of the same input: $Q = XW_Q^\top + b_Q$, and likewise $K$ and $V$.
# Written as a matrix product, each one equals the model's own `Linear` module.

# %%
attn = layer.attention.self
q = x @ attn.query.weight.T + attn.query.bias
k = x @ attn.key.weight.T + attn.key.bias
v = x @ attn.value.weight.T + attn.value.bias

torch.testing.assert_close(q, attn.query(x))
torch.testing.assert_close(k, attn.key(x))
torch.testing.assert_close(v, attn.value(x))
q.shape, k.shape, v.shape

# %% [markdown]
# ## Splitting into heads
#
# BERT does not attend once with the whole vector: it cuts each query, key and value into
# `num_attention_heads` slices of `hidden_size / num_attention_heads` numbers, and every
# slice — every *head* — attends on its own. Reshaping `(batch, seq, hidden)` into
# `(batch, seq, heads, head_size)` and swapping two axes gives one
# `(seq, head_size)` matrix per head.

# %%
heads = config.num_attention_heads
head_size = config.hidden_size // heads


def split_heads(t):  # (batch, seq, hidden) -> (batch, heads, seq, head_size)
    return t.view(t.shape[0], t.shape[1], heads, head_size).transpose(1, 2)


Q, K, V = split_heads(q), split_heads(k), split_heads(v)

last = heads - 1  # the last head is the last slice of every vector
torch.testing.assert_close(Q[0, last], q[0, :, last * head_size :])
Q.shape

# %% [markdown]
# ## Scaled dot products and the softmax
#
# Each head compares every query with every key by a dot product, divides by
# $\sqrt{d_k}$ (the head size), and turns each row into weights that sum to 1 with a
# softmax. The weights then average the values:
#
# $$
# \text{Attention}(Q, K, V) = \text{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V
# $$
#
# Dividing by $\sqrt{d_k}$ keeps the dot products from growing with the head size: the dot
# product of two vectors of $d_k$ independent numbers of variance 1 has variance $d_k$.
# The larger the scores, the more a softmax puts nearly all of a row's weight on its
# largest score.

# %%
scores = (
    Q @ K.transpose(-1, -2) / math.sqrt(head_size)
)  # (batch, heads, seq, seq)
probs = torch.softmax(scores, dim=-1)

torch.testing.assert_close(probs, out.attentions[0])  # the model's weights
probs[0, 0].sum(dim=-1)  # head 0: every query's weights sum to 1

# %% tags=["hide-input"]
unscaled = torch.softmax(
    Q @ K.transpose(-1, -2), dim=-1
)  # without the division
peak = float(
    probs.max(dim=-1).values.mean()
)  # a row's largest weight, on average
peak_unscaled = float(unscaled.max(dim=-1).values.mean())
bertsteps.claim(
    "unscaled-sharper",
    peak_unscaled - peak >= 0.1,
    f"In this build the division matters: without it, a row's largest weight would be "
    f"{peak_unscaled:.2f} on average instead of {peak:.2f} (over every head of this layer "
    f"and every token of the sentence; an even spread gives 1/{len(tokens)} = "
    f"{1 / len(tokens):.2f}).",
    f"In this build leaving the division out changes little: a row's largest weight would "
    f"be {peak_unscaled:.3f} on average instead of {peak:.3f} (over every head of this "
    f"layer and every token of the sentence; an even spread gives 1/{len(tokens)} = "
    f"{1 / len(tokens):.3f}).",
    measure=f"mean over heads and rows of the largest weight: {peak:.3f} with the "
    f"division by √{head_size}, {peak_unscaled:.3f} without",
    criterion="without the division the mean largest weight is at least 0.1 higher",
)

# %% [markdown]
# There is no mask here: a single sentence has no padding, so every token may attend to
# every other. The mask appears below, with a padded batch.
#
# ## What the heads look at
#
# Each head has its own query and key weights, so each can attend in its own way. A
# heatmap of one head on one sentence invites stories, so this page measures instead.
# `bertsteps.attention_patterns` runs the model on a few sentences and, for every head of
# every layer, measures how much of each token's weight goes to five patterns:
#
# - the **previous token**, the **token itself** and the **next token**;
# - the **special tokens** `[CLS]` and `[SEP]`;
# - the other pieces of the **same word**, for words that WordPiece splits.
#
# A share means little on its own: a token that spreads its weight *evenly* over the $n$
# tokens of its sentence already gives $1/n$ to the previous token and $2/n$ to `[CLS]`
# and `[SEP]` together. So each share is divided by what an even spread gives on the
# same tokens: the **ratio** is 1 for a head without preference. Only the rows of word
# tokens count (`[CLS]`, `[SEP]` and padding rows are left out), and a previous or next
# token that is special does not count as one.
#
# **The criterion.** A head is *named* for a pattern when its share is at least 3 times
# what an even spread gives, and that pattern has the largest ratio of the head's five.
# Otherwise the head has no clear pattern.

# %%
sentences = [
    sentence,
    "unbelievably, the tokenizer splits rare words into smaller pieces.",
    "my neighbours repainted their house a surprisingly bright yellow.",
    "the snowboarders misjudged the icy slope and tumbled downhill.",
    "she gave her brother the keys before the long drive home.",
    "photosynthesis lets algae turn sunlight into sugar.",
    "the archaeologists catalogued fragments of bioluminescent pottery.",
]
found = bertsteps.attention_patterns(bert, sentences)
found.patterns, found.share.shape  # (layers, heads, patterns)

# %% [markdown]
# The measure is plain indexing. On our sentence alone, with the weights `probs` computed
# by hand above, the previous-token share of each head is the mean of the entries just
# left of the diagonal, over the rows of word tokens that follow a word token:

# %%
mine = bertsteps.attention_patterns(bert, [sentence], attentions=[probs])
P = probs[0].cpu()  # (heads, seq, seq) for our one sentence
n = P.shape[-1]
rows = torch.arange(2, n - 1)  # row 1 follows [CLS]; row n - 1 is [SEP]
torch.testing.assert_close(
    mine.share[0, :, 0], P[:, rows, rows - 1].mean(dim=-1)
)
float(mine.even[0]), 1 / n  # an even spread gives the previous token 1/n

# %% [markdown]
# Every head of the first layer on our sentence: row $i$ is the query token, column $j$
# the token it attends to, from white (weight 0) to dark blue (weight 1). Each title is
# what the measure over all the sentences above finds for that head, with its share and
# its ratio to an even spread. Heads are numbered from 0, as in `probs[0, h]`; layers
# from 1, so the first layer, `attentions[0]`, is layer 1.

# %%
titles = [f"head {h}\n{found.describe(0, h)}" for h in range(heads)]
bertsteps.plot_matrices(
    [P[h] for h in range(heads)],
    tokens,
    titles=titles,
    ncols=3
    if heads > 4
    else heads,  # three across: token labels readable on a desktop page
    colorbar_label="attention weight (0 to 1)",
    xlabel="key (attended to)",
    ylabel="query (attends from)",
    alt=f"{heads} small heatmaps, one per head of the first layer, of the "
    f"attention weights among the {n} tokens of '{sentence}', rows "
    "attending to columns, from 0 (white) to 1 (dark blue). Titles: "
    + "; ".join(f"head {h}: {found.describe(0, h)}" for h in range(heads)),
)

# %% [markdown]
# What the measure says about the first layer, pattern by pattern:

# %% tags=["hide-input"]
for pattern in found.patterns:
    display(
        bertsteps.pattern_claim(
            found, pattern, 0, id="first-layer-" + pattern.replace(" ", "-")
        )
    )
bertsteps.focus_claim(found, 0, id="first-layer-focused-head")

# %% [markdown]
# ## Every layer
#
# The same measure for every head of every layer. Each panel is one pattern; its rows
# are the layers (layer 1 is the one this page recomputes) and its columns the heads. A cell holds the head's ratio to an even spread, coloured from 0
# (white) to twice the criterion (dark purple; larger ratios keep the darkest colour, and
# the number in the cell tells them apart); a cell framed in orange is a head named for
# that pattern.

# %%
ratio = found.ratio.nan_to_num(
    0.0
)  # (layers, heads, patterns); 0 where not measured
top = 2 * found.threshold
bertsteps.plot_matrices(
    [ratio[..., k] for k in range(len(found.patterns))],
    [f"layer {i + 1}" for i in range(config.num_hidden_layers)],
    col_labels=[str(h) for h in range(heads)],
    titles=[
        f"{p} (even spread: {float(e):.0%})"
        for p, e in zip(found.patterns, found.even)
    ],
    outline=[found.winner == k for k in range(len(found.patterns))],
    show_values=True,
    cmap="Purples",
    vmin=0,
    vmax=top,
    colorbar_label=f"share ÷ even-spread share (0 to {top:g} or more)",
    colorbar_extend="max",
    xlabel="head",
    ncols=2,
    cell_size=0.33,
    alt=f"{len(found.patterns)} heatmaps, one per pattern, of each head's "
    "attention share divided by an even spread's, layers in rows and heads "
    f"in columns, from 0 (white) to {top:g} or more (dark purple); cells "
    "framed in orange are heads named for the pattern. "
    + bertsteps.overview_claim(found, id="all-layers-named-heads").sentence,
)

# %% tags=["hide-input"]
bertsteps.overview_claim(found, id="all-layers-named-heads")

# %% [markdown]
# ## The weighted sum, and merging the heads
#
# Multiplying the weights by the values averages the value vectors, one average per
# query and head. Swapping the axes back and joining the heads end to end gives one
# `hidden_size` vector per token again: the output of the self-attention module. A
# forward hook catches what the model's own `attention.self` module returns, and what
# the whole `attention` block returns, to compare with.

# %%
head_context = probs @ V  # (batch, heads, seq, head_size)
context = head_context.transpose(1, 2).reshape(x.shape)  # (batch, seq, hidden)

captured = {}


def keep(name):
    def hook(module, args, output):
        captured[name] = output[0] if isinstance(output, tuple) else output

    return hook


handles = [
    layer.attention.self.register_forward_hook(keep("self")),
    layer.attention.register_forward_hook(keep("attention")),
]
try:
    bertsteps.forward(bert, sentence)
finally:
    for handle in handles:
        handle.remove()

torch.testing.assert_close(context, captured["self"])
context.shape

# %% [markdown]
# ## Output projection, dropout, residual and LayerNorm
#
# The `output` block mixes the heads with one more dense layer, applies dropout, adds the
# block's input back (the *residual* connection) and normalises each token's vector:
#
# $$
# \text{LayerNorm}(z) = \frac{z - \mu}{\sqrt{\sigma^2 + \varepsilon}} \odot \gamma + \beta
# $$
#
# where $\mu$ and $\sigma^2$ are the mean and variance of the numbers of one vector, and
# $\gamma$, $\beta$ are the LayerNorm's own weights (`norm.weight` and `norm.bias`).
# Dropout only acts while training; the model is in eval mode, where it returns its input
# unchanged.

# %%
dense = layer.attention.output.dense
projected = context @ dense.weight.T + dense.bias

dropout = layer.attention.output.dropout
assert not dropout.training  # eval mode
assert torch.equal(dropout(projected), projected)  # dropout changes nothing

z = projected + x  # residual: add the block's input back
norm = layer.attention.output.LayerNorm
mu = z.mean(dim=-1, keepdim=True)
var = z.var(dim=-1, unbiased=False, keepdim=True)
normalised = (z - mu) / torch.sqrt(var + norm.eps)
attention_output = normalised * norm.weight + norm.bias

torch.testing.assert_close(attention_output, captured["attention"])
attention_output.shape

# %% [markdown]
# ## Padding and the attention mask
#
# Sentences in a batch have different lengths, so the shorter ones are padded. Padding
# tokens must not receive any attention. The tokenizer marks real tokens with 1 and
# padding with 0 in `attention_mask`; the model turns that into an *additive* mask: 0
# where a token may be attended to, and the most negative float where it may not. Added
# to the scores before the softmax, it makes those weights exactly 0.

# %%
batch = ["the cat sat.", sentence]
inputs = bertsteps.encode(bert, batch)
batch_out = bertsteps.forward(bert, batch)
inputs["attention_mask"]

# %%
keep_mask = inputs["attention_mask"][:, None, None, :]  # (batch, 1, 1, seq)
additive = torch.zeros(keep_mask.shape, device=keep_mask.device)
additive = additive.masked_fill(
    keep_mask == 0, torch.finfo(additive.dtype).min
)
additive[0, 0, 0]  # short sentence: 0 for tokens, hugely negative for padding

# %% [markdown]
# The same steps as above on the padded batch, with the mask added to the scores:

# %%
xb = batch_out.hidden_states[0]
Qb, Kb = split_heads(attn.query(xb)), split_heads(attn.key(xb))
scores_b = Qb @ Kb.transpose(-1, -2) / math.sqrt(head_size) + additive
probs_b = torch.softmax(scores_b, dim=-1)

torch.testing.assert_close(probs_b, batch_out.attentions[0])
short = int(inputs["attention_mask"][0].sum())  # the short sentence's tokens
probs_b[0, 0, :short].sum(dim=-1)  # all the weight stays on real tokens

# %% tags=["hide-input"]
padded = int((inputs["attention_mask"][0] == 0).sum())
to_padding = probs_b[0, :, :short, short:]
largest = float(to_padding.max())
bertsteps.claim(
    "padding-weight-zero",
    largest == 0.0,
    f"The short sentence has {short} tokens and {padded} padding positions. The "
    f"largest weight any of its tokens gives to padding, in any head, is **{largest:g}**: "
    "after the softmax, $e^{\\text{huge negative}}$ is exactly zero in floating point.",
    f"The short sentence has {short} tokens and {padded} padding positions. The "
    f"largest weight any of its tokens gives to padding, in any head, is **{largest:g}**: "
    "tiny, but not exactly zero in this build.",
    measure=f"largest weight from a real token to padding, any head: {largest:g}",
    criterion="exactly 0",
)

# %% [markdown]
# So padding cannot change the real tokens' results: the short sentence alone gives the
# same attention weights over its tokens as inside the padded batch.

# %%
alone = bertsteps.forward(bert, batch[0])
only_real = probs_b[0, :, :short, :short]  # queries and keys of real tokens
torch.testing.assert_close(only_real, alone.attentions[0][0])

# %% [markdown]
# ## The whole block in one call
#
# `bertsteps.attention_by_hand` does every step above (it is plain torch too; read its
# source with `bertsteps.attention_by_hand??`) and keeps each intermediate result, so the
# next chapters can reuse it. It gives the same numbers as the model, with and without
# padding:

# %%
steps = bertsteps.attention_by_hand(layer, x, config)
torch.testing.assert_close(steps.probs, out.attentions[0])
torch.testing.assert_close(steps.context, captured["self"])
torch.testing.assert_close(steps.output, captured["attention"])

mask_b = inputs["attention_mask"]
steps_b = bertsteps.attention_by_hand(layer, xb, config, mask_b)
torch.testing.assert_close(steps_b.probs, batch_out.attentions[0])
steps_b.output.shape

# %% [markdown]
# Self-attention is the only place where tokens exchange information. What comes next in
# the layer — the [feed-forward block](../feed_forward/) — works on each token alone.
#
# ## Try it
#
# - Change `sentence` and look for a head that links *it* to the noun it stands for.
# - Add sentences to `sentences`, or pass `threshold=2` to
#   `bertsteps.attention_patterns`: which heads keep their names?
# - Draw the small multiples for `out.attentions[-1][0]` to see the last layer's heads
#   instead of the first.
# - Remove the `/ math.sqrt(head_size)` and compare the entropy of the rows.
# - Run this page with another checkpoint: `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
