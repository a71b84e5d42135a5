"""The README's main job: compare every registered method, on a real photograph when it can.

* With a tiny autoencoder (``--autoencoder PATH``, or a published TAESD pair found in the models
  folders the neural room searches): :mod:`.photo`, the quality benchmark's protocol on one photograph.
* Without one: :mod:`.scene`, a built-in procedural scene seen through the linear latent preview, and
  one line (console and report) saying how to get the real one.

Files: ``methods-comparison.png``, ``report.md``, ``report.json`` (``{"source": "photograph" | "scene",
…}``) and the schedule figures, each written atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from latent_upscale.errors import LatentUpscaleError

from .grid import extra_figures
from .scene import MethodScore, demo_latent, render_scene, run_scene_demo, score_methods

if TYPE_CHECKING:
    from latent_upscale.lab.evaluation import BenchAutoencoder
    from latent_upscale.neural.options import NeuralOptions

__all__ = ["REAL_PHOTO_HINT", "MethodScore", "demo_latent", "render_scene", "run_demo", "score_methods"]

log = logging.getLogger(__name__)

REAL_PHOTO_HINT = (
    "No tiny autoencoder found, so this is the built-in test scene; for a real photograph pass "
    "--autoencoder DIR holding a TAESD pair such as taef2_encoder.pth/taef2_decoder.pth "
    "(github.com/madebyollin/taesd, MIT), or put the pair in a models folder (--models-dir, "
    "$LATENT_UPSCALE_MODELS)."
)


def _neural_options(models_dir: Sequence[str | os.PathLike[str]] | None) -> NeuralOptions:
    from latent_upscale.neural.options import NeuralOptions

    # The demo never downloads: it runs on a fresh machine with no network and shows what is local.
    return NeuralOptions(models_dir=list(models_dir) if models_dir else None, allow_download=False)


def _found_autoencoder(neural: NeuralOptions) -> BenchAutoencoder | None:
    """A TAESD pair from the models folders, or ``None`` (saying why when one is there but unusable)."""
    from .photo import check_photo_support, find_tae_pair, open_autoencoder

    pair = find_tae_pair(neural)
    if pair is None:
        return None
    try:
        check_photo_support()
        autoencoder = open_autoencoder(pair)
    except LatentUpscaleError as error:
        log.warning("demo: not using %s and %s: %s", pair[0], pair[1].name, error.summary)
        return None
    log.info("demo: using the tiny autoencoder %s and %s", pair[0], pair[1].name)
    return autoencoder


def run_demo(
    out_dir: str | os.PathLike[str] = "demo-out",
    *,
    autoencoder: Sequence[str | os.PathLike[str]] | None = None,
    models_dir: Sequence[str | os.PathLike[str]] | None = None,
    progress: bool = False,
) -> dict[str, Path]:
    """Compare every method and write the grid, the report (markdown and JSON) and the schedule figures.

    ``autoencoder``: a folder with a TAESD encoder/decoder pair, or the two files; ``None`` looks for a
    published pair (``taesd_encoder.pth`` … ``taef2_decoder.pth``) in ``models_dir``, then the folders
    the neural method searches (``$LATENT_UPSCALE_MODELS``, …), and falls back to the built-in scene.
    Returns ``{name: path}`` of every file written (``comparison``, ``report``, ``report_json``, …).

    Raises :class:`LatentUpscaleError` before any work when ``out_dir`` is an existing file, or the
    given ``autoencoder`` does not exist, is not a TAESD pair, or scikit-image is missing.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise LatentUpscaleError(f"{out}: is a file; the demo writes into a folder")
    neural = _neural_options(models_dir)
    chosen: BenchAutoencoder | None
    if autoencoder:
        from .photo import check_photo_support, open_autoencoder

        chosen = open_autoencoder(autoencoder)
        check_photo_support()
    else:
        chosen = _found_autoencoder(neural)
    out.mkdir(parents=True, exist_ok=True)
    if chosen is None:
        log.info("demo: %s", REAL_PHOTO_HINT)
        written = run_scene_demo(out, REAL_PHOTO_HINT, neural)
    else:
        from .photo import run_photo_demo

        written = run_photo_demo(out, chosen, neural, progress=progress)
    written.update(extra_figures(out))
    return written
