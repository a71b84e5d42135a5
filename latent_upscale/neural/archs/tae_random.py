"""Random weights in the published TAESD key layouts (madebyollin/taesd), for tests and benchmarks.

Written from the layout description (index lists and shapes), independently of :mod:`.tae`'s modules, so
a test that loads these proves the loader matches the layout rather than itself. Saved like the real
files (``<variant>_encoder.pth`` / ``_decoder.pth``, float16 state dicts, or ``.safetensors``).
Tensor counts: 79 per half for TAEF2 (with the side branch), 67 for the other variants.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["HALVES", "save_tae_pair", "tae_state_dict"]

HALVES = ("encoder", "decoder")
_WIDTH = 64
#: (index, kind) of each parameterised layer: "in"/"out" convs, "block", "gn-block", "down" (no bias).
_ENCODER = (
    [(0, "in"), (1, "block"), (2, "down")]
    + [(i, "block") for i in (3, 4, 5)]
    + [(6, "down")]
    + [(i, "block") for i in (7, 8, 9)]
    + [(10, "down")]
    + [(i, "gn-block") for i in (11, 12, 13)]
    + [(14, "out")]
)
_DECODER = (
    [(1, "in")]
    + [(i, "gn-block") for i in (3, 4, 5)]
    + [(7, "down")]
    + [(i, "block") for i in (8, 9, 10)]
    + [(12, "down")]
    + [(i, "block") for i in (13, 14, 15)]
    + [(17, "down")]
    + [(18, "block"), (19, "out")]
)
_CHANNELS = {"taesd": 4, "taesdxl": 4, "taesd3": 16, "taef1": 16, "taef2": 32}


def tae_state_dict(
    variant: str = "taef2", half: str = "decoder", *, seed: int = 0, dtype: torch.dtype = torch.float16
) -> dict[str, Tensor]:
    """A state dict of one half of ``variant`` with fan-in-scaled normal weights (deterministic).

    Residual branches are scaled down so activations stay bounded through the 10 blocks, and the
    GroupNorm affine parameters start near (1, 0), so decoded images are finite and vary with the input.
    """
    if variant not in _CHANNELS or half not in HALVES:
        raise ValueError(f"unknown variant/half {variant!r}/{half!r}; expected {list(_CHANNELS)} / {HALVES}")
    generator = torch.Generator().manual_seed(seed)
    latent = _CHANNELS[variant]
    side_branch = variant == "taef2"

    def weight(*shape: int, gain: float = 1.0) -> Tensor:
        return torch.randn(*shape, generator=generator) * (gain / math.sqrt(math.prod(shape[1:])))

    def bias(n: int) -> Tensor:
        return torch.randn(n, generator=generator) * 0.02

    state: dict[str, Tensor] = {}
    for index, kind in _ENCODER if half == "encoder" else _DECODER:
        if kind == "in":
            n_in = 3 if half == "encoder" else latent
            state[f"{index}.weight"], state[f"{index}.bias"] = weight(_WIDTH, n_in, 3, 3), bias(_WIDTH)
        elif kind == "out":
            n_out = latent if half == "encoder" else 3
            state[f"{index}.weight"], state[f"{index}.bias"] = weight(n_out, _WIDTH, 3, 3), bias(n_out)
        elif kind == "down":
            state[f"{index}.weight"] = weight(_WIDTH, _WIDTH, 3, 3)
        else:
            for conv in (0, 2, 4):
                gain = 1.0 if conv < 4 else 0.2  # a small residual branch
                state[f"{index}.conv.{conv}.weight"] = weight(_WIDTH, _WIDTH, 3, 3, gain=gain)
                state[f"{index}.conv.{conv}.bias"] = bias(_WIDTH)
            if kind == "gn-block" and side_branch:
                wide = 4 * _WIDTH
                state[f"{index}.pool.0.weight"] = weight(wide, _WIDTH, 1, 1)
                state[f"{index}.pool.1.weight"] = 1.0 + bias(wide)
                state[f"{index}.pool.1.bias"] = bias(wide)
                state[f"{index}.pool.3.weight"] = weight(_WIDTH, wide, 1, 1, gain=0.2)
    return {key: value.to(dtype) for key, value in state.items()}


def save_tae_pair(
    folder: str | Path, variant: str = "taef2", *, seed: int = 0, suffix: str = ".pth"
) -> tuple[Path, Path]:
    """Write ``<variant>_encoder<suffix>`` and ``<variant>_decoder<suffix>`` (``.pth``/``.safetensors``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset, half in enumerate(HALVES):
        state = tae_state_dict(variant, half, seed=seed + offset)
        path = folder / f"{variant}_{half}{suffix}"
        if suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, str(path))
        else:
            torch.save(state, path)
        paths.append(path)
    return paths[0], paths[1]
