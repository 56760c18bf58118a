"""The errors bertsteps raises: one clear message that says what was wrong and what to do.

All of them derive from [`BertStepsError`][bertsteps.BertStepsError], itself a ``ValueError``,
so ``except ValueError`` keeps working for callers that do not know bertsteps.
"""

from __future__ import annotations


class BertStepsError(ValueError):
    """Base class of every error bertsteps raises on bad input.

    Examples:
        >>> try:
        ...     raise BertStepsError("what went wrong; what to do")
        ... except ValueError as err:
        ...     print(err)
        what went wrong; what to do
    """


class CheckpointError(BertStepsError):
    """A checkpoint could not be found, read or trusted.

    Examples:
        >>> issubclass(CheckpointError, BertStepsError)
        True
    """


class DeviceError(BertStepsError):
    """A device was asked for that this machine does not have.

    Examples:
        >>> issubclass(DeviceError, BertStepsError)
        True
    """


class TokenError(BertStepsError):
    """A word cannot be turned into one embedding row (unknown, empty, split).

    Examples:
        >>> issubclass(TokenError, BertStepsError)
        True
    """


class SentenceError(BertStepsError):
    """Sentences could not be turned into vectors (empty, too long, unknown pooling, no pooler).

    Examples:
        >>> issubclass(SentenceError, BertStepsError)
        True
    """
