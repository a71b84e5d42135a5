"""Where a tile's output pixels sample its input, so tiles of any-scale networks match the whole image.

An any-scale network resizes internally (SesquiLSR's learned resampler and bicubic skip, Ttl's
bilinear feature resize). Run on a tile, it would lay its own sampling grid over the tile, shifted by
up to half a pixel from the grid the whole image uses unless the scale is a simple fraction. A
:class:`TileGrid` carries the whole image's sizes and the tile's offsets; the helpers here compute
the whole image's sample positions and shift them into the tile, so every tile samples exactly
where the untiled run does. Without a grid the networks call ``F.interpolate`` as the originals do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "TileGrid",
    "filter_rows",
    "head_positions",
    "interpolation_matrix",
    "log2_footprint",
    "resample_filtered",
    "resample_separable",
]

#: torch's bicubic uses Keys' cubic convolution with a = -0.75.
_CUBIC_A = -0.75


@dataclass(frozen=True)
class TileGrid:
    """A tile inside a whole image: sizes of the whole input/output and the tile's start in each."""

    full_src: tuple[int, int]
    full_out: tuple[int, int]
    src_offset: tuple[int, int]
    out_offset: tuple[int, int]


def _torch_source_index(n_in: int, n_out: int, out_offset: int, count: int, device: torch.device) -> Tensor:
    """torch's ``area_pixel_compute_source_index`` (half-pixel centres) for output pixels
    ``out_offset … out_offset + count - 1`` of a resize from ``n_in`` to ``n_out``, in float32."""
    scale = torch.tensor(float(n_in), dtype=torch.float32) / torch.tensor(float(n_out), dtype=torch.float32)
    index = torch.arange(out_offset, out_offset + count, device=device, dtype=torch.float32)
    return scale.to(device) * (index + 0.5) - 0.5


def _cubic_weights(t: Tensor) -> list[Tensor]:
    a = _CUBIC_A

    def near(d: Tensor) -> Tensor:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: Tensor) -> Tensor:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolation_matrix(
    mode: str, n_in: int, count: int, full_in: int, full_out: int, src_offset: int, out_offset: int
) -> Tensor:
    """``[count, n_in]`` float64 weights that reproduce ``F.interpolate(mode, align_corners=False)``
    of the whole axis (``full_in`` → ``full_out``) for the tile starting at ``src_offset`` /
    ``out_offset``. Taps outside the tile are clamped to its edge (only inside the tile margins)."""
    source = _torch_source_index(full_in, full_out, out_offset, count, torch.device("cpu")).double()
    source = source - src_offset
    matrix = torch.zeros(count, n_in, dtype=torch.float64)
    rows = torch.arange(count)
    if mode == "bilinear":
        source = source.clamp(0.0, n_in - 1)  # torch clamps negative sources to 0 for linear modes
        low = source.floor().long().clamp(0, n_in - 1)
        high = (low + 1).clamp(max=n_in - 1)
        frac = source - low
        matrix.index_put_((rows, low), 1 - frac, accumulate=True)
        matrix.index_put_((rows, high), frac, accumulate=True)
        return matrix
    if mode == "bicubic":
        base = source.floor()
        weights = _cubic_weights(source - base)
        for tap, weight in zip(range(-1, 3), weights, strict=True):
            index = (base.long() + tap).clamp(0, n_in - 1)
            matrix.index_put_((rows, index), weight, accumulate=True)
        return matrix
    raise ValueError(f"unsupported mode {mode!r}")


def resample_separable(x: Tensor, mode: str, size: tuple[int, int], grid: TileGrid) -> Tensor:
    """Resize a tile ``x`` to ``size`` on the whole image's sampling grid (see module docstring)."""
    rows = interpolation_matrix(
        mode, x.shape[2], size[0], grid.full_src[0], grid.full_out[0], grid.src_offset[0], grid.out_offset[0]
    )
    cols = interpolation_matrix(
        mode, x.shape[3], size[1], grid.full_src[1], grid.full_out[1], grid.src_offset[1], grid.out_offset[1]
    )
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    out = rows.to(work) @ work @ cols.to(work).T
    return out.to(x.dtype)


def head_positions(
    count: int, n_src: int, n_out: int, device: torch.device, tile: tuple[int, int, int, int] | None = None
) -> Tensor:
    """SesquiLSR's target positions on its 2× grid, ``(i + 0.5) · n_src / n_out − 0.5`` in float32
    exactly as the original computes them. For a tile, ``tile = (full_src, full_out, out_offset,
    src_offset)`` on the 2× grid: the whole image's positions for the tile's output indices, shifted
    by the tile's start (an exact float32 subtraction, so phases match the untiled run bit for bit).
    """
    if tile is None:
        return (torch.arange(count, device=device, dtype=torch.float32) + 0.5) * (n_src / n_out) - 0.5
    full_src, full_out, out_offset, src_offset = tile
    pos = torch.arange(out_offset, out_offset + count, device=device, dtype=torch.float32) + 0.5
    return (pos * (full_src / full_out) - 0.5) - float(src_offset)


def log2_footprint(n_src: int, n_out: int) -> float:
    """SesquiLSR's scale code: log2 of source pixels per output pixel (clamped as the original)."""
    return math.log2(max(n_src / n_out, 0.01))


# --- Pillow-rule filters (antialiased resizes of images) ----------------------------------------------


def _lanczos3(x: Tensor) -> Tensor:
    return torch.where(x.abs() < 3.0, torch.sinc(x) * torch.sinc(x / 3.0), torch.zeros_like(x))


def _cubic(x: Tensor) -> Tensor:
    """Keys' cubic with a = -0.5: Pillow's BICUBIC and torch's antialiased bicubic."""
    a, d = -0.5, x.abs()
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return torch.where(d < 1, near, torch.where(d < 2, far, torch.zeros_like(d)))


#: Resampler → (kernel, support in source pixels when enlarging).
_KERNELS = {"lanczos": (_lanczos3, 3.0), "bicubic": (_cubic, 2.0)}


def filter_rows(
    kernel: str, full_in: int, full_out: int, out_start: int, count: int, src_start: int, n_src: int
) -> Tensor:
    """``[count, n_src]`` float64 weights (kernel ``"lanczos"`` or ``"bicubic"``) of output pixels
    ``out_start…`` of a whole-axis resize ``full_in → full_out``, restricted to the source pixels
    ``src_start…`` a tile holds (taps outside it fall in the tile margin: dropped and the rows
    renormalised, as at an image border).
    Pillow's ``precompute_coeffs`` rule, which torch's antialiased modes and
    :func:`latent_upscale.resize_methods.lanczos` follow, so a tile samples the whole image's grid."""
    fn, support = _KERNELS[kernel]
    scale = full_in / full_out
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    centers = (torch.arange(out_start, out_start + count, dtype=torch.float64) + 0.5) * scale
    first = torch.trunc(centers - support + 0.5).clamp_min(0)
    last = torch.trunc(centers + support + 0.5).clamp_max(full_in)
    sources = torch.arange(src_start, src_start + n_src, dtype=torch.float64)
    inside = (sources[None, :] >= first[:, None]) & (sources[None, :] < last[:, None])
    weights = fn((sources[None, :] - centers[:, None] + 0.5) / filter_scale) * inside
    totals = weights.sum(dim=1, keepdim=True)
    return torch.where(totals != 0, weights / torch.where(totals != 0, totals, 1.0), weights)


def resample_filtered(x: Tensor, kernel: str, size: tuple[int, int], grid: TileGrid) -> Tensor:
    """Resize a tile ``x [B, C, h, w]`` to ``size`` with ``kernel`` (Pillow's rule, float) on the
    whole image's sampling grid; the whole-image counterpart is torch's antialiased bicubic or
    :func:`latent_upscale.resize_methods.lanczos`."""
    rows = filter_rows(
        kernel,
        grid.full_src[0],
        grid.full_out[0],
        grid.out_offset[0],
        size[0],
        grid.src_offset[0],
        x.shape[2],
    )
    cols = filter_rows(
        kernel,
        grid.full_src[1],
        grid.full_out[1],
        grid.out_offset[1],
        size[1],
        grid.src_offset[1],
        x.shape[3],
    )
    work = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    return (rows.to(work) @ work @ cols.to(work).T).to(x.dtype)
