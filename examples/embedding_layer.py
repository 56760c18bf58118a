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
# # The embedding layer
#
# The [word embeddings](../word_embeddings/) chapter gave every token one row of a
# matrix. That row alone cannot be what BERT starts from: it is the same wherever the
# word stands, and attention, which the layers above are built on, does not look at
# order by itself. So BERT's embedding layer adds two more lookups before anything else
# happens:
#
# - a **word** embedding: one row per vocabulary id;
# - a **position** embedding: one row per position in the input, counted from the start;
# - a **token-type** (segment) embedding: one row for the first sentence of a pair, one
#   for the second.
#
# The three vectors are summed, and the sum is normalised with **LayerNorm**. (The layer
# also has dropout, which does nothing in eval mode.) This chapter recomputes all of it
# by hand and checks it against the model.

# %%
import torch

import bertsteps

bert = bertsteps.load()
model, config = bert.model, bert.config
embeddings = model.embeddings
embeddings

# %% tags=["hide-input"]
from IPython.display import Markdown, display

Markdown(
    f"In **`{bert.name}`** the three tables have {config.vocab_size:,}, "
    f"{config.max_position_embeddings} and {config.type_vocab_size} rows, each of "
    f"{config.hidden_size} numbers; the LayerNorm has {config.hidden_size} scales, "
    f"{config.hidden_size} shifts, and $\\varepsilon$ = `{config.layer_norm_eps:g}`. "
    f"The model is in {'training' if model.training else 'eval'} mode, so its dropout "
    f"(p = {embeddings.dropout.p}) passes values through unchanged."
)

# %% [markdown]
# ## The inputs: a sentence pair
#
# A pair shows all three lookups at work: `input_ids` choose word rows, the position of
# each token chooses a position row, and `token_type_ids` (0 for the first sentence, 1
# for the second) choose a token-type row.

# %%
text, text_pair = "the bank of the river", "the bank raised its rates"
inputs = bertsteps.encode(bert, text, text_pair)
input_ids, token_type_ids = inputs["input_ids"], inputs["token_type_ids"]
tokens = bert.tokenizer.convert_ids_to_tokens(input_ids[0])

list(zip(tokens, token_type_ids[0].tolist(), strict=True))

# %% [markdown]
# ## Three lookups and a sum
#
# For the token at position $t$, with id $i_t$ and type $s_t$, the input to LayerNorm is
#
# $$
# \mathbf{x}_t = W_{\text{word}}[i_t] + W_{\text{pos}}[t] + W_{\text{type}}[s_t].
# $$
#
# Indexing a weight matrix with a tensor of ids picks those rows, so the sum is one line:

# %%
word_table = embeddings.word_embeddings.weight  # (vocab, hidden)
position_table = embeddings.position_embeddings.weight  # (max_pos, hidden)
type_table = embeddings.token_type_embeddings.weight  # (types, hidden)

positions = torch.arange(input_ids.shape[1], device=bert.device)
summed = (
    word_table[input_ids]
    + position_table[positions]
    + type_table[token_type_ids]
)
summed.shape  # (batch, seq_len, hidden_size)

# %% [markdown]
# To see that this is what the model computes, we catch the tensor that actually goes
# into the model's LayerNorm with a forward hook, and compare:

# %%
caught = {}
hook = embeddings.LayerNorm.register_forward_hook(
    lambda module, args, output: caught.update(layer_norm_input=args[0])
)
with torch.inference_mode():
    model_output = embeddings(
        input_ids=input_ids, token_type_ids=token_type_ids
    )
hook.remove()

torch.testing.assert_close(summed, caught["layer_norm_input"])

# %% [markdown]
# ## LayerNorm, by hand
#
# LayerNorm works on each token's vector $\mathbf{x}$ of $d$ numbers on its own. It
# subtracts the mean, divides by the standard deviation (with a small $\varepsilon$
# so it never divides by zero), then scales every coordinate by its weight
# $\gamma_j$ and shifts it by its bias $\beta_j$:
#
# $$
# \mu = \frac{1}{d} \sum_{j=1}^{d} x_j
# $$
#
# $$
# \sigma^2 = \frac{1}{d} \sum_{j=1}^{d} (x_j - \mu)^2
# $$
#
# $$
# y_j = \gamma_j \, \frac{x_j - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta_j
# $$
#
# The variance divides by $d$, not $d - 1$. In code, over the last dimension:

# %%
gamma, beta = embeddings.LayerNorm.weight, embeddings.LayerNorm.bias
eps = embeddings.LayerNorm.eps

mean = summed.mean(dim=-1, keepdim=True)
variance = ((summed - mean) ** 2).mean(dim=-1, keepdim=True)
normalised = (summed - mean) / torch.sqrt(variance + eps)
by_hand = gamma * normalised + beta

torch.testing.assert_close(by_hand, model_output)
by_hand.shape

# %% [markdown]
# The same tensor is the first entry of `hidden_states` when the whole encoder runs:
# `hidden_states[0]` is the embedding layer's output, the input to the first layer.

# %%
output = bertsteps.forward(bert, text, text_pair)
torch.testing.assert_close(by_hand, output.hidden_states[0])
len(output.hidden_states), output.hidden_states[0].shape

# %% [markdown]
# After LayerNorm every token vector has mean $0$ and standard deviation $1$ *before*
# the scale and shift, whatever the sizes of the three parts were:

# %%
first_tokens = normalised[0, :4]
first_tokens.mean(dim=-1), first_tokens.std(dim=-1, unbiased=False)

# %% [markdown]
# ## The same word, two vectors
#
# In the word-embedding matrix, a word has one row. After the embedding layer, the same
# word at two positions has two different vectors. Before LayerNorm, the difference
# between them is *exactly* the difference between the two position rows: the word
# rows cancel, and so do the token-type rows when both tokens are in the same sentence.

# %%
ids, types = input_ids[0].tolist(), token_type_ids[0].tolist()
i, j = next(
    (i, j)
    for i in range(len(ids))
    for j in range(i + 1, len(ids))
    if ids[i] == ids[j] and types[i] == types[j]
)
x = caught["layer_norm_input"][0]  # the model's own sum, before LayerNorm

torch.testing.assert_close(x[i] - x[j], position_table[i] - position_table[j])
tokens[i], i, tokens[j], j

# %% tags=["hide-input"]
after = output.hidden_states[0][0]
cos_after = float(
    torch.nn.functional.cosine_similarity(after[i], after[j], dim=0)
)
distance = float((after[i] - after[j]).norm())
bertsteps.claim(
    "same-word-two-vectors",
    cos_after < 0.999,
    f"*{tokens[i]}* at position {i} and *{tokens[j]}* at position {j} share their word "
    f"row and their token type; after the embedding layer the two vectors have a cosine "
    f"similarity of **{cos_after:.3f}** and lie {distance:.2f} apart. The layers above can "
    "tell them apart before they have looked at any context.",
    f"*{tokens[i]}* at position {i} and *{tokens[j]}* at position {j} share their word "
    f"row and their token type; after the embedding layer the two vectors have a cosine "
    f"similarity of **{cos_after:.3f}**: their position rows barely move them apart.",
    measure=f"cosine {cos_after:.4f} and distance {distance:.3f} between the two output vectors",
    criterion="cosine below 0.999, so the two vectors are not the same direction",
)

# %% [markdown]
# ## The position rows, side by side
#
# Nothing in the architecture says which positions are next to each other: a position
# row is a weight like any other, set by training (or, in an untrained checkpoint, drawn
# at random). If the rows of nearby positions ended up alike, attention can use that to
# treat *next to* differently from *far from*. We compare the rows two ways: cell by
# cell for the first positions, and as one number per distance.

# %%
n = min(64, config.max_position_embeddings)
position_cos = bertsteps.cosine_matrix(position_table[:n])

bertsteps.plot_matrix(
    position_cos,
    [str(p) for p in range(n)],
    show_values=False,
    title=f"Cosine similarity of position embeddings 0 to {n - 1}",
    colorbar_label="cosine similarity",
    max_ticks=16,
    alt=f"Heatmap of the cosine similarity between the first {n} position "
    f"embeddings of {bert.name}, positions 0 to {n - 1} on both axes; the "
    "diagonal, each position with itself, is 1.",
)

# %% [markdown]
# The cells one step off the diagonal pair every position $t$ with $t + 1$, the next
# line $t$ with $t + 2$, and so on. Averaging each such line over *all* the position rows
# gives one number per **offset** $k$: the mean cosine of rows $t$ and $t + k$.
# `bertsteps.offset_cosines` computes it for $k$ from 0 to half the number of rows (so
# every offset averages at least that many pairs); for one offset we redo it by hand
# from the full matrix.

# %%
curve = bertsteps.offset_cosines(
    position_table
)  # offsets 0 .. max_positions // 2
all_cos = bertsteps.cosine_matrix(
    position_table
)  # every position with every other

k = 3
torch.testing.assert_close(curve[k].float(), torch.diagonal(all_cos, k).mean())
len(curve), [round(float(c), 2) for c in curve[:8]]

# %%
from bertsteps.positions import ripple_reach

shape = bertsteps.offset_shape(
    curve
)  # reads the curve with stated tests, below
reach = ripple_reach(
    curve, shape.period
)  # how far from offset 1 the ripple holds, window by window
rippling = f"a ripple every {shape.period} offsets" + (
    f" up to about offset {reach}" if 0 < reach < shape.max_offset else ""
)
# The same reading, in words, for the figure's text alternative.
curve_phrase = {
    "falls with ripples": f"falls with distance, with {rippling}",
    "falls": "falls with distance",
    "ripples": f"does not fall, but shows {rippling}",
    "flat": "stays close to 0 at every offset",
    "no clear shape": "has no clear shape",
}[shape.shape]

bertsteps.plot_lines(
    range(len(curve)),
    {
        "mean cosine": curve.tolist(),
        "moving average (9 offsets)": shape.trend.tolist(),
    },
    xlabel="offset k: how many positions apart",
    ylabel="mean cosine of rows t and t + k",
    title="Position embeddings: similarity against distance",
    alt=f"Line plot of the mean cosine similarity between position rows "
    f"t and t + k of {bert.name}, for offsets k from 0 to "
    f"{shape.max_offset}, with its moving average. "
    f"It starts at 1 for k = 0; after that it {curve_phrase}.",
)

# %% tags=["hide-input"]
lo, hi = shape.far_range
beyond = shape.curve[shape.fallen_by :] if shape.fallen_by else shape.curve[1:]
settled = (
    f"Only from offset **{shape.fallen_by}** on does the curve stay below "
    f"{shape.midpoint:.2f}, halfway between the two; from there it wanders between "
    f"{float(beyond.min()):.2f} and {float(beyond.max()):.2f}. "
    if shape.fallen_by
    else ""
)
bertsteps.claim(
    "position-falls",
    shape.falls,
    f"**Similarity falls with distance.** Positions one apart have a mean cosine of "
    f"**{shape.near:.2f}**, positions {lo} to {hi} apart **{shape.far:.2f}** on average, "
    f"and the rank correlation of offset with mean cosine is {shape.rho:.2f}. "
    + settled
    + "The heatmap shows the same fall as the band along its diagonal: nearby positions "
    "have similar rows, so attention can treat *next to* differently from *far from* "
    "without being told what order means.",
    f"**Similarity does not fall steadily with distance** here: positions one apart have "
    f"a mean cosine of {shape.near:.2f}, positions {lo} to {hi} apart {shape.far:.2f}, and "
    f"the rank correlation of offset with mean cosine is {shape.rho:.2f}. There is no band "
    "along the diagonal of the heatmap from which attention could read *next to*.",
    measure=shape.measures()["falls"],
    criterion=shape.criteria()["falls"],
)

# %% tags=["hide-input"]
p = shape.period
on_beat = [p * m for m in (1, 2, 3) if p * m <= shape.max_offset]
off_beat = [
    p * m + p // 2 for m in (0, 1, 2) if p * m + p // 2 <= shape.max_offset
]


def values_at(offsets: list[int]) -> str:
    return ", ".join(f"{float(curve[o]):.2f}" for o in offsets)


span = (
    "over the whole curve"
    if reach >= shape.max_offset
    else f"clearly from offset 1 to about **{reach}**; beyond that, stretches of {4 * p} "
    "offsets no longer all show it"
    if reach
    else "although no single stretch of it shows the ripple clearly"
)


bertsteps.claim(
    "position-ripples",
    shape.ripples,
    ("It does not fall smoothly, though: " if shape.falls else "")
    + f"**the curve ripples**, rising and falling again every **{p} positions**, {span}. "
    f"With its moving average taken away, what is left correlates {shape.ripple_r:.2f} "
    f"with itself shifted by {p} offsets. Offsets {', '.join(map(str, on_beat))} have mean cosines "
    f"{values_at(on_beat)}; offsets {', '.join(map(str, off_beat))}, between them, "
    f"{values_at(off_beat)}. In the heatmap the ripple shows as stripes parallel to the "
    "diagonal.",
    "The curve has **no regular ripple**: with its moving average taken away, what is "
    "left does not come back to itself at any shift (the best, "
    + (
        f"at {p} offsets, correlates {shape.ripple_r:.2f})."
        if p
        else "none, never turns negative)."
    ),
    measure=shape.measures()["ripples"]
    + (
        f"; window by window ({4 * p} offsets each, from offset 1), the ripple holds "
        + (f"up to offset {reach}" if reach else "in no window")
        if p
        else ""
    ),
    criterion=shape.criteria()["ripples"],
)

# %% tags=["hide-input"]
from bertsteps.positions import FLAT_LIMIT

bertsteps.claim(
    "position-rows-unrelated",
    shape.flat,
    f"Every mean cosine beyond offset 0 lies within ±{FLAT_LIMIT} (the largest is "
    f"{shape.largest:.3f}): the position rows are about as unrelated to each other as "
    "rows drawn at random. They tell positions apart, but say nothing about which are "
    "near and which are far.",
    f"Mean cosines beyond offset 0 reach **{shape.largest:.2f}**, far outside the ±{FLAT_LIMIT} "
    "that unrelated rows would give: the position rows are not independent of each "
    "other.",
    measure=shape.measures()["flat"],
    criterion=shape.criteria()["flat"],
)

# %% [markdown]
# ## How big are the three parts?
#
# A sum is dominated by its biggest terms. The mean length (L2 norm) of the rows of
# each table, and of the vectors before and after LayerNorm for our sentence pair:


# %% tags=["hide-input"]
def mean_norm(vectors: torch.Tensor) -> float:
    return float(vectors.norm(dim=-1).mean())


parts = {
    "word rows": word_table,
    "position rows": position_table,
    "token-type rows": type_table,
    "sum (our pair)": summed[0],
    "after LayerNorm": by_hand[0],
}
norms = {name: mean_norm(vectors) for name, vectors in parts.items()}
biggest = max(list(norms)[:3], key=norms.get)
position_norms = position_table.norm(dim=-1)
top = int(position_norms.argmax())
median_norm = float(position_norms.median())
ratio = float(position_norms[top]) / median_norm
display(
    Markdown(
        "| vectors | mean norm |\n| --- | ---: |\n"
        + "\n".join(
            f"| {name} ({parts[name].shape[0]:,}) | {value:.3f} |"
            for name, value in norms.items()
        )
    )
)
by_length = sorted(list(norms)[:3], key=norms.get, reverse=True)
lead = norms[by_length[0]] / norms[by_length[1]]
display(
    bertsteps.claim(
        "one-part-longest",
        lead >= 1.5,
        f"In this build the **{biggest}** are the longest part of the sum, "
        f"{lead:.1f} times as long as the {by_length[1]}. LayerNorm then sets every vector's "
        "scale, whatever the sum's was: after it, the length depends only on the LayerNorm's "
        "$\\gamma$ and $\\beta$ and on the direction of the sum.",
        "In this build the three parts are about equally long "
        + f"({', '.join(f'{name} {norms[name]:.3f}' for name in by_length)}): none dominates "
        "the sum. LayerNorm then sets every vector's scale, whatever the sum's was: after it, "
        "the length depends only on the LayerNorm's $\\gamma$ and $\\beta$ and on the "
        "direction of the sum.",
        measure=f"mean row norms: {', '.join(f'{name} {norms[name]:.3f}' for name in by_length)}; "
        f"longest / next {lead:.2f}",
        criterion="the longest part at least 1.5 times as long as the next",
    )
)
bertsteps.claim(
    "position-zero-longest",
    top == 0 and ratio >= 2,
    f"Among the position rows, the longest is position **0** "
    f"({float(position_norms[0]):.2f}, {ratio:.1f} times the median of {median_norm:.2f}): "
    "the position of `[CLS]` in every input stands out from all the others.",
    f"Among the position rows, the longest is position **{top}** "
    f"({float(position_norms[top]):.2f}, {ratio:.1f} times the median of {median_norm:.2f}): "
    "no row stands out by its length, not even position 0, where `[CLS]` always sits.",
    measure=f"longest position row: {top}, norm {float(position_norms[top]):.3f}; "
    f"median norm {median_norm:.3f}; ratio {ratio:.2f}",
    criterion="the longest row is position 0 and at least twice the median length",
)

# %% [markdown]
# ## Try it
#
# - Swap `text` and `text_pair`: which rows of the table change, and which stay?
# - Feed the same pair with `token_type_ids` all zero: how far does `hidden_states[0]`
#   move?
# - Draw the cosine matrix of more position rows, up to `config.max_position_embeddings`.
# - Set `gamma` to ones and `beta` to zeros in the hand-made LayerNorm: every vector then
#   has length $\sqrt{d}$. Check it with `normalised.norm(dim=-1)`.
