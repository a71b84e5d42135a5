"""The demo on a real photograph through a real autoencoder: each method seen on a real image.

It is the quality benchmark's protocol (:mod:`latent_upscale.lab.bench.quality`, SesquiLSR's published one)
on one photograph, small enough to run in seconds: a 256 × 256 centre crop of scikit-image's
``chelsea`` (the cat's face: fur, whiskers, eyes) is Lanczos-downsampled by 1.5 and 2, encoded with a
tiny autoencoder (TAESD family, madebyollin/taesd, MIT), its latent enlarged back to the 32 × 32
full-size latent by every registered method, decoded and compared with the original (PSNR, SSIM and
HaarPSI from :mod:`latent_upscale.lab.evaluation.metrics`), beside the ``ceiling`` (the original encoded and
decoded) and the ``roundtrip`` (the small latent decoded, Lanczos-enlarged in pixels, encoded again).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

from .grid import GridRow, save_grid, write_text

if TYPE_CHECKING:
    from latent_upscale.lab.evaluation import BenchAutoencoder, Resize
    from latent_upscale.neural.options import NeuralOptions

__all__ = [
    "PHOTO",
    "PHOTO_SIDE",
    "RECOMMENDED",
    "check_photo_support",
    "find_tae_pair",
    "open_autoencoder",
    "run_photo_demo",
]

log = logging.getLogger(__name__)

#: scikit-image's photograph (``skimage.data.chelsea``, 300 × 451; © Stéfan van der Walt, CC0) and
#: the side of its centre crop, in image pixels: 32 × 32 latent pixels at 1/8.
PHOTO = "chelsea"
PHOTO_SIDE = 256
PHOTO_SCALES = (1.5, 2.0)
#: Tiles per line in the grid (a scale's row wraps after this many).
GRID_COLUMNS = 6
_WEIGHT_SUFFIXES = (".pth", ".safetensors")


def find_tae_pair(neural: NeuralOptions) -> tuple[Path, Path] | None:
    """The first published TAESD pair (``taesd_encoder.pth`` + ``taesd_decoder.pth``, …, ``taef2_…``,
    or ``.safetensors``) in the folders the neural room searches (``--models-dir``, then
    ``$LATENT_UPSCALE_MODELS``, the extension's ``models/``, the download cache) and their hosts'
    tiny-VAE subfolders (``VAE-taesd``, ``VAE-approx``, ``vae_approx``), or ``None``.

    Folders are tried in that order; in each, the variants in the order of
    :data:`~latent_upscale.neural.archs.tae.VARIANTS` (SD1's first).
    """
    from latent_upscale.neural.archs.tae import VARIANTS
    from latent_upscale.neural.catalog import TINY_VAE_FOLDERS
    from latent_upscale.neural.weights import search_dirs

    for base, _label in search_dirs(neural):
        # each folder, then the hosts' tiny-VAE subfolders in it, as the tae method searches
        for folder in (base, *(base / sub for sub in TINY_VAE_FOLDERS)):
            for variant in VARIANTS.values():
                for suffix in _WEIGHT_SUFFIXES:
                    encoder = folder / f"{variant.id}_encoder{suffix}"
                    decoder = folder / f"{variant.id}_decoder{suffix}"
                    if encoder.is_file() and decoder.is_file():
                        return encoder, decoder
    return None


def open_autoencoder(paths: Sequence[str | os.PathLike[str]]) -> BenchAutoencoder:
    """Load a TAESD pair: a folder holding ``*encoder*`` and ``*decoder*`` weight files, or the two files.

    Raises :class:`LatentUpscaleError` (one line, starting ``--autoencoder``) for a missing path, a
    folder without a pair, or files that are not a matching TAESD encoder/decoder.
    """
    from latent_upscale.lab.evaluation import load_autoencoder
    from latent_upscale.neural.archs.tae import find_pair

    resolved = [Path(path).expanduser() for path in paths]
    missing = [str(path) for path in resolved if not path.exists()]
    if missing:
        raise LatentUpscaleError(f"--autoencoder: not found: {', '.join(missing)}")
    expected = (
        "a folder with a TAESD encoder/decoder pair (e.g. taef2_encoder.pth and taef2_decoder.pth "
        "from madebyollin/taesd) or the two files"
    )
    try:
        if len(resolved) == 1 and resolved[0].is_dir():
            pair = find_pair(resolved[0])
        elif len(resolved) == 2 and all(path.is_file() for path in resolved):
            pair = (resolved[0], resolved[1])
        else:
            given = ", ".join(str(path) for path in resolved)
            raise LatentUpscaleError(f"expected {expected}; got {given}")
        return load_autoencoder(list(pair))
    except LatentUpscaleError as error:
        raise LatentUpscaleError(f"--autoencoder: {error.summary}") from error


def check_photo_support() -> None:
    """Raise :class:`LatentUpscaleError` unless scikit-image (the photograph, SSIM, PSNR; it brings
    SciPy, which HaarPSI uses) can be imported: the ``demo`` extra."""
    try:
        import scipy.signal  # noqa: F401
        import skimage.data
        import skimage.metrics  # noqa: F401
    except ImportError as error:
        raise LatentUpscaleError(
            f"the real-photograph demo needs scikit-image ({error}): pip install 'latent-upscale[demo]'"
        ) from error


def _photograph() -> Tensor:
    from latent_upscale.lab.evaluation import QualityPlan, load_images

    plan = QualityPlan(scales=PHOTO_SCALES, crop=PHOTO_SIDE, builtin_images=(PHOTO,))
    return load_images(plan)[PHOTO]


def _timed(method_id: str, resize: Resize, times: dict[tuple[str, int], float]) -> Resize:
    """``resize`` that also records its median wall time over 3 runs in ``times[(id, source width)]``
    (the source latent's width in latent pixels tells the scales apart)."""

    def run(latent: Tensor, size: tuple[int, int]) -> Tensor:
        result = resize(latent, size)  # a method that cannot run raises here, once
        durations = []
        for _ in range(3):
            started = time.perf_counter()
            resize(latent, size)
            durations.append(time.perf_counter() - started)
        times[method_id, latent.shape[-1]] = statistics.median(durations)
        return result

    return run


def _measure(
    image: Tensor, autoencoder: BenchAutoencoder, neural: NeuralOptions | None, progress: bool
) -> tuple[list[dict[str, Any]], dict[str, str], dict[tuple[str, float], Tensor]]:
    """Rows ``{method, scale, psnr, ssim, perceptual, higher_is_better, time_ms}``, the skipped methods
    ``{id: reason}`` and every picture ``{(method, scale): [1, 3, H, W]}``."""
    from tqdm.auto import tqdm

    from latent_upscale.lab.evaluation import as_array, decode_protocol, method_runners, score_decoded

    times: dict[tuple[str, int], float] = {}
    plain = method_runners(autoencoder.family, neural=neural, autoencoder_dir=autoencoder.models_dir)
    runners = [(id_, _timed(id_, run, times)) for id_, run in plain]
    reference = as_array(image)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    pictures: dict[tuple[str, float], Tensor] = {("original", 0.0): image}
    total = 1 + len(PHOTO_SCALES) * (1 + len(runners))
    with tqdm(total=total, desc="demo", unit="decode", disable=not progress, leave=False) as bar:
        for step in decode_protocol(image, autoencoder, runners, PHOTO_SCALES, skipped, bar.set_postfix_str):
            if step.image is not None:
                pictures[(step.method, step.scale)] = step.image
            if step.method == "input":
                continue
            bar.update()
            if step.image is None:
                continue
            row = {"method": step.method, "scale": step.scale, **score_decoded(reference, step.image)}
            row["higher_is_better"] = True
            time_s = times.get((step.method, _latent_sizes(image, step.scale)[0])) if step.scale else None
            row["time_ms"] = None if time_s is None else round(time_s * 1000, 3)
            rows.append(row)
    for method_id, reason in skipped.items():
        log.info("demo: %s skipped: %s", method_id, reason)
    ceiling = next(row for row in rows if row["method"] == "ceiling")
    rows = [{**ceiling, "scale": scale} for scale in PHOTO_SCALES] + [r for r in rows if r is not ceiling]
    return rows, skipped, pictures


#: The method the README recommends (where its files exist): first in the grid, next to the original.
RECOMMENDED = "tae"
#: The WebUI's own latent upscale, the "before" of the hero picture.
WEBUI_METHOD = "bilinear"


def _ranked(rows: list[dict[str, Any]], scale: float) -> list[dict[str, Any]]:
    """The rows of ``scale``: ceiling, the recommended method, roundtrip, then the other methods by
    HaarPSI, best first."""
    at_scale = [row for row in rows if row["scale"] == scale]
    first = ("ceiling", RECOMMENDED, "roundtrip")
    references = [row for name in first for row in at_scale if row["method"] == name]
    methods = sorted((row for row in at_scale if row not in references), key=lambda row: -row["perceptual"])
    return references + methods


def _hero(
    image: Tensor, rows: list[dict[str, Any]], pictures: dict[tuple[str, float], Tensor]
) -> list[GridRow]:
    """One line at 2×: the original, the recommended method, the WebUI's bilinear (those that ran)."""
    by_method = {row["method"]: row for row in rows if row["scale"] == 2.0}
    tiles = [("original", image[0])]
    for method, note in ((RECOMMENDED, "recommended"), (WEBUI_METHOD, "the WebUI's latent upscale")):
        if method in by_method:
            tiles.append(
                (f"{method}: {note}\n{_caption('', by_method[method]).strip()}", pictures[method, 2.0][0])
            )
    return [("", tiles)]


def _caption(name: str, row: dict[str, Any]) -> str:
    return f"{name}\n{row['psnr']:.1f} dB · HaarPSI {row['perceptual']:.2f}"


def _latent_sizes(image: Tensor, scale: float) -> tuple[int, int]:
    full = image.shape[-1] // 8
    return max(1, round(full / scale)), full


def _grid(
    image: Tensor, rows: list[dict[str, Any]], pictures: dict[tuple[str, float], Tensor], autoencoder: Any
) -> tuple[list[GridRow], str, list[str]]:
    side = image.shape[-1]
    ceiling = next(row for row in rows if row["method"] == "ceiling")
    references = [
        ("original", image[0]),
        (_caption("ceiling (no upscale)", ceiling), pictures["ceiling", 0.0][0]),
    ]
    for scale in PHOTO_SCALES:
        small = pictures["input", scale]
        enlarged = torch.nn.functional.interpolate(small, size=(side, side), mode="nearest")[0]
        references.append((f"input for {scale:g}×\n{small.shape[-1]} px, shown enlarged", enlarged))
    grid: list[GridRow] = [("references", references)]
    for scale in PHOTO_SCALES:
        low, full = _latent_sizes(image, scale)
        tiles = []
        for row in _ranked(rows, scale):
            if row["method"] == "ceiling":
                continue
            name = {
                "roundtrip": "roundtrip (pixel Lanczos)",
                RECOMMENDED: f"{RECOMMENDED} (recommended)",
            }.get(row["method"], row["method"])
            tiles.append((_caption(name, row), pictures[row["method"], scale][0]))
        grid.append((f"{scale:g}× upscale\nlatent {low}→{full}", tiles))
    ae = autoencoder.description
    title = f"Latent upscaling of a real photograph through {ae.get('label', ae.get('name'))}"
    notes = [
        f"scikit-image's {PHOTO}, {side}×{side} crop: Lanczos-downsampled, encoded, the latent enlarged by "
        "each method, decoded. Captions: PSNR and HaarPSI against the original (higher is better).",
        "ceiling: the original encoded and decoded (the best a latent upscaler can reach here); roundtrip: "
        f"decode, Lanczos in pixels, encode (what an image upscaler does). {RECOMMENDED} (the recommended "
        "method) first, then the pixel round trip, then the other methods best first by HaarPSI.",
    ]
    return grid, title, notes


def _markdown(results: dict[str, Any]) -> str:
    ae, environment = results["autoencoder"], results["environment"]
    side = results["image"]["size"][0]
    lines = [
        f"# Latent Upscale demo: a real photograph through {ae.get('label', ae.get('name'))}",
        "",
        f"scikit-image's `{PHOTO}` ({side}×{side} centre crop) is Lanczos-downsampled by the scale, encoded "
        f"with {ae.get('name')} ({', '.join(ae.get('files', []))}), its latent enlarged back to the "
        "full-size latent by each method, decoded and compared with the original: the protocol of "
        "`python -m latent_upscale bench quality` on one photograph. `ceiling`: the original encoded and "
        "decoded (the best a latent upscaler can reach through this autoencoder); `roundtrip`: the small "
        "latent decoded, Lanczos-enlarged in pixels and encoded again (what an image upscaler does). "
        "Higher is better in every column (HaarPSI: Reisenhofer et al. 2018). Resize times: median of 3 "
        f"runs on this machine (torch {environment['torch']}, {environment['threads']} threads).",
        "",
    ]
    for scale in results["scales"]:
        low, full = results["latent_sizes"][f"{scale:g}"]
        lines += [
            f"## {scale:g}× (latent {low}×{low} → {full}×{full})",
            "",
            "| method | PSNR (dB) | SSIM | HaarPSI | resize (ms) |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in _ranked(results["rows"], scale):
            time_ms = "–" if row["time_ms"] is None else f"{row['time_ms']:.2f}"
            lines.append(
                f"| `{row['method']}` | {row['psnr']:.2f} | {row['ssim']:.3f} | {row['perceptual']:.3f} | "
                f"{time_ms} |"
            )
        lines.append("")
    for entry in results["skipped"]:
        lines.append(f"Skipped `{entry['method']}`: {entry['reason']}")
    lines += [
        "",
        "These numbers measure the enlarged latent decoded directly, not the image after a denoising pass, "
        f"in {ae.get('family')}'s latent space. Four photographs: `python -m latent_upscale bench quality "
        "--autoencoder DIR`.",
        "",
    ]
    return "\n".join(lines)


def _summary(rows: list[dict[str, Any]], scale: float = 2.0) -> str:
    ranked = _ranked(rows, scale)
    by_method = {row["method"]: row for row in ranked}
    parts = [f"{name} {by_method[name]['perceptual']:.2f}" for name in ("ceiling", "roundtrip")]
    methods = [row for row in ranked if row["method"] not in ("ceiling", "roundtrip")]
    if methods:
        parts.append(f"best method {methods[0]['method']} {methods[0]['perceptual']:.2f}")
        parts.append(f"worst {methods[-1]['method']} {methods[-1]['perceptual']:.2f}")
    return f"HaarPSI at {scale:g}× (higher is better): " + ", ".join(parts)


def run_photo_demo(
    out: Path, autoencoder: BenchAutoencoder, neural: NeuralOptions | None = None, *, progress: bool = False
) -> dict[str, Path]:
    """Run the protocol on the photograph with every registered method; write the grid and the report.

    ``out`` must be an existing folder. A method that cannot run (``neural`` without weights for the
    autoencoder's family) is skipped with one log line and one report line. Returns
    ``{"comparison", "report", "report_json"}`` paths.
    """
    started = time.perf_counter()
    image = _photograph()
    rows, skipped, pictures = _measure(image, autoencoder, neural, progress)
    results: dict[str, Any] = {
        "source": "photograph",
        "image": {"name": PHOTO, "source": f"skimage.data.{PHOTO}()", "size": [*image.shape[2:]]},
        "autoencoder": autoencoder.description,
        "perceptual_metric": "haarpsi",
        "scales": list(PHOTO_SCALES),
        "latent_sizes": {f"{scale:g}": list(_latent_sizes(image, scale)) for scale in PHOTO_SCALES},
        "rows": rows,
        "skipped": [{"method": method, "reason": reason} for method, reason in skipped.items()],
        "environment": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "duration_s": round(time.perf_counter() - started, 1),
        },
    }
    grid, title, notes = _grid(image, rows, pictures, autoencoder)
    log.info("demo: %s", _summary(rows))
    hero_title = f"2× latent upscale through {autoencoder.description.get('label', 'a tiny autoencoder')}"
    return {
        "hero": save_grid(out / "hero.png", _hero(image, rows, pictures), title=hero_title, label_width=0),
        "comparison": save_grid(
            out / "methods-comparison.png", grid, title=title, notes=notes, max_columns=GRID_COLUMNS
        ),
        "report": write_text(out / "report.md", _markdown(results)),
        "report_json": write_text(out / "report.json", json.dumps(results, indent=2, allow_nan=False) + "\n"),
    }
