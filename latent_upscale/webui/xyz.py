"""X/Y/Z plot axes "Latent upscale method", "… schedule" and "… by": registration and behaviour.

Registered from ``on_before_ui`` (after every script has loaded) into the built-in ``xyz_grid.py``
module's ``axis_options``, appended at the end (its dropdowns use ``type="index"``), and only when no
axis with our label exists yet: Reload UI runs this again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from latent_upscale.resize_methods import method_ids
from latent_upscale.schedules import schedule_ids
from latent_upscale.webui import host, settings
from latent_upscale.webui.hires import hires_key
from latent_upscale.webui.img2img import job_size
from latent_upscale.webui.job import JobOptions
from latent_upscale.webui.state import attach_options, attached_options

__all__ = [
    "METHOD_AXIS",
    "SCALE_AXIS",
    "SCHEDULE_AXIS",
    "apply_method",
    "apply_scale",
    "apply_schedule",
    "check_values",
    "register_axes",
]

log = logging.getLogger("latent_upscale")

METHOD_AXIS = "Latent upscale method"
SCHEDULE_AXIS = "Latent upscale schedule"
SCALE_AXIS = "Latent upscale by"


def _current(p: Any) -> JobOptions:
    return attached_options(p) or settings.default_job_options()


def apply_method(p: Any, value: str, _values: object) -> None:
    """The "Latent upscale method" axis: img2img uses it directly; txt2img picks the hires upscaler."""
    method = JobOptions(method=value).method
    if host.is_img2img(p):
        attach_options(p, replace(_current(p), method=method))
    else:
        p.hr_upscaler = hires_key(method)


def apply_schedule(p: Any, value: str, _values: object) -> None:
    """The "Latent upscale schedule" axis (img2img); the schedule's parameters take their defaults."""
    attach_options(p, replace(_current(p), schedule=value, schedule_params={}))


def apply_scale(p: Any, value: float, _values: object) -> None:
    """The "Latent upscale by" axis (img2img): the job's size from the source image (0 or 1: Width/Height)."""
    attach_options(p, replace(_current(p), scale=value))


def check_values(kind: str, values: Sequence[object], p: object = None) -> None:
    """The axes' ``confirm``: reject unknown ids and out-of-range factors before any image is
    generated; with the job ``p``, also factors whose size the job cannot run (:func:`job_size`)."""
    for value in values:
        if kind == "method":
            JobOptions(method=str(value))
        elif kind == "scale":
            options = JobOptions(scale=value)  # type: ignore[arg-type]
            if p is not None and host.is_img2img(p):
                job_size(p, options)
        else:
            JobOptions(schedule=str(value))


def _confirm(kind: str, p: object, values: list[object]) -> None:
    check_values(kind, values, p)


def register_axes() -> None:
    """Add our axes once; a missing or changed xyz_grid is logged, never fatal."""
    xyz = host.xyz_grid_module()
    if xyz is None:
        log.info("[Latent Upscale] X/Y/Z plot script not found; no axes added")
        return
    try:
        present = {getattr(option, "label", None) for option in xyz.axis_options}
        axes = []
        if METHOD_AXIS not in present:
            # Both tabs: img2img uses the method directly, txt2img picks the matching hires upscaler.
            axes.append(
                xyz.AxisOption(
                    METHOD_AXIS, str, apply_method, confirm=partial(_confirm, "method"), choices=method_ids
                )
            )
        if SCHEDULE_AXIS not in present:
            axes.append(
                xyz.AxisOptionImg2Img(
                    SCHEDULE_AXIS,
                    str,
                    apply_schedule,
                    confirm=partial(_confirm, "schedule"),
                    choices=schedule_ids,
                )
            )
        if SCALE_AXIS not in present:
            axes.append(
                xyz.AxisOptionImg2Img(SCALE_AXIS, float, apply_scale, confirm=partial(_confirm, "scale"))
            )
        xyz.axis_options.extend(axes)
    except Exception as error:  # a future xyz_grid must not take the UI down with it
        log.warning("[Latent Upscale] could not add X/Y/Z axes: %s", error)
