"""Noise schedules: how the noise levels (sigmas) of a k-diffusion denoising pass are spaced.

Every schedule is a small pure function in the style of k-diffusion's ``get_sigmas_*``. For every
``n >= 1`` it returns a float32 tensor of exactly ``n + 1`` non-increasing, finite sigmas whose last
value is exactly 0. The arithmetic runs on the CPU and the result moves to ``device`` only at the
end. (A1111 1.10, Forge and reForge ``.cpu()`` the override's result; 1.6–1.9 use it as returned.)

Schedules that depend on the model read its discrete noise levels through :class:`SigmaTable`, a
small copy of k-diffusion's ``DiscreteSchedule``. :func:`sd_sigma_table` builds the SD1/SD2/SDXL
table from the training betas, so the CLI and the tests need no model.

The registry (:func:`schedule_ids`, :func:`get_schedule`, :func:`build_sigmas`) is what the WebUI
glue, the infotext and the CLI read. Through it every accepted request gives strictly decreasing
sigmas ending at 0: parameters are checked in one place (:func:`check_schedule_params`, each
:class:`ParamSpec` also carries the UI's slider range, step and advice), step counts are refused
above :data:`MAX_STEPS` before anything is allocated, and levels a formula repeats are dropped and
reported (:func:`build_sigmas_detailed`). :func:`img2img_sigmas` gives the part of a schedule that the
WebUI's img2img really samples, with and without ``img2img_fix_steps``.

Formulas were checked against (read, not copied):

- k-diffusion (crowsonkb, 4601bf0): ``k_diffusion/sampling.py`` and ``k_diffusion/external.py``.
- A1111 v1.10.1: ``modules/sd_schedulers.py``, ``modules/sd_samplers_kdiffusion.py``,
  ``modules/sd_samplers_common.py``.
- Forge (dfdcbab6): ``modules/sd_schedulers.py``, ``k_diffusion/external.py``,
  ``backend/modules/k_prediction.py``.
- reForge (3b56b268): ``modules/sd_schedulers.py``.
- ComfyUI: ``comfy/samplers.py`` and ``comfy_extras/nodes_align_your_steps.py``.

Where things live (no module imports one listed after it, so there is no cycle):

- :mod:`.checks`: input checks and the shared output convention.
- :mod:`.table`: :class:`SigmaTable` and :func:`sd_sigma_table`.
- :mod:`.special`: the beta distribution's CDF and inverse CDF (no scipy).
- :mod:`.closed_form` and :mod:`.table_based`: the schedule functions, one small pure function each.
- :mod:`.registry`: ids, labels, parameter metadata and :func:`check_schedule_params`.
- :mod:`.build`: :func:`build_sigmas` and :func:`build_sigmas_detailed` (checks, then the repeat guard).
- :mod:`.img2img`: :func:`img2img_steps`, :func:`img2img_sigmas`.

The package imports only torch, the standard library and our errors module.
"""

from __future__ import annotations

from latent_upscale.schedules.build import ScheduleResult, build_sigmas, build_sigmas_detailed
from latent_upscale.schedules.checks import MAX_STEPS
from latent_upscale.schedules.closed_form import (
    AYS_NOISE_LEVELS,
    get_sigmas_align_your_steps,
    get_sigmas_exponential,
    get_sigmas_karras,
    get_sigmas_kl_optimal,
    get_sigmas_linear_quadratic,
    get_sigmas_polyexponential,
)
from latent_upscale.schedules.img2img import img2img_sigmas, img2img_steps
from latent_upscale.schedules.registry import (
    AUTOMATIC,
    ParamSpec,
    Schedule,
    check_schedule_params,
    get_schedule,
    registered_schedules,
    schedule_ids,
)
from latent_upscale.schedules.special import beta_ppf, regularized_incomplete_beta
from latent_upscale.schedules.table import TABLE_FAMILIES, SigmaTable, sd_sigma_table
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
    "AYS_NOISE_LEVELS",
    "MAX_STEPS",
    "TABLE_FAMILIES",
    "ParamSpec",
    "Schedule",
    "ScheduleResult",
    "SigmaTable",
    "beta_ppf",
    "build_sigmas",
    "build_sigmas_detailed",
    "check_schedule_params",
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
