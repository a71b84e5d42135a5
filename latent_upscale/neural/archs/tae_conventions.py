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

from latent_upscale.families import WAN21_LATENTS_MEAN, WAN21_LATENTS_STD
from latent_upscale.latent_formats import LatentFormat

__all__ = [
    "QWEN_IMAGE21_LATENTS_MEAN",
    "QWEN_IMAGE21_LATENTS_STD",
    "QWEN_IMAGE21_MODEL_SPACE",
    "WAN21_MODEL_SPACE",
    "normalised",
]

#: Qwen-Image 2.1's VAE statistics (``AutoencoderKLQwenImage21`` config ``latents_mean``/``latents_std``
#: in diffusers; ComfyUI ``comfy/latent_formats.py`` class ``QwenImage21``): its model space is
#: ``(raw − mean) / std`` per channel, the normalised latent TAEQI2.1 encodes and decodes.
QWEN_IMAGE21_LATENTS_MEAN = (
    0.5126, 0.7721, -0.0631, 1.3506, -0.7855, -2.1025, -0.3458, 1.3722,
    1.8873, -1.7177, -0.6510, 0.2732, 0.7562, -0.6163, -1.0277, 3.8363,
    2.0210, 0.0472, 0.9320, 2.0087, 2.4954, -0.1391, -1.4249, 1.8464,
    -0.5236, 1.2826, 3.7046, -1.3035, 2.7286, -1.4518, -1.9036, -1.9955,
    -0.0342, -1.0265, -0.7636, 3.0555, 0.0746, -3.0751, -0.1076, 1.7376,
    -1.0914, -1.9435, -0.2784, -1.3680, 0.4809, -0.4433, 0.3764, 0.5729,
    -2.0595, 1.0960, -1.3260, -2.0211, -5.0179, 0.5275, 4.0162, 1.8505,
    0.3026, 1.9373, 1.4937, 0.2632, 0.5547, -1.7121, -0.1562, 0.0304,
)  # fmt: skip
QWEN_IMAGE21_LATENTS_STD = (
    3.2001, 3.2936, 3.4321, 3.0091, 3.1061, 4.0379, 4.0705, 3.7910,
    3.0785, 3.6500, 3.9308, 3.0904, 2.8778, 3.7675, 3.7320, 5.0756,
    3.2864, 4.0397, 3.1317, 4.0443, 2.9249, 3.9454, 3.0988, 4.2489,
    3.4896, 3.8513, 3.9323, 3.4719, 3.7498, 4.2830, 3.5694, 4.2467,
    3.9037, 3.2947, 5.0770, 3.5075, 3.2700, 3.4767, 2.8063, 5.1125,
    3.5327, 4.7833, 3.1286, 4.1819, 3.8527, 3.8312, 3.5605, 4.3875,
    3.9624, 4.0168, 3.5643, 4.0550, 5.5614, 4.2963, 4.4080, 3.4959,
    3.8747, 3.7608, 3.5735, 3.1490, 3.7662, 3.6746, 3.4563, 3.8161,
)  # fmt: skip


def normalised(mean: tuple[float, ...], std: tuple[float, ...]) -> LatentFormat:
    """Model space ``(raw − mean) / std`` per channel as a :class:`LatentFormat`."""
    return LatentFormat(scale=tuple(1.0 / value for value in std), shift=mean)


#: Raw Qwen-Image 2.1 VAE latent → the TAEQI2.1 latent.
QWEN_IMAGE21_MODEL_SPACE = normalised(QWEN_IMAGE21_LATENTS_MEAN, QWEN_IMAGE21_LATENTS_STD)
#: Raw Wan 2.1 VAE latent (also Wan 2.2-14B, Qwen-Image, Anima) → the TAEW2.1 latent.
WAN21_MODEL_SPACE = normalised(WAN21_LATENTS_MEAN, WAN21_LATENTS_STD)
