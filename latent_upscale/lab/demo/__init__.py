"""The README's main job: compare every registered method, on a real photograph when it can.

* With a tiny autoencoder (``--autoencoder PATH``, or a published TAESD pair found in the models
  folders the neural room searches): :mod:`.photo`, the quality benchmark's protocol on one photograph.
* Without one, when downloads are allowed (the CLI's default; ``--offline`` or ``HF_HUB_OFFLINE=1``
  stops it): the TAEF2 pair (madebyollin/taesd, MIT, 2 × 2.7 MB) through the neural room's
  downloader, each file checked against its pinned SHA-256 before it is kept, said on the console;
  then the photograph as above. The interpolations look alike on the synthetic scene, so the
  photograph is what makes the demo's point.
* Otherwise (offline, or the download failed): :mod:`.scene`, a built-in procedural scene seen through
  the linear latent preview, and one line (console and report) saying what to fetch and where to put it.

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

__all__ = [
    "DOWNLOAD_FAMILY",
    "MethodScore",
    "demo_latent",
    "offline_hint",
    "render_scene",
    "run_demo",
    "score_methods",
]

log = logging.getLogger(__name__)

#: The tiny autoencoder the demo fetches when it has none: the only one whose SHA-256 is pinned.
DOWNLOAD_FAMILY = "flux2"


def _neural_options(models_dir: Sequence[str | os.PathLike[str]] | None) -> NeuralOptions:
    from latent_upscale.neural.options import NeuralOptions

    # neural weights are never fetched for the demo: only the tiny autoencoder (see _downloaded).
    return NeuralOptions(models_dir=list(models_dir) if models_dir else None, allow_download=False)


def offline_hint(neural: NeuralOptions, why: str = "downloads are off") -> str:
    """One line: which files to fetch from where, and the folder to put them in."""
    from latent_upscale.neural.catalog import weight_sets_for
    from latent_upscale.neural.downloads import manual_url
    from latent_upscale.neural.resolution import download_dir

    entries = weight_sets_for(DOWNLOAD_FAMILY, "autoencoder")[0].entries
    urls = " and ".join(manual_url(entry, neural) for entry in entries)
    return (
        f"No tiny autoencoder here and {why}, so this is the built-in test scene; for the "
        f"real-photograph demo fetch {urls} (MIT, 2 × 2.7 MB) into {download_dir(neural)}, or pass "
        "--autoencoder DIR holding such a pair."
    )


def _downloaded(neural: NeuralOptions) -> BenchAutoencoder | None:
    """Fetch the TAEF2 pair with the neural room's pinned downloader; ``None`` (said in one warning)
    when it fails. Nothing is fetched when scikit-image is missing: the photograph needs it."""
    import dataclasses

    from latent_upscale.neural.resolution import download_dir, resolve_weights

    from .photo import check_photo_support, open_autoencoder

    try:
        check_photo_support()
    except LatentUpscaleError as error:
        log.warning("demo: not downloading a tiny autoencoder: %s", error.summary)
        return None
    options = dataclasses.replace(neural, allow_download=True)
    log.info(
        "demo: no tiny autoencoder found; downloading the TAEF2 pair (madebyollin/taesd, MIT, 2 × 2.7 MB, "
        "SHA-256 pinned) into %s (--offline skips this)",
        download_dir(options),
    )
    try:
        resolved = resolve_weights(DOWNLOAD_FAMILY, options, role="autoencoder")
        return open_autoencoder(list(resolved.parts or resolved.files.values()))
    except LatentUpscaleError as error:
        log.warning("demo: could not download the tiny autoencoder: %s", error.summary)
        return None


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
    download: bool = False,
    neural: NeuralOptions | None = None,
) -> dict[str, Path]:
    """Compare every method and write the grid, the report (markdown and JSON) and the schedule figures.

    ``autoencoder``: a folder with a TAESD encoder/decoder pair, or the two files; ``None`` looks for a
    published pair (``taesd_encoder.pth`` … ``taef2_decoder.pth``) in ``models_dir``, then the folders
    the neural method searches (``$LATENT_UPSCALE_MODELS``, …), then, with ``download`` (the CLI's
    default) and not offline, fetches the TAEF2 pair into the download folder; else it falls back to
    the built-in scene with one line saying what to fetch. ``neural``: the options for finding and
    fetching files (a mirror's ``tae_base_url``, say; default: ``models_dir`` and the environment).
    Returns ``{name: path}`` of every file written (``comparison``, ``report``, ``report_json``, …).

    Raises :class:`LatentUpscaleError` before any work when ``out_dir`` is an existing file, or the
    given ``autoencoder`` does not exist, is not a TAESD pair, or scikit-image is missing.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise LatentUpscaleError(f"{out}: is a file; the demo writes into a folder")
    neural = neural if neural is not None else _neural_options(models_dir)
    offline = not download or neural.is_offline
    chosen: BenchAutoencoder | None
    if autoencoder:
        from .photo import check_photo_support, open_autoencoder

        chosen = open_autoencoder(autoencoder)
        check_photo_support()
    else:
        chosen = _found_autoencoder(neural)
        if chosen is None and not offline:
            chosen = _downloaded(neural)
    out.mkdir(parents=True, exist_ok=True)
    if chosen is None:
        hint = offline_hint(neural) if offline else offline_hint(neural, "the download failed")
        log.info("demo: %s", hint)
        written = run_scene_demo(out, hint, neural)
    else:
        from .photo import run_photo_demo

        written = run_photo_demo(out, chosen, neural, progress=progress)
    written.update(extra_figures(out))
    return written
