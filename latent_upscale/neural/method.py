"""The ``neural`` entry of the method registry. Importing this module stays cheap: the runner (and
with it the architectures) is imported on the first call."""

from __future__ import annotations

from torch import Tensor

from latent_upscale.core import Method, Size, UpscaleRequest, UpscaleResult

__all__ = ["NEURAL_METHOD", "register_neural_methods"]


def _run(latent: Tensor, size: Size, request: UpscaleRequest) -> UpscaleResult:
    from latent_upscale.neural.runner import run

    return run(latent, size, request)


NEURAL_METHOD = Method(
    id="neural",
    label="Neural (learned upscaler)",
    advice=(
        "A small network trained to enlarge latents: sharper than any interpolation, no VAE round trip. "
        "Needs weights for the model family (SesquiLSR, city96 or NNLatentUpscale); denoise 0.3-0.5."
    ),
    run=_run,
    neural=True,
)


def register_neural_methods() -> None:
    """Add the neural room's methods to the method registry (once; called by the package)."""
    from latent_upscale.resize_methods import method_ids, register

    if NEURAL_METHOD.id not in method_ids():
        register(NEURAL_METHOD)
