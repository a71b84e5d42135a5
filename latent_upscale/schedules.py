"""Noise schedules: how the noise levels (sigmas) of a k-diffusion denoising pass are spaced.

Every schedule is a small pure function in the style of k-diffusion's ``get_sigmas_*``. For every
``n >= 1`` it returns a float32 tensor of exactly ``n + 1`` non-increasing, finite sigmas whose last
value is exactly 0. The arithmetic runs on the CPU and the result moves to ``device`` only at the
end. (A1111 1.10, Forge and reForge ``.cpu()`` the override's result; 1.6–1.9 use it as returned.)

Schedules that depend on the model read its discrete noise levels through :class:`SigmaTable`, a
small copy of k-diffusion's ``DiscreteSchedule``. :func:`sd_sigma_table` builds the SD1/SD2/SDXL
table from the training betas, so the CLI and the tests need no model.

The registry (:func:`schedule_ids`, :func:`get_schedule`, :func:`build_sigmas`) is what the WebUI
glue, the infotext and the CLI read. :func:`img2img_sigmas` gives the part of a schedule that the
WebUI's img2img really samples, with and without ``img2img_fix_steps``.

Formulas were checked against (read, not copied):

- k-diffusion (crowsonkb, 4601bf0): ``k_diffusion/sampling.py`` and ``k_diffusion/external.py``.
- A1111 v1.10.1: ``modules/sd_schedulers.py``, ``modules/sd_samplers_kdiffusion.py``,
  ``modules/sd_samplers_common.py``.
- Forge (dfdcbab6): ``modules/sd_schedulers.py``, ``k_diffusion/external.py``,
  ``backend/modules/k_prediction.py``.
- reForge (3b56b268): ``modules/sd_schedulers.py``.
- ComfyUI: ``comfy/samplers.py`` and ``comfy_extras/nodes_align_your_steps.py``.

This module imports only torch, the standard library and our errors module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "AUTOMATIC",
    "AYS_NOISE_LEVELS",
    "TABLE_FAMILIES",
    "ParamSpec",
    "Schedule",
    "SigmaTable",
    "beta_ppf",
    "build_sigmas",
    "get_schedule",
    "get_sigmas_align_your_steps",
    "get_sigmas_automatic",
    "get_sigmas_beta",
    "get_sigmas_ddim_uniform",
    "get_sigmas_exponential",
    "get_sigmas_karras",
    "get_sigmas_kl_optimal",
    "get_sigmas_linear_quadratic",
    "get_sigmas_normal",
    "get_sigmas_polyexponential",
    "get_sigmas_sgm_uniform",
    "get_sigmas_simple",
    "get_sigmas_uniform",
    "img2img_sigmas",
    "img2img_steps",
    "registered_schedules",
    "regularized_incomplete_beta",
    "schedule_ids",
    "sd_sigma_table",
]

Device = torch.device | str | None

#: The pseudo-schedule "do not override": the host keeps its own choice.
AUTOMATIC = "automatic"

#: Model families whose table is the scaled-linear DDPM schedule below (SD1.x, SD2.x, SDXL).
TABLE_FAMILIES = ("sd1", "sd2", "sdxl")

# ldm ``make_beta_schedule("linear", 1000, 0.00085, 0.012)``, used by SD1/SD2 (v1-inference.yaml) and
# by sgm's ``LegacyDDPMDiscretization`` for SDXL: betas = linspace(sqrt(start), sqrt(end), 1000) ** 2.
SD_BETA_START = 0.00085
SD_BETA_END = 0.012
SD_TRAIN_TIMESTEPS = 1000


# --- input checks --------------------------------------------------------------------------------


def _check_steps(n: object, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise LatentUpscaleError(f"{name} must be a whole number of steps (1 or more), got {n!r}")
    if n < 1:
        raise LatentUpscaleError(f"{name} must be at least 1 step, got {n}")
    return n


def _cpu_float32(values: object, name: str) -> Tensor:
    """A detached CPU float32 copy: host tables may live on CUDA or be float16/float64."""
    try:
        tensor = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError) as error:
        raise LatentUpscaleError(f"{name} must be numbers, got {type(values).__name__} ({error})") from None
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise LatentUpscaleError(f"{name} must be real numbers, got dtype {tensor.dtype}")
    return tensor.detach().to(device="cpu", dtype=torch.float32)


def _append_zero(sigmas: Tensor) -> Tensor:
    return torch.cat([sigmas, sigmas.new_zeros([1])])


def _finish(sigmas: Tensor, device: Device) -> Tensor:
    """Every schedule ends here: float32, and moved to ``device`` only now."""
    sigmas = sigmas.to(torch.float32)
    return sigmas if device is None else sigmas.to(device)


# --- the model's discrete noise levels -----------------------------------------------------------


class SigmaTable:
    """A model's discrete noise levels and k-diffusion's continuous sigma↔timestep mapping over them.

    Mirrors ``k_diffusion.external.DiscreteSchedule`` (which A1111's ``CompVisDenoiser`` extends):
    ``sigmas`` ascend (index = training timestep), and ``sigma_to_t``/``t_to_sigma`` interpolate
    linearly in log sigma. The table is kept as a CPU float32 copy, so nothing here touches the
    device a host table lives on.
    """

    def __init__(
        self, sigmas: Tensor | Sequence[float], log_sigmas: Tensor | Sequence[float] | None = None
    ) -> None:
        table = _cpu_float32(sigmas, "sigma table")
        if table.dim() != 1 or table.numel() < 2:
            raise LatentUpscaleError(
                f"a sigma table must be 1-D with at least 2 values, got shape {tuple(table.shape)}"
            )
        if not bool(torch.isfinite(table).all()) or not bool((table > 0).all()):
            raise LatentUpscaleError(
                "a sigma table must hold finite positive values, got "
                f"min {float(table.min()):g} and max {float(table.max()):g}"
            )
        if not bool((table[1:] > table[:-1]).all()):
            raise LatentUpscaleError(
                "a sigma table must be strictly ascending (index = training timestep, as "
                "CompVisDenoiser.sigmas), got a table that is not"
            )
        if log_sigmas is None:
            logs = table.log()
        else:
            logs = _cpu_float32(log_sigmas, "log sigma table")
            if logs.shape != table.shape or not bool(torch.isfinite(logs).all()):
                raise LatentUpscaleError(
                    f"log_sigmas must be finite and shaped like sigmas {tuple(table.shape)}, "
                    f"got shape {tuple(logs.shape)}"
                )
        self._sigmas = table
        self._log_sigmas = logs

    # constructors

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod: Tensor | Sequence[float]) -> SigmaTable:
        """The table of a DDPM model, computed as A1111 does: float32 ``sqrt((1 - ᾱ) / ᾱ)``."""
        cumulative = _cpu_float32(alphas_cumprod, "alphas_cumprod")
        if cumulative.dim() != 1 or not bool(((cumulative > 0) & (cumulative < 1)).all()):
            raise LatentUpscaleError("alphas_cumprod must be a 1-D tensor of values strictly between 0 and 1")
        # k-diffusion DiscreteEpsDDPMDenoiser.__init__: ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        return cls(((1 - cumulative) / cumulative) ** 0.5)

    @classmethod
    def from_betas(cls, betas: Tensor | Sequence[float]) -> SigmaTable:
        """The table of a DDPM model from its betas (cumulative product in float64, as ldm/sgm)."""
        values = torch.as_tensor(betas).detach().to(device="cpu", dtype=torch.float64)
        if values.dim() != 1 or values.numel() < 2 or not bool(((values > 0) & (values < 1)).all()):
            raise LatentUpscaleError(
                f"betas must be a 1-D sequence of at least 2 values strictly between 0 and 1, got shape "
                f"{tuple(values.shape)}"
            )
        return cls.from_alphas_cumprod(torch.cumprod(1.0 - values, dim=0))

    @classmethod
    def from_model_wrap(cls, model_wrap: object) -> SigmaTable:
        """Read the table of a host's ``p.sampler.model_wrap`` (duck-typed, copied to the CPU).

        A1111/reForge's ``CompVisDenoiser`` has ``sigmas`` and ``log_sigmas`` buffers. Forge's
        ``ForgeScheduleLinker`` has ``sigmas`` and ``log_sigmas`` properties over
        ``predictor.sigmas``; its ``sigma_min``/``sigma_max`` call ``predictor.sigma_min()``, which
        is a tensor property on the SD predictors and fails, so they are never read here.
        """
        sigmas = getattr(model_wrap, "sigmas", None)
        if sigmas is None:
            sigmas = getattr(getattr(model_wrap, "predictor", None), "sigmas", None)
        if sigmas is None:
            raise LatentUpscaleError(
                f"{type(model_wrap).__name__} has no sigma table: expected .sigmas (A1111 CompVisDenoiser, "
                "Forge ForgeScheduleLinker) or .predictor.sigmas (Forge predictor)"
            )
        try:
            log_sigmas = getattr(model_wrap, "log_sigmas", None)
        except (RuntimeError, TypeError):
            log_sigmas = None
        if log_sigmas is not None and tuple(torch.as_tensor(log_sigmas).shape) != tuple(
            torch.as_tensor(sigmas).shape
        ):
            log_sigmas = None
        return cls(sigmas, log_sigmas)

    # the DiscreteSchedule surface

    @property
    def sigmas(self) -> Tensor:
        """Ascending noise levels (a CPU float32 copy)."""
        return self._sigmas.clone()

    @property
    def log_sigmas(self) -> Tensor:
        """Their logarithms, the space the timestep mapping interpolates in (a CPU float32 copy)."""
        return self._log_sigmas.clone()

    @property
    def sigma_min(self) -> float:
        """The lowest noise level, as the float the WebUI passes to schedules (``sigmas[0].item()``)."""
        return float(self._sigmas[0])

    @property
    def sigma_max(self) -> float:
        """The highest noise level (``sigmas[-1].item()``)."""
        return float(self._sigmas[-1])

    def __len__(self) -> int:
        return self._sigmas.numel()

    def __repr__(self) -> str:
        return f"SigmaTable({len(self)} levels, sigma {self.sigma_min:.6g}..{self.sigma_max:.6g})"

    def sigma_to_t(self, sigma: Tensor | float) -> Tensor:
        """Continuous timestep of ``sigma`` (k-diffusion ``DiscreteSchedule.sigma_to_t``, unquantized)."""
        log_sigma = _cpu_float32(sigma, "sigma").log()
        flat = log_sigma.reshape(-1)
        dists = flat - self._log_sigmas[:, None]
        low_idx = dists.ge(0).cumsum(dim=0).argmax(dim=0).clamp(max=len(self) - 2)
        high_idx = low_idx + 1
        low, high = self._log_sigmas[low_idx], self._log_sigmas[high_idx]
        w = ((low - flat) / (low - high)).clamp(0, 1)
        t = (1 - w) * low_idx + w * high_idx
        return t.view(log_sigma.shape)

    def t_to_sigma(self, t: Tensor | float) -> Tensor:
        """Sigma at continuous timestep ``t`` (k-diffusion ``DiscreteSchedule.t_to_sigma``).

        ``t`` is clamped to the table, as Forge's predictor does; k-diffusion would index out of range.
        """
        t = _cpu_float32(t, "timestep").clamp(0, len(self) - 1)
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac().double()
        # Interpolate in float64: rounding the result to float32 is monotone, so increasing t always
        # gives non-increasing sigmas (float32 arithmetic can step back by one ulp between close t).
        log_sigmas = self._log_sigmas.double()
        log_sigma = (1 - w) * log_sigmas[low_idx] + w * log_sigmas[high_idx]
        return log_sigma.exp().float()

    def get_sigmas(self, n: int) -> Tensor:
        """k-diffusion's default discretisation: ``n`` evenly spaced timesteps from the last to 0, then 0."""
        n = _check_steps(n)
        t = torch.linspace(len(self) - 1, 0, n, dtype=torch.float32)
        return _append_zero(self.t_to_sigma(t))


@lru_cache(maxsize=1)
def _sd_table_values() -> Tensor:
    betas = torch.linspace(SD_BETA_START**0.5, SD_BETA_END**0.5, SD_TRAIN_TIMESTEPS, dtype=torch.float64) ** 2
    return SigmaTable.from_betas(betas).sigmas


def sd_sigma_table(family: str = "sd1") -> SigmaTable:
    """The 1000-level table of SD1/SD2/SDXL (scaled-linear betas 0.00085→0.012), so no model is needed.

    SD1/SD2 (ldm ``register_schedule``) and SDXL (sgm ``LegacyDDPMDiscretization``, which A1111's
    ``extend_sdxl`` reads) share these betas, so the three tables are identical.
    """
    if family not in TABLE_FAMILIES:
        raise LatentUpscaleError(
            f"no built-in sigma table for family {family!r}; expected one of: {', '.join(TABLE_FAMILIES)} "
            "(other models: SigmaTable.from_model_wrap(p.sampler.model_wrap))"
        )
    return SigmaTable(_sd_table_values())


# --- the beta distribution (no scipy in the package) ----------------------------------------------


def _log_beta_function(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) by the modified Lentz method (Numerical Recipes §6.4 ``betacf``)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            delta = d * c
            fraction *= delta
        if abs(delta - 1.0) < 1e-16:
            return fraction
    raise RuntimeError(f"incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}")


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """The beta distribution's CDF I_x(a, b), to about 1e-15 (what scipy.special.betainc computes)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta_function(a, b)
    # The fraction converges fast below the mean-ish point; above it use I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def beta_ppf(q: float, alpha: float, beta: float) -> float:
    """Inverse CDF (quantile) of Beta(alpha, beta), for the beta schedule without scipy.

    Safeguarded Newton on :func:`regularized_incomplete_beta`: a step that leaves the bracket
    falls back to bisection. The starting points are the two tail expansions I_x ≈ x^a / (a B)
    and 1 - I_x ≈ (1 - x)^b / (b B). Accurate to about 1e-12 in x.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (math.isfinite(value) and value > 0):
            raise LatentUpscaleError(f"beta distribution {name} must be a positive number, got {value!r}")
    if not (0.0 <= q <= 1.0):
        raise LatentUpscaleError(f"a quantile must lie in [0, 1], got {q!r}")
    if q == 0.0 or q == 1.0:
        return float(q)
    log_b = _log_beta_function(alpha, beta)

    def cdf_gap(x: float) -> float:
        return regularized_incomplete_beta(x, alpha, beta) - q

    lo, hi = 0.0, 1.0
    candidates = (
        math.exp((math.log(q) + math.log(alpha) + log_b) / alpha),
        -math.expm1((math.log1p(-q) + math.log(beta) + log_b) / beta),
    )
    best, best_gap = 0.5, cdf_gap(0.5)
    lo, hi = (0.5, hi) if best_gap < 0 else (lo, 0.5)
    for candidate in candidates:
        if lo < candidate < hi:
            gap = cdf_gap(candidate)
            lo, hi = (candidate, hi) if gap < 0 else (lo, candidate)
            if abs(gap) < abs(best_gap):
                best, best_gap = candidate, gap
    x, gap = best, best_gap
    for _ in range(500):
        if gap == 0.0:
            return x
        log_pdf = (alpha - 1.0) * math.log(x) + (beta - 1.0) * math.log1p(-x) - log_b
        step = gap / math.exp(log_pdf) if log_pdf < 700 else 0.0
        proposal = x - step
        if not (lo < proposal < hi):
            proposal = 0.5 * (lo + hi)
        if abs(proposal - x) <= 1e-15 * proposal or proposal in (lo, hi):
            return proposal
        x = proposal
        gap = cdf_gap(x)
        lo, hi = (x, hi) if gap < 0 else (lo, x)
    return x


@lru_cache(maxsize=64)
def _beta_quantiles(n: int, alpha: float, beta: float) -> tuple[float, ...]:
    # ComfyUI/reForge beta_scheduler: quantiles 1 - linspace(0, 1, n, endpoint=False) = 1, 1 - 1/n, …, 1/n.
    return tuple(beta_ppf(1.0 - k / n, alpha, beta) for k in range(n))


# --- closed-form schedules (sigma_min, sigma_max only) -------------------------------------------


def get_sigmas_karras(
    n: int, sigma_min: float, sigma_max: float, *, rho: float = 7.0, device: Device = None
) -> Tensor:
    """Karras et al. 2022 (arXiv:2206.00364, eq. 5), exactly k-diffusion ``get_sigmas_karras``."""
    n = _check_steps(n)
    ramp = torch.linspace(0, 1, n, dtype=torch.float32)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return _finish(_append_zero(sigmas), device)


def get_sigmas_exponential(n: int, sigma_min: float, sigma_max: float, *, device: Device = None) -> Tensor:
    """Even in log sigma = DPM-Solver's uniform logSNR (Lu et al. 2022, arXiv:2206.00927).

    Exactly k-diffusion ``get_sigmas_exponential``.
    """
    n = _check_steps(n)
    sigmas = torch.linspace(math.log(sigma_max), math.log(sigma_min), n, dtype=torch.float32).exp()
    return _finish(_append_zero(sigmas), device)


def get_sigmas_polyexponential(
    n: int, sigma_min: float, sigma_max: float, *, rho: float = 1.0, device: Device = None
) -> Tensor:
    """Polynomial in log sigma (rho = 1 is exponential): k-diffusion ``get_sigmas_polyexponential``."""
    n = _check_steps(n)
    ramp = torch.linspace(1, 0, n, dtype=torch.float32) ** rho
    sigmas = torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min))
    return _finish(_append_zero(sigmas), device)


def get_sigmas_kl_optimal(n: int, sigma_min: float, sigma_max: float, *, device: Device = None) -> Tensor:
    """KL-optimal DDIM steps for Gaussian data (Sabour et al. 2024, arXiv:2404.14507).

    Matches ComfyUI ``kl_optimal_scheduler``: n values evenly spaced in arctan(sigma) from sigma_max
    to sigma_min, then 0. A1111 1.10 ``kl_optimal`` spreads n + 1 values over the same span and so
    never reaches 0. At n = 1 ComfyUI divides by zero (NaN); this returns [sigma_max, 0].
    """
    n = _check_steps(n)
    fractions = torch.arange(n, dtype=torch.float32).div_(max(n - 1, 1))
    sigmas = (fractions * math.atan(sigma_min) + (1 - fractions) * math.atan(sigma_max)).tan_()
    return _finish(_append_zero(sigmas), device)


def get_sigmas_linear_quadratic(
    n: int, sigma_min: float, sigma_max: float, *, threshold_noise: float = 0.025, device: Device = None
) -> Tensor:
    """Genmo Mochi 1's linear-then-quadratic schedule (genmoai/models ``infer.py``).

    Matches ComfyUI ``linear_quadratic_schedule``. In units of sigma_max, noise falls linearly by
    ``threshold_noise`` over the first n // 2 steps, then quadratically to 0 (slopes match at the joint).
    sigma_min is not used, as in ComfyUI.
    """
    n = _check_steps(n)
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
    return _finish(sigmas, device)


#: The published 10-step Align Your Steps noise levels (11 each), from NVIDIA's
#: https://research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html (Sabour et al. 2024,
#: arXiv:2404.14507), as A1111 1.10 and Forge carry them.
AYS_NOISE_LEVELS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "sd1": (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029),
        "sdxl": (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029),
    }
)
# NVIDIA publishes levels for SD1.5 and SDXL only; SD2 uses the SD1.5 levels, as A1111 does for every
# model that is not SDXL.
_AYS_TABLE_BY_FAMILY = {"sd1": "sd1", "sd2": "sd1", "sdxl": "sdxl"}


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
    n = _check_steps(n)
    if family not in _AYS_TABLE_BY_FAMILY:
        raise LatentUpscaleError(
            f"Align Your Steps has no published levels for family {family!r}; expected one of: "
            f"{', '.join(_AYS_TABLE_BY_FAMILY)}"
        )
    levels = list(AYS_NOISE_LEVELS[_AYS_TABLE_BY_FAMILY[family]])
    if n + 1 != len(levels):
        levels = _loglinear_interp(levels, n + 1)
    return _finish(torch.tensor([*levels[:-1], 0.0], dtype=torch.float64), device)


# --- schedules over the model's table ------------------------------------------------------------


def get_sigmas_automatic(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """No override: in the WebUI the host picks (the sampler's default); here the table's ``get_sigmas(n)``.

    k-diffusion ``DiscreteSchedule.get_sigmas`` is what A1111 runs for "Automatic" when the sampler
    names no scheduler, and it equals ``uniform``.
    """
    return _finish(table.get_sigmas(n), device)


def get_sigmas_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Evenly spaced timesteps of the DDPM grid (Ho et al. 2020, arXiv:2006.11239).

    A1111 ``uniform``, which is k-diffusion ``DiscreteSchedule.get_sigmas``.
    """
    return _finish(table.get_sigmas(n), device)


def get_sigmas_simple(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Evenly strided table entries from the top, as ComfyUI and A1111 1.10 ``simple_scheduler``.

    Beyond the table's length the reference repeats entries. A repeated sigma is a zero-length
    step, and the step after it makes DPM++ 2M divide by zero. So for n > len(table) the same
    first-to-last span is walked in evenly spaced continuous timesteps instead (= ``uniform``).
    """
    n = _check_steps(n)
    size = len(table)
    if n > size:
        return _finish(table.get_sigmas(n), device)
    stride = size / n
    indices = [size - 1 - int(i * stride) for i in range(n)]
    return _finish(_append_zero(table._sigmas[indices]), device)


def _timestep_range(table: SigmaTable) -> tuple[float, float]:
    start = float(table.sigma_to_t(torch.tensor(table.sigma_max)))
    end = float(table.sigma_to_t(torch.tensor(table.sigma_min)))
    return start, end


def get_sigmas_normal(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """n even timesteps from t(sigma_max) to t(sigma_min), then 0: ComfyUI/A1111 1.10 ``normal_scheduler``."""
    n = _check_steps(n)
    start, end = _timestep_range(table)
    timesteps = torch.linspace(start, end, n, dtype=torch.float32)
    return _finish(_append_zero(table.t_to_sigma(timesteps)), device)


def get_sigmas_sgm_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """Stability AI sgm's uniform discretisation: n + 1 even timesteps, the last dropped, then 0.

    ComfyUI ``normal_scheduler(sgm=True)``, A1111 1.9+ ``sgm_uniform``.
    """
    n = _check_steps(n)
    start, end = _timestep_range(table)
    timesteps = torch.linspace(start, end, n + 1, dtype=torch.float32)[:-1]
    return _finish(_append_zero(table.t_to_sigma(timesteps)), device)


def get_sigmas_ddim_uniform(n: int, table: SigmaTable, *, device: Device = None) -> Tensor:
    """DDIM's uniform timestep skipping (Song et al. 2021, arXiv:2010.02502).

    After ComfyUI ``ddim_scheduler`` and A1111 1.10 ``ddim``. The reference takes every ``len // n``-th table
    entry from index 1 upward, which gives more than n levels for many n (n = 7 gives 8). Then n of those
    entries are kept: the first and the last, and evenly spread ones between them. When the stride fits, the
    result is the reference exactly. When n ≥ len(table) there are too few entries, so the same span is walked
    in evenly spaced continuous timesteps. The first level is the reference's, often below sigma_max (n = 1
    gives sigmas[1]).
    """
    n = _check_steps(n)
    size = len(table)
    stride = max(size // n, 1)
    picks = list(range(1, size, stride))
    if len(picks) >= n:
        if n == 1:
            chosen = [picks[-1]]
        else:
            # positions round(k * (len(picks) - 1) / (n - 1)), in integers
            chosen = [picks[(2 * k * (len(picks) - 1) + n - 1) // (2 * (n - 1))] for k in range(n)]
        sigmas = table._sigmas[chosen[::-1]]
    else:
        timesteps = torch.linspace(picks[-1], picks[0], n, dtype=torch.float32)
        sigmas = table.t_to_sigma(timesteps)
    return _finish(_append_zero(sigmas), device)


def get_sigmas_beta(
    n: int, table: SigmaTable, *, alpha: float = 0.6, beta: float = 0.6, device: Device = None
) -> Tensor:
    """Beta-distribution quantiles as timesteps (Lee et al. 2024, arXiv:2407.12173).

    After ComfyUI ``beta_scheduler``: timestep k is ppf(1 - k/n) × (len - 1), read off the table's continuous
    mapping. ComfyUI and reForge round to integer timesteps and drop repeats, so they return fewer than n + 1
    values once quantiles crowd together. A1111 1.10 and Forge map the quantiles linearly between sigma_min
    and sigma_max, which is not the paper's timestep mapping.
    """
    n = _check_steps(n)
    last_t = len(table) - 1
    timesteps = torch.tensor(
        [q * last_t for q in _beta_quantiles(n, float(alpha), float(beta))], dtype=torch.float64
    )
    return _finish(_append_zero(table.t_to_sigma(timesteps)), device)


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One numeric parameter of a schedule, with its accepted closed range."""

    name: str
    default: float
    minimum: float
    maximum: float
    label: str


@dataclass(frozen=True)
class Schedule:
    """One entry of the schedule registry.

    ``id`` is stable (infotext, HTTP API, XYZ, CLI). ``fn`` is called as
    ``fn(n, table, **params)`` when ``needs_table`` and ``fn(n, sigma_min, sigma_max, **params)``
    otherwise, plus ``family=`` when ``needs_family``.
    """

    id: str
    label: str
    fn: Callable[..., Tensor]
    params: tuple[ParamSpec, ...]
    needs_table: bool
    source: str
    advice: str = ""
    needs_family: bool = False

    @property
    def overrides_host(self) -> bool:
        """False only for ``automatic``: the WebUI glue leaves ``sampler_noise_scheduler_override`` unset."""
        return self.id != AUTOMATIC

    def defaults(self) -> dict[str, float]:
        """Parameter name → default value."""
        return {param.name: param.default for param in self.params}


_REGISTRY: dict[str, Schedule] = {}


def _register(schedule: Schedule) -> None:
    if schedule.id in _REGISTRY:
        raise RuntimeError(f"duplicate schedule id {schedule.id!r}")
    _REGISTRY[schedule.id] = schedule


_RHO_RANGE = (0.1, 20.0)

for _schedule in (
    Schedule(
        AUTOMATIC,
        "Automatic",
        get_sigmas_automatic,
        (),
        needs_table=True,
        source="the host's own choice; outside the WebUI k-diffusion DiscreteSchedule.get_sigmas(n)",
        advice="Leave the WebUI's schedule alone (the sampler's default, e.g. Karras for DPM++ 2M).",
    ),
    Schedule(
        "karras",
        "Karras",
        get_sigmas_karras,
        (ParamSpec("rho", 7.0, *_RHO_RANGE, "rho (higher: more steps at low noise)"),),
        needs_table=False,
        source="Karras et al. 2022, arXiv:2206.00364; k-diffusion get_sigmas_karras",
        advice="Dense at low noise; the default of DPM++ 2M/SDE. A safe general choice at 20-30 steps.",
    ),
    Schedule(
        "exponential",
        "Exponential",
        get_sigmas_exponential,
        (),
        needs_table=False,
        source="uniform logSNR, Lu et al. 2022, arXiv:2206.00927; k-diffusion get_sigmas_exponential",
        advice="Even in log sigma; the default of DPM++ 2M SDE and 3M SDE.",
    ),
    Schedule(
        "polyexponential",
        "Polyexponential",
        get_sigmas_polyexponential,
        (ParamSpec("rho", 1.0, *_RHO_RANGE, "rho (1 = exponential; higher: more steps at low noise)"),),
        needs_table=False,
        source="k-diffusion get_sigmas_polyexponential (Crowson)",
        advice="Exponential with a bend: rho > 1 spends more steps at low noise, rho < 1 at high noise.",
    ),
    Schedule(
        "uniform",
        "Uniform",
        get_sigmas_uniform,
        (),
        needs_table=True,
        source="DDPM timestep grid, Ho et al. 2020, arXiv:2006.11239; k-diffusion get_sigmas",
        advice="Evenly spaced timesteps, the plain k-diffusion default; many steps at high noise.",
    ),
    Schedule(
        "simple",
        "Simple",
        get_sigmas_simple,
        (),
        needs_table=True,
        source="ComfyUI simple_scheduler; A1111 1.10 sd_schedulers.simple_scheduler",
        advice="Evenly strided training timesteps; a robust default, also for img2img.",
    ),
    Schedule(
        "normal",
        "Normal",
        get_sigmas_normal,
        (),
        needs_table=True,
        source="ComfyUI normal_scheduler; A1111 1.10 sd_schedulers.normal_scheduler",
        advice="Evenly spaced timesteps down to sigma_min; ComfyUI's default.",
    ),
    Schedule(
        "sgm_uniform",
        "SGM Uniform",
        get_sigmas_sgm_uniform,
        (),
        needs_table=True,
        source="Stability AI sgm discretisation; ComfyUI normal_scheduler(sgm=True); A1111 sgm_uniform",
        advice="Like Normal but stops one step above sigma_min; suits Turbo/Lightning/LCM-style models.",
    ),
    Schedule(
        "ddim_uniform",
        "DDIM Uniform",
        get_sigmas_ddim_uniform,
        (),
        needs_table=True,
        source="Song et al. 2021 (DDIM), arXiv:2010.02502; ComfyUI ddim_scheduler; A1111 1.10 'ddim'",
        advice="DDIM's timestep skipping; starts below sigma_max at low step counts.",
    ),
    Schedule(
        "beta",
        "Beta",
        get_sigmas_beta,
        (
            ParamSpec("alpha", 0.6, 0.05, 50.0, "alpha (lower: more steps at low noise)"),
            ParamSpec("beta", 0.6, 0.05, 50.0, "beta (lower: more steps at high noise)"),
        ),
        needs_table=True,
        source="Lee et al. 2024, arXiv:2407.12173; ComfyUI beta_scheduler",
        advice="More steps at both ends of the schedule; alpha = beta = 0.6 as in the paper.",
    ),
    Schedule(
        "kl_optimal",
        "KL Optimal",
        get_sigmas_kl_optimal,
        (),
        needs_table=False,
        source="Sabour et al. 2024, arXiv:2404.14507; A1111 PR #15608; ComfyUI kl_optimal_scheduler",
        advice="Even in arctan(sigma); behaves much like Align Your Steps at any step count.",
    ),
    Schedule(
        "align_your_steps",
        "Align Your Steps",
        get_sigmas_align_your_steps,
        (),
        needs_table=False,
        needs_family=True,
        source="Sabour et al. 2024, arXiv:2404.14507; NVIDIA AYS how-to tables; ComfyUI AYS node",
        advice="NVIDIA's optimised levels for SD1/SDXL; made for about 10 steps.",
    ),
    Schedule(
        "linear_quadratic",
        "Linear Quadratic",
        get_sigmas_linear_quadratic,
        (ParamSpec("threshold_noise", 0.025, 0.001, 0.5, "noise removed by the linear first half"),),
        needs_table=False,
        source="Genmo Mochi 1 (genmoai/models infer.py); ComfyUI linear_quadratic_schedule",
        advice="Mochi's schedule: slow start near sigma_max, then fast; made for flow/video models.",
    ),
):
    _register(_schedule)
del _schedule


def schedule_ids() -> list[str]:
    """Registered schedule ids in display order, ``automatic`` first."""
    return list(_REGISTRY)


def registered_schedules() -> list[Schedule]:
    """Registered schedules in display order (for the UI and ``python -m latent_upscale schedulers``)."""
    return list(_REGISTRY.values())


def get_schedule(schedule_id: str) -> Schedule:
    """The registry entry for ``schedule_id``; an unknown id names the ones that exist."""
    try:
        return _REGISTRY[schedule_id]
    except (KeyError, TypeError):
        raise LatentUpscaleError(
            f"unknown schedule {schedule_id!r}; expected one of: {', '.join(_REGISTRY)}"
        ) from None


def _param_value(schedule: Schedule, spec: ParamSpec, given: object) -> float:
    value = given
    if isinstance(given, str):
        try:
            value = float(given)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LatentUpscaleError(
            f"{schedule.id} parameter {spec.name} must be a finite number, got {given!r}"
        )
    if not spec.minimum <= value <= spec.maximum:
        raise LatentUpscaleError(
            f"{schedule.id} parameter {spec.name} must lie in [{spec.minimum:g}, {spec.maximum:g}], "
            f"got {value:g}"
        )
    return float(value)


def _resolve_params(schedule: Schedule, params: Mapping[str, object]) -> dict[str, float]:
    specs = {spec.name: spec for spec in schedule.params}
    unknown = sorted(set(params) - set(specs))
    if unknown:
        accepted = ", ".join(specs) if specs else "none"
        raise LatentUpscaleError(
            f"schedule {schedule.id!r} has no parameter {', '.join(map(repr, unknown))}; accepted: {accepted}"
        )
    values = schedule.defaults()
    values.update({name: _param_value(schedule, specs[name], value) for name, value in params.items()})
    return values


def build_sigmas(
    schedule_id: str,
    n: int,
    table: SigmaTable,
    *,
    family: str | None = None,
    device: Device = None,
    **params: object,
) -> Tensor:
    """The ``n + 1`` sigmas of a registered schedule: what ``p.sampler_noise_scheduler_override(n)`` returns.

    ``params`` are the schedule's own (e.g. ``rho=5``), checked against its :class:`ParamSpec`
    ranges; numeric strings are accepted, as the CLI passes them. ``family`` picks the Align Your
    Steps levels (``"sd1"``/``"sd2"`` → SD1.5, ``"sdxl"`` → SDXL; None → SD1.5, as A1111 does for
    any model that is not SDXL); other schedules ignore it. ``automatic`` returns the table's
    ``get_sigmas(n)``.
    """
    schedule = get_schedule(schedule_id)
    steps = _check_steps(n)
    if not isinstance(table, SigmaTable):
        raise LatentUpscaleError(
            f"table must be a SigmaTable, got {type(table).__name__}; build one with sd_sigma_table(family) "
            "or SigmaTable.from_model_wrap(p.sampler.model_wrap)"
        )
    kwargs: dict[str, object] = dict(_resolve_params(schedule, params))
    if schedule.needs_family:
        kwargs["family"] = "sd1" if family is None else family
    if schedule.needs_table:
        return schedule.fn(steps, table, device=device, **kwargs)
    return schedule.fn(steps, table.sigma_min, table.sigma_max, device=device, **kwargs)


# --- img2img -------------------------------------------------------------------------------------


def img2img_steps(steps: int, denoise: float, *, fix_steps: bool) -> tuple[int, int]:
    """``(schedule length asked of the override, t_enc)`` exactly as WebUI ``setup_img2img_steps``.

    Identical in A1111 1.6–1.10.1, Forge and reForge (``modules/sd_samplers_common.py``). With the
    fix the schedule has ``int(steps / min(denoise, 0.999))`` steps and ``t_enc = steps - 1``;
    without it, ``steps`` and ``t_enc = int(min(denoise, 0.999) * steps)``. The sampler runs
    ``t_enc + 1`` steps. The hires pass always behaves as fixed.
    """
    steps = _check_steps(steps, "steps")
    if isinstance(denoise, bool) or not isinstance(denoise, (int, float)) or not 0 < denoise <= 1:
        raise LatentUpscaleError(
            f"denoising strength must lie in (0, 1], got {denoise!r} (at 0 the WebUI samples nothing)"
        )
    strength = min(denoise, 0.999)
    if fix_steps:
        return int(steps / strength), steps - 1
    return steps, int(strength * steps)


def img2img_sigmas(
    schedule_id: str,
    steps: int,
    denoise: float,
    table: SigmaTable,
    *,
    fix_steps: bool,
    family: str | None = None,
    discard_penultimate: bool = False,
    device: Device = None,
    **params: object,
) -> Tensor:
    """The sigmas the WebUI's k-diffusion img2img really samples: ``len - 1`` sampler steps.

    Reproduces v1.10.1 ``KDiffusionSampler.sample_img2img``: ``setup_img2img_steps`` (see
    :func:`img2img_steps`), then ``get_sigmas`` asks the override for one more step when the
    sampler discards the penultimate sigma (DPM2, DPM2 a, DPM++ 3M SDE or the option) and drops
    it, then the sampler walks ``sigmas[steps - t_enc - 1:]``. So with the fix that is
    ``steps + 1`` values; without it, ``int(min(denoise, 0.999) * steps) + 2`` values.
    """
    total, t_enc = img2img_steps(steps, denoise, fix_steps=fix_steps)
    asked = total + 1 if discard_penultimate else total
    sigmas = build_sigmas(schedule_id, asked, table, family=family, **params)
    if discard_penultimate:
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    return _finish(sigmas[total - t_enc - 1 :].clone(), device)
