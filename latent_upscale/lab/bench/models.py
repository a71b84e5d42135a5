"""The neural models the benchmark times: random weights in each published layout, saved under the
published file names in a temporary models folder and run through the public API, so every figure
includes weight resolution, the model cache, latent-space conversions and resampling.

Random weights cost what trained ones cost (no layer's work depends on the values), and nothing
has to be downloaded.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from latent_upscale.api import upscale_detailed
from latent_upscale.core import UpscaleResult
from latent_upscale.lab.fixtures.random_weights import (
    city96_filename,
    city96_state_dict,
    save_safetensors,
    save_torch,
    sesqui_state_dict,
    ttl_state_dict,
)
from latent_upscale.neural.options import NeuralOptions

__all__ = ["NEURAL_MODELS", "BenchModels", "NeuralCall", "NeuralModel", "bench_models", "tile_count"]

#: The SDXL family: every architecture has SDXL weights, and SDXL is where the VAE round trip hurts.
FAMILY = "sdxl"
_CITY96_FACTORS = (1.25, 1.5, 2.0)


@dataclass(frozen=True)
class NeuralModel:
    """One benchmarked architecture: its id, a label and the published file it stands for."""

    id: str
    label: str
    published_file: str


NEURAL_MODELS = (
    NeuralModel("city96", "city96 v2.1", city96_filename("2.1", "xl", 2.0)),
    NeuralModel("sesqui", "SesquiLSR SDXL", "upscaler_SDXL.safetensors"),
    NeuralModel("ttl", "NNLatentUpscale (Ttl) SDXL", "sdxl_resizer.pt"),
)


class NeuralCall:
    """``upscale_detailed(latent, size, method="neural", …)`` bound to its arguments; keeps the last
    result so a row can report how the call ran (tiles) without running it again."""

    def __init__(
        self, latent: Tensor, size: tuple[int, int], weights: Path, options: NeuralOptions, latent_space: str
    ) -> None:
        self.latent = latent
        self.size = size
        self.weights = weights
        self.options = options
        self.latent_space = latent_space
        self.last_result: UpscaleResult | None = None

    def __call__(self) -> UpscaleResult:
        self.last_result = None  # free the previous output before making the next
        self.last_result = upscale_detailed(
            self.latent,
            self.size,
            method="neural",
            family=FAMILY,
            latent_space=self.latent_space,
            weights=self.weights,
            neural=self.options,
        )
        return self.last_result

    @property
    def tiles(self) -> int:
        """How many tiles the network ran in (1 when untiled) on the last call."""
        return tile_count(self.last_result) if self.last_result is not None else 1


@dataclass(frozen=True)
class BenchModels:
    """The temporary models folder and how to run each model through the public API."""

    folder: Path
    device: torch.device

    def weights_for(self, model_id: str, factor: float) -> Path:
        """The file to use for a job of ``factor``: city96 ships one file per factor."""
        if not any(self.folder.iterdir()):
            _write_models(self.folder)  # on first use: a run of rows without models writes none
        if model_id == "city96":
            chosen = min((f for f in _CITY96_FACTORS if f >= factor - 1e-9), default=max(_CITY96_FACTORS))
            return self.folder / city96_filename("2.1", "xl", chosen)
        return self.folder / next(m.published_file for m in NEURAL_MODELS if m.id == model_id)

    def options(self, tile_size: int | None = None, precision: str = "auto") -> NeuralOptions:
        """Search only our folder, never download; ``tile_size`` and ``precision`` as in
        :class:`NeuralOptions`."""
        return NeuralOptions(
            models_dir=self.folder,
            search_extension_models=False,
            offline=True,
            progress=False,
            tile_size=tile_size,
            precision=precision,
        )

    def job(
        self,
        model_id: str,
        latent: Tensor,
        size: tuple[int, int],
        *,
        tile_size: int | None = None,
        precision: str = "auto",
        latent_space: str = "scaled",
    ) -> NeuralCall:
        """The whole ``upscale`` call as a no-argument callable (SDXL latents, model space by default)."""
        factor = max(size[0] / latent.shape[2], size[1] / latent.shape[3])
        return NeuralCall(
            latent, size, self.weights_for(model_id, factor), self.options(tile_size, precision), latent_space
        )

    def warm_up(self) -> None:
        """Load every model once (the cache keeps them), so no timed call pays for reading a file."""
        latent = torch.randn(1, 4, 8, 8, device=self.device)
        for model in NEURAL_MODELS:
            factors = _CITY96_FACTORS if model.id == "city96" else (2.0,)
            for factor in factors:
                size = (math.floor(8 * factor), math.floor(8 * factor))
                self.job(model.id, latent, size)()


def _write_models(folder: Path) -> None:
    for seed, factor in enumerate(_CITY96_FACTORS):
        save_safetensors(city96_state_dict("2.1", seed=seed), folder / city96_filename("2.1", "xl", factor))
    save_safetensors(sesqui_state_dict(4), folder / "upscaler_SDXL.safetensors")
    save_torch(ttl_state_dict(), folder / "sdxl_resizer.pt")


@contextmanager
def bench_models(device: torch.device) -> Iterator[BenchModels]:
    """A temporary folder holding every model at its published size, removed afterwards."""
    from latent_upscale.neural.cache import model_cache

    capacity = model_cache.capacity
    # Every benchmarked model stays loaded (twice on a GPU: CPU copy and device copy), so no timed
    # call reloads one after the LRU evicted it.
    model_cache.capacity = max(capacity, 4 * (len(_CITY96_FACTORS) + len(NEURAL_MODELS)))
    try:
        with tempfile.TemporaryDirectory(prefix="latent-upscale-bench-") as name:
            yield BenchModels(Path(name), device)
    finally:
        from latent_upscale.neural import unload

        unload()
        model_cache.capacity = capacity


def tile_count(result: UpscaleResult) -> int:
    """How many tiles the network ran in (1 when untiled), read from the result's steps."""
    tiles = 1
    for step in result.steps:
        if " in " in step and " tiles" in step:
            words = step.split(" in ", 1)[1].split()
            if words and words[0].isdigit():
                tiles = max(tiles, int(words[0]))
    return tiles
