"""The target size of the Latent Upscale node: by scale factor, by width × height, or by megapixels.

Pure arithmetic on image pixels and latent pixels, with no ComfyUI import. A latent pixel covers
``ratio`` image pixels a side: 8 for the SD/SDXL/SD3/FLUX.1/Wan 2.1 VAEs, 16 for the packed FLUX.2
latent and Wan 2.2 (ComfyUI ``comfy/latent_formats.py``, ``LatentFormat.spacial_downscale_ratio``).

Every size is rounded to a multiple of the *alignment* in image pixels; the alignment used is the
least common multiple of the chosen one (8, 16, 32 or 64) and ``ratio``, so the result is always a
whole number of latent pixels. Rounding is to the nearest multiple (ties to even, as Python's ``round``
and ComfyUI's ``LatentUpscaleBy``), never below one step.
"""

from __future__ import annotations

import math

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "ALIGNMENTS",
    "MAX_RESOLUTION",
    "MEGAPIXEL",
    "SIZE_MODES",
    "alignment_in_latent_pixels",
    "target_latent_size",
]

#: How the node is told the target size (the ``size_by`` input).
SIZE_MODES = ("scale_by", "width_height", "megapixels")
#: Alignments in image pixels the node offers (the ``align`` input).
ALIGNMENTS = ("8", "16", "32", "64")
#: ComfyUI's largest image side (``nodes.MAX_RESOLUTION``), the ``max`` of the width/height inputs.
MAX_RESOLUTION = 16384
#: One "megapixel" as ComfyUI's ``ImageScaleToTotalPixels`` counts it: 1024 × 1024 pixels.
MEGAPIXEL = 1024 * 1024


def alignment_in_latent_pixels(align: int, ratio: int) -> int:
    """The step of the target size in latent pixels: ``lcm(align, ratio) / ratio``."""
    if align < 1 or ratio < 1:
        raise LatentUpscaleError(f"alignment and spatial ratio must be positive, got {align} and {ratio}")
    return math.lcm(align, ratio) // ratio


#: The step for the node's alignments and the usual spatial ratios, precomputed.
_ALIGNMENT_STEPS = {
    (align, ratio): alignment_in_latent_pixels(align, ratio) for align in (8, 16, 32, 64) for ratio in (8, 16)
}


def _steps(latent_pixels: float, step: int) -> int:
    """Latent pixels rounded to the nearest multiple of ``step`` (at least one step)."""
    return max(1, round(latent_pixels / step)) * step


def target_latent_size(
    source: tuple[int, int],
    ratio: int,
    mode: str,
    *,
    scale_by: float = 1.0,
    width: int = 0,
    height: int = 0,
    megapixels: float = 1.0,
    align: int = 8,
) -> tuple[int, int]:
    """The ``(height, width)`` in latent pixels to resize a latent of ``source`` latent pixels to.

    ``mode`` is one of :data:`SIZE_MODES`: ``scale_by`` multiplies both sides; ``width_height`` asks for
    ``width`` × ``height`` image pixels (one of them 0: that side follows the aspect ratio; both 0:
    the source size); ``megapixels`` keeps the aspect ratio at ``megapixels`` × 1024² image pixels.
    With an alignment of 8 and ``ratio`` 8, ``scale_by`` gives exactly ComfyUI's ``LatentUpscaleBy``
    size (``round(side * scale_by)``).

    Raises:
        LatentUpscaleError: an unknown mode, or a scale, size or megapixel count that is not positive
            and finite.
    """
    src_h, src_w = source
    step = _ALIGNMENT_STEPS.get((align, ratio)) or alignment_in_latent_pixels(align, ratio)
    if mode == "scale_by":  # every node call of an interpolation: arithmetic inline (microseconds count)
        if not (math.isfinite(scale_by) and scale_by > 0):
            raise LatentUpscaleError(f"scale_by must be a positive number, got {scale_by}")
        return max(1, round(src_h * scale_by / step)) * step, max(1, round(src_w * scale_by / step)) * step
    if mode == "width_height":
        if width < 0 or height < 0:
            raise LatentUpscaleError(f"width and height must not be negative, got {width}×{height}")
        if width == 0 and height == 0:
            return src_h, src_w
        if width == 0:
            width = round(height * src_w / src_h)
        elif height == 0:
            height = round(width * src_h / src_w)
        return _steps(height / ratio, step), _steps(width / ratio, step)
    if mode == "megapixels":
        if not (math.isfinite(megapixels) and megapixels > 0):
            raise LatentUpscaleError(f"megapixels must be a positive number, got {megapixels}")
        pixels = megapixels * MEGAPIXEL
        aspect = src_w / src_h
        height_px, width_px = math.sqrt(pixels / aspect), math.sqrt(pixels * aspect)
        return _steps(height_px / ratio, step), _steps(width_px / ratio, step)
    raise LatentUpscaleError(f"unknown size_by {mode!r}; expected one of: {', '.join(SIZE_MODES)}")
