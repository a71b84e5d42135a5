"""The public entry points: :func:`upscale` (a tensor) and :func:`upscale_detailed` (a tensor plus
an account of what ran). All input checks live here, once, so every method can stay a plain function."""

from __future__ import annotations

import logging
from dataclasses import replace
from os import PathLike
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from latent_upscale.core import (
    UpscaleRequest,
    UpscaleResult,
    check_latent,
    check_output,
    check_request,
    frames_as_batch,
    resolve_size,
)
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.resize_methods import get_method, method_ids

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = ["DEFAULT_METHOD", "methods", "upscale", "upscale_detailed"]

log = logging.getLogger(__name__)

DEFAULT_METHOD = "bislerp"


def methods() -> list[str]:
    """Registered method ids in display order (what ``method=`` accepts)."""
    return method_ids()


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # Half kernels are missing or inexact on CPU for several modes; latents are small, so float32
    # everywhere costs little and makes every method agree across devices.
    return torch.float64 if dtype == torch.float64 else torch.float32


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
) -> UpscaleResult:
    """Resize ``latent`` and say how: the result carries the method that ran and its steps.

    Arguments and errors as :func:`upscale`. A step is added when values beyond a half type's range
    were clamped.
    """
    latent = check_latent(latent)
    target = resolve_size(latent, size, scale)
    chosen = get_method(method)
    request = check_request(
        UpscaleRequest(family=family, latent_space=latent_space, weights=weights, neural=neural)
    )
    if tuple(latent.shape[-2:]) == target:
        return UpscaleResult(latent=latent.clone(), method=chosen.id, steps=("same size: unchanged",))
    # A video latent [B, C, T, H, W] is resized frame by frame: its frames become the batch.
    flat, restore = frames_as_batch(latent)
    if chosen.neural:
        # Neural methods own their dtype/device policy (half precision on GPUs, conversions).
        result = chosen.run(flat, target, request)
    else:
        result = chosen.run(flat.to(_compute_dtype(flat.dtype)), target, request)
    out = result.latent
    if out.shape[:2] != flat.shape[:2] or tuple(out.shape[-2:]) != target:
        raise RuntimeError(
            f"method {chosen.id!r} returned shape {tuple(out.shape)}, expected {(*flat.shape[:2], *target)}"
        )
    out, note = check_output(out, flat, chosen.id)
    out = restore(out)
    if note is not None:
        log.debug("upscale: %s: %s", chosen.id, note)
    if out is not result.latent or note is not None:
        result = replace(result, latent=out, steps=(*result.steps, note) if note else result.steps)
    return result


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
) -> Tensor:
    """Resize a latent ``[B, C, H, W]`` to ``size=(height, width)`` latent pixels or by ``scale``.

    A video latent ``[B, C, T, H, W]`` is resized frame by frame and keeps its shape. ``size`` and
    ``scale`` take Python, numpy or 0-d torch numbers (``scale`` also a ``(height, width)`` pair);
    the target may not exceed :data:`~latent_upscale.core.MAX_SIDE` (16384) latent pixels a side or
    :data:`~latent_upscale.core.MAX_ELEMENTS` (2**31 - 1) values, refused before anything is
    allocated. The latent must be finite, float16/bfloat16/float32/float64, on a real device.
    ``family`` (``"sd1"``, ``"sdxl"``, … or None), ``latent_space`` (``"scaled"`` as the WebUI holds
    latents, ``"raw"`` VAE output as ComfyUI holds them, or an explicit :class:`LatentFormat`) and
    ``weights`` matter only for ``method="neural"``; every method accepts them. The result has the
    input's dtype and device and is always finite: values that only a half type cannot hold
    (ringing above 65504 in float16) are clamped to its largest finite value, and a method that
    produces NaN or infinity raises. Bad input raises :class:`~latent_upscale.errors.LatentUpscaleError`
    (a ``ValueError``) or :class:`~latent_upscale.errors.LatentTypeError` (also a ``TypeError``).

    >>> import torch
    >>> upscale(torch.zeros(1, 4, 64, 64), scale=1.5, method="lanczos").shape
    torch.Size([1, 4, 96, 96])
    """
    return upscale_detailed(
        latent,
        size,
        scale=scale,
        method=method,
        family=family,
        latent_space=latent_space,
        weights=weights,
        neural=neural,
    ).latent
