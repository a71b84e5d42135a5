"""Random weights in the real key layouts: they live beside the architectures in
:mod:`latent_upscale.neural.archs.random_weights`, so the benchmark (which runs from an installed
package, without ``tests/``) builds the same files."""

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
