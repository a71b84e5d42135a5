"""Bislerp: separable spherical interpolation of the per-pixel channel vectors of a latent.

The family of ComfyUI's ``comfy.utils.bislerp`` (also in Forge); this one computes the angles from
per-pixel scalars and forms each output as one weighted sum of its two samples. The taps of an axis
(pair and weight t of every output, exact rational positions) are computed once per size and cached;
per pass, one set of scalar operations gives both weights of every output, and the samples are
gathered once each, a block of output rows at a time.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from latent_upscale.core import Size
from latent_upscale.resize_kernels.filters import resample_axis

__all__ = ["bislerp"]

_EPS = 1e-8


def _channel_norms(latent: Tensor) -> Tensor:
    """``[B, 1, H, W]`` lengths of the channel vectors: one reduction over the squares (a temporary
    of the latent's size; bislerp calls this on blocks of rows). ``Tensor.norm(dim=1)`` takes a
    strided CPU path up to 100× slower."""
    return (latent * latent).sum(dim=1, keepdim=True).sqrt_()  # x·x: square() is a slow pow


class _Pairs:
    """Per-pixel scalars of each pair of neighbours ``(x_i, x_{i+1})``, ``i < n - 1``, along ``dim``.

    ``maps``: the latent's shape with one channel, ``n - 1`` pairs along ``dim + 1`` and four
    quantities along ``dim`` (half the angle ω, ``|â + b̂|²``, the length ratios ``|b|/|a|`` and
    ``|a|/|b|``), so the per-output-pixel work is a handful of scalar operations on what two
    gathers pick for the outputs.
    """

    def __init__(self, latent: Tensor, dim: int) -> None:
        pairs = latent.shape[dim] - 1
        norms = _channel_norms(latent)
        inverse = norms.clamp_min(_EPS).reciprocal_()
        norm_a, norm_b = norms.narrow(dim, 0, pairs), norms.narrow(dim, 1, pairs)
        inverse_a, inverse_b = inverse.narrow(dim, 0, pairs), inverse.narrow(dim, 1, pairs)
        shape = list(norm_a.shape)
        shape.insert(dim, 4)
        self.maps = maps = norms.new_empty(shape)
        half_omega, plus = maps.select(dim, 0), maps.select(dim, 1)
        # |â + b̂|² = 2 + 2·cos ω, summed from the unit vectors themselves:
        # exact where cos ω ≈ -1, which a dot product loses.
        unit_sum = latent.narrow(dim, 0, pairs) * inverse_a
        unit_sum.addcmul_(latent.narrow(dim, 1, pairs), inverse_b)
        torch.sum(unit_sum.mul_(unit_sum), dim=1, keepdim=True, out=plus)
        del unit_sum
        # ω/2 = acos(|â + b̂| / 2): exact near opposite vectors; near parallel ones it loses digits
        # that do not matter (there slerp and the normalised lerp differ by O(ω²)). The floor keeps
        # sin(tω)/sin(ω) at its limit t for parallel vectors (normalised lerp).
        torch.acos(plus.sqrt().mul_(0.5).clamp_max_(1.0), out=half_omega).clamp_min_(5e-7)
        torch.mul(norm_b, inverse_a, out=maps.select(dim, 2))
        torch.mul(norm_a, inverse_b, out=maps.select(dim, 3))
        # Opposite or zero vectors have no great circle: a plain lerp, which is what the weights
        # below give for ω → 0, |â + b̂|² = 4 and equal lengths.
        undefined = (torch.minimum(norm_a, norm_b) < _EPS).logical_or_(plus < 2e-6)
        torch.where(undefined.unsqueeze(dim), _lerp_maps(dim, maps.device, maps.dtype), maps, out=maps)


@lru_cache(maxsize=16)
def _lerp_maps(dim: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """What an undefined pair's maps become: ω/2 at its floor, ``|â + b̂|² = 4``, equal lengths."""
    shape = [1, 1, 1, 1, 1]
    shape[dim] = 4
    return torch.tensor([5e-7, 4.0, 1.0, 1.0], dtype=dtype, device=device).view(shape)


def _low(j: int, n_in: int, n_out: int) -> int:
    """The pair output ``j`` takes (see :func:`_taps`)."""
    return min(max(((2 * j + 1) * n_in - n_out) // (2 * n_out), 0), n_in - 2)


@lru_cache(maxsize=64)
def _taps(n_in: int, n_out: int, dim: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, ...]:
    """Where each output of ``n_in → n_out`` (``n_in ≥ 2``) along ``dim`` takes its two samples, at
    torch's bilinear positions ``(j + ½)·n_in/n_out - ½`` (half-pixel centres), as pair ``low_j``
    (samples ``low_j``, ``low_j + 1``) and weight ``t_j``: ``(low [n_out], low + 1, sines [2, n_out]
    (2 - 2t, 2t), scale [2, n_out] (t, 1 - t), offset [2, n_out] (1 - t, t))``, the last three
    shaped to broadcast with the pair axis at ``dim`` and the outputs at ``dim + 1`` (see
    :func:`_enlarge_axis`). Cached (read only).

    A position before sample 0 takes pair 0 at t = 0, one at or past the last sample the last pair
    at t = 1 (the clamped border: both give that sample). The positions are the exact rationals
    ``((2j + 1)·n_in - n_out) / (2·n_out)``.
    """
    j = torch.arange(n_out, dtype=torch.int64)
    numerator = (2 * j + 1) * n_in - n_out
    low = torch.div(numerator, 2 * n_out, rounding_mode="floor")
    t = (numerator - low * 2 * n_out).to(torch.float64) / (2 * n_out)
    t = torch.where(low < 0, 0.0, torch.where(low > n_in - 2, 1.0, t))
    low = low.clamp(0, n_in - 2)
    shape = [1, 1, 1, 1, 1]
    shape[dim], shape[dim + 1] = 2, n_out
    t = t.to(dtype)
    one_minus_t = 1.0 - t
    factors = (torch.stack([2.0 * one_minus_t, 2.0 * t]), torch.stack([t, one_minus_t]))
    factors += (torch.stack([one_minus_t, t]),)
    return (
        low.to(device),
        (low + 1).to(device),
        *(factor.view(shape).to(device) for factor in factors),
    )


def _take(tensor: Tensor, index: Tensor, dim: int) -> Tensor:
    """``tensor.index_select(dim, index)``; along the last dim as a ``gather`` with an expanded index,
    which has a fast CPU kernel where ``index_select`` on the innermost dim does not."""
    if dim != tensor.dim() - 1:
        return tensor.index_select(dim, index)
    shape = list(tensor.shape)
    shape[dim] = index.numel()
    return tensor.gather(dim, index.view([1] * dim + [-1]).expand(shape))


def _enlarge_axis(source: Tensor, dim: int, out: Tensor, n_out: int, start: int = 0) -> None:
    """Outputs ``[start, start + out.shape[dim])`` of ``source`` enlarged to ``n_out`` along ``dim``,
    into ``out``. Pair scalars are computed for the source samples this range reads only.

    Each output ``slerp(a, b, t) = wa·a + wb·b``; the two weights of every output sit side by side on
    a pair axis (``dim``, size 2) before the output axis (``dim + 1``), computed together.
    With ``sa = sin((1-t)ω)`` and ``sb = sin(tω)`` the direction ``(sa·â + sb·b̂) / sin ω`` is
    renormalised (exact lengths; nlerp's direction is shorter than 1) and scaled to the linearly
    interpolated length ``(1-t)|a| + t|b|``; 1/sin ω cancels, and
    ``|sa·â + sb·b̂|² = (sa - sb)² + sa·sb·|â + b̂|²`` has no cancellation.
    """
    n_in, count = source.shape[dim], out.shape[dim]
    if n_in == 1:
        out.copy_(source)
        return
    low, high, sines, scale, offset = _taps(n_in, n_out, dim, source.device, source.dtype)
    if count < n_out:  # a block: only the source samples and pairs it reads
        first, last = (_low(j, n_in, n_out) for j in (start, start + count - 1))
        source = source.narrow(dim, first, last - first + 2)
        low, high = low[start : start + count] - first, high[start : start + count] - first
        sines, scale, offset = (factor.narrow(dim + 1, start, count) for factor in (sines, scale, offset))
    maps = _Pairs(source, dim).maps
    # Gathered in two halves (new tensors, used in place), so at most half of them is alive at once.
    angle = _take(maps.narrow(dim, 0, 2), low, dim + 1)  # ω/2 and |â + b̂|²
    sin = torch.mul(angle.narrow(dim, 0, 1), sines).sin_()
    sin_a, sin_b = sin.select(dim, 0), sin.select(dim, 1)
    inv_norm = sin_a - sin_b
    inv_norm.mul_(inv_norm).addcmul_(sin_a, angle.select(dim, 1).mul_(sin_b)).rsqrt_()
    del angle, sin_a, sin_b
    sin.mul_(inv_norm.unsqueeze(dim))
    del inv_norm
    weights = sin.mul_(_take(maps.narrow(dim, 2, 2), low, dim + 1).mul_(scale).add_(offset))
    del maps
    # One sample at a time: a temporary of the output's size, not two.
    torch.mul(_take(source, low, dim), weights.select(dim, 0), out=out)
    out.addcmul_(_take(source, high, dim), weights.select(dim, 1))


def _bislerp_axis(latent: Tensor, n_out: int, dim: int, out: Tensor | None = None) -> Tensor:
    """Bislerp along ``dim`` only, written into ``out`` when given (a view of the right shape)."""
    n_in = latent.shape[dim]
    if n_out == n_in:
        return latent if out is None else out.copy_(latent)
    if n_out < n_in:
        mean = _spherical_mean_axis(latent, n_out, dim)
        return mean if out is None else out.copy_(mean)
    if out is None:
        shape = list(latent.shape)
        shape[dim] = n_out
        out = latent.new_empty(shape)
    _enlarge_axis(latent, dim, out, n_out)
    return out


#: Output pixels (per channel, all batch entries) of one block of rows: the per-pixel temporaries
#: (angles, weights, one gathered sample, the row-enlarged block) stay within the CPU's cache.
#: Each block costs ~80 torch calls (a parallel region each on more than one thread), so blocks
#: are few.
_BLOCK_PIXELS = 1 << 18
#: A block whose output has at least this many bytes widens its columns in two halves of its rows
#: (~40 more calls): the temporaries of that pass, about 1.3× its output, are then halved too.
_HALVES_BYTES = 1 << 16


def _spherical_mean_axis(latent: Tensor, n_out: int, dim: int) -> Tensor:
    """Shrinking: a triangle (antialiased linear) filter over lengths and unit directions separately.

    With more than two taps there is no closed-form slerp; the normalised weighted mean of the unit
    vectors is the standard approximation of the spherical mean, and it keeps the lengths exact.
    """
    norms = _channel_norms(latent)
    units = latent / norms.clamp_min(_EPS)
    mean_dir = resample_axis(units, n_out, dim, "triangle")
    del units
    length = resample_axis(norms, n_out, dim, "triangle")
    return mean_dir.mul_(length / _channel_norms(mean_dir).clamp_min_(_EPS))


def bislerp(latent: Tensor, size: Size) -> Tensor:
    """Separable spherical interpolation of per-pixel channel vectors (rows first, then columns).

    ``latent``: ``[B, C, H, W]`` float32 or float64; returns ``[B, C, *size]`` of the same dtype.
    Upscaling uses the two nearest samples at torch's bilinear positions (half-pixel centres, clamped
    at the border); a pixel's vector turns by angle and its length changes linearly, so vector
    lengths equal the bilinear interpolation of the source lengths and are never shrunk the way a
    plain average of differently-pointing vectors shrinks them. Shrinking uses a spherical mean.
    The family of ComfyUI's ``comfy.utils.bislerp`` (also in Forge); this one computes the angles
    from per-pixel scalars and forms each output as one weighted sum of its two samples, a block of
    output rows at a time (both axes per block), so its temporaries stay a fraction of the output.

    Not differentiable (its kernels work in place): a latent that requires grad is resized without
    autograd and the result does not require grad (use ``bilinear`` or ``lanczos`` to backpropagate).
    """
    if latent.requires_grad and torch.is_grad_enabled():
        with torch.no_grad():
            return bislerp(latent.detach(), size)
    latent = latent.contiguous()  # one memory layout: strided inputs give the same sums
    batch, channels, n_in, width_in = latent.shape
    height, width = size
    blocks = -(-batch * height * max(width, width_in) // _BLOCK_PIXELS)
    rows = -(-height // blocks)
    out = latent.new_empty(batch, channels, height, width)
    resized = _bislerp_axis(latent, height, dim=2) if height <= n_in else None
    for start in range(0, height, rows):
        count = min(rows, height - start)
        target = out.narrow(2, start, count)
        if resized is not None:  # rows shrunk or kept in one pass: the columns block by block
            block = resized.narrow(2, start, count)
        elif width == width_in:
            _enlarge_axis(latent, 2, target, height, start)
            continue
        else:
            block = latent.new_empty(batch, channels, count, width_in)
            _enlarge_axis(latent, 2, block, height, start)
        halves = 2 if count > 1 and target.numel() * target.element_size() >= _HALVES_BYTES else 1
        for part in range(halves):
            first, stop = part * count // halves, (part + 1) * count // halves
            _bislerp_axis(
                block.narrow(2, first, stop - first), width, 3, target.narrow(2, first, stop - first)
            )
    return out
