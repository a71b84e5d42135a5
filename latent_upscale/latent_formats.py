"""Latent conventions: how a model family's latents relate to raw VAE output.

The WebUI (A1111, Forge, reForge) holds latents in *model space*: ``(raw - shift) * scale``.
ComfyUI nodes, and the training data of every neural latent upscaler we support, use *raw* VAE
latents. Plain interpolation is linear and does not care; a neural network does, so the runner
converts with these formats on the way in and out.

Values are the ones the hosts use (``latent_upscale/webui/HOST_SEAMS.md`` §1 and §8); the WebUI glue reads
the real ones from the loaded model and builds a :class:`LatentFormat` from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_LIST, WAN21_LATENTS_MEAN, WAN21_LATENTS_STD

__all__ = [
    "FAMILIES",
    "LATENT_SPACES",
    "WAN21_LATENTS_MEAN",
    "WAN21_LATENTS_STD",
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


#: Model-space formats by family id, built from the family registry (:mod:`latent_upscale.families`,
#: which cites every value). The Wan, Qwen-Image 2.1 and Wan 2.2-5B formats are per channel (of the
#: unpacked latent); FLUX.2's is the identity, so its packed and unpacked layouts need no conversion.
FAMILIES: dict[str, LatentFormat] = {
    family.id: LatentFormat(scale=family.scale, shift=family.shift) for family in FAMILY_LIST
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
