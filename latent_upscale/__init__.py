"""Latent Upscale: better latent resizing for the AUTOMATIC1111 WebUI family, and a small library.

>>> from latent_upscale import upscale, methods
>>> "bislerp" in methods()
True

Importing this package needs torch and safetensors only: gradio, huggingface-hub, the neural
architectures and the WebUI are imported where they are used.
"""

from latent_upscale.api import DEFAULT_METHOD, methods, upscale, upscale_detailed
from latent_upscale.core import Method, UpscaleRequest, UpscaleResult
from latent_upscale.errors import LatentTypeError, LatentUpscaleError, WeightsUnavailableError
from latent_upscale.latent_formats import FAMILIES, LatentFormat
from latent_upscale.neural.method import register_neural_methods

# The method registry is composed here: the neural room adds its methods to the methods room's
# registry, so `resize_methods` never imports `neural` (which imports `resize_methods`).
register_neural_methods()

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_METHOD",
    "FAMILIES",
    "LatentFormat",
    "LatentTypeError",
    "LatentUpscaleError",
    "Method",
    "UpscaleRequest",
    "UpscaleResult",
    "WeightsUnavailableError",
    "__version__",
    "methods",
    "upscale",
    "upscale_detailed",
]
