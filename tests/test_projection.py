"""PCA against numpy's SVD and scikit-learn, up to the sign of each component."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

import bertsteps
from bertsteps.projection import Projection, pca


def random_data(n: int = 60, d: int = 9, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # correlated columns with distinct variances, off-centre
    return (
        rng.normal(size=(n, d))
        @ rng.normal(size=(d, d))
        * np.linspace(3, 0.5, d)
        + 7.0
    )


def align_signs(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Flip each column of ``got`` to agree in sign with ``expected`` (PCA axes have no sign)."""
    signs = np.sign(np.sum(got * expected, axis=0))
    return got * signs


@pytest.mark.parametrize("k", [1, 2, 5])
def test_matches_numpy_svd(k: int) -> None:
    x = random_data()
    p = pca(x, k=k)
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    expected_coords = u[:, :k] * s[:k]
    np.testing.assert_allclose(
        align_signs(p.coords.numpy(), expected_coords),
        expected_coords,
        rtol=1e-4,
        atol=1e-4,
    )
    np.testing.assert_allclose(
        align_signs(p.components.numpy().T, vt[:k].T).T,
        vt[:k],
        rtol=1e-4,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        p.explained_variance_ratio.numpy(),
        (s**2 / np.sum(s**2))[:k],
        rtol=1e-5,
    )
    np.testing.assert_allclose(p.mean.numpy(), x.mean(axis=0), rtol=1e-6)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_matches_scikit_learn(k: int) -> None:
    x = random_data(n=40, d=6, seed=3)
    ref = PCA(n_components=k, svd_solver="full").fit(x)
    p = pca(torch.tensor(x, dtype=torch.float32), k=k)
    coords = ref.transform(x)
    np.testing.assert_allclose(
        align_signs(p.coords.numpy(), coords), coords, rtol=1e-3, atol=1e-3
    )
    np.testing.assert_allclose(
        np.abs(np.sum(p.components.numpy() * ref.components_, axis=1)),
        np.ones(k),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        p.explained_variance_ratio.numpy(),
        ref.explained_variance_ratio_,
        rtol=1e-5,
    )


def test_sign_convention_is_deterministic_and_largest_entry_positive() -> None:
    x = random_data(seed=5)
    a, b = pca(x, k=4), pca(x.copy(), k=4)
    assert torch.equal(a.components, b.components) and torch.equal(
        a.coords, b.coords
    )
    rows = a.components
    strongest = rows.gather(1, rows.abs().argmax(dim=1, keepdim=True))
    assert bool((strongest > 0).all())
    # negating the data flips the SVD's signs, not ours: the axes stay, the points mirror
    neg = pca(-x, k=4)
    torch.testing.assert_close(neg.components, a.components)
    torch.testing.assert_close(neg.coords, -a.coords, rtol=1e-4, atol=1e-4)


def test_components_are_orthonormal_and_ratios_sum_to_one() -> None:
    x = random_data(n=30, d=5, seed=1)
    p = pca(x, k=5)
    torch.testing.assert_close(
        p.components @ p.components.T, torch.eye(5), atol=1e-5, rtol=0
    )
    assert abs(float(p.explained_variance_ratio.sum()) - 1.0) < 1e-5
    assert bool(
        (
            p.explained_variance_ratio[:-1] >= p.explained_variance_ratio[1:]
        ).all()
    )


def test_transform_of_the_fitted_rows_gives_coords() -> None:
    x = random_data(n=25, d=7, seed=2)
    p = pca(x, k=3)
    torch.testing.assert_close(p.transform(x), p.coords, rtol=1e-4, atol=1e-4)
    ref = PCA(n_components=3, svd_solver="full").fit(x)
    new = np.random.default_rng(9).normal(size=(4, 7))
    expected = ref.transform(new)
    np.testing.assert_allclose(
        align_signs(p.transform(new).numpy(), expected),
        expected,
        rtol=1e-3,
        atol=1e-3,
    )


def test_unpacks_as_a_tuple_and_accepts_lists() -> None:
    coords, components, ratio, mean = pca(
        [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [0.0, -0.5]]
    )
    assert isinstance(pca([[1.0, 0.0], [0.0, 1.0]], k=1), Projection)
    torch.testing.assert_close(components, torch.eye(2))
    torch.testing.assert_close(ratio, torch.tensor([0.8, 0.2]))
    torch.testing.assert_close(mean, torch.zeros(2))
    torch.testing.assert_close(
        coords,
        torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [0.0, -0.5]]),
    )


def test_fewer_rows_than_dimensions_match_scikit_learn() -> None:
    x = random_data(n=12, d=30, seed=4)[:, :30]
    ref = PCA(n_components=4, svd_solver="full").fit(x)
    p = pca(x, k=4)
    np.testing.assert_allclose(
        p.explained_variance_ratio.numpy(),
        ref.explained_variance_ratio_,
        rtol=1e-5,
    )
    coords = ref.transform(x)
    np.testing.assert_allclose(
        align_signs(p.coords.numpy(), coords), coords, rtol=1e-3, atol=1e-3
    )


def test_embedding_matrix_of_the_default_checkpoint(
    bert: bertsteps.Bert,
) -> None:
    p = bertsteps.pca(bert.embedding_matrix, k=2)
    n, d = bert.embedding_matrix.shape
    assert p.coords.shape == (n, 2) and p.components.shape == (2, d)
    sample = (
        bert.embedding_matrix.cpu().double().numpy()[::8]
    )  # scikit-learn's full SVD is slow
    p = bertsteps.pca(sample, k=2)
    ref = PCA(n_components=2, svd_solver="full").fit(sample)
    np.testing.assert_allclose(
        p.explained_variance_ratio.numpy(),
        ref.explained_variance_ratio_,
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        np.abs(
            np.sum(p.components.double().numpy() * ref.components_, axis=1)
        ),
        [1.0, 1.0],
        atol=1e-4,
    )


@pytest.mark.parametrize(
    ("matrix", "k", "message"),
    [
        ([[1.0, 2.0]], 1, "at least two vectors"),
        ([[1.0, 2.0], [3.0, 4.0]], 3, "k must be an int from 1 to 2"),
        ([[1.0, 2.0], [3.0, 4.0]], 0, "k must be an int"),
        ([[1.0, 2.0], [3.0, 4.0]], True, "k must be an int"),
        ([[1.0, float("nan")], [3.0, 4.0]], 1, "NaN or infinite"),
        ([[1.0, 2.0], [1.0, 2.0]], 1, "same vector"),
        ([[[1.0]]], 1, "pass one vector"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    matrix: object, k: object, message: str
) -> None:
    with pytest.raises(bertsteps.BertStepsError, match=message):
        pca(matrix, k=k)  # type: ignore[arg-type]


def test_transform_refuses_other_dimensions() -> None:
    p = pca(random_data(n=10, d=4), k=2)
    with pytest.raises(bertsteps.BertStepsError, match="size 3"):
        p.transform(np.ones((2, 3)))
