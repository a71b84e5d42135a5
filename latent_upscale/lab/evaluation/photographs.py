"""The photographs ``bench quality`` measures: the plan (images, crops, scales, methods) and loading
them (see :mod:`latent_upscale.lab.bench.quality`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

__all__ = ["BUILTIN_IMAGES", "QUICK_CROP", "QUICK_IMAGES", "QualityPlan", "lanczos_image", "load_images"]

#: scikit-image's colour photographs (``skimage.data``), in report order.
BUILTIN_IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
QUICK_IMAGES = ("astronaut", "coffee")
QUICK_CROP = 256
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


@dataclass(frozen=True)
class QualityPlan:
    """What one run measures."""

    quick: bool = False
    scales: tuple[float, ...] = (1.5, 2.0)
    #: Centre crop side for every image (``None``: the whole photograph, cropped to multiples of 16).
    crop: int | None = None
    builtin_images: tuple[str, ...] = BUILTIN_IMAGES
    images_dir: Path | None = None
    #: Method ids to run (``None``: every registered method).
    methods: tuple[str, ...] | None = None
    #: Also measure FLUX.2 latents packed as the hosts hold them (only with a FLUX.2 autoencoder).
    packed: bool = True

    @classmethod
    def quick_plan(cls, images_dir: Path | None = None) -> QualityPlan:
        """Two images, 2× only, 256 px centre crops (CI runs it): measured on 2 shared cores on 2026-12-07,
        89 s at load average 12 and 208 s at 19–23 (`quick` in the README's runs)."""
        return cls(
            quick=True, scales=(2.0,), crop=QUICK_CROP, builtin_images=QUICK_IMAGES, images_dir=images_dir
        )


def _to_tensor(array: np.ndarray) -> Tensor:
    """``[H, W]`` or ``[H, W, C]`` uint8/float → ``[1, 3, H, W]`` float32 in [0, 1]."""
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = array[..., :3]
    if array.dtype == np.uint8:
        data = array.astype(np.float32) / 255.0
    else:
        data = np.clip(array.astype(np.float32), 0.0, 1.0)
    return torch.from_numpy(np.ascontiguousarray(data)).permute(2, 0, 1)[None]


def _crop(image: Tensor, side: int | None) -> Tensor:
    """Crop to multiples of 16 (top-left), or a centred ``side`` square (also a multiple of 16)."""
    height, width = image.shape[2] // 16 * 16, image.shape[3] // 16 * 16
    if side is not None:
        side = min(side // 16 * 16, height, width)
        top, left = (image.shape[2] - side) // 2, (image.shape[3] - side) // 2
        return image[:, :, top : top + side, left : left + side]
    return image[:, :, :height, :width]


def load_images(plan: QualityPlan) -> dict[str, Tensor]:
    """``{name: [1, 3, H, W] float32 in [0, 1]}``: the user's folder or scikit-image's photographs.

    Raises :class:`LatentUpscaleError` for an empty or missing folder, images smaller than 64 px, or a
    missing scikit-image (the ``bench`` extra).
    """
    images: dict[str, Tensor] = {}
    if plan.images_dir is not None:
        from PIL import Image

        folder = Path(plan.images_dir)
        if not folder.is_dir():
            raise LatentUpscaleError(f"--images: not a folder: {folder}")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if plan.quick:
            paths = paths[:2]
        if not paths:
            raise LatentUpscaleError(f"--images: {folder} holds no {'/'.join(_IMAGE_SUFFIXES)} images")
        for path in paths:
            with Image.open(path) as opened:
                images[path.stem] = _crop(_to_tensor(np.asarray(opened.convert("RGB"))), plan.crop)
    else:
        try:
            from skimage import data
        except ImportError as error:
            raise LatentUpscaleError(
                "the built-in photographs come from scikit-image: pip install 'latent-upscale[bench]' "
                "(or pass --images DIR)"
            ) from error
        for name in plan.builtin_images:
            images[name] = _crop(_to_tensor(getattr(data, name)()), plan.crop)
    for name, image in images.items():
        if min(image.shape[2:]) < 64:
            raise LatentUpscaleError(f"image {name!r} is too small ({tuple(image.shape[2:])}); need ≥ 64 px")
    return images


def lanczos_image(image: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize ``[1, 3, H, W]`` to ``size = (height, width)`` with Pillow's Lanczos on float planes."""
    from PIL import Image

    if tuple(image.shape[2:]) == tuple(size):
        return image.clone()
    planes = []
    for plane in image[0].cpu().numpy():
        resized = Image.fromarray(plane.astype(np.float32), mode="F").resize(
            (size[1], size[0]), Image.LANCZOS
        )
        planes.append(np.asarray(resized, dtype=np.float32))
    return torch.from_numpy(np.stack(planes))[None]
