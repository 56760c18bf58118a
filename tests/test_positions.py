"""Position measures: constructed tables where each test holds, and random ones where none does."""

from __future__ import annotations

import math

import pytest
import torch

import bertsteps
from bertsteps.positions import (
    FLAT_LIMIT,
    autocorrelation,
    moving_average,
    offset_cosines,
    offset_shape,
    ripple_reach,
    spearman,
)


def falling_rows(
    n: int = 256, d: int = 512, a: float = 0.95, seed: int = 0
) -> torch.Tensor:
    """Rows of a random walk that forgets slowly: cos(row t, row t + k) is about a**k."""
    g = torch.Generator().manual_seed(seed)
    rows = [torch.randn(d, generator=g, dtype=torch.float64)]
    for _ in range(n - 1):
        rows.append(
            a * rows[-1]
            + math.sqrt(1 - a * a)
            * torch.randn(d, generator=g, dtype=torch.float64)
        )
    return torch.stack(rows)


def rippling_rows(n: int = 256, period: int = 8) -> torch.Tensor:
    """Rows (cos, sin) of one angle per position: cos(row t, row t + k) = cos(2 pi k / period) exactly."""
    angle = 2 * math.pi * torch.arange(n, dtype=torch.float64) / period
    return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def random_rows(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, d, generator=g) * 0.02
    )  # BERT's initialisation: N(0, 0.02)


def test_offset_cosines_is_the_mean_of_each_diagonal() -> None:
    rows = random_rows(20, 6, seed=3)
    full = bertsteps.cosine_matrix(rows).double()
    curve = offset_cosines(rows, max_offset=19)
    assert curve.dtype == torch.float64 and curve.shape == (20,)
    for k in (0, 1, 7, 19):
        assert float(curve[k]) == pytest.approx(
            float(torch.diagonal(full, k).mean()), abs=1e-6
        )
    assert len(offset_cosines(rows)) == 11  # default: offsets 0 .. n // 2


def test_offset_cosines_refuses_a_bad_max_offset() -> None:
    with pytest.raises(bertsteps.BertStepsError, match="max_offset"):
        offset_cosines(random_rows(10, 4, seed=0), max_offset=10)


def test_a_table_built_to_fall_with_distance_falls() -> None:
    shape = offset_shape(offset_cosines(falling_rows()))
    assert shape.falls
    assert not shape.ripples
    assert not shape.flat
    assert shape.shape == "falls"
    assert shape.rho < -0.9
    assert shape.drop > 0.8
    # a**k falls below halfway (about 0.47) near k = 15 and stays there
    assert shape.fallen_by is not None and 10 <= shape.fallen_by <= 25


def test_a_table_built_to_ripple_ripples_with_its_period() -> None:
    shape = offset_shape(offset_cosines(rippling_rows(period=8)))
    assert shape.ripples
    assert shape.period == 8
    assert shape.ripple_r > 0.9
    assert not shape.falls
    assert not shape.flat
    assert shape.shape == "ripples"


def test_a_falling_curve_with_ripples_is_both() -> None:
    offsets = torch.arange(257, dtype=torch.float64)
    curve = torch.exp(-offsets / 30) + 0.15 * torch.cos(
        2 * math.pi * offsets / 6
    )
    curve[0] = 1.0
    shape = offset_shape(curve)
    assert (shape.falls, shape.ripples, shape.period) == (True, True, 6)
    assert shape.shape == "falls with ripples"


def test_a_smooth_fall_is_not_mistaken_for_a_ripple() -> None:
    offsets = torch.arange(257, dtype=torch.float64)
    shape = offset_shape(1 / (1 + offsets / 5))
    assert shape.falls
    assert not shape.ripples


@pytest.mark.parametrize(
    ("n", "d", "seed"),
    [(512, 384, 0), (512, 768, 1), (128, 48, 2), (128, 48, 3)],
)
def test_random_rows_show_no_structure(n: int, d: int, seed: int) -> None:
    shape = offset_shape(offset_cosines(random_rows(n, d, seed)))
    assert shape.flat
    assert shape.largest < FLAT_LIMIT
    assert not shape.falls
    assert not shape.ripples
    assert shape.shape == "flat"


def test_the_bundled_default_falls_with_ripples_of_period_6(
    bert: bertsteps.Bert,
) -> None:
    shape = offset_shape(
        offset_cosines(bert.model.embeddings.position_embeddings.weight)
    )
    assert shape.max_offset == 256
    assert shape.shape == "falls with ripples"
    assert shape.period == 6
    assert shape.near == pytest.approx(0.851, abs=0.002)
    assert shape.rho == pytest.approx(-0.68, abs=0.01)
    assert "at most -0.5" in shape.criteria()["falls"]


def test_the_random_test_checkpoint_is_flat(tiny: bertsteps.Bert) -> None:
    shape = offset_shape(
        offset_cosines(tiny.model.embeddings.position_embeddings.weight)
    )
    assert (shape.falls, shape.ripples, shape.flat) == (False, False, True)


def test_spearman_moving_average_and_autocorrelation() -> None:
    assert spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]) == -1.0
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(0.894427191)
    expected = torch.tensor([4 / 3, 2, 3, 4, 14 / 3], dtype=torch.float64)
    torch.testing.assert_close(
        moving_average([1.0, 2.0, 3.0, 4.0, 5.0], width=3), expected
    )
    acf = autocorrelation([1.0, 0.0, -1.0, 0.0] * 10, max_lag=4)
    assert float(acf[0]) == pytest.approx(1.0)
    assert float(acf[2]) < -0.9 and float(acf[4]) > 0.85
    with pytest.raises(bertsteps.BertStepsError, match="odd"):
        moving_average([1.0, 2.0], width=2)


def test_ripple_reach_finds_where_a_ripple_stops() -> None:
    offsets = torch.arange(129, dtype=torch.float64)
    wave = 0.1 * torch.cos(2 * math.pi * offsets / 6)
    assert ripple_reach(wave, 6) == 128  # ripples to the end
    assert (
        30 <= ripple_reach(wave * (offsets <= 40), 6) <= 48
    )  # stops after offset 40
    assert ripple_reach(torch.zeros(129), 6) == 0
    assert ripple_reach(wave, 0) == 0


def test_the_bundled_default_ripples_clearly_only_at_short_offsets(
    bert: bertsteps.Bert,
) -> None:
    curve = offset_cosines(bert.model.embeddings.position_embeddings.weight)
    assert 12 <= ripple_reach(curve, 6) <= 36
