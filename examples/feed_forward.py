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
# # Feed-forward and the whole layer
#
# The [self-attention chapter](../self_attention/) ended with the attention block's
# output: one vector per token, each now mixed with the others. The second half of a BERT
# layer is a small two-layer network applied to each token *on its own* — the same weights
# for every position, no token looking at another. This chapter recomputes it by hand,
# then runs every layer of the encoder by hand and lands exactly on the model's output.

# %% [markdown]
# ## Where we start
#
# The attention block is recomputed with `bertsteps.attention_by_hand`, the plain-torch
# code that the self-attention chapter takes apart step by step.

# %%
import math

import torch
from IPython.display import Markdown

import bertsteps
from bertsteps import by_hand

bert = bertsteps.load()
config = bert.config

sentence = "the cat sat on the mat because it was tired."
out = bertsteps.forward(bert, sentence)
tokens = bertsteps.tokenize(bert, sentence).tokens

layer = bert.model.encoder.layer[0]
attention = bertsteps.attention_by_hand(layer, out.hidden_states[0], config)
a = attention.output  # the attention block's output, the feed-forward's input
layer.intermediate, layer.output

# %% tags=["hide-input"]
Markdown(
    f"In this build (`{bert.name}`), the feed-forward block widens each token's "
    f"{config.hidden_size} numbers to **{config.intermediate_size}** "
    f"({config.intermediate_size / config.hidden_size:g} times as many), applies "
    f"`{config.hidden_act}`, and projects back to {config.hidden_size}. Its two "
    f"dense layers hold {config.intermediate_size * config.hidden_size * 2:,} weights "
    "per layer."
)

# %% [markdown]
# ## Widen: the intermediate dense layer

# %%
dense_in = layer.intermediate.dense
h = a @ dense_in.weight.T + dense_in.bias  # (batch, seq, intermediate_size)

torch.testing.assert_close(h, dense_in(a))
h.shape

# %% [markdown]
# ## The activation
#
# The configuration names the activation in `hidden_act`; `transformers` looks it up in
# `ACT2FN`. For BERT it is the Gaussian error linear unit, GELU: the input times the
# probability that a standard normal variable is below it,
#
# $$
# \text{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \text{erf}\!\left(\frac{x}{\sqrt 2}\right)\right).
# $$

# %%
from transformers.activations import ACT2FN  # the table transformers looks it up in

config.hidden_act, ACT2FN[config.hidden_act]


# %%
def gelu(t):  # the exact GELU, by hand
    return 0.5 * t * (1 + torch.erf(t / math.sqrt(2)))


# another activation than GELU: its by-hand version comes from bertsteps
if config.hidden_act == "gelu":
    act = gelu
else:
    act = by_hand.activation(config.hidden_act)
activated = act(h)

torch.testing.assert_close(activated, ACT2FN[config.hidden_act](h))
torch.testing.assert_close(activated, layer.intermediate(a))  # dense + act
activated.shape

# %% [markdown]
# GELU is close to ReLU — zero for very negative inputs, the identity for large positive
# ones — but smooth, and slightly negative just below zero:

# %%
grid = torch.linspace(-4, 4, 81)
bertsteps.plot_lines(
    grid.tolist(),
    {
        f"{config.hidden_act} (this model)": act(grid).tolist(),
        "ReLU": grid.relu().tolist(),
    },
    xlabel="input",
    ylabel="output",
    title="The activation of the feed-forward block",
    alt=f"Line plot of the {config.hidden_act} activation and of ReLU for inputs "
    "from -4 to 4.",
)

# %% tags=["hide-input"]
negative = float((h < 0).float().mean())
small = float((activated.abs() < 0.1).float().mean())
Markdown(
    f"On our sentence, {negative:.0%} of the {h.numel():,} intermediate values are "
    f"negative before the activation, and after it {small:.0%} of them are within 0.1 "
    "of zero: "
    "each token switches on only part of the wide layer."
)

# %% [markdown]
# ## Back to the hidden size, residual and LayerNorm
#
# The second dense layer projects back to the hidden size. Then, as in the attention
# block, dropout (nothing, in eval mode), the residual connection (add the block's input
# back) and a LayerNorm. The result is the layer's output: `hidden_states[1]`.
# `bertsteps.by_hand.layer_norm` is the LayerNorm formula of the self-attention chapter.

# %%
dense_out = layer.output.dense
projected = activated @ dense_out.weight.T + dense_out.bias
assert torch.equal(layer.output.dropout(projected), projected)  # eval mode

norm = layer.output.LayerNorm
z = projected + a  # residual
layer_output = by_hand.layer_norm(z, norm.weight, norm.bias, norm.eps)

torch.testing.assert_close(layer_output, out.hidden_states[1])
layer_output.shape

# %% [markdown]
# ## The whole layer, then every layer
#
# `bertsteps.layer_by_hand` chains the two blocks. Feeding each layer's by-hand output to
# the next layer, from the embedding layer's output up, reproduces every hidden state
# of the model, and the last one is the encoder's output, `last_hidden_state`.

# %%
hidden = out.hidden_states[0]
for i, layer_i in enumerate(bert.model.encoder.layer):
    hidden = bertsteps.layer_by_hand(layer_i, hidden, config).output
    torch.testing.assert_close(hidden, out.hidden_states[i + 1])

torch.testing.assert_close(hidden, out.last_hidden_state)
len(bert.model.encoder.layer), hidden.shape

# %% [markdown]
# `bertsteps.encoder_by_hand` does the same loop and keeps every intermediate result of
# every layer. With a padded batch it takes the attention mask along. The vectors it
# computes at padding positions are never used — no real token attends to them — so we
# compare the real tokens, the ones `attention_mask` marks with 1:

# %%
batch = ["the cat sat.", sentence]
inputs = bertsteps.encode(bert, batch)
batch_out = bertsteps.forward(bert, batch)
real = inputs["attention_mask"].bool()  # (batch, seq): True for real tokens

layers = bertsteps.encoder_by_hand(bert, inputs)
for i, step in enumerate(layers):
    torch.testing.assert_close(step.attention.probs, batch_out.attentions[i])
    model_says = batch_out.hidden_states[i + 1]
    torch.testing.assert_close(step.output[real], model_says[real])
last = batch_out.last_hidden_state
torch.testing.assert_close(layers[-1].output[real], last[real])
len(layers), int(real.sum())

# %% [markdown]
# ## How much does each layer change each token?
#
# Thanks to the residual connections, a layer's output is its input plus a change. The
# cosine between a token's vector before and after a layer says how much the layer turned
# it: 1 means the direction did not change at all.

# %%
steps = bertsteps.encoder_by_hand(bert, bertsteps.encode(bert, sentence))
cos = torch.nn.functional.cosine_similarity  # along the hidden axis below
cosines = torch.stack(
    [cos(s.input[0], s.output[0], dim=-1) for s in steps], dim=1
)  # (seq, layers)
layer_names = [f"layer {i + 1}" for i in range(len(steps))]

bertsteps.plot_matrix(
    cosines.cpu(),
    tokens,
    col_labels=layer_names,
    colorbar_label="cosine(layer input, layer output)",
    title="How much each layer turns each token",
    alt=f"Heatmap of the cosine between each token's vector before and after each "
    f"of the {len(steps)} layers, for the {len(tokens)} tokens of '{sentence}'; each "
    f"cell shows its value, from {float(cosines.min()):.2f} to "
    f"{float(cosines.max()):.2f}.",
)

# %% [markdown]
# Each layer has two blocks that change a token; splitting the cosine between them shows
# which one does more, layer by layer (averaged over the tokens):

# %%
after_attention = [
    float(cos(s.input[0], s.attention.output[0], dim=-1).mean()) for s in steps
]
after_feed_forward = [
    float(cos(s.attention.output[0], s.output[0], dim=-1).mean()) for s in steps
]
bertsteps.plot_lines(
    list(range(1, len(steps) + 1)),
    {"attention block": after_attention, "feed-forward block": after_feed_forward},
    xlabel="layer",
    ylabel="mean cosine(block input, block output)",
    title="Which block turns the tokens more",
    alt="Line plot, per layer, of the mean cosine between each block's input and "
    "output: "
    + "; ".join(
        f"layer {i + 1}: attention {att:.2f}, feed-forward {ffn:.2f}"
        for i, (att, ffn) in enumerate(zip(after_attention, after_feed_forward))
    )
    + ".",
)

# %% tags=["hide-input"]
mean_per_layer = cosines.mean(dim=0)
most = int(mean_per_layer.argmin())
token_most = int(cosines.mean(dim=1).argmin())
ffn_more = sum(f < a for a, f in zip(after_attention, after_feed_forward))
Markdown(
    f"In this build, **layer {most + 1}** turns the tokens most (mean cosine "
    f"{float(mean_per_layer[most]):.2f}), and the token turned most across the "
    f"layers is `{tokens[token_most]}` (mean cosine "
    f"{float(cosines[token_most].mean()):.2f}). The feed-forward block turns the "
    f"tokens more than the attention block in {ffn_more} of the {len(steps)} layers."
)

# %% [markdown]
# Every number the encoder produces is now accounted for: embeddings, then, layer after
# layer, attention and feed-forward, each with its residual and LayerNorm.
#
# ## Try it
#
# - Swap `gelu` for `torch.relu` in the layer and see how far `hidden_states[1]` moves.
# - Skip the residual (`layer_norm(projected, ...)`) and compare the cosines above.
# - Plot `step.output.norm(dim=-1)` per layer for a token of your choice.
# - `layers[i].feed_forward.activated` holds the wide activations of layer `i`: which
#   units fire for which token?
# - Run this page with another checkpoint: `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
