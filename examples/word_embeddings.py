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
# # Word embeddings
#
# Word embeddings represent words as dense vectors in a continuous space, so that words
# used in similar ways end up close to each other. They are the first thing BERT does
# with text: every token id picks one row of a big matrix, and that row is the vector
# the rest of the model starts from.
#
# Compare that with **one-hot encoding**, where a word is a vector as long as the
# vocabulary, all zeros except a single 1. One-hot vectors are sparse, huge, and say
# nothing about meaning: every pair of different words is exactly as far apart as every
# other. An embedding is short and dense, and in a trained model it is *learned* from
# large amounts of text, so its directions can carry meaning. This chapter looks at BERT's
# embedding matrix and measures how close a few words are, and whether this checkpoint's
# rows put related words together.

# %% [markdown]
# ## Loading the checkpoint
#
# The original notebook, "BERT Step by Step: Word Embeddings", loaded `bert-base-uncased`
# with `AutoTokenizer`, `BertForPreTraining` and `AutoConfig`. `bertsteps.load()` does the
# same through the generic `transformers` classes and hands back the three pieces. With
# no argument it loads the checkpoint this site was built with, offline.

# %%
import torch

import bertsteps

bert = bertsteps.load()
tokenizer, model, config = bert.tokenizer, bert.model, bert.config

# %% tags=["hide-input"]
from IPython.display import Markdown, display

Markdown(
    f"This page was computed with {bertsteps.model_card(bert).summary} It runs on the "
    f"`{bert.device}` device. Here `model` is the bare encoder, `{type(model).__name__}`. "
    "The original notebook's `BertForPreTraining` holds the same kind of encoder as "
    "`model.bert` and adds bert-base-uncased's two pretraining heads (masked words and "
    "next sentence) on top, so where that notebook wrote `model.bert.embeddings`, this "
    "page writes `model.embeddings`: the same kind of module."
)

# %% [markdown]
# ## From text to token ids
#
# The tokenizer splits the text into pieces from its vocabulary and replaces each piece by
# its id. It also adds two special tokens: `[CLS]` at the start and `[SEP]` at the end.

# %%
encoding = tokenizer.encode("let's tokenize something?", return_tensors="pt")
encoding = encoding.to(bert.device)  # where the model's weights live
encoding

# %% [markdown]
# Turning the ids back into strings shows how the text was cut, where `##` marks a piece
# that continues the previous one.

# %%
tokens = tokenizer.convert_ids_to_tokens(encoding.flatten())
tokens

# %% tags=["hide-input"]
split = tokenizer.tokenize("tokenize")
bertsteps.claim(
    "tokenize-split",
    split == ["token", "##ize"],
    "`tokenize` is not in the vocabulary as a whole word, so WordPiece splits it into "
    "`token` and `##ize`.",
    "In this vocabulary `tokenize` becomes "
    + " ".join(f"`{p}`" for p in split)
    + ".",
    measure=f"tokenize -> {split}",
    criterion="the split is token, ##ize",
)

# %% [markdown]
# ## The model and its embeddings
#
# The whole encoder: an embeddings module, a stack of identical layers, and (in some
# checkpoints) a pooler.

# %%
model

# %% [markdown]
# The embeddings module is where text enters the network. It adds three lookups — the
# word, its position, and its segment (token type) — and normalises the sum; the
# [embedding-layer chapter](../embedding_layer/) takes it apart. Here we stay with the first
# lookup, `word_embeddings`.

# %%
model.embeddings

# %% [markdown]
# Two numbers from the configuration fix the shape of that lookup table: how many tokens
# the vocabulary has, and how long each token's vector is.

# %%
config.vocab_size

# %%
config.hidden_size  # dimension of the embeddings

# %%
model.embeddings.word_embeddings  # (vocab_size, hidden_size)

# %% tags=["hide-input"]
Markdown(
    f"So the word-embedding matrix has {config.vocab_size:,} rows, one per token, of "
    f"{config.hidden_size} numbers each: {config.vocab_size * config.hidden_size:,} weights. "
    f"A one-hot vector for one token would have {config.vocab_size:,} entries; its embedding has "
    f"{config.hidden_size}."
)

# %% [markdown]
# ## A sequence of embeddings
#
# Looking up every id of our sentence gives one vector per token. The lookup adds a last
# dimension to the ids: `(batch_size, seq_len)` becomes `(batch_size, seq_len, hidden_size)`.

# %%
seq_embedding = model.embeddings.word_embeddings(encoding)

# (batch_size, seq_len) -> (batch_size, seq_len, hidden_size)
seq_embedding.shape

# %% [markdown]
# A lookup is the same as multiplying a one-hot vector by the matrix: the 1 picks exactly
# one row. We check that by hand for every token of the sentence.

# %%
one_hot = torch.nn.functional.one_hot(
    encoding[0], num_classes=config.vocab_size
).float()
by_hand = one_hot @ model.embeddings.word_embeddings.weight

torch.testing.assert_close(by_hand, seq_embedding[0])
one_hot.shape, by_hand.shape

# %% [markdown]
# ## How similar are two words?
#
# A common way to compare two embeddings is the cosine of the angle between them:
#
# $$
# \text{CosineSimilarity}(\mathbf{a}, \mathbf{b}) = \frac{\mathbf{a} \cdot \mathbf{b}}{\|\mathbf{a}\| \|\mathbf{b}\|}
# $$
#
# It is $1$ when the vectors point the same way, $0$ when they are orthogonal and $-1$
# when they point in opposite directions; the length of the vectors does not matter.

# %%
device = bert.device  # where the model's weights live

queen_token = tokenizer.convert_tokens_to_ids(["queen"])
queen_embedding = model.embeddings.word_embeddings(
    torch.tensor(queen_token, device=device)
)

king_token = tokenizer.convert_tokens_to_ids(["king"])
king_embedding = model.embeddings.word_embeddings(
    torch.tensor(king_token, device=device)
)

# cosine similarity
# queen_embedding @ king_embedding.T
# / torch.norm(queen_embedding) / torch.norm(king_embedding)
cos = torch.nn.CosineSimilarity()

cos(queen_embedding, king_embedding)

# %% [markdown]
# The commented formula in that cell is the same number, computed by hand:

# %%
by_hand = (
    queen_embedding
    @ king_embedding.T
    / torch.norm(queen_embedding)
    / torch.norm(king_embedding)
)
torch.testing.assert_close(
    by_hand.flatten(), cos(queen_embedding, king_embedding)
)

# %% tags=["hide-input"]
from bertsteps.similarity import candidate_mask

king_queen = float(cos(queen_embedding, king_embedding))
# where queen ranks among all the tokens that can be neighbours, by cosine with king
allowed = candidate_mask(bert)
allowed[king_token] = False  # not king itself
to_king = bertsteps.cosine_matrix(
    king_embedding, model.embeddings.word_embeddings.weight
)[0]
rank = int((to_king[allowed] > to_king[queen_token[0]]).sum()) + 1
others = int(allowed.sum())
bertsteps.claim(
    "king-queen-near",
    rank <= 10,
    f"With `{bert.name}`, *king* and *queen* have a cosine similarity of **{king_queen:.3f}**, "
    f"and of the {others:,} other tokens that can be neighbours, *queen* is king's number "
    f"**{rank}**: these rows put the two words close.",
    f"With `{bert.name}`, *king* and *queen* have a cosine similarity of **{king_queen:.3f}**, "
    f"and of the {others:,} other tokens that can be neighbours, *queen* is king's "
    f"number **{rank:,}** (chance would put it near {others // 2:,}): these rows do not put "
    "the two words especially close.",
    measure=f"cosine {king_queen:.3f}; queen ranks {rank:,} of {others:,} by cosine with king",
    criterion="queen is among the 10 tokens nearest to king",
)

# %% [markdown]
# ## A similarity matrix
#
# The original notebook compares eight words, two by two, in a double loop.

# %%
words = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]
embeddings = []

for word in words:
    token_id = tokenizer.convert_tokens_to_ids([word])
    embedding = model.embeddings.word_embeddings(
        torch.tensor(token_id, device=device)
    )
    embeddings.append(embedding.squeeze())

similarity_matrix = torch.zeros((len(words), len(words)))

for i in range(len(words)):
    for j in range(len(words)):
        similarity_matrix[i, j] = cos(
            embeddings[i].unsqueeze(0), embeddings[j].unsqueeze(0)
        )

heatmap = bertsteps.plot_matrix(
    similarity_matrix.detach().numpy(),
    words,
    show_values=True,
    title="Cosine similarity of input word embeddings",
    alt="Heatmap of the cosine similarity between the input embeddings of "
    "king, queen, man, woman, dog, cat, apple and pear; the diagonal is 1.",
)
heatmap

# %% [markdown]
# That loop makes $8 \times 8 = 64$ separate calls. `bertsteps.cosine_matrix` computes the
# same matrix in one call: it scales every row to length 1 and multiplies the matrix by
# its own transpose. The two agree:

# %%
vectors = bertsteps.word_vectors(bert, words)
fast = bertsteps.cosine_matrix(vectors)

torch.testing.assert_close(fast, similarity_matrix.detach())
fast.shape

# %% [markdown]
# ## Reading the heatmap
#
# - **The diagonal** is every word compared with itself: always exactly $1$.
# - **The matrix is symmetric**: the cosine of *a* and *b* is the cosine of *b* and *a*.
# - If the checkpoint puts words of one kind close, **blocks** appear along the diagonal,
#   where words of one kind sit next to each other in the list: royalty, people, animals,
#   fruit.

# %% tags=["hide-input"]
colour_map = (
    heatmap.axes[0].images[0].get_cmap().name
)  # the map the figure was drawn with
reading = {
    "RdBu_r": "red cells mark rows that point the same way and blue cells rows that point "
    "opposite ways, the deeper the colour the stronger; white is a cosine of 0",
    "Blues": "the darker the blue, the more the two rows point the same way",
    "Blues_r": "the lighter the blue, the more the two rows point the same way",
}.get(
    colour_map,
    "the closer a cell's colour is to the top of the colour bar, the more the "
    "two rows point the same way",
)
Markdown(f"- **Colours**: in this heatmap, {reading}.")

# %% tags=["hide-input"]
groups = {
    "royalty": (0, 1),
    "people": (2, 3),
    "animals": (4, 5),
    "fruit": (6, 7),
}
same = [float(fast[i, j]) for i, j in groups.values()]
mask = torch.ones_like(fast, dtype=torch.bool)
mask.fill_diagonal_(False)
for i, j in groups.values():
    mask[i, j] = mask[j, i] = False
across = fast[mask]
upper = torch.triu(fast, diagonal=1)
best = int(upper.argmax())
a, b = divmod(best, len(words))
display(
    Markdown(
        f"In this build, the closest pair of different words is **{words[a]}** and **{words[b]}** "
        f"({float(fast[a, b]):.2f}). The four same-kind pairs "
        + ", ".join(
            f"{words[i]}–{words[j]} ({v:.2f})"
            for (i, j), v in zip(groups.values(), same)
        )
        + f" average **{sum(same) / len(same):.2f}**, while the {across.numel() // 2} pairs across kinds "
        f"average **{float(across.mean()):.2f}** (from {float(across.min()):.2f} to {float(across.max()):.2f})."
    )
)
kinds = [kind for kind, pair in groups.items() for _ in pair]
agreement = bertsteps.group_agreement(fast, kinds)
bertsteps.claim(
    "same-kind-nearest",
    agreement.clusters,
    f"For **{agreement.hits} of the {len(words)}** words the nearest of the other seven is its "
    f"partner of the same kind, where chance would give {agreement.chance:.0%}: these are "
    "the blocks along the diagonal.",
    ("For **none" if agreement.hits == 0 else f"For only **{agreement.hits}")
    + f" of the {len(words)}** words is the nearest of the other "
    f"seven its partner of the same kind, near the {agreement.chance:.0%} that chance "
    "gives: these rows do not group the words by kind, and there are no blocks along the "
    "diagonal.",
    measure=agreement.measure(),
    criterion=agreement.criterion(),
)

# %% [markdown]
# These are *input* embeddings: one fixed vector per token, before the model has seen any
# context. A word like *apple* (the fruit, or the company) gets one row for both
# meanings. The layers above change that, one step at a time.
#
# ## Try it
#
# - Add your own words to `words` and redraw the matrix. Which pairs surprise you?
# - `bertsteps.nearest(bert, "king", k=10)` lists the closest tokens in the whole vocabulary;
#   the [embedding explorer](../../explorer/) does the same in your browser, for any word.
# - A word that WordPiece splits has no single row: compare
#   `bertsteps.word_vectors(bert, ["tokenize"], strategy="mean")` with `strategy="first"`.
# - Run this page with another checkpoint: `BERTSTEPS_CHECKPOINT=bert-base-uncased make site`.
