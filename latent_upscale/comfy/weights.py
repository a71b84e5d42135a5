"""Where the learned methods look for weights inside ComfyUI, and the one-line message when none are there.

Order (first hit wins, see :mod:`latent_upscale.neural.resolution`): ComfyUI's folders first,
``models/latent_upscale_models`` for the ``neural`` method's upscalers (city96, Ttl, SesquiLSR under
their published names) and ``models/vae_approx`` for the ``tae`` method's tiny autoencoders (any
extension, as ComfyUI's ``VAELoader`` takes them), each with the other folder after it; then our own
folders (``$LATENT_UPSCALE_MODELS``, the extension's ``models/``, our download cache) and the
Hugging Face cache; then a download of a file whose SHA-256 is pinned, into the first ComfyUI folder,
when ``allow_download`` is on.
"""

from __future__ import annotations

from latent_upscale.comfy import host
from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.neural.catalog import weight_sets_for
from latent_upscale.neural.downloads import manual_url
from latent_upscale.neural.options import NeuralOptions

__all__ = ["AUTOMATIC_WEIGHTS", "explicit_weights", "missing_weights_message", "neural_options"]

#: The ``weights`` choice that lets the family pick the file.
AUTOMATIC_WEIGHTS = "automatic"


def _kinds(method: str) -> tuple[str, str]:
    if method == "tae":
        return host.VAE_APPROX, host.LATENT_UPSCALE_MODELS
    return host.LATENT_UPSCALE_MODELS, host.VAE_APPROX


def neural_options(method: str, allow_download: bool) -> NeuralOptions:
    """Options for the ``neural``/``tae`` method: ComfyUI's folders first, networks on ComfyUI's device."""
    folders = [folder for kind in _kinds(method) for folder in host.folders(kind)]
    return NeuralOptions(
        models_dir=folders,
        allow_download=allow_download,
        device=host.compute_device(),
        progress=False,
    )


def explicit_weights(name: str) -> str | None:
    """The path of a file picked on the node (``automatic``: None, the family decides)."""
    if name == AUTOMATIC_WEIGHTS:
        return None
    path = host.full_path(host.LATENT_UPSCALE_MODELS, name)
    if path is None:
        folder = (host.folders(host.LATENT_UPSCALE_MODELS) or ["models/latent_upscale_models"])[0]
        raise WeightsUnavailableError(f"weights file {name} is no longer in {folder}")
    return path


def missing_weights_message(error: WeightsUnavailableError, method: str, family: str | None) -> str:
    """One line: which file, which ComfyUI folder, and where to fetch it by hand."""
    role = "autoencoder" if method == "tae" else "upscaler"
    sets = weight_sets_for(family, role) if family else ()
    if not sets:
        return error.summary
    best = sets[0]
    if best.multi_part:  # a decoder and an encoder: the project page lists both
        return f"{error.summary}; fetch them from {best.entries[0].homepage}"
    first = best.entries[-1] if best.fixed_factor else best.entries[0]
    return f"{error.summary}; fetch it from {manual_url(first, NeuralOptions())}"
