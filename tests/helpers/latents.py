"""Deterministic latents for tests."""

from __future__ import annotations

import torch
from torch import Tensor


def random_latent(
    batch: int = 1,
    channels: int = 4,
    height: int = 16,
    width: int = 16,
    *,
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> Tensor:
    """A standard-normal latent from a private generator (no global RNG state touched)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, channels, height, width, generator=generator).to(dtype)
