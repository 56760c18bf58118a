"""Position embeddings: how alike two position rows are, as a function of how far apart they are.

[`offset_cosines`][bertsteps.offset_cosines] averages the cosine of position rows ``t`` and ``t + k`` over every
``t``, for each offset ``k``: one curve, 1 at offset 0. [`offset_shape`][bertsteps.offset_shape] reads the
curve with three stated tests, each a number against a threshold, so that a page can say
what the curve does and stay true for any checkpoint:

* **falls**: the mean cosine falls with offset. Spearman's rank correlation of offset
  and mean cosine over offsets 1 to ``K`` is at most ``FALL_RHO``, *and* the mean
  cosine at offset 1 is at least ``FALL_DROP`` above its mean over the far half
  (offsets ``K // 2`` to ``K``);
* **ripples**: the curve repeats itself. After a centred moving average of
  ``SMOOTH`` offsets is taken away, the autocorrelation of what is left first turns
  negative and then comes back to at least ``RIPPLE_R`` at a lag ``p`` from 3 to
  ``K // 4``; ``p`` (the lag of its highest value there) is the period;
* **flat**: no structure at all. Every mean cosine at offsets 1 to ``K`` lies within
  ``±`` ``FLAT_LIMIT``, as for rows drawn independently at random (whose cosines
  average out near 0).

``K`` defaults to half the number of rows, so every point of the curve averages at
least that many pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .errors import BertStepsError
from .similarity import as_matrix
from .validation import is_int

if TYPE_CHECKING:
    from .similarity import ArrayLike

#: "falls" needs Spearman's rho of offset against mean cosine at or below this ...
FALL_RHO = -0.5
#: ... and the mean cosine at offset 1 this much above its mean over the far half.
FALL_DROP = 0.2
#: Width, in offsets, of the centred moving average taken away before looking for ripples.
SMOOTH = 9
#: "ripples" needs the detrended curve's autocorrelation to reach this at some lag from 3 on.
RIPPLE_R = 0.5
#: "flat" needs every mean cosine beyond offset 0 to lie within plus or minus this.
FLAT_LIMIT = 0.1


def offset_cosines(
    table: ArrayLike, max_offset: int | None = None
) -> torch.Tensor:
    """Mean cosine of rows ``t`` and ``t + k`` of ``table``, for ``k = 0 .. max_offset``: a float64 curve.

    ``max_offset`` defaults to half the number of rows, so that every offset averages at
    least that many pairs; at most it is the number of rows minus one.

    Examples:
        >>> offset_cosines([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], max_offset=2).tolist()  # doctest: +ELLIPSIS
        [1.0, 0.7071..., 0.0]
        >>> from bertsteps import load
        >>> curve = offset_cosines(load().model.embeddings.position_embeddings.weight)
        >>> len(curve), round(float(curve[0]), 6), float(curve[1]) > 0.5
        (257, 1.0, True)
    """
    rows = as_matrix(table, "table").to("cpu", torch.float64)
    n = rows.shape[0]
    if n < 2:
        raise BertStepsError(
            f"table has {n} row: offsets need at least two positions"
        )
    if max_offset is None:
        max_offset = n // 2
    if not is_int(max_offset) or not 1 <= max_offset <= n - 1:
        raise BertStepsError(
            f"max_offset must be an int from 1 to {n - 1} (the table has {n} rows), got {max_offset!r}"
        )
    unit = rows / rows.norm(dim=1, keepdim=True).clamp_min(
        torch.finfo(torch.float64).tiny
    )
    cosines = unit @ unit.T
    return torch.stack(
        [torch.diagonal(cosines, k).mean() for k in range(max_offset + 1)]
    )


def _ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks from 1, ties given their average rank."""
    order = torch.argsort(x, stable=True)
    ranks = torch.empty_like(x, dtype=torch.float64)
    ranks[order] = torch.arange(1, len(x) + 1, dtype=torch.float64)
    for value in torch.unique(x):
        tied = x == value
        if int(tied.sum()) > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rank correlation of two equally long sequences (ties get their average rank).

    Examples:
        >>> spearman([1, 2, 3, 4], [10, 8, 9, 1])
        -0.8
        >>> spearman([1, 2, 3], [5, 5, 5])
        0.0
    """
    a, b = as_matrix(x, "x")[0].double(), as_matrix(y, "y")[0].double()
    if a.shape != b.shape or len(a) < 2:
        raise BertStepsError(
            f"spearman needs two sequences of the same length, at least 2; got {len(a)} and {len(b)}"
        )
    ra, rb = _ranks(a) - (len(a) + 1) / 2, _ranks(b) - (len(b) + 1) / 2
    denominator = float(ra.norm() * rb.norm())
    return (
        0.0 if denominator == 0.0 else round(float(ra @ rb) / denominator, 12)
    )


def moving_average(y: ArrayLike, width: int = SMOOTH) -> torch.Tensor:
    """Centred moving average of ``width`` points (odd), the ends padded by repeating the end values.

    Examples:
        >>> moving_average([0.0, 3.0, 0.0, 3.0, 0.0], width=3).tolist()
        [1.0, 1.0, 2.0, 1.0, 1.0]
    """
    values = as_matrix(y, "y")[0].double()
    if not is_int(width) or width < 1 or width % 2 == 0:
        raise BertStepsError(
            f"width must be an odd positive int, got {width!r}"
        )
    half = width // 2
    padded = torch.cat(
        [values[:1].repeat(half), values, values[-1:].repeat(half)]
    )
    return padded.unfold(0, width, 1).mean(dim=1)


def autocorrelation(y: ArrayLike, max_lag: int) -> torch.Tensor:
    """Autocorrelation of ``y`` (its mean removed) at lags ``0 .. max_lag``; lag 0 is 1.

    Examples:
        >>> [round(v, 2) for v in autocorrelation([1.0, -1.0] * 8, max_lag=2).tolist()]
        [1.0, -0.94, 0.88]
    """
    values = as_matrix(y, "y")[0].double()
    values = values - values.mean()
    if not is_int(max_lag) or not 0 <= max_lag < len(values):
        raise BertStepsError(
            f"max_lag must be an int from 0 to {len(values) - 1}, got {max_lag!r}"
        )
    power = float(values @ values)
    if power == 0.0:
        return torch.zeros(max_lag + 1, dtype=torch.float64)
    return torch.stack(
        [
            (values[: len(values) - lag] @ values[lag:]) / power
            for lag in range(max_lag + 1)
        ]
    )


@dataclass(frozen=True)
class OffsetShape:
    """What a curve of mean cosine by offset does, decided by the tests of [`offset_shape`][bertsteps.offset_shape].

    ``curve`` is the input (offsets ``0 .. K``), ``trend`` its moving average. The
    ``falls`` test uses ``rho`` and ``drop`` (``near`` minus ``far``); ``fallen_by`` is the
    first offset after which the curve stays below ``midpoint``, halfway from ``near`` to
    ``far``. The ``ripples`` test uses ``ripple_r``, the autocorrelation at lag ``period``
    (0 and 0 when the autocorrelation never turns negative).
    The ``flat`` test uses ``largest``, the largest absolute mean cosine beyond offset 0.

    Examples:
        >>> s = offset_shape(torch.cat([torch.ones(1), torch.zeros(64)]))
        >>> s.flat, s.falls, s.ripples, s.shape
        (True, False, False, 'flat')
    """

    curve: torch.Tensor
    trend: torch.Tensor
    rho: float
    near: float
    far: float
    fallen_by: int | None
    period: int
    ripple_r: float
    largest: float

    @property
    def max_offset(self) -> int:
        """``K``, the largest offset of the curve."""
        return len(self.curve) - 1

    @property
    def drop(self) -> float:
        """Mean cosine at offset 1 minus its mean over the far half."""
        return self.near - self.far

    @property
    def midpoint(self) -> float:
        """Halfway between the mean cosine at offset 1 and the far half's mean."""
        return (self.near + self.far) / 2

    @property
    def falls(self) -> bool:
        """Spearman's rho at most ``FALL_RHO`` and a drop of at least ``FALL_DROP``."""
        return self.rho <= FALL_RHO and self.drop >= FALL_DROP

    @property
    def ripples(self) -> bool:
        """The detrended curve's autocorrelation reaches ``RIPPLE_R`` at ``period``."""
        return self.ripple_r >= RIPPLE_R

    @property
    def flat(self) -> bool:
        """Every mean cosine beyond offset 0 within plus or minus ``FLAT_LIMIT``."""
        return self.largest < FLAT_LIMIT

    @property
    def shape(self) -> str:
        """One short name for the curve: ``falls``, ``falls with ripples``, ``ripples``, ``flat`` or ``no clear shape``."""
        if self.falls:
            return "falls with ripples" if self.ripples else "falls"
        if self.ripples:
            return "ripples"
        return "flat" if self.flat else "no clear shape"

    @property
    def far_range(self) -> tuple[int, int]:
        """The far half of the offsets: ``(K // 2, K)``."""
        return self.max_offset // 2, self.max_offset

    def criteria(self) -> dict[str, str]:
        """Each test in words, for the note under a sentence that one of them decided."""
        lo, hi = self.far_range
        return {
            "falls": f"Spearman's rho of offset against mean cosine over offsets 1 to {hi} is at most "
            f"{FALL_RHO}, and the mean cosine at offset 1 is at least {FALL_DROP} above its mean over "
            f"offsets {lo} to {hi}",
            "ripples": f"after a centred moving average of {SMOOTH} offsets is taken away, the "
            f"autocorrelation of what is left turns negative and then comes back to at least "
            f"{RIPPLE_R} at some lag from 3 to {max(3, hi // 4)}",
            "flat": f"every mean cosine at offsets 1 to {hi} lies within plus or minus {FLAT_LIMIT}",
        }

    def measures(self) -> dict[str, str]:
        """Each test's numbers, for the same note."""
        lo, hi = self.far_range
        return {
            "falls": f"Spearman's rho {self.rho:.2f}; mean cosine {self.near:.2f} at offset 1, "
            f"{self.far:.2f} over offsets {lo} to {hi}: a drop of {self.drop:.2f}",
            "ripples": (
                f"highest autocorrelation after the first negative one: {self.ripple_r:.2f}, at lag {self.period}"
                if self.period
                else "the autocorrelation never turns negative up to that lag"
            ),
            "flat": f"largest absolute mean cosine beyond offset 0: {self.largest:.3f}",
        }


def offset_shape(curve: ArrayLike) -> OffsetShape:
    """Read a curve of mean cosine by offset (offset 0 first) with the tests described in this module.

    Examples:
        >>> offsets = torch.arange(129, dtype=torch.float64)
        >>> s = offset_shape(torch.exp(-offsets / 20) + 0.1 * torch.cos(2 * torch.pi * offsets / 6))
        >>> s.shape, s.period, s.fallen_by is not None
        ('falls with ripples', 6, True)
        >>> from bertsteps import load
        >>> offset_shape(offset_cosines(load().model.embeddings.position_embeddings.weight)).shape
        'falls with ripples'
    """
    values = as_matrix(curve, "curve")[0].double()
    k = len(values) - 1
    if k < 12:
        raise BertStepsError(
            f"curve has offsets 0 to {k}: the tests need offsets up to at least 12"
        )
    body = values[1:]  # offsets 1 .. K
    offsets = torch.arange(1, k + 1, dtype=torch.float64)
    rho = spearman(offsets, body)
    near, far = float(values[1]), float(values[k // 2 :].mean())
    midpoint = (near + far) / 2
    above = (body >= midpoint).nonzero().flatten()
    fallen_by = (
        None if near <= far else (int(above[-1]) + 2 if len(above) else 1)
    )
    if fallen_by is not None and fallen_by > k:
        fallen_by = None
    trend = moving_average(body, SMOOTH)
    acf = autocorrelation(body - trend, max(3, k // 4))
    # a ripple comes back after going the other way: look only past the first negative lag
    negative = (acf < 0).nonzero().flatten()
    start = max(3, int(negative[0]) + 1) if len(negative) else len(acf)
    period = int(acf[start:].argmax()) + start if start < len(acf) else 0
    return OffsetShape(
        curve=values,
        trend=torch.cat([values[:1], trend]),
        rho=rho,
        near=near,
        far=far,
        fallen_by=fallen_by,
        period=period,
        ripple_r=float(acf[period]) if period else 0.0,
        largest=float(body.abs().max()),
    )


def ripple_reach(curve: ArrayLike, period: int) -> int:
    """How far from offset 1 the ripple of ``period`` holds, window by window.

    The curve (offset 0 first) is detrended as in [`offset_shape`][bertsteps.offset_shape]; windows of
    ``4 * period`` offsets, stepping by ``period`` from offset 1, each pass if their own
    autocorrelation at lag ``period`` reaches ``RIPPLE_R``. Returns the last offset of
    the leading run of passing windows, or 0 if the first window fails (or ``period`` < 1).

    Examples:
        >>> offsets = torch.arange(129, dtype=torch.float64)
        >>> wave = 0.1 * torch.cos(2 * torch.pi * offsets / 6) * (offsets <= 40)
        >>> 30 <= ripple_reach(wave, 6) <= 48
        True
        >>> ripple_reach(0.1 * torch.cos(2 * torch.pi * offsets / 6), 6)
        128
    """
    values = as_matrix(curve, "curve")[0].double()
    body = values[1:]
    if not is_int(period) or period < 1 or 4 * period > len(body):
        return 0
    detrended = body - moving_average(body, SMOOTH)
    window, reach = 4 * period, 0
    starts = list(range(0, len(body) - window + 1, period))
    if starts[-1] != len(body) - window:
        starts.append(
            len(body) - window
        )  # the last window ends at the curve's end
    for start in starts:
        r = float(
            autocorrelation(detrended[start : start + window], period)[period]
        )
        if r < RIPPLE_R:
            break
        reach = start + window  # offsets start + 1 .. start + window
    return reach
