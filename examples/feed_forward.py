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
from transformers.activations import (
    ACT2FN,
)  # the table transformers looks it up in

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
    alt=f"Line plot of the {config.hidden_act} activation and of ReLU "
    "for inputs from -4 to 4.",
)

# %% tags=["hide-input"]
negative = float((h < 0).float().mean())
small = float((activated.abs() < 0.1).float().mean())
bertsteps.claim(
    "ffn-mostly-off",
    negative >= 0.6,
    f"On our sentence, {negative:.0%} of the {h.numel():,} intermediate values are "
    f"negative before the activation, where GELU gives between −0.17 and 0 (after it, {small:.0%} "
    "are within 0.1 of zero): each token switches on only part of the wide layer.",
    f"On our sentence, {negative:.0%} of the {h.numel():,} intermediate values are "
    "negative before the activation, about the half that weights scattered evenly around "
    "zero give: here there is no sign that a token switches on only part of the wide layer.",
    measure=f"share of intermediate values below 0 before the activation: {negative:.3f}",
    criterion="at least 0.6 (weights spread evenly around zero give about 0.5)",
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
# ## Post-LN: every sum goes through a LayerNorm
#
# A BERT layer is *post-LN*: each block's change is added to the block's input, and the
# sum goes through a LayerNorm before anything else sees it. With $x$ the layer's input,
#
# $$
# h = \text{LayerNorm}_1\big(x + \text{attention}(x)\big), \qquad
# \text{output} = \text{LayerNorm}_2\big(h + \text{feed-forward}(h)\big).
# $$
#
# So a layer's output is its input plus the two changes only if the LayerNorms leave the
# sums nearly as they are: each LayerNorm re-centres and rescales its sum, then applies its
# own weight γ and bias β. We rebuild each layer's output from the two changes the by-hand
# steps kept (`projected`: what each block adds) and the two LayerNorms, and land on the
# model's hidden states; then we measure how far "input plus changes" would have been
# from them.

# %%
steps = bertsteps.encoder_by_hand(bert, bertsteps.encode(bert, sentence))
gap = []
for i, (s, layer_i) in enumerate(zip(steps, bert.model.encoder.layer)):
    x, attn_change, ffn_change = (
        s.input,
        s.attention.projected,
        s.feed_forward.projected,
    )
    norm_1, norm_2 = (
        layer_i.attention.output.LayerNorm,
        layer_i.output.LayerNorm,
    )
    h = by_hand.layer_norm(
        x + attn_change, norm_1.weight, norm_1.bias, norm_1.eps
    )
    layer_out = by_hand.layer_norm(
        h + ffn_change, norm_2.weight, norm_2.bias, norm_2.eps
    )
    torch.testing.assert_close(
        layer_out, out.hidden_states[i + 1]
    )  # post-LN: exact

    plus_changes = (
        x + attn_change + ffn_change
    )  # what a plain residual sum would give
    gap.append(
        float(
            (
                (plus_changes - layer_out).norm(dim=-1)
                / layer_out.norm(dim=-1)
            ).mean()
        )
    )
[round(g, 3) for g in gap]

# %% tags=["hide-input"]
bertsteps.claim(
    "layernorm-matters",
    min(gap) >= 0.1,
    "The list above is, per layer, how far *input plus the two changes* lies from the "
    "layer's real output, as a fraction of the output's length (averaged over the "
    f"tokens): from {min(gap):.2f} to {max(gap):.2f} in this build. So a layer's output "
    "is **not** its input plus a change: in every layer the LayerNorms move the sum a long "
    "way; they are part of what a layer does, not a detail.",
    "The list above is, per layer, how far *input plus the two changes* lies from the "
    "layer's real output, as a fraction of the output's length (averaged over the "
    f"tokens): from {min(gap):.3f} to {max(gap):.3f} in this build. "
    + (
        "In every layer of this checkpoint the LayerNorms hardly move the sum: here a "
        "layer's output is nearly its input plus the two changes."
        if max(gap) < 0.1
        else f"In {sum(g < 0.1 for g in gap)} of the {len(gap)} layers of this checkpoint "
        "the LayerNorms hardly move the sum: there, input plus changes is nearly the output."
    ),
    measure="mean |(x + changes) − output| / |output| per layer: "
    + ", ".join(f"{g:.3f}" for g in gap),
    criterion="at least 0.1 in every layer",
)

# %% [markdown]
# ## How much does each layer change each token?
#
# Two measures, kept apart because they see different things
# (`bertsteps.layer_changes` computes both):
#
# - the **cosine between a token's vector before and after a layer**. Both vectors are
#   LayerNorm outputs, so their lengths do not matter; but the cosine includes what the
#   LayerNorms' weights γ and biases β do, on top of the blocks' changes. 1 means the
#   direction did not change at all;
# - the **relative size of each block's change**, before its LayerNorm: the length of what
#   the block adds divided by the length of the vector it is added to. It sees only the
#   block.

# %%
changes = bertsteps.layer_changes(steps)  # each (layers, seq)
layer_names = [f"layer {i + 1}" for i in range(len(steps))]
cosines = changes.cosine.T  # (seq, layers)

bertsteps.plot_matrix(
    cosines.cpu(),
    tokens,
    col_labels=layer_names,
    colorbar_label="cosine(layer input, layer output)",
    title="How much each layer turns each token",
    alt=f"Heatmap of the cosine between each token's vector before and "
    f"after each of the {len(steps)} layers, for the {len(tokens)} tokens "
    f"of '{sentence}', from {float(cosines.min()):.2f} to "
    f"{float(cosines.max()):.2f}.",
)

# %% [markdown]
# Each layer has two blocks that change a token. The relative size of each block's change,
# layer by layer (averaged over the tokens):

# %%
attention_size = changes.attention.mean(dim=1).tolist()
feed_forward_size = changes.feed_forward.mean(dim=1).tolist()
bertsteps.plot_lines(
    list(range(1, len(steps) + 1)),
    {
        "attention block": attention_size,
        "feed-forward block": feed_forward_size,
    },
    xlabel="layer",
    ylabel="mean |change| / |block input|",
    title="How large a change each block adds",
    alt="Line plot, per layer, of the mean length of each block's change "
    "divided by the length of the block's input: "
    + "; ".join(
        f"layer {i + 1}: attention {att:.2f}, feed-forward {ffn:.2f}"
        for i, (att, ffn) in enumerate(zip(attention_size, feed_forward_size))
    )
    + ".",
)

# %% tags=["hide-input"]
turn = 1 - changes.cosine.mean(dim=1)  # (layers,): mean turn per layer
order = turn.argsort(descending=True).tolist()
most, runner_up = order[0], order[1] if len(order) > 1 else order[0]
token_most = int(cosines.mean(dim=1).argmin())
stands_out = float(turn[most]) >= 0.05 and (
    len(order) == 1 or float(turn[most]) >= 1.5 * float(turn[runner_up])
)
bertsteps.claim(
    "one-layer-turns-most",
    stands_out,
    f"**Layer {most + 1}** turns the tokens far more than any other: its mean cosine "
    f"between input and output is {float(changes.cosine[most].mean()):.2f}, against "
    f"{float(changes.cosine[runner_up].mean()):.2f} for the next, layer {runner_up + 1}. "
    f"Across all layers, the token turned most is `{tokens[token_most]}` (mean cosine "
    f"{float(cosines[token_most].mean()):.2f}).",
    "No layer stands out: the mean cosine between a token's vector before and after a "
    f"layer ranges from {float(changes.cosine.mean(dim=1).min()):.3f} to "
    f"{float(changes.cosine.mean(dim=1).max()):.3f} over the {len(steps)} layers.",
    measure="mean turn (1 − cosine) per layer: "
    + ", ".join(f"layer {i + 1} {float(t):.3f}" for i, t in enumerate(turn)),
    criterion="the largest mean turn is at least 0.05 and at least 1.5 times the second largest",
)

# %% tags=["hide-input"]
smallest = min(*attention_size, *feed_forward_size)
ffn_more = sum(f > a for a, f in zip(attention_size, feed_forward_size))
bertsteps.claim(
    "blocks-change-substantially",
    smallest >= 0.1,
    "In every layer, both blocks add a change at least a tenth as long as the vector it "
    f"is added to (the smallest mean is {smallest:.2f}): the changes are a large part of "
    "each sum, not small corrections. "
    f"The feed-forward block adds the larger change in {ffn_more} of the {len(steps)} layers.",
    f"In at least one layer a block adds a change shorter than a tenth of the vector it is "
    f"added to (the smallest mean is {smallest:.3f}): there the blocks barely change the "
    "tokens, and the layer passes its input on almost as it came. "
    f"The feed-forward block adds the larger change in {ffn_more} of the {len(steps)} layers.",
    measure="mean |change| / |block input| per layer, attention: "
    + ", ".join(f"{a:.3f}" for a in attention_size)
    + "; feed-forward: "
    + ", ".join(f"{f:.3f}" for f in feed_forward_size),
    criterion="every layer's mean relative change is at least 0.1 for both blocks",
)

# %% [markdown]
# ## The pooler
#
# `bert.model` may end with one more module, the *pooler*: a dense layer and a tanh applied
# to the last layer's vector of the first token, `[CLS]`. In **bert-base-uncased** it was
# trained by next-sentence prediction, where a classifier on the pooler's output said
# whether the second sentence followed the first; classifiers fine-tuned from BERT often
# start from it. The model returns it as `pooler_output`. Sentence-embedding models such
# as the bundled default take the mean of the last layer's token vectors instead.

# %%
pooler = bert.model.pooler  # None when the checkpoint holds no pooler weights
if pooler is not None:
    pooled = bertsteps.pooler_by_hand(pooler, out.last_hidden_state)
    torch.testing.assert_close(
        pooled.first, out.last_hidden_state[:, 0]
    )  # [CLS]
    torch.testing.assert_close(pooled.output, out.pooler_output)
    print(pooler, tuple(pooled.output.shape))
else:
    print(
        f"{bert.name}: no pooler weights, so no pooler was built; "
        f"pooler_output is {out.pooler_output}"
    )

# %% tags=["hide-input"]
if pooler is not None:
    bias = pooler.dense.bias
    result = bertsteps.claim(
        "pooler-trained",
        bool((bias != 0).any()),
        f"The pooler of `{bert.name}` shows signs of training: its {bias.numel()} biases "
        f"are no longer all zero, where BERT's initialisation sets them (largest "
        f"{float(bias.abs().max()):.3f}).",
        f"The pooler of `{bert.name}` shows no sign of training: its {bias.numel()} biases "
        "are all exactly zero, as BERT's initialisation sets them. Its output is computed "
        "because the weights are in the file, but nothing on it was learned.",
        measure=f"largest |bias| of the pooler's dense layer: {float(bias.abs().max()):.3g}",
        criterion="at least one bias of the pooler's dense layer differs from 0",
    )
else:
    result = Markdown(
        f"`{bert.name}` holds no pooler weights, so the model has no pooler."
    )
result

# %% tags=["hide-input"]
Markdown(
    "Every number of `last_hidden_state` is now accounted for: embeddings, then, layer "
    "after layer, attention and feed-forward, each with its residual and LayerNorm"
    + (
        ", and so is the pooler's `pooler_output` on top of it."
        if pooler is not None
        else ". This checkpoint has no pooler, so there is no `pooler_output`."
    )
)

# %% [markdown]
# ## Try it
#
# - Swap `gelu` for `torch.relu` in the layer and see how far `hidden_states[1]` moves.
# - Skip the residual (`layer_norm(projected, ...)`) and compare the cosines above.
# - Drop the LayerNorms (`x + attn_change + ffn_change`) for every layer and see how far
#   the last hidden state ends up from the model's.
# - Plot `step.output.norm(dim=-1)` per layer for a token of your choice.
# - `layers[i].feed_forward.activated` holds the wide activations of layer `i`: which
#   units fire for which token?
# - Run this page with another checkpoint: `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
