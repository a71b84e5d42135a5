"""The img2img job: our latent resize, exact steps and noise schedule on one ``p``.

Installed by the always-on hooks script's ``process()`` (before the host's ``p.init()``) for a job that
carries :class:`~latent_upscale.webui.job.JobOptions`; every change sits on the job's
:class:`~latent_upscale.webui.state.JobState` stack:

- ``p.init`` is wrapped so an :class:`~latent_upscale.webui.patches.InterpolateInterceptor` serves the
  host's mode-3 resize of ``p.init_latent`` (``webui/HOST_SEAMS.md`` §1), and the sampler that
  ``init`` creates gets its ``sample_img2img`` wrapped for exact steps (§4);
- ``p.img2img_image_conditioning`` builds inpainting conditioning at the target size;
- ``p.sampler_noise_scheduler_override`` carries our schedule (§3).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from latent_upscale.latent_layouts import patch_alignment
from latent_upscale.schedules import AUTOMATIC, SigmaTable, build_sigmas_detailed, get_schedule
from latent_upscale.webui import host, resize
from latent_upscale.webui.guide import check_job_size, scaled_size
from latent_upscale.webui.job import (
    INFOTEXT_FALLBACK,
    INFOTEXT_METHOD,
    INFOTEXT_NOTE,
    INFOTEXT_SCHEDULE,
    JobOptions,
)
from latent_upscale.webui.model import read_model_latent_info
from latent_upscale.webui.patches import InterpolateInterceptor, instance_patch, temporary_attribute
from latent_upscale.webui.state import JobState, note, note_host_key, short_reason

__all__ = [
    "HOST_SCHEDULE_KEY",
    "LATENT_RESIZE_MODE",
    "TIMESTEP_EXTRA_STEPS",
    "ScheduleOverride",
    "exact_steps_request",
    "install",
    "job_size",
]

log = logging.getLogger("latent_upscale")

LATENT_RESIZE_MODE = 3  # img2img "Just resize (latent upscale)", the same int in UI and API
_RESIZE_MODE_NAMES = {0: "Just resize", 1: "Crop and resize", 2: "Resize and fill"}
_FILL_ORIGINAL = 1  # img2img "Masked content: original" (`inpainting_fill`, the same int in the API)
#: The host's own infotext key for the schedule (1.9+: ``"Schedule type": p.scheduler``).
HOST_SCHEDULE_KEY = "Schedule type"


#: Messages already said once at WARNING in this process.
_said = {"resize mode": False}


@dataclass
class _Job:
    """What the wrappers of one img2img job need."""

    p: Any
    state: JobState
    options: JobOptions


class ScheduleOverride:
    """``p.sampler_noise_scheduler_override``: our schedule over the calling sampler's sigma table.

    ``KDiffusionSampler.get_sigmas`` calls it with ``p.sampler`` being that sampler. A failure falls back
    to the model's default table, logged and written to the infotext.
    """

    def __init__(self, job: _Job) -> None:
        self._job = job
        self._schedule = get_schedule(job.options.schedule)
        self._params = job.options.resolved_schedule_params()

    def __call__(self, steps: int) -> Tensor:
        p = self._job.p
        self._job.state.override_calls += 1
        model_wrap = p.sampler.model_wrap
        try:
            table = SigmaTable.from_model_wrap(model_wrap)
            family = read_model_latent_info(p.sd_model).family
            result = build_sigmas_detailed(
                self._schedule.id, steps, table, family=family, device=host.sigma_device(), **self._params
            )
        except Exception as error:
            reason = short_reason(error)
            log.warning(
                "[Latent Upscale] schedule %s failed (%s); using the model's default",
                self._schedule.id,
                reason,
            )
            note(p, INFOTEXT_FALLBACK, f"default schedule ({reason})")
            return model_wrap.get_sigmas(steps)
        if result.note:  # levels the formula repeats were dropped: fewer steps than asked, said so
            log.warning(
                "[Latent Upscale] %s (a zero-length step would give NaN in DPM++ samplers)", result.note
            )
            note(p, INFOTEXT_NOTE, result.note)  # added to any other note (a resize mode switch)
        return result.sigmas


#: Steps to ask a timestep sampler for beyond the slider's, so that its img2img walk calls the model
#: exactly ``p.steps`` times. With ``steps=R`` passed, ``setup_img2img_steps`` gives ``t_enc = R - 1``
#: (``sd_samplers_common.py``) and ``CompVisSampler.sample_img2img`` walks ``timesteps[:t_enc]``; over
#: that walk ``ddim``/``ddim_cfgpp`` call the model ``len - 1`` times and ``plms``/``plms_cfgpp`` and
#: ``unipc`` ``len`` times (``sd_samplers_timesteps_impl.py``; the same in A1111 1.6-1.10, Forge,
#: reForge and Forge Neo). k-diffusion samplers call it ``t_enc + 1`` times and need nothing.
TIMESTEP_EXTRA_STEPS = {"ddim": 2, "ddim_cfgpp": 2, "plms": 1, "plms_cfgpp": 1, "unipc": 1}


def exact_steps_request(sampler: Any, steps: int) -> int:
    """The ``steps=`` to pass ``sampler.sample_img2img`` so that it calls the model exactly ``steps`` times.

    ``sampler`` is the host's sampler object (passed in, not read from the wrapped method, which another
    extension's wrapper may hide); timestep samplers are ``CompVisSampler``
    (``modules/sd_samplers_timesteps.py``, every host) whose ``func`` names the walk.
    """
    if type(sampler).__name__ != "CompVisSampler":
        return steps
    walk = getattr(getattr(sampler, "func", None), "__name__", "")
    return steps + TIMESTEP_EXTRA_STEPS.get(walk, 0)


def _sample_img2img(original: Callable[..., Any], job: _Job, sampler: Any, *args: Any, **kwargs: Any) -> Any:
    """The sampler's ``sample_img2img`` with ``steps`` passed: an explicit ``steps`` makes the host's
    ``setup_img2img_steps`` behave as with ``img2img_fix_steps`` on, for this job only (HOST_SEAMS.md §4)."""
    # (p, x, noise, conditioning, unconditional_conditioning, steps=None, image_conditioning=None)
    options, p = job.options, job.p
    if options.exact_steps:
        request = exact_steps_request(sampler, p.steps)
        if len(args) > 5:
            if args[5] is None:
                args = (*args[:5], request, *args[6:])
        elif kwargs.get("steps") is None:
            kwargs["steps"] = request
    calls_before = job.state.override_calls
    result = original(*args, **kwargs)
    if options.schedule == AUTOMATIC:
        return result
    if job.state.override_calls == calls_before:
        sampler = getattr(p, "sampler_name", "this sampler")
        log.warning(
            "[Latent Upscale] %s ignores custom noise schedules; schedule %s was not used",
            sampler,
            options.schedule,
        )
        note(p, INFOTEXT_SCHEDULE, f"{options.schedule} (not used: {sampler} ignores it)")
    elif hasattr(p, "scheduler"):
        # 1.9+ write the user's "Schedule type" although our schedule replaced it: name the one that ran
        # (its label; pasting a label the host lacks gives the host's Automatic, and our own field is
        # restored from "Latent upscale schedule").
        note_host_key(p, HOST_SCHEDULE_KEY, get_schedule(options.schedule).label)
    return result


def _target(p: Any) -> tuple[int, int]:
    return (p.height // resize.OPT_F, p.width // resize.OPT_F)


def _init(original: Callable[..., Any], job: _Job, *args: Any, **kwargs: Any) -> Any:
    """The host's ``init()`` with its mode-3 interpolate served by our method."""
    p = job.p
    replacement = functools.partial(
        resize.resize_host_latent, p, job.options.method, infotext_key=INFOTEXT_METHOD
    )
    expected = functools.partial(getattr, p, "init_latent", None)  # assigned just before the resize
    with InterpolateInterceptor(expected, functools.partial(_target, p), replacement):
        result = original(*args, **kwargs)
    _overlays_to_target(p)
    sampler = getattr(p, "sampler", None)
    if sampler is not None:  # created by the host's init; per job, so patched per instance
        job.state.stack.enter_context(
            instance_patch(sampler, "sample_img2img", _sample_img2img, job, sampler)
        )
    return result


def _image_conditioning(
    original: Callable[..., Any], source_image: Tensor, latent_image: Tensor, *args: Any, **kwargs: Any
) -> Any:
    """Build inpainting/depth conditioning from the source image resized to the target size.

    In latent-upscale mode the host encodes the conditioning image at the *source* size but resizes
    the mask to the target, so inpainting models fail in ``torch.cat`` whenever the sizes differ
    (``processing.py`` ``img2img_image_conditioning`` → ``inpainting_image_conditioning``).
    """
    target = (latent_image.shape[-2] * resize.OPT_F, latent_image.shape[-1] * resize.OPT_F)
    if tuple(source_image.shape[-2:]) != target:
        resized = torch.nn.functional.interpolate(
            source_image.float(), size=target, mode="bicubic", align_corners=False, antialias=True
        )
        source_image = resized.clamp(-1.0, 1.0).to(source_image.dtype)
    return original(source_image, latent_image, *args, **kwargs)


def _masked_resize(p: Any) -> bool:
    """A whole-picture inpaint job that changes size (the mask's size then differs from the image's)."""
    if getattr(p, "image_mask", None) is None or getattr(p, "inpaint_full_res", False):
        return False
    images = getattr(p, "init_images", None) or []
    return any(getattr(image, "size", None) != (p.width, p.height) for image in images)


def _masked_latent_path(p: Any) -> bool:
    """Whether a masked job at a new size can stay in latent space on this host.

    In latent-upscale mode the host resizes the mask to the target but not the image: ``masking.fill``
    (every "masked content" but "original") fails with "images do not match", and so does the overlay
    paste before A1111 1.9.1, which first resizes ``mask_for_overlay`` to the source
    (``processing.py`` ``StableDiffusionProcessingImg2Img.init``; 1.9.1+, Forge, reForge).
    """
    return getattr(p, "inpainting_fill", None) == _FILL_ORIGINAL and host.resizes_mask_for_overlay()


def _overlays_to_target(p: Any) -> None:
    """Source-size overlays (masked latent path) scaled to the target, so the host's
    ``apply_overlay`` (``alpha_composite`` at the top-left corner) lays the original over the whole
    picture instead of over its top-left part."""
    overlays = getattr(p, "overlay_images", None)
    if not overlays or getattr(p, "paste_to", None) is not None:
        return
    target = (p.width - p.width % resize.OPT_F, p.height - p.height % resize.OPT_F)
    from PIL import Image

    p.overlay_images = [
        image.convert("RGBa").resize(target, Image.LANCZOS).convert("RGBA")
        if getattr(image, "size", target) != target
        else image
        for image in overlays
    ]


def _choose_resize_mode(p: Any) -> None:
    if _masked_resize(p) and not _masked_latent_path(p):
        if p.resize_mode == LATENT_RESIZE_MODE:
            p.resize_mode = 0
        mode = _RESIZE_MODE_NAMES.get(p.resize_mode, str(p.resize_mode))
        log.warning(
            "[Latent Upscale] inpainting with a mask at a new size: the WebUI can do that in latent space "
            "only with masked content 'original' (A1111 1.9.1+, Forge, reForge), so the image is resized "
            "in pixels ('%s'); exact steps and schedule still apply",
            mode,
        )
        note(p, INFOTEXT_NOTE, f"inpainting with a mask: resized in pixels ('{mode}'), not in latent space")
    elif p.resize_mode != LATENT_RESIZE_MODE:
        previous = _RESIZE_MODE_NAMES.get(p.resize_mode, str(p.resize_mode))
        # WARNING the first time (the level the hosts show: none sets up logging for extensions), then
        # INFO: every script job from the API or a fresh UI switches it, and the infotext says so.
        level = logging.INFO if _said["resize mode"] else logging.WARNING
        _said["resize mode"] = True
        log.log(
            level, "[Latent Upscale] resize mode '%s' switched to 'Just resize (latent upscale)'", previous
        )
        note(p, INFOTEXT_NOTE, f"resize mode switched from '{previous}' to latent upscale")
        p.resize_mode = LATENT_RESIZE_MODE


def job_size(p: Any, options: JobOptions) -> tuple[int, int]:
    """The job's ``(width, height)`` in image pixels: "Upscale by" × the source image (the first; a
    batch shares one size), else Width/Height. Raises LatentUpscaleError for a size our resize would
    refuse (so no fallback runs it) or below 8 pixels: the script's ``run()`` and the X/Y/Z axes
    call this before the host sizes the job."""
    images = getattr(p, "init_images", None) or []
    if options.uses_scale and images:
        return scaled_size(images[0].size, options.scale, multiple=_patch_multiple(p))
    return check_job_size((p.width, p.height), f"Width/Height {p.width}×{p.height}")


def _patch_multiple(p: Any) -> int:
    """Image pixels a side must be a multiple of for the next pass: 16 for the DiTs (2 latent px)."""
    try:
        info = read_model_latent_info(p.sd_model)
        return resize.OPT_F * patch_alignment(info.family, info.channels)
    except Exception:  # an odd model object: the WebUI's own rounding
        return resize.OPT_F


def _apply_scale(p: Any, options: JobOptions) -> None:
    """ "Upscale by": the job's Width/Height from the source image. Checked before (``run()``, the
    X/Y/Z axes); a value that still fails here is said and the job keeps Width/Height."""
    if not options.uses_scale or not (getattr(p, "init_images", None) or []):
        return
    try:
        p.width, p.height = job_size(p, options)
        plain = scaled_size(p.init_images[0].size, options.scale)
    except ValueError as error:
        reason = short_reason(error)
        log.warning("[Latent Upscale] %s; the job keeps Width/Height", reason)
        note(p, INFOTEXT_FALLBACK, f"Width/Height ({reason})")
        return
    if (p.width, p.height) != plain:  # sides the next pass accepts (the family's patch alignment)
        text = f"size {plain[0]}x{plain[1]} rounded to {p.width}x{p.height} px (the model's patch size)"
        log.info("[Latent Upscale] %s", text)
        note(p, INFOTEXT_NOTE, text)


def _steps_fixed(options: JobOptions) -> bool:
    # The user's own setting fixes steps too; the infotext says what really happened.
    return options.exact_steps or bool(host.option("img2img_fix_steps", False))


def install(p: Any, state: JobState, options: JobOptions) -> None:
    """Install this img2img job's changes on ``state.stack`` (undone when the job ends)."""
    _apply_scale(p, options)
    _choose_resize_mode(p)
    for key, value in options.infotext(steps_fixed=_steps_fixed(options)).items():
        if key != INFOTEXT_METHOD:  # written by the resize, if one runs
            p.extra_generation_params[key] = value
    job = _Job(p, state, options)
    state.stack.enter_context(instance_patch(p, "init", _init, job))
    state.stack.enter_context(instance_patch(p, "img2img_image_conditioning", _image_conditioning))
    if options.schedule != AUTOMATIC:
        override = ScheduleOverride(job)
        previous = state.stack.enter_context(
            temporary_attribute(p, "sampler_noise_scheduler_override", override)
        )
        if previous is not None:
            log.warning("[Latent Upscale] replacing another extension's noise schedule for this job")
