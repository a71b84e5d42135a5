"""Reading and writing latent files, chosen by suffix.

| suffix | read | written as |
|---|---|---|
| ``.latent`` | ComfyUI's: safetensors, ``latent_tensor`` | the same, keeping metadata and marker |
| ``.safetensors`` | the only tensor (or ``latent``/``latent_tensor``/``samples``) | tensor ``latent`` |
| ``.pt`` / ``.pth`` | ``torch.load(weights_only=True)``: a tensor or a dict holding one | a tensor |
| ``.npy`` | ``numpy.load(allow_pickle=False)`` | ``numpy.save`` |

ComfyUI's ``.latent`` files hold *raw* VAE latents when they carry the ``latent_format_version_0``
marker; older files without it hold SD1 model-space latents (ComfyUI multiplies them by 1/0.18215
when loading). :class:`LatentFile` records which (and, for the old files, their family), so a
caller can pick the right latent space; :func:`file_space_converter` says what a ``.latent`` to be
written needs (raw latents: a model-space latent is converted with its family's format, so the
family must be known before any work is done).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "SUFFIXES",
    "LatentFile",
    "atomic_write",
    "check_output_path",
    "file_space_converter",
    "read_latent",
    "write_latent",
]

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
    #: The model family the file implies, when the format says: ComfyUI's ``.latent`` files without
    #: the format marker hold SD1 model-space latents (``sd1``); else ``None``.
    family: str | None = None


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
    if tensor.dim() not in (4, 5):
        raise LatentUpscaleError(
            f"{path.name}: expected a [B, C, H, W] (or [C, H, W], or video [B, C, T, H, W]) latent, got "
            f"shape {tuple(tensor.shape)}"
        )
    return tensor, False


def _read_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str] | None]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
        return load_file(str(path)), metadata
    except Exception as error:  # SafetensorError, OSError, ValueError… : all mean "cannot read it"
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
            if _COMFY_MARKER in tensors:
                return LatentFile(latent, "raw", unbatched, metadata, companions=tensors)
            return LatentFile(latent, "scaled", unbatched, metadata, companions=tensors, family="sd1")
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
    except Exception as error:  # an empty file raises EOFError, a damaged header ValueError…
        raise LatentUpscaleError(
            f"{path.name}: not a readable .npy array ({error or type(error).__name__})"
        ) from error
    if not isinstance(array, np.ndarray):  # an .npz archive renamed to .npy
        raise LatentUpscaleError(f"{path.name}: holds an archive of arrays, not one .npy array")
    if array.dtype not in (np.float16, np.float32, np.float64):
        raise LatentUpscaleError(
            f"{path.name}: holds {array.dtype} values; a latent must be floating point "
            "(float16, float32 or float64)"
        )
    latent, unbatched = _batched(torch.from_numpy(array.copy()), path)
    return LatentFile(latent, None, unbatched)


def _temporary_beside(path: Path) -> Path:
    """A new, empty, uniquely named file in ``path``'s folder, keeping its suffix (``np.save``
    appends ``.npy`` and Pillow picks the format from the suffix). Created exclusively, with the
    permissions an ordinary write would give, so two writers never share it."""
    for _ in range(100):
        candidate = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _fsync(path: Path) -> None:
    try:
        with path.open("rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # file systems without fsync
            raise


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Write a file all or nothing: yields a temporary path in the same folder; when the block ends
    without an exception the file is flushed to disk and moved over ``path`` with ``os.replace``.

    On any failure (a full disk, ``RLIMIT_FSIZE``, an exception, an interrupt) the temporary file
    is removed and an existing ``path`` is left exactly as it was. A symbolic link at ``path`` is
    written through (the link stays); an existing file keeps its permissions. Used for every file
    the package writes (latents, demo and bench reports and images).

    >>> with atomic_write("out.json") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_beside(target)
    try:
        yield temporary
        _fsync(temporary)
        if target.is_file():
            with suppress(OSError):
                shutil.copymode(target, temporary)
        temporary.replace(target)  # os.replace: atomic on POSIX and Windows
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise


def check_output_path(path: str | Path) -> Path:
    """Refuse, before any work, an output that cannot be a latent file: an unsupported suffix, a
    folder, or a path below something that is not a folder. Raises :class:`LatentUpscaleError`."""
    path = Path(path)
    if path.is_dir():
        raise LatentUpscaleError(f"{path}: is a folder; name a file to write")
    _suffix(path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise LatentUpscaleError(f"{path}: cannot be created ({parent} is not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LatentUpscaleError(f"{path}: cannot be written (no write permission in {parent})")
    return path


def _is_write_failure(error: BaseException) -> bool:
    # safetensors' Rust core reports some I/O failures as a PanicException (a BaseException).
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def file_space_converter(
    path: str | Path, latent_space: str, family: str | None
) -> Callable[[Tensor], Tensor] | None:
    """What a latent in ``latent_space`` (``"scaled"``/``"raw"``) needs before it is written to
    ``path``: ``None`` when nothing, else a function from the latent to what the file holds. A
    ``.latent`` holds raw VAE latents (ComfyUI's format marker), so a model-space latent is converted
    with ``family``'s format (channel-wise for 5-D video latents ``[B, C, T, H, W]``; dtype kept).
    Call it before the work: it raises :class:`LatentUpscaleError` at once when ``family`` is needed
    but ``None``."""
    if Path(path).suffix.lower() != ".latent" or latent_space != "scaled":
        return None
    if family is None:
        raise LatentUpscaleError(
            "a ComfyUI .latent holds raw VAE latents; to write one from a model-space ('scaled') "
            "latent, say which model family it belongs to (family=, on the command line --family)"
        )
    from latent_upscale.core import frames_as_batch
    from latent_upscale.latent_formats import family_format

    latent_format = family_format(family)

    def to_raw(latent: Tensor) -> Tensor:
        flat, restore = frames_as_batch(latent.float())  # per-channel formats broadcast over 4-D
        return restore(latent_format.to_raw(flat)).to(latent.dtype)

    return to_raw


def write_latent(path: str | Path, latent: Tensor, like: LatentFile | None = None) -> Path:
    """Write ``latent`` in the format the suffix names; ``like`` carries metadata from the input file.

    ``.latent`` files are always written in ComfyUI's current format (raw latents, with the format
    marker): convert model-space latents to raw before writing one. The write is atomic
    (:func:`atomic_write`): a failure leaves no partial file and any previous file intact. Raises
    :class:`LatentUpscaleError` for an unusable path and ``OSError`` (naming the file) when the
    write itself fails.
    """
    path = check_output_path(path)
    suffix = path.suffix.lower()
    if like is not None and like.unbatched and latent.shape[0] == 1:
        latent = latent[0]
    latent = latent.detach().to("cpu").contiguous()
    writer: Callable[[Path], object]
    if suffix == ".latent":
        # ComfyUI reads the marker as "raw VAE latent"; callers convert model-space latents first.
        tensors = dict(like.companions) if like is not None else {}
        tensors[_COMFY_MARKER] = torch.tensor([])
        tensors[_COMFY_TENSOR] = latent
        metadata = like.metadata if like is not None else None

        def writer(tmp: Path) -> object:
            return save_file(tensors, str(tmp), metadata=metadata)

    elif suffix == ".safetensors":
        metadata = like.metadata if like is not None else None

        def writer(tmp: Path) -> object:
            return save_file({"latent": latent}, str(tmp), metadata=metadata)

    elif suffix in (".pt", ".pth"):

        def writer(tmp: Path) -> object:
            return torch.save(latent, tmp)

    else:
        import numpy as np

        array = (latent.float() if latent.dtype == torch.bfloat16 else latent).numpy()  # no bfloat16

        def writer(tmp: Path) -> object:
            return np.save(tmp, array)

    try:
        with atomic_write(path) as temporary:
            writer(temporary)
    except BaseException as error:
        if not _is_write_failure(error) or isinstance(error, LatentUpscaleError):
            raise
        reason = getattr(error, "strerror", None) or (str(error).splitlines() or [type(error).__name__])[0]
        code = getattr(error, "errno", None) or errno.EIO
        raise OSError(code, f"{path}: could not be written ({reason}); nothing was replaced") from error
    return path
