"""The contract between an architecture module and the runner: what a loaded model is and can do.

An architecture's ``load`` returns a :class:`ModelDescriptor`; the runner only ever calls it
(``descriptor(latent, size, grid=…, factor=…)``) and reads its fields (scales served, channels,
tile exactness, half-precision support), so it never names an architecture. Callers outside
``latent_upscale.neural`` read descriptors; only the descriptor's ``forward`` touches ``model``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_LIST
from latent_upscale.latent_formats import LatentFormat

__all__ = ["VAE_GROUPS", "Forward", "ModelDescriptor", "same_vae"]

#: ``forward(model, latent[B, C, H, W], (height, width), grid, factor) → latent[B, C', height,
#: width]``: one network pass in the network's own latent convention. ``grid`` places a tile in the
#: whole image (``None`` untiled); ``factor`` is the scale of a fixed-factor network (``None`` for
#: any-scale networks). Written by each architecture module.
Forward = Callable[[nn.Module, Tensor, tuple[int, int], Any, "float | None"], Tensor]

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
    #: Input pixels trusted inside a tile edge when tiles are inexact (``receptive_radius`` is
    #: ``None``); ``None``: the runner's default of a few pixels. Wider margins cost more overlap.
    tile_margin: int | None = None
    #: Shrink tiles to equal lengths just long enough for their count (less overlap: less time and
    #: memory) rather than keep full-size tiles with more context each. ``None``: only when tiles
    #: are exact (``receptive_radius`` set); an inexact network may opt in when its local context
    #: dominates (see :func:`~latent_upscale.neural.tiling.plan_axis`).
    balanced_tiles: bool | None = None
    #: Smallest input height/width the network accepts (reflect padding needs a few pixels).
    min_input_size: int = 1
    #: Automatic tiling kicks in when an output would exceed this many pixels (height × width).
    auto_tile_output_pixels: int = 1024 * 1024
    #: Run convolutions in channels-last memory format (faster on CPU oneDNN and tensor cores).
    channels_last: bool = True
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    model: nn.Module | None = field(default=None, repr=False)
    #: The architecture's one uniform call (see :data:`Forward`); the runner calls the descriptor.
    forward: Forward | None = field(default=None, repr=False)
    #: Largest ``‖tiled − untiled‖ / ‖untiled‖`` the architecture promises for tiled runs (float
    #: rounding only when tiles are exact; GroupNorm or attention make them inexact).
    tile_tolerance: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hyperparameters", MappingProxyType(dict(self.hyperparameters)))

    def __call__(
        self, latent: Tensor, size: tuple[int, int], *, grid: Any = None, factor: float | None = None
    ) -> Tensor:
        """Run the network once: ``latent[B, C, H, W]`` → ``[B, C, *size]`` (its own convention,
        its dtype). ``factor`` defaults to the descriptor's only factor for fixed-factor networks."""
        if self.model is None or self.forward is None:
            raise LatentUpscaleError(f"{self.label}: this descriptor holds no runnable model")
        if factor is None and self.is_fixed_factor and len(self.factors) == 1:
            factor = self.factors[0]
        if self.channels_last and latent.device.type in ("cpu", "cuda") and latent.dim() == 4:
            latent = latent.contiguous(memory_format=torch.channels_last)
        return self.forward(self.model, latent, size, grid, factor)

    @property
    def tiles_exact(self) -> bool:
        """True when tiled runs equal the untiled run up to float rounding (finite receptive field)."""
        return self.receptive_radius is not None

    @property
    def balances_tiles(self) -> bool:
        """Whether the runner plans equal, just-long-enough tiles (see :attr:`balanced_tiles`)."""
        return self.tiles_exact if self.balanced_tiles is None else self.balanced_tiles

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
