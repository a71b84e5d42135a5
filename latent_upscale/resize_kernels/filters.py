"""Separable resampling with Pillow's filter rule (``precompute_coeffs`` in Pillow's ``Resample.c``),
in float: lanczos-3, and the triangle filter bislerp's shrinking uses.

Each output sample has a handful of taps (6 for lanczos-3 when enlarging; the support widens with
the shrink ratio when shrinking, an antialiasing filter). The taps are applied as a band: the output
is cut into blocks of consecutive samples and each block is one small dense matrix product over the
source samples its taps reach, so the cost per output sample is bounded (linear in the image, as
Pillow's loop) while the work stays in matrix products (BLAS), which beat a per-tap gather on CPUs;
each product is written straight into its slice of the output.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

from latent_upscale.core import Size

__all__ = ["FILTERS", "filter_matrix", "filter_taps", "lanczos", "resample_axis"]


def _lanczos3(x: Tensor) -> Tensor:
    return torch.where(x.abs() < 3.0, torch.sinc(x) * torch.sinc(x / 3.0), torch.zeros_like(x))


def _triangle(x: Tensor) -> Tensor:
    return (1.0 - x.abs()).clamp_min(0.0)


#: Kernel name → (function of the distance in source pixels, support radius when enlarging).
FILTERS = {"lanczos3": (_lanczos3, 3.0), "triangle": (_triangle, 1.0)}

#: Source samples each block's matrix spans when enlarging (more when shrinking: a block holds at
#: least ``_MIN_BLOCK`` outputs). Small enough that the zeros a block multiplies stay a few times
#: the taps, large enough that the per-block Python cost is small next to the products.
_SPAN = 32
_MIN_BLOCK = 8


@lru_cache(maxsize=64)
def filter_taps(n_in: int, n_out: int, kernel: str) -> tuple[Tensor, Tensor]:
    """``(first, weights)``: each output sample's first source index ``[n_out]`` (int64) and its tap
    weights ``[n_out, taps]`` (float64; tap ``k`` reads source ``first + k``, zero past the image).

    Pillow's ``precompute_coeffs``: the kernel is widened by the shrink ratio when shrinking, taps
    outside the image are dropped and each output's weights are renormalised to sum to 1.
    """
    fn, support = FILTERS[kernel]
    scale = n_in / n_out
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    centers = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale
    first = torch.trunc(centers - support + 0.5).clamp_min(0)
    last = torch.trunc(centers + support + 0.5).clamp_max(n_in)
    taps = max(int((last - first).max()), 1)
    sources = first[:, None] + torch.arange(taps, dtype=torch.float64)
    weights = fn((sources - centers[:, None] + 0.5) / filter_scale) * (sources < last[:, None])
    totals = weights.sum(dim=1, keepdim=True)
    weights = torch.where(totals != 0, weights / torch.where(totals != 0, totals, 1.0), weights)
    return first.long(), weights


@lru_cache(maxsize=64)
def filter_matrix(n_in: int, n_out: int, kernel: str) -> Tensor:
    """The dense ``[n_out, n_in]`` float64 matrix of :func:`filter_taps` (a reference; the resizers
    apply the band, not this matrix)."""
    first, weights = filter_taps(n_in, n_out, kernel)
    index = first[:, None] + torch.arange(weights.shape[1])
    inside = index < n_in
    matrix = torch.zeros(n_out, n_in + weights.shape[1], dtype=torch.float64)
    matrix.scatter_(1, index, weights * inside)
    return matrix[:, :n_in].contiguous()


@lru_cache(maxsize=128)
def _blocks(
    n_in: int, n_out: int, kernel: str, dtype: torch.dtype, device: torch.device
) -> tuple[tuple[int, int, int, Tensor], ...]:
    """``(out_start, src_start, src_count, matrix[outputs, src_count])`` per block of outputs, the
    matrices in ``dtype`` on ``device`` (cached: read only)."""
    first, weights = filter_taps(n_in, n_out, kernel)
    taps = weights.shape[1]
    per_block = max(_MIN_BLOCK, math.ceil(_SPAN * n_out / n_in))
    blocks = []
    for start in range(0, n_out, per_block):
        count = min(per_block, n_out - start)
        index = first[start : start + count, None] + torch.arange(taps)
        block_weights = weights[start : start + count] * (index < n_in)
        index = index.clamp_max(n_in - 1)
        src_start = int(index.min())
        src_count = int(index.max()) + 1 - src_start
        matrix = torch.zeros(count, src_count, dtype=torch.float64)
        matrix.scatter_add_(1, index - src_start, block_weights)
        blocks.append((start, src_start, src_count, matrix.to(device=device, dtype=dtype)))
    return tuple(blocks)


def resample_axis(latent: Tensor, n_out: int, dim: int, kernel: str) -> Tensor:
    """Resample ``latent [B, C, H, W]`` along ``dim`` (2: rows, 3: columns) to ``n_out`` samples with
    ``kernel`` (a key of :data:`FILTERS`), Pillow's rule, band by band. Same dtype and device.

    Each block's product is written straight into its slice of the output (BLAS takes the strided
    slice), so the only memory besides the output is the block matrices. ``out=`` kernels do not
    record autograd, so a latent that requires grad (with grad enabled) takes the same products
    concatenated instead: the same values, differentiable, one more copy of the output.
    """
    batch, channels, height, width = latent.shape
    latent = latent.contiguous()
    blocks = _blocks(latent.shape[dim], n_out, kernel, latent.dtype, latent.device)
    if latent.requires_grad and torch.is_grad_enabled():
        return _resample_differentiable(latent, n_out, dim, blocks)
    if dim == 3:
        out = latent.new_empty(batch, channels, height, n_out)
        rows_in, rows_out = latent.view(-1, width), out.view(-1, n_out)
        for start, src_start, src_count, matrix in blocks:
            source = rows_in.narrow(1, src_start, src_count)
            torch.mm(source, matrix.T, out=rows_out.narrow(1, start, matrix.shape[0]))
        return out
    out = latent.new_empty(batch, channels, n_out, width)
    planes_in, planes_out = latent.view(-1, height, width), out.view(-1, n_out, width)
    for start, src_start, src_count, matrix in blocks:
        source = planes_in.narrow(1, src_start, src_count)
        torch.matmul(matrix, source, out=planes_out.narrow(1, start, matrix.shape[0]))
    return out


def _resample_differentiable(
    latent: Tensor, n_out: int, dim: int, blocks: tuple[tuple[int, int, int, Tensor], ...]
) -> Tensor:
    """:func:`resample_axis` without ``out=``: each block's product, concatenated (autograd records it)."""
    batch, channels, height, width = latent.shape
    if dim == 3:
        rows = latent.reshape(-1, width)
        parts = [rows.narrow(1, src, count) @ matrix.T for _, src, count, matrix in blocks]
        return torch.cat(parts, dim=1).reshape(batch, channels, height, n_out)
    planes = latent.reshape(-1, height, width)
    parts = [torch.matmul(matrix, planes.narrow(1, src, count)) for _, src, count, matrix in blocks]
    return torch.cat(parts, dim=1).reshape(batch, channels, n_out, width)


def lanczos(latent: Tensor, size: Size) -> Tensor:
    """Float Lanczos-3, separable (columns first, then rows, as Pillow), no clipping or 8-bit rounding.

    ``latent``: ``[B, C, H, W]`` float32 or float64; returns ``[B, C, *size]`` of the same dtype,
    equal to Pillow's float (``"F"`` mode) ``Image.resize(…, Image.LANCZOS)`` per plane. Cost and
    memory are linear in the pixels (see the module docstring).
    """
    out = latent
    if size[1] != latent.shape[3]:
        out = resample_axis(out, size[1], 3, "lanczos3")
    if size[0] != latent.shape[2]:
        out = resample_axis(out, size[0], 2, "lanczos3")
    return out
