"""Reading weight files safely, and putting their state dicts in one canonical shape.

``.safetensors`` (and ComfyUI's short ``.sft``) is read with safetensors (no code can run). The
pickle containers ComfyUI's ``folder_paths.supported_pt_extensions`` accepts (``.pt``/``.pth``/``.ckpt``/
``.bin``/``.pt2``/``.pkl``, all read by its ``load_torch_file`` through ``torch.load``) go only
through ``torch.serialization.load(..., weights_only=True)``: torch's restricted unpickler, which
refuses any pickle that would call a function other than the tensor rebuilders. We call
``torch.serialization.load`` rather than ``torch.load`` because A1111 replaces ``torch.load`` with
its own ``safe.load`` wrapper (a second, older allow-list); the real function with
``weights_only=True`` is the stricter of the two. A torch too old for ``weights_only`` (< 1.13) gets
no pickle loading at all.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "PICKLE_SUFFIXES",
    "SAFETENSORS_SUFFIX",
    "SAFETENSORS_SUFFIXES",
    "WEIGHT_SUFFIXES",
    "canonicalize_state_dict",
    "read_state_dict",
]

logger = logging.getLogger(__name__)

SAFETENSORS_SUFFIX = ".safetensors"
SAFETENSORS_SUFFIXES = (SAFETENSORS_SUFFIX, ".sft")
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin", ".pt2", ".pkl")
#: Every weights-file extension we read, in order of preference (safetensors first): the hosts'
#: (ComfyUI ``supported_pt_extensions``; A1111/Forge/Neo ``sd_vae_taesd.py`` name ``.pth`` files).
WEIGHT_SUFFIXES = (*SAFETENSORS_SUFFIXES, ".pth", ".pt", ".ckpt", ".bin", ".pt2", ".pkl")
#: Containers that training scripts wrap the weights in (unwrapped in this order).
_WRAPPERS = ("params_ema", "state_dict", "model_state_dict", "params", "model")


#: How a torch file starts: a zip archive (torch ≥ 1.6) or a pickle (protocol 2+ opcode ``PROTO``).
_TORCH_MAGIC = (b"PK\x03\x04", b"\x80")


def _not_weights(path: Path, detail: str) -> LatentUpscaleError:
    return LatentUpscaleError(
        f"{path.name} is not a valid weights file ({detail}): a partial download or another kind of "
        "file. Fetch it again, or use a .safetensors file."
    )


def _read_pickle(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise LatentUpscaleError(f"cannot read {path.name}: {error}") from error
    if not head.startswith(_TORCH_MAGIC):
        raise _not_weights(path, "neither a torch zip archive nor a pickle")
    try:
        return torch.serialization.load(str(path), map_location="cpu", weights_only=True)
    except TypeError as error:
        if "weights_only" in str(error):
            raise LatentUpscaleError(
                f"{path.name}: this torch is too old to read .pt files safely (weights_only needs torch "
                "≥ 1.13); convert the file to .safetensors"
            ) from error
        raise
    except pickle.UnpicklingError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "global" not in str(error).lower():  # garbage (a bad opcode), not a refused function
            raise _not_weights(path, first_line[:200]) from error
        first_line = next((line for line in str(error).splitlines() if "global" in line.lower()), first_line)
        raise LatentUpscaleError(
            f"refusing to load {path.name}: it is a pickle that holds more than tensors, and unpickling "
            f"it could run code ({first_line}). Use a .safetensors file, or convert this one in an "
            "environment you trust."
        ) from error
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise _not_weights(
            path, f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
        ) from error


def _read_safetensors(path: Path) -> dict[str, Tensor]:
    from safetensors.torch import load_file

    try:
        from safetensors import SafetensorError
    except ImportError:  # very old safetensors: its Rust error derives from Exception only
        SafetensorError = Exception

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise LatentUpscaleError(f"cannot read {path.name} as safetensors: {error}") from error


def canonicalize_state_dict(raw: object, source: str = "state dict") -> dict[str, Tensor]:
    """Unwrap training containers (``params_ema``, ``state_dict``, …), strip a ``module.`` prefix
    (DataParallel) and keep only tensors, so every architecture sees the same flat mapping."""
    current = raw
    for _ in range(3):  # nested wrappers are rare but exist ({"model": {"state_dict": …}})
        if not isinstance(current, Mapping):
            break
        wrapper = next(
            (key for key in _WRAPPERS if isinstance(current.get(key), Mapping) and current.get(key)), None
        )
        if wrapper is None or any(isinstance(v, Tensor) for v in current.values()):
            break
        current = current[wrapper]
    if not isinstance(current, Mapping):
        raise LatentUpscaleError(f"{source} does not hold a state dict (found {type(raw).__name__})")
    tensors = {str(key): value for key, value in current.items() if isinstance(value, Tensor)}
    if not tensors:
        raise LatentUpscaleError(f"{source} holds no tensors")
    if all(key.startswith("module.") for key in tensors):
        tensors = {key[len("module.") :]: value for key, value in tensors.items()}
    return tensors


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a weights file (on the CPU) and return its canonical state dict."""
    path = Path(path)
    if not path.is_file():
        raise LatentUpscaleError(f"weights file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        raw: object = _read_safetensors(path)
    elif suffix in PICKLE_SUFFIXES:
        raw = _read_pickle(path)
    else:
        raise LatentUpscaleError(
            f"{path.name}: unknown weights format {suffix!r}; expected .safetensors (preferred) or "
            f"{', '.join(PICKLE_SUFFIXES)} (read as tensors only)"
        )
    return canonicalize_state_dict(raw, source=path.name)
