"""Do given groups of words form clusters, and are neighbour lists even? Measures set against chance.

A page that says "the groups are real clusters" or "a few hubs are everyone's neighbour"
must say so only when a number says so, and must print the other sentence for a space
that has no such structure (a random checkpoint, for one). Two measures:

* [`group_agreement`][bertsteps.group_agreement]: for every point, is its nearest other point in its own
  group? The share of points for which it is, next to the share that chance would give
  (picking the nearest point uniformly at random among the others). The groups
  **cluster** when the share is at least ``CLUSTER_SHARE`` and at least
  ``CLUSTER_OVER_CHANCE`` times chance.
* [`k_occurrence`][bertsteps.k_occurrence]: in a table of ``k`` nearest neighbours per token, how many lists
  each token appears in (its *k-occurrence*). The mean is ``k``; the lists are
  **uneven** (there are *hubs*) when the busiest token appears in at least
  ``HUB_FACTOR`` times ``k`` lists. For rows drawn independently at random the
  busiest appears in about 2.5 ``k`` (measured with 29,523 Gaussian rows of 48, 384 and
  768 dimensions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .errors import BertStepsError
from .similarity import ArrayLike, as_matrix

#: "the groups cluster" needs at least this share of points with a same-group nearest neighbour ...
CLUSTER_SHARE = 0.6
#: ... and at least this many times the share that chance gives.
CLUSTER_OVER_CHANCE = 3.0
#: "the lists are uneven" needs the busiest token in at least this many times k lists.
HUB_FACTOR = 5.0


@dataclass(frozen=True)
class GroupAgreement:
    """How many points have a nearest neighbour from their own group, and what chance would give.

    ``nearest[i]`` is the index of point ``i``'s nearest other point; ``hits`` counts the
    points where it shares ``i``'s group; ``chance`` is the expected share if the
    nearest point were any other point, uniformly.

    Examples:
        >>> a = GroupAgreement(nearest=(1, 0, 3, 2), hits=4, total=4, chance=1 / 3)
        >>> a.share, a.clusters
        (1.0, True)
    """

    nearest: tuple[int, ...]
    hits: int
    total: int
    chance: float

    @property
    def share(self) -> float:
        """``hits / total``."""
        return self.hits / self.total

    @property
    def clusters(self) -> bool:
        """At least ``CLUSTER_SHARE``, and at least ``CLUSTER_OVER_CHANCE`` times chance."""
        return (
            self.share >= CLUSTER_SHARE
            and self.share >= CLUSTER_OVER_CHANCE * self.chance
        )

    def measure(self) -> str:
        """The numbers, in words, for the note under a sentence this decided."""
        return (
            f"{self.hits} of {self.total} points ({self.share:.0%}) have a nearest neighbour from "
            f"their own group; chance gives {self.chance:.0%}"
        )

    @staticmethod
    def criterion() -> str:
        """The test, in words."""
        return (
            f"at least {CLUSTER_SHARE:.0%} of the points, and at least {CLUSTER_OVER_CHANCE:g} "
            "times the share chance gives, have a nearest neighbour from their own group"
        )


def group_agreement(
    similarity: ArrayLike, groups: Sequence[str]
) -> GroupAgreement:
    """Nearest-neighbour agreement with ``groups`` for a square ``(n, n)`` matrix of similarities.

    Higher means nearer (pass cosines, or minus distances); the diagonal is ignored.

    Examples:
        >>> import torch
        >>> points = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.0, 5.1]])
        >>> a = group_agreement(-torch.cdist(points, points), ["a", "a", "b", "b"])
        >>> a.hits, a.total, round(a.chance, 3), a.clusters
        (4, 4, 0.333, True)
        >>> a = group_agreement(-torch.cdist(points, points), ["a", "b", "a", "b"])
        >>> a.hits, a.clusters
        (0, False)
    """
    scores = as_matrix(similarity, "similarity").clone()
    n = scores.shape[0]
    if scores.shape != (n, n) or n < 2:
        raise BertStepsError(
            f"similarity must be a square matrix of at least 2 x 2, got {tuple(scores.shape)}"
        )
    if len(groups) != n:
        raise BertStepsError(f"{len(groups)} group labels for {n} points")
    scores.fill_diagonal_(-torch.inf)
    nearest = tuple(int(j) for j in scores.argmax(dim=1))
    hits = sum(groups[j] == groups[i] for i, j in enumerate(nearest))
    sizes = Counter(groups)
    chance = sum((sizes[g] - 1) / (n - 1) for g in groups) / n
    return GroupAgreement(nearest=nearest, hits=hits, total=n, chance=chance)


def k_occurrence(
    indices: torch.Tensor,
    rows: torch.Tensor | None = None,
    size: int | None = None,
) -> torch.Tensor:
    """How many neighbour lists each token appears in (its k-occurrence), counting only the lists of ``rows``.

    ``indices`` is a ``(vocab_size, k)`` table of neighbour ids (as from
    [`neighbour_table`][bertsteps.neighbour_table]); ``rows`` an optional bool mask of
    the rows whose lists count; ``size`` the number of tokens (default: table rows).

    Examples:
        >>> import torch
        >>> table = torch.tensor([[1, 2], [0, 2], [0, 1], [2, 0]])
        >>> k_occurrence(table).tolist()
        [3, 2, 3, 0]
        >>> k_occurrence(table, rows=torch.tensor([True, True, True, False])).tolist()
        [2, 2, 2, 0]
    """
    if indices.ndim != 2:
        raise BertStepsError(
            f"indices must be a (tokens, k) table, got shape {tuple(indices.shape)}"
        )
    listed = indices if rows is None else indices[rows]
    return torch.bincount(listed.flatten(), minlength=size or indices.shape[0])


def uneven(counts: torch.Tensor, k: int) -> bool:
    """Whether the busiest token appears in at least ``HUB_FACTOR`` times ``k`` lists.

    Examples:
        >>> import torch
        >>> uneven(torch.tensor([10, 10, 10]), k=10), uneven(torch.tensor([60, 0, 0]), k=10)
        (False, True)
    """
    return int(counts.max()) >= HUB_FACTOR * k
