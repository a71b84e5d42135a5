"""Schedules read off the model's sigma table (timestep grids, ComfyUI/A1111 schedulers, beta)."""

from __future__ import annotations

import torch
from torch import Tensor

from latent_upscale.schedules.checks import Device, append_zero, check_steps, finish
from latent_upscale.schedules.special import beta_quantiles
from latent_upscale.schedules.table import SigmaTable

__all__ = [
    "get_sigmas_automatic",
    "get_sigmas_beta",
    "get_sigmas_ddim_uniform",
    "get_sigmas_normal",
    "get_sigmas_sgm_uniform",
    "get_sigmas_simple",
    "get_sigmas_uniform",
]


def get_sigmas_automatic(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """No override: in the WebUI the host picks (the sampler's default); here the table's ``get_sigmas(n)``.

    k-diffusion ``DiscreteSchedule.get_sigmas`` is what A1111 runs for "Automatic" when the sampler
    names no scheduler, and it equals ``uniform``.
    """
    return finish(table.get_sigmas(n), device)


def get_sigmas_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Evenly spaced timesteps of the DDPM grid (Ho et al. 2020, arXiv:2006.11239).

    A1111 ``uniform``, which is k-diffusion ``DiscreteSchedule.get_sigmas``.
    """
    return finish(table.get_sigmas(n), device)


def get_sigmas_simple(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Evenly strided table entries from the top, as ComfyUI and A1111 1.10 ``simple_scheduler``.

    Beyond the table's length the reference repeats entries. A repeated sigma is a zero-length
    step, and the step after it makes DPM++ 2M divide by zero. So for n > len(table) the same
    first-to-last span is walked in evenly spaced continuous timesteps instead (= ``uniform``).
    """
    n = check_steps(n)
    size = len(table)
    if n > size:
        return finish(table.get_sigmas(n), device)
    stride = size / n
    indices = [size - 1 - int(i * stride) for i in range(n)]
    return finish(append_zero(table.sigmas[indices]), device)


def _timestep_range(table: SigmaTable) -> tuple[float, float]:
    start = float(table.sigma_to_t(torch.tensor(table.sigma_max)))
    end = float(table.sigma_to_t(torch.tensor(table.sigma_min)))
    return start, end


def get_sigmas_normal(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """n even timesteps from t(sigma_max) to t(sigma_min), then 0: ComfyUI/A1111 1.10 ``normal_scheduler``."""
    n = check_steps(n)
    start, end = _timestep_range(table)
    timesteps = torch.linspace(start, end, n, dtype=torch.float32)
    return finish(append_zero(table.t_to_sigma(timesteps)), device)


def get_sigmas_sgm_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Stability AI sgm's uniform discretisation: n + 1 even timesteps, the last dropped, then 0.

    ComfyUI ``normal_scheduler(sgm=True)``, A1111 1.9+ ``sgm_uniform``.
    """
    n = check_steps(n)
    start, end = _timestep_range(table)
    timesteps = torch.linspace(start, end, n + 1, dtype=torch.float32)[:-1]
    return finish(append_zero(table.t_to_sigma(timesteps)), device)


def get_sigmas_ddim_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """DDIM's uniform timestep skipping (Song et al. 2021, arXiv:2010.02502).

    After ComfyUI ``ddim_scheduler`` and A1111 1.10 ``ddim``. The reference takes every ``len // n``-th table
    entry from index 1 upward, which gives more than n levels for many n (n = 7 gives 8). Then n of those
    entries are kept: the first and the last, and evenly spread ones between them. When the stride fits, the
    result is the reference exactly. When n ≥ len(table) there are too few entries, so the same span is walked
    in evenly spaced continuous timesteps. The first level is the reference's, often below sigma_max (n = 1
    gives sigmas[1]).
    """
    n = check_steps(n)
    size = len(table)
    stride = max(size // n, 1)
    picks = list(range(1, size, stride))
    if len(picks) >= n:
        if n == 1:
            chosen = [picks[-1]]
        else:
            # positions round(k * (len(picks) - 1) / (n - 1)), in integers
            chosen = [picks[(2 * k * (len(picks) - 1) + n - 1) // (2 * (n - 1))] for k in range(n)]
        sigmas = table.sigmas[chosen[::-1]]
    else:
        timesteps = torch.linspace(picks[-1], picks[0], n, dtype=torch.float32)
        sigmas = table.t_to_sigma(timesteps)
    return finish(append_zero(sigmas), device)


def get_sigmas_beta(
    n: int, table: SigmaTable, *, alpha: float = 0.6, beta: float = 0.6, device: Device = None
) -> Tensor:
    """Beta-distribution quantiles as timesteps (Lee et al. 2024, arXiv:2407.12173).

    After ComfyUI ``beta_scheduler``: timestep k is ppf(1 - k/n) × (len - 1), read off the table's continuous
    mapping. ComfyUI and reForge round to integer timesteps and drop repeats, so they return fewer than n + 1
    values once quantiles crowd together. A1111 1.10 and Forge map the quantiles linearly between sigma_min
    and sigma_max, which is not the paper's timestep mapping.
    """
    n = check_steps(n)
    last_t = len(table) - 1
    timesteps = torch.tensor(
        [q * last_t for q in beta_quantiles(n, float(alpha), float(beta))], dtype=torch.float64
    )
    return finish(append_zero(table.t_to_sigma(timesteps)), device)
