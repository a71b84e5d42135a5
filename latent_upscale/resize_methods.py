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


def _channel_norms(latent: Tensor) -> Tensor:
    """``[B, 1, H, W]`` lengths of the channel vectors, summed channel by channel: no input-sized
    temporary (and ``Tensor.norm(dim=1)`` takes a strided CPU path up to 100× slower)."""
    squares = latent[:, :1].square()
    for channel in range(1, latent.shape[1]):
        plane = latent[:, channel : channel + 1]
        squares.addcmul_(plane, plane)
    return squares.sqrt_()


class _Pairs:
    """Per-pixel scalars of each pair of neighbours ``(x_i, x_min(i+1, n-1))`` along one axis.

    Everything the spherical interpolation of a pair needs, computed once at the input size with
    one value per pixel (``[B, 1, …]`` each): the angle ω, ``|â + b̂|²`` and the two length ratios,
    so the per-output-pixel work is a handful of scalar operations.
    """

    def __init__(self, latent: Tensor, dim: int) -> None:
        n_in = latent.shape[dim]
        norms = _channel_norms(latent)
        inverse = 1.0 / norms.clamp_min(_EPS)
        inv_a = inverse.narrow(dim, 0, n_in - 1)
        inv_b = inverse.narrow(dim, 1, n_in - 1)
        # |â + b̂|² = 2 + 2·cos ω, summed from the unit vectors themselves (channel by channel):
        # exact where cos ω ≈ -1, which a dot product loses. The border pairs a sample with itself.
        plus = torch.zeros_like(norms)
        body = plus.narrow(dim, 0, n_in - 1)
        for channel in range(latent.shape[1]):
            plane = latent[:, channel : channel + 1]
            unit_sum = plane.narrow(dim, 0, n_in - 1) * inv_a
            unit_sum.addcmul_(plane.narrow(dim, 1, n_in - 1), inv_b)
            body.addcmul_(unit_sum, unit_sum)
        plus.narrow(dim, n_in - 1, 1).copy_(4.0 * (norms.narrow(dim, n_in - 1, 1) >= _EPS))
        norm_b = torch.cat([norms.narrow(dim, 1, n_in - 1), norms.narrow(dim, n_in - 1, 1)], dim=dim)
        # ω = 2·atan2(|â - b̂|, |â + b̂|) with |â - b̂|² = 4 - |â + b̂|² for unit vectors. The floor
        # keeps sin(tω)/sin(ω) at its limit t for parallel vectors (normalised lerp).
        omega = 2.0 * torch.atan2((4.0 - plus).clamp_min_(0.0).sqrt_(), plus.sqrt())
        # Opposite or zero vectors have no great circle: a plain lerp, which is what the weights
        # below give for ω → 0, |â + b̂|² = 4 and equal lengths.
        undefined = (plus < 2e-6) | (norms < _EPS) | (norm_b < _EPS)
        self.omega = omega.clamp_min_(1e-6).masked_fill_(undefined, 1e-6)
        self.plus = plus.masked_fill_(undefined, 4.0)
        self.b_over_a = (norm_b * inverse).masked_fill_(undefined, 1.0)
        self.a_over_b = norms.div_(norm_b.clamp_min_(_EPS)).masked_fill_(undefined, 1.0)

    def weights(self, low: Tensor, t: Tensor, dim: int) -> tuple[Tensor, Tensor]:
        """``(wa, wb)`` at the output positions with ``slerp(a, b, t) = wa·a + wb·b`` per pixel.

        With ``sa = sin((1-t)ω)`` and ``sb = sin(tω)`` the direction ``(sa·â + sb·b̂) / sin ω`` is
        renormalised (exact lengths; nlerp's direction is shorter than 1) and scaled to the linearly
        interpolated length ``(1-t)|a| + t|b|``; 1/sin ω cancels, and
        ``|sa·â + sb·b̂|² = (sa - sb)² + sa·sb·|â + b̂|²`` has no cancellation.
        """
        one_minus_t = 1.0 - t
        omega = _take(self.omega, low, dim)
        sin_a = torch.sin(omega * one_minus_t)
        sin_b = torch.sin(omega.mul_(t))
        del omega
        inv_norm = (sin_a - sin_b).square_()
        inv_norm.addcmul_(sin_a * sin_b, _take(self.plus, low, dim)).clamp_min_(1e-30).rsqrt_()
        weight_a = sin_a.mul_(inv_norm).mul_(_take(self.b_over_a, low, dim).mul_(t).add_(one_minus_t))
        weight_b = sin_b.mul_(inv_norm).mul_(_take(self.a_over_b, low, dim).mul_(one_minus_t).add_(t))
        return weight_a, weight_b


def _linear_taps(n_in: int, n_out: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Source indices and weights of half-pixel-centred linear interpolation, as torch's bilinear.

    ``high`` is always ``min(low + 1, n_in - 1)`` (the border sample is clamped).
    """
    pos = (torch.arange(n_out, device=device, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5
    pos = pos.clamp_min(0.0)
    low = pos.floor().long().clamp_max(n_in - 1)
    high = (low + 1).clamp_max(n_in - 1)
    return low, high, pos - low


def _take(tensor: Tensor, index: Tensor, dim: int) -> Tensor:
    """``tensor.index_select(dim, index)``; along the last dim as a ``gather`` with an expanded index,
    which has a fast CPU kernel where ``index_select`` on the innermost dim does not."""
    if dim != tensor.dim() - 1:
        return tensor.index_select(dim, index)
    shape = list(tensor.shape)
    shape[dim] = index.numel()
    return tensor.gather(dim, index.view([1] * dim + [-1]).expand(shape))


def _bislerp_axis(latent: Tensor, n_out: int, dim: int) -> Tensor:
    n_in = latent.shape[dim]
    if n_out == n_in:
        return latent
    if n_out < n_in:
        return _spherical_mean_axis(latent, n_out, dim)
    low, high, frac = _linear_taps(n_in, n_out, latent.device)
    shape = [1, 1, 1, 1]
    shape[dim] = n_out
    weight_a, weight_b = _Pairs(latent, dim).weights(low, frac.to(latent.dtype).view(shape), dim)
    out = _take(latent, low, dim).mul_(weight_a)
    # The second sample a few channels at a time: its temporary stays a fraction of the output.
    channels = latent.shape[1]
    group = max(1, channels // 4)
    for first in range(0, channels, group):
        planes = latent.narrow(1, first, min(group, channels - first))
        out.narrow(1, first, planes.shape[1]).addcmul_(_take(planes, high, dim), weight_b)
    return out


def _spherical_mean_axis(latent: Tensor, n_out: int, dim: int) -> Tensor:
    """Shrinking: a triangle (antialiased linear) filter over lengths and unit directions separately.

    With more than two taps there is no closed-form slerp; the normalised weighted mean of the unit
    vectors is the standard approximation of the spherical mean, and it keeps the lengths exact.
    """
    weights = _filter_matrix(latent.shape[dim], n_out, "triangle").to(latent)
    norms = _channel_norms(latent)
    units = latent / norms.clamp_min(_EPS)
    if dim == 3:
        mean_dir = units @ weights.T
        length = norms @ weights.T
    else:
        mean_dir = weights @ units
        length = weights @ norms
    del units
    return mean_dir.mul_(length / _channel_norms(mean_dir).clamp_min_(_EPS))


def bislerp(latent: Tensor, size: Size) -> Tensor:
    """Separable spherical interpolation of per-pixel channel vectors (rows first, then columns).

    ``latent``: ``[B, C, H, W]`` float32 or float64; returns ``[B, C, *size]`` of the same dtype.
    Upscaling uses the two nearest samples at torch's bilinear positions (half-pixel centres, clamped
    at the border); a pixel's vector turns by angle and its length changes linearly, so vector
    lengths equal the bilinear interpolation of the source lengths and are never shrunk the way a
    plain average of differently-pointing vectors shrinks them. Shrinking uses a spherical mean.
    The family of ComfyUI's ``comfy.utils.bislerp`` (also in Forge); this one computes the angles
    from per-pixel dot products and forms each output as one weighted sum of its two samples.
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

