"""The schedule registry: ids, labels, parameter metadata and the one parameter check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.checks import as_real
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
    "check_schedule_params",
    "get_schedule",
    "registered_schedules",
    "schedule_ids",
]

#: The pseudo-schedule "do not override": the host keeps its own choice.
AUTOMATIC = "automatic"


@dataclass(frozen=True)
class ParamSpec:
    """One numeric parameter of a schedule: what the UI needs to build its slider, and the accepted range.

    ``minimum``/``maximum`` bound what :func:`check_schedule_params` accepts (the API, the CLI, pasted
    infotext); ``slider_range``, when set, is the narrower part of it where the slider is usable and
    no step count a WebUI user reaches loses a level. ``step`` is the slider's increment and ``advice``
    one line for its tooltip.
    """

    name: str
    default: float
    minimum: float
    maximum: float
    label: str
    step: float = 0.01
    advice: str = ""
    slider_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        low, high = self.slider_range or (self.minimum, self.maximum)
        if not (self.minimum <= low <= self.default <= high <= self.maximum and self.step > 0):
            raise RuntimeError(f"inconsistent range for schedule parameter {self.name!r}: {self}")

    @property
    def slider_minimum(self) -> float:
        """Where the UI's slider starts (the accepted minimum unless ``slider_range`` narrows it)."""
        return (self.slider_range or (self.minimum, self.maximum))[0]

    @property
    def slider_maximum(self) -> float:
        """Where the UI's slider ends."""
        return (self.slider_range or (self.minimum, self.maximum))[1]


@dataclass(frozen=True)
class Schedule:
    """One entry of the schedule registry.

    ``id`` is stable (infotext, HTTP API, XYZ, CLI). :meth:`sigmas` gives every entry one signature,
    ``(n, table, *, family, **params)``; underneath, ``fn`` keeps its source's own: ``fn(n, table, **params)``
    when ``needs_table``, else k-diffusion's ``fn(n, sigma_min, sigma_max, **params)``, plus ``family=``
    when ``needs_family``.
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

    def sigmas(self, n: int, table: SigmaTable, *, family: str | None = None, **params: object) -> Tensor:
        """The raw schedule, one call for every entry: ``fn`` with the table or its ends, and ``family``.

        Unchecked and on the CPU; :func:`~latent_upscale.schedules.build_sigmas` is the checked way in.
        """
        if self.needs_family:
            params["family"] = "sd1" if family is None else family
        if self.needs_table:
            return self.fn(n, table, **params)
        return self.fn(n, table.sigma_min, table.sigma_max, **params)


_REGISTRY: dict[str, Schedule] = {}


def _register(schedule: Schedule) -> None:
    if schedule.id in _REGISTRY:
        raise RuntimeError(f"duplicate schedule id {schedule.id!r}")
    _REGISTRY[schedule.id] = schedule


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
        (
            # Below rho ≈ 0.4 sigma_max^(1/rho) - sigma_min^(1/rho) cancels in float32 (as in k-diffusion):
            # the last level becomes 0, a zero-length step at every step count.
            ParamSpec(
                "rho",
                7.0,
                0.5,
                20.0,
                "rho (higher: more steps at low noise)",
                step=0.1,
                advice="7 as in the paper; higher spends more steps at low noise, lower at high noise.",
            ),
        ),
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
        (
            # With a larger rho the lowest levels lie closer together than float32 can tell apart at
            # ordinary step counts (rho 20 at 20 steps: 7 equal levels; rho 3 from 400 steps, rho 2.5
            # from about 2000), so the range ends at 2.5.
            ParamSpec(
                "rho",
                1.0,
                0.1,
                2.5,
                "rho (1 = exponential; higher: more steps at low noise)",
                step=0.05,
                advice="1 is Exponential; higher bends steps toward low noise, below 1 toward high noise.",
            ),
        ),
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
            # Accepted as ComfyUI's node accepts them (up to 50); outside the sliders' ranges the quantiles
            # crowd at ordinary step counts and equal levels are dropped (and said), as ComfyUI drops them.
            ParamSpec(
                "alpha",
                0.6,
                0.05,
                50.0,
                "alpha (lower: more steps at low noise)",
                step=0.05,
                advice="0.6 as in the paper; lower spends more steps near sigma_min.",
                slider_range=(0.3, 2.0),
            ),
            ParamSpec(
                "beta",
                0.6,
                0.05,
                50.0,
                "beta (lower: more steps at high noise)",
                step=0.05,
                advice="0.6 as in the paper; lower spends more steps near sigma_max.",
                slider_range=(0.4, 2.0),
            ),
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
        (
            ParamSpec(
                "threshold_noise",
                0.025,
                0.001,
                0.5,
                "noise removed by the linear first half",
                step=0.001,
                advice="Mochi's 0.025; higher removes more noise in the slow first half.",
            ),
        ),
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
    """Registered schedules in display order (for the UI and ``python -m latent_upscale schedules``)."""
    return list(_REGISTRY.values())


def get_schedule(schedule_id: str) -> Schedule:
    """The registry entry for ``schedule_id``; an unknown id names the ones that exist."""
    try:
        return _REGISTRY[schedule_id]
    except (KeyError, TypeError):
        raise LatentUpscaleError(
            f"unknown schedule {schedule_id!r}; expected one of: {', '.join(_REGISTRY)}"
        ) from None


def check_schedule_params(
    schedule_id: str, params: Mapping[str, object], *, fill_defaults: bool = True
) -> dict[str, float]:
    """The one check of schedule parameters, for the library, the CLI and the WebUI glue alike.

    Each value must be a finite number inside its :class:`ParamSpec` range (numeric strings, numpy
    scalars and one-element tensors are accepted, as the CLI, the HTTP API and infotext pass them).
    Returns name → float: the given values, plus every other parameter's default if ``fill_defaults``.

    Raises:
        LatentUpscaleError: for an unknown schedule, a parameter the schedule does not take (naming the
            accepted ones), or a value that is not a number or lies outside its range (naming the range).
    """
    schedule = get_schedule(schedule_id)
    specs = {spec.name: spec for spec in schedule.params}
    unknown = sorted(map(str, set(params) - set(specs)))
    if unknown:
        accepted = ", ".join(specs) if specs else "none"
        raise LatentUpscaleError(
            f"schedule {schedule.id!r} has no parameter {', '.join(map(repr, unknown))}; accepted: {accepted}"
        )
    values = schedule.defaults() if fill_defaults else {}
    for name, given in params.items():
        spec = specs[name]
        value = as_real(given, f"{schedule.id} parameter {name}", strings=True)
        if not spec.minimum <= value <= spec.maximum:
            raise LatentUpscaleError(
                f"{schedule.id} parameter {name} must lie in [{spec.minimum:g}, {spec.maximum:g}], "
                f"got {value:g}"
            )
        values[name] = value
    return values
