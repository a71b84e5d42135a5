"""Where the real TAEF2 weights live (``../shared/weights/taef2`` from the repository root, read-only,
never copied into the repository) and a real photograph to feed them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def shared_weights(name: str = "taef2") -> Path | None:
    """``$LATENT_UPSCALE_SHARED_WEIGHTS/<name>``, else the first ``shared/weights/<name>`` beside the
    repository root or one of its parents (git worktrees sit deeper than the main checkout)."""
    override = os.environ.get("LATENT_UPSCALE_SHARED_WEIGHTS")
    candidates = [Path(override) / name] if override else []
    candidates += [parent / "shared" / "weights" / name for parent in ROOT.parents]
    return next((path for path in candidates if (path / f"{name}_encoder.pth").is_file()), None)


def require_taef2() -> Path:
    """The real TAEF2 folder, or skip the test saying where it was looked for."""
    folder = shared_weights("taef2")
    if folder is None:
        pytest.skip(
            "real TAEF2 weights not found (../shared/weights/taef2 or $LATENT_UPSCALE_SHARED_WEIGHTS)"
        )
    return folder


def photograph(name: str = "astronaut", side: int | None = None) -> torch.Tensor:
    """A scikit-image photograph as ``[1, 3, H, W]`` float32 in [0, 1], cropped to multiples of 16
    (or to a centred ``side × side`` square)."""
    data = pytest.importorskip("skimage.data")
    image = getattr(data, name)()[..., :3]
    height, width = image.shape[0] // 16 * 16, image.shape[1] // 16 * 16
    if side is not None:
        top, left = (height - side) // 2, (width - side) // 2
        image = image[top : top + side, left : left + side]
    else:
        image = image[:height, :width]
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255.0
