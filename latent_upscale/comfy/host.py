"""The ComfyUI seam: the only module of the package that imports ComfyUI (``folder_paths``, ``comfy.*``).

Everything the nodes need from the host goes through these few functions, so the rest of the glue
is plain Python and tests can swap the host for the fake one in ``tests/fake_comfy``. Facts from
ComfyUI (Comfy-Org/ComfyUI v0.3.64, a125cd84): ``folder_paths.py`` (``models_dir``,
``folder_names_and_paths``, ``add_model_folder_path``, ``get_folder_paths``, ``get_filename_list``,
``get_full_path``, ``supported_pt_extensions``) and ``comfy/model_management.py``
(``get_torch_device``). Nothing here changes ComfyUI's model management: the networks we run are a
few megabytes and are loaded, cached and freed by our own runner.
"""

from __future__ import annotations

from pathlib import Path

import comfy.model_management
import folder_paths
import torch

__all__ = [
    "LATENT_UPSCALE_MODELS",
    "VAE_APPROX",
    "compute_device",
    "file_names",
    "folders",
    "full_path",
    "register_model_folders",
]

#: Where ComfyUI users keep latent upscaler weights (city96, Ttl, SesquiLSR files under their names).
LATENT_UPSCALE_MODELS = "latent_upscale_models"
#: ComfyUI's own folder of tiny autoencoders (``taesd_decoder.pth`` …, any extension).
VAE_APPROX = "vae_approx"


def register_model_folders() -> None:
    """Register ``models/latent_upscale_models`` with ComfyUI (once; a second call changes nothing).

    A folder an ``extra_model_paths.yaml`` already named under that key stays, ours is added after it.
    """
    default = str(Path(folder_paths.models_dir) / LATENT_UPSCALE_MODELS)
    if LATENT_UPSCALE_MODELS in folder_paths.folder_names_and_paths:
        folder_paths.add_model_folder_path(LATENT_UPSCALE_MODELS, default)
    else:
        extensions = set(folder_paths.supported_pt_extensions)
        folder_paths.folder_names_and_paths[LATENT_UPSCALE_MODELS] = ([default], extensions)


def folders(kind: str) -> list[str]:
    """The folders ComfyUI searches for ``kind`` (``latent_upscale_models`` or ``vae_approx``), in order."""
    try:
        return folder_paths.get_folder_paths(kind)
    except KeyError:
        return []


def file_names(kind: str) -> list[str]:
    """The weight files ComfyUI lists under ``kind`` (names relative to their folder)."""
    try:
        return list(folder_paths.get_filename_list(kind))
    except KeyError:
        return []


def full_path(kind: str, name: str) -> str | None:
    """The file ``name`` of ``kind`` on disk, or None."""
    return folder_paths.get_full_path(kind, name)


def compute_device() -> torch.device:
    """The device ComfyUI computes on (``--cpu`` gives the CPU)."""
    return comfy.model_management.get_torch_device()
