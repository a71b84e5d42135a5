"""Neural latent upscalers (SesquiLSR, city96 SD-Latent-Upscaler, Ttl's NNLatentUpscale) and the
tiny autoencoders (TAESD family) behind the ``tae`` round-trip method.

Light on import: only :class:`NeuralOptions` loads eagerly; everything else (the model cache, the
architectures, the runner, huggingface-hub) loads when first used.

>>> from latent_upscale.neural import NeuralOptions
>>> NeuralOptions(allow_download=True).hf_repo_id is None  # no mirror: each file's own repo
True
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from latent_upscale.neural.options import NeuralOptions

__all__ = [
    "ModelDescriptor",
    "ModelInfo",
    "NeuralOptions",
    "NeuralStatus",
    "ResolvedWeights",
    "describe",
    "find_local_weights",
    "list_models",
    "load_model",
    "read_state_dict",
    "resolve_weights",
    "run",
    "unload",
]

_LAZY = {
    "ModelDescriptor": "latent_upscale.neural.descriptor",
    "ModelInfo": "latent_upscale.neural.status",
    "NeuralStatus": "latent_upscale.neural.status",
    "ResolvedWeights": "latent_upscale.neural.resolution",
    "describe": "latent_upscale.neural.status",
    "find_local_weights": "latent_upscale.neural.status",
    "list_models": "latent_upscale.neural.status",
    "resolve_weights": "latent_upscale.neural.resolution",
    "read_state_dict": "latent_upscale.neural.state_dict",
    "load_model": "latent_upscale.neural.runner",
    "run": "latent_upscale.neural.runner",
}


def unload() -> int:
    """Free every loaded neural model (and cached GPU memory); returns how many were dropped.

    Cheap when nothing was ever loaded: the model cache is not even imported then.
    """
    cache = sys.modules.get("latent_upscale.neural.cache")
    return cache.unload() if cache is not None else 0


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
