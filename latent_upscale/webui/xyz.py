"""X/Y/Z plot axes "Latent upscale method" and "Latent upscale schedule".

Registered from ``on_before_ui`` (after every script has loaded) into the built-in ``xyz_grid.py``
module's ``axis_options``, appended at the end (its dropdowns use ``type="index"``), and only when no
axis with our label exists yet: Reload UI runs this again.
"""

from __future__ import annotations

import logging
from functools import partial

from latent_upscale.resize_methods import method_ids
from latent_upscale.schedules import schedule_ids
from latent_upscale.webui import host, runtime

__all__ = ["METHOD_AXIS", "SCHEDULE_AXIS", "register_axes"]

log = logging.getLogger("latent_upscale")

METHOD_AXIS = "Latent upscale method"
SCHEDULE_AXIS = "Latent upscale schedule"


def _confirm(kind: str, _p: object, values: list[object]) -> None:
    runtime.check_job_values(kind, values)


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
                    METHOD_AXIS,
                    str,
                    runtime.xyz_apply_method,
                    confirm=partial(_confirm, "method"),
                    choices=method_ids,
                )
            )
        if SCHEDULE_AXIS not in present:
            axes.append(
                xyz.AxisOptionImg2Img(
                    SCHEDULE_AXIS,
                    str,
                    runtime.xyz_apply_schedule,
                    confirm=partial(_confirm, "schedule"),
                    choices=schedule_ids,
                )
            )
        xyz.axis_options.extend(axes)
    except Exception as error:  # a future xyz_grid must not take the UI down with it
        log.warning("[Latent Upscale] could not add X/Y/Z axes: %s", error)
