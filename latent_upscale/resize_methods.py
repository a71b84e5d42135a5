"""Resize methods: pure ``(latent[B, C, H, W], (height, width)) → latent`` functions and their registry.

Every resizer here works for any batch and channel count, up or down, with independent ratios per
axis. They compute in float32 (float64 stays float64) on the latent's own device; the dispatcher in
:mod:`latent_upscale.api` casts the result back to the input dtype, so half-precision latents work on
CPUs whose kernels lack half support.

Coordinate convention (all methods): pixel centres sit at ``i + 0.5``, i.e. ``align_corners=False``,
the convention of the WebUI's own ``torch.nn.functional.interpolate`` call. Border samples are clamped
(torch modes, bislerp) or the filter is renormalised over the samples that exist (lanczos, Pillow's rule).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

from latent_upscale.core import Method, ResizeFn, Size, UpscaleRequest, UpscaleResult
from latent_upscale.errors import LatentUpscaleError

# The kernels live in latent_upscale.resize_kernels; their names stay importable from here.
from latent_upscale.resize_kernels.filters import FILTERS as _FILTERS  # noqa: F401
from latent_upscale.resize_kernels.filters import _lanczos3, _triangle, lanczos  # noqa: F401
from latent_upscale.resize_kernels.filters import filter_matrix as _filter_matrix  # noqa: F401
from latent_upscale.resize_kernels.spherical import (  # noqa: F401 (re-exports)
    _EPS,
    _bislerp_axis,
    _channel_norms,
    _Pairs,
    _spherical_mean_axis,
    _take,
    bislerp,
)

__all__ = [
    "bislerp",
    "get_method",
    "lanczos",
    "method_ids",
    "register",
    "registered_methods",
    "torch_mode",
    "torch_mode_methods",
]


# --- torch's own modes ---------------------------------------------------------------------------


#: The kernels ``F.interpolate`` calls for a 4-D latent, by (mode, antialias), with their argument
#: style: "linear" takes ``(input, size, align_corners, scale_factors)``, "nearest" takes
#: ``(input, size, scale_factors)`` and "area" ``(input, size)``.
_KERNELS = {
    ("bilinear", False): ("upsample_bilinear2d", "linear"),
    ("bilinear", True): ("_upsample_bilinear2d_aa", "linear"),
    ("bicubic", False): ("upsample_bicubic2d", "linear"),
    ("bicubic", True): ("_upsample_bicubic2d_aa", "linear"),
    ("nearest", False): ("upsample_nearest2d", "nearest"),
    ("nearest-exact", False): ("_upsample_nearest_exact2d", "nearest"),
}


def _interpolate_call(mode: str, antialias: bool) -> ResizeFn:
    """The exact ``F.interpolate`` call of the WebUI for this mode."""
    if mode in ("bilinear", "bicubic"):
        return lambda latent, size: F.interpolate(
            latent, size=size, mode=mode, align_corners=False, antialias=antialias
        )
    return lambda latent, size: F.interpolate(latent, size=size, mode=mode)


def _direct_call(mode: str, antialias: bool) -> ResizeFn | None:
    """The kernel behind ``F.interpolate`` for this mode, called without its Python argument parsing
    (about a tenth of a 64² → 128² bilinear call on a CPU; :func:`latent_upscale.api.upscale` has
    checked the arguments already). None when this torch lacks it or it disagrees with
    ``F.interpolate`` on a probe: the kernels are torch internals, so they are verified, not trusted.
    """
    if mode == "area":
        kernel, style = F.adaptive_avg_pool2d, "area"  # public, and what F.interpolate calls
    else:
        name, style = _KERNELS.get((mode, antialias), (None, ""))
        kernel = getattr(getattr(torch._C, "_nn", None), name or "", None)
    if kernel is None:
        return None
    if style == "linear":
        call: ResizeFn = lambda latent, size: kernel(latent, size, False, None)  # noqa: E731
    elif style == "nearest":
        call = lambda latent, size: kernel(latent, size, None)  # noqa: E731
    else:
        call = lambda latent, size: kernel(latent, size)  # noqa: E731
    reference = _interpolate_call(mode, antialias)
    probe = torch.linspace(-3.0, 5.0, 2 * 3 * 7 * 5).view(2, 3, 7, 5)
    try:
        agrees = all(torch.equal(call(probe, size), reference(probe, size)) for size in ((11, 8), (4, 3)))
    except Exception:  # a changed signature: use F.interpolate
        return None
    return call if agrees else None


#: Every resizer :func:`torch_mode` made: torch's own kernels, which return exactly the size asked
#: for in the input's dtype (see :func:`torch_mode_methods`).
_TORCH_MODE_RESIZERS: set[ResizeFn] = set()


def torch_mode(mode: str, *, antialias: bool = False) -> ResizeFn:
    """A resizer that gives exactly what ``F.interpolate`` gives the WebUI's hires fix for this mode
    (``align_corners=False``), through torch's kernel for it directly where that is verified equal."""
    resize = _direct_call(mode, antialias) or _interpolate_call(mode, antialias)
    resize.__name__ = f"{mode}{'_antialiased' if antialias else ''}"
    resize.__doc__ = f"torch.nn.functional.interpolate(mode={mode!r}, antialias={antialias})."
    _TORCH_MODE_RESIZERS.add(resize)
    return resize


# --- the registry ---------------------------------------------------------------------------------

_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method; a duplicate id is a programming error and fails loudly."""
    if method.id in _REGISTRY:
        raise LatentUpscaleError(f"a resize method with id {method.id!r} is already registered")
    _REGISTRY[method.id] = method
    return method


def _interpolation(method_id: str, label: str, advice: str, resize: ResizeFn, *, convex: bool) -> Method:
    def run(latent: Tensor, size: Size, request: UpscaleRequest) -> UpscaleResult:
        return UpscaleResult(
            latent=resize(latent, size), method=method_id, steps=(f"{method_id} → {size[0]}x{size[1]}",)
        )

    return Method(
        id=method_id,
        label=label,
        advice=advice,
        run=run,
        resize=resize,
        convex=convex,
        copies=method_id in _COPIES,
        run_is_resize=True,
    )


#: Methods whose every output value is a non-negative weighted mean of input values (torch's
#: nearest copies, bilinear and its antialiased triangle filter, area's box average). Bicubic,
#: lanczos (negative lobes) and bislerp (lengths of turned vectors) can overshoot the input's range.
_CONVEX = frozenset({"nearest-exact", "nearest", "bilinear", "bilinear-antialiased", "area"})
#: Methods whose every output value is one input value (:attr:`Method.copies`).
_COPIES = frozenset({"nearest-exact", "nearest"})


def _register_builtin(entries: Iterable[tuple[str, str, str, ResizeFn]]) -> None:
    for method_id, label, advice, resize in entries:
        register(_interpolation(method_id, label, advice, resize, convex=method_id in _CONVEX))


_register_builtin(
    [
        (
            "bislerp",
            "Bislerp (spherical)",
            "Keeps latent vector lengths, yet 0.7–1.5 dB behind bilinear's PSNR on every photograph "
            "(HaarPSI level at 1.5×, behind at 2×); can darken edges between unlike colours. "
            "Real photos 1.5×/2×: 20.8/19.2 dB, HaarPSI 0.55/0.49.",
            bislerp,
        ),
        (
            "lanczos",
            "Lanczos-3",
            "Sharpest linear filter, with ringing on hard edges; measured behind bilinear. "
            "Real photos 1.5×/2×: 21.0/19.2 dB, HaarPSI 0.55/0.48.",
            lanczos,
        ),
        (
            "nearest-exact",
            "Nearest (exact)",
            "Blocky: the sampler must rebuild detail, so use denoise ≥ 0.55. "
            "Real photos 1.5×/2×: 20.0/19.0 dB, HaarPSI 0.48/0.46.",
            torch_mode("nearest-exact"),
        ),
        (
            "nearest",
            "Nearest (legacy)",
            "torch's old nearest, shifted by half a pixel; prefer nearest-exact. "
            "Real photos 1.5×/2×: 18.6/19.0 dB, HaarPSI 0.41/0.46.",
            torch_mode("nearest"),
        ),
        (
            "bicubic",
            "Bicubic",
            "Looks sharper than bilinear, with slight overshoot, but measures behind it. "
            "Real photos 1.5×/2×: 21.1/19.3 dB, HaarPSI 0.55/0.48.",
            torch_mode("bicubic"),
        ),
        (
            "bicubic-antialiased",
            "Bicubic (antialiased)",
            "torch's antialiased bicubic (a softer kernel, widened when shrinking): tied with "
            "bilinear by HaarPSI (within the spread across photographs), lower PSNR. "
            "Real photos 1.5×/2×: 21.3/19.6 dB, HaarPSI 0.55/0.49.",
            torch_mode("bicubic", antialias=True),
        ),
        (
            "bilinear",
            "Bilinear (WebUI default)",
            "What the WebUI does: soft, yet no interpolation measures clearly better. The default. "
            "Real photos 1.5×/2×: 21.8/20.4 dB, HaarPSI 0.55/0.50.",
            torch_mode("bilinear"),
        ),
        (
            "bilinear-antialiased",
            "Bilinear (antialiased)",
            "Bilinear with a widened filter when shrinking; identical to bilinear when enlarging. "
            "Real photos 1.5×/2×: 21.8/20.4 dB, HaarPSI 0.55/0.50.",
            torch_mode("bilinear", antialias=True),
        ),
        (
            "area",
            "Area",
            "Box average: the right choice for shrinking; blocky (like nearest) when enlarging. "
            "Real photos 1.5×/2×: 21.1/19.0 dB, HaarPSI 0.52/0.46.",
            torch_mode("area"),
        ),
    ]
)


def get_method(method_id: str) -> Method:
    """The registered method, or an error listing every known id."""
    try:
        return _REGISTRY[method_id]
    except (KeyError, TypeError):
        hint = ""
        if method_id in ("linear", "trilinear"):
            hint = f" ({method_id!r} is for 3-D/5-D tensors and cannot resize a 4-D latent)"
        raise LatentUpscaleError(
            f"unknown method {method_id!r}{hint}; expected one of: {', '.join(_REGISTRY)}"
        ) from None


def method_ids() -> list[str]:
    """Registered method ids in display order."""
    return list(_REGISTRY)


def registered_methods() -> list[Method]:
    """Registered methods in display order."""
    return list(_REGISTRY.values())


def torch_mode_methods() -> list[Method]:
    """The registered methods whose ``resize`` is one of torch's modes (:func:`torch_mode`): its
    output always has the size asked for and, for float32/float64 input, the input's dtype."""
    return [method for method in _REGISTRY.values() if method.resize in _TORCH_MODE_RESIZERS]
