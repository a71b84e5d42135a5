"""Our method in place of one host latent resize (img2img mode 3 and hires fix share it).

Never fails the job: neural problems fall back to the default interpolation, anything else to the
host's own call, and both are logged and written to the infotext.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor

from latent_upscale.api import DEFAULT_METHOD, upscale_detailed
from latent_upscale.core import UpscaleResult
from latent_upscale.latent_layouts import aligned_size, patch_alignment
from latent_upscale.resize_methods import get_method
from latent_upscale.webui import settings
from latent_upscale.webui.job import INFOTEXT_FALLBACK, INFOTEXT_NOTE, INFOTEXT_WEIGHTS
from latent_upscale.webui.model import read_model_latent_info
from latent_upscale.webui.state import note, short_reason

__all__ = ["FALLBACK_METHOD", "OPT_F", "resize_host_latent", "steps_as_webui"]

log = logging.getLogger("latent_upscale")

#: Image pixels per latent pixel, ``opt_f`` in every host's ``modules/processing.py``.
OPT_F = 8
#: What a learned method falls back to: the default interpolation (the best measured), never needs weights.
FALLBACK_METHOD = DEFAULT_METHOD


#: A size in the library's steps: ``→ HxW`` latent pixels (torch order).
_STEP_SIZE = re.compile(r"→ (\d+)x(\d+)\b")


def steps_as_webui(steps: Sequence[str]) -> str:
    """The library's steps with each ``→ HxW`` written ``→ W×H``, the order the WebUI shows sizes in
    (its Width/Height sliders and ``Size:`` infotext), so both read the same way."""
    return _STEP_SIZE.sub(lambda m: f"→ {m.group(2)}×{m.group(1)}", "; ".join(steps))


def _record(p: Any, result: UpscaleResult) -> None:
    if result.weights:  # the runner's steps name each file, its factor and the final resample
        note(p, INFOTEXT_WEIGHTS, steps_as_webui(result.steps))
    if result.fallback:
        note(p, INFOTEXT_FALLBACK, result.fallback)


def _upscale(p: Any, method: str, latent: Tensor, size: tuple[int, int]) -> UpscaleResult:
    # The model read and the settings read sit inside the fallback too: a stale setting or an odd
    # model object must not fail the job.
    info = read_model_latent_info(p.sd_model)
    return upscale_detailed(
        latent,
        size,
        method=method,
        family=info.family,
        latent_space=info.latent_format,
        neural=settings.neural_options() if get_method(method).neural else None,
    )


def aligned_target(p: Any, latent: Tensor, size: tuple[int, int]) -> tuple[int, int]:
    """A size the host derived from a factor, rounded to the model family's patch alignment (2 latent
    px for the DiTs, :func:`~latent_upscale.latent_layouts.patch_alignment`), said in the infotext.
    Any problem reading the model keeps ``size`` (never fails the job)."""
    try:
        step = patch_alignment(read_model_latent_info(p.sd_model).family, int(latent.shape[1]))
    except Exception:  # an odd model object: the host's size
        return size
    aligned = aligned_size(size, step)
    if aligned != tuple(size):
        text = f"size {size[0]}x{size[1]} rounded to {aligned[0]}x{aligned[1]} latent px (patch size {step})"
        log.info("[Latent Upscale] %s", text)
        note(p, INFOTEXT_NOTE, text)
    return aligned


def resize_host_latent(
    p: Any,
    method: str,
    latent: Tensor,
    size: tuple[int, int],
    call_host: Callable[[], Tensor],
    *,
    infotext_key: str | None = None,
    align: bool = False,
) -> Tensor:
    """``latent`` resized to ``size`` (latent pixels) by ``method``, in place of ``call_host()``.

    An :data:`~latent_upscale.webui.patches.Replacement` once ``p`` and ``method`` are bound.
    ``infotext_key``: where to record ``method``, written only when a resize really runs (ours or a
    fallback, which then has its own line). ``align``: ``size`` was derived from a factor, so it is
    rounded to the family's patch alignment (:func:`aligned_target`).
    """
    if align:
        size = aligned_target(p, latent, size)
    if tuple(latent.shape[-2:]) == tuple(size):
        note(p, INFOTEXT_NOTE, "nothing to resize (the latent already has the target size)")
        return call_host()
    if infotext_key is not None:
        note(p, infotext_key, method)
    try:
        result = _upscale(p, method, latent, size)
    except Exception as error:  # interrupts are BaseException and pass through
        reason = short_reason(error)
        if get_method(method).neural:
            # The whole message (files, folders, URLs, places) once in the log; one line in the infotext.
            log.warning(
                "[Latent Upscale] %s unavailable; using %s instead. %s", method, FALLBACK_METHOD, error
            )
            note(p, INFOTEXT_FALLBACK, f"{FALLBACK_METHOD} ({reason})")
            return resize_host_latent(p, FALLBACK_METHOD, latent, size, call_host)
        if latent.dim() != 4:
            # Video latents [B, C, T, H, W] (Forge Neo's Wan and Qwen-Image) go to the library like any
            # latent (it resizes them frame by frame where it can); if it refuses them, say that plainly.
            log.warning(
                "[Latent Upscale] %d-D latent (a video model) not resized by %s (%s); "
                "the WebUI's own resize runs",
                latent.dim(),
                method,
                reason,
            )
            note(p, INFOTEXT_FALLBACK, f"WebUI resize ({latent.dim()}-D latent: {reason})")
            return call_host()
        log.warning("[Latent Upscale] %s failed (%s); using the WebUI's own resize", method, reason)
        note(p, INFOTEXT_FALLBACK, f"WebUI resize ({reason})")
        return call_host()
    _record(p, result)
    log.info("[Latent Upscale] %s: %s (latent W×H)", method, steps_as_webui(result.steps))
    return result.latent
