"""The weights-backed entries of the method registry: ``neural`` (a learned latent upscaler) and
``tae`` (a round trip through the family's tiny autoencoder). Both run through the one runner, which
differs only in the weights it asks for (``role``). Importing this module stays cheap: the runner
(and with it the architectures) is imported on the first call."""

from __future__ import annotations

from torch import Tensor

from latent_upscale.core import Method, Size, UpscaleRequest, UpscaleResult

__all__ = ["NEURAL_METHOD", "TAE_METHOD", "register_neural_methods"]


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


def _run_tae(latent: Tensor, size: Size, request: UpscaleRequest) -> UpscaleResult:
    from latent_upscale.neural.runner import run

    return run(latent, size, request, role=TAE_METHOD.weights_role, method_id=TAE_METHOD.id)


TAE_METHOD = Method(
    id="tae",
    label="Tiny VAE round trip",
    advice=(
        "Decode with the family's tiny autoencoder (TAESD/TAESDXL/TAESD3/TAEF1/TAEF2), enlarge the image "
        "in pixels, encode again: what an image upscaler gives, at a fraction of the full VAE's cost. "
        "Far sharper than any interpolation on real latents; covers SD3 and FLUX.2. Needs the two "
        "small files (MIT); denoise 0.3-0.5."
    ),
    run=_run_tae,
    neural=True,
    weights_role="autoencoder",
    short_label="tiny VAE",
)


def register_neural_methods() -> None:
    """Add the neural room's methods to the method registry (once; called by the package)."""
    from latent_upscale.resize_methods import method_ids, register

    for method in (NEURAL_METHOD, TAE_METHOD):
        if method.id not in method_ids():
            register(method)
