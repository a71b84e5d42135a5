"""Independent reference formulas for the schedule tests, written in float64 numpy from the papers and
the host code's definitions, never by calling :mod:`latent_upscale.schedules`."""

from __future__ import annotations

import math

import numpy as np

#: SD1/SD2/SDXL table endpoints as ComfyUI lists them (float64 ``sqrt((1 - ᾱ) / ᾱ)`` at t = 999 and 0,
#: the first and last of its Align Your Steps NOISE_LEVELS).
SD_SIGMA_MAX_FLOAT64 = 14.6146412293
SD_SIGMA_MIN_FLOAT64 = 0.0291671582

#: NVIDIA's published 10-step Align Your Steps levels
#: (https://research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html).
PUBLISHED_AYS = {
    "sd1": [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
    "sdxl": [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029],
}


def ldm_sd_sigmas() -> np.ndarray:
    """The SD table the way ldm + A1111 build it: float64 betas and ᾱ, then float32 ᾱ and sigmas."""
    betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=np.float64) ** 2
    alphas_cumprod = np.cumprod(1.0 - betas).astype(np.float32)
    return np.sqrt((1.0 - alphas_cumprod) / alphas_cumprod)


def sigma_at(table: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Sigma at continuous timestep t: linear interpolation of log sigma between table entries."""
    logs = np.log(table.astype(np.float64))
    return np.exp(np.interp(np.asarray(t, dtype=np.float64), np.arange(len(table)), logs))


def with_zero(values: np.ndarray | list[float]) -> np.ndarray:
    return np.append(np.asarray(values, dtype=np.float64), 0.0)


def karras(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> np.ndarray:
    """Karras et al. 2022, eq. 5: σ_i = (σ_max^(1/ρ) + i/(N-1) (σ_min^(1/ρ) - σ_max^(1/ρ)))^ρ."""
    i = np.arange(n) / max(n - 1, 1)
    return with_zero((sigma_max ** (1 / rho) + i * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho)


def exponential(n: int, sigma_min: float, sigma_max: float) -> np.ndarray:
    """Geometric progression from σ_max to σ_min."""
    i = np.arange(n) / max(n - 1, 1)
    return with_zero(sigma_max * (sigma_min / sigma_max) ** i)


def polyexponential(n: int, sigma_min: float, sigma_max: float, rho: float) -> np.ndarray:
    """log σ = log σ_min + (1 - i/(N-1))^ρ (log σ_max - log σ_min)."""
    remaining = 1 - np.arange(n) / max(n - 1, 1)
    return with_zero(
        np.exp(math.log(sigma_min) + remaining**rho * (math.log(sigma_max) - math.log(sigma_min)))
    )


def kl_optimal(n: int, sigma_min: float, sigma_max: float) -> np.ndarray:
    """tan of evenly spaced angles from atan σ_max to atan σ_min, then 0."""
    angles = np.linspace(math.atan(sigma_max), math.atan(sigma_min), n)
    return with_zero(np.tan(angles))


def simple(n: int, table: np.ndarray) -> np.ndarray:
    """Every (len/n)-th table entry counted down from the top (ComfyUI ``simple``)."""
    size = len(table)
    return with_zero([table[size - 1 - math.floor(i * size / n)] for i in range(n)])


def normal(n: int, table: np.ndarray) -> np.ndarray:
    """n evenly spaced timesteps from the last to 0, then 0."""
    return with_zero(sigma_at(table, np.linspace(len(table) - 1, 0, n)))


def sgm_uniform(n: int, table: np.ndarray) -> np.ndarray:
    """n + 1 evenly spaced timesteps from the last to 0 without the final one, then 0."""
    return with_zero(sigma_at(table, np.linspace(len(table) - 1, 0, n + 1)[:-1]))


def ddim_stride_indices(n: int, size: int) -> list[int]:
    """ComfyUI/A1111 ``ddim`` picks: every (size // n)-th index from 1 upward."""
    return list(range(1, size, max(size // n, 1)))


def linear_quadratic(n: int, sigma_max: float, threshold: float = 0.025) -> np.ndarray:
    """Mochi's shape derived afresh: 1 - σ/σ_max rises linearly to ``threshold`` at n // 2, then along the
    parabola with the same slope there that reaches 1 at n."""
    if n == 1:
        return np.array([sigma_max, 0.0])
    joint = n // 2
    slope = threshold / joint
    curvature = (1 - threshold - slope * (n - joint)) / (n - joint) ** 2
    progress = [
        i * slope if i < joint else threshold + slope * (i - joint) + curvature * (i - joint) ** 2
        for i in range(n + 1)
    ]
    return sigma_max * (1 - np.asarray(progress))


def align_your_steps(n: int, levels: list[float]) -> np.ndarray:
    """NVIDIA's recipe: log-linear resampling of the levels to n + 1 points, the last replaced by 0."""
    positions = np.linspace(0, 1, n + 1)
    resampled = np.exp(np.interp(positions, np.linspace(0, 1, len(levels)), np.log(levels[::-1])))[::-1]
    return with_zero(resampled[:-1])
