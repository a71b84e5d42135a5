"""Compatibility re-exports: weight resolution, downloads and status now live in their own modules.

* :mod:`~latent_upscale.neural.search`: where weights are looked for and the one plan of the walk;
* :mod:`~latent_upscale.neural.resolution`: :func:`resolve_weights`, which acts on that plan;
* :mod:`~latent_upscale.neural.downloads`: pinned, verified downloads;
* :mod:`~latent_upscale.neural.status`: ``list_models``, ``describe`` and the "how to get it" messages.
"""

from latent_upscale.neural.downloads import file_sha256, manual_url
from latent_upscale.neural.resolution import resolve_weights
from latent_upscale.neural.search import ResolvedWeights, download_dir, search_dirs
from latent_upscale.neural.status import ModelInfo, NeuralStatus, describe, find_local_weights, list_models

__all__ = [
    "ModelInfo",
    "NeuralStatus",
    "ResolvedWeights",
    "describe",
    "download_dir",
    "file_sha256",
    "find_local_weights",
    "list_models",
    "manual_url",
    "resolve_weights",
    "search_dirs",
]
