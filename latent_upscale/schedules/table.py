"""The model's discrete noise levels: :class:`SigmaTable` and the built-in SD1/SD2/SDXL table."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.checks import append_zero, check_steps, cpu_float32

__all__ = [
    "SD_BETA_END",
    "SD_BETA_START",
    "SD_TRAIN_TIMESTEPS",
    "TABLE_FAMILIES",
    "SigmaTable",
    "sd_sigma_table",
]

#: Model families whose table is the scaled-linear DDPM schedule below (SD1.x, SD2.x, SDXL).
TABLE_FAMILIES = ("sd1", "sd2", "sdxl")

# ldm ``make_beta_schedule("linear", 1000, 0.00085, 0.012)``, used by SD1/SD2 (v1-inference.yaml) and
# by sgm's ``LegacyDDPMDiscretization`` for SDXL: betas = linspace(sqrt(start), sqrt(end), 1000) ** 2.
SD_BETA_START = 0.00085
SD_BETA_END = 0.012
SD_TRAIN_TIMESTEPS = 1000


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
        table = cpu_float32(sigmas, "sigma table")
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
            logs = cpu_float32(log_sigmas, "log sigma table")
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
        cumulative = cpu_float32(alphas_cumprod, "alphas_cumprod")
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
        log_sigma = cpu_float32(sigma, "sigma").log()
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
        t = cpu_float32(t, "timestep").clamp(0, len(self) - 1)
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac().double()
        # Interpolate in float64: rounding the result to float32 is monotone, so increasing t always
        # gives non-increasing sigmas (float32 arithmetic can step back by one ulp between close t).
        log_sigmas = self._log_sigmas.double()
        log_sigma = (1 - w) * log_sigmas[low_idx] + w * log_sigmas[high_idx]
        return log_sigma.exp().float()

    def get_sigmas(self, n: int) -> Tensor:
        """k-diffusion's default discretisation: ``n`` evenly spaced timesteps from the last to 0, then 0."""
        n = check_steps(n)
        t = torch.linspace(len(self) - 1, 0, n, dtype=torch.float32)
        return append_zero(self.t_to_sigma(t))


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
