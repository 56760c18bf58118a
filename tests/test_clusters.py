"""Cluster and hub measures: constructed spaces where the structure is there, and random ones where it is not."""

from __future__ import annotations

import pytest
import torch

import bertsteps
from bertsteps.clusters import (
    CLUSTER_SHARE,
    HUB_FACTOR,
    group_agreement,
    k_occurrence,
    uneven,
)

GROUPS = [
    g for g in "abcde" for _ in range(5)
]  # five groups of five, like the chapter's


def clustered(seed: int = 0, spread: float = 0.1) -> torch.Tensor:
    """25 points: five tight clouds around five random centres in 64 dimensions."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(5, 64, generator=g)
    return centres.repeat_interleave(5, dim=0) + spread * torch.randn(
        25, 64, generator=g
    )


def test_tight_groups_cluster() -> None:
    points = clustered()
    agreement = group_agreement(bertsteps.cosine_matrix(points), GROUPS)
    assert agreement.hits == 25
    assert agreement.chance == pytest.approx(4 / 24)
    assert agreement.clusters
    assert "25 of 25 points (100%)" in agreement.measure()


def test_random_points_do_not_cluster() -> None:
    for seed in range(5):
        g = torch.Generator().manual_seed(seed)
        agreement = group_agreement(
            bertsteps.cosine_matrix(torch.randn(25, 64, generator=g)), GROUPS
        )
        assert agreement.share < CLUSTER_SHARE
        assert not agreement.clusters


def test_labels_that_cut_across_the_clouds_do_not_cluster() -> None:
    shuffled = [
        g for _ in range(5) for g in "abcde"
    ]  # each cloud holds one of every label
    agreement = group_agreement(bertsteps.cosine_matrix(clustered()), shuffled)
    assert agreement.hits == 0
    assert not agreement.clusters


def test_distances_work_as_minus_similarities() -> None:
    points = torch.tensor([[0.0], [1.0], [10.0], [11.5]])
    agreement = group_agreement(
        -torch.cdist(points, points), ["x", "x", "y", "y"]
    )
    assert agreement.nearest == (1, 0, 3, 2)
    assert agreement.hits == 4


def test_a_share_above_sixty_percent_is_not_enough_when_chance_is_high() -> (
    None
):
    # two groups of 20: chance is 19/39, so 3 x chance is above 1 and nothing can cluster
    points = clustered(spread=0.01)[:20]
    labels = ["p"] * 10 + ["q"] * 10
    agreement = group_agreement(bertsteps.cosine_matrix(points), labels)
    assert agreement.share == 1.0
    assert agreement.chance == pytest.approx(9 / 19)
    assert not agreement.clusters


def test_group_agreement_refuses_mismatched_labels() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="group labels"):
        group_agreement(torch.eye(3), ["a", "b"])


def test_k_occurrence_counts_lists_and_finds_hubs() -> None:
    # token 0 is in every other token's list: a hub
    n, k = 50, 2
    rows = [[1, 2]] + [[0, i + 1 if i + 1 < n else 1] for i in range(1, n)]
    table = torch.tensor(rows)
    counts = k_occurrence(table)
    assert int(counts.sum()) == n * k
    assert int(counts[0]) == n - 1
    assert uneven(counts, k)
    assert int(counts.max()) >= HUB_FACTOR * k


def test_random_rows_have_no_strong_hubs() -> None:
    g = torch.Generator().manual_seed(0)
    rows = torch.nn.functional.normalize(
        torch.randn(3000, 48, generator=g), dim=1
    )
    sims = rows @ rows.T
    sims.fill_diagonal_(-2.0)
    table = sims.topk(10, dim=1).indices
    counts = k_occurrence(table)
    assert int(counts.sum()) == 3000 * 10
    assert not uneven(counts, 10)


def test_k_occurrence_only_counts_the_rows_asked_for() -> None:
    table = torch.tensor([[1], [2], [0]])
    assert k_occurrence(
        table, rows=torch.tensor([True, False, False])
    ).tolist() == [0, 1, 0]
