"""The shared vocabulary of the package: sizes, requests, results and method descriptors.

Kept apart from the rooms (methods, neural, schedules, host glue) so each can depend on it without
depending on the others.
"""

from __future__ import annotations

import math
import numbers
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
    "LATENT_DTYPES",
    "MAX_ELEMENTS",
    "MAX_SIDE",
    "Method",
    "ResizeFn",
    "Size",
    "UpscaleRequest",
    "UpscaleResult",
    "all_finite",
    "check_latent",
    "check_latent_magnitude",
    "check_output",
    "check_request",
    "frames_as_batch",
    "max_magnitude",
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
    #: Every output value is a weighted mean of input values with non-negative weights (nearest,
    #: bilinear, area) and the result is on the latent's device: it cannot leave the input's range,
    #: so a finite input whose magnitude leaves headroom gives a finite output that fits the input's
    #: dtype, and :func:`latent_upscale.upscale` skips the output check.
    convex: bool = False
    #: Every output value is a copy of one input value (torch's nearest modes): a finite input gives a
    #: finite output in its own dtype whatever its magnitude, so proving the input finite is enough.
    copies: bool = False
    #: Which weights a ``neural`` method asks for: ``"upscaler"`` (learned latent upscalers) or
    #: ``"autoencoder"`` (a tiny autoencoder for a round trip); see ``latent_upscale.neural.catalog``.
    weights_role: str = "upscaler"
    #: A short name for menus, e.g. the hires-fix entry "Latent (tiny VAE)"; empty: the id.
    short_label: str = ""
    #: ``run`` only wraps ``resize`` (one step naming the method and size), so
    #: :func:`latent_upscale.upscale`, which returns just the tensor, may call ``resize`` directly.
    run_is_resize: bool = False


#: dtypes a latent may have: what the hosts and ComfyUI use, and float64 for reference work. float8
#: and other exotic floats have no interpolation kernels (and no ``isfinite``) on most devices.
LATENT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)

#: The largest output side, in latent pixels (131072 image pixels at the usual 8x VAE factor): far
#: above what any WebUI produces (its sliders stop at 2048-8192 image pixels, hires fix at 4x) yet a
#: guard against a typo such as ``(100000, 100000)``, which would ask the allocator for ~160 GB.
MAX_SIDE = 16384
#: The largest output, in elements (batch x channels x frames x height x width): 2**31 - 1, the
#: largest 32-bit index, beyond which several torch kernels fail or fall back (8 GiB in float32).
MAX_ELEMENTS = 2**31 - 1


#: Latents whose finiteness is proved by one dot product (float32/float64 BLAS, which propagate NaN
#: and infinity), up to a size where one reduction's cost no longer matters beside the resize.
_DOT_DTYPES = (torch.float32, torch.float64)
_DOT_MAX_ELEMENTS = 2**24


def _dims(latent: Tensor) -> str:
    return "x".join(str(d) for d in latent.shape)


def frames_as_batch(latent: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]]:
    """A video latent ``[B, C, T, H, W]`` as the 4-D batch of its frames ``[B*T, C, H, W]``, and the
    function that restores a ``[B*T, C, h, w]`` result to ``[B, C, T, h, w]`` (contiguous).

    4-D latents pass through unchanged (a view, no copy); so does the restore.
    """
    if latent.dim() != 5:
        return latent, lambda out: out
    batch, frames = latent.shape[0], latent.shape[2]

    def restore(out: Tensor) -> Tensor:
        return out.unflatten(0, (batch, frames)).transpose(1, 2).contiguous()

    return latent.transpose(1, 2).flatten(0, 1), restore


def all_finite(tensor: Tensor) -> bool:
    """True when every value of ``tensor`` is finite, for a fraction of ``isfinite(t).all()``'s cost.

    The float32 (float64 for float64) sum is finite only if every term is (a NaN or an infinity
    propagates, ``inf - inf`` gives NaN), so a finite sum proves the tensor finite with one
    reduction and no input-sized temporary. A non-finite sum may also come from finite values that
    overflow when added (large bfloat16 or float32 values): only then is the full check run.
    """
    total = tensor.sum(dtype=torch.float64 if tensor.dtype == torch.float64 else torch.float32)
    if math.isfinite(total.item()):  # math on the Python float: torch.isfinite on a 0-d tensor costs more
        return True
    return bool(torch.isfinite(tensor).all())


def max_magnitude(tensor: Tensor) -> float:
    """The largest ``|value|`` of ``tensor`` as a Python float: NaN if any value is NaN, infinity if
    any is infinite (and none is NaN).

    One reduction with no input-sized temporary: ``torch.aminmax`` propagates NaN, and unlike a sum
    it cannot overflow on large finite values. ``tensor`` must not be empty.
    """
    low, high = torch.aminmax(tensor)
    low_value, high_value = low.item(), high.item()
    if math.isnan(low_value) or math.isnan(high_value):  # max() below would drop a second-place NaN
        return math.nan
    return max(-low_value, high_value)


def check_latent_magnitude(latent: object) -> float:
    """:func:`check_latent`'s checks; returns a finite bound on the latent's largest ``|value|``:
    that value itself, or for float32/float64 latents the Euclidean norm (never smaller).

    The bound comes from the same single pass that proves the latent finite, so callers can tell
    whether a :attr:`Method.convex` method's output needs a check of its own.
    """
    if not isinstance(latent, Tensor):
        raise LatentTypeError(f"latent must be a torch.Tensor, got {type(latent).__name__}")
    if latent.dim() not in (4, 5):
        raise LatentUpscaleError(
            f"latent must be 4-D [batch, channels, height, width] or 5-D [batch, channels, frames, "
            f"height, width], got {latent.dim()}-D with shape {tuple(latent.shape)}"
        )
    if latent.dtype not in LATENT_DTYPES:
        raise LatentTypeError(
            "latent must be floating point (float32, float16, bfloat16 or float64), got "
            f"{str(latent.dtype).removeprefix('torch.')}"
        )
    if latent.layout != torch.strided:
        raise LatentTypeError(f"latent must be a dense tensor, got layout {latent.layout}")
    if latent.is_meta:
        raise LatentUpscaleError(
            "latent is on the 'meta' device: it has a shape but no values; move real data to cpu or a GPU"
        )
    if latent.numel() == 0:
        raise LatentUpscaleError(f"latent is empty (shape {tuple(latent.shape)})")
    if latent.dtype in _DOT_DTYPES and latent.numel() <= _DOT_MAX_ELEMENTS and latent.is_contiguous():
        # Every call's path: one BLAS dot of the latent with itself (half aminmax's time at 64²,
        # under half at 128², one value to read back). Squares are never negative, so the sum is
        # finite exactly when every value is finite and it does not overflow; its root bounds
        # every |value|. NaN and infinity (and an overflow) fall through to the exact pass below.
        flat = latent.view(-1)
        energy = torch.dot(flat, flat).item()
        if math.isfinite(energy):
            return math.sqrt(energy)
    low, high = torch.aminmax(latent)  # max_magnitude, inlined
    low_value, high_value = low.item(), high.item()
    if not (math.isfinite(low_value) and math.isfinite(high_value)):
        bad = int((~torch.isfinite(latent)).sum())
        raise LatentUpscaleError(
            f"latent contains {bad} NaN or infinite value(s); refusing to resize it (a NaN latent "
            "usually means the VAE or the sampler overflowed in half precision)"
        )
    return max(-low_value, high_value)


def check_latent(latent: object) -> Tensor:
    """Reject anything that is not a finite floating-point ``[B, C, H, W]`` (or video
    ``[B, C, T, H, W]``) tensor in memory, with one clear message; returns ``latent``.

    Raises :class:`LatentTypeError` for a non-tensor or an unsupported dtype (integers, float8) and
    :class:`LatentUpscaleError` for a wrong rank, an empty, sparse or meta tensor, or NaN/inf values.
    """
    check_latent_magnitude(latent)
    return latent  # type: ignore[return-value]


def _real(value: object) -> float | None:
    """``value`` as a float if it is a real number (Python, numpy or 0-d torch), else None.

    Strings and booleans are not numbers here, even when ``float()`` would take them.
    """
    if type(value) in (int, float):  # the common case, before the slower ABC checks
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
        return None
    if isinstance(value, Tensor):
        if value.dim() != 0 or value.dtype == torch.bool or value.is_complex() or value.device.type == "meta":
            return None
        return float(value.item())
    if isinstance(value, numbers.Real) and not isinstance(value, (str, bytes)):
        return float(value)
    return None


def check_output(out: Tensor, like: Tensor, method_id: str) -> tuple[Tensor, str | None]:
    """``out`` in ``like``'s dtype and device, never with a NaN or an infinity.

    Values that are finite in the compute precision but beyond a half type's range (ringing of
    lanczos, bicubic or bislerp on large float16 latents overshoots 65504) are clamped to that
    type's largest finite value: the nearest value it can hold. Any other non-finite value is a
    fault of the method (or its network) and raises :class:`LatentUpscaleError`. Returns the tensor
    and a note when values were clamped. Costs one reduction when all is well (:func:`all_finite`).
    """
    cast = out
    if out.dtype != like.dtype or out.device != like.device:
        cast = out.to(device=like.device, dtype=like.dtype)
    if all_finite(cast):
        return cast, None
    if cast is not out and all_finite(out):
        info = torch.finfo(like.dtype)
        clamped = int(((out < info.min) | (out > info.max)).sum())
        cast = out.clamp(info.min, info.max).to(device=like.device, dtype=like.dtype)
        return cast, f"{clamped} value(s) beyond the {str(like.dtype).removeprefix('torch.')} range clamped"
    bad = int((~torch.isfinite(out)).sum())
    raise LatentUpscaleError(
        f"method {method_id!r} produced {bad} NaN or infinite value(s) from a finite latent; the result "
        "was discarded (for a neural method, the weights file may be damaged)",
        summary=f"{method_id} produced NaN/inf values",
    )


def _check_dimension(name: str, value: object) -> int:
    number = _real(value)
    if number is None or not math.isfinite(number) or not number.is_integer():
        raise LatentUpscaleError(f"size {name} must be a whole number of latent pixels, got {value!r}")
    if number <= 0:
        raise LatentUpscaleError(f"size {name} must be positive, got {value!r}")
    return int(number)


def _check_bounds(latent: Tensor, target: Size) -> Size:
    if max(target) > MAX_SIDE:
        raise LatentUpscaleError(
            f"target size {target[0]}x{target[1]} latent pixels exceeds the limit of {MAX_SIDE} a side "
            f"({MAX_SIDE * 8} image pixels); resize in steps or check the size/scale given"
        )
    shape = latent.shape
    elements = latent.numel() // (shape[-2] * shape[-1]) * target[0] * target[1]
    if elements > MAX_ELEMENTS:
        raise LatentUpscaleError(
            f"the output would hold {elements} values ({_dims(latent)} resized to {target[0]}x{target[1]}), "
            f"more than the limit of {MAX_ELEMENTS}; use a smaller batch or size"
        )
    return target


def resolve_size(latent: Tensor, size: object = None, scale: object = None) -> Size:
    """The target ``(height, width)``: given directly, or the latent's size times ``scale`` (rounded).

    Numbers may be Python, numpy or 0-d torch scalars; strings are refused. The target is bounded by
    :data:`MAX_SIDE` latent pixels a side and :data:`MAX_ELEMENTS` output values, checked before
    anything is allocated.
    """
    if scale is None and type(size) is tuple and len(size) == 2:
        height, width = size
        # The common call, plain ints: the same checks as below without the general number parsing.
        if type(height) is int and type(width) is int and 0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE:
            shape = latent.shape
            if latent.numel() // (shape[-2] * shape[-1]) * height * width <= MAX_ELEMENTS:
                return size  # type: ignore[return-value]
    if (size is None) == (scale is None):
        raise LatentUpscaleError("give exactly one of size=(height, width) or scale=")
    height, width = latent.shape[-2:]
    if scale is not None:
        if _real(scale) is not None:
            parts: tuple[object, ...] = (scale, scale)
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            parts = tuple(scale)
        else:
            raise LatentUpscaleError(f"scale must be a number or a (height, width) pair, got {scale!r}")
        scales = [_real(part) for part in parts]
        if not all(s is not None and math.isfinite(s) and s > 0 for s in scales):
            raise LatentUpscaleError(f"scale must be positive finite numbers, got {scale!r}")
        exact = (height * scales[0], width * scales[1])  # type: ignore[operator]
        if max(exact) > MAX_SIDE:  # before round(): a huge scale would overflow it
            raise LatentUpscaleError(
                f"scale {scale!r} asks for {exact[0]:.6g}x{exact[1]:.6g} latent pixels, beyond the limit of "
                f"{MAX_SIDE} latent pixels a side ({MAX_SIDE * 8} image pixels)"
            )
        return _check_bounds(latent, (max(1, round(exact[0])), max(1, round(exact[1]))))
    if not isinstance(size, (tuple, list, torch.Size)) or len(size) != 2:
        raise LatentUpscaleError(f"size must be a (height, width) pair of latent pixels, got {size!r}")
    target = (_check_dimension("height", size[0]), _check_dimension("width", size[1]))
    return _check_bounds(latent, target)


def check_request(request: UpscaleRequest) -> UpscaleRequest:
    """Catch typos and wrong types in family / latent space / weights / neural options, even for
    methods that do not use them."""
    family = request.family
    if family is not None and (not isinstance(family, str) or family not in FAMILIES):
        raise LatentUpscaleError(
            f"unknown model family {family!r}; expected one of: {', '.join(sorted(FAMILIES))} (or None)"
        )
    space = request.latent_space
    if not isinstance(space, LatentFormat) and (not isinstance(space, str) or space not in LATENT_SPACES):
        raise LatentUpscaleError(
            f"unknown latent space {space!r}; expected one of: {', '.join(LATENT_SPACES)}, or a LatentFormat"
        )
    weights = request.weights
    if weights is not None and not isinstance(weights, (str, PathLike)):
        raise LatentTypeError(
            f"weights must be a file path (str or os.PathLike) or None, got {type(weights).__name__}"
        )
    if request.neural is not None:
        from latent_upscale.neural.options import NeuralOptions  # light: torch only

        if not isinstance(request.neural, NeuralOptions):
            raise LatentTypeError(
                f"neural must be a NeuralOptions or None, got {type(request.neural).__name__} "
                f"({request.neural!r:.60})"
            )
    return request
