"""The autoencoders ``bench quality`` decodes through: a TAESD pair or a full diffusers VAE, both
giving model-space latents (see :mod:`latent_upscale.lab.bench.quality`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = ["BenchAutoencoder", "load_autoencoder"]


class BenchAutoencoder:
    """What the benchmark needs from an autoencoder: model-space latents at 1/8 resolution."""

    #: A folder holding this autoencoder's files, searched first by methods with weights (``tae``
    #: runs its round trip through the same tiny autoencoder); ``None`` for a full VAE.
    models_dir: Path | None = None

    family: str
    description: dict[str, Any]

    def encode(self, image: Tensor) -> Tensor:
        """``[1, 3, H, W]`` in [0, 1] → model-space latent ``[1, C, H/8, W/8]`` (float32, CPU)."""
        raise NotImplementedError

    def decode(self, latent: Tensor) -> Tensor:
        """Model-space latent → ``[1, 3, 8h, 8w]`` in [0, 1] (float32, CPU)."""
        raise NotImplementedError


class _TinyAutoencoder(BenchAutoencoder):
    def __init__(self, encoder: Path, decoder: Path, device: torch.device) -> None:
        from latent_upscale.neural.archs.tae import load_tiny_autoencoder

        self.model = load_tiny_autoencoder(encoder, decoder).to(device)
        self.device = device
        self.models_dir = encoder.parent
        variant = self.model.variant
        self.family = variant.families[0]
        self.description = {
            "name": variant.id,
            "label": variant.label,
            "kind": "tiny autoencoder (TAESD family, madebyollin/taesd, MIT)",
            "family": self.family,
            "latent_channels": variant.latent_channels,
            "files": [encoder.name, decoder.name],
        }

    def encode(self, image: Tensor) -> Tensor:
        return self.model.encode(image.to(self.device)).float().cpu()

    def decode(self, latent: Tensor) -> Tensor:
        return self.model.decode(latent.to(self.device)).float().cpu()


#: diffusers ``scaling_factor`` → family (the VAE's config says its model space, not its family).
_SCALE_FAMILIES = {0.18215: "sd1", 0.13025: "sdxl", 1.5305: "sd3", 0.3611: "flux"}


class _DiffusersVae(BenchAutoencoder):
    def __init__(self, path: Path, device: torch.device, family: str | None) -> None:
        try:
            from diffusers import AutoencoderKL
        except ImportError as error:
            raise LatentUpscaleError(
                f"{path} is not a tiny autoencoder; a full SD VAE needs diffusers: pip install diffusers"
            ) from error
        try:
            if path.is_dir():
                vae = AutoencoderKL.from_pretrained(str(path))
            else:
                vae = AutoencoderKL.from_single_file(str(path))
        except Exception as error:  # diffusers raises many types (OSError, ValueError, HTTP errors)
            raise LatentUpscaleError(
                f"cannot load {path} as a VAE with diffusers ({type(error).__name__}: {error})"
            ) from error
        self.vae = vae.to(device).eval().requires_grad_(False)
        self.device = device
        config = vae.config
        self.scale = float(getattr(config, "scaling_factor", 1.0) or 1.0)
        self.shift = float(getattr(config, "shift_factor", 0.0) or 0.0)
        channels = int(config.latent_channels)
        guessed = _SCALE_FAMILIES.get(round(self.scale, 5), "flux2" if channels == 32 else None)
        self.family = family or guessed or "sd1"
        self.description = {
            "name": path.name,
            "kind": "diffusers AutoencoderKL",
            "family": self.family,
            "latent_channels": channels,
            "scaling_factor": self.scale,
            "shift_factor": self.shift,
            "files": [path.name],
        }

    def encode(self, image: Tensor) -> Tensor:
        with torch.inference_mode():
            raw = self.vae.encode(image.to(self.device) * 2.0 - 1.0).latent_dist.mode()
        return ((raw - self.shift) * self.scale).float().cpu()

    def decode(self, latent: Tensor) -> Tensor:
        with torch.inference_mode():
            image = self.vae.decode(latent.to(self.device) / self.scale + self.shift).sample
        return ((image.float().cpu() + 1.0) / 2.0).clamp(0.0, 1.0)


def load_autoencoder(
    paths: Sequence[str | Path], device: torch.device | str = "cpu", family: str | None = None
) -> BenchAutoencoder:
    """A folder with a TAESD encoder/decoder pair, the two files, or a full VAE (diffusers folder or
    single file, when diffusers is installed).

    Raises :class:`LatentUpscaleError` naming what was given and what is accepted.
    """
    from latent_upscale.neural.archs.tae import find_pair

    device = torch.device(device)
    resolved = [Path(p) for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise LatentUpscaleError(f"--autoencoder: not found: {', '.join(missing)}")
    if len(resolved) == 2:
        return _TinyAutoencoder(resolved[0], resolved[1], device)
    if len(resolved) != 1:
        raise LatentUpscaleError(
            "--autoencoder takes a folder, an encoder and a decoder file, or one VAE file; got "
            f"{len(resolved)} paths"
        )
    path = resolved[0]
    if path.is_dir() and not (path / "config.json").is_file():
        return _TinyAutoencoder(*find_pair(path), device)
    return _DiffusersVae(path, device, family)
