"""The latents the newer tiny autoencoders take: each family's *normalised* latent, its model space.

**TAEW2.1** (madebyollin/taehv, the TAEHV layout; Wan 2.1, Wan 2.2-14B, Qwen-Image and Anima share the
Wan 2.1 VAE). The taehv README: "TAEHV does not use any latent scales / shifts (TAEHV encodes /
decodes exactly what diffusion models use), whereas Diffusers requires explicitly applying a
``latents_mean`` and ``latents_std`` each time you encode or decode". What the Wan DiT sees is
``(raw − mean) / std`` per channel (the Wan repository's ``WanVAE`` normalises inside its wrapper;
ComfyUI's ``Wan21`` latent format does it in ``process_in``), so we take TAEW2.1 latents as that
model space: a WebUI/Neo latent (model space) goes in unchanged, a ComfyUI latent (raw) is normalised
first. ComfyUI's own previewer agrees (it decodes the sampler's model-space ``x0`` with its TAEHV-layout
``lighttaew2_1`` and no conversion); its ``VAELoader`` path for ``lighttaew2_1`` (``comfy/sd.py``,
``latent_format=None``) feeds the raw latent instead, which disagrees with the README: we follow the
README. Not measured here: no TAEHV weights are on this machine.

**TAEQI2.1** (madebyollin/taesd, the 16× layout, 64 channels, RGBA). ``taesd.py`` applies no scale;
ComfyUI's ``QwenImage21`` latent format names ``taeqi2_1_decoder`` as the previewer of its model-space
``x0``; the Diffusers release of TAEQI2.1 declares ``latents_mean`` 0 and ``latents_std`` 1 (the latent
is already normalised). So its latent is Qwen-Image 2.1's model space, ``(raw − mean) / std``.
"""

from __future__ import annotations

from latent_upscale.family_stats import (
    QWEN21_LATENTS_MEAN,
    QWEN21_LATENTS_STD,
    WAN21_LATENTS_MEAN,
    WAN21_LATENTS_STD,
)
from latent_upscale.latent_formats import LatentFormat

__all__ = [
    "QWEN_IMAGE21_LATENTS_MEAN",
    "QWEN_IMAGE21_LATENTS_STD",
    "QWEN_IMAGE21_MODEL_SPACE",
    "WAN21_MODEL_SPACE",
    "normalised",
]

#: Qwen-Image 2.1's VAE statistics (``AutoencoderKLQwenImage21`` config ``latents_mean``/``latents_std``
#: in diffusers; ComfyUI ``comfy/latent_formats.py`` class ``QwenImage21``), kept once in
#: :mod:`latent_upscale.family_stats`: its model space is ``(raw − mean) / std`` per channel, the
#: normalised latent TAEQI2.1 encodes and decodes.
QWEN_IMAGE21_LATENTS_MEAN = QWEN21_LATENTS_MEAN
QWEN_IMAGE21_LATENTS_STD = QWEN21_LATENTS_STD


def normalised(mean: tuple[float, ...], std: tuple[float, ...]) -> LatentFormat:
    """Model space ``(raw − mean) / std`` per channel as a :class:`LatentFormat`."""
    return LatentFormat(scale=tuple(1.0 / value for value in std), shift=mean)


#: Raw Qwen-Image 2.1 VAE latent → the TAEQI2.1 latent.
QWEN_IMAGE21_MODEL_SPACE = normalised(QWEN_IMAGE21_LATENTS_MEAN, QWEN_IMAGE21_LATENTS_STD)
#: Raw Wan 2.1 VAE latent (also Wan 2.2-14B, Qwen-Image, Anima) → the TAEW2.1 latent.
WAN21_MODEL_SPACE = normalised(WAN21_LATENTS_MEAN, WAN21_LATENTS_STD)
