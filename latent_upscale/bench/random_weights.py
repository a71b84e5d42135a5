"""Moved to :mod:`latent_upscale.neural.archs.random_weights` (beside the architectures); this thin
re-export keeps old imports working (e.g. ``shared/hosts/forge/make_upscaler_weights.py``)."""

from latent_upscale.neural.archs.random_weights import (
    StateDict,
    city96_filename,
    city96_state_dict,
    parameter_count,
    save_safetensors,
    save_torch,
    sesqui_state_dict,
    ttl_state_dict,
)

__all__ = [
    "StateDict",
    "city96_filename",
    "city96_state_dict",
    "parameter_count",
    "save_safetensors",
    "save_torch",
    "sesqui_state_dict",
    "ttl_state_dict",
]
