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
# # Exploring the embedding space
#
# The [word embeddings](../word_embeddings/) chapter compared eight words with each
# other. This one looks at all of them at once: the whole vocabulary is a cloud of
# points, one per token, and we ask what lives near what. We look up the nearest
# neighbours of a few words and recompute them by hand, try the famous
# *man : king :: woman : ?* arithmetic and count where it fails, flatten the cloud to
# two dimensions for a picture, and see where the `##` pieces of split words sit.
#
# Everything here uses the *input* embeddings: the rows of the matrix that the model
# starts from, before any context.

# %%
import math
import re

import torch
from IPython.display import Markdown

import bertsteps
from bertsteps.clusters import HUB_FACTOR, group_agreement, k_occurrence
from bertsteps.similarity import candidate_mask, excluded_ids, unit_embeddings

bert = bertsteps.load()
tokenizer, config = bert.tokenizer, bert.config
E = bert.embedding_matrix  # (vocab_size, hidden_size), one row per token
E.shape

# %% tags=["hide-input"]
Markdown(
    f"With **`{bert.name}`** the space has {E.shape[0]:,} points in {E.shape[1]} "
    "dimensions. Some rows are not words at all: special tokens such as "
    f"`{tokenizer.cls_token}` and `{tokenizer.pad_token}` and placeholders such as "
    f"`[unused0]`. `bertsteps` never offers those {len(excluded_ids(bert)):,} rows as "
    "neighbours."
)

# %% [markdown]
# ## Nearest neighbours
#
# `bertsteps.nearest` ranks every token of the vocabulary by its cosine similarity to a
# word and returns the top `k`, leaving out the word itself and the special tokens.

# %%
queries = ["king", "paris", "seven", "dog", "apple"]
neighbours = {q: bertsteps.nearest(bert, q, k=5) for q in queries}
neighbours["king"][:2]

# %% tags=["hide-input"]
header = "| word | nearest tokens (cosine similarity) |\n| --- | --- |\n"
rows = "".join(
    f"| **{q}** | "
    + ", ".join(f"{n.token} ({n.score:.2f})" for n in ns)
    + " |\n"
    for q, ns in neighbours.items()
)
Markdown(header + rows)

# %% [markdown]
# ### The same ranking, by hand
#
# Nothing magic happens inside `nearest`: it is one row of cosines against the whole
# matrix, with the forbidden rows set to $-\infty$, and a `topk`. We redo it for *king*
# with `bertsteps.cosine_matrix` and compare token by token and score by score.

# %%
query_id = tokenizer.convert_tokens_to_ids("king")

scores = bertsteps.cosine_matrix(E[query_id], E)[0]  # (vocab_size,)
scores[excluded_ids(bert)] = -math.inf  # no [CLS], [PAD], [unused...]
scores[query_id] = -math.inf  # not the word itself
top = torch.topk(scores, k=5)

by_hand = tokenizer.convert_ids_to_tokens(top.indices.tolist())
assert by_hand == [n.token for n in neighbours["king"]]
library_scores = torch.tensor([n.score for n in neighbours["king"]])
torch.testing.assert_close(top.values, library_scores)
by_hand

# %% [markdown]
# And the top score is nothing but the cosine of two rows of the matrix,
# $\mathbf{a} \cdot \mathbf{b} / (\|\mathbf{a}\| \|\mathbf{b}\|)$:

# %%
a, b = E[query_id], E[top.indices[0]]
cosine = a @ b / (a.norm() * b.norm())

torch.testing.assert_close(cosine.cpu(), top.values[0])
float(cosine)


# %% tags=["hide-input"]
def related(word: str, token: str) -> bool:
    """The word with something added or removed: one starts with the other (3+ letters)."""
    a, b = word, token.removeprefix("##")
    short, long = sorted((a, b), key=len)
    return a != b and len(short) >= 3 and long.startswith(short)


candidates = [
    t
    for t, ok in zip(
        tokenizer.convert_ids_to_tokens(range(E.shape[0])),
        candidate_mask(bert),
    )
    if ok
]
table = [(q, n.token) for q, ns in neighbours.items() for n in ns]
found_related = [(q, t) for q, t in table if related(q, t)]
# chance: the share of all candidate tokens that are related to the query
chance = sum(
    sum(related(q, t) for t in candidates) / (len(candidates) - 1)
    for q in queries
) / len(queries)
share = len(found_related) / len(table)
example = ", ".join(f"*{t}* for *{q}*" for q, t in found_related[:3])
bertsteps.claim(
    "inflections-near",
    len(found_related) >= 2 and share >= 10 * chance,
    f"In this build, **{len(found_related)} of the {len(table)}** neighbours in the table are "
    f"the query word with something added or removed ({example}), where tokens picked "
    f"at random would be so {chance:.2%} of the time. A word and its inflections are used in much "
    "the same places, and this checkpoint put them close. The rest of the table shows what "
    "else sits near each word.",
    f"In this build, **{len(found_related)} of the {len(table)}** neighbours in the table are "
    f"the query word with something added or removed, where tokens picked at random "
    f"would be so {chance:.2%} of the time: these neighbours are no more related to the query than chance "
    "would make them. A trained space tends to put a word near its inflections; this "
    "one does not.",
    measure=f"{len(found_related)} of {len(table)} neighbours ({share:.1%}) share the query's "
    f"first 3+ letters and one starts with the other; chance (share of all candidate tokens "
    f"that do): {chance:.3%}",
    criterion="at least 2 such neighbours, and a share at least 10 times chance",
)

# %% [markdown]
# ## Analogies
#
# The best-known trick with word vectors is arithmetic:
# $\text{king} - \text{man} + \text{woman}$ should land near *queen*. `bertsteps.analogy`
# computes $\mathbf{b} - \mathbf{a} + \mathbf{c}$ for "*a* is to *b* as *c* is to ?" and
# returns its nearest tokens, **leaving out the three input words**.

# %%
bertsteps.analogy(bert, "man", "king", "woman", k=3)

# %% [markdown]
# One success proves little. A fairer test asks *where* the expected answer ranks among
# all candidates, for several analogies, including some harder ones. We score the whole
# vocabulary by hand, check that our winner is `analogy`'s winner, and count how many
# tokens beat the expected answer.

# %%
analogies = [
    ("man", "king", "woman", "queen"),
    ("france", "paris", "italy", "rome"),
    ("walk", "walked", "go", "went"),
    ("big", "bigger", "small", "smaller"),
    ("hot", "cold", "up", "down"),
    ("bird", "fly", "fish", "swim"),
    ("pen", "write", "knife", "cut"),
]


def analogy_scores(a, b, c, exclude_inputs=True):
    """Cosines of all tokens with b - a + c.

    Special tokens (and the inputs a, b, c) are left out.
    """
    va, vb, vc = bertsteps.word_vectors(bert, [a, b, c])
    scores = bertsteps.cosine_matrix(vb - va + vc, E)[0]
    scores[excluded_ids(bert)] = -math.inf
    if exclude_inputs:
        for ids in bertsteps.word_ids(bert, [a, b, c], strategy="mean"):
            scores[ids] = -math.inf
    return scores


results = []
for a, b, c, expected in analogies:
    scores = analogy_scores(a, b, c)
    winner = bertsteps.analogy(bert, a, b, c, k=1)[0]
    best = int(scores.argmax())
    assert tokenizer.convert_ids_to_tokens(best) == winner.token
    torch.testing.assert_close(scores[best], torch.tensor(winner.score))

    answer = bertsteps.word_ids(bert, expected)[0][0]
    rank = int((scores > scores[answer]).sum()) + 1  # 1: the expected word won
    results.append((a, b, c, expected, rank, winner.token))

len(results)

# %% tags=["hide-input"]
header = "| analogy (expected) | rank | top answer |\n| --- | --- | --- |\n"
rows = "".join(
    f"| {a} : {b} :: {c} : **{d}** | {r:,} | {w} |\n"
    for a, b, c, d, r, w in results
)
Markdown(header + rows)

# %% tags=["hide-input"]
hits = [r for r in results if r[4] == 1]
misses = [r for r in results if r[4] > 1]
around = 10  # how many neighbours of c count as "near c"
near_c = [
    r
    for r in misses
    if r[5] in {n.token for n in bertsteps.nearest(bert, r[2], k=around)}
]
worst = max(results, key=lambda r: r[4])
raw_wins = 0  # how often an input word would win if it were not excluded
for a, b, c, *_ in results:
    pieces_of_inputs = bertsteps.word_ids(bert, [a, b, c], strategy="mean")
    inputs = {i for ids in pieces_of_inputs for i in ids}
    raw_wins += (
        int(analogy_scores(a, b, c, exclude_inputs=False).argmax()) in inputs
    )
ranks = sorted(r[4] for r in results)
median_rank = ranks[len(ranks) // 2]
n_candidates = (
    int(candidate_mask(bert).sum()) - 3
)  # the three inputs are left out
bertsteps.claim(
    "analogy-ranks",
    median_rank <= 100,
    f"In this build, **{len(hits)} of the {len(results)}** analogies put the expected word "
    f"first, and its median rank is **{median_rank:,}** among {n_candidates:,} candidates, "
    f"where chance would put it near {n_candidates // 2:,}. Analogy arithmetic is a "
    "tendency of this space, not a law: read the ranks, not only the winners.",
    f"In this build, **{len(hits)} of the {len(results)}** analogies put the expected word "
    f"first, and its median rank is **{median_rank:,}** among {n_candidates:,} candidates, "
    f"far from the top (chance alone would put it near {n_candidates // 2:,}). In this "
    "space the arithmetic does not work; any hit would be luck.",
    measure=f"ranks of the expected word: {', '.join(f'{r:,}' for r in ranks)}; median {median_rank:,} "
    f"of {n_candidates:,} candidates",
    criterion="median rank of the expected word at most 100 (chance: about half the candidates)",
)

# %% tags=["hide-input"]
details = ""
if misses:
    details += (
        f"{'All' if not hits else 'The other'} {len(misses)} miss: the worst is "
        f"*{worst[0]} : {worst[1]} :: {worst[2]} : ?*, where **{worst[4] - 1:,} tokens** "
        f"score higher than *{worst[3]}* and the winner is *{worst[5]}*. "
        f"In {len(near_c)} of the {len(misses)} misses the winner is one of the {around} "
        "nearest neighbours of *c* itself"
        + (
            ": there, the offset *b − a* did not carry the vector far from where it "
            "started. "
            if near_c
            else ". "
        )
    )
details += (
    f"And the exclusion {'matters' if raw_wins else 'made no difference here'}: if the "
    "three input words were allowed to answer, one of them would win in "
    f"**{raw_wins} of the {len(results)}** analogies."
)
Markdown(details)

# %% [markdown]
# ## A picture in two dimensions
#
# The vectors have far too many dimensions to draw. **Principal component analysis**
# (PCA) finds the directions along which a set of points varies most; projecting onto
# the first two keeps as much of the spread as a flat picture can. `bertsteps.pca`
# centres the rows, finds those directions with a singular value decomposition, and
# fixes their signs so that the picture is the same on every run.

# %%
groups = {
    "royalty": ["king", "queen", "prince", "princess", "throne"],
    "animals": ["dog", "cat", "horse", "cow", "lion"],
    "fruit": ["apple", "banana", "orange", "pear", "grape"],
    "numbers": ["one", "two", "three", "four", "five"],
    "places": ["paris", "london", "berlin", "rome", "tokyo"],
}
words = [w for members in groups.values() for w in members]
kinds = [g for g, members in groups.items() for _ in members]
vectors = bertsteps.word_vectors(bert, words)  # (len(words), hidden_size)

coords, components, ratio, mean = bertsteps.pca(vectors, k=2)
coords.shape, ratio

# %% [markdown]
# The coordinates are the centred vectors projected onto two orthonormal directions,
# which we check by hand:

# %%
torch.testing.assert_close(components @ components.T, torch.eye(2))
torch.testing.assert_close(coords, (vectors - mean) @ components.T)

# %%
bertsteps.plot_scatter(
    coords,
    words,
    groups=kinds,
    xlabel=f"first principal component ({float(ratio[0]):.0%} of variance)",
    ylabel=f"second principal component ({float(ratio[1]):.0%})",
    title=f"Input embeddings of {len(words)} words, projected with PCA",
    alt=f"Scatter plot of the input embeddings of {len(words)} words "
    "projected onto their first two principal components, each point labelled "
    "with its word and coloured by group: " + ", ".join(groups) + ".",
)

# %% tags=["hide-input"]
in_space = group_agreement(
    bertsteps.cosine_matrix(vectors), kinds
)  # by cosine
in_picture = group_agreement(
    -torch.cdist(coords, coords), kinds
)  # by distance on the map
Markdown(
    f"The two axes keep **{float(ratio.sum()):.0%}** of the variance of these "
    f"{len(words)} vectors ({float(ratio[0]):.1%} and {float(ratio[1]):.1%}); the rest "
    "is flattened away. Do the groups survive? A check: for each word, is its nearest "
    "other word, in the full space and in the picture, one of its own group?"
)

# %% tags=["hide-input"]
bertsteps.claim(
    "groups-cluster",
    in_space.clusters,
    f"In the full space, **{in_space.hits} of the {in_space.total}** words have a word of "
    f"their own group as nearest neighbour (by cosine), where chance would give "
    f"{in_space.chance:.0%}: the five groups are real clusters of this space.",
    f"In the full space, only **{in_space.hits} of the {in_space.total}** words have a word "
    f"of their own group as nearest neighbour (by cosine), near the {in_space.chance:.0%} "
    "that chance gives: in this space the five groups are not clusters.",
    measure=in_space.measure(),
    criterion=in_space.criterion(),
)

# %% tags=["hide-input"]
bertsteps.claim(
    "groups-cluster-in-picture",
    in_picture.clusters,
    f"In the picture, **{in_picture.hits}** do"
    + (
        ": the flat map keeps most of the grouping. Still, points that look close may "
        "only be close along the two axes drawn."
        if in_space.clusters
        else ", though the full space has no such grouping: here the picture makes "
        "clusters that are not there."
    ),
    f"In the picture, **{in_picture.hits}** do: clusters you may see in the plot are "
    "not to be trusted; points that look close may only be close along the two axes drawn.",
    measure=in_picture.measure(),
    criterion=in_picture.criterion(),
)

# %% [markdown]
# ### The variance kept by the map
#
# The [embedding explorer](../../explorer/) draws a map of the *whole* vocabulary in the
# same way. Its **variance kept by the map** is defined as the share of variance along
# the first two principal components of the **unit-length** input embeddings of the
# tokens that can be neighbours (every token but the special and `[unused…]` ones):
# `bertsteps.vocabulary_map(bert).explained_variance_ratio.sum()`. We check it by hand
# from the same rows.

# %%
vocabulary_map = bertsteps.vocabulary_map(bert)
allowed = candidate_mask(bert)  # every token but special ones and placeholders
unit_rows = unit_embeddings(bert).cpu()[allowed]  # rows of length 1
by_hand = bertsteps.pca(unit_rows, k=2).explained_variance_ratio
torch.testing.assert_close(vocabulary_map.explained_variance_ratio, by_hand)
kept = float(vocabulary_map.explained_variance_ratio.sum())
kept

# %% tags=["hide-input"]
first, second = vocabulary_map.explained_variance_ratio.tolist()
Markdown(
    f"The variance kept by the map is **{kept:.1%}** ({first:.1%} + {second:.1%}) of the "
    f"variance of the unit rows of the {int(allowed.sum()):,} tokens that can be neighbours"
    + (
        f", less than the {float(ratio.sum()):.0%} kept for the {len(words)} words above: "
        "a whole vocabulary spreads over many more directions than two."
        if kept < ratio.sum()
        else "."
    )
)

# %% [markdown]
# ## Whole words and `##` pieces
#
# WordPiece keeps frequent words whole and builds rare ones from pieces; a piece that
# continues a word starts with `##`. Those pieces have rows in the same matrix as whole
# words. How many are there?

# %%
vocab = tokenizer.get_vocab()  # token -> id
pieces = [t for t in vocab if t.startswith("##")]
len(pieces), len(vocab), bertsteps.word_pieces(bert, "embeddings")

# %% tags=["hide-input"]
Markdown(
    f"**{len(pieces):,}** of the {len(vocab):,} entries "
    f"({len(pieces) / len(vocab):.0%}) are `##` pieces."
)

# %% [markdown]
# Do pieces live in their own part of the space? To compare like with like we keep only
# entries made of the letters a–z, with and without `##`, and compute the mean cosine
# within pieces, within words, and between the two. Thousands of tokens make millions of
# pairs, but the mean needs no matrix: for unit vectors $\mathbf{u}_i$,
# $\sum_{i \ne j} \mathbf{u}_i \cdot \mathbf{u}_j = \|\sum_i \mathbf{u}_i\|^2 - n$.
# We check that shortcut against a full `cosine_matrix` on a sample first.

# %%
letters = re.compile(r"^[a-z]+$")
piece_ids = [
    i for t, i in vocab.items() if t.startswith("##") and letters.match(t[2:])
]
whole_ids = [i for t, i in vocab.items() if letters.match(t)]


def unit(ids):
    rows = E[ids].cpu().double()
    return rows / rows.norm(dim=1, keepdim=True)


def mean_cosine_within(u):
    n = len(u)
    return (u.sum(dim=0).square().sum() - n) / (n * (n - 1))


sample = unit(whole_ids[:300])
matrix = bertsteps.cosine_matrix(sample).double()
off_diagonal = matrix[~torch.eye(len(sample), dtype=torch.bool)].mean()
torch.testing.assert_close(mean_cosine_within(sample), off_diagonal)

u_pieces, u_words = unit(piece_ids), unit(whole_ids)
within_pieces = float(mean_cosine_within(u_pieces))
within_words = float(mean_cosine_within(u_words))
pairs_between = len(u_pieces) * len(u_words)
between = float(u_pieces.sum(dim=0) @ u_words.sum(dim=0) / pairs_between)
len(piece_ids), len(whole_ids)

# %% [markdown]
# A second view, closer up: the nearest neighbours of a few common pieces. A vector
# query is not excluded from its own neighbours, so we ask for one more and drop it.

# %%
probes = ["##ing", "##s", "##ly", "##ness"]
piece_neighbours = {}
for piece in probes:
    row = E[tokenizer.convert_tokens_to_ids(piece)]
    found = bertsteps.nearest(bert, row, k=11)
    piece_neighbours[piece] = [n for n in found if n.token != piece][:10]
[n.token for n in piece_neighbours["##ing"][:5]]

# %% tags=["hide-input"]
found = [n for ns in piece_neighbours.values() for n in ns]
among = sum(n.token.startswith("##") for n in found)
piece_share = len(pieces) / int(
    candidate_mask(bert).sum()
)  # of the tokens that can be neighbours
difference = within_pieces - within_words
bertsteps.claim(
    "pieces-closer",
    difference >= 0.01,
    f"In this build the mean cosine is **{within_pieces:.3f}** between two letter pieces "
    f"({len(piece_ids):,} of them), **{within_words:.3f}** between two letter words "
    f"({len(whole_ids):,}), and **{between:.3f}** between a piece and a word: on average "
    "pieces are closer to each other than words are.",
    f"In this build the mean cosine is **{within_pieces:.3f}** between two letter pieces "
    f"({len(piece_ids):,} of them), **{within_words:.3f}** between two letter words "
    f"({len(whole_ids):,}), and **{between:.3f}** between a piece and a word: on average "
    "pieces are no closer to each other than words are.",
    measure=f"mean cosine within pieces {within_pieces:.4f}, within words {within_words:.4f}: "
    f"a difference of {difference:+.4f}",
    criterion="the mean cosine within pieces is at least 0.01 above the mean within words",
)

# %% tags=["hide-input"]
bertsteps.claim(
    "probe-pieces-near-pieces",
    among / len(found) >= 2 * piece_share,
    f"Of the {len(found)} nearest neighbours of "
    + ", ".join(f"`{p}`" for p in probes)
    + f", **{among}** are pieces themselves ({among / len(found):.0%}, against "
    f"{piece_share:.0%} of the tokens that can be neighbours): the neighbourhoods of these "
    "pieces are mostly pieces. A piece is only ever used inside a word and a word stands "
    "on its own, and this space keeps the two kinds apart.",
    f"Of the {len(found)} nearest neighbours of "
    + ", ".join(f"`{p}`" for p in probes)
    + f", **{among}** are pieces themselves ({among / len(found):.0%}, against "
    f"{piece_share:.0%} of the tokens that can be neighbours): not far from what picking "
    "tokens at random would give, so this space does not keep pieces apart from words.",
    measure=f"{among} of {len(found)} neighbours are pieces ({among / len(found):.1%}); pieces "
    f"are {piece_share:.1%} of the candidate tokens",
    criterion="the share of pieces among the neighbours is at least twice their share of "
    "the candidate tokens",
)

# %% [markdown]
# ## Every token's neighbours at once
#
# Four pieces are a small sample. To ask the same question of *every* piece, and others
# about the whole vocabulary, we need the nearest tokens of every token:
# `bertsteps.neighbour_table(bert, k)` computes them all at once, one row per token (how,
# and how fast, is on the [Performance](../performance/) page). Each row is exactly what
# `nearest` returns for that token, which we check on a few words first.

# %%
K = 10
indices, scores = bertsteps.neighbour_table(
    bert, k=K
)  # (vocab_size, K) ids and cosines
for word in ["king", "paris", "music", "running"]:
    listed = bertsteps.nearest(bert, word, k=K)
    row = vocab[word]
    assert [n.token for n in listed] == tokenizer.convert_ids_to_tokens(
        indices[row].tolist()
    )
    torch.testing.assert_close(
        torch.tensor([n.score for n in listed]), scores[row]
    )
indices.shape

# %% [markdown]
# Now the pieces question for all of them: of the neighbours of every letter piece, and
# of every letter word, how many are pieces? And a question only the whole table can
# answer: how often does each token turn up in the others' lists? With $k$ neighbours a
# row, a token appears $k$ times on average; in many high-dimensional spaces a few
# *hubs* appear far more often and many tokens never do.

# %%
is_piece = torch.zeros(E.shape[0], dtype=torch.bool)
is_piece[[vocab[t] for t in pieces]] = True
pieces_near_pieces = float(is_piece[indices[piece_ids]].float().mean())
pieces_near_words = float(is_piece[indices[whole_ids]].float().mean())

appearances = k_occurrence(indices, rows=allowed)[
    allowed
]  # lists each token is in
allowed_ids = allowed.nonzero().flatten()
top = appearances.topk(8)
hubs = [
    (tokenizer.convert_ids_to_tokens(int(allowed_ids[i])), int(c))
    for c, i in zip(top.values, top.indices)
]
never = int((appearances == 0).sum())
top1 = indices[:, 0]
mutual = float((top1[top1[allowed]] == allowed_ids).float().mean())

units = unit_embeddings(bert).cpu()[allowed]  # rows of length 1
centre = units.mean(dim=0) / units.mean(dim=0).norm()  # the average direction
to_centre = units @ centre
hub_centre = float(
    to_centre[appearances.topk(min(100, len(appearances))).indices].mean()
)
all_centre = float(to_centre.mean())
hubs[:3]

# %%
counts = appearances.float()
fig = bertsteps.figure(
    alt=f"Histogram of how many of the other tokens' {K}-nearest lists "
    f"each of {int(allowed.sum()):,} tokens appears in: {never:,} appear "
    f"in none; the token in the most lists, {hubs[0][0]}, is in "
    f"{hubs[0][1]:,}, "
    + (
        f"{hubs[0][1] / K:.0f} times the average of {K}: a hub."
        if hubs[0][1]
        >= HUB_FACTOR * K  # the test of the hubs-uneven sentence below
        else f"{hubs[0][1] / K:.1f} times the average of {K}: no strong hubs."
    ),
    figsize=(7.0, 3.2),
)
ax = fig.add_subplot()
ax.hist(counts.numpy(), bins=60, color="#4f46e5", log=True)
ax.axvline(K, color="#c2410c", linestyle="--", label=f"average: {K}")
ax.set_xlabel(f"lists of {K} nearest tokens a token appears in")
ax.set_ylabel("tokens (log scale)")
ax.legend(frameon=False)
ax.spines[["top", "right"]].set_visible(False)
fig

# %% tags=["hide-input"]
four = ", ".join(f"`{p}`" for p in probes)
bertsteps.claim(
    "pieces-near-pieces",
    pieces_near_pieces - pieces_near_words >= 0.2,
    f"Over the whole vocabulary, **{pieces_near_pieces:.0%}** of the neighbours of the "
    f"{len(piece_ids):,} letter pieces are pieces, against **{pieces_near_words:.0%}** of "
    f"the neighbours of the {len(whole_ids):,} letter words (the four pieces above, {four}, gave "
    f"{among / len(found):.0%}): pieces keep to pieces across the whole vocabulary, not "
    "only for those four.",
    f"Over the whole vocabulary, **{pieces_near_pieces:.0%}** of the neighbours of the "
    f"{len(piece_ids):,} letter pieces are pieces, against **{pieces_near_words:.0%}** of "
    f"the neighbours of the {len(whole_ids):,} letter words (the four pieces above, {four}, gave "
    f"{among / len(found):.0%}): whether a token is a piece or a word hardly changes what "
    "its neighbours are.",
    measure=f"pieces among the neighbours of letter pieces {pieces_near_pieces:.1%}, of letter "
    f"words {pieces_near_words:.1%}: a difference of {pieces_near_pieces - pieces_near_words:+.1%}",
    criterion="the share among pieces' neighbours is at least 20 percentage points above the "
    "share among words' neighbours",
)

# %% tags=["hide-input"]
busiest = hubs[0][1]
bertsteps.claim(
    "hubs-uneven",
    busiest >= HUB_FACTOR * K,
    f"The lists are far from even: **{never:,}** of the {int(allowed.sum()):,} tokens "
    f"that can be neighbours are in nobody's list of {K}, while the busiest, "
    f"`{hubs[0][0]}`, is in **{busiest:,}** ({busiest / K:.0f} times the average); the next "
    "are "
    + ", ".join(f"`{t}` ({c:,})" for t, c in hubs[1:])
    + ". These *hubs* are why "
    "a nearest-neighbour list is worth reading with care: a token that is close to "
    "everything tells you little about the one you asked about.",
    f"The lists are about even: the busiest token, `{hubs[0][0]}`, is in {busiest:,} lists "
    f"({busiest / K:.1f} times the average of {K}), and {never:,} of the "
    f"{int(allowed.sum()):,} tokens that can be neighbours are in none. There are no "
    "strong hubs here, as for rows drawn at random.",
    measure=f"busiest token in {busiest:,} lists of {K} ({busiest / K:.1f} times the average); "
    f"{never:,} tokens in none",
    criterion=f"the busiest token is in at least {HUB_FACTOR:g} times {K} lists (rows drawn at "
    "random give about 2.5 times)",
)

# %% tags=["hide-input"]
bertsteps.claim(
    "hubs-central",
    hub_centre - all_centre >= 0.1,
    f"The 100 busiest tokens have a mean cosine of **{hub_centre:.2f}** with the average "
    f"direction of all tokens, against {all_centre:.2f} for all tokens: the hubs sit near "
    "the middle of the cloud, close to many tokens at once.",
    f"The 100 busiest tokens have a mean cosine of **{hub_centre:.2f}** with the average "
    f"direction of all tokens, against {all_centre:.2f} for all tokens: they sit no nearer "
    "the middle of the cloud than other tokens do.",
    measure=f"mean cosine with the average direction: 100 busiest {hub_centre:.3f}, all tokens "
    f"{all_centre:.3f}",
    criterion="the 100 busiest tokens' mean cosine with the average direction is at least "
    "0.1 above that of all tokens",
)

# %% tags=["hide-input"]
Markdown(
    f"Last, a symmetry count: **{mutual:.0%}** of the tokens that can be neighbours are "
    "their own nearest neighbour's nearest neighbour."
)

# %% [markdown]
# ## Try it
#
# - No Python at hand? The [embedding explorer](../../explorer/) shows every token's
#   neighbours and the PCA map of the whole vocabulary in your browser.
# - Add your own words to `queries`: names, verbs, rare words. Which neighbours are
#   inflections, which are related in meaning, which are surprising?
# - Invent analogies (country : capital, singular : plural, verb : past tense) and look
#   at the rank of the answer, not only whether it won.
# - Add a sixth group to `groups`, or project with `k=3` and plot two other components.
# - `bertsteps.pca(E, k=2)` projects the whole vocabulary; `.transform(vectors)` places
#   any other vector in the same picture.
# - Run this page with a random checkpoint
#   (`BERTSTEPS_CHECKPOINT=/path/to/random-bert`) and compare the tables and the
#   picture: every assertion still holds, because they check how the numbers are
#   computed, not what the model has learned.
