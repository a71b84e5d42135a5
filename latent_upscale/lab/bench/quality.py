"""``python -m latent_upscale bench quality``: how each method looks on real photographs.

Protocol (SesquiLSR's published one): a high-resolution photograph (cropped to multiples of 16) is
Lanczos-downsampled by 1.5 and 2, encoded with a real autoencoder, the latent is enlarged with each
registered method to the high-resolution latent size, decoded and compared with the original. Two
reference rows on the same images: ``ceiling`` (the original encoded and decoded: the best any latent
upscaler can reach through this autoencoder) and ``roundtrip`` (decode the low-resolution latent,
Lanczos in pixels, encode: what an image upscaler does). Metrics: PSNR, SSIM, HaarPSI (see
:mod:`latent_upscale.lab.evaluation.metrics`). Methods are the method registry's: interpolations directly,
any other method (``neural``, a round-trip method) through its ``run`` with the autoencoder's family;
a method that has no weights for the family, or falls back, is listed as skipped.

Latents are handed to the methods in the host's *model space* (what the WebUI holds): the TAE latent
as it is (see :mod:`latent_upscale.neural.archs.tae`), a diffusers VAE's raw latent times its
``scaling_factor`` after its ``shift_factor``.

Lanczos resampling of images is Pillow's (``Image.LANCZOS`` on 32-bit float planes: no 8-bit rounding).
Outputs: ``quality.json``, ``quality.md`` and ``quality.png`` in the output folder.

The work is in four modules beside this one: ``quality_images`` (the plan, the photographs),
``quality_autoencoders``, ``quality_protocol`` (the runners, the protocol, the scores) and
``quality_report`` (the table, the figure); this one runs them and re-exports their public names.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from latent_upscale.lab.bench.quality_packed import packed_flux2_section, render_packed_markdown
from latent_upscale.lab.bench.quality_report import best_interpolation, draw_figure, render_markdown
from latent_upscale.lab.evaluation.autoencoders import BenchAutoencoder, load_autoencoder
from latent_upscale.lab.evaluation.photographs import (
    BUILTIN_IMAGES,
    QualityPlan,
    lanczos_image,
    load_images,
)
from latent_upscale.lab.evaluation.protocol import (
    Decoded,
    Resize,
    as_array,
    decode_protocol,
    method_runners,
    score_decoded,
)

__all__ = [
    "BUILTIN_IMAGES",
    "PERCEPTUAL_METRIC",
    "Decoded",
    "QualityOutcome",
    "QualityPlan",
    "Resize",
    "as_array",
    "best_interpolation",
    "decode_protocol",
    "lanczos_image",
    "load_autoencoder",
    "load_images",
    "method_runners",
    "run_quality",
    "score_decoded",
]

logger = logging.getLogger(__name__)

PERCEPTUAL_METRIC = "haarpsi"


@dataclass
class QualityOutcome:
    """The results dictionary and the files written."""

    results: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


def _from_cli() -> bool:
    """Whether this process is ``python -m latent_upscale`` (so ``sys.argv`` is the bench's command)."""
    main = sys.modules.get("__main__")
    return getattr(main, "__spec__", None) is not None and main.__spec__.name == "latent_upscale.__main__"


def _summaries(
    per_image: dict[tuple[str, float], dict[str, dict[str, float]]], images: Iterable[str]
) -> list[dict[str, Any]]:
    rows = []
    names = list(images)
    for (method, scale), scores in per_image.items():
        measured = [name for name in names if name in scores]
        if not measured:
            continue
        row: dict[str, Any] = {"method": method, "scale": scale}
        for metric in ("psnr", "ssim", "perceptual"):
            row[metric] = float(np.mean([scores[name][metric] for name in measured]))
        row["higher_is_better"] = True
        row["per_image"] = {name: scores[name] for name in measured}
        rows.append(row)
    return rows


def run_quality(
    plan: QualityPlan,
    autoencoder: BenchAutoencoder,
    out: Path,
    *,
    progress: bool = True,
    figure: bool = True,
) -> QualityOutcome:
    """Measure every method on every image and scale; write ``quality.json``, ``.md`` and ``.png``.

    A method that raises (no weights for the family, a fallback) is recorded under ``skipped`` with
    its reason, and the others still run.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    images = load_images(plan)
    runners = method_runners(autoencoder.family, plan.methods, autoencoder_dir=autoencoder.models_dir)
    per_image: dict[tuple[str, float], dict[str, dict[str, float]]] = {}
    skipped: dict[str, str] = {}
    logged: set[str] = set()
    figure_crops: dict[str, Tensor] = {}
    latent_values: list[Tensor] = []
    total = len(images) * (1 + len(plan.scales) * (1 + len(runners)))
    first = next(iter(images))
    with tqdm(total=total, desc="bench quality", unit="decode", disable=not progress) as bar:
        for name, image in images.items():
            reference = as_array(image)

            def announce(label: str, name: str = name) -> None:
                bar.set_postfix_str(f"{name} {label}")

            for step in decode_protocol(image, autoencoder, runners, plan.scales, skipped, announce):
                if step.method == "input":
                    continue
                if step.image is None:
                    if step.method not in logged:
                        logged.add(step.method)
                        logger.info("bench quality: %s skipped: %s", step.method, step.note)
                    bar.update()
                    continue
                scores = score_decoded(reference, step.image)
                per_image.setdefault((step.method, step.scale), {})[name] = scores
                if step.method == "ceiling" and step.latent is not None:
                    latent_values.append(step.latent[0].flatten(1))
                if name == first and step.method == "ceiling":
                    figure_crops["original"] = image
                    figure_crops["ceiling"] = step.image
                elif name == first and step.scale == 2.0:
                    figure_crops[step.method] = step.image
                bar.update()
    rows = _summaries(per_image, images)
    for row in rows:  # the ceiling does not depend on the scale: one row per scale, same numbers
        if row["method"] == "ceiling":
            rows.remove(row)
            rows[0:0] = [{**row, "scale": scale} for scale in plan.scales]
            break
    stacked = torch.cat(latent_values, dim=1)
    results: dict[str, Any] = {
        "autoencoder": autoencoder.description,
        "images": list(images),
        "perceptual_metric": PERCEPTUAL_METRIC,
        "rows": rows,
        "skipped": [{"method": m, "reason": r} for m, r in skipped.items()],
        "image_sizes": {name: list(image.shape[2:]) for name, image in images.items()},
        "scales": list(plan.scales),
        "quick": plan.quick,
        "crop": plan.crop,
        "latent_stats": {
            "space": "model space (what the WebUI holds) of the autoencoder's family",
            "channel_mean": [round(float(v), 4) for v in stacked.mean(dim=1)],
            "channel_std": [round(float(v), 4) for v in stacked.std(dim=1)],
            "overall_std": round(float(stacked.std()), 4),
        },
        "environment": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "duration_s": round(time.perf_counter() - started, 1),
            # Which run a figure comes from: when, how (the command line) and how loaded the machine was.
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["python -m latent_upscale", *sys.argv[1:]]) if _from_cli() else None,
            "load_average_at_end": [round(value, 2) for value in os.getloadavg()]
            if hasattr(os, "getloadavg")
            else None,
            "cpu_count": os.cpu_count(),
        },
    }
    # FLUX.2 as Forge Neo and ComfyUI hold it: packed 2×2 (quality_packed).
    packed = (
        packed_flux2_section(images, autoencoder, tuple(plan.scales), plan.methods) if plan.packed else None
    )
    if packed is not None:
        results["packed_flux2"] = packed
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "quality.json", "markdown": out / "quality.md"}
    files["json"].write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    markdown = render_markdown(results)
    files["markdown"].write_text(markdown + (render_packed_markdown(packed) if packed else ""))
    if figure and figure_crops:
        files["figure"] = out / "quality.png"
        draw_figure(figure_crops, results, first, files["figure"])
    return QualityOutcome(results, files)
