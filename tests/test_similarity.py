"""Cosine matrices against the formula, the seed's pairwise loop, and the semantics of neighbours."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import bertsteps
from bertsteps.similarity import excluded_ids

SEED_WORDS = ["king", "queen", "man", "woman", "dog", "cat", "apple", "pear"]


def formula(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """cos(a, b) = a.b / (|a| |b|), in float64, 0 where a norm is 0."""
    a, b = (
        np.atleast_2d(a).astype(np.float64),
        np.atleast_2d(b).astype(np.float64),
    )
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a @ b.T) / np.outer(na, nb)
    return np.nan_to_num(out, nan=0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_numpy_rectangular_matches_formula(dtype: type) -> None:
    rng = np.random.default_rng(0)
    a, b = (
        rng.normal(size=(13, 7)).astype(dtype),
        rng.normal(size=(5, 7)).astype(dtype),
    )
    got = bertsteps.cosine_matrix(a, b)
    assert (
        got.dtype == torch.float32
        and got.device.type == "cpu"
        and got.shape == (13, 5)
    )
    np.testing.assert_allclose(
        got.numpy(), formula(a, b), atol=1e-5 if dtype != np.float16 else 1e-3
    )


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.bfloat16]
)
def test_torch_inputs_match_formula(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(20, 16, generator=g).to(dtype)
    got = bertsteps.cosine_matrix(a)
    expected = formula(a.double().numpy(), a.double().numpy())
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_one_dimensional_inputs_and_lists() -> None:
    got = bertsteps.cosine_matrix(
        np.array([1.0, 0.0]), [[1.0, 1.0], [0.0, 2.0]]
    )
    torch.testing.assert_close(got, torch.tensor([[2**-0.5, 0.0]]))


def test_zero_vectors_give_zero_not_nan() -> None:
    a = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    got = bertsteps.cosine_matrix(a)
    assert not torch.isnan(got).any()
    torch.testing.assert_close(got, torch.tensor([[0.0, 0.0], [0.0, 1.0]]))


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
def test_chunking_does_not_change_the_result(chunk_size: int) -> None:
    a = torch.randn(23, 9, generator=torch.Generator().manual_seed(2))
    b = torch.randn(11, 9, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(
        bertsteps.cosine_matrix(a, b, chunk_size=chunk_size),
        bertsteps.cosine_matrix(a, b),
    )


def test_seed_pairwise_loop_equals_one_call(bert: bertsteps.Bert) -> None:
    """The seed notebook's double loop with torch.nn.CosineSimilarity, against cosine_matrix."""
    cos = torch.nn.CosineSimilarity()
    embeddings = []
    for word in SEED_WORDS:
        token_id = bert.tokenizer.convert_tokens_to_ids([word])
        embeddings.append(
            bert.model.embeddings.word_embeddings(
                torch.tensor(token_id, device=bert.device)
            ).squeeze()
        )
    loop = torch.zeros((len(SEED_WORDS), len(SEED_WORDS)))
    for i in range(len(SEED_WORDS)):
        for j in range(len(SEED_WORDS)):
            loop[i, j] = cos(
                embeddings[i].unsqueeze(0), embeddings[j].unsqueeze(0)
            )
    ours = bertsteps.cosine_matrix(bertsteps.word_vectors(bert, SEED_WORDS))
    torch.testing.assert_close(ours, loop.detach())


def test_king_and_queen_are_close_in_the_default(bert: bertsteps.Bert) -> None:
    m = bertsteps.cosine_matrix(bertsteps.word_vectors(bert, SEED_WORDS))
    king, queen, man, _woman, dog, cat, apple, pear = range(8)
    assert m[king, queen] > 0.5
    assert m[king, queen] > max(m[king, dog], m[king, apple], m[queen, pear])
    assert m[dog, cat] > m[dog, apple] and m[apple, pear] > m[apple, man]


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 12), st.integers(1, 6)),
        elements=finite,
    )
)
def test_properties(a: np.ndarray) -> None:
    m = bertsteps.cosine_matrix(a)
    assert torch.isfinite(m).all()
    torch.testing.assert_close(m, m.T)
    assert float(m.min()) >= -1.0 and float(m.max()) <= 1.0
    nonzero = np.linalg.norm(a.astype(np.float64), axis=1) > 1e-6
    diag = m.diagonal().numpy()
    np.testing.assert_allclose(diag[nonzero], 1.0, atol=1e-4)
    # scaling a row by a positive number changes nothing
    torch.testing.assert_close(
        bertsteps.cosine_matrix(a * 3.5), m, atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (
            np.ones((2, 3)),
            np.ones((2, 4)),
            r"size 3 \(shape \(2, 3\)\).*size 4 \(shape \(2, 4\)\)",
        ),
        (np.ones((2, 3, 4)), None, "one vector .* or a matrix"),
        (np.array([[1.0, np.nan]]), None, "NaN or infinite"),
        (np.ones((2, 0)), None, "dimension 0"),
        (np.array([[1 + 2j]]), None, "real-valued"),
        ("hello", None, "must be a torch tensor"),
    ],
)
def test_bad_inputs(a: object, b: object, message: str) -> None:
    with pytest.raises(bertsteps.BertStepsError, match=message):
        bertsteps.cosine_matrix(a, b)  # type: ignore[arg-type]


def test_bad_chunk_size() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="chunk_size"):
        bertsteps.cosine_matrix(np.ones((3, 2)), chunk_size=0)


def test_missing_device_is_an_error() -> None:
    with pytest.raises(bertsteps.DeviceError):
        bertsteps.cosine_matrix(np.ones((3, 2)), device="cuda:99")


def test_large_result_needs_no_full_size_temporary() -> None:
    """Peak memory of a 12,000 x 12,000 result stays near the result itself (576 MB), not double."""
    code = (
        "import resource, torch, bertsteps\n"
        "a = torch.randn(12000, 64)\n"
        "bertsteps.cosine_matrix(a[:2])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "m = bertsteps.cosine_matrix(a, device='cpu')\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) * 1024, m.numel() * 4)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    grown, result = map(int, out.stdout.split())
    assert grown < result * 1.25 + 64 * 2**20, (
        f"peak grew by {grown / 2**20:.0f} MiB for a {result / 2**20:.0f} MiB result"
    )


def test_nearest_king(bert: bertsteps.Bert) -> None:
    top = bertsteps.nearest(bert, "king", k=5)
    tokens = [n.token for n in top]
    assert "queen" in tokens[:3]
    assert "king" not in tokens
    scores = [n.score for n in top]
    assert scores == sorted(scores, reverse=True)
    # the score is the cosine of the two embedding rows
    expected = bertsteps.cosine_matrix(
        bertsteps.word_vectors(bert, ["king", tokens[0]])
    )[0, 1]
    assert scores[0] == pytest.approx(float(expected), abs=1e-5)


def test_nearest_to_a_vector_equals_nearest_to_the_word_plus_itself(
    bert: bertsteps.Bert,
) -> None:
    vector = bertsteps.word_vectors(bert, "dog")[0]
    by_vector = bertsteps.nearest(bert, vector.numpy(), k=4)
    assert by_vector[0].token == "dog" and by_vector[0].score == pytest.approx(
        1.0, abs=1e-5
    )
    assert [n.token for n in by_vector[1:]] == [
        n.token for n in bertsteps.nearest(bert, "dog", k=3)
    ]


def test_nearest_never_offers_special_or_placeholder_tokens(
    bert: bertsteps.Bert,
) -> None:
    specials = set(
        bert.tokenizer.convert_ids_to_tokens(excluded_ids(bert).tolist())
    )
    assert {
        "[CLS]",
        "[SEP]",
        "[PAD]",
        "[MASK]",
        "[UNK]",
        "[unused0]",
    } <= specials
    cls = bert.embedding_matrix[bert.tokenizer.cls_token_id]
    assert not specials & {
        n.token for n in bertsteps.nearest(bert, cls.cpu(), k=50)
    }


def test_nearest_errors(bert: bertsteps.Bert) -> None:
    with pytest.raises(bertsteps.BertStepsError, match="positive int"):
        bertsteps.nearest(bert, "king", k=0)
    with pytest.raises(bertsteps.BertStepsError, match="more than the"):
        bertsteps.nearest(bert, "king", k=10**6)
    with pytest.raises(
        bertsteps.BertStepsError, match=r"shape \(1, 3\).*size 384"
    ):
        bertsteps.nearest(bert, [1.0, 2.0, 3.0])
    with pytest.raises(bertsteps.TokenError, match="UNK"):
        bertsteps.nearest(bert, "\u2603")


def test_analogy_man_king_woman_queen(bert: bertsteps.Bert) -> None:
    answers = bertsteps.analogy(bert, "man", "king", "woman", k=5)
    tokens = [a.token for a in answers]
    assert "queen" in tokens[:2]
    assert not {"man", "king", "woman"} & set(tokens)


def test_analogy_scores_against_b_minus_a_plus_c(bert: bertsteps.Bert) -> None:
    va, vb, vc = bertsteps.word_vectors(bert, ["france", "paris", "germany"])
    best = bertsteps.analogy(bert, "france", "paris", "germany", k=1)[0]
    target = bertsteps.word_vectors(bert, best.token)[0]
    assert best.score == pytest.approx(
        float(bertsteps.cosine_matrix(vb - va + vc, target)[0, 0]), abs=1e-5
    )


def test_extreme_magnitudes_keep_their_direction() -> None:
    tiny = torch.full((2, 4), torch.finfo(torch.float32).smallest_normal)
    tiny[1] *= 3.5
    torch.testing.assert_close(bertsteps.cosine_matrix(tiny), torch.ones(2, 2))
    huge = torch.tensor([[3e38, 3e38, 0.0], [3e38, 0.0, 0.0]])
    torch.testing.assert_close(
        bertsteps.cosine_matrix(huge),
        torch.tensor([[1.0, 2**-0.5], [2**-0.5, 1.0]]),
    )
