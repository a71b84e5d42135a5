"""The public entry points: :func:`upscale` (a tensor) and :func:`upscale_detailed` (a tensor plus
an account of what ran). All input checks live here, once, so every method can stay a plain function."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from os import PathLike
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from latent_upscale.core import (
    _DOT_MAX_ELEMENTS,
    LATENT_DTYPES,
    MAX_ELEMENTS,
    MAX_SIDE,
    Method,
    UpscaleRequest,
    UpscaleResult,
    check_latent_magnitude,
    check_output,
    check_request,
    frames_as_batch,
    resolve_size,
)
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.latent_layouts import (
    HeldLayout,
    aligned_size,
    held_layout,
    megapixel_scale,
    pack_2x2,
    unpack_2x2,
)
from latent_upscale.resize_methods import get_method, method_ids, torch_mode_methods

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = ["DEFAULT_METHOD", "methods", "upscale", "upscale_detailed"]

log = logging.getLogger(__name__)

#: The interpolation with the best mean perceptual score (HaarPSI) at 2× on real photographs in
#: ``assets/quality-results.json`` (``python -m latent_upscale bench quality``); a test keeps the two in
#: step. It is the WebUI's own bilinear: measured, no other interpolation beats it, and only the learned
#: methods (``tae``, ``neural``) do, by a wide margin.
DEFAULT_METHOD = "bilinear"


def methods() -> list[str]:
    """Registered method ids in display order (what ``method=`` accepts)."""
    return method_ids()


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # Half kernels are missing or inexact on CPU for several modes; latents are small, so float32
    # everywhere costs little and makes every method agree across devices.
    return torch.float64 if dtype == torch.float64 else torch.float32


#: The largest input magnitude for which a convex method's output needs no check, per input dtype:
#: a convex combination never exceeds the input's magnitude, and even a kernel that sums before it
#: divides (area) adds at most MAX_ELEMENTS terms, so its partial sums stay finite in the compute
#: dtype; the result then fits the input's dtype, which held every input value. Real latents
#: (|value| < 100) are far below every bound; only absurd float32/float64 values take the full check.
_CONVEX_SAFE_MAGNITUDE = {
    dtype: min(torch.finfo(dtype).max, torch.finfo(_compute_dtype(dtype)).max / (2 * MAX_ELEMENTS))
    for dtype in LATENT_DTYPES
}
_DEFAULT_REQUEST = UpscaleRequest()
#: Input dtypes interpolations compute in as they are (the others in float32, see _compute_dtype).
_NATIVE = frozenset(dtype for dtype in LATENT_DTYPES if _compute_dtype(dtype) == dtype)


def upscale_detailed(
    latent: Tensor,
    size: tuple[int, int] | None = None,
    *,
    scale: float | tuple[float, float] | None = None,
    method: str = DEFAULT_METHOD,
    family: str | None = None,
    latent_space: str | LatentFormat = "scaled",
    weights: str | PathLike[str] | None = None,
    neural: NeuralOptions | None = None,
    megapixels: float | None = None,
) -> UpscaleResult:
    """Resize ``latent`` and say how: the result carries the method that ran and its steps.

    Arguments and errors as :func:`upscale`. A step is added when values beyond a half type's range
    were clamped, when a packed latent was unpacked and packed again, and when a size was rounded to
    (or breaks) the family's patch alignment.
    """
    result = _upscale(
        latent, size, scale, method, family, latent_space, weights, neural, megapixels, tensor_only=False
    )
    assert isinstance(result, UpscaleResult)
    return result


def _upscale(
    latent: Tensor,
    size: tuple[int, int] | None,
    scale: float | tuple[float, float] | None,
    method: str,
    family: str | None,
    latent_space: str | LatentFormat,
    weights: str | PathLike[str] | None,
    neural: NeuralOptions | None,
    megapixels: float | None = None,
    *,
    tensor_only: bool,
) -> UpscaleResult | Tensor:
    """:func:`upscale_detailed`; with ``tensor_only``, the common call (an interpolation with the
    default request on a 4-D latent) returns just the tensor, without building the account nobody
    reads (a tenth of a 64² nearest call). The same checks in the same order either way."""
    magnitude = check_latent_magnitude(latent)
    if megapixels is not None:
        scale = _megapixel_scale(latent, size, scale, megapixels, family)
    height, width = target = resolve_size(latent, size, scale)
    chosen = get_method(method)
    default = (
        family is None
        and weights is None
        and neural is None
        and latent_space.__class__ is str
        and latent_space == "scaled"
    )
    shape = latent.shape
    same_size = shape[-2] == height and shape[-1] == width
    if tensor_only and default and chosen.run_is_resize and chosen.resize is not None and len(shape) == 4:
        if same_size:
            return latent.clone()
        work = latent if latent.dtype in _NATIVE else latent.float()
        return _finish(chosen.resize(work, target), latent, target, chosen, magnitude)[0]
    if default:
        request = _DEFAULT_REQUEST  # the defaults: nothing to check
    else:
        request = check_request(
            UpscaleRequest(family=family, latent_space=latent_space, weights=weights, neural=neural)
        )
    layout = held_layout(family, shape[1]) if family is not None else None
    size_note = None
    if layout is not None and layout.alignment > 1:
        target, size_note = _align(target, layout, derived=size is None)
        height, width = target
        same_size = shape[-2] == height and shape[-1] == width
    if same_size:
        return UpscaleResult(latent=latent.clone(), method=chosen.id, steps=("same size: unchanged",))
    # A video latent [B, C, T, H, W] is resized frame by frame: its frames become the batch.
    flat, restore = frames_as_batch(latent) if len(shape) == 5 else (latent, None)
    packed = layout is not None and layout.packed
    work_target = target
    if packed:  # resized as the VAE latent it packs, then packed again (latent_layouts)
        flat, work_target = unpack_2x2(flat), (2 * height, 2 * width)
    dtype = flat.dtype
    if chosen.neural:
        # Neural methods own their dtype/device policy (half precision on GPUs, conversions).
        result = chosen.run(flat, work_target, request)
    else:
        result = chosen.run(flat if dtype in _NATIVE else flat.float(), work_target, request)
    out, note = _finish(result.latent, flat, work_target, chosen, magnitude)
    steps = result.steps
    if packed:
        out = pack_2x2(out)
        steps = (f"unpacked 2×2 ({shape[1]} → {shape[1] // 4} channels)", *steps, "packed 2×2 again")
    if size_note is not None or note is not None:
        steps = (*steps, *[step for step in (size_note, note) if step is not None])
    if restore is not None:
        out = restore(out)
    if out is not result.latent or steps is not result.steps:
        result = replace(result, latent=out, steps=steps)
    return result


#: (family, derived or explicit) pairs already said in the log: the rounding is said once.
_SAID: set[tuple[str, bool]] = set()


def _align(
    target: tuple[int, int], layout: HeldLayout, *, derived: bool
) -> tuple[tuple[int, int], str | None]:
    """A factor-derived target rounded to the layout's patch alignment; an explicit one kept, with a
    warning when it breaks the alignment. Returns the target and the step that says what happened."""
    step = layout.alignment
    if target[0] % step == 0 and target[1] % step == 0:
        return target, None
    label = layout.family.label
    if derived:
        aligned = aligned_size(target, step)
        message = (
            f"size {target[0]}x{target[1]} rounded to {aligned[0]}x{aligned[1]} latent px "
            f"(a multiple of {step}: {label}'s patch size)"
        )
        if (layout.family.id, True) not in _SAID:
            _SAID.add((layout.family.id, True))
            log.info("upscale: %s", message)
        return aligned, message
    message = (
        f"size {target[0]}x{target[1]} is not a multiple of {step} latent px: {label}'s next pass "
        "patchifies 2×2 and may refuse it"
    )
    if (layout.family.id, False) not in _SAID:
        _SAID.add((layout.family.id, False))
        log.warning("upscale: %s", message)
    return target, message


def _megapixel_scale(
    latent: Tensor, size: object, scale: object, megapixels: float, family: str | None
) -> float:
    if size is not None or scale is not None:
        raise LatentUpscaleError("give exactly one of size=(height, width), scale= or megapixels=")
    ratio = held_layout(family, latent.shape[1]).ratio if family is not None else 8
    return megapixel_scale((latent.shape[-2], latent.shape[-1]), megapixels, ratio)


def _finish(
    out: Tensor, flat: Tensor, target: tuple[int, int], chosen: Method, magnitude: float
) -> tuple[Tensor, str | None]:
    """The method's output checked: its shape, then finite and within the input dtype's range
    (clamped where only a half type overflows, with a note), in the input's dtype."""
    expected = (flat.shape[0], flat.shape[1], *target)
    if out.shape != expected:
        raise RuntimeError(f"method {chosen.id!r} returned shape {tuple(out.shape)}, expected {expected}")
    dtype = flat.dtype
    if chosen.copies or (chosen.convex and magnitude <= _CONVEX_SAFE_MAGNITUDE[dtype]):
        # Finite and within the dtype's range by construction (see _CONVEX_SAFE_MAGNITUDE; copies of
        # a finite latent's values at any magnitude): the common path of torch's modes skips a pass
        # over the output. Such methods are torch kernels on the latent's own device; only the
        # compute dtype can differ.
        return (out if out.dtype == dtype else out.to(dtype)), None
    out, note = check_output(out, flat, chosen.id)
    if note is not None:
        log.debug("upscale: %s: %s", chosen.id, note)
    return out, note


def upscale(
    latent: Tensor,
    size: tuple[int, int] | None = None,
    *,
    scale: float | tuple[float, float] | None = None,
    method: str = DEFAULT_METHOD,
    family: str | None = None,
    latent_space: str | LatentFormat = "scaled",
    weights: str | PathLike[str] | None = None,
    neural: NeuralOptions | None = None,
    megapixels: float | None = None,
) -> Tensor:
    """Resize a latent ``[B, C, H, W]`` to ``size=(height, width)`` latent pixels or by ``scale``.

    A video latent ``[B, C, T, H, W]`` is resized frame by frame and keeps its shape. ``size`` and
    ``scale`` take Python, numpy or 0-d torch numbers (``scale`` also a ``(height, width)`` pair);
    the target may not exceed :data:`~latent_upscale.core.MAX_SIDE` (16384) latent pixels a side or
    :data:`~latent_upscale.core.MAX_ELEMENTS` (2**31 - 1) values, refused before anything is
    allocated. The latent must be finite, float16/bfloat16/float32/float64, on a real device.
    ``megapixels`` instead asks for about that many × 1024² image pixels, keeping the aspect ratio.
    ``family`` (``"sd1"``, ``"sdxl"``, ``"flux2"``, … or None; :data:`~latent_upscale.families.FAMILY_IDS`)
    says how the latent is held: its channel count must be one of the family's layouts (FLUX.2: 32,
    the VAE latent, or 128, packed 2×2 at 1/16 as Forge Neo and ComfyUI hold it; a packed latent is
    unpacked, resized at twice the size and packed again, and ``size`` is in packed latent pixels),
    and a size derived from ``scale`` or ``megapixels`` is rounded to the family's patch alignment
    (2 latent px for the DiTs; said in the result's steps and once in the log; an explicit ``size``
    that breaks it is kept, with a warning). ``latent_space`` (``"scaled"`` as the WebUI holds
    latents, ``"raw"`` VAE output as ComfyUI holds them, or an explicit :class:`LatentFormat`) and
    ``weights`` matter only for the learned methods; every method accepts them. The result has the
    input's dtype and device and is always finite: values that only a half type cannot hold
    (ringing above 65504 in float16) are clamped to its largest finite value, and a method that
    produces NaN or infinity raises. Bad input raises :class:`~latent_upscale.errors.LatentUpscaleError`
    (a ``ValueError``) or :class:`~latent_upscale.errors.LatentTypeError` (also a ``TypeError``).

    >>> import torch
    >>> upscale(torch.zeros(1, 4, 64, 64), scale=1.5, method="lanczos").shape
    torch.Size([1, 4, 96, 96])
    """
    if (
        scale is family is weights is neural is megapixels is None
        and size.__class__ is tuple
        and (latent_space is _SCALED or (latent_space.__class__ is str and latent_space == _SCALED))
    ):
        # The common call, a torch mode on a float32/float64 latent [B, C, H, W] in memory resized to
        # a (height, width) of ints, in as few steps as its checks allow: a 64² nearest call costs
        # about 25 µs on a CPU, and 5 % of it is the whole budget of this function. The checks are
        # those of check_latent_magnitude and resolve_size; torch's kernels return the size asked
        # for in the input's dtype. Anything else (a NaN included) goes to the general path, which
        # checks, and refuses, it as before and in the same order: this changes no outcome.
        try:
            resize, bounded, checked = _TORCH_MODES[method]
            height, width = size
            batch, channels, rows, cols = latent.shape
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # not a torch mode, not a pair, not a 4-D tensor
        else:
            dtype = latent.dtype
            planes = batch * channels
            if (
                (dtype is _FLOAT32 or dtype is _FLOAT64)
                and height.__class__ is int
                and width.__class__ is int
                and 0 < height <= MAX_SIDE
                and 0 < width <= MAX_SIDE
                and (height != rows or width != cols)
                and 0 < planes * rows * cols <= _DOT_MAX_ELEMENTS
                and planes * height * width <= MAX_ELEMENTS
                and latent.layout is _STRIDED
                and not latent.is_meta  # a torch dtype, layout and device: a tensor
                # Copies need only finite values: a sum is finite only if every value is (NaN and
                # infinity propagate, inf - inf is NaN). A convex mean also needs the magnitude
                # bound (_CONVEX_SAFE_MAGNITUDE): the Euclidean norm is at least every |value| and
                # is NaN or infinite when one is. Either failing (or overflowing) goes on below.
                and (
                    _norm(latent).item() <= _CONVEX_SAFE_MAGNITUDE[dtype]
                    if bounded
                    else math.isfinite(_sum(latent).item())
                )
            ):
                out = resize(latent, size)
                return check_output(out, latent, method)[0] if checked else out
    result = _upscale(
        latent, size, scale, method, family, latent_space, weights, neural, megapixels, tensor_only=True
    )
    return result if isinstance(result, Tensor) else result.latent


_FLOAT32, _FLOAT64, _STRIDED, _SCALED = torch.float32, torch.float64, torch.strided, "scaled"
# The functions, not the methods: measurably fewer steps per call. The norm is ATen's own reduction
# (a BLAS dot product would start MKL's threads, which then spin beside ATen's on two threads).
_sum, _norm = torch.sum, torch.linalg.vector_norm
#: Torch's modes of the registry (their kernels return the size asked for, in a float32/float64
#: input's dtype): id → (resize, whether the input's magnitude must be bounded, whether the output
#: is checked). Copies of finite values need neither; a convex mean needs the bound
#: (_CONVEX_SAFE_MAGNITUDE); bicubic, which overshoots, has its output checked (check_output).
_TORCH_MODES = {
    m.id: (m.resize, m.convex and not m.copies, not (m.convex or m.copies))
    for m in torch_mode_methods()
    if m.run_is_resize
}
