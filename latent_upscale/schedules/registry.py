"""The schedule registry: ids, labels, parameters and :func:`build_sigmas`, read by the glue and the CLI."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.checks import Device, check_steps
from latent_upscale.schedules.closed_form import (
    get_sigmas_align_your_steps,
    get_sigmas_exponential,
    get_sigmas_karras,
    get_sigmas_kl_optimal,
    get_sigmas_linear_quadratic,
    get_sigmas_polyexponential,
)
from latent_upscale.schedules.table import SigmaTable
from latent_upscale.schedules.table_based import (
    get_sigmas_automatic,
    get_sigmas_beta,
    get_sigmas_ddim_uniform,
    get_sigmas_normal,
    get_sigmas_sgm_uniform,
    get_sigmas_simple,
    get_sigmas_uniform,
)

__all__ = [
    "AUTOMATIC",
    "ParamSpec",
    "Schedule",
    "build_sigmas",
    "get_schedule",
    "registered_schedules",
    "schedule_ids",
]

#: The pseudo-schedule "do not override": the host keeps its own choice.
AUTOMATIC = "automatic"


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
    steps = check_steps(n)
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
