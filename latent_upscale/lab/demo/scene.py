"""The demo without an autoencoder: every method on a built-in, deterministic test latent.

A procedural scene (sky gradient, a hard-edged sun and house, thin stripes, a dot grid) is rendered
at any resolution and turned into a model-space latent through the inverse of the linear preview.
The low-resolution latent (64×64) is upscaled by every method to 1.5× and 2×, and each result is
compared with the same scene rendered directly at the target size: PSNR, sharpness (gradient energy
relative to the reference: below 1 means blur) and vector length (mean channel-vector norm relative to
the reference: below 1 means the washed-out look of bilinear latents).
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from latent_upscale.api import methods, upscale_detailed
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_LIST
from latent_upscale.preview import latent_to_rgb, rgb_to_latent

from .grid import GridRow, save_grid, write_text

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = ["MethodScore", "demo_latent", "render_scene", "run_scene_demo", "score_methods"]

log = logging.getLogger(__name__)

DEMO_SOURCE_SIZE = 64
DEMO_SCALES = (1.5, 2.0)
#: Families with a linear latent preview (one per VAE), from the family registry.
DEMO_FAMILIES = tuple(f.id for f in FAMILY_LIST if f.preview is not None and f.vae_group == f.id)


def _scene(u: Tensor, v: Tensor) -> Tensor:
    """RGB in [0, 1] of the test scene at continuous coordinates u (right) and v (down) in [0, 1)."""
    sky_top = torch.tensor([0.20, 0.35, 0.75]).view(3, 1, 1)
    sky_low = torch.tensor([0.95, 0.60, 0.35]).view(3, 1, 1)
    image = sky_top + (sky_low - sky_top) * v
    sun = ((u - 0.72) ** 2 + (v - 0.22) ** 2) < 0.11**2
    image = torch.where(sun, torch.tensor([1.0, 0.92, 0.35]).view(3, 1, 1), image)
    horizon = 0.62 + 0.04 * torch.sin(u * 9.0)
    ground = v > horizon
    grass = torch.stack([0.18 + 0.1 * v, 0.55 - 0.2 * v, 0.20 + 0 * v])
    image = torch.where(ground, grass, image)
    house = (u > 0.12) & (u < 0.42) & (v > 0.45) & (v < 0.80)
    image = torch.where(house, torch.tensor([0.75, 0.18, 0.15]).view(3, 1, 1), image)
    window = ((u > 0.17) & (u < 0.25) | (u > 0.30) & (u < 0.38)) & (v > 0.52) & (v < 0.62)
    image = torch.where(window, torch.tensor([0.10, 0.12, 0.25]).view(3, 1, 1), image)
    stripes = (u > 0.52) & (u < 0.95) & (v > 0.70) & (v < 0.95)
    stripe_value = 0.5 + 0.5 * torch.sign(torch.sin((u + v) * 2 * math.pi * 14))
    image = torch.where(stripes, stripe_value.expand(3, -1, -1) * 0.8 + 0.1, image)
    dots = (
        (u < 0.45) & (v > 0.85) & ((torch.sin(u * 2 * math.pi * 18) * torch.sin(v * 2 * math.pi * 18)) > 0.6)
    )
    image = torch.where(dots, torch.tensor([0.95, 0.95, 0.90]).view(3, 1, 1), image)
    return image.clamp(0, 1)


def render_scene(height: int, width: int, supersample: int = 4) -> Tensor:
    """The scene as ``[3, height, width]`` RGB, box-filtered from a supersampled render (antialiased)."""
    rows = (torch.arange(height * supersample, dtype=torch.float32) + 0.5) / (height * supersample)
    cols = (torch.arange(width * supersample, dtype=torch.float32) + 0.5) / (width * supersample)
    v, u = torch.meshgrid(rows, cols, indexing="ij")
    fine = _scene(u, v)
    return torch.nn.functional.avg_pool2d(fine[None], supersample)[0]


def _detail(height: int, width: int) -> Tensor:
    rows = (torch.arange(height, dtype=torch.float32) + 0.5) / height
    cols = (torch.arange(width, dtype=torch.float32) + 0.5) / width
    v, u = torch.meshgrid(rows, cols, indexing="ij")
    return 0.6 * torch.sin(u * 7.0 + 1.0) * torch.cos(v * 5.0) + 0.3 * torch.sin((u - v) * 13.0)


def demo_latent(height: int, width: int, family: str = "sd1") -> Tensor:
    """A deterministic ``[1, 4, height, width]`` model-space latent of the demo scene."""
    rgb = render_scene(height, width)
    return rgb_to_latent(rgb, family, detail=_detail(height, width))[None]


@dataclass
class MethodScore:
    """How one method did on one family and scale."""

    family: str
    scale: float
    method: str
    psnr_db: float | None = None
    sharpness: float | None = None
    vector_length: float | None = None
    time_ms: float | None = None
    note: str = ""


def _gradient_energy(latent: Tensor) -> float:
    dy = latent[..., 1:, :] - latent[..., :-1, :]
    dx = latent[..., :, 1:] - latent[..., :, :-1]
    return float(dy.abs().mean() + dx.abs().mean())


def _score(result: Tensor, reference: Tensor) -> tuple[float, float, float]:
    mse = float(((result - reference) ** 2).mean())
    peak = float(reference.max() - reference.min())
    psnr = 10 * math.log10(peak**2 / mse) if mse > 0 else math.inf
    sharpness = _gradient_energy(result) / _gradient_energy(reference)
    length = float(result.norm(dim=1).mean() / reference.norm(dim=1).mean())
    return psnr, sharpness, length


def _timed(fn: Callable[[], Tensor], repeats: int = 5) -> tuple[Tensor, float]:
    result = fn()  # warm-up, and the result we keep
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times) * 1000


TILE_PX = 160


def _tile(latent: Tensor, family: str, crop: tuple[float, float, float, float]) -> Tensor:
    """A crop (fractions top, left, height, width) of the latent's preview, nearest-enlarged to a tile."""
    rgb = latent_to_rgb(latent[0], family)
    _, height, width = rgb.shape
    top, left = round(crop[0] * height), round(crop[1] * width)
    rows, cols = round(crop[2] * height), round(crop[3] * width)
    window = rgb[:, top : top + rows, left : left + cols]
    return torch.nn.functional.interpolate(window[None], size=(TILE_PX, TILE_PX), mode="nearest")[0]


def _method_options(neural: NeuralOptions | None = None) -> dict[str, object]:
    if neural is not None:
        return {"neural": neural}
    try:
        from latent_upscale.neural.options import NeuralOptions
    except ImportError:
        return {}
    # The scene never downloads weights for the methods: it shows what is local (only the photograph
    # demo fetches a tiny autoencoder, see latent_upscale.lab.demo).
    return {"neural": NeuralOptions(allow_download=False)}


def score_methods(
    family: str, scale: float, neural: NeuralOptions | None = None
) -> tuple[list[MethodScore], dict[str, Tensor], Tensor, Tensor]:
    """Upscale the demo latent of ``family`` by ``scale`` with every method and score each result.

    ``neural``: the neural method's options (default: the usual folders, no downloads).
    """
    source = demo_latent(DEMO_SOURCE_SIZE, DEMO_SOURCE_SIZE, family)
    target = round(DEMO_SOURCE_SIZE * scale)
    reference = demo_latent(target, target, family)
    scores: list[MethodScore] = []
    results: dict[str, Tensor] = {}
    options = _method_options(neural)
    for method_id in methods():
        score = MethodScore(family=family, scale=scale, method=method_id)
        try:

            def run(method_id: str = method_id) -> Tensor:
                return upscale_detailed(
                    source, (target, target), method=method_id, family=family, **options
                ).latent

            result, score.time_ms = _timed(run)
        except LatentUpscaleError as error:
            score.note = f"skipped: {error.summary}"
            log.debug("demo: %s skipped for %s: %s", method_id, family, error)
            scores.append(score)
            continue
        score.psnr_db, score.sharpness, score.vector_length = _score(result, reference)
        results[method_id] = result
        scores.append(score)
    return scores, results, source, reference


def _write_report(path: Path, scores: list[MethodScore], hint: str) -> Path:
    lines = [
        "# Latent Upscale demo: the built-in test scene",
        "",
        hint,
        "",
        f"Source: the built-in test scene as a {DEMO_SOURCE_SIZE}×{DEMO_SOURCE_SIZE} model-space latent; "
        "each result is compared with the scene rendered directly at the target size. Sharpness and vector "
        "length are relative to that reference (1.00 = as sharp / as long as the truth). Times are the "
        f"median of 5 runs on this machine ({torch.__version__}, CPU threads {torch.get_num_threads()}).",
        "",
        "Caveat: the test latent is a linear map of an antialiased picture, so at hard edges the truth "
        "is itself a linear blend, which favours the linear filters in PSNR. Bislerp keeps vector lengths "
        "instead (its column is near 1.00) and pays for it in PSNR at edges between unlike colours.",
        "",
    ]
    for family in DEMO_FAMILIES:
        for scale in DEMO_SCALES:
            rows = [s for s in scores if s.family == family and s.scale == scale]
            lines += [
                f"## {family.upper()} {scale:g}×",
                "",
                "| method | PSNR (dB) | sharpness | vector length | time (ms) |",
                "|---|---:|---:|---:|---:|",
            ]
            ranked = sorted(rows, key=lambda s: -(s.psnr_db or -math.inf))
            for s in ranked:
                if s.psnr_db is None:
                    lines.append(f"| {s.method} | – | – | – | {s.note} |")
                else:
                    lines.append(
                        f"| {s.method} | {s.psnr_db:.2f} | {s.sharpness:.3f} | {s.vector_length:.3f} | "
                        f"{s.time_ms:.2f} |"
                    )
            lines.append("")
    return write_text(path, "\n".join(lines))


def run_scene_demo(out: Path, hint: str, neural: NeuralOptions | None = None) -> dict[str, Path]:
    """Run every method at 1.5× and 2× on the SD1 and SDXL test latents; write the comparison grid and
    the report (``report.md`` starts with ``hint``: how to see a real photograph instead).

    Returns ``{"comparison", "report", "report_json"}`` paths; ``out`` must be an existing folder.
    """
    all_scores: list[MethodScore] = []
    rows: list[GridRow] = []
    crop = (0.40, 0.05, 0.40, 0.40)  # the house, its windows, the horizon
    for family in DEMO_FAMILIES:
        for scale in DEMO_SCALES:
            scores, results, source, reference = score_methods(family, scale, neural)
            all_scores += scores
            by_method = {s.method: s for s in scores}
            size = reference.shape[-1]
            shown = torch.nn.functional.interpolate(source, size=(size, size), mode="nearest")
            tiles = [
                ("source (nearest)", _tile(shown, family, crop)),
                ("truth", _tile(reference, family, crop)),
            ]
            for method_id, result in results.items():
                psnr = by_method[method_id].psnr_db
                tiles.append((f"{method_id}\n{psnr:.1f} dB", _tile(result, family, crop)))
            rows.append((f"{family.upper()} {scale:g}×", tiles))
    for note in dict.fromkeys(
        f"{s.method} skipped for {s.family}: {s.note.removeprefix('skipped: ')}" for s in all_scores if s.note
    ):
        log.info("demo: %s (python -m latent_upscale models shows where weights go)", note)
    title = (
        f"Every method on the built-in test scene: a {DEMO_SOURCE_SIZE}×{DEMO_SOURCE_SIZE} latent "
        "enlarged 1.5× and 2×, seen through the linear latent preview"
    )
    notes = ["PSNR against the scene rendered directly at the target size (higher is better)."]
    report: dict[str, Any] = {"source": "scene", "hint": hint, "scores": [asdict(s) for s in all_scores]}
    return {
        "comparison": save_grid(out / "methods-comparison.png", rows, title=title, notes=notes),
        "report": _write_report(out / "report.md", all_scores, hint),
        "report_json": write_text(out / "report.json", json.dumps(report, indent=2) + "\n"),
    }
