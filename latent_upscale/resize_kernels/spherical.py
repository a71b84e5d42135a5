"""Bislerp: separable spherical interpolation of the per-pixel channel vectors of a latent.

The family of ComfyUI's ``comfy.utils.bislerp`` (also in Forge); this one computes the angles from
per-pixel scalars and forms each output as one weighted sum of its two samples.
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
    """Per-pixel scalars of each pair of neighbours ``(x_i, x_min(i+1, n-1))`` along one axis.

    Everything the spherical interpolation of a pair needs, computed once per pass (the whole input
    for the rows, each block of rows for the columns) with one value per pixel (``[B, 1, …]``
    each): the angle ω, ``|â + b̂|²`` and the two length ratios, so the per-output-pixel work is a
    handful of scalar operations.
    """

    def __init__(self, latent: Tensor, dim: int) -> None:
        n_in = latent.shape[dim]
        norms = _channel_norms(latent)
        inverse = 1.0 / norms.clamp_min(_EPS)
        inv_a = inverse.narrow(dim, 0, n_in - 1)
        inv_b = inverse.narrow(dim, 1, n_in - 1)
        # |â + b̂|² = 2 + 2·cos ω, summed from the unit vectors themselves:
        # exact where cos ω ≈ -1, which a dot product loses. The border pairs a sample with itself.
        unit_sum = latent.narrow(dim, 0, n_in - 1) * inv_a
        unit_sum.addcmul_(latent.narrow(dim, 1, n_in - 1), inv_b)
        border = (norms.narrow(dim, n_in - 1, 1) >= _EPS).to(norms.dtype).mul_(4.0)
        plus = torch.cat([unit_sum.mul_(unit_sum).sum(dim=1, keepdim=True), border], dim=dim)
        del unit_sum
        norm_b = torch.cat([norms.narrow(dim, 1, n_in - 1), norms.narrow(dim, n_in - 1, 1)], dim=dim)
        # ω = 2·atan2(|â - b̂|, |â + b̂|) with |â - b̂|² = 4 - |â + b̂|² for unit vectors. The floor
        # keeps sin(tω)/sin(ω) at its limit t for parallel vectors (normalised lerp).
        omega = 2.0 * torch.atan2((4.0 - plus).clamp_min_(0.0).sqrt_(), plus.sqrt())
        # Opposite or zero vectors have no great circle: a plain lerp, which is what the weights
        # below give for ω → 0, |â + b̂|² = 4 and equal lengths.
        undefined = (plus < 2e-6).logical_or_(torch.minimum(norms, norm_b) < _EPS)
        self.omega = omega.clamp_min_(1e-6).masked_fill_(undefined, 1e-6)
        self.plus = plus.masked_fill_(undefined, 4.0)
        self.b_over_a = (norm_b * inverse).masked_fill_(undefined, 1.0)
        self.a_over_b = norms.div_(norm_b.clamp_min_(_EPS)).masked_fill_(undefined, 1.0)

    def weights(self, low: Tensor, t: Tensor, one_minus_t: Tensor, dim: int) -> tuple[Tensor, Tensor]:
        """``(wa, wb)`` at the output positions with ``slerp(a, b, t) = wa·a + wb·b`` per pixel.

        With ``sa = sin((1-t)ω)`` and ``sb = sin(tω)`` the direction ``(sa·â + sb·b̂) / sin ω`` is
        renormalised (exact lengths; nlerp's direction is shorter than 1) and scaled to the linearly
        interpolated length ``(1-t)|a| + t|b|``; 1/sin ω cancels, and
        ``|sa·â + sb·b̂|² = (sa - sb)² + sa·sb·|â + b̂|²`` has no cancellation.
        """
        omega = _take(self.omega, low, dim)
        sin_a = torch.sin(omega * one_minus_t)
        sin_b = torch.sin(omega.mul_(t))
        del omega
        inv_norm = sin_a - sin_b
        inv_norm.mul_(inv_norm)
        inv_norm.addcmul_(sin_a * sin_b, _take(self.plus, low, dim)).clamp_min_(1e-30).rsqrt_()
        weight_a = sin_a.mul_(inv_norm).mul_(_take(self.b_over_a, low, dim).mul_(t).add_(one_minus_t))
        weight_b = sin_b.mul_(inv_norm).mul_(_take(self.a_over_b, low, dim).mul_(one_minus_t).add_(t))
        return weight_a, weight_b


@lru_cache(maxsize=64)
def _linear_taps(
    n_in: int, n_out: int, dim: int, device: torch.device, dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Source indices and weights of half-pixel-centred linear interpolation, as torch's bilinear:
    ``(low, high, t, 1 - t)``, the weights shaped to broadcast along ``dim``. Cached (read only).

    ``high`` is always ``min(low + 1, n_in - 1)`` (the border sample is clamped).
    """
    pos = (torch.arange(n_out, device=device, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5
    pos = pos.clamp_min(0.0)
    low = pos.floor().long().clamp_max(n_in - 1)
    high = (low + 1).clamp_max(n_in - 1)
    shape = [1, 1, 1, 1]
    shape[dim] = n_out
    t = (pos - low).to(dtype).view(shape)
    return low, high, t, 1.0 - t


def _take(tensor: Tensor, index: Tensor, dim: int) -> Tensor:
    """``tensor.index_select(dim, index)``; along the last dim as a ``gather`` with an expanded index,
    which has a fast CPU kernel where ``index_select`` on the innermost dim does not."""
    if dim != tensor.dim() - 1:
        return tensor.index_select(dim, index)
    shape = list(tensor.shape)
    shape[dim] = index.numel()
    return tensor.gather(dim, index.view([1] * dim + [-1]).expand(shape))


def _bislerp_axis(latent: Tensor, n_out: int, dim: int, out: Tensor | None = None) -> Tensor:
    """Bislerp along ``dim`` only, written into ``out`` when given (a view of the right shape)."""
    n_in = latent.shape[dim]
    if n_out == n_in:
        return latent if out is None else out.copy_(latent)
    if n_out < n_in:
        mean = _spherical_mean_axis(latent, n_out, dim)
        return mean if out is None else out.copy_(mean)
    low, high, t, one_minus_t = _linear_taps(n_in, n_out, dim, latent.device, latent.dtype)
    return _slerp_pairs(latent, low, high, t, one_minus_t, dim, out)


def _slerp_pairs(
    latent: Tensor,
    low: Tensor,
    high: Tensor,
    t: Tensor,
    one_minus_t: Tensor,
    dim: int,
    out: Tensor | None = None,
    pairs: _Pairs | None = None,
) -> Tensor:
    """Each output ``slerp(latent[low], latent[high], t)`` along ``dim`` (``high`` is ``low + 1``, or
    ``low`` at the last sample of ``latent``), into ``out`` when given; ``pairs``: ``latent``'s
    :class:`_Pairs` along ``dim`` when the caller keeps them across blocks."""
    pairs = pairs if pairs is not None else _Pairs(latent, dim)
    weight_a, weight_b = pairs.weights(low, t, one_minus_t, dim)
    if out is None:
        out = _take(latent, low, dim).mul_(weight_a)
    else:
        torch.mul(_take(latent, low, dim), weight_a, out=out)
    del weight_a
    return out.addcmul_(_take(latent, high, dim), weight_b)


#: Output pixels (per channel, all batch entries) of one block of rows, and the fewest blocks: the
#: per-pixel temporaries (angles, weights, the row-resized block) stay a fraction of the output
#: (peak about 1.5x input + output bytes). Each block costs ~100 small torch calls, so small images
#: take 3 blocks, not more (4 measured 1.6x slower at 64x64 → 128x128 on a CPU).
_BLOCK_PIXELS = 1 << 18
_MIN_BLOCKS = 3


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
    batch, channels, n_in, _ = latent.shape
    height, width = size
    # Rows in blocks, each resized along both axes before the next: the row-resized intermediate and
    # the per-pixel temporaries exist for one block at a time, never for the whole image.
    blocks = max(_MIN_BLOCKS, -(-batch * height * width // _BLOCK_PIXELS))
    rows = max(1, -(-height // blocks))
    out = latent.new_empty(batch, channels, height, width)
    if height <= n_in:  # shrinking or keeping the rows: one pass, then the columns block by block
        resized = _bislerp_axis(latent, height, dim=2)
        for start in range(0, height, rows):
            count = min(rows, height - start)
            _bislerp_axis(resized.narrow(2, start, count), width, 3, out.narrow(2, start, count))
        return out
    low, high, t, one_minus_t = _linear_taps(n_in, height, 2, latent.device, latent.dtype)
    pairs = _Pairs(latent, dim=2)  # four [B, 1, H, W] maps: the input's bytes at 4 channels
    for start in range(0, height, rows):
        count = min(rows, height - start)
        block_low, block_high = low[start : start + count], high[start : start + count]
        block_t, block_one_minus_t = t.narrow(2, start, count), one_minus_t.narrow(2, start, count)
        block = _slerp_pairs(latent, block_low, block_high, block_t, block_one_minus_t, 2, pairs=pairs)
        _bislerp_axis(block, width, 3, out.narrow(2, start, count))
    return out
