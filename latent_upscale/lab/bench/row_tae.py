"""Row 2b: the tiny-autoencoder round trip (``tae``) against the full SD VAE round trip, and its time
beside the learned latent upscalers.

Each job of the plan's ``vae_jobs`` (full plan: SD1 64→128 latent pixels, i.e. 512 → 1024 image
pixels, and SDXL 128→256, 1024 → 2048) runs three ways on one model-space latent:

* the SD VAE round trip of :mod:`~latent_upscale.lab.bench.row_vae` (diffusers ``AutoencoderKL``, random
  weights; what an image upscaler in hires fix costs);
* ``upscale(method="tae")`` with the family's tiny autoencoder (TAESD for SD1, TAESDXL for SDXL;
  random weights in the published layout and under the published names, so resolution, the model
  cache, conversions and automatic tiling are all counted);
* city96 v2.1 and SesquiLSR (random weights) on the same latent, for their time.

Goals: ``tae`` at least 4× less time and 4× less peak memory than the VAE round trip.
Random weights cost what trained ones cost: no layer's work depends on the values.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import torch

from latent_upscale.api import upscale_detailed
from latent_upscale.core import UpscaleResult
from latent_upscale.families import get_family
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.models import tile_count
from latent_upscale.lab.bench.row_vae import VAE_STRIDE, build_vae, diffusers_missing, round_trip
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.neural.options import NeuralOptions

__all__ = ["GOALS", "ROW", "run_tae_row", "tae_section", "tae_summary"]

logger = logging.getLogger(__name__)

ROW = "tae_round_trip"
#: (summary key, comparison, threshold, wording), merged into the report's goals.
GOALS = {
    "tae_vae_time_ratio_min": (">=", 4.0, "tae at least 4× less time than the SD VAE round trip"),
    "tae_vae_peak_ratio_min": (">=", 4.0, "tae at least 4× less peak memory than the SD VAE round trip"),
}
_CONTENDERS = ("city96", "sesqui")


class _TaeCall:
    """``upscale_detailed(method="tae")`` bound to its arguments; keeps the last result (tiles)."""

    def __init__(self, latent: Any, size: tuple[int, int], family: str, options: NeuralOptions) -> None:
        self.latent, self.size, self.family, self.options = latent, size, family, options
        self.last: UpscaleResult | None = None

    def __call__(self) -> UpscaleResult:
        self.last = None  # free the previous output before making the next
        self.last = upscale_detailed(
            self.latent, self.size, method="tae", family=self.family, neural=self.options
        )
        return self.last


def run_tae_row(context: BenchContext) -> list[dict[str, object]]:
    """For each planned job: VAE round trip, ``tae``, city96 and SesquiLSR, with the ratios."""
    missing = diffusers_missing()
    if missing is not None:
        logger.warning("tae vs VAE round trip skipped: %s", missing)
        return [{"skipped": missing}]
    context.models.weights_for("city96", 2.0)  # the shared folder holds the other models first
    folder = context.models.folder / "tae"
    options = NeuralOptions(models_dir=folder, search_extension_models=False, offline=True, progress=False)
    rows: list[dict[str, object]] = []
    jobs = context.plan.vae_jobs
    for family, side in context.steps(jobs, "tae vs VAE round trip", total=len(jobs)):
        save_tae_pair(folder, str(get_family(family).autoencoder))
        latent = context.latent(1, side)
        target = (2 * side, 2 * side)
        _TaeCall(context.latent(1, 8), (16, 16), family, options)()  # load once: not timed
        tae_call = _TaeCall(latent, target, family, options)
        tae_timing, tae_peak = context.measure(tae_call, samples=context.plan.vae_samples)
        # The same job untiled: the memory the automatic tiles save, and the seam error they cost.
        untiled = _TaeCall(latent, target, family, replace(options, tile_size=0))
        untiled_timing, untiled_peak = context.measure(untiled, samples=context.plan.vae_samples)
        seam = None
        if tae_call.last is not None and untiled.last is not None:
            whole = untiled.last.latent.float()
            seam = float((tae_call.last.latent.float() - whole).norm() / whole.norm())
        vae = build_vae(family, context.device, _vae_dtype(context))
        round_trip(vae, context.latent(1, min(side, 8)))()  # warm-up at a tiny size: library set-up
        vae_timing, vae_peak = context.measure(round_trip(vae, latent), samples=context.plan.vae_samples)
        del vae
        row: dict[str, object] = {
            "vae": family,
            "input": [1, 4, side, side],
            "output": list(target),
            "decoded_px": side * VAE_STRIDE,
            "encoded_px": 2 * side * VAE_STRIDE,
            "vae_median_s": vae_timing.median_s,
            "vae_peak_bytes": vae_peak,
            "tae_median_s": tae_timing.median_s,
            "tae_peak_bytes": tae_peak,
            "tae_tiles": tile_count(tae_call.last) if tae_call.last is not None else 1,
            "tae_dtype": (tae_call.last.extra.get("neural_dtype") if tae_call.last else None),
            "tae_untiled_median_s": untiled_timing.median_s,
            "tae_untiled_peak_bytes": untiled_peak,
            "tile_relative_error": seam,
            "time_ratio": vae_timing.median_s / tae_timing.median_s,
            "peak_ratio": (vae_peak / tae_peak) if vae_peak and tae_peak else None,
        }
        for model_id in _CONTENDERS:
            timing, _ = context.measure(context.models.job(model_id, latent, target))
            row[f"{model_id}_median_s"] = timing.median_s
        rows.append(row)
        logger.info(
            "%s %d→%d: VAE %.2f s, tae %.2f s (%.1f× less time, peak %s)",
            family,
            side,
            2 * side,
            vae_timing.median_s,
            tae_timing.median_s,
            row["time_ratio"],
            row["peak_ratio"],
        )
    return rows


def _vae_dtype(context: BenchContext) -> torch.dtype:
    return torch.float16 if context.device.type == "cuda" else torch.float32


def tae_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline figures of the row (merged into the report's summary)."""
    measured = [r for r in rows if "time_ratio" in r]
    if not measured:
        return {}
    summary: dict[str, Any] = {
        "tae_vae_time_ratios": {r["vae"]: r["time_ratio"] for r in measured},
        "tae_vae_time_ratio_min": min(r["time_ratio"] for r in measured),
    }
    peaks = [r["peak_ratio"] for r in measured if r.get("peak_ratio")]
    if peaks:
        summary["tae_vae_peak_ratios"] = {r["vae"]: r["peak_ratio"] for r in measured}
        summary["tae_vae_peak_ratio_min"] = min(peaks)
    return summary


def _mib(value: object) -> str:
    return f"{float(value) / 2**20:.0f} MiB" if isinstance(value, (int, float)) else "n/a"


def _error(value: object) -> str:
    return f"{float(value):.1e}" if isinstance(value, (int, float)) else "n/a"


def tae_section(rows: list[dict[str, Any]]) -> list[str]:
    """The markdown table of the row."""
    lines = ["## 2b. Tiny VAE round trip (`tae`) vs the SD VAE round trip (the same 2× job)", ""]
    if rows and "skipped" in rows[0]:
        return [*lines, f"Not run: {rows[0]['skipped']}", ""]
    header = (
        "| VAE | image | VAE round trip | tae | less time | VAE peak | tae peak | less memory "
        "| untiled tae peak | tile error | city96 | SesquiLSR |"
    )
    lines += [header, "|" + "---|" * 12]
    for r in rows:
        tiles = f" ({r['tae_tiles']} tiles)" if r.get("tae_tiles", 1) > 1 else ""
        peak = f"{r['peak_ratio']:.1f}×" if r.get("peak_ratio") else "n/a"
        lines.append(
            f"| {r['vae'].upper()} | {r['decoded_px']} → {r['encoded_px']} px | {r['vae_median_s']:.2f} s "
            f"| {r['tae_median_s']:.2f} s{tiles} | {r['time_ratio']:.1f}× | {_mib(r['vae_peak_bytes'])} "
            f"| {_mib(r['tae_peak_bytes'])} | {peak} | {_mib(r.get('tae_untiled_peak_bytes'))} "
            f"| {_error(r.get('tile_relative_error'))} | {r['city96_median_s']:.3f} s "
            f"| {r['sesqui_median_s']:.3f} s |"
        )
    lines += [
        "",
        "Tile error: ‖tiled − untiled‖ / ‖untiled‖ of the `tae` output (random weights; TAEF2's GroupNorm "
        "makes tiles inexact, the other variants' only through the blended seams).",
    ]
    return [*lines, ""]
