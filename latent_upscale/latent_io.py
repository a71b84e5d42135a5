"""Reading and writing latent files, chosen by suffix.

| suffix | read | written as |
|---|---|---|
| ``.latent`` | ComfyUI's: safetensors, ``latent_tensor`` | the same, keeping metadata and marker |
| ``.safetensors`` | the only tensor (or ``latent``/``latent_tensor``/``samples``) | tensor ``latent`` |
| ``.pt`` / ``.pth`` | ``torch.load(weights_only=True)``: a tensor or a dict holding one | a tensor |
| ``.npy`` | ``numpy.load(allow_pickle=False)`` | ``numpy.save`` |

ComfyUI's ``.latent`` files hold *raw* VAE latents when they carry the ``latent_format_version_0``
marker; older files without it hold SD1 model-space latents (ComfyUI multiplies them by 1/0.18215
when loading). :class:`LatentFile` records which, so the CLI can pick the right latent space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = ["SUFFIXES", "LatentFile", "read_latent", "write_latent"]

SUFFIXES = (".latent", ".safetensors", ".pt", ".pth", ".npy")
_COMFY_TENSOR = "latent_tensor"
_COMFY_MARKER = "latent_format_version_0"
_PREFERRED_KEYS = ("latent", _COMFY_TENSOR, "samples")


@dataclass
class LatentFile:
    """A latent as read from disk, with what is needed to write it back faithfully."""

    latent: Tensor
    #: "raw", "scaled", or None when the format does not say.
    latent_space: str | None = None
    #: The file held a 3-D [C, H, W] tensor; written back the same way.
    unbatched: bool = False
    metadata: dict[str, str] | None = None
    #: Other tensors of a ``.latent`` file (its format marker), kept on write.
    companions: dict[str, Tensor] = field(default_factory=dict)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LatentUpscaleError(
            f"{path.name}: unsupported latent file type {suffix or '(no suffix)'!r}; "
            f"expected one of: {', '.join(SUFFIXES)}"
        )
    return suffix


def _pick_tensor(tensors: dict[str, Tensor], path: Path) -> Tensor:
    if len(tensors) == 1:
        return next(iter(tensors.values()))
    for key in _PREFERRED_KEYS:
        if key in tensors and isinstance(tensors[key], Tensor):
            return tensors[key]
    raise LatentUpscaleError(
        f"{path.name}: holds {len(tensors)} tensors ({', '.join(sorted(tensors)) or 'none'}); expected "
        f"one, or one named {' / '.join(_PREFERRED_KEYS)}"
    )


def _batched(tensor: object, path: Path) -> tuple[Tensor, bool]:
    if not isinstance(tensor, Tensor):
        raise LatentUpscaleError(f"{path.name}: expected a tensor, found {type(tensor).__name__}")
    if tensor.dim() == 3:
        return tensor.unsqueeze(0), True
    if tensor.dim() != 4:
        raise LatentUpscaleError(
            f"{path.name}: expected a [B, C, H, W] (or [C, H, W]) latent, got shape {tuple(tensor.shape)}"
        )
    return tensor, False


def _read_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str] | None]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError) as error:
        raise LatentUpscaleError(f"{path.name}: not a readable safetensors file ({error})") from error


def read_latent(path: str | Path) -> LatentFile:
    """Read a latent file; any problem becomes one :class:`LatentUpscaleError` naming the file."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise LatentUpscaleError(f"{path}: no such file")
    if suffix in (".latent", ".safetensors"):
        tensors, metadata = _read_safetensors(path)
        if suffix == ".latent":
            if _COMFY_TENSOR not in tensors:
                raise LatentUpscaleError(
                    f"{path.name}: not a ComfyUI latent (no {_COMFY_TENSOR!r} tensor; found "
                    f"{', '.join(sorted(tensors)) or 'none'})"
                )
            latent, unbatched = _batched(tensors.pop(_COMFY_TENSOR), path)
            space = "raw" if _COMFY_MARKER in tensors else "scaled"
            return LatentFile(latent, space, unbatched, metadata, companions=tensors)
        latent, unbatched = _batched(_pick_tensor(tensors, path), path)
        return LatentFile(latent, None, unbatched, metadata)
    if suffix in (".pt", ".pth"):
        try:
            loaded = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError…
            raise LatentUpscaleError(
                f"{path.name}: cannot be read as a tensor-only torch file (weights_only=True refuses "
                f"anything else): {str(error).splitlines()[0] if str(error) else type(error).__name__}"
            ) from error
        if isinstance(loaded, dict):
            loaded = _pick_tensor({k: v for k, v in loaded.items() if isinstance(v, Tensor)}, path)
        latent, unbatched = _batched(loaded, path)
        return LatentFile(latent, None, unbatched)
    try:
        import numpy as np
    except ImportError as error:
        raise LatentUpscaleError(
            f"{path.name}: reading .npy files needs numpy (pip install numpy)"
        ) from error
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise LatentUpscaleError(f"{path.name}: not a readable .npy array ({error})") from error
    if array.dtype.kind != "f":
        raise LatentUpscaleError(f"{path.name}: holds {array.dtype} values; a latent must be floating point")
    latent, unbatched = _batched(torch.from_numpy(array.copy()), path)
    return LatentFile(latent, None, unbatched)


def write_latent(path: str | Path, latent: Tensor, like: LatentFile | None = None) -> Path:
    """Write ``latent`` in the format the suffix names; ``like`` carries metadata from the input file.

    ``.latent`` files are always written in ComfyUI's current format (raw latents, with the format
    marker): convert model-space latents to raw before writing one.
    """
    path = Path(path)
    suffix = _suffix(path)
    if like is not None and like.unbatched and latent.shape[0] == 1:
        latent = latent[0]
    latent = latent.detach().to("cpu").contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".latent":
        # ComfyUI reads the marker as "raw VAE latent"; callers convert model-space latents first.
        tensors = dict(like.companions) if like is not None else {}
        tensors[_COMFY_MARKER] = torch.tensor([])
        tensors[_COMFY_TENSOR] = latent
        metadata = like.metadata if like is not None else None
        save_file(tensors, str(path), metadata=metadata)
    elif suffix == ".safetensors":
        save_file({"latent": latent}, str(path), metadata=like.metadata if like is not None else None)
    elif suffix in (".pt", ".pth"):
        torch.save(latent, path)
    else:
        import numpy as np

        if latent.dtype == torch.bfloat16:  # numpy has no bfloat16
            latent = latent.float()
        np.save(path, latent.numpy())
    return path
