"""Schedules that need only sigma_min and sigma_max (or nothing of the model): closed forms and AYS."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_LIST
from latent_upscale.schedules.checks import Device, append_zero, check_sigma_range, check_steps, finish

__all__ = [
    "AYS_NOISE_LEVELS",
    "get_sigmas_align_your_steps",
    "get_sigmas_exponential",
    "get_sigmas_karras",
    "get_sigmas_kl_optimal",
    "get_sigmas_linear_quadratic",
    "get_sigmas_polyexponential",
]


def get_sigmas_karras(
    n: int, sigma_min: float, sigma_max: float, *, rho: float = 7.0, device: Device = None
) -> Tensor:
    """Karras et al. 2022 (arXiv:2206.00364, eq. 5), exactly k-diffusion ``get_sigmas_karras``.

    Unlike k-diffusion, sigma_min > sigma_max and non-finite values are refused (LatentUpscaleError).
    """
    n = check_steps(n)
    sigma_min, sigma_max = check_sigma_range(sigma_min, sigma_max)
    ramp = torch.linspace(0, 1, n, dtype=torch.float32)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return finish(append_zero(sigmas), device)


def get_sigmas_exponential(n: int, sigma_min: float, sigma_max: float, *, device: Device = None) -> Tensor:
    """Even in log sigma = DPM-Solver's uniform logSNR (Lu et al. 2022, arXiv:2206.00927).

    Exactly k-diffusion ``get_sigmas_exponential``; sigma_min > sigma_max, non-positive and
    non-finite values are refused (LatentUpscaleError).
    """
    n = check_steps(n)
    sigma_min, sigma_max = check_sigma_range(sigma_min, sigma_max, log=True)
    sigmas = torch.linspace(math.log(sigma_max), math.log(sigma_min), n, dtype=torch.float32).exp()
    return finish(append_zero(sigmas), device)


def get_sigmas_polyexponential(
    n: int, sigma_min: float, sigma_max: float, *, rho: float = 1.0, device: Device = None
) -> Tensor:
    """Polynomial in log sigma (rho = 1 is exponential): k-diffusion ``get_sigmas_polyexponential``;
    sigma_min > sigma_max, non-positive and non-finite values are refused (LatentUpscaleError)."""
    n = check_steps(n)
    sigma_min, sigma_max = check_sigma_range(sigma_min, sigma_max, log=True)
    ramp = torch.linspace(1, 0, n, dtype=torch.float32) ** rho
    sigmas = torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min))
    return finish(append_zero(sigmas), device)


def get_sigmas_kl_optimal(n: int, sigma_min: float, sigma_max: float, *, device: Device = None) -> Tensor:
    """KL-optimal DDIM steps for Gaussian data (Sabour et al. 2024, arXiv:2404.14507).

    Matches ComfyUI ``kl_optimal_scheduler``: n values evenly spaced in arctan(sigma) from sigma_max
    to sigma_min, then 0. A1111 1.10 ``kl_optimal`` spreads n + 1 values over the same span and so
    never reaches 0. At n = 1 ComfyUI divides by zero (NaN); this returns [sigma_max, 0].
    sigma_min > sigma_max and non-finite values are refused (LatentUpscaleError).
    """
    n = check_steps(n)
    sigma_min, sigma_max = check_sigma_range(sigma_min, sigma_max)
    fractions = torch.arange(n, dtype=torch.float32).div_(max(n - 1, 1))
    sigmas = (fractions * math.atan(sigma_min) + (1 - fractions) * math.atan(sigma_max)).tan_()
    return finish(append_zero(sigmas), device)


def get_sigmas_linear_quadratic(
    n: int, sigma_min: float, sigma_max: float, *, threshold_noise: float = 0.025, device: Device = None
) -> Tensor:
    """Genmo Mochi 1's linear-then-quadratic schedule (genmoai/models ``infer.py``).

    Matches ComfyUI ``linear_quadratic_schedule``. In units of sigma_max, noise falls linearly by
    ``threshold_noise`` over the first n // 2 steps, then quadratically to 0 (slopes match at the joint).
    sigma_min is not used, as in ComfyUI.
    """
    n = check_steps(n)
    if n == 1:
        fractions = [1.0, 0.0]
    else:
        linear_steps = n // 2
        quadratic_steps = n - linear_steps
        step_diff = linear_steps - threshold_noise * n
        quadratic_coef = step_diff / (linear_steps * quadratic_steps**2)
        linear_coef = threshold_noise / linear_steps - 2 * step_diff / quadratic_steps**2
        const = quadratic_coef * linear_steps**2
        progress = [i * threshold_noise / linear_steps for i in range(linear_steps)]
        progress += [quadratic_coef * i**2 + linear_coef * i + const for i in range(linear_steps, n)]
        fractions = [1.0 - value for value in [*progress, 1.0]]
    # ComfyUI multiplies the float32 schedule by the float32 sigma_max tensor.
    sigmas = torch.tensor(fractions, dtype=torch.float32) * torch.tensor(sigma_max, dtype=torch.float32)
    return finish(sigmas, device)


#: The published 10-step Align Your Steps noise levels (11 each), from NVIDIA's
#: https://research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html (Sabour et al. 2024,
#: arXiv:2404.14507), as A1111 1.10 and Forge carry them.
AYS_NOISE_LEVELS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "sd1": (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029),
        "sdxl": (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029),
    }
)
# NVIDIA publishes levels for SD1.5 and SDXL only; the family registry says which table a family uses
# (SD2 uses the SD1.5 levels, as A1111 does for every model that is not SDXL).
_AYS_TABLE_BY_FAMILY = {family.id: family.ays for family in FAMILY_LIST if family.ays is not None}


def _loglinear_interp(levels: Sequence[float], count: int) -> list[float]:
    """NVIDIA's ``loglinear_interp``: resample decreasing levels to ``count`` points, linearly in log."""
    ascending = [math.log(level) for level in reversed(levels)]
    segments = len(ascending) - 1
    resampled = []
    for i in range(count):
        position = i / (count - 1) * segments
        j = min(int(position), segments - 1)
        resampled.append(math.exp(ascending[j] + (position - j) * (ascending[j + 1] - ascending[j])))
    return resampled[::-1]


def get_sigmas_align_your_steps(
    n: int, sigma_min: float, sigma_max: float, *, family: str = "sd1", device: Device = None
) -> Tensor:
    """NVIDIA's Align Your Steps levels (Sabour et al. 2024, arXiv:2404.14507).

    Matches ComfyUI ``AlignYourStepsScheduler``: the 11 published levels, log-linearly resampled to n + 1
    levels when n ≠ 10, with the last level replaced by 0 (ComfyUI). A1111 1.10 and Forge resample to n levels
    and append a 0, so their table is used unchanged at n = 11 and they end at 0.029. ComfyUI's levels are the
    table's own sigmas at NVIDIA's published timesteps; they differ from the published 3-decimal levels used
    here by up to 0.07 %. The levels are absolute: sigma_min/sigma_max are not used.
    """
    n = check_steps(n)
    if family not in _AYS_TABLE_BY_FAMILY:
        raise LatentUpscaleError(
            f"Align Your Steps has no published levels for family {family!r}; expected one of: "
            f"{', '.join(_AYS_TABLE_BY_FAMILY)}"
        )
    levels = list(AYS_NOISE_LEVELS[_AYS_TABLE_BY_FAMILY[family]])
    if n + 1 != len(levels):
        levels = _loglinear_interp(levels, n + 1)
    return finish(torch.tensor([*levels[:-1], 0.0], dtype=torch.float64), device)
