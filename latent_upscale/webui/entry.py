"""What the script file's two classes call: ``run()`` of the img2img script and the always-on hooks.

The flow, per job:

- ``run()`` (the "Latent Upscale" script, img2img) attaches :class:`JobOptions` to ``p`` and calls
  ``process_images(p)`` itself: the HTTP API needs the ``Processed`` it returns.
- ``process()`` of the always-on hooks script sees the options (from ``run()`` or an X/Y/Z axis) and
  installs the img2img changes before ``p.init()`` runs; for txt2img it sees ``p.hr_upscaler`` and
  installs the hires change when the upscaler is one of ours.
- ``postprocess()``, ``run()``'s ``finally`` and ``p.close()`` undo them, whichever comes first. An
  X/Y/Z cell that raises is a copy of ``p`` nobody closes: its leftover wrappers die with it (the
  interpolate patch never outlives its host call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.webui import hires, host, img2img, settings
from latent_upscale.webui.job import JobOptions, script_fields
from latent_upscale.webui.patches import instance_patch
from latent_upscale.webui.state import (
    attach_options,
    attached_options,
    begin_job,
    detach_options,
    end_job,
    fresh_infotext,
)

__all__ = ["after_job", "before_job", "run_img2img"]


def run_img2img(p: Any, args: Sequence[object]) -> Any:
    """The "Latent Upscale" script's ``run()``: process the job ourselves and return its ``Processed``.

    Returning None would make the UI process the job but break the HTTP API, which reads
    ``processed.images`` from whatever ``run()`` returns. Bad ``script_args`` and a size beyond our
    limits are refused here, before the host sizes the job (:func:`host.refuse_job`: HTTP 422 for
    the API, a message under the gallery in the UI, one log line, no traceback).
    """
    try:
        options = JobOptions.from_script_args(_sent(p, args), settings.default_job_options())
        img2img.job_size(p, options)
    except LatentUpscaleError as error:
        return host.refuse_job(p, str(error))
    attach_options(p, options)
    # "Script" in the infotext selects this script again on paste (modules/scripts.py, onload).
    p.extra_generation_params["Script"] = host.TITLE
    try:
        return host.process_images(p)
    finally:
        after_job(p)
        detach_options(p)


def _sent(p: Any, args: Sequence[object]) -> Sequence[object]:
    """Our slice of ``script_args`` as the client sent it: without the next scripts' values that a
    short HTTP list shifts into it; a longer list is refused with its real length."""
    count = len(script_fields())
    sent = host.script_args_sent(p, count)
    if sent is None and args and isinstance(args[0], Mapping):
        return args[:1]  # the host cannot say how many were sent: what follows a dict is not ours
    if sent is None or sent == count or not args:
        return args
    if sent > count:
        raise LatentUpscaleError(f"Latent Upscale takes at most {count} script_args, got {sent}")
    return args[: max(sent, 0)]


def _close(original: Callable[..., Any], p: Any, *args: Any, **kwargs: Any) -> Any:
    end_job(p)  # restores everything, this wrapper included
    return original(*args, **kwargs)


def before_job(p: Any) -> None:
    """The always-on script's ``process()``: install this job's changes, if the job is ours."""
    end_job(p)  # a reused p (X/Y/Z copies) must not carry an old job's changes
    fresh_infotext(p)  # nor its infotext lines (X/Y/Z cells share one dict)
    options = attached_options(p) if host.is_img2img(p) else None
    method = hires.hires_method(getattr(p, "hr_upscaler", None)) if host.is_txt2img(p) else None
    if method is not None and not getattr(p, "enable_hr", False):
        method = None
    if options is None and method is None:
        return
    state = begin_job(p)
    try:
        # The WebUI closes every job with `with closing(p)` (txt2img.py, img2img.py, api.py), on success
        # and on exception: the one exit that postprocess (skipped when a job raises) does not cover.
        state.stack.enter_context(instance_patch(p, "close", _close, p))
        if options is not None:
            img2img.install(p, state, options)
        if method is not None:
            hires.install(p, state, method)
    except BaseException:
        end_job(p)
        raise


def after_job(p: Any) -> None:
    """Undo everything this job changed (``postprocess``, ``run()``'s finally); safe to call twice."""
    end_job(p)
