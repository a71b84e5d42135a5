"""How a latent is held, and the one pair of conversions every method uses.

A family's latent may be held in more than one layout (:class:`HeldLayout`), told apart by the
channel count:

* **unpacked**: the VAE latent ``[B, C, H, W]`` at 1/``ratio`` of the image (FLUX.2: 32 channels at
  1/8), the layout our resizers and every network we run were written or trained for;
* **packed 2×2** (FLUX.2, ERNIE-Image): each 2×2 block of the unpacked latent stored as the channels of
  one pixel, ``[B, 4C, H/2, W/2]`` at 1/16. Forge Neo (``backend/patcher/vae.py``, ``is_flux2``: 128
  latent channels, ratio 16) and ComfyUI (``comfy/latent_formats.py`` ``Flux2``: ``latent_channels =
  128``, ``spacial_downscale_ratio = 16``) hold FLUX.2 latents this way.

The packing order is the hosts': packed channel ``4c + 2i + j`` holds unpacked channel ``c`` at row
offset ``i`` and column offset ``j``. Unpacking is ``reshape(B, C, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)``
→ ``[B, C, 2h, 2w]``, as ComfyUI's ``Flux2.latent_rgb_factors_reshape`` and its tiny-autoencoder wrapper
(``comfy/taesd/taesd.py`` ``TAESD.decode``) do, and Neo's ``modules/sd_vae_taesd.py``
``TAESDDecoder.forward``; packing is the inverse (``TAESD.encode``). A packed latent is resized unpacked
(:func:`unpack_2x2`, resize at twice the size, :func:`pack_2x2`): resizing the packed channels
directly blends unrelated positions of the 2×2 blocks (measured: ``bench quality``'s packed section).

Sizes of a packed latent are in held (packed) latent pixels. :func:`patch_alignment` is the multiple a
side must be for the family's denoiser (a DiT patchifies 2×2: an odd unpacked side fails, e.g. "can't
divide axis of length 91 into chunks of 2"); a packed side needs none, its unpacked side is even.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_IDS, Family, get_family

__all__ = [
    "HeldLayout",
    "align_side",
    "aligned_size",
    "held_layout",
    "megapixel_scale",
    "pack_2x2",
    "patch_alignment",
    "unpack_2x2",
]

log = logging.getLogger(__name__)

#: One megapixel, as ComfyUI's "megapixels" inputs count it (``comfy_extras/nodes_post_processing.py``
#: ``ImageScaleToTotalPixels``: ``megapixels * 1024 * 1024``).
MEGAPIXEL = 1024 * 1024


@dataclass(frozen=True)
class HeldLayout:
    """One layout a family's latent is held in."""

    family: Family
    channels: int
    #: True for the 2×2-packed layout (4× the channels at half the side).
    packed: bool

    @property
    def ratio(self) -> int:
        """Image pixels per held latent pixel (16 for packed FLUX.2)."""
        return self.family.ratio * (2 if self.packed else 1)

    @property
    def alignment(self) -> int:
        """The multiple (held latent pixels) a side must be for the family's denoiser."""
        return max(1, self.family.patch // (2 if self.packed else 1))

    @property
    def name(self) -> str:
        """``"packed 2×2"`` or ``"unpacked"``, for messages."""
        return "packed 2×2" if self.packed else "unpacked"


def _layouts_text(family: Family) -> str:
    parts = [f"{family.latent_channels} (the VAE latent at 1/{family.ratio})"]
    if family.packing == "2x2":
        parts.append(
            f"{4 * family.latent_channels} (packed 2×2 at 1/{2 * family.ratio}, as the hosts hold it)"
        )
    return " or ".join(parts)


@lru_cache(maxsize=128)  # every upscale with a family asks: a dict lookup after the first
def held_layout(family_id: str, channels: int) -> HeldLayout:
    """The layout of a ``channels``-channel latent of ``family_id``.

    Raises :class:`LatentUpscaleError` for an unknown family or a channel count none of the family's
    layouts has (naming the counts it accepts).
    """
    if family_id not in FAMILY_IDS:
        raise LatentUpscaleError(
            f"unknown model family {family_id!r}; expected one of: {', '.join(FAMILY_IDS)}"
        )
    family = get_family(family_id)
    if channels == family.latent_channels:
        return HeldLayout(family, channels, packed=False)
    if family.packing == "2x2" and channels == 4 * family.latent_channels:
        return HeldLayout(family, channels, packed=True)
    raise LatentUpscaleError(
        f"{family.label} latents have {_layouts_text(family)} channels, but this latent has {channels}; "
        "check the family (or the file)"
    )


def unpack_2x2(latent: Tensor) -> Tensor:
    """``[B, 4C, h, w]`` → ``[B, C, 2h, 2w]`` (a contiguous copy); the hosts' order (module docstring)."""
    batch, channels, height, width = latent.shape
    if channels % 4:
        raise LatentUpscaleError(f"a packed latent has a multiple of 4 channels, got {channels}")
    blocks = latent.reshape(batch, channels // 4, 2, 2, height, width).permute(0, 1, 4, 2, 5, 3)
    return blocks.reshape(batch, channels // 4, 2 * height, 2 * width)


def pack_2x2(latent: Tensor) -> Tensor:
    """``[B, C, H, W]`` → ``[B, 4C, H/2, W/2]`` (a contiguous copy), the inverse of :func:`unpack_2x2`.

    Raises :class:`LatentUpscaleError` when a side is odd (a packed latent holds whole 2×2 blocks).
    """
    batch, channels, height, width = latent.shape
    if height % 2 or width % 2:
        raise LatentUpscaleError(
            f"cannot pack a {height}x{width} latent 2×2: both sides must be even (a packed FLUX.2 latent "
            "holds whole 2×2 blocks); resize to an even size first"
        )
    blocks = latent.reshape(batch, channels, height // 2, 2, width // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return blocks.reshape(batch, 4 * channels, height // 2, width // 2)


def patch_alignment(family_id: str | None, channels: int) -> int:
    """The multiple a held latent side must be for the family's next pass (1 when unknown)."""
    if family_id is None or family_id not in FAMILY_IDS:
        return 1
    family = get_family(family_id)
    if channels not in family.channel_counts:
        return 1
    return held_layout(family_id, channels).alignment


def align_side(side: int, alignment: int) -> int:
    """``side`` rounded to the nearest multiple of ``alignment`` (halves up), at least ``alignment``."""
    return max(alignment, (side + alignment // 2) // alignment * alignment)


def aligned_size(size: tuple[int, int], alignment: int) -> tuple[int, int]:
    """Both sides rounded by :func:`align_side`."""
    return align_side(size[0], alignment), align_side(size[1], alignment)


def megapixel_scale(latent_size: tuple[int, int], megapixels: float, ratio: int = 8) -> float:
    """The factor that makes a ``latent_size`` latent (``ratio`` image pixels per latent pixel) decode
    to about ``megapixels`` × 1024² image pixels, keeping its aspect ratio.

    Raises :class:`LatentUpscaleError` for a non-positive or non-finite ``megapixels``.
    """
    if not isinstance(megapixels, (int, float)) or isinstance(megapixels, bool) or not 0 < megapixels < 1e6:
        raise LatentUpscaleError(f"megapixels must be a positive number (up to 1e6), got {megapixels!r}")
    pixels = latent_size[0] * latent_size[1] * ratio * ratio
    return (megapixels * MEGAPIXEL / pixels) ** 0.5
