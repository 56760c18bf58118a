"""Checks shared by every module: whole numbers that must be positive, finite tensors,
and a memory bound that big computations are measured against before they allocate.

The bound is ``MEMORY_LIMIT_BYTES`` (2 GiB), or ``$BERTSTEPS_MEMORY_LIMIT_GB`` when set:
a computation whose estimated peak is above it is refused with a message naming the
estimate, the bound and a smaller request that fits.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeGuard

from .errors import BertStepsError

if TYPE_CHECKING:
    import torch

MEMORY_LIMIT_BYTES = 2 * 2**30
MEMORY_ENV = "BERTSTEPS_MEMORY_LIMIT_GB"


def is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int and not a bool (``True`` is an int to Python, not a count).

    Examples:
        >>> is_int(3), is_int(True), is_int(3.0)
        (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(
    value: object,
    name: str,
    *,
    error: type[Exception] = BertStepsError,
    noun: str = "int",
) -> int:
    """``value`` if it is an int >= 1 (not a bool), else ``error`` naming ``name`` and the value.

    ``error`` is the exception class raised (a [bertsteps.BertStepsError][] subclass,
    or ``argparse.ArgumentTypeError`` for the command line); ``noun`` is how the
    message names the expected kind of number.

    Examples:
        >>> positive_int(3, "k")
        3
        >>> positive_int(0, "k")
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: k must be a positive int, got 0
        >>> positive_int(True, "k", noun="whole number")
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: k must be a positive whole number, got True
    """
    if not is_int(value) or value < 1:
        raise error(f"{name} must be a positive {noun}, got {value!r}")
    return value


def memory_limit() -> int:
    """The memory bound in bytes: ``$BERTSTEPS_MEMORY_LIMIT_GB`` (GiB) if set, else 2 GiB.

    Examples:
        >>> os.environ[MEMORY_ENV] = "0.5"
        >>> memory_limit()
        536870912
        >>> del os.environ[MEMORY_ENV]
        >>> memory_limit() == MEMORY_LIMIT_BYTES
        True
    """
    text = os.environ.get(MEMORY_ENV, "").strip()
    if not text:
        return MEMORY_LIMIT_BYTES
    try:
        gib = float(text)
    except ValueError:
        raise BertStepsError(
            f"${MEMORY_ENV}={text!r} is not a number of GiB (such as 8)"
        ) from None
    if not gib > 0:
        raise BertStepsError(
            f"${MEMORY_ENV}={text!r} must be a positive number of GiB"
        )
    return int(gib * 2**30)


def check_memory(nbytes: float, what: str, hint: str) -> None:
    """Refuse ``what`` when its estimated peak memory ``nbytes`` exceeds ``memory_limit``.

    Examples:
        >>> check_memory(10 * 2**30, "a 10 GiB table", "ask for fewer neighbours")
        Traceback (most recent call last):
        ...
        bertsteps.errors.BertStepsError: a 10 GiB table would need about 10.7 GB of memory, above the bound of 2.1 GB: ask for fewer neighbours (or raise $BERTSTEPS_MEMORY_LIMIT_GB)
    """
    limit = memory_limit()
    if nbytes > limit:
        raise BertStepsError(
            f"{what} would need about {nbytes / 1e9:.1f} GB of memory, above the bound of {limit / 1e9:.1f} GB: "
            f"{hint} (or raise ${MEMORY_ENV})"
        )


def bad_rows(t: torch.Tensor) -> list[int]:
    """The first few rows of a 2-D tensor that hold NaN or an infinity.

    Examples:
        >>> import torch
        >>> bad_rows(torch.tensor([[1.0, 2.0], [float("nan"), 0.0], [1.0, float("inf")]]))
        [1, 2]
    """
    import torch

    return (~torch.isfinite(t).all(dim=1)).nonzero().flatten()[:5].tolist()
