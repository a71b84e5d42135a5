"""How a method looks on real photographs, shared by the demo and the quality bench.

Protocol (SesquiLSR's published one): a high-resolution photograph is Lanczos-downsampled, encoded with
a real autoencoder, its latent enlarged by each method, decoded and compared with the original.

- :mod:`.photographs`: the plan and the photographs (scikit-image's, or a folder of the user's).
- :mod:`.autoencoders`: the autoencoder wrapper (a tiny autoencoder pair, or a diffusers VAE).
- :mod:`.protocol`: the method runners, the decode protocol and the scores.
- :mod:`.metrics`: PSNR, SSIM (scikit-image) and HaarPSI.
"""

from latent_upscale.lab.evaluation.autoencoders import BenchAutoencoder, load_autoencoder
from latent_upscale.lab.evaluation.photographs import BUILTIN_IMAGES, QualityPlan, lanczos_image, load_images
from latent_upscale.lab.evaluation.protocol import (
    Decoded,
    Resize,
    as_array,
    decode_protocol,
    method_runners,
    score_decoded,
)

__all__ = [
    "BUILTIN_IMAGES",
    "BenchAutoencoder",
    "Decoded",
    "QualityPlan",
    "Resize",
    "as_array",
    "decode_protocol",
    "lanczos_image",
    "load_autoencoder",
    "load_images",
    "method_runners",
    "score_decoded",
]
