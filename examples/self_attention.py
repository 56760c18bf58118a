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
from IPython.display import Markdown

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
# Dividing by $\sqrt{d_k}$ keeps the dot products from growing with the head size; without
# it the softmax would saturate and put almost all weight on one token.

# %%
scores = Q @ K.transpose(-1, -2) / math.sqrt(head_size)  # (batch, heads, seq, seq)
probs = torch.softmax(scores, dim=-1)

torch.testing.assert_close(probs, out.attentions[0])  # the model's weights
probs[0, 0].sum(dim=-1)  # head 0: every query's weights sum to 1

# %% [markdown]
# There is no mask here: a single sentence has no padding, so every token may attend to
# every other. The mask appears below, with a padded batch.
#
# ## What the heads look at
#
# Each head has its own weights, so each learns its own pattern. Below, for four simple
# patterns — attend to the previous token, to yourself, to the next token, or to the
# special tokens — the head of the first layer that follows it most (and is not drawn
# already) is drawn: row $i$ is the query token, column $j$ the token it attends to,
# and darker means more weight.

# %%
P = probs[0]  # (heads, seq, seq) for our one sentence
n = P.shape[-1]
i = torch.arange(n, device=P.device)
is_special = [t in bert.tokenizer.all_special_tokens for t in tokens]
special = torch.tensor(is_special, device=P.device)
patterns = {
    "the previous token": P[:, i[1:], i[:-1]].mean(dim=-1),
    "the token itself": P[:, i, i].mean(dim=-1),
    "the next token": P[:, i[:-1], i[1:]].mean(dim=-1),
    "the special tokens": P[:, :, special].sum(dim=-1).mean(dim=-1),
}
best = {}  # pattern -> the head that follows it most, one head per pattern
for name, share in patterns.items():
    ranked = share.argsort(descending=True).tolist()
    best[name] = next((h for h in ranked if h not in best.values()), ranked[0])
{name: f"head {h}: {float(patterns[name][h]):.0%}" for name, h in best.items()}

# %%
described = [
    f"head {h}, {float(patterns[name][h]):.0%} of its weight on {name}"
    for name, h in best.items()
]
fig = bertsteps.figure(
    alt=f"Four heatmaps of first-layer attention weights over the {n} tokens "
    f"of '{sentence}', rows attending to columns, from 0 (white) to 1 (dark blue): "
    + "; ".join(described),
    figsize=(9, 8.4),
)
for ax, (name, h) in zip(fig.subplots(2, 2).flat, best.items(), strict=True):
    bertsteps.plot_matrix(
        P[h].cpu(),
        tokens,
        col_labels=tokens,
        show_values=False,
        cmap="Blues",
        vmin=0,
        vmax=1,
        colorbar_label="attention weight",
        title=f"head {h}: {name} ({float(patterns[name][h]):.0%})",
        ax=ax,
    )
    ax.set_ylabel("query (attends from)")
    ax.set_xlabel("key (attended to)")
fig

# %% tags=["hide-input"]
spread = -(P.clamp_min(1e-12).log() * P).sum(dim=-1).mean(dim=-1)  # entropy
broad, sharp = int(spread.argmax()), int(spread.argmin())
prev, spec = best["the previous token"], best["the special tokens"]
Markdown(
    f"In this build, head {prev} gives on average "
    f"{float(patterns['the previous token'][prev]):.0%} of each token's weight "
    f"to the token just before it, and head {spec} gives "
    f"{float(patterns['the special tokens'][spec]):.0%} to "
    f"{', '.join(sorted({t for t, s in zip(tokens, is_special) if s}))}. "
    f"The most spread-out head is head {broad} and the most focused is head {sharp} "
    f"(by the entropy of their rows: {float(spread[broad]):.2f} and "
    f"{float(spread[sharp]):.2f} nats; a uniform row over {n} tokens has "
    f"{math.log(n):.2f})."
)

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
# $\gamma$, $\beta$ are learned. Dropout only acts while training; the model is in eval
# mode, where it returns its input unchanged.

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
additive = additive.masked_fill(keep_mask == 0, torch.finfo(additive.dtype).min)
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
Markdown(
    f"The short sentence has {short} tokens and {padded} padding positions. The "
    f"largest weight any of its tokens gives to padding, in any head, is "
    f"**{float(to_padding.max()):g}**: after the softmax, "
    "$e^{\\text{huge negative}}$ is exactly zero in floating point."
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
# - Draw `probs[0, h]` for every head `h`: how many look alike?
# - Use `out.attentions[-1]` to see the last layer's heads instead of the first.
# - Remove the `/ math.sqrt(head_size)` and compare the entropy of the rows.
# - Run this page with another checkpoint: `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
