"""The cheap linear latent → RGB preview, and its least-squares inverse for building test latents.

The coefficients are those of the WebUI's "Approx cheap" live preview
(``modules/sd_vae_approx.py`` ``cheap_approximation``, from
https://discuss.huggingface.co/t/decoding-latents-to-rgb-without-upscaling/23204/2). They map a
*model-space* (scaled) 4-channel latent to RGB in [-1, 1]; no VAE is needed, so the demo and the
tests can show what an upscaled latent would look like.
"""

from __future__ import annotations

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_IDS, FAMILY_LIST, get_family

__all__ = ["PREVIEW_FAMILIES", "latent_to_rgb", "rgb_to_latent"]

#: Families with a linear preview, and their coefficients (from the family registry).
PREVIEW_FAMILIES = tuple(family.id for family in FAMILY_LIST if family.preview is not None)


def _coefficients(family: str, like: Tensor) -> Tensor:
    coefficients = get_family(family).preview if family in FAMILY_IDS else None
    if coefficients is None:
        raise LatentUpscaleError(
            f"no linear preview for family {family!r}; expected one of: {', '.join(PREVIEW_FAMILIES)}"
        )
    return torch.tensor(coefficients, dtype=torch.float32, device=like.device)


def latent_to_rgb(latent: Tensor, family: str = "sd1") -> Tensor:
    """``[..., 4, H, W]`` model-space latent → ``[..., 3, H, W]`` RGB in [0, 1] (clamped)."""
    coefficients = _coefficients(family, latent)
    rgb = torch.einsum("...lhw,lr->...rhw", latent.float(), coefficients)
    return (rgb * 0.5 + 0.5).clamp(0.0, 1.0)


def rgb_to_latent(rgb: Tensor, family: str = "sd1", detail: Tensor | None = None) -> Tensor:
    """``[..., 3, H, W]`` RGB in [0, 1] → a model-space latent whose preview is that image.

    The preview only sees 3 of the 4 latent directions; ``detail`` (``[..., H, W]``) fills the
    fourth, invisible one, so test latents have structure in every channel as real latents do.
    """
    coefficients = _coefficients(family, rgb)  # [4, 3]
    target = rgb.float() * 2.0 - 1.0
    inverse = torch.linalg.pinv(coefficients)  # [3, 4]: minimum-norm latent for each colour
    latent = torch.einsum("...rhw,rl->...lhw", target, inverse)
    if detail is not None:
        # The null space of the preview map: moving along it changes the latent, not the preview.
        null = torch.linalg.svd(coefficients.T).Vh[-1]
        latent = latent + detail.unsqueeze(-3) * null.view(4, 1, 1)
    return latent
