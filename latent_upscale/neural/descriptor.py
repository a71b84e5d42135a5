"""The contract between an architecture module and the runner: what a loaded model is and can do.

Callers outside ``latent_upscale.neural`` read descriptors; only the runner touches ``model``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from torch import nn

from latent_upscale.families import FAMILY_LIST
from latent_upscale.latent_formats import LatentFormat

__all__ = ["VAE_GROUPS", "ModelDescriptor", "same_vae"]

#: Families that share one VAE (and so one raw latent space). SD 2.x kept SD 1.x's autoencoder.
VAE_GROUPS: dict[str, str] = {family.id: family.vae_group for family in FAMILY_LIST}


def same_vae(family_a: str, family_b: str) -> bool:
    """True when latents of the two families come from the same VAE (a model for one fits the other)."""
    return VAE_GROUPS.get(family_a, family_a) == VAE_GROUPS.get(family_b, family_b)


@dataclass(frozen=True, eq=False)
class ModelDescriptor:
    """A loaded latent upscaler and what it supports.

    Exactly one of ``factors`` (fixed scale factors, e.g. city96's 1.25/1.5/2.0) and ``scale_range``
    (any target size within ``[low, high]`` times the input, e.g. SesquiLSR 1-2) is set; for a
    fixed-factor file whose name does not say its factor, ``factors`` is empty until the caller
    supplies one. ``convention`` maps raw VAE latents to what the network was trained on.
    """

    arch: str
    name: str
    #: ``"1.0"``, ``"2.x"`` (``"2.1"`` once the file name says), ``"custom"``; ``""`` for projects
    #: that publish no versions.
    version: str
    family: str | None
    in_channels: int
    out_channels: int
    convention: LatentFormat
    factors: tuple[float, ...] = ()
    scale_range: tuple[float, float] | None = None
    supports_fp16: bool = True
    supports_bf16: bool = True
    #: The half type to use on accelerators when precision is ``auto``.
    preferred_half: str = "fp16"
    #: Input pixels on each side that influence an output pixel (for tile margins); ``None`` when
    #: some layer sees the whole image (normalisation, attention), so tiles only agree closely.
    receptive_radius: int | None = None
    #: Smallest input height/width the network accepts (reflect padding needs a few pixels).
    min_input_size: int = 1
    #: Automatic tiling kicks in when an output would exceed this many pixels (height × width).
    auto_tile_output_pixels: int = 1024 * 1024
    #: Run convolutions in channels-last memory format (faster on CPU oneDNN and tensor cores).
    channels_last: bool = True
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    model: nn.Module | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hyperparameters", MappingProxyType(dict(self.hyperparameters)))

    @property
    def is_fixed_factor(self) -> bool:
        """True for networks that only enlarge by set factors (the runner resamples the rest)."""
        return self.scale_range is None

    @property
    def label(self) -> str:
        """Human-readable, e.g. ``city96 v2.1 sdxl x1.5`` or ``SesquiLSR sdxl``."""
        parts = [self.name]
        if self.version and self.version != "custom":
            parts.append(f"v{self.version}")
        if self.family:
            parts.append(self.family)
        if self.factors and len(self.factors) == 1:
            parts.append(f"x{self.factors[0]:g}")
        return " ".join(parts)
