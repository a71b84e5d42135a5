"""The shared vocabulary of the package: sizes, requests, results and method descriptors.

Kept apart from the rooms (methods, neural, schedules, host glue) so each can depend on it without
depending on the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from latent_upscale.errors import LatentTypeError, LatentUpscaleError
from latent_upscale.latent_formats import FAMILIES, LATENT_SPACES, LatentFormat

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = [
    "Method",
    "ResizeFn",
    "Size",
    "UpscaleRequest",
    "UpscaleResult",
    "check_latent",
    "check_request",
    "resolve_size",
]

#: ``(height, width)`` in latent pixels.
Size = tuple[int, int]
#: A pure resizer: ``latent[B, C, H, W] → latent[B, C, height, width]``.
ResizeFn = Callable[[Tensor, Size], Tensor]


@dataclass(frozen=True)
class UpscaleRequest:
    """What a method may need beyond the tensor and the size. Interpolations ignore it."""

    family: str | None = None
    latent_space: str | LatentFormat = "scaled"
    weights: str | PathLike[str] | None = None
    neural: NeuralOptions | None = None


@dataclass(frozen=True)
class UpscaleResult:
    """A resized latent and an account of how it was made (for logs and the WebUI infotext)."""

    latent: Tensor
    method: str
    #: What ran, in order, e.g. ``("city96 v2.1 SDxl x2.0", "area → 96x128")``.
    steps: tuple[str, ...] = ()
    #: File name of the neural weights used, if any.
    weights: str | None = None
    #: Why a fallback was taken instead of the requested method, if one was.
    fallback: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """One entry of the method registry.

    ``id`` is stable: it is what the infotext, the HTTP API, XYZ plots and the CLI use.
    ``run`` does the work; interpolation methods also expose their pure ``resize`` function.
    """

    id: str
    label: str
    advice: str
    run: Callable[[Tensor, Size, UpscaleRequest], UpscaleResult]
    resize: ResizeFn | None = None
    #: Needs neural weights (and so a family and a latent convention).
    neural: bool = False


def check_latent(latent: object) -> Tensor:
    """Reject anything that is not a finite floating-point ``[B, C, H, W]`` tensor, with one clear message."""
    if not isinstance(latent, Tensor):
        raise LatentTypeError(f"latent must be a torch.Tensor, got {type(latent).__name__}")
    if latent.dim() != 4:
        raise LatentUpscaleError(
            f"latent must be 4-D [batch, channels, height, width], got {latent.dim()}-D with shape "
            f"{tuple(latent.shape)}"
        )
    if not latent.is_floating_point():
        raise LatentTypeError(
            f"latent must be floating point (float32, float16 or bfloat16), got {latent.dtype}"
        )
    if latent.numel() == 0:
        raise LatentUpscaleError(f"latent is empty (shape {tuple(latent.shape)})")
    if not bool(torch.isfinite(latent).all()):
        bad = int((~torch.isfinite(latent)).sum())
        raise LatentUpscaleError(
            f"latent contains {bad} NaN or infinite value(s); refusing to resize it (a NaN latent "
            "usually means the VAE or the sampler overflowed in half precision)"
        )
    return latent


def _check_dimension(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise LatentUpscaleError(f"size {name} must be a whole number of latent pixels, got {value!r}")
    if value <= 0:
        raise LatentUpscaleError(f"size {name} must be positive, got {value}")
    return value


def resolve_size(latent: Tensor, size: object = None, scale: object = None) -> Size:
    """The target ``(height, width)``: given directly, or the latent's size times ``scale`` (rounded)."""
    if (size is None) == (scale is None):
        raise LatentUpscaleError("give exactly one of size=(height, width) or scale=")
    height, width = latent.shape[-2:]
    if scale is not None:
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            scales = (float(scale), float(scale))
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            scales = (float(scale[0]), float(scale[1]))
        else:
            raise LatentUpscaleError(f"scale must be a number or a (height, width) pair, got {scale!r}")
        if not all(math.isfinite(s) and s > 0 for s in scales):
            raise LatentUpscaleError(f"scale must be positive and finite, got {scale!r}")
        return (max(1, round(height * scales[0])), max(1, round(width * scales[1])))
    if not isinstance(size, (tuple, list, torch.Size)) or len(size) != 2:
        raise LatentUpscaleError(f"size must be a (height, width) pair of latent pixels, got {size!r}")
    return (_check_dimension("height", size[0]), _check_dimension("width", size[1]))


def check_request(request: UpscaleRequest) -> UpscaleRequest:
    """Catch typos in family / latent space even for methods that do not use them."""
    if request.family is not None and request.family not in FAMILIES:
        raise LatentUpscaleError(
            f"unknown model family {request.family!r}; expected one of: {', '.join(sorted(FAMILIES))}"
        )
    space = request.latent_space
    if not isinstance(space, LatentFormat) and space not in LATENT_SPACES:
        raise LatentUpscaleError(
            f"unknown latent space {space!r}; expected one of: {', '.join(LATENT_SPACES)}"
        )
    return request
