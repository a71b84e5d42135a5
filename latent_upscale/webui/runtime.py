"""Applying one job's choices to the WebUI: the img2img script and our hires-fix upscaler entries.

Everything we change is on the job itself (``p``, its sampler) or lasts one host call
(:class:`~latent_upscale.webui.patches.InterpolateInterceptor`); nothing on a host class, nothing in
``opts``. Each job's changes sit on one ``ExitStack``, closed by whichever comes first: ``run()``'s
``finally`` (the script), ``postprocess`` (a job that finished), or ``p.close()`` (the WebUI closes
every UI and API job, also when it raised). An X/Y/Z cell that raises is a copy of ``p`` nobody
closes: its leftover wrappers die with it (the interpolate patch never outlives its host call).

The flow, per job:

- ``run()`` (the "Latent Upscale" script, img2img) attaches :class:`JobOptions` to ``p`` and calls
  ``process_images(p)`` itself: the HTTP API needs the ``Processed`` it returns.
- ``process()`` of the always-on hooks script sees the options (from ``run()`` or an X/Y/Z axis) and
  installs the img2img changes before ``p.init()`` runs; for txt2img it sees ``p.hr_upscaler`` and
  installs the hires change when the upscaler is one of ours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor

from latent_upscale.api import upscale_detailed
from latent_upscale.core import UpscaleResult
from latent_upscale.resize_methods import get_method, method_ids
from latent_upscale.schedules import SigmaTable, build_sigmas, get_schedule
from latent_upscale.webui import host, settings
from latent_upscale.webui.job import (
    INFOTEXT_FALLBACK,
    INFOTEXT_NOTE,
    INFOTEXT_SCHEDULE,
    INFOTEXT_WEIGHTS,
    JobOptions,
)
from latent_upscale.webui.model import read_model_latent_info
from latent_upscale.webui.patches import InterpolateInterceptor, instance_patch

__all__ = [
    "HIRES_BUILTINS",
    "JobState",
    "after_job",
    "attach_options",
    "attached_options",
    "before_job",
    "check_job_values",
    "describe_neural_for_loaded_model",
    "hires_key",
    "hires_method",
    "register_hires_upscalers",
    "run_img2img",
    "unregister_hires_upscalers",
    "xyz_apply_method",
    "xyz_apply_schedule",
]

log = logging.getLogger("latent_upscale")

_OPTIONS_ATTRIBUTE = "latent_upscale_options"
_STATE_ATTRIBUTE = "latent_upscale_state"
_LATENT_RESIZE_MODE = 3  # img2img "Just resize (latent upscale)", the same int in UI and API
_RESIZE_MODE_NAMES = {0: "Just resize", 1: "Crop and resize", 2: "Resize and fill"}
_OPT_F = 8  # latent pixels per image pixel, `opt_f` in every host's modules/processing.py

#: The host's own hires-fix latent entries (``modules/shared.py`` latent_upscale_modes) by method id.
HIRES_BUILTINS = {
    "bilinear": "Latent",
    "bilinear-antialiased": "Latent (antialiased)",
    "bicubic": "Latent (bicubic)",
    "bicubic-antialiased": "Latent (bicubic antialiased)",
    "nearest": "Latent (nearest)",
    "nearest-exact": "Latent (nearest-exact)",
}
#: What the host does with one of our entries if our hook were ever absent: sharp, valid, and an
#: exact identity at equal sizes.
_HIRES_SAFE_MODE = {"mode": "bicubic", "antialias": False}
_HIRES_MARK = "latent_upscale_method"


# --- job state ------------------------------------------------------------------------------------


@dataclass
class JobState:
    """One job's changes (undone together) and how often the sampler asked for our schedule."""

    stack: ExitStack = field(default_factory=ExitStack)
    override_calls: int = 0


def attach_options(p: object, options: JobOptions) -> None:
    """Mark an img2img job as ours (the script's ``run()`` and the X/Y/Z axes do this)."""
    setattr(p, _OPTIONS_ATTRIBUTE, options)


def attached_options(p: object) -> JobOptions | None:
    """The options attached to ``p``, if any."""
    options = getattr(p, _OPTIONS_ATTRIBUTE, None)
    return options if isinstance(options, JobOptions) else None


def _note(p: Any, key: str, value: str) -> None:
    # The infotext is built after sampling, from p.extra_generation_params: writing here is in time.
    p.extra_generation_params[key] = value


def _short(error: BaseException) -> str:
    """One line for the infotext (our errors carry a summary; others give their first line)."""
    text = getattr(error, "summary", None) or (str(error).splitlines()[0] if str(error) else "")
    text = text or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# --- resizing a host latent -------------------------------------------------------------------------


def _record(p: Any, result: UpscaleResult) -> None:
    if result.weights:  # the runner's steps name each file, its factor and the final resample
        _note(p, INFOTEXT_WEIGHTS, "; ".join(result.steps))
    if result.fallback:
        _note(p, INFOTEXT_FALLBACK, result.fallback)


def _resize_host_latent(
    p: Any,
    state: JobState,
    method: str,
    latent: Tensor,
    size: tuple[int, int],
    call_host: Callable[[], Tensor],
) -> Tensor:
    """Our method in place of the host's interpolate call; never fails the job.

    Neural problems (no weights, 16-channel latent, download error…) fall back to bislerp; any other
    failure (a NaN latent, say) to the host's own call. Both are logged and written to the infotext.
    """
    if tuple(latent.shape[-2:]) == tuple(size):
        _note(p, INFOTEXT_NOTE, "nothing to resize (the latent already has the target size)")
        return call_host()
    info = read_model_latent_info(p.sd_model)
    try:
        result = upscale_detailed(
            latent,
            size,
            method=method,
            family=info.family,
            latent_space=info.latent_format,
            neural=settings.neural_options() if get_method(method).neural else None,
        )
    except Exception as error:  # interrupts are BaseException and pass through
        reason = _short(error)
        if get_method(method).neural:
            # The whole message (files, folders, URLs, places) once in the log; one line in the infotext.
            log.warning("[Latent Upscale] %s unavailable; using bislerp instead. %s", method, error)
            _note(p, INFOTEXT_FALLBACK, f"bislerp ({reason})")
            return _resize_host_latent(p, state, "bislerp", latent, size, call_host)
        log.warning("[Latent Upscale] %s failed (%s); using the WebUI's own resize", method, reason)
        _note(p, INFOTEXT_FALLBACK, f"WebUI resize ({reason})")
        return call_host()
    _record(p, result)
    log.info("[Latent Upscale] %s: %s", method, "; ".join(result.steps))
    return result.latent


# --- img2img ----------------------------------------------------------------------------------------


def _schedule_override(p: Any, state: JobState, options: JobOptions) -> Callable[[int], Tensor]:
    schedule = get_schedule(options.schedule)
    params = options.resolved_schedule_params()
    family = read_model_latent_info(p.sd_model).family

    def override(steps: int) -> Tensor:
        # Called by KDiffusionSampler.get_sigmas with p.sampler being the calling sampler.
        state.override_calls += 1
        model_wrap = p.sampler.model_wrap
        try:
            table = SigmaTable.from_model_wrap(model_wrap)
            return build_sigmas(
                schedule.id, steps, table, family=family, device=host.sigma_device(), **params
            )
        except Exception as error:
            reason = _short(error)
            log.warning(
                "[Latent Upscale] schedule %s failed (%s); using the model's default", schedule.id, reason
            )
            _note(p, INFOTEXT_FALLBACK, f"default schedule ({reason})")
            return model_wrap.get_sigmas(steps)

    return override


def _wrap_sample_img2img(p: Any, state: JobState, options: JobOptions) -> Callable[[Callable[..., Any]], Any]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def sample_img2img(*args: Any, **kwargs: Any) -> Any:
            # (p, x, noise, conditioning, unconditional_conditioning, steps=None, image_conditioning=None)
            if options.exact_steps:
                if len(args) > 5:
                    if args[5] is None:
                        args = (*args[:5], p.steps, *args[6:])
                elif kwargs.get("steps") is None:
                    kwargs["steps"] = p.steps
            calls_before = state.override_calls
            result = original(*args, **kwargs)
            if options.schedule != "automatic" and state.override_calls == calls_before:
                sampler = getattr(p, "sampler_name", "this sampler")
                log.warning(
                    "[Latent Upscale] %s ignores custom noise schedules; schedule %s was not used",
                    sampler,
                    options.schedule,
                )
                _note(p, INFOTEXT_SCHEDULE, f"{options.schedule} (not used: {sampler} ignores it)")
            return result

        return sample_img2img

    return make


def _wrap_image_conditioning(original: Callable[..., Any]) -> Callable[..., Any]:
    """Build inpainting/depth conditioning from the source image resized to the target size.

    In latent-upscale mode the host encodes the conditioning image at the *source* size but resizes
    the mask to the target, so inpainting models fail in ``torch.cat`` whenever the sizes differ
    (``processing.py`` ``img2img_image_conditioning`` → ``inpainting_image_conditioning``).
    """

    def conditioning(source_image: Tensor, latent_image: Tensor, *args: Any, **kwargs: Any) -> Any:
        target = (latent_image.shape[-2] * _OPT_F, latent_image.shape[-1] * _OPT_F)
        if tuple(source_image.shape[-2:]) != target:
            resized = torch.nn.functional.interpolate(
                source_image.float(), size=target, mode="bicubic", align_corners=False, antialias=True
            )
            source_image = resized.clamp(-1.0, 1.0).to(source_image.dtype)
        return original(source_image, latent_image, *args, **kwargs)

    return conditioning


def _masked_resize(p: Any) -> bool:
    """A whole-picture inpaint job that changes size: the WebUI cannot run it in latent-upscale mode.

    In that mode the mask is resized to the target but the image is not, so ``masking.fill`` (every
    "masked content" but "original") and, before 1.9, the overlay paste fail with "images do not match"
    (``processing.py`` ``StableDiffusionProcessingImg2Img.init``). "Only masked" crops and resizes in
    pixels, which works.
    """
    if getattr(p, "image_mask", None) is None or getattr(p, "inpaint_full_res", False):
        return False
    images = getattr(p, "init_images", None) or []
    return any(getattr(image, "size", None) != (p.width, p.height) for image in images)


def _install_img2img(p: Any, state: JobState, options: JobOptions) -> None:
    if _masked_resize(p):
        if p.resize_mode == _LATENT_RESIZE_MODE:
            p.resize_mode = 0
        mode = _RESIZE_MODE_NAMES.get(p.resize_mode, str(p.resize_mode))
        log.warning(
            "[Latent Upscale] inpainting with a mask at a new size: the WebUI cannot do that in latent "
            "upscale mode, so the image is resized in pixels ('%s'); exact steps and schedule still apply",
            mode,
        )
        _note(p, INFOTEXT_NOTE, f"inpainting with a mask: resized in pixels ('{mode}'), not in latent space")
    elif p.resize_mode != _LATENT_RESIZE_MODE:
        previous = _RESIZE_MODE_NAMES.get(p.resize_mode, str(p.resize_mode))
        log.info("[Latent Upscale] resize mode '%s' switched to 'Just resize (latent upscale)'", previous)
        _note(p, INFOTEXT_NOTE, f"resize mode switched from '{previous}' to latent upscale")
        p.resize_mode = _LATENT_RESIZE_MODE
    for key, value in options.infotext(steps_fixed=_steps_fixed(options)).items():
        p.extra_generation_params[key] = value

    def target() -> tuple[int, int]:
        return (p.height // _OPT_F, p.width // _OPT_F)

    def make_init(original_init: Callable[..., Any]) -> Callable[..., Any]:
        def init(*args: Any, **kwargs: Any) -> Any:
            def replacement(latent: Tensor, size: tuple[int, int], call_host: Callable[[], Tensor]) -> Tensor:
                return _resize_host_latent(p, state, options.method, latent, size, call_host)

            with InterpolateInterceptor(lambda: getattr(p, "init_latent", None), target, replacement):
                result = original_init(*args, **kwargs)
            sampler = getattr(p, "sampler", None)
            if sampler is not None:  # created by the host's init; per job, so patched per instance
                state.stack.enter_context(
                    instance_patch(sampler, "sample_img2img", _wrap_sample_img2img(p, state, options))
                )
            return result

        return init

    state.stack.enter_context(instance_patch(p, "init", make_init))
    state.stack.enter_context(instance_patch(p, "img2img_image_conditioning", _wrap_image_conditioning))
    if options.schedule != "automatic":
        previous_override = p.sampler_noise_scheduler_override
        if previous_override is not None:
            log.warning("[Latent Upscale] replacing another extension's noise schedule for this job")
        p.sampler_noise_scheduler_override = _schedule_override(p, state, options)
        state.stack.callback(setattr, p, "sampler_noise_scheduler_override", previous_override)


def _steps_fixed(options: JobOptions) -> bool:
    # The user's own setting fixes steps too; the infotext says what really happened.
    return options.exact_steps or bool(host.option("img2img_fix_steps", False))


# --- hires fix ----------------------------------------------------------------------------------------


def hires_key(method: str) -> str:
    """The hires-fix upscaler name of a method: the host's own entry, or ours."""
    return HIRES_BUILTINS.get(method) or f"Latent ({method})"


def hires_method(name: object) -> str | None:
    """The method id behind one of *our* hires-fix entries, else None."""
    entry = host.latent_upscale_modes().get(name) if isinstance(name, str) else None
    method = entry.get(_HIRES_MARK) if isinstance(entry, dict) else None
    return method if isinstance(method, str) else None


def register_hires_upscalers() -> list[str]:
    """Add a "Latent (…)" entry for every method the host lacks; idempotent (Reload UI re-imports us)."""
    modes = host.latent_upscale_modes()
    added = []
    for method in method_ids():
        if method in HIRES_BUILTINS:
            continue
        key = hires_key(method)
        if key not in modes:
            modes[key] = {**_HIRES_SAFE_MODE, _HIRES_MARK: method}
            added.append(key)
    return added


def unregister_hires_upscalers() -> None:
    """``on_script_unloaded``: remove our entries (the next import adds them again)."""
    modes = host.latent_upscale_modes()
    for key in [k for k, v in modes.items() if isinstance(v, dict) and _HIRES_MARK in v]:
        del modes[key]


def _install_hires(p: Any, state: JobState, method: str) -> None:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def sample_hr_pass(*args: Any, **kwargs: Any) -> Any:
            samples = args[0] if args else kwargs.get("samples")

            def target() -> tuple[int, int]:
                return (p.hr_upscale_to_y // _OPT_F, p.hr_upscale_to_x // _OPT_F)

            def replacement(latent: Tensor, size: tuple[int, int], call_host: Callable[[], Tensor]) -> Tensor:
                return _resize_host_latent(p, state, method, latent, size, call_host)

            with InterpolateInterceptor(lambda: samples, target, replacement):
                return original(*args, **kwargs)

        return sample_hr_pass

    state.stack.enter_context(instance_patch(p, "sample_hr_pass", make))


def describe_neural_for_loaded_model() -> str:
    """What ``neural`` would use for the loaded model, for the line under the method dropdown."""
    from latent_upscale.neural import describe

    model = getattr(host.shared, "sd_model", None)
    if model is None:
        return "**Neural**: picks weights for the loaded model once one is loaded."
    info = read_model_latent_info(model)
    status = describe(info.family, settings.neural_options())
    text = f"**Neural** for this {info.family or 'unknown'} model: {status.text}"
    if not status.ready and not status.will_download:
        text += " Until then img2img falls back to bislerp (Settings → Latent Upscale → allow downloads)."
    return text


# --- the entry points the script file calls ------------------------------------------------------


def run_img2img(p: Any, args: Sequence[object]) -> Any:
    """The "Latent Upscale" script's ``run()``: process the job ourselves and return its ``Processed``.

    Returning None would make the UI process the job but break the HTTP API, which reads
    ``processed.images`` from whatever ``run()`` returns.
    """
    options = JobOptions.from_script_args(args, settings.default_job_options())
    attach_options(p, options)
    # "Script" in the infotext selects this script again on paste (modules/scripts.py, onload).
    p.extra_generation_params["Script"] = host.TITLE
    try:
        return host.process_images(p)
    finally:
        after_job(p)
        vars(p).pop(_OPTIONS_ATTRIBUTE, None)


def before_job(p: Any) -> None:
    """The always-on script's ``process()``: install this job's changes, if the job is ours."""
    after_job(p)  # a reused p (X/Y/Z copies) must not carry an old job's changes
    options = attached_options(p) if host.is_img2img(p) else None
    method = hires_method(getattr(p, "hr_upscaler", None)) if host.is_txt2img(p) else None
    if method is not None and not getattr(p, "enable_hr", False):
        method = None
    if options is None and method is None:
        return
    state = JobState()
    setattr(p, _STATE_ATTRIBUTE, state)
    try:
        # The WebUI closes every job with `with closing(p)` (txt2img.py, img2img.py, api.py), on success
        # and on exception: the one exit that postprocess (skipped when a job raises) does not cover.
        state.stack.enter_context(instance_patch(p, "close", _closing_undoes_the_job(p)))
        if options is not None:
            _install_img2img(p, state, options)
        if method is not None:
            _install_hires(p, state, method)
    except BaseException:
        after_job(p)
        raise


def _closing_undoes_the_job(p: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original_close: Callable[..., Any]) -> Callable[..., Any]:
        def close(*args: Any, **kwargs: Any) -> Any:
            after_job(p)  # restores everything, this wrapper included
            return original_close(*args, **kwargs)

        return close

    return make


def after_job(p: Any) -> None:
    """Undo everything this job changed (``postprocess``, ``run()``'s finally); safe to call twice."""
    state = vars(p).pop(_STATE_ATTRIBUTE, None) if hasattr(p, "__dict__") else None
    if isinstance(state, JobState):
        state.stack.close()


def xyz_apply_method(p: Any, value: str, _values: object) -> None:
    """X/Y/Z "Latent upscale method": img2img uses it directly; txt2img picks the hires upscaler."""
    method = JobOptions(method=value).method
    if host.is_img2img(p):
        attach_options(p, replace(attached_options(p) or settings.default_job_options(), method=method))
    else:
        p.hr_upscaler = hires_key(method)


def xyz_apply_schedule(p: Any, value: str, _values: object) -> None:
    """X/Y/Z "Latent upscale schedule" (img2img)."""
    current = attached_options(p) or settings.default_job_options()
    attach_options(p, JobOptions(current.method, value, current.exact_steps))


def check_job_values(kind: str, values: Sequence[object]) -> None:
    """X/Y/Z ``confirm``: reject unknown ids before any image is generated."""
    for value in values:
        if kind == "method":
            JobOptions(method=str(value))
        else:
            JobOptions(schedule=str(value))
