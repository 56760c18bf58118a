"""Choosing where tensors live: ``"auto"`` means CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import functools

import torch

from .errors import DeviceError

DeviceLike = str | torch.device | None


@functools.cache
def _auto_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: DeviceLike = "auto") -> torch.device:
    """Turn ``"auto"``, ``None``, a name or a ``torch.device`` into an available device.

    Raises [`DeviceError`][bertsteps.DeviceError] for a device this machine lacks,
    instead of failing later inside a kernel.

    Examples:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("auto").type in {"cpu", "cuda", "mps"}
        True
    """
    if device is None or (
        isinstance(device, str) and device.strip().lower() == "auto"
    ):
        return _auto_device()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise DeviceError(
            f"unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {device!r} was asked for, but this torch has no CUDA device "
                f"(torch {torch.__version__}); use device='auto' or 'cpu'"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(
                f"device {device!r} was asked for, but only {count} CUDA device(s) exist"
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(
                f"device {device!r} was asked for, but Apple MPS is not available here; "
                "use device='auto' or 'cpu'"
            )
    elif dev.type != "cpu":
        raise DeviceError(
            f"unsupported device {device!r}: use 'auto', 'cpu', 'cuda' or 'mps'"
        )
    return dev
