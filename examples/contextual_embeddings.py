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
# # Contextual embeddings
#
# In the [word embeddings](../word_embeddings/) chapter every token had exactly one
# vector: its row of the embedding matrix. *Bank* gets the same row in "the bank of the
# river" and in "the bank approved my loan". The encoder's layers change that: each
# layer mixes every token's vector with the vectors of the other tokens in the sentence,
# so that what comes out for *bank* depends on the words around it.
#
# This chapter follows one word through every layer, in sentences where it means
# different things, and measures when (and whether) its vectors drift apart.

# %%
import itertools

import torch
from IPython.display import Markdown, display

import bertsteps

bert = bertsteps.load()
model, config = bert.model, bert.config

# %% [markdown]
# ## One word, every layer
#
# `bertsteps.forward` runs the encoder and keeps `hidden_states`: the output of the
# embedding layer, then the output of each encoder layer. `bertsteps.word_in_context`
# finds a word in a sentence (from the tokenizer's character offsets), runs the encoder,
# and picks that word's vector out of every one of those states. A word that WordPiece
# splits into several tokens gets the mean of its tokens.

# %%
text = "We sat on the bank of the river."
river = bertsteps.word_in_context(bert, text, "bank")
river.tokens, river.positions, river.layers.shape

# %% tags=["hide-input"]
Markdown(
    "`layers` has one row per state: row 0 is the embedding layer's output and rows "
    f"1 to {config.num_hidden_layers} are the outputs of the "
    f"{config.num_hidden_layers} encoder layers of `{bert.name}`, each of size "
    f"{config.hidden_size}. Position "
    f"{river.positions[0]} counts the `{bert.tokenizer.cls_token}` token the tokenizer "
    "puts first."
)

# %% [markdown]
# The helper does nothing we cannot check: its rows are the encoder's own hidden states
# at that position.

# %%
out = bertsteps.forward(bert, river.text)

for layer, state in enumerate(out.hidden_states):
    at_word = state[0, river.positions].mean(dim=0)  # mean over its tokens
    torch.testing.assert_close(river.layers[layer], at_word.cpu())
len(out.hidden_states)

# %% [markdown]
# ## Static, then positional, then contextual
#
# Three sentences with *bank*. The first two begin with exactly the same words, so *bank*
# sits at the same position in both; in the third it comes earlier.

# %%
same_start_river = "In the morning the bank of the river was flooded."
same_start_money = "In the morning the bank opened its doors to customers."
earlier_money = "The bank approved the loan."

words = [
    bertsteps.word_in_context(bert, s, "bank")
    for s in (same_start_river, same_start_money, earlier_money)
]
[w.positions for w in words]

# %% [markdown]
# **The input lookup is static.** Before any layer, *bank* is its row of the word
# embedding matrix, whatever the sentence:

# %%
lookups = []
for w in words:
    ids = bertsteps.encode(bert, w.text)["input_ids"]
    looked_up = model.embeddings.word_embeddings(ids)[0, w.positions]
    lookups.append(looked_up.mean(dim=0).cpu())

static = bertsteps.word_vectors(bert, "bank")[0]  # its row of the matrix
for looked_up in lookups:
    torch.testing.assert_close(looked_up, static)

# %% [markdown]
# **The embedding layer adds position.** Its output (`layers[0]`) combines the word's row
# with a position embedding and a segment embedding and normalises the sum. Same word,
# same position: the same vector, even though the sentences differ. Another position: a
# different vector.

# %%
river_0, money_0, earlier_0 = (w.layers[0] for w in words)

torch.testing.assert_close(river_0, money_0)  # same position: same vector
assert words[0].positions != words[2].positions
assert not torch.allclose(river_0, earlier_0)  # elsewhere: another vector

# %% [markdown]
# **Do the encoder layers add context?** The first two sentences differ only in the
# words *after* *bank*. Every layer lets each token look at the whole sentence, in both
# directions, so after the last layer the first two vectors *can* differ; how far they
# do depends on the weights.

# %%

first_vs = bertsteps.cosine_matrix(torch.stack([w.layers[0] for w in words]))
last_vs = bertsteps.cosine_matrix(torch.stack([w.last for w in words]))
first_vs[0], last_vs[0]

# %% tags=["hide-input"]
Markdown(
    "In this build, after the embedding layer the *bank* of the river and the *bank* "
    f"at another position have a cosine similarity of **{float(first_vs[0, 2]):.3f}**: "
    "position alone moves the vector that far. "
    f"After all {config.num_hidden_layers} layers, the "
    f"two *bank*s with the same first words have **{float(last_vs[0, 1]):.3f}** "
    f"(they started at exactly 1), and the river one and the other "
    f"bank **{float(last_vs[0, 2]):.3f}**."
)

# %% tags=["hide-input"]
same_start_last = float(last_vs[0, 1])
context_claim = bertsteps.claim(
    "layers-add-context",
    same_start_last < 0.999,
    "**The encoder layers add context.** The two *bank*s with the same first words "
    f"started as one vector and end at a cosine similarity of {same_start_last:.3f}: "
    "the words *after* *bank* were different, and BERT reads in both directions.",
    "**Here the encoder layers leave the two vectors equal.** The two *bank*s with the "
    f"same first words started as one vector and still have a cosine similarity of "
    f"{same_start_last:.3f} after the last layer, although the words after *bank* differ: "
    "the layers of this checkpoint add no visible context. What still separates the "
    "third *bank* is its position.",
    measure=f"cosine of the same-start pair at the last layer {same_start_last:.5f} "
    "(1 at layer 0)",
    criterion="below 0.999: at least 0.001 below the 1 the pair starts at",
)
context_claim

# %% [markdown]
# ## Senses across layers
#
# One pair proves little, so we take several sentences per sense, for *bank* and for a
# second ambiguous word, *bat* (the animal, and what you hit a ball with).

# %%
sentences = bertsteps.SENSE_SENTENCES  # word -> sense -> sentences
sentences

# %%
found = {
    word: {
        sense: [bertsteps.word_in_context(bert, s, word) for s in texts]
        for sense, texts in senses.items()
    }
    for word, senses in sentences.items()
}
{w: [len(ws) for ws in senses.values()] for w, senses in found.items()}

# %% [markdown]
# For each word we average the cosine similarity, layer by layer, over all pairs of
# sentences with the **same** sense and over all pairs with **different** senses (the
# first two senses of each word). As a baseline we also compare *bank* with *bat*: two
# different words.


# %%
def cosine_by_layer(pairs):
    """Mean cosine similarity at every layer, over pairs of WordInContext."""
    per_pair = [
        bertsteps.cosine_matrix(x.layers, y.layers).diagonal()  # layer i vs i
        for x, y in pairs
    ]
    return torch.stack(per_pair).mean(dim=0)


series = {}
for word, senses in found.items():
    a, b = list(senses.values())[:2]
    same = [p for ws in (a, b) for p in itertools.combinations(ws, 2)]
    series[f"{word}: same sense"] = cosine_by_layer(same)
    different = itertools.product(a, b)
    series[f"{word}: different senses"] = cosine_by_layer(different)

every_bank = [w for ws in found["bank"].values() for w in ws]
every_bat = [w for ws in found["bat"].values() for w in ws]
baseline = cosine_by_layer(itertools.product(every_bank, every_bat))
series["bank vs bat (baseline)"] = baseline

layers = list(range(config.num_hidden_layers + 1))
bertsteps.plot_lines(
    layers,
    {name: values.tolist() for name, values in series.items()},
    xlabel="layer (0 = output of the embedding layer)",
    ylabel="mean cosine similarity",
    title="The same word in different sentences, layer by layer",
    alt="Line plot of the mean cosine similarity between vectors of the same "
    "word in different sentences at every layer, from the embedding layer "
    "output to the last encoder layer: bank and bat, each for pairs with the "
    "same sense and with different senses, and a baseline comparing bank "
    "with bat.",
)

# %% tags=["hide-input"]
last = config.num_hidden_layers
parts = []
for word in found:
    same, diff = (
        series[f"{word}: same sense"],
        series[f"{word}: different senses"],
    )
    parts.append(
        f"for *{word}*, same-sense pairs go from {float(same[0]):.2f} at layer 0 to "
        f"{float(same[last]):.2f} at layer {last}, different-sense pairs from "
        f"{float(diff[0]):.2f} to {float(diff[last]):.2f}"
    )
low, high = f"{float(baseline.min()):.2f}", f"{float(baseline.max()):.2f}"
Markdown(
    "In this build, "
    + "; ".join(parts)
    + ". The baseline, two different words, "
    + (
        f"stays at {low}."
        if low == high
        else f"stays between {low} and {high}."
    )
    + " At layer 0 a word's vectors differ only by position, so any gap there between the "
    "two kinds of pairs comes from where the word sits in its sentences, not from meaning."
)

# %% tags=["hide-input"]
sense_gaps = {  # same minus different sense, per layer: the measure of the claim
    word: bertsteps.senses_by_layer(*list(senses.values())[:2])
    for word, senses in found.items()
}
for word, g in sense_gaps.items():  # the same numbers as the plot's lines
    torch.testing.assert_close(g.same, series[f"{word}: same sense"])
    torch.testing.assert_close(
        g.different, series[f"{word}: different senses"]
    )
gaps = {word: g.gap for word, g in sense_gaps.items()}
gained = {
    word: g.gained for word, g in sense_gaps.items()
}  # beyond position (layer 0)
widest = {word: g.widest for word, g in sense_gaps.items()}
bertsteps.claim(
    "senses-separate",
    all(g >= 0.02 for g in gained.values()),
    "By the last layer the layers have moved both words' vectors by meaning: the gap "
    "between same-sense and different-sense pairs grew beyond what position gives at "
    "layer 0 ("
    + "; ".join(
        f"*{word}* by {gained[word]:+.3f}, with the widest gap at layer {widest[word]}: "
        f"{float(gaps[word][widest[word]]):+.3f}"
        for word in found
    )
    + ").",
    "The layers do not separate these senses: for at least one word, the gap between "
    "same-sense and different-sense pairs at the last layer is not clearly larger than the "
    "gap that position alone gives at layer 0 ("
    + "; ".join(f"*{word}* {gained[word]:+.3f}" for word in found)
    + ").",
    measure="(same − different mean cosine) at the last layer minus the same at layer 0: "
    + ", ".join(f"{word} {g:+.3f}" for word, g in gained.items()),
    criterion="at least +0.02 for every word",
)

# %% tags=["hide-input"]
margin = {
    name: float((values - baseline).min())
    for name, values in series.items()
    if "baseline" not in name
}
bertsteps.claim(
    "word-above-baseline",
    all(m > 0 for m in margin.values()),
    "Whatever the sense, the vectors of one word stay more alike than the baseline "
    "at every layer: a contextual vector still carries its word.",
    "At some layer the vectors of one word are no more alike than the baseline of two "
    "different words: there, the context has drowned out which word it was.",
    measure="smallest (mean cosine − baseline) over the layers: "
    + ", ".join(f"{name} {m:+.3f}" for name, m in margin.items()),
    criterion="above 0 for every series",
)

# %% [markdown]
# ## A map of senses at the last layer
#
# Now every sentence with *bank*, all its senses, compared pairwise at the last layer.
# If the model separates the senses, blocks of high similarity appear along the
# diagonal, one per sense. The colours span only the range of the values (not $-1$
# to $1$), so that small differences show.

# %% tags=["hide-input"]
labels = [
    f"{sense} {i + 1}"
    for sense, ws in found["bank"].items()
    for i in range(len(ws))
]
Markdown(
    "\n".join(
        f"- **{label}**: {w.text}" for label, w in zip(labels, every_bank)
    )
)

# %%
bank_last = torch.stack([w.last for w in every_bank])  # (sentences, hidden)
senses_matrix = bertsteps.cosine_matrix(bank_last)
lowest = float(senses_matrix.min())

bertsteps.plot_matrix(
    senses_matrix,
    labels,
    title=f"bank at layer {config.num_hidden_layers}",
    vmin=min(lowest, 0.999),  # colours span the values: small gaps show
    vmax=1.0,
    alt="Heatmap of the cosine similarity between the last-layer vectors of "
    f"bank in {len(labels)} sentences, grouped by sense ("
    + ", ".join(f"{len(ws)} {sense}" for sense, ws in found["bank"].items())
    + ").",
)

# %% tags=["hide-input"]
kinds = [sense for sense, ws in found["bank"].items() for _ in ws]
n = len(kinds)
last_sort = bertsteps.sense_sorting(bank_last, kinds)
first_sort = bertsteps.sense_sorting(
    torch.stack([w.layers[0] for w in every_bank]), kinds
)
within, across, right = last_sort.within, last_sort.across, last_sort.right
within_0, across_0 = first_sort.within, first_sort.across
beyond_position = last_sort.margin - first_sort.margin
display(
    Markdown(
        f"In this build, pairs with the same sense average **{within:.2f}** and pairs with "
        f"different senses **{across:.2f}** (at layer 0, where only position differs: "
        f"{within_0:.2f} and {across_0:.2f}). For **{right} of the {n}** sentences, the most "
        "similar other sentence uses *bank* in the same sense."
    )
)
# Cells that show 1.00 off the diagonal: are they pairs where bank sits at the same position?
shown_one = [
    (a, b)
    for a, b in itertools.combinations(range(n), 2)
    if float(senses_matrix[a, b]) >= 0.995
]
same_place = [
    (a, b)
    for a, b in shown_one
    if every_bank[a].positions == every_bank[b].positions
]
bertsteps.claim(
    "ones-from-position",
    bool(shown_one) and len(same_place) == len(shown_one),
    "The cells that show 1.00 off the diagonal ("
    + "; ".join(f"{labels[a]} and {labels[b]}" for a, b in shown_one)
    + ") pair sentences in which *bank* sits at the same position. The layers left those "
    "vectors equal, so these cells come from position alone, not from a shared sense: "
    "they are not a cluster of meaning.",
    (
        "No cell off the diagonal shows 1.00: every pair of sentences leaves the two "
        "*bank*s at least a little apart."
        if not shown_one
        else "Some cells off the diagonal show 1.00 for sentences in which *bank* sits at "
        "different positions ("
        + "; ".join(
            f"{labels[a]} and {labels[b]}"
            for a, b in shown_one
            if (a, b) not in same_place
        )
        + "): something other than position made those vectors alike."
    ),
    measure=f"{len(shown_one)} off-diagonal pairs with cosine ≥ 0.995 at the last layer, "
    f"{len(same_place)} of them with *bank* at the same position",
    criterion="at least one such pair, and every one of them with bank at the same position",
)

# %% tags=["hide-input"]
bertsteps.claim(
    "bank-sorted-by-meaning",
    right == n and beyond_position >= 0.02,
    "The last layer sorts these sentences by meaning: every sentence's nearest neighbour "
    "uses *bank* in the same sense, and same-sense pairs are closer than different-sense "
    f"pairs by {beyond_position:+.3f} more than position alone makes them at layer 0.",
    "The last layer does not cleanly sort these sentences by meaning: "
    + (
        f"only {right} of the {n} nearest neighbours share the sense"
        if right < n
        else "every nearest neighbour shares the sense"
    )
    + f", and same-sense pairs gain {beyond_position:+.3f} over different-sense pairs "
    "beyond what position gives at layer 0.",
    measure=f"{right} of {n} nearest neighbours share the sense; "
    f"(within − across) at the last layer {within - across:+.3f}, at layer 0 "
    f"{within_0 - across_0:+.3f}, difference {beyond_position:+.3f}",
    criterion="all nearest neighbours share the sense and the difference is at least +0.02",
)

# %% [markdown]
# Word order and shared words also pull vectors together, so a high value can come from
# two sentences that look alike as well as from two that mean alike.

# %% [markdown]
# ## Try it
#
# - Add sentences to `sentences`, or a new word with several senses (*spring*, *plant*,
#   *bark*), and redraw both plots.
# - `bertsteps.word_in_context(bert, text, word, occurrence=1)` picks the second time a
#   word appears: compare *bank* with itself in "the bank by the bank".
# - Compare a word split into pieces (try *tokenize*): its vector is the mean of its
#   pieces at every layer.
# - Run this page with a random checkpoint (`BERTSTEPS_CHECKPOINT=/path/to/random-bert`):
#   every assertion still holds, because they check how the model computes, not what
#   it has learned — and every sentence about senses switches to its other version.
