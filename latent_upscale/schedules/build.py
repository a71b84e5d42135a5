"""Building a registered schedule: checks first, then the schedule function, then the repeat guard.

Every accepted request gives strictly decreasing sigmas that end at 0. Where a schedule's own formula
puts two levels closer together than float32 can tell apart (Beta with a small alpha or beta,
Polyexponential at thousands of steps), the equal levels are dropped as ComfyUI drops them. A
zero-length step would make DPM++ 2M and the SDE samplers divide by zero (a NaN, black image). The
result says so: :class:`ScheduleResult` has ``dropped`` and ``note``, and :func:`build_sigmas` logs a
warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.checks import Device, check_device, check_steps, finish
from latent_upscale.schedules.registry import check_schedule_params, get_schedule
from latent_upscale.schedules.table import SigmaTable

__all__ = ["ScheduleResult", "build_sigmas", "build_sigmas_detailed", "drop_repeated_sigmas"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleResult:
    """A built schedule and whether it is shorter than asked.

    ``sigmas``: float32, ``steps + 1`` values, strictly decreasing, the last exactly 0.
    ``requested_steps``: the ``n`` asked for; ``dropped``: levels removed because they repeated.
    """

    schedule: str
    sigmas: Tensor
    requested_steps: int
    dropped: int

    @property
    def steps(self) -> int:
        """Steps the sigmas give (``requested_steps - dropped``)."""
        return self.sigmas.numel() - 1

    @property
    def note(self) -> str | None:
        """One line for the log and the infotext when levels were dropped; None otherwise."""
        if not self.dropped:
            return None
        return (
            f"{self.schedule} gave {self.steps} distinct steps of {self.requested_steps} "
            f"({self.dropped} repeated sigmas dropped)"
        )


def drop_repeated_sigmas(sigmas: Tensor) -> Tensor:
    """Keep each sigma only if it is below every one before it (ComfyUI ``beta_scheduler`` drops repeats).

    ``sigmas`` is a 1-D CPU tensor (non-increasing from every schedule); the result is strictly decreasing.
    """
    keep = sigmas.new_ones(sigmas.shape, dtype=torch.bool)
    keep[1:] = sigmas[1:] < torch.cummin(sigmas, dim=0).values[:-1]
    return sigmas if bool(keep.all()) else sigmas[keep]


def build_sigmas_detailed(
    schedule_id: str,
    n: int,
    table: SigmaTable,
    *,
    family: str | None = None,
    device: Device = None,
    **params: object,
) -> ScheduleResult:
    """Like :func:`build_sigmas`, and says whether repeated levels were dropped (for the infotext)."""
    schedule = get_schedule(schedule_id)
    steps = check_steps(n)
    target = check_device(device)
    if not isinstance(table, SigmaTable):
        raise LatentUpscaleError(
            f"table must be a SigmaTable, got {type(table).__name__}; build one with sd_sigma_table(family) "
            "or SigmaTable.from_model_wrap(p.sampler.model_wrap)"
        )
    raw = schedule.sigmas(steps, table, family=family, **check_schedule_params(schedule.id, params))
    sigmas = drop_repeated_sigmas(raw)
    return ScheduleResult(schedule.id, finish(sigmas, target), steps, raw.numel() - sigmas.numel())


def build_sigmas(
    schedule_id: str,
    n: int,
    table: SigmaTable,
    *,
    family: str | None = None,
    device: Device = None,
    **params: object,
) -> Tensor:
    """The sigmas of a registered schedule: what ``p.sampler_noise_scheduler_override(n)`` returns.

    ``n + 1`` float32 values, strictly decreasing, the last exactly 0, on ``device`` (default: CPU).
    Fewer only where the formula repeats a level (see the module docstring); then a warning is logged.
    ``params`` are the schedule's own (e.g. ``rho=5``), checked by :func:`check_schedule_params`.
    ``family`` picks the Align Your Steps levels (``"sd1"``/``"sd2"`` → SD1.5, ``"sdxl"`` → SDXL; None →
    SD1.5, as A1111 does for any model that is not SDXL); other schedules ignore it. ``automatic``
    returns the table's ``get_sigmas(n)``.

    Raises:
        LatentUpscaleError: unknown schedule or parameter, a parameter out of range, ``n`` not in
            ``[1, MAX_STEPS]``, a bad ``device``, or ``table`` not a :class:`SigmaTable`.
    """
    result = build_sigmas_detailed(schedule_id, n, table, family=family, device=device, **params)
    if result.note:
        log.warning("[Latent Upscale] %s: zero-length steps would give NaN in DPM++ samplers", result.note)
    return result.sigmas
