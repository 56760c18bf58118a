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
# # Tokenization
#
# Before BERT can compute anything, text has to become a list of integers. The
# tokenizer does that in three steps: it **normalises** the text (for an uncased model:
# lower case, accents stripped), **pre-tokenises** it into words and punctuation, and
# cuts every word into pieces from a fixed vocabulary with **WordPiece**. Each piece is
# then replaced by its row number in the vocabulary, and a few special tokens are added.
#
# This chapter rebuilds the WordPiece step by hand in a few lines of plain Python, checks
# it against the real tokenizer word by word, and then looks at what else the tokenizer
# hands the model: special tokens, padding and the attention mask, sentence pairs and
# token types, truncation, and offsets back into the text.

# %%
import torch

import bertsteps

bert = bertsteps.load()
tokenizer, config = bert.tokenizer, bert.config
vocab = tokenizer.get_vocab()  # piece -> id

backend = tokenizer.backend_tokenizer  # the fast tokenizer's pipeline
wordpiece = backend.model  # the WordPiece model, for its settings
prefix = wordpiece.continuing_subword_prefix
prefix, wordpiece.unk_token, wordpiece.max_input_chars_per_word

# %% tags=["hide-input"]
import re

from IPython.display import Markdown, display

continuations = sum(piece.startswith(prefix) for piece in vocab)
specials = set(tokenizer.all_special_tokens)
# placeholders: bracketed rows such as [unused0] that are not special tokens
placeholders = sorted(
    (p for p in vocab if re.fullmatch(r"\[[^\]]+\]", p) and p not in specials),
    key=vocab.get,
)
starters = len(vocab) - continuations - len(specials) - len(placeholders)
Markdown(
    f"This page was computed with {bertsteps.model_card(bert).summary} Its tokenizer is "
    f"`{type(tokenizer).__name__}` with a `{type(wordpiece).__name__}` model and a "
    f"vocabulary of **{len(vocab):,} pieces**: {continuations:,} of them start with "
    f"`{prefix}` (they can only continue a word), {len(specials)} are special tokens, "
    f"{len(placeholders):,} are placeholders such as "
    + (f"`{placeholders[0]}`" if placeholders else "`[unused0]`")
    + f", kept free for later use, and the other **{starters:,}** can start a word."
)

# %% tags=["hide-input"]
typed = [
    piece for p in placeholders for piece in tokenizer.tokenize(p)
]  # each, typed as text
bertsteps.claim(
    "placeholders-unreachable",
    bool(placeholders) and not set(typed) & set(placeholders),
    f"Typed as text, none of the {len(placeholders):,} placeholders comes back as itself: "
    + (f"`{placeholders[0]}`" if placeholders else "")
    + " is cut like any other text, into "
    + " ".join(
        f"`{t}`"
        for t in tokenizer.tokenize(placeholders[0] if placeholders else "")
    )
    + ". That is why the count of pieces that can start a word leaves them out.",
    f"This vocabulary has {len(placeholders)} placeholders"
    + (
        ", and typing one out can give the placeholder itself."
        if placeholders
        else "."
    ),
    measure=f"{len(placeholders)} bracketed non-special rows; typed out, they give "
    f"{len(typed):,} pieces, {len(set(typed) & set(placeholders))} of them placeholders",
    criterion="there are placeholders, and none of them, typed as text, comes back as itself",
)

# %% [markdown]
# ## Normalise, then pre-tokenise
#
# The fast tokenizer exposes its pipeline. The **normaliser** cleans the text; the
# **pre-tokeniser** splits it on whitespace and punctuation and remembers where each
# word came from (character offsets into the normalised text).

# %%
text = "let's tokenize something?"

normalized = backend.normalizer.normalize_str(text)
words = backend.pre_tokenizer.pre_tokenize_str(normalized)
words

# %% tags=["hide-input"]
let_words = [w for w, _ in backend.pre_tokenizer.pre_tokenize_str("let's")]
bertsteps.claim(
    "apostrophe-splits",
    let_words == ["let", "'", "s"],
    "The apostrophe is punctuation, so *let's* becomes three words. Only now does "
    "WordPiece see the text, one word at a time.",
    f"Here *let's* becomes {len(let_words)} word(s): "
    + ", ".join(f"`{w}`" for w in let_words)
    + ". Only now does WordPiece see the text, one word at a time.",
    measure="pre-tokenised let's: " + " | ".join(let_words),
    criterion="the pre-tokeniser gives let, ' and s",
)

# %% [markdown]
# ## WordPiece: greedy longest match first
#
# WordPiece splits a word from left to right. At each position it takes the **longest**
# piece of the vocabulary that matches there; a piece that does not start the word must
# be in the vocabulary with the `##` prefix, which marks it as a continuation. If at
# some position no piece matches at all, the *whole word* becomes the unknown token.
# That is the entire algorithm:


# %%
def wordpiece_split(word: str, tried: list | None = None) -> list[str]:
    """Split one pre-tokenised word into pieces, longest match first.

    Pass a list as `tried` to collect every candidate looked up.
    """
    if len(word) > wordpiece.max_input_chars_per_word:
        return [wordpiece.unk_token]
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):  # longest candidate first
            piece = word[start:end]
            if start > 0:  # inside the word: a continuation piece
                piece = prefix + piece
            if tried is not None:
                tried.append(piece)
            if piece in vocab:
                break
        else:  # not even one character matched here
            return [wordpiece.unk_token]
        pieces.append(piece)
        start = end
    return pieces


tried = []
wordpiece_split("tokenize", tried), tried

# %% tags=["hide-input"]
split = wordpiece_split("tokenize")
bertsteps.claim(
    "tokenize-split",
    split == ["token", "##ize"],
    "`tokenize` is not in the vocabulary as one piece, so WordPiece shortens the "
    "candidate one character at a time until it hits `token`; what is left, `ize`, is "
    "found at once as `##ize`.",
    f"In this vocabulary `tokenize` becomes {' '.join(f'`{p}`' for p in split)}, after "
    f"{len(tried)} look-ups: each time, the longest candidate that is in the vocabulary "
    "wins.",
    measure=f"wordpiece_split('tokenize') = {split}, after {len(tried)} look-ups",
    criterion="the split is token, ##ize",
)

# %% [markdown]
# The greedy rule does not know about morphology: it takes whatever prefix is longest.
# We check the hand-written split against the tokenizer on a list of words, after the
# same normalisation and pre-tokenisation. The list includes a word with a character
# the vocabulary does not know.

# %%
test_words = [
    "tokenize",
    "embeddings",
    "unaffable",
    "thermodynamics",
    "photosynthesis",
    "Naïve",
    "hello",
    "snow☃man",
]


def by_hand(text: str) -> list[str]:
    """Normalise, pre-tokenise, then split every word."""
    normalized = backend.normalizer.normalize_str(text)
    words = backend.pre_tokenizer.pre_tokenize_str(normalized)
    return [piece for word, _ in words for piece in wordpiece_split(word)]


for word in test_words:
    assert by_hand(word) == tokenizer.tokenize(word), (word, by_hand(word))

{word: by_hand(word) for word in test_words}


# %% tags=["hide-input"]
def stuck_at(word: str) -> tuple[list[str], int]:
    """The pieces WordPiece finds before it gets stuck, and where (-1: never stuck)."""
    found, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                break
        else:
            return found, start
        found.append(piece)
        start = end
    return found, -1


unknown = [
    w for w in test_words if tokenizer.unk_token in tokenizer.tokenize(w)
]
stuck = {}
for w in (
    w for w in unknown if by_hand(w) == [tokenizer.unk_token]
):  # whole word lost
    normal = backend.normalizer.normalize_str(w)
    found, at = stuck_at(normal)
    if found and at >= 0:
        stuck[w] = (found, normal[at])
example = next(iter(stuck), None)
bertsteps.claim(
    "unknown-whole-word",
    example is not None,
    "All the hand-made splits equal the tokenizer's. "
    + (
        f"**{example}** becomes `{tokenizer.unk_token}` as a whole: WordPiece finds "
        + " ".join(f"`{p}`" for p in stuck[example][0])
        + f" for the start of the word, then gets stuck on `{stuck[example][1]}`, a "
        "character it has no piece for, and gives up on the entire word rather than on "
        "that character."
        if example
        else ""
    ),
    "All the hand-made splits equal the tokenizer's. "
    + (
        f"In this vocabulary none of these words becomes `{tokenizer.unk_token}`."
        if not unknown
        else f"**{unknown[0]}** becomes "
        + " ".join(f"`{p}`" for p in tokenizer.tokenize(unknown[0]))
        + "."
    ),
    measure=f"words that become {tokenizer.unk_token}: {unknown}; pieces found before getting stuck: "
    + "; ".join(f"{w}: {f} then {c!r}" for w, (f, c) in stuck.items()),
    criterion="one of the test words becomes the unknown token after WordPiece found a piece "
    "for its start",
)

# %% tags=["hide-input"]
pieces_of = {w: tokenizer.tokenize(w) for w in test_words}
starts = {
    "thermodynamics": "thermo",
    "photosynthesis": "photo",
}  # the linguist's cut
firsts = {w: pieces_of[w][0] for w in starts}
bertsteps.claim(
    "greedy-not-morphemes",
    all(firsts[w] != m for w, m in starts.items()),
    f"*thermodynamics* starts with `{firsts['thermodynamics']}` and *photosynthesis* with "
    f"`{firsts['photosynthesis']}`: the longest piece that matches, not the one a linguist "
    "would pick (*thermo-*, *photo-*).",
    f"*thermodynamics* starts with `{firsts['thermodynamics']}` and *photosynthesis* with "
    f"`{firsts['photosynthesis']}`: here the longest match is, at least once, the piece a "
    "linguist would pick too.",
    measure="first pieces: "
    + ", ".join(f"{w} -> {p}" for w, p in firsts.items()),
    criterion="neither first piece is the morpheme (thermo, photo)",
)

# %% [markdown]
# Put together — normalise, pre-tokenise, split, look up the ids, add the special tokens
# around them — the hand-made pipeline gives exactly the ids the model receives:

# %%
ids = tokenizer.convert_tokens_to_ids(by_hand(text))
ids = [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]

encoded = tokenizer(text, return_tensors="pt")
torch.testing.assert_close(torch.tensor([ids]), encoded["input_ids"])
tokenizer.convert_ids_to_tokens(ids)

# %% [markdown]
# ## How many pieces does a word take?
#
# A WordPiece vocabulary is built from the frequencies in a body of text: words that
# were frequent there can get a piece of their own, and the rest must be assembled from
# several. Every extra piece is one more position the model has to process.

# %% tags=["hide-input"]
common = ["the", "house", "water", "people", "running"]
rare = [
    "photosynthesis",
    "bioluminescence",
    "hippopotamus",
    "electroencephalography",
]
rows = []
for kind, group in (("common", common), ("rare", rare)):
    rows.append(f"| ***{kind} words*** | |")
    for word in group:
        pieces = tokenizer.tokenize(word)
        rows.append(
            f"| {word} | {len(pieces)}: {' '.join(f'`{p}`' for p in pieces)} |"
        )
mean = {
    kind: sum(len(tokenizer.tokenize(w)) for w in group) / len(group)
    for kind, group in (("common", common), ("rare", rare))
}
display(Markdown("| word | pieces |\n| --- | --- |\n" + "\n".join(rows)))
counts = {w: len(tokenizer.tokenize(w)) for w in common + rare}
bertsteps.claim(
    "common-words-whole",
    all(counts[w] == 1 for w in common) and all(counts[w] >= 2 for w in rare),
    f"In this vocabulary every common word is one piece, and every rare one is built from "
    f"several: **{mean['rare']:.1f}** pieces on average.",
    f"In this vocabulary the common words take **{mean['common']:.1f}** pieces on average "
    f"and the rare ones **{mean['rare']:.1f}**: not every common word has a piece of its "
    "own, or not every rare word is split.",
    measure="pieces per word: "
    + ", ".join(f"{w} {n}" for w, n in counts.items()),
    criterion="each common word is 1 piece and each rare word at least 2",
)

# %% [markdown]
# ## Special tokens
#
# Some rows of the vocabulary are not text at all. The tokenizer knows which ones they
# are and what each is for:

# %%
special = tokenizer.all_special_tokens
dict(zip(special, tokenizer.convert_tokens_to_ids(special), strict=True))

# %% tags=["hide-input"]
roles = {
    "cls_token": "put before every input; classifiers built on BERT usually read its "
    "final vector",
    "sep_token": "closes each sentence, so it separates the two sentences of a pair",
    "pad_token": "fills short inputs up to the length of the longest one in a batch",
    "mask_token": "stands in for a hidden word in masked-word prediction, the task "
    "bert-base-uncased was pretrained on",
    "unk_token": "stands for a word WordPiece cannot build from its pieces",
}
Markdown(
    "| token = id | role |\n| --- | --- |\n"
    + "\n".join(
        f"| `{token}`&nbsp;=&nbsp;{tokenizer.convert_tokens_to_ids(token)} "
        f"| {roles.get(name, name)} |"
        for name, token in tokenizer.special_tokens_map.items()
        if isinstance(token, str)
    )
)

# %% [markdown]
# ## A batch: padding and the attention mask
#
# A batch is one tensor, so all its rows must have the same length. The tokenizer pads
# shorter inputs with `[PAD]` and returns an `attention_mask`: 1 for a real token, 0 for
# padding, so that attention ignores the padding.

# %%
texts = ["let's tokenize something?", "a short one"]
batch = tokenizer(texts, padding=True, return_tensors="pt")
for row in batch["input_ids"]:
    print(tokenizer.convert_ids_to_tokens(row))
batch["attention_mask"]

# %%
# by hand: the mask is 1 exactly where the token is not padding
not_padding = batch["input_ids"] != tokenizer.pad_token_id
torch.testing.assert_close(batch["attention_mask"], not_padding.long())

# %% [markdown]
# ## Sentence pairs and token types
#
# The original BERT, bert-base-uncased, was pretrained partly on pairs of sentences
# (does the second follow the first?), and every BERT checkpoint keeps its input format:
# the tokenizer can pack two texts into one input, `[CLS] A [SEP] B [SEP]`. The
# `token_type_ids` say which sentence each token belongs to: 0 for the first, with
# `[CLS]` and the first `[SEP]`, and 1 for the second. The
# [embedding layer](../embedding_layer/) adds a different vector for each type.

# %%
first, second = "the cat sat down", "it was asleep"
pair = tokenizer(first, second, return_tensors="pt")
print(tokenizer.convert_ids_to_tokens(pair["input_ids"][0]))
print(pair["token_type_ids"][0].tolist())

# %%
# by hand: both sentences framed by special tokens; one type per token
a = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(first))
b = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(second))
cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
ids = [cls, *a, sep, *b, sep]
types = [0] * (len(a) + 2) + [1] * (len(b) + 1)

torch.testing.assert_close(pair["input_ids"], torch.tensor([ids]))
torch.testing.assert_close(pair["token_type_ids"], torch.tensor([types]))

# %% [markdown]
# ## Truncation
#
# The model has one position row per position, so inputs cannot be longer than the
# number of rows it has. Longer texts must be cut:
# `truncation=True` with `max_length` keeps the first tokens and still ends with `[SEP]`.

# %%
config.max_position_embeddings, tokenizer.model_max_length

# %%
long_text = "WordPiece cuts a word it does not know into pieces."
full = tokenizer(long_text)["input_ids"]
max_length = len(full) // 2

cut = tokenizer(long_text, truncation=True, max_length=max_length)
cut = cut["input_ids"]
# by hand: the first max_length - 1 tokens, then [SEP]
expected = [*full[: max_length - 1], sep]
torch.testing.assert_close(torch.tensor(cut), torch.tensor(expected))
tokenizer.convert_ids_to_tokens(cut)

# %% tags=["hide-input"]
positions, limit = config.max_position_embeddings, tokenizer.model_max_length
unset = (
    limit > 10**9
)  # transformers' placeholder when a tokenizer sets no limit
display(
    Markdown(
        f"The full text takes {len(full)} tokens; with `max_length={max_length}` the "
        f"tokenizer keeps {max_length - 2} of its pieces plus `[CLS]` and `[SEP]`. This "
        f"checkpoint accepts at most {positions} positions."
    )
)
bertsteps.claim(
    "truncation-fits-positions",
    limit <= positions,
    f"`truncation=True` without `max_length` cuts to the tokenizer's own limit, "
    f"`model_max_length` = {limit}, which fits within the model's {positions} positions: "
    "here the default cut is safe.",
    (
        "Careful: this tokenizer sets no limit of its own (`model_max_length` is a "
        "placeholder), so `truncation=True` without `max_length` cuts nothing"
        if unset
        else f"Careful: `truncation=True` without `max_length` cuts to the tokenizer's "
        f"`model_max_length`, **{limit}** tokens, not to the model's {positions} positions"
    )
    + f": a text longer than {positions} tokens then reaches the model and fails, because "
    f"there is no position row for it. Pass `max_length={positions}` (or less).",
    measure=f"tokenizer.model_max_length {'unset' if unset else limit}; "
    f"config.max_position_embeddings {positions}",
    criterion="model_max_length at most max_position_embeddings",
)

# %% [markdown]
# ## Offsets: from pieces back to the text
#
# Normalisation changes the text (case, accents), so the pieces are not always
# substrings of what you typed. `return_offsets_mapping=True` gives, for every token,
# the `(start, end)` character span of the *original* text it came from; special tokens
# get the empty span `(0, 0)`.

# %%
sample = "Naïve WordPiece, let's tokenize something?"
enc = tokenizer(sample, return_offsets_mapping=True)
offsets = enc["offset_mapping"]
spans = [
    (token, sample[start:end])
    for token, (start, end) in zip(enc.tokens(), offsets, strict=True)
]
spans

# %%
# by hand: each span, normalised (and prefixed when it continues a word),
# is the token itself
word_of = enc.word_ids()  # the pre-tokenised word each token comes from
for i, (token, span) in enumerate(spans):
    word_id, prev = word_of[i], word_of[i - 1] if i else None
    if word_id is None:  # a special token
        assert span == "" and token in tokenizer.all_special_tokens
        continue
    piece = backend.normalizer.normalize_str(span)
    if word_id == prev:  # same word as the token before: a continuation
        piece = prefix + piece
    assert token == piece, (token, span)

# %% tags=["hide-input"]
seen = backend.normalizer.normalize_str("Naïve")
bertsteps.claim(
    "offsets-survive-normalising",
    seen != "Naïve",
    "This is how a tagger that labels tokens can underline the right characters of the "
    f"original text, even where the model saw `{seen}` and the reader sees `Naïve`.",
    "This is how a tagger that labels tokens can underline the right characters of the "
    "original text; this tokenizer leaves *Naïve* as it is, but one that lower-cases or "
    "strips accents would still map its pieces back to the original characters.",
    measure=f"normalised 'Naïve': {seen!r}",
    criterion="the normaliser changes Naïve (case or accent)",
)

# %% [markdown]
# ## Try it
#
# - Split your own name, a technical term, or a word in another language with
#   `wordpiece_split(...)`: how many pieces does it take?
# - Find a word that becomes `[UNK]`. Is it the character, or the whole word, that is
#   lost?
# - `bertsteps.tokenize(bert, text).pieces()` returns the span of every token in one call.
# - Pad a batch with `padding="max_length", max_length=...` and watch the attention mask.
# - Next, [word embeddings](../word_embeddings/): each id picks one row of a matrix.
