"""The neural method's settings, in one frozen dataclass the WebUI settings and the CLI both map onto.

Everything has a default that works offline-first: look in the folders we are given, then in the
Hugging Face cache, and download only when ``allow_download`` is set.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "DEFAULT_HF_REPO_ID",
    "DEFAULT_HF_REVISION",
    "DEFAULT_SESQUI_BASE_URL",
    "MODELS_DIR_ENV",
    "PRECISIONS",
    "NeuralOptions",
]

#: Where city96's weights live on the Hugging Face Hub (Apache-2.0).
DEFAULT_HF_REPO_ID = "city96/SD-Latent-Upscaler"
DEFAULT_HF_REVISION = "main"
#: SesquiLSR's weights are published in the ``models/`` folder of its GitHub repository (MIT).
DEFAULT_SESQUI_BASE_URL = "https://github.com/LoganBooker/SesquiLSR/raw/main/models/"
#: Extra weights folders, separated by ``os.pathsep``; searched after the folders the caller names.
MODELS_DIR_ENV = "LATENT_UPSCALE_MODELS"
#: ``auto``: float32 on CPU; on accelerators the half type the architecture prefers.
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


@dataclass(frozen=True)
class NeuralOptions:
    """How the neural method finds weights and runs them.

    ``models_dir``: one folder or a sequence of folders searched first (the WebUI passes
    ``models/LatentUpscaler`` and its settings folder; the CLI passes ``--models-dir``); the first
    one is also where URL downloads are stored. ``factor``: the scale factor of a fixed-factor
    weights file whose name does not say it (city96). ``device``: ``None`` runs on the latent's
    device. ``tile_size``: ``None`` tiles automatically above a per-architecture size, ``0`` never
    tiles, ``N`` uses tiles of at most ``N`` latent pixels a side (measured on the input).
    ``offline``: ``None`` follows ``HF_HUB_OFFLINE``; when offline nothing is downloaded from
    anywhere. ``hf_endpoint``: ``None`` lets huggingface-hub read ``HF_ENDPOINT`` (a mirror).
    """

    models_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None
    allow_download: bool = False
    hf_repo_id: str = DEFAULT_HF_REPO_ID
    hf_revision: str = DEFAULT_HF_REVISION
    hf_endpoint: str | None = None
    hf_cache_dir: str | os.PathLike[str] | None = None
    sesqui_base_url: str = DEFAULT_SESQUI_BASE_URL
    offline: bool | None = None
    precision: str = "auto"
    device: str | torch.device | None = None
    tile_size: int | None = None
    factor: float | None = None
    #: Search the ``models/`` folder inside the extension (city96's old convention).
    search_extension_models: bool = True
    #: Show a progress bar while downloading.
    progress: bool = True

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise LatentUpscaleError(
                f"unknown neural precision {self.precision!r}; expected one of: {', '.join(PRECISIONS)}"
            )
        if self.tile_size is not None and (
            isinstance(self.tile_size, bool) or not isinstance(self.tile_size, int) or self.tile_size < 0
        ):
            raise LatentUpscaleError(
                f"tile_size must be None (automatic), 0 (never tile) or a positive number of latent "
                f"pixels, got {self.tile_size!r}"
            )
        if self.tile_size is not None and 0 < self.tile_size < 16:
            raise LatentUpscaleError(f"tile_size must be at least 16 latent pixels, got {self.tile_size}")
        if self.factor is not None and not (isinstance(self.factor, (int, float)) and self.factor > 1.0):
            raise LatentUpscaleError(f"factor must be a number above 1 (e.g. 1.5), got {self.factor!r}")
        if not self.hf_repo_id or "/" not in self.hf_repo_id:
            raise LatentUpscaleError(f"hf_repo_id must look like 'owner/name', got {self.hf_repo_id!r}")

    @property
    def caller_models_dirs(self) -> tuple[Path, ...]:
        """The folders the caller named, in order (``models_dir`` as a tuple of paths)."""
        if self.models_dir is None:
            return ()
        if isinstance(self.models_dir, (str, os.PathLike)):
            return (Path(self.models_dir).expanduser(),)
        return tuple(Path(folder).expanduser() for folder in self.models_dir)

    @property
    def is_offline(self) -> bool:
        """Offline when asked to be, or when ``HF_HUB_OFFLINE`` is set (read now, not at import)."""
        if self.offline is not None:
            return self.offline
        return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")

    @property
    def may_download(self) -> bool:
        """Downloads are allowed and we are not offline."""
        return self.allow_download and not self.is_offline
