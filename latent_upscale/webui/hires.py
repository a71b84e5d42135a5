"""Hires fix: our "Latent (…)" upscaler entries and the job change that serves them.

The host passes an entry's ``"mode"`` straight to torch (``webui/HOST_SEAMS.md`` §2), so each of our
entries holds a valid torch mode (used only if our hook were ever absent) plus a mark naming the method;
for a job that picked one, ``p.sample_hr_pass`` is wrapped so an
:class:`~latent_upscale.webui.patches.InterpolateInterceptor` serves its resize of the first-pass latent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from latent_upscale.resize_methods import get_method, method_ids
from latent_upscale.webui import host, resize
from latent_upscale.webui.guide import check_job_size
from latent_upscale.webui.patches import InterpolateInterceptor, instance_patch
from latent_upscale.webui.state import JobState

__all__ = [
    "HIRES_BUILTINS",
    "hires_key",
    "hires_method",
    "install",
    "register_hires_upscalers",
    "unregister_hires_upscalers",
]


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


def hires_key(method: str) -> str:
    """The hires-fix upscaler name of a method: the host's own entry, or ours."""
    return HIRES_BUILTINS.get(method) or f"Latent ({get_method(method).short_label or method})"


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


def _target(p: Any) -> tuple[int, int]:
    return (p.hr_upscale_to_y // resize.OPT_F, p.hr_upscale_to_x // resize.OPT_F)


def _returns(value: object) -> object:
    return value


def _sample_hr_pass(original: Callable[..., Any], p: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """The host's hires pass with its resize of the first-pass ``samples`` served by ``method``.

    A hires size beyond our limit (``hr_scale``/``hr_resize_x`` from the HTTP API; the UI's sliders
    stop far below it) is refused here, before the host's pass: our resize would refuse it and the
    host's own resize would then run it. An API job gets HTTP 422 (:func:`host.refuse_job`).
    """
    try:
        check_job_size((p.hr_upscale_to_x, p.hr_upscale_to_y), "hires fix")
    except ValueError as error:
        host.refuse_job(p, str(error))  # raises for API jobs
        raise
    samples = args[0] if args else kwargs.get("samples")
    # "Upscale by" (no Resize width/height): the host's size comes from a factor, so it is aligned.
    derived = not getattr(p, "hr_resize_x", 0) and not getattr(p, "hr_resize_y", 0)
    replacement = functools.partial(resize.resize_host_latent, p, method, align=derived)
    expected = functools.partial(_returns, samples)
    with InterpolateInterceptor(expected, functools.partial(_target, p), replacement):
        return original(*args, **kwargs)


def install(p: Any, state: JobState, method: str) -> None:
    """Serve this txt2img job's hires resize with ``method`` (undone when the job ends)."""
    state.stack.enter_context(instance_patch(p, "sample_hr_pass", _sample_hr_pass, p, method))
