"""Input checks and the output convention every schedule shares (CPU float32, a trailing 0, moved last).

Numbers may be Python numbers, numpy scalars or one-element torch tensors; errors name the option the
user sets (``steps``, ``device``, ``denoising strength``), never an internal argument name.

Imports only torch and our errors module.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "MAX_STEPS",
    "Device",
    "append_zero",
    "as_real",
    "check_device",
    "check_sigma_range",
    "check_steps",
    "cpu_float32",
    "finish",
]

Device = torch.device | str | None

#: The most steps a schedule may have, checked before anything is allocated. The WebUI's steps slider
#: ends at 150 and its denoising strength moves in 0.01 steps, so img2img with ``img2img_fix_steps`` asks
#: at most 150 / 0.01 = 15 000; this allows about 6× that. Above it a request is a mistake (10 steps at
#: denoising strength 1e-9 would be 10^10), not a schedule.
MAX_STEPS = 100_000


def _plain_scalar(value: object) -> object:
    """A numpy scalar, 0-d array or one-element tensor as the Python number it holds; else unchanged."""
    if isinstance(value, Tensor):
        return value.item() if value.numel() == 1 and value.dim() == 0 else value
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value


def as_real(value: object, what: str, *, strings: bool = False) -> float:
    """``value`` as a finite float; ``strings`` also accepts numeric text (as the CLI passes it).

    Raises:
        LatentUpscaleError: for booleans, non-numbers, NaN and infinities, naming ``what``.
    """
    number = _plain_scalar(value)
    if strings and isinstance(number, str):
        try:
            number = float(number)
        except ValueError:
            number = None
    try:
        finite = not isinstance(number, bool) and isinstance(number, numbers.Real) and math.isfinite(number)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise LatentUpscaleError(f"{what} must be a finite number, got {value!r}")
    return float(number)


def check_steps(value: object, option: str = "steps") -> int:
    """A number of steps in ``[1, MAX_STEPS]`` (ints, numpy and one-element torch integers).

    Raises:
        LatentUpscaleError: naming ``option``, for non-integers, values below 1 and above :data:`MAX_STEPS`.
    """
    steps = _plain_scalar(value)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise LatentUpscaleError(f"{option} must be a whole number of steps (1 or more), got {value!r}")
    steps = int(steps)
    if steps < 1:
        raise LatentUpscaleError(f"{option} must be at least 1, got {steps}")
    if steps > MAX_STEPS:
        raise LatentUpscaleError(
            f"{option} must be at most {MAX_STEPS} (latent_upscale.schedules.MAX_STEPS), got {steps}"
        )
    return steps


def check_sigma_range(sigma_min: object, sigma_max: object, *, log: bool = False) -> tuple[float, float]:
    """``(sigma_min, sigma_max)`` as floats, checked so that a schedule keeps the package's promise
    (finite sigmas, non-increasing): both finite, ``0 <= sigma_min <= sigma_max`` and ``sigma_max > 0``;
    ``log``: schedules spaced in log sigma also need ``sigma_min > 0``.

    Raises:
        LatentUpscaleError: naming both values (k-diffusion's functions return an increasing or a NaN
            schedule for these instead).
    """
    low, high = as_real(sigma_min, "sigma_min"), as_real(sigma_max, "sigma_max")
    if low > high:
        raise LatentUpscaleError(
            f"sigma_min ({low:g}) must not exceed sigma_max ({high:g}): the schedule would increase"
        )
    if high <= 0 or low < 0 or (log and low <= 0):
        need = "positive" if log else "sigma_min >= 0 and sigma_max > 0"
        raise LatentUpscaleError(f"sigmas must be {need}, got sigma_min={low:g}, sigma_max={high:g}")
    return low, high


def check_device(device: object) -> torch.device | None:
    """``device`` as a :class:`torch.device` (None stays None), checked before any work.

    Raises:
        LatentUpscaleError: for anything torch cannot read as a device ("banana", 2.5, a list).
    """
    if device is None or isinstance(device, torch.device):
        return device
    if isinstance(device, str) or (isinstance(device, int) and not isinstance(device, bool)):
        try:
            return torch.device(device)
        except (RuntimeError, ValueError, TypeError):
            pass
    raise LatentUpscaleError(
        f"device must be a torch device such as 'cpu', 'cuda', 'cuda:1' or 'mps', got {device!r}"
    )


def cpu_float32(values: object, name: str) -> Tensor:
    """A detached CPU float32 copy: host tables may live on CUDA or be float16/float64."""
    try:
        tensor = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as error:
        raise LatentUpscaleError(f"{name} must be numbers, got {type(values).__name__} ({error})") from None
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise LatentUpscaleError(f"{name} must be real numbers, got dtype {tensor.dtype}")
    if tensor.device.type == "meta":  # torch: "Cannot copy out of meta tensor; no data!"
        raise LatentUpscaleError(
            f"{name} is on device 'meta', which holds no values; pass the model's real sigma table"
        )
    return tensor.detach().to(device="cpu", dtype=torch.float32)


def append_zero(sigmas: Tensor) -> Tensor:
    """k-diffusion's ``append_zero``: every schedule ends at sigma 0."""
    return torch.cat([sigmas, sigmas.new_zeros([1])])


def finish(sigmas: Tensor, device: Device) -> Tensor:
    """Every schedule ends here: float32, and moved to ``device`` only now.

    Raises:
        LatentUpscaleError: if ``device`` is not a device or not available here (CUDA without CUDA).
    """
    sigmas = sigmas.to(torch.float32)
    target = check_device(device)
    if target is None:
        return sigmas
    try:
        return sigmas.to(target)
    except (RuntimeError, AssertionError) as error:  # torch asserts "not compiled with CUDA enabled"
        raise LatentUpscaleError(f"device {str(target)!r} is not available here ({error})") from None
