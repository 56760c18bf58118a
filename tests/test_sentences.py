"""Sentence vectors: every pooling by hand, sentence-transformers' output, errors, labelled
pairs and their AUC, the word-feature comparison, paragraphs to search, and the chapter's
claims with the bundled and a random checkpoint."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch

import bertsteps
from bertsteps.pairs import LABELS, scores_by_label
from bertsteps.senses import FEATURES, feature_layers
from bertsteps.sentences import check_layer, pool

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "examples" / "data" / "sentence_pairs.tsv"
# lengths differ a lot, so every batch of two or more is padded
SENTENCES = [
    "A man is playing a guitar.",
    "Hi.",
    "The committee postponed the vote on the new budget until the spring session next year.",
    "Someone strums an instrument.",
    "Stocks fell.",
]


@pytest.fixture(scope="module")
def tiny_mlm(tiny_mlm_folder: Path) -> bertsteps.Bert:
    return bertsteps.load(tiny_mlm_folder, device="cpu")


# ---------------------------------------------------------------------------------------
# sentence_vectors


def test_mean_pooling_equals_sentence_transformers(
    bert: bertsteps.Bert,
) -> None:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(bertsteps.default_folder()), device="cpu")
    for batch_size in (1, 2, 3, 32):
        theirs = torch.from_numpy(st.encode(SENTENCES, batch_size=batch_size))
        ours = bertsteps.sentence_vectors(
            bert,
            SENTENCES,
            pooling="mean",
            normalize=True,
            batch_size=batch_size,
        )
        assert (
            ours.dtype == torch.float32
            and ours.device.type == "cpu"
            and ours.shape == (5, 384)
        )
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("which", ["bert", "tiny"])
def test_every_pooling_by_hand_equals_the_api(
    which: str, request: pytest.FixtureRequest
) -> None:
    model: bertsteps.Bert = request.getfixturevalue(which)
    inputs = bertsteps.encode(model, SENTENCES)
    assert int((inputs["attention_mask"] == 0).sum()) > 0  # padding is there
    out = bertsteps.forward(model, SENTENCES)
    real = inputs["attention_mask"].unsqueeze(-1).float()
    last = model.config.num_hidden_layers
    for layer in (0, 1, last, -1):
        h = out.hidden_states[layer]
        by_hand = {
            "mean": (h * real).sum(1) / real.sum(1),
            "max": h.masked_fill(real == 0, float("-inf")).amax(1),
            "cls": h[:, 0],
        }
        for pooling, expected in by_hand.items():
            api = bertsteps.sentence_vectors(
                model, SENTENCES, pooling=pooling, layer=layer, batch_size=2
            )
            torch.testing.assert_close(api, expected.cpu())
    dense = model.model.pooler.dense
    pooled = torch.tanh(
        out.last_hidden_state[:, 0] @ dense.weight.T + dense.bias
    )
    torch.testing.assert_close(pooled, out.pooler_output)
    torch.testing.assert_close(
        bertsteps.sentence_vectors(
            model, SENTENCES, pooling="pooler", batch_size=3
        ),
        pooled.cpu(),
    )


@pytest.mark.parametrize("pooling", ["mean", "max", "cls", "pooler"])
def test_batches_give_the_vectors_of_one_sentence_at_a_time(
    tiny: bertsteps.Bert, pooling: str
) -> None:
    one_by_one = torch.cat(
        [
            bertsteps.sentence_vectors(tiny, s, pooling=pooling)
            for s in SENTENCES
        ]
    )
    for batch_size in (2, 5):
        batched = bertsteps.sentence_vectors(
            tiny, SENTENCES, pooling=pooling, batch_size=batch_size
        )
        torch.testing.assert_close(batched, one_by_one)


def test_pool_never_counts_padding() -> None:
    states = torch.tensor([[[1.0, -5.0], [3.0, -1.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert pool(states, mask, "mean").tolist() == [[2.0, -3.0]]
    assert pool(states, mask, "max").tolist() == [[3.0, -1.0]]
    assert pool(states, mask, "cls").tolist() == [[1.0, -5.0]]


def test_normalize_and_pooled_layers(bert: bertsteps.Bert) -> None:
    v = bertsteps.sentence_vectors(bert, SENTENCES, normalize=True)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(5))
    found = bertsteps.pooled_layers(
        bert, SENTENCES, poolings=["mean", "pooler"], layers=[0, 3, -1]
    )
    assert sorted(found) == [
        ("mean", 0),
        ("mean", 3),
        ("mean", 6),
        ("pooler", 6),
    ]
    torch.testing.assert_close(
        found["mean", 3], bertsteps.sentence_vectors(bert, SENTENCES, layer=3)
    )


def test_over_long_sentences_are_cut_with_a_warning_or_refused(
    tiny: bertsteps.Bert,
) -> None:
    long = " ".join(
        ["word"] * 200
    )  # 200 tokens + [CLS] and [SEP]; the tiny model reads 128
    assert bertsteps.max_tokens(tiny) == 128
    with pytest.warns(
        UserWarning,
        match=r"sentence 1 has 202 tokens; .* reads at most 128, so its last 74 tokens",
    ):
        cut = bertsteps.sentence_vectors(tiny, ["short one", long])
    inputs = bertsteps.encode(tiny, long, truncation=True, max_length=128)
    assert inputs["input_ids"].shape[1] == 128
    with torch.inference_mode():
        expected = tiny.model(**inputs).last_hidden_state.mean(dim=1)
    torch.testing.assert_close(cut[1:], expected)
    with pytest.raises(
        bertsteps.SentenceError,
        match=r"sentence 0 has 202 tokens .* reads at most 128: shorten it",
    ):
        bertsteps.sentence_vectors(tiny, long, truncate=False)


@pytest.mark.parametrize(
    ("sentences", "options", "message"),
    [
        ([], {}, "no sentences given"),
        ("", {}, "sentence 0 is empty or only spaces"),
        (["fine", " \t\n"], {}, "sentence 1 is empty or only spaces"),
        (["fine", 3], {}, "sentence 1 is a int, not a str"),
        (
            "fine",
            {"pooling": "sum"},
            "unknown pooling 'sum': use one of mean, cls, max, pooler",
        ),
        (
            "fine",
            {"batch_size": 0},
            "batch_size must be a positive int, got 0",
        ),
        (
            "fine",
            {"batch_size": -2},
            "batch_size must be a positive int, got -2",
        ),
        (
            "fine",
            {"batch_size": True},
            "batch_size must be a positive int, got True",
        ),
        (
            "fine",
            {"layer": 7},
            r"layer=7 is out of range: .* hidden states 0 \(the embedding output\) to 6",
        ),
        ("fine", {"layer": -8}, "layer=-8 is out of range"),
        ("fine", {"layer": 1.0}, "layer=1.0 is out of range"),
        (
            "fine",
            {"pooling": "pooler", "layer": 0},
            "pooling='pooler' reads the last layer only, but layer=0 was asked",
        ),
    ],
)
def test_bad_input_is_a_clear_error(
    bert: bertsteps.Bert, sentences: object, options: dict, message: str
) -> None:
    with pytest.raises(bertsteps.SentenceError, match=message):
        bertsteps.sentence_vectors(bert, sentences, **options)  # type: ignore[arg-type]


def test_pooler_pooling_without_pooler_weights_is_an_error(
    tiny_mlm: bertsteps.Bert,
) -> None:
    assert not bertsteps.has_pooler(tiny_mlm)
    with pytest.raises(
        bertsteps.SentenceError,
        match="has no pooler weights, so pooling='pooler' is impossible",
    ):
        bertsteps.sentence_vectors(tiny_mlm, "fine", pooling="pooler")
    assert bertsteps.sentence_vectors(
        tiny_mlm, "fine", pooling="cls"
    ).shape == (1, 32)


def test_check_layer_counts_from_both_ends(tiny: bertsteps.Bert) -> None:
    assert [check_layer(tiny, layer) for layer in (0, 1, 2, -1, -2, -3)] == [
        0,
        1,
        2,
        2,
        1,
        0,
    ]


# ---------------------------------------------------------------------------------------
# rank and search


def test_rank_orders_by_cosine_and_stops_at_k() -> None:
    vectors = torch.tensor([[0.0, 1.0], [1.0, 0.1], [-1.0, 0.0], [1.0, 1.0]])
    hits = bertsteps.rank([1.0, 0.0], vectors, k=3)
    assert [h.index for h in hits] == [1, 3, 0]
    expected = bertsteps.cosine_matrix([1.0, 0.0], vectors)[0]
    assert [h.score for h in hits] == pytest.approx(
        [float(expected[i]) for i in (1, 3, 0)]
    )
    assert [h.index for h in bertsteps.rank([1.0, 0.0], vectors, k=10)] == [
        1,
        3,
        0,
        2,
    ]  # at most k
    with pytest.raises(
        bertsteps.SentenceError, match="k must be a positive int, got 0"
    ):
        bertsteps.rank([1.0, 0.0], vectors, k=0)
    with pytest.raises(
        bertsteps.SentenceError,
        match=r"query has shape \(2, 2\): pass one vector",
    ):
        bertsteps.rank(vectors[:2], vectors)


def test_search_finds_the_paraphrase(bert: bertsteps.Bert) -> None:
    passages = [
        "Stock prices fell sharply today.",
        "A kitten is napping on a rug.",
        "It rained all week.",
    ]
    hits = bertsteps.search(bert, "a sleeping cat", passages, k=2)
    assert hits[0].index == 1 and len(hits) == 2
    assert hits[0].score > 0.4 > hits[1].score


# ---------------------------------------------------------------------------------------
# labelled pairs, AUC, separation


def test_roc_auc_matches_its_definition_and_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    assert bertsteps.roc_auc([0.9, 0.8], [0.1, 0.85]) == 0.75
    assert bertsteps.roc_auc([1, 2, 3], [4, 5]) == 0.0
    assert bertsteps.roc_auc([0.5, 0.5], [0.5]) == 0.5
    g = torch.Generator().manual_seed(3)
    pos = torch.randint(0, 6, (17,), generator=g).float()  # many ties
    neg = torch.randint(0, 5, (11,), generator=g).float()
    pairwise = float(
        (
            (pos[:, None] > neg[None]).float()
            + 0.5 * (pos[:, None] == neg[None]).float()
        ).mean()
    )
    labels = [1] * len(pos) + [0] * len(neg)
    assert bertsteps.roc_auc(pos, neg) == pytest.approx(pairwise)
    assert bertsteps.roc_auc(pos, neg) == pytest.approx(
        roc_auc_score(labels, torch.cat([pos, neg]).numpy())
    )
    with pytest.raises(
        bertsteps.BertStepsError,
        match="at least one positive and one negative",
    ):
        bertsteps.roc_auc([], [0.1])
    with pytest.raises(bertsteps.BertStepsError, match="NaN or infinite"):
        bertsteps.roc_auc([float("nan")], [0.1])


def test_the_committed_pairs_are_read() -> None:
    pairs = bertsteps.read_pairs(PAIRS)
    assert len(pairs) == 45
    assert {
        label: sum(p.label == label for p in pairs) for label in LABELS
    } == {
        "paraphrase": 15,
        "related": 15,
        "unrelated": 15,
    }
    assert len({(p.first, p.second) for p in pairs}) == 45
    assert (
        pairs[0].first == "The meeting has been postponed until next week."
        and pairs[0].line == 6
    )
    assert all(p.first.strip() and p.second.strip() for p in pairs)
    overlap = torch.tensor(
        [bertsteps.word_overlap(p.first, p.second) for p in pairs]
    )
    groups = scores_by_label(overlap, pairs)
    # the pairs are written so that shared words do not give the answer away
    assert bertsteps.roc_auc(groups["paraphrase"], groups["unrelated"]) < 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("first\tsecond\tlabel\n", "the first line must be the header"),
        (
            "label\tfirst\tsecond\nsame\ta\tb\n",
            r":2: unknown label 'same': use one of paraphrase, related, unrelated",
        ),
        (
            "# note\nlabel\tfirst\tsecond\nrelated\ta\n",
            r":3: expected 3 tab-separated fields .* got 2",
        ),
        ("label\tfirst\tsecond\nrelated\ta\t \n", r":2: a sentence is empty"),
        ("label\tfirst\tsecond\n\n", "holds no pairs"),
    ],
)
def test_bad_pair_files_are_clear_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "pairs.tsv"
    file.write_text(text)
    with pytest.raises(bertsteps.BertStepsError, match=message):
        bertsteps.read_pairs(file)


def test_missing_pair_file_and_labels(tmp_path: Path) -> None:
    with pytest.raises(
        bertsteps.BertStepsError, match="cannot read the pair file"
    ):
        bertsteps.read_pairs(tmp_path / "none.tsv")
    only = [
        bertsteps.SentencePair("a b", "c d", "paraphrase"),
        bertsteps.SentencePair("a", "e", "related"),
    ]
    with pytest.raises(
        bertsteps.BertStepsError, match="no pairs labelled unrelated"
    ):
        scores_by_label(torch.tensor([0.1, 0.2]), only)


def test_separation_of_the_bundled_checkpoint(bert: bertsteps.Bert) -> None:
    pairs = bertsteps.read_pairs(PAIRS)
    table = bertsteps.separations(bert, pairs)
    assert [(s.pooling, s.layer) for s in table] == [
        *(
            (pooling, layer)
            for pooling in ("mean", "cls", "max")
            for layer in (0, 3, 5, 6)
        ),
        ("pooler", 6),
    ]
    found = {(s.pooling, s.layer): s for s in table}
    recipe = found["mean", 6]
    assert recipe.auc == pytest.approx(0.96, abs=0.005)
    assert recipe.auc_related == pytest.approx(0.884, abs=0.005)
    assert (
        recipe.mean_cosine["paraphrase"]
        > recipe.mean_cosine["related"]
        > recipe.mean_cosine["unrelated"]
    )
    assert (
        found["cls", 0].auc == 0.5
    )  # one and the same [CLS] vector for every sentence
    assert (
        max(s.auc for s in table)
        == pytest.approx(found["mean", 3].auc)
        == pytest.approx(0.978, abs=0.005)
    )
    single = bertsteps.separation(bert, pairs, pooling="max", layer=-1)
    assert single == found["max", 6]
    cosines = bertsteps.pair_cosines(bert, pairs[:2])
    vectors = bertsteps.sentence_vectors(
        bert, [pairs[0].first, pairs[0].second], normalize=True
    )
    assert float(cosines[0]) == pytest.approx(
        float(vectors[0] @ vectors[1]), abs=1e-6
    )


def test_random_weights_separate_nothing(
    tiny: bertsteps.Bert, tiny_mlm: bertsteps.Bert
) -> None:
    pairs = bertsteps.read_pairs(PAIRS)
    for model in (tiny, tiny_mlm):
        table = bertsteps.separations(model, pairs)
        assert len(table) == (10 if model is tiny else 12)
        assert max(s.auc for s in table) < 0.7, [
            (s.pooling, s.layer, s.auc) for s in table
        ]
        gaps = bertsteps.sense_gaps(model)
        assert max(g.auc for g in gaps) < 0.7, [
            (g.feature, g.auc) for g in gaps
        ]


# ---------------------------------------------------------------------------------------
# word features


def test_feature_layers() -> None:
    assert [feature_layers(6, f) for f in FEATURES] == [
        [0],
        [6],
        [5],
        [3, 4, 5, 6],
    ]
    assert [feature_layers(2, f) for f in FEATURES] == [[0], [2], [1], [1, 2]]
    with pytest.raises(
        bertsteps.BertStepsError, match="unknown word feature 'first layer'"
    ):
        feature_layers(6, "first layer")


def test_sense_gaps_of_the_bundled_checkpoint(bert: bertsteps.Bert) -> None:
    gaps = {g.feature: g for g in bertsteps.sense_gaps(bert)}
    assert list(gaps) == list(FEATURES)
    assert gaps["embedding output"].auc == pytest.approx(0.546, abs=0.01)
    assert gaps["second-to-last layer"].auc == pytest.approx(0.954, abs=0.01)
    assert (
        max(gaps.values(), key=lambda g: g.auc).feature
        == "second-to-last layer"
    )
    last = gaps["last layer"]
    assert last.gap == pytest.approx(last.within - last.between)
    # the same measure computed here from word_in_context
    uses = [
        (word, sense, bertsteps.word_in_context(bert, text, word).last)
        for word, senses in bertsteps.SENSE_SENTENCES.items()
        for sense, texts in senses.items()
        for text in texts
    ]
    same, different = [], []
    for i, (w1, s1, v1) in enumerate(uses):
        for w2, s2, v2 in uses[i + 1 :]:
            if w1 == w2:
                (same if s1 == s2 else different).append(
                    float(torch.cosine_similarity(v1, v2, dim=0))
                )
    assert len(same) == 13 and len(different) == 30
    assert last.within == pytest.approx(sum(same) / len(same), abs=1e-5)
    assert last.between == pytest.approx(
        sum(different) / len(different), abs=1e-5
    )


def test_the_contextual_chapter_uses_the_shared_sense_sentences() -> None:
    chapter = (ROOT / "examples" / "contextual_embeddings.py").read_text()
    assert "sentences = bertsteps.SENSE_SENTENCES" in chapter
    for senses in bertsteps.SENSE_SENTENCES.values():
        for sense in senses:
            assert f'"{sense}": [' not in chapter, (
                f"the {sense!r} sentences are copied into the chapter again"
            )


# ---------------------------------------------------------------------------------------
# paragraphs


def test_split_and_read_paragraphs(tmp_path: Path) -> None:
    text = "# Title\n\nFirst paragraph,\nsecond line.\n\n\n  Indented one.\n"
    found = bertsteps.split_paragraphs(text, "x.md")
    assert [(p.line, p.text) for p in found] == [
        (1, "# Title"),
        (3, "First paragraph, second line."),
        (7, "Indented one."),
    ]
    assert (
        found[1].first_line == "First paragraph,"
        and found[1].where == "x.md:3"
    )
    file = tmp_path / "notes.md"
    file.write_text(text)
    assert bertsteps.read_paragraphs(file)[2].where == f"{file}:7"
    with pytest.raises(bertsteps.BertStepsError, match="no such file"):
        bertsteps.read_paragraphs(tmp_path / "missing.md")
    with pytest.raises(bertsteps.BertStepsError, match="is a folder"):
        bertsteps.read_paragraphs(tmp_path)
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(bertsteps.BertStepsError, match="is not UTF-8 text"):
        bertsteps.read_paragraphs(tmp_path / "bin.md")


def test_chapter_paragraphs_point_at_their_lines() -> None:
    chapter = ROOT / "examples" / "tokenization.py"
    paragraphs = bertsteps.chapter_paragraphs(chapter)
    lines = chapter.read_text().splitlines()
    assert len(paragraphs) > 5
    assert {p.title for p in paragraphs} == {"Tokenization"}
    for p in paragraphs:
        assert not re.match(r"#{1,6} ", p.text)  # headings are left out
        assert lines[p.line - 1].lstrip("#").strip() == p.first_line.strip()
    assert bertsteps.site_root() == ROOT


# ---------------------------------------------------------------------------------------
# the chapter's claims, from the executed notebook

CLAIMS = [
    "sentence-best",
    "sentence-recipe",
    "sentence-context",
    "sentence-cosine-scale",
    "sentence-partners",
    "search-tokenization",
    "word-feature-best",
    "word-feature-context",
]


def chapter_claims(checkpoint: Path | None, tmp_path: Path) -> dict[str, str]:
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(ROOT / "examples" / "sentence_vectors.py")
    env = {"BERTSTEPS_CHECKPOINT": str(checkpoint)} if checkpoint else {}
    old = {
        k: os.environ.get(k) for k in ("BERTSTEPS_CHECKPOINT", "MPLBACKEND")
    }
    os.environ.pop("BERTSTEPS_CHECKPOINT", None)
    os.environ.update({"MPLBACKEND": "Agg", **env})
    try:
        NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    text = "\n".join(
        str(output.get("data", {}).get("text/markdown", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    found = re.findall(
        r'data-claim="([a-z0-9-]+)" data-holds="(true|false)"', text
    )
    return dict(found)


@pytest.mark.slow  # executes the chapter in a kernel
def test_the_chapter_claims_hold_for_the_bundled_checkpoint(
    tmp_path: Path,
) -> None:
    assert chapter_claims(None, tmp_path) == dict.fromkeys(CLAIMS, "true")


@pytest.mark.slow  # executes the chapter in a kernel
def test_the_chapter_claims_nothing_for_a_random_checkpoint(
    tiny_folder: Path, tmp_path: Path
) -> None:
    # and, for a checkpoint other than the bundled one, whether its pooler looks trained:
    # the feed-forward chapter's measure (a random pooler keeps its zero biases)
    assert chapter_claims(tiny_folder, tmp_path) == dict.fromkeys(
        [*CLAIMS, "sentence-pooler-trained"], "false"
    )


def test_pooler_looks_trained(
    bert: bertsteps.Bert, tiny: bertsteps.Bert
) -> None:
    from types import SimpleNamespace

    from bertsteps.sentences import pooler_looks_trained

    assert (
        pooler_looks_trained(bert) is False
    )  # the bundled pooler keeps its zero biases too (a leftover)
    dense = SimpleNamespace(bias=torch.tensor([0.0, 0.1]))
    assert (
        pooler_looks_trained(
            SimpleNamespace(
                model=SimpleNamespace(pooler=SimpleNamespace(dense=dense))
            )
        )
        is True
    )
    assert (
        pooler_looks_trained(
            SimpleNamespace(model=SimpleNamespace(pooler=None))
        )
        is None
    )
    assert (
        pooler_looks_trained(tiny) is False
    )  # random weights: the pooler biases BERT initialises to 0
