"""Latent conventions: how a model family's latents relate to raw VAE output.

The WebUI (A1111, Forge, reForge) holds latents in *model space*: ``(raw - shift) * scale``.
ComfyUI nodes, and the training data of every neural latent upscaler we support, use *raw* VAE
latents. Plain interpolation is linear and does not care; a neural network does, so the runner
converts with these formats on the way in and out.

Values are the ones the hosts use (see ``shared/docs/host-api.md`` §1 and §8); the WebUI glue reads
the real ones from the loaded model and builds a :class:`LatentFormat` from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "FAMILIES",
    "LATENT_SPACES",
    "LatentFormat",
    "family_format",
    "resolve_latent_format",
]

#: The two named latent spaces a caller may say its latent is in.
LATENT_SPACES = ("scaled", "raw")


@dataclass(frozen=True)
class LatentFormat:
    """Model space = ``(raw - shift) * scale``; ``shift``/``scale`` are scalars or per-channel."""

    scale: float | tuple[float, ...] = 1.0
    shift: float | tuple[float, ...] = 0.0

    def _as_tensor(self, value: float | Sequence[float], like: Tensor) -> Tensor | float:
        if isinstance(value, (int, float)):
            return float(value)
        values = torch.tensor(value, dtype=like.dtype, device=like.device)
        if values.numel() != like.shape[1]:
            raise LatentUpscaleError(
                f"latent format has {values.numel()} per-channel values but the latent has "
                f"{like.shape[1]} channels"
            )
        return values.view(1, -1, 1, 1)

    @property
    def is_identity(self) -> bool:
        """True when model space equals raw space (nothing to convert)."""
        return self.scale == 1.0 and self.shift == 0.0

    def to_raw(self, latent: Tensor) -> Tensor:
        """Model-space latent → raw VAE latent."""
        if self.is_identity:
            return latent
        return latent / self._as_tensor(self.scale, latent) + self._as_tensor(self.shift, latent)

    def from_raw(self, latent: Tensor) -> Tensor:
        """Raw VAE latent → model-space latent."""
        if self.is_identity:
            return latent
        return (latent - self._as_tensor(self.shift, latent)) * self._as_tensor(self.scale, latent)


#: Wan 2.1 VAE per-channel statistics (16 channels; also the VAE of Wan 2.2 14B and Qwen-Image).
#: Model space is ``(raw - mean) / std``. Values from ComfyUI ``comfy/latent_formats.py`` class ``Wan21``
#: (Comfy-Org/ComfyUI, commit 75399d78), identical to diffusers' ``AutoencoderKLWan`` config
#: ``latents_mean`` / ``latents_std``.
WAN21_LATENTS_MEAN = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)  # fmt: skip
WAN21_LATENTS_STD = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)  # fmt: skip

#: Model-space formats by family id. The scale factors come from the models' configs
#: (ldm v1-inference.yaml 0.18215, sgm SDXL 0.13025, SD3 1.5305/0.0609, Flux 0.3611/0.1159).
#: ``wan`` is per-channel (see above); ``flux2`` is the raw 32-channel Flux.2 VAE latent (the
#: 128-channel patchified, batch-normalised form its transformer sees is not supported).
FAMILIES: dict[str, LatentFormat] = {
    "sd1": LatentFormat(scale=0.18215),
    "sd2": LatentFormat(scale=0.18215),
    "sdxl": LatentFormat(scale=0.13025),
    "sd3": LatentFormat(scale=1.5305, shift=0.0609),
    "flux": LatentFormat(scale=0.3611, shift=0.1159),
    "wan": LatentFormat(scale=tuple(1.0 / std for std in WAN21_LATENTS_STD), shift=WAN21_LATENTS_MEAN),
    "flux2": LatentFormat(),
}


def family_format(family: str) -> LatentFormat:
    """The default model-space format of a family, or a clear error listing the known families."""
    try:
        return FAMILIES[family]
    except KeyError:
        known = ", ".join(sorted(FAMILIES))
        raise LatentUpscaleError(f"unknown model family {family!r}; expected one of: {known}") from None


def resolve_latent_format(latent_space: str | LatentFormat, family: str | None) -> LatentFormat:
    """Turn the caller's ``latent_space`` into the format that maps its latent to raw space.

    ``"raw"`` needs no conversion; ``"scaled"`` uses the family's model-space format (and so needs a
    family); an explicit :class:`LatentFormat` (what the WebUI reads from its model) wins.
    """
    if isinstance(latent_space, LatentFormat):
        return latent_space
    if latent_space == "raw":
        return LatentFormat()
    if latent_space == "scaled":
        if family is None:
            raise LatentUpscaleError(
                "a 'scaled' (model-space) latent needs its model family to convert it; pass "
                f"family= one of {', '.join(sorted(FAMILIES))}, or latent_space='raw'"
            )
        return family_format(family)
    raise LatentUpscaleError(
        f"unknown latent space {latent_space!r}; expected one of: {', '.join(LATENT_SPACES)} "
        "or a LatentFormat"
    )
