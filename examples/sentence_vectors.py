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
# # Sentence vectors
#
# The encoder ends with one vector per token. To compare whole sentences — to find a
# paraphrase, or the paragraph that answers a question — we need **one vector per
# sentence**. There are several ways to get it from the token vectors: their mean,
# their element-wise maximum, the vector of the first token `[CLS]`, or BERT's *pooler*
# on top of `[CLS]`; and each can be taken from any layer. This chapter computes each by
# hand, checks it against the library's output, then measures which one works best on
# sentence pairs written for this site.

# %%
import importlib.util
import textwrap
import warnings

import torch
from IPython.display import Markdown, display

import bertsteps
from bertsteps.sentences import pooler_looks_trained

bert = bertsteps.load()
last = bert.config.num_hidden_layers
root = bertsteps.site_root()  # the repository: chapters and their data

# %% [markdown]
# ## Mean pooling, and why padding must not count
#
# Sentences of different lengths run together in one batch are padded to the same
# length with `[PAD]` tokens. The `attention_mask` marks the real tokens with 1 and the
# padding with 0. The encoder still computes a vector at every padding position; those
# vectors are not part of the sentence, so the mean must skip them.

# %%
sentences = [
    "A man is playing a guitar.",
    "Someone strums an instrument on stage tonight.",
]
inputs = bertsteps.encode(bert, sentences)  # a padded batch
out = bertsteps.forward(bert, sentences)
states = out.last_hidden_state  # (batch, seq, hidden)
mask = inputs["attention_mask"]
mask

# %%
real = mask.unsqueeze(-1).float()  # (batch, seq, 1): 1 for real tokens
mean = (states * real).sum(dim=1) / real.sum(dim=1)  # padding never counted
wrong = states.mean(dim=1)  # padding counted as if it were text

alone = bertsteps.forward(bert, sentences[0]).last_hidden_state
torch.testing.assert_close(mean[0], alone[0].mean(dim=0))  # same as no padding
assert not torch.allclose(wrong[0], alone[0].mean(dim=0), atol=1e-4)
torch.testing.assert_close(
    mean.cpu(), bertsteps.sentence_vectors(bert, sentences)
)

# %% tags=["hide-input"]
padding = int((mask[0] == 0).sum())
drift = float(torch.nn.functional.cosine_similarity(wrong[0], mean[0], dim=0))
Markdown(
    f"The first sentence has {int(mask[0].sum())} real tokens and {padding} padding "
    f"tokens in this batch. Its masked mean equals the mean of the sentence run on its "
    "own, as it must: a sentence's vector may not depend on what it was batched with. "
    f"Counting the padding gives another vector (cosine {drift:.3f} with the right one), "
    "and one that would change again with a longer neighbour in the batch. "
    "`bertsteps.sentence_vectors(bert, sentences)` computes the masked mean, in batches."
)

# %% [markdown]
# The bundled checkpoint was fine-tuned by sentence-transformers, whose recipe for it is
# exactly this: the masked mean of the last layer, scaled to length 1. Where the library
# is installed and the checkpoint is the bundled one, we compare with it directly.

# %%
has_st = importlib.util.find_spec("sentence_transformers") is not None
if bert.source.kind == "bundled" and has_st:
    st = (
        bertsteps.sentence_transformer()
    )  # SentenceTransformer(folder), quietly
    theirs = torch.from_numpy(st.encode(sentences, batch_size=2))
    ours = bertsteps.sentence_vectors(bert, sentences, normalize=True)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)

# %% tags=["hide-input"]
if bert.source.kind != "bundled":
    compared = (
        f"This build uses `{bert.name}`, not the bundled checkpoint, so there is no "
        "sentence-transformers recipe to compare with: the mean above is one choice "
        "among those measured below."
    )
elif not has_st:
    compared = (
        "sentence-transformers is not installed in this build, so the comparison was "
        "skipped; the tests of `bertsteps` make it (`pip install sentence-transformers`)."
    )
else:
    compared = (
        "The normalised masked means equal sentence-transformers' `encode` output "
        f"within 1e-5, for both sentences ({ours.shape[1]} numbers each)."
    )
Markdown(compared)

# %% [markdown]
# ## Max pooling, `[CLS]` and the pooler
#
# **Max pooling** keeps, for every coordinate, its largest value over the real tokens
# (padding is set to $-\infty$ first, so it never wins). **`[CLS]` pooling** takes the
# first token's vector. The **pooler** is one more layer that BERT's pretraining put on
# `[CLS]` for its next-sentence task: a dense layer and a tanh,
# $\text{pooler}(x) = \tanh(W x_{\text{[CLS]}} + b)$.

# %%
maxed = states.masked_fill(real == 0, float("-inf")).amax(dim=1)
cls = states[:, 0]

for pooling, by_hand in (("max", maxed), ("cls", cls)):
    api = bertsteps.sentence_vectors(bert, sentences, pooling=pooling)
    torch.testing.assert_close(by_hand.cpu(), api)
cls.shape

# %%
pooler = bert.model.pooler  # None where the checkpoint has no pooler weights
if pooler is not None:
    W, b = pooler.dense.weight, pooler.dense.bias
    pooled = torch.tanh(cls @ W.T + b)
    torch.testing.assert_close(pooled, out.pooler_output)
    steps = bertsteps.pooler_by_hand(pooler, states)
    torch.testing.assert_close(steps.output, pooled)
    api = bertsteps.sentence_vectors(bert, sentences, pooling="pooler")
    torch.testing.assert_close(pooled.cpu(), api)

# %% tags=["hide-input"]
card = bertsteps.model_card(bert)
if pooler is None:
    about_pooler = (
        f"`{bert.name}` has no pooler weights, so it has no pooler: "
        '`pooling="pooler"` raises an error instead of inventing one.'
    )
else:
    about_pooler = (
        "The pooler by hand equals the model's `pooler_output`. "
        + (
            "For this checkpoint, though, its weights are a leftover: "
            f"`{bert.name}` is {card.short}, and that fine-tuning trained the mean "
            "of the last layer, never the pooler."
            if bert.source.kind == "bundled"
            else ""
        )
    )
if pooler is not None and bert.source.kind != "bundled":
    # the measure of the feed-forward chapter's pooler-trained claim, so the pages agree
    bias = pooler.dense.bias
    about_pooler = bertsteps.claim(
        "sentence-pooler-trained",
        bool(pooler_looks_trained(bert)),
        about_pooler
        + f"The pooler of `{bert.name}` shows signs of training: its "
        f"{bias.numel()} biases are no longer all zero, where BERT's initialisation sets "
        f"them (largest {float(bias.abs().max()):.3f}).",
        about_pooler
        + f"The pooler of `{bert.name}` shows no sign of training: its "
        f"{bias.numel()} biases are all exactly zero, as BERT's initialisation sets them.",
        measure=f"largest |bias| of the pooler's dense layer: {float(bias.abs().max()):.3g}",
        criterion="at least one bias of the pooler's dense layer differs from 0",
    )
else:
    about_pooler = Markdown(about_pooler)
about_pooler

# %% [markdown]
# At the embedding output (layer 0) `[CLS]` is the same vector for every sentence: the
# same token, at the same position, with nothing mixed in yet. So `[CLS]` pooling there
# cannot tell any two sentences apart.

# %%
cls_0 = bertsteps.sentence_vectors(bert, sentences, pooling="cls", layer=0)
torch.testing.assert_close(cls_0[0], cls_0[1])

# %% [markdown]
# ## Which pooling, which layer? Measured on labelled pairs
#
# `examples/data/sentence_pairs.tsv` holds pairs of sentences written for this site,
# each labelled **paraphrase** (same meaning, mostly other words), **related** (same
# topic, another meaning) or **unrelated**. Several unrelated pairs share a word used in
# two senses (*the bank approved our mortgage* / *a picnic on the bank of the river*),
# so counting shared words does not solve them.

# %%
pairs = bertsteps.read_pairs(root / "examples" / "data" / "sentence_pairs.tsv")
counts = {
    label: sum(p.label == label for p in pairs)
    for label in ("paraphrase", "related", "unrelated")
}
counts

# %% tags=["hide-input"]
examples = [next(p for p in pairs if p.label == label) for label in counts]
Markdown(
    "| label | first | second |\n| --- | --- | --- |\n"
    + "\n".join(f"| {p.label} | {p.first} | {p.second} |" for p in examples)
)

# %% [markdown]
# For a pooling and a layer we take the cosine of each pair's two sentence vectors. A
# good sentence vector gives paraphrases higher cosines than unrelated pairs. The
# **ROC AUC** measures exactly that: the chance that a paraphrase pair, drawn at random,
# scores higher than an unrelated pair (1 is a perfect ordering, 0.5 a coin toss).
# `bertsteps.roc_auc` computes it from ranks. The raw cosines are no common scale —
# some poolings put every pair near 1 — but the AUC only looks at the order.
#
# As a baseline that knows no meaning at all: the share of words two sentences have in
# common.

# %%
overlap = torch.tensor(
    [bertsteps.word_overlap(p.first, p.second) for p in pairs]
)
labels = [p.label for p in pairs]
by_label = {
    k: overlap[[i for i, x in enumerate(labels) if x == k]] for k in counts
}
overlap_auc = bertsteps.roc_auc(by_label["paraphrase"], by_label["unrelated"])
round(overlap_auc, 3)

# %% [markdown]
# Now every pooling at the embedding output, the middle layer and the last two layers
# (the pooler only exists on top of the last), from one run of the encoder:

# %%
table = bertsteps.separations(bert, pairs)
len(table)

# %% tags=["hide-input"]
Markdown(
    "Each AUC sets paraphrase pairs against unrelated pairs, or against related pairs; "
    "the last three columns are each group's mean cosine.\n\n"
    "| pooling | layer | AUC vs unrelated | AUC vs related "
    "| paraphrase | related | unrelated |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    + "\n".join(
        f"| {s.pooling} | {s.layer} | {s.auc:.3f} | {s.auc_related:.3f} | "
        + " | ".join(f"{s.mean_cosine[k]:.3f}" for k in counts)
        + " |"
        for s in table
    )
    + f"\n\nWord overlap alone: AUC paraphrase vs unrelated **{overlap_auc:.3f}**. "
    f"With {counts['paraphrase']} paraphrase and {counts['unrelated']} unrelated pairs, one "
    "paraphrase pair moving past one unrelated pair changes that AUC by "
    f"1/{counts['paraphrase'] * counts['unrelated']}, about "
    f"{1 / (counts['paraphrase'] * counts['unrelated']):.3f}: rows a few such steps apart "
    "are not really different."
)

# %%
layers = sorted({s.layer for s in table if s.pooling != "pooler"})
pooled = [
    s for s in table if s.pooling == "pooler"
]  # on top of the last layer, if any
bertsteps.plot_lines(
    layers,
    {
        pooling: [s.auc for s in table if s.pooling == pooling]
        for pooling in ("mean", "max", "cls")
    },
    connect=False,  # measured at these layers only: no line through the others
    points={"pooler": (pooled[0].layer, pooled[0].auc)} if pooled else None,
    xlabel="layer (0 = output of the embedding layer)",
    ylabel="AUC, paraphrase vs unrelated",
    title="How well each pooling separates paraphrases from unrelated pairs",
    ylim=(0.0, 1.05),
    alt="Plot of the ROC AUC of paraphrase against unrelated pairs, one "
    "marker per measured layer, for mean, max and [CLS] pooling at layers "
    f"{', '.join(map(str, layers))}{' and the pooler' if pooled else ''}: "
    + "; ".join(f"{s.pooling} layer {s.layer}: {s.auc:.2f}" for s in table)
    + ".",
)

# %% tags=["hide-input"]
GOOD = 0.8  # an AUC a random checkpoint does not reach on these pairs
NAMES = {
    "mean": "mean pooling",
    "max": "max pooling",
    "cls": "`[CLS]` pooling",
}


def described(s):
    """'mean pooling of layer 3', or 'the pooler' (it sits on the last layer)."""
    return (
        "the pooler"
        if s.pooling == "pooler"
        else f"{NAMES[s.pooling]} of layer {s.layer}"
    )


best = max(table, key=lambda s: s.auc)
recipe = next(s for s in table if s.pooling == "mean" and s.layer == last)
context_free = max((s for s in table if s.layer == 0), key=lambda s: s.auc)
contextual = max((s for s in table if s.layer > 0), key=lambda s: s.auc)
low = min(s.mean_cosine["unrelated"] for s in table)
high = max(s.mean_cosine["unrelated"] for s in table)
display(
    bertsteps.claim(
        "sentence-best",
        best.auc >= GOOD,
        f"**{described(best)[0].upper() + described(best)[1:]}** separates paraphrases from "
        f"unrelated pairs best: a paraphrase pair has the higher cosine "
        f"{best.auc:.0%} of the time (AUC {best.auc:.3f}).",
        f"No pooling or layer separates paraphrases from unrelated pairs here: the best, "
        f"{described(best)}, reaches AUC {best.auc:.3f}, short "
        f"of {GOOD} (a coin toss gives 0.5).",
        measure=f"best AUC {best.auc:.3f} ({described(best)})",
        criterion=f"AUC >= {GOOD}",
    ),
    bertsteps.claim(
        "sentence-recipe",
        recipe.auc >= GOOD and recipe.auc_related >= GOOD,
        f"Mean pooling of the last layer also tells paraphrases from pairs on the same "
        f"topic (AUC {recipe.auc_related:.3f}, against {recipe.auc:.3f} for unrelated "
        "pairs): these vectors follow meaning, not only topic.",
        f"Mean pooling of the last layer does not tell paraphrases from both other kinds "
        f"reliably: AUC {recipe.auc:.3f} against unrelated pairs and "
        f"{recipe.auc_related:.3f} against pairs on the same topic.",
        measure=f"mean pooling, layer {last}: AUC {recipe.auc:.3f} vs unrelated, "
        f"{recipe.auc_related:.3f} vs related",
        criterion=f"both AUCs >= {GOOD}",
    ),
    bertsteps.claim(
        "sentence-context",
        contextual.auc >= GOOD and contextual.auc - context_free.auc >= 0.1,
        f"Context matters: without it (layer 0, the embedding output) the best pooling "
        f"reaches AUC {context_free.auc:.3f}; the encoder's layers raise it to "
        f"{contextual.auc:.3f}.",
        f"The encoder's layers do not clearly beat the embedding output here: AUC "
        f"{contextual.auc:.3f} at best after a layer, {context_free.auc:.3f} at layer 0.",
        measure=f"best AUC at layer 0 {context_free.auc:.3f}, after a layer "
        f"{contextual.auc:.3f}",
        criterion=f"best after a layer >= {GOOD} and at least 0.1 above layer 0",
    ),
    bertsteps.claim(
        "sentence-cosine-scale",
        high - low >= 0.2,
        f"The cosines themselves are no common scale: unrelated pairs average from "
        f"{low:.2f} to {high:.2f} depending on pooling and layer. Compare orders (the "
        "AUC), not raw cosines from different poolings.",
        f"Unrelated pairs average cosines between {low:.2f} and {high:.2f} whatever the "
        "pooling and layer.",
        measure=f"mean cosine of unrelated pairs from {low:.3f} to {high:.3f}",
        criterion="a spread of 0.2 or more",
    ),
)

# %% [markdown]
# ## A few sentences, side by side
#
# Four pairs of paraphrases on four topics, with mean pooling of the last layer. If the
# vectors follow meaning, each sentence is closest to its partner.

# %%
few = [
    "The stock market crashed today.",
    "Share prices plunged this afternoon.",
    "It is raining heavily outside.",
    "There is a downpour out there.",
    "My dog loves chasing balls.",
    "The puppy enjoys running after toys.",
    "He cooked pasta for dinner.",
    "Spaghetti was his evening meal.",
]
similarity = bertsteps.cosine_matrix(bertsteps.sentence_vectors(bert, few))
names = [
    f"{i + 1}. {s[:22]}…" if len(s) > 23 else f"{i + 1}. {s}"
    for i, s in enumerate(few)
]
bertsteps.plot_matrix(
    similarity,
    names,
    title="Cosine similarity of sentence vectors (mean, last layer)",
    alt=f"Heatmap of the cosine similarity of {len(few)} sentences, four "
    f"pairs of paraphrases in order, from {float(similarity.min()):.2f} "
    "to 1.",
)

# %% tags=["hide-input"]
closest = (
    similarity.clone().fill_diagonal_(-2).argmax(dim=1).tolist()
)  # not itself
partners = [i ^ 1 for i in range(len(few))]  # 0-1, 2-3, ...
right = sum(c == p for c, p in zip(closest, partners))
bertsteps.claim(
    "sentence-partners",
    right == len(few),
    f"Every one of the {len(few)} sentences is closest to its own paraphrase.",
    f"Only {right} of the {len(few)} sentences {'has its' if right == 1 else 'have their'} "
    "own paraphrase as nearest neighbour: these vectors do not sort the sentences by meaning.",
    measure=f"{right} of {len(few)} sentences have their paraphrase as nearest",
    criterion="all of them",
)

# %% [markdown]
# ## Searching this site by meaning
#
# A search engine that matches meaning rather than words: every paragraph of the other
# chapters of the journey (their text cells, read with jupytext) becomes one vector, and a
# question is answered by the paragraphs with the highest cosine. A model reads at most a
# fixed number of tokens; longer paragraphs are cut, and `sentence_vectors` warns.

# %%
chapters = sorted((root / "examples").glob("*.py"))
paragraphs = [
    p
    for chapter in chapters
    if chapter.stem
    not in ("sentence_vectors", "performance")  # this page; the build timings
    for p in bertsteps.chapter_paragraphs(chapter)
]
with warnings.catch_warnings(record=True) as cut:
    warnings.simplefilter("always")
    passages = bertsteps.sentence_vectors(bert, [p.text for p in paragraphs])
len(paragraphs), len(cut), bertsteps.max_tokens(bert)

# %% tags=["hide-input"]
limit = bertsteps.max_tokens(bert)
Markdown(
    f"That is {len(paragraphs)} paragraphs; "
    + (
        f"{len(cut)} of them {'is' if len(cut) == 1 else 'are'} longer than the {limit} "
        f"tokens `{bert.name}` reads, so {'its' if len(cut) == 1 else 'their'} vector"
        f"{'' if len(cut) == 1 else 's'} only see{'s' if len(cut) == 1 else ''} the first {limit} tokens."
        if cut
        else f"none is longer than the {limit} tokens `{bert.name}` reads, so none was cut."
    )
)

# %%
query = "how are words split into pieces?"
hits = bertsteps.rank(bertsteps.sentence_vectors(bert, query), passages, k=5)


# %% tags=["hide-input"]
def shorten(text):
    return textwrap.shorten(text, 110, placeholder=" …").replace("|", "/")


Markdown(
    f"Query: *{query}*\n\n| cosine | chapter | paragraph |\n| ---: | --- | --- |\n"
    + "\n".join(
        f"| {h.score:.3f} | {paragraphs[h.index].title} | "
        f"{shorten(paragraphs[h.index].text)} |"
        for h in hits
    )
)

# %% tags=["hide-input"]
tokenization = next(
    p.title for p in paragraphs if p.file.endswith("tokenization.py")
)
found = [paragraphs[h.index].title for h in hits]
share = sum(t == tokenization for t in found)
bertsteps.claim(
    "search-tokenization",
    found[0] == tokenization and share >= 3,
    f"The best answer, and {share} of the {len(found)} shown, come from the "
    f"**{tokenization}** chapter, the one about splitting words into pieces.",
    f"The search does not find the {tokenization} chapter reliably: the best answer "
    f"comes from {found[0]}, and {share} of the {len(found)} shown from {tokenization}.",
    measure=f"chapters of the {len(found)} best paragraphs: {', '.join(found)}",
    criterion=f"the best from {tokenization}, and at least 3 of the {len(found)}",
)


# %% [markdown]
# ## Which layer for word features?
#
# The same question arises for single words: when a word's vector is used as a feature,
# which layer should it come from? The [contextual embeddings](../contextual_embeddings/)
# chapter followed *bank* and *bat* in sentences where they mean different things;
# `bertsteps.sense_gaps` uses those sentences to compare four common choices: the
# embedding output, the last layer, the second-to-last layer, and the sum of the last
# four layers (of all of them, in a model with fewer). For every two uses of the same word it takes the cosine, and compares
# pairs with the same sense against pairs with different senses.

# %%
gaps = bertsteps.sense_gaps(bert)
[(g.label, g.layers) for g in gaps]

# %% tags=["hide-input"]
Markdown(
    "| word feature | hidden states | same sense | different senses | difference "
    "| AUC |\n| --- | --- | ---: | ---: | ---: | ---: |\n"
    + "\n".join(
        f"| {g.label} | {', '.join(map(str, g.layers))} | {g.within:.3f} | "
        f"{g.between:.3f} | {g.gap:+.3f} | {g.auc:.3f} |"
        for g in gaps
    )
    + "\n\nThe differences are in cosine units, and every layer has its own spread of "
    "cosines; the AUC (the chance that a same-sense pair is closer than a "
    "different-sense pair) compares the choices on one scale."
)

# %% tags=["hide-input"]
best_word = max(gaps, key=lambda g: g.auc)
embedding = next(g for g in gaps if g.feature == "embedding output")
display(
    bertsteps.claim(
        "word-feature-best",
        best_word.auc >= GOOD,
        f"The **{best_word.label}** tells the senses apart best: a same-sense pair is "
        f"closer than a different-sense pair {best_word.auc:.0%} of the time "
        f"(same minus different: {best_word.gap:+.3f}).",
        f"None of the four word features tells the senses apart reliably here: the "
        f"best, the {best_word.label}, puts a same-sense pair closer only "
        f"{best_word.auc:.0%} of the time.",
        measure=f"best AUC {best_word.auc:.3f} ({best_word.label})",
        criterion=f"AUC >= {GOOD}",
    ),
    bertsteps.claim(
        "word-feature-context",
        best_word.auc >= GOOD and best_word.auc - embedding.auc >= 0.2,
        f"The embedding output, which knows a word's position but not its neighbours, "
        f"manages only {embedding.auc:.0%}: the senses are made by the layers.",
        f"The layers do not clearly beat the embedding output at telling senses apart: "
        f"{best_word.auc:.0%} for the best feature, the {best_word.label}, and "
        f"{embedding.auc:.0%} for the embedding output.",
        measure=f"AUC {embedding.auc:.3f} for the embedding output, "
        f"{best_word.auc:.3f} for the best",
        criterion=f"best >= {GOOD} and at least 0.2 above the embedding output",
    ),
)

# %% [markdown]
# ## Try it
#
# - `bertsteps.sentence_vectors(bert, texts, pooling="max", layer=-2)`: any pooling,
#   any layer; `normalize=True` scales the vectors to length 1.
# - Add your own pairs to `examples/data/sentence_pairs.tsv` and rebuild the table.
# - Ask the site another question: `bertsteps.rank(bertsteps.sentence_vectors(bert,
#   "what does the softmax do?"), passages)`.
# - From a shell: `bertsteps sentences "first" "second" "third"` prints the similarity
#   matrix, and `bertsteps search "how are words split?" docs/*.md` searches files.
# - Run this page with a random checkpoint
#   (`BERTSTEPS_CHECKPOINT=/path/to/random-bert`): every assertion still holds, and
#   the sentences above change to say that nothing is separated.
