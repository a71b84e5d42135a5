"""Input checks and the output convention every schedule shares (CPU float32, a trailing 0, moved last).

Imports only torch and our errors module.
"""

from __future__ import annotations

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = ["Device", "append_zero", "check_steps", "cpu_float32", "finish"]

Device = torch.device | str | None


def check_steps(n: object, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise LatentUpscaleError(f"{name} must be a whole number of steps (1 or more), got {n!r}")
    if n < 1:
        raise LatentUpscaleError(f"{name} must be at least 1 step, got {n}")
    return n


def cpu_float32(values: object, name: str) -> Tensor:
    """A detached CPU float32 copy: host tables may live on CUDA or be float16/float64."""
    try:
        tensor = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as error:
        raise LatentUpscaleError(f"{name} must be numbers, got {type(values).__name__} ({error})") from None
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise LatentUpscaleError(f"{name} must be real numbers, got dtype {tensor.dtype}")
    return tensor.detach().to(device="cpu", dtype=torch.float32)


def append_zero(sigmas: Tensor) -> Tensor:
    return torch.cat([sigmas, sigmas.new_zeros([1])])


def finish(sigmas: Tensor, device: Device) -> Tensor:
    """Every schedule ends here: float32, and moved to ``device`` only now."""
    sigmas = sigmas.to(torch.float32)
    return sigmas if device is None else sigmas.to(device)
