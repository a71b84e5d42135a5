"""The neural method's settings, in one frozen dataclass the WebUI settings and the CLI both map onto.

Everything has a default that works offline-first: look in the folders we are given, then in the
Hugging Face cache, and download only when ``allow_download`` is set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "MIRROR_OPTIONS",
    "MODELS_DIR_ENV",
    "PRECISIONS",
    "NeuralOptions",
]

#: The mirror fields: each is ``None`` (every file comes from its catalog entry's own place) unless a
#: user sets it, and then serves only the catalog entries whose ``mirror_option`` names it.
MIRROR_OPTIONS = ("hf_repo_id", "sesqui_base_url", "tae_base_url")
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
    #: A Hub mirror of city96's repository (``owner/name``); ``None``: ``city96/SD-Latent-Upscaler``.
    hf_repo_id: str | None = None
    #: A branch, tag or commit of the city96 files' repo (or its mirror); ``None``: the pinned commit.
    hf_revision: str | None = None
    hf_endpoint: str | None = None
    hf_cache_dir: str | os.PathLike[str] | None = None
    #: A mirror folder of SesquiLSR's files; ``None``: its GitHub ``models/`` folder.
    sesqui_base_url: str | None = None
    #: A mirror folder of the tiny-autoencoder files; ``None``: madebyollin/taesd at the pinned commit.
    #: A mirror's files are checked against the pinned SHA-256 all the same.
    tae_base_url: str | None = None
    offline: bool | None = None
    precision: str = "auto"
    device: str | torch.device | None = None
    tile_size: int | None = None
    factor: float | None = None
    #: Search the ``models/`` folder inside the extension (city96's old convention).
    search_extension_models: bool = True
    #: Show a progress bar while downloading.
    progress: bool = True
    #: ``downloader(url, folder, file_name) → path`` for URL downloads (default:
    #: :func:`~latent_upscale.neural.downloads.url_downloader`, with a stall timeout); the WebUI
    #: passes its ``modelloader.load_file_from_url``.
    downloader: Callable[[str, Path, str], object] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Every bad value is our error, said once; numpy and torch scalars count as numbers, but
        # only real booleans are booleans ("no" is not False).
        for name in ("allow_download", "search_extension_models", "progress"):
            self._set(name, _boolean(name, getattr(self, name)))
        if self.offline is not None:
            self._set("offline", _boolean("offline", self.offline))
        if self.precision not in PRECISIONS:
            raise LatentUpscaleError(
                f"unknown neural precision {self.precision!r}; expected one of: {', '.join(PRECISIONS)}"
            )
        if self.tile_size is not None:
            tile = _integer(self.tile_size)
            if tile is None or tile < 0:
                raise LatentUpscaleError(
                    f"tile_size must be None (automatic), 0 (never tile) or a positive number of latent "
                    f"pixels, got {self.tile_size!r}"
                )
            if 0 < tile < 16:
                raise LatentUpscaleError(f"tile_size must be at least 16 latent pixels, got {tile}")
            self._set("tile_size", tile)
        if self.factor is not None:
            factor = _real(self.factor)
            if factor is None or not 1.0 < factor <= 8.0:
                raise LatentUpscaleError(f"factor must be a number above 1 (e.g. 1.5), got {self.factor!r}")
            self._set("factor", factor)
        for name in MIRROR_OPTIONS:  # "" = no mirror, as None
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise LatentUpscaleError(f"{name} must be text or None, got {value!r}")
            self._set(name, value.strip() or None if value is not None else None)
        if self.hf_repo_id is not None and "/" not in self.hf_repo_id:
            raise LatentUpscaleError(f"hf_repo_id must look like 'owner/name', got {self.hf_repo_id!r}")
        if self.hf_revision is not None and not isinstance(self.hf_revision, str):
            raise LatentUpscaleError(f"hf_revision must be a branch, tag or commit, got {self.hf_revision!r}")
        self._set("hf_revision", self.hf_revision or None)  # "" = the catalog's pinned commit
        if self.downloader is not None and not callable(self.downloader):
            raise LatentUpscaleError(f"downloader must be callable, got {self.downloader!r}")
        if self.device is not None:
            self._set("device", _device(self.device))
        self._check_folders()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _check_folders(self) -> None:
        folders = self.models_dir
        if folders is None:
            return
        items = [folders] if isinstance(folders, (str, os.PathLike)) else folders
        if isinstance(items, (bytes, Mapping)) or not isinstance(items, Sequence):
            raise LatentUpscaleError(
                f"models_dir must be a folder path or a list of folder paths, got {folders!r}"
            )
        for folder in items:
            if not isinstance(folder, (str, os.PathLike)) or isinstance(os.fspath(folder), bytes):
                raise LatentUpscaleError(f"models_dir entries must be folder paths, got {folder!r}")
            try:
                Path(folder).expanduser()
            except RuntimeError as error:  # "~nouser/x"
                raise LatentUpscaleError(f"models_dir {os.fspath(folder)!r}: {error}") from error
            if "\0" in os.fspath(folder):
                raise LatentUpscaleError(f"models_dir {os.fspath(folder)!r} contains a NUL byte")

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


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if numpy_bool or (isinstance(value, torch.Tensor) and value.dtype == torch.bool and value.numel() == 1):
        return bool(value)  # numpy.bool_ / a one-element bool tensor
    raise LatentUpscaleError(f"{name} must be True or False, got {value!r}")


def _scalar(value: object) -> object:
    """A numpy or torch scalar as a Python number (other values unchanged)."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 and value.dtype != torch.bool else None
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _integer(value: object) -> int | None:
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


def _real(value: object) -> float | None:
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _device(value: object) -> torch.device:
    if not isinstance(value, (str, torch.device)):
        raise LatentUpscaleError(f"device must be a name such as 'cpu' or 'cuda:0', got {value!r}")
    try:
        device = torch.device(value)
    except (RuntimeError, ValueError) as error:
        raise LatentUpscaleError(f"unknown device {value!r}: {str(error).splitlines()[0]}") from error
    if device.type == "meta":
        raise LatentUpscaleError("device 'meta' holds no data; name a real device (cpu, cuda, mps, …)")
    return device
