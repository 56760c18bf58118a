"""Principal component analysis: many vectors drawn in a few dimensions, reproducibly.

PCA centres the rows of a matrix and finds the orthogonal directions along which they
vary most. Projecting onto the first two gives a 2-D picture of, say, word embeddings
that keeps as much of their spread as a flat picture can. The directions come from a
decomposition in float64; each one's sign is fixed (its largest entry,
by absolute value, is positive), so the same input always gives the same picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import torch

from .errors import BertStepsError
from .similarity import as_matrix
from .validation import is_int

if TYPE_CHECKING:
    from .checkpoints import Bert
    from .similarity import ArrayLike


class Projection(NamedTuple):
    """The result of [`pca`][bertsteps.pca]. Unpacks as ``coords, components, ratio, mean``.

    ``coords`` is ``(n, k)``: each input row in the new axes. ``components`` is ``(k, d)``:
    the axes, orthonormal rows, strongest first. ``explained_variance_ratio`` is ``(k,)``:
    the share of the total variance along each axis. ``mean`` is ``(d,)``: the centre
    that was subtracted. All float32 on the CPU.

    Examples:
        >>> p = pca([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]], k=1)
        >>> p.coords.flatten().tolist(), p.explained_variance_ratio.tolist()
        ([-2.0, 0.0, 2.0], [1.0])
    """

    coords: torch.Tensor
    components: torch.Tensor
    explained_variance_ratio: torch.Tensor
    mean: torch.Tensor

    def transform(self, x: ArrayLike) -> torch.Tensor:
        """Other vectors in the same axes: ``(x - mean) @ components.T``, a float32 CPU tensor.

        Examples:
            >>> p = pca([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]], k=1)
            >>> p.transform([[3.0, 5.0]]).tolist()
            [[1.0]]
        """
        rows = as_matrix(x, "x").to("cpu", torch.float64)
        if rows.shape[1] != self.components.shape[1]:
            raise BertStepsError(
                f"x has vectors of size {rows.shape[1]}, but this projection was fitted "
                f"on vectors of size {self.components.shape[1]}"
            )
        out = (rows - self.mean.double()) @ self.components.double().T
        return out.to(torch.float32)


def pca(matrix: ArrayLike, k: int = 2) -> Projection:
    """The first ``k`` principal components of the rows of ``matrix`` (a tensor, array or lists).

    Rows are centred, then decomposed in float64 on the CPU (an SVD, or with more rows
    than dimensions the eigenvectors of the ``d x d`` scatter matrix). Each
    component's sign is chosen so that its largest entry (by absolute value) is
    positive: the result is deterministic and, up to that sign, equal to
    scikit-learn's ``PCA(n_components=k)``.

    Examples:
        >>> from bertsteps import load, word_vectors
        >>> vectors = word_vectors(load(), ["king", "queen", "dog", "cat", "apple", "pear"])
        >>> coords, components, ratio, mean = pca(vectors, k=2)
        >>> tuple(coords.shape), tuple(components.shape), tuple(ratio.shape)
        ((6, 2), (2, 384), (2,))
        >>> bool(ratio[0] >= ratio[1]) and 0 < float(ratio.sum()) <= 1
        True
        >>> torch.testing.assert_close(coords, (vectors - mean) @ components.T)
    """
    x = as_matrix(matrix, "matrix").to("cpu", torch.float64)
    n, d = x.shape
    if n < 2:
        raise BertStepsError(
            f"matrix has {n} row: PCA needs at least two vectors to find a spread"
        )
    if not is_int(k) or not 1 <= k <= min(n, d):
        raise BertStepsError(
            f"k must be an int from 1 to {min(n, d)} (rows {n}, dimension {d}), got {k!r}"
        )
    if not bool(torch.isfinite(x).all()):
        raise BertStepsError(
            "matrix holds NaN or infinite values: clean the input first"
        )
    mean = x.mean(dim=0)
    centred = x - mean
    if (
        n > d
    ):  # many rows (a whole vocabulary): the small d x d scatter matrix is much faster
        values, vectors = torch.linalg.eigh(centred.T @ centred)
        variance, vt = values.flip(0).clamp_min(0.0), vectors.flip(1).T
    else:
        _, s, vt = torch.linalg.svd(centred, full_matrices=False)
        variance = s.square()
    total = variance.sum()
    if float(total) == 0.0:
        raise BertStepsError(
            "all rows of matrix are the same vector: there is no direction of spread"
        )
    components = vt[:k]
    strongest = components.abs().argmax(dim=1, keepdim=True)
    signs = torch.sign(components.gather(1, strongest))
    components = components * signs
    coords = centred @ components.T
    return Projection(
        coords=coords.to(torch.float32),
        components=components.to(torch.float32),
        explained_variance_ratio=(variance[:k] / total).to(torch.float32),
        mean=mean.to(torch.float32),
    )


def vocabulary_map(bert: Bert) -> Projection:
    """The 2-D map of the vocabulary that the explorer draws, and that the chapters describe.

    It is [`pca`][bertsteps.pca] of the unit-length input embeddings of the tokens that can be
    neighbours (every token but the special and ``[unused…]`` placeholder ones). The
    **variance kept by the map** is ``explained_variance_ratio.sum()``: the share of those
    rows' variance that lies along the map's two axes. ``coords`` has one row per
    candidate token, in id order.

    Examples:
        >>> from bertsteps import load
        >>> m = vocabulary_map(load())
        >>> tuple(m.coords.shape), 0 < float(m.explained_variance_ratio.sum()) < 1
        ((29523, 2), True)
    """
    from .similarity import candidate_mask, unit_embeddings

    unit = unit_embeddings(bert).to("cpu", torch.float32)
    return pca(unit[candidate_mask(bert)], k=2)
