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
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor

from latent_upscale.core import Method, ResizeFn, Size, UpscaleRequest, UpscaleResult
from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "bislerp",
    "get_method",
    "lanczos",
    "method_ids",
    "register",
    "registered_methods",
    "torch_mode",
]


# --- torch's own modes ---------------------------------------------------------------------------


def torch_mode(mode: str, *, antialias: bool = False) -> ResizeFn:
    """A resizer that calls ``F.interpolate`` exactly as the WebUI's hires fix would for this mode."""

    def resize(latent: Tensor, size: Size) -> Tensor:
        if mode in ("bilinear", "bicubic"):
            return F.interpolate(latent, size=size, mode=mode, align_corners=False, antialias=antialias)
        return F.interpolate(latent, size=size, mode=mode)

    resize.__name__ = f"{mode}{'_antialiased' if antialias else ''}"
    resize.__doc__ = f"torch.nn.functional.interpolate(mode={mode!r}, antialias={antialias})."
    return resize


# --- bislerp ------------------------------------------------------------------------------------

_EPS = 1e-8


def _slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation of the channel vectors (dim 1) of ``a`` and ``b``.

    The direction moves along the great circle by angle; the length is interpolated linearly, so the
    result's vector norms are exactly the linear interpolation of the input norms. Nearly parallel
    vectors use normalised lerp (same result, no 0/0); opposite or zero vectors, whose great circle
    is undefined, fall back to a plain lerp of the vectors.
    """
    norm_a = a.norm(dim=1, keepdim=True)
    norm_b = b.norm(dim=1, keepdim=True)
    unit_a = a / norm_a.clamp_min(_EPS)
    unit_b = b / norm_b.clamp_min(_EPS)
    dot = (unit_a * unit_b).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    # 2·atan2(|a-b|, |a+b|) keeps its precision for nearly parallel vectors, where acos(dot) loses it.
    omega = 2.0 * torch.atan2(
        (unit_a - unit_b).norm(dim=1, keepdim=True), (unit_a + unit_b).norm(dim=1, keepdim=True)
    )
    sin_omega = torch.sin(omega)
    safe_sin = sin_omega.clamp_min(1e-12)
    direction = (torch.sin((1.0 - t) * omega) * unit_a + torch.sin(t * omega) * unit_b) / safe_sin
    nlerp = (1.0 - t) * unit_a + t * unit_b
    direction = torch.where(sin_omega < 1e-4, nlerp, direction)
    # Unit length by construction up to rounding; renormalising makes the output lengths exact.
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(_EPS)
    length = (1.0 - t) * norm_a + t * norm_b
    result = direction * length
    undefined = (dot < -1.0 + 1e-6) | (norm_a < _EPS) | (norm_b < _EPS)
    return torch.where(undefined, (1.0 - t) * a + t * b, result)


def _linear_taps(n_in: int, n_out: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Source indices and weights of half-pixel-centred linear interpolation, as torch's bilinear."""
    pos = (torch.arange(n_out, device=device, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5
    pos = pos.clamp_min(0.0)
    low = pos.floor().long().clamp_max(n_in - 1)
    high = (low + 1).clamp_max(n_in - 1)
    return low, high, pos - low


def _bislerp_axis(latent: Tensor, n_out: int, dim: int) -> Tensor:
    n_in = latent.shape[dim]
    if n_out == n_in:
        return latent
    if n_out < n_in:
        return _spherical_mean_axis(latent, n_out, dim)
    low, high, frac = _linear_taps(n_in, n_out, latent.device)
    shape = [1, 1, 1, 1]
    shape[dim] = n_out
    t = frac.to(latent.dtype).view(shape)
    return _slerp(latent.index_select(dim, low), latent.index_select(dim, high), t)


def _spherical_mean_axis(latent: Tensor, n_out: int, dim: int) -> Tensor:
    """Shrinking: a triangle (antialiased linear) filter over lengths and unit directions separately.

    With more than two taps there is no closed-form slerp; the normalised weighted mean of the unit
    vectors is the standard approximation of the spherical mean, and it keeps the lengths exact.
    """
    weights = _filter_matrix(latent.shape[dim], n_out, "triangle").to(latent)
    moved = latent.movedim(dim, -1)
    norms = moved.norm(dim=1, keepdim=True)
    units = moved / norms.clamp_min(_EPS)
    mean_dir = units @ weights.T
    length = norms @ weights.T
    mean_dir = mean_dir / mean_dir.norm(dim=1, keepdim=True).clamp_min(_EPS)
    return (mean_dir * length).movedim(-1, dim)


def bislerp(latent: Tensor, size: Size) -> Tensor:
    """Separable spherical interpolation of per-pixel channel vectors (rows first, then columns).

    Upscaling uses the two nearest samples at torch's bilinear positions (half-pixel centres, clamped
    at the border); a pixel's vector turns by angle and its length changes linearly, so vector
    lengths equal the bilinear interpolation of the source lengths and are never shrunk the way a
    plain average of differently-pointing vectors shrinks them. Shrinking uses a spherical mean.
    """
    out = _bislerp_axis(latent, size[0], dim=2)
    return _bislerp_axis(out, size[1], dim=3)


# --- lanczos --------------------------------------------------------------------------------------


def _lanczos3(x: Tensor) -> Tensor:
    return torch.where(x.abs() < 3.0, torch.sinc(x) * torch.sinc(x / 3.0), torch.zeros_like(x))


def _triangle(x: Tensor) -> Tensor:
    return (1.0 - x.abs()).clamp_min(0.0)


_FILTERS = {"lanczos3": (_lanczos3, 3.0), "triangle": (_triangle, 1.0)}


@lru_cache(maxsize=64)
def _filter_matrix(n_in: int, n_out: int, kernel: str) -> Tensor:
    """``[n_out, n_in]`` float64 resampling weights, built the way Pillow's ``precompute_coeffs`` does.

    The kernel is widened by the shrink ratio (an antialiasing filter when shrinking), taps outside
    the image are dropped and each row is renormalised to sum to 1.
    """
    fn, support = _FILTERS[kernel]
    scale = n_in / n_out
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    centers = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale
    first = torch.trunc(centers - support + 0.5).clamp_min(0)
    last = torch.trunc(centers + support + 0.5).clamp_max(n_in)
    sources = torch.arange(n_in, dtype=torch.float64)
    inside = (sources[None, :] >= first[:, None]) & (sources[None, :] < last[:, None])
    weights = fn((sources[None, :] - centers[:, None] + 0.5) / filter_scale) * inside
    totals = weights.sum(dim=1, keepdim=True)
    return torch.where(totals != 0, weights / torch.where(totals != 0, totals, 1.0), weights)


def lanczos(latent: Tensor, size: Size) -> Tensor:
    """Float Lanczos-3, separable (columns first, then rows, as Pillow), no clipping or 8-bit rounding."""
    out = latent
    if size[1] != latent.shape[3]:
        out = out @ _filter_matrix(latent.shape[3], size[1], "lanczos3").to(latent).T
    if size[0] != latent.shape[2]:
        out = _filter_matrix(latent.shape[2], size[0], "lanczos3").to(latent) @ out
    return out


# --- the registry ---------------------------------------------------------------------------------

_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method; a duplicate id is a programming error and fails loudly."""
    if method.id in _REGISTRY:
        raise LatentUpscaleError(f"a resize method with id {method.id!r} is already registered")
    _REGISTRY[method.id] = method
    return method


def _interpolation(method_id: str, label: str, advice: str, resize: ResizeFn) -> Method:
    def run(latent: Tensor, size: Size, request: UpscaleRequest) -> UpscaleResult:
        return UpscaleResult(
            latent=resize(latent, size), method=method_id, steps=(f"{method_id} → {size[0]}x{size[1]}",)
        )

    return Method(id=method_id, label=label, advice=advice, run=run, resize=resize)


def _register_builtin(entries: Iterable[tuple[str, str, str, ResizeFn]]) -> None:
    for method_id, label, advice, resize in entries:
        register(_interpolation(method_id, label, advice, resize))


_register_builtin(
    [
        (
            "bislerp",
            "Bislerp (spherical)",
            "Keeps latent vector lengths: no washed-out colours; can darken edges between unlike colours.",
            bislerp,
        ),
        (
            "lanczos",
            "Lanczos-3",
            "Sharpest linear filter; a little ringing on hard edges. Good with denoise 0.4-0.6.",
            lanczos,
        ),
        (
            "nearest-exact",
            "Nearest (exact)",
            "Crisp, blocky: the sampler must rebuild detail, so use denoise ≥ 0.55.",
            torch_mode("nearest-exact"),
        ),
        (
            "nearest",
            "Nearest (legacy)",
            "torch's old nearest, shifted by half a pixel; prefer nearest-exact.",
            torch_mode("nearest"),
        ),
        (
            "bicubic",
            "Bicubic",
            "Sharper than bilinear, slight overshoot; a safe step up from the default.",
            torch_mode("bicubic"),
        ),
        (
            "bicubic-antialiased",
            "Bicubic (antialiased)",
            "Bicubic with a widened filter when shrinking; same as bicubic when enlarging.",
            torch_mode("bicubic", antialias=True),
        ),
        (
            "bilinear",
            "Bilinear (WebUI default)",
            "What the WebUI does: blurs and dims the latent, so the image comes out soft.",
            torch_mode("bilinear"),
        ),
        (
            "bilinear-antialiased",
            "Bilinear (antialiased)",
            "Bilinear with a widened filter when shrinking; same blur when enlarging.",
            torch_mode("bilinear", antialias=True),
        ),
        (
            "area",
            "Area",
            "Box average: the right choice for shrinking; blocky (like nearest) when enlarging.",
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

