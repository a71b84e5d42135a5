"""What a ComfyUI latent is: its model family and how many image pixels one latent pixel covers.

Read from the objects ComfyUI passes between nodes, by attribute only (no ComfyUI import), in this
order: the latent dict's own ``downscale_ratio_spacial`` (newer ComfyUI writes it for latents whose
ratio is not 8); the ``MODEL``'s latent format (``model.model.latent_format``, a class of ComfyUI
``comfy/latent_formats.py``: its class name tells the family, its ``spacial_downscale_ratio`` the
ratio); the ``VAE`` (``comfy/sd.py`` ``VAE``: ``spacial_compression_encode()``, ``latent_channels``,
``latent_dim``); the family chosen on the node; else 8.

A VAE alone rarely tells the family: the SD 1.x and SDXL autoencoders have the same layout, and so
do SD3's and FLUX.1's, so only the 32-channel FLUX.2 and the 3-D 16-channel Wan 2.1 autoencoders
are recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_IDS

__all__ = ["AUTO", "FORMAT_FAMILIES", "LatentInfo", "describe_latent", "family_of_model", "latent_format_of"]

#: The family choice that reads the family from the MODEL or VAE.
AUTO = "auto"

#: ComfyUI latent format class (``comfy/latent_formats.py``) → our family. Exact class names only: a
#: subclass may change the channels (``Wan22(Wan21)`` has 48). ``SD15`` also serves SD 2.x (same
#: VAE); Chroma, HiDream and Lumina 2 use ``Flux``, Qwen-Image uses ``Wan21``; Playground 2.5 keeps
#: the SDXL autoencoder (its ``SDXL_Playground_2_5`` only changes the model-space statistics).
FORMAT_FAMILIES: dict[str, str] = {
    "SD15": "sd1",
    "SDXL": "sdxl",
    "SDXL_Playground_2_5": "sdxl",
    "SD3": "sd3",
    "Flux": "flux",
    "Flux2": "flux2",
    "Wan21": "wan",
}

#: FLUX.2 as ComfyUI holds it: 2×2 patches packed into 128 channels at 1/16 (``Flux2`` format).
_PACKED_FLUX2_CHANNELS = 128


@dataclass(frozen=True)
class LatentInfo:
    """The family (``None``: unknown) and spatial ratio of one latent, and where each was read."""

    family: str | None
    ratio: int
    family_source: str
    ratio_source: str


#: What a latent with no MODEL, no VAE, no ratio of its own and family "auto" is.
_NOTHING_TOLD = LatentInfo(None, 8, "unknown", "default")


def latent_format_of(model: Any) -> Any | None:
    """The ``MODEL``'s latent format object (``ModelPatcher.model.latent_format``), or None."""
    inner = getattr(model, "model", None)
    fmt = getattr(inner, "latent_format", None)
    if fmt is None and callable(getattr(model, "get_model_object", None)):
        try:
            fmt = model.get_model_object("latent_format")
        except (AttributeError, KeyError):
            fmt = None
    return fmt


def family_of_model(model: Any) -> str | None:
    """Our family id for a ``MODEL`` (None when there is none or its latent format is not ours)."""
    fmt = latent_format_of(model) if model is not None else None
    return None if fmt is None else FORMAT_FAMILIES.get(type(fmt).__name__)


def _positive_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):  # None: the common absent key, without an exception
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 and number == value else None


def _vae_ratio(vae: Any) -> int | None:
    compression = getattr(vae, "spacial_compression_encode", None)
    if callable(compression):
        try:
            return _positive_int(compression())
        except Exception:  # a third-party VAE object: fall back to the other sources
            return None
    return None


def _vae_family(vae: Any) -> str | None:
    channels, dims = getattr(vae, "latent_channels", None), getattr(vae, "latent_dim", 2)
    if channels == 32 and dims == 2:
        return "flux2"
    if channels == 16 and dims == 3:
        return "wan"
    return None


def describe_latent(
    latent: dict[str, Any], channels: int, chosen: str, model: Any = None, vae: Any = None
) -> LatentInfo:
    """The family and ratio of ``latent`` (a ComfyUI ``LATENT`` dict whose samples have ``channels``).

    ``chosen`` is the node's family input: :data:`AUTO` or a family id, which wins over detection.

    Raises:
        LatentUpscaleError: ``chosen`` is not a family id.
    """
    if chosen != AUTO and chosen not in FAMILY_IDS:
        raise LatentUpscaleError(
            f"unknown family {chosen!r}; expected auto or one of: {', '.join(FAMILY_IDS)}"
        )
    if chosen == AUTO and model is None and vae is None and latent.get("downscale_ratio_spacial") is None:
        return _NOTHING_TOLD  # the common interpolation call: nothing to read (microseconds per call)
    fmt = latent_format_of(model) if model is not None else None
    family, family_source = None, "unknown"
    if chosen != AUTO:
        family, family_source = chosen, "chosen"
    elif fmt is not None and type(fmt).__name__ in FORMAT_FAMILIES:
        family, family_source = FORMAT_FAMILIES[type(fmt).__name__], f"MODEL ({type(fmt).__name__})"
    elif vae is not None and _vae_family(vae) is not None:
        family, family_source = _vae_family(vae), "VAE"
    candidates = (
        (_positive_int(latent.get("downscale_ratio_spacial")), "latent"),
        (_positive_int(getattr(fmt, "spacial_downscale_ratio", None)) if fmt is not None else None, "MODEL"),
        (_vae_ratio(vae) if vae is not None else None, "VAE"),
        (16 if family == "flux2" and channels == _PACKED_FLUX2_CHANNELS else None, "packed FLUX.2"),
    )
    ratio, ratio_source = next(((r, s) for r, s in candidates if r is not None), (8, "default"))
    return LatentInfo(family, ratio, family_source, ratio_source)
