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

Goals: ``tae`` at least 15× less time than the VAE round trip and at most a quarter of its peak
memory; where the automatic tiles run, at most 1.25× the untiled time. Times are single calls,
interleaved round by round (VAE, ``tae``, ``tae`` untiled); ratios are medians of the per-round
ratios, reported with their lowest and highest. The peak is that of each one's first (warm-up) call.
Random weights cost what trained ones cost: no layer's work depends on the values.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import replace
from typing import Any

import torch

from latent_upscale.api import upscale_detailed
from latent_upscale.core import UpscaleResult
from latent_upscale.families import get_family
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.measure import interleaved_medians, peak_memory, ratio_spread
from latent_upscale.lab.bench.models import tile_count
from latent_upscale.lab.bench.row_vae import VAE_STRIDE, cached_vae, diffusers_missing, round_trip
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.neural.options import NeuralOptions

__all__ = ["GOALS", "ROW", "run_tae_row", "tae_section", "tae_summary"]

logger = logging.getLogger(__name__)

ROW = "tae_round_trip"
#: (summary key, comparison, threshold, wording), merged into the report's goals.
GOALS = {
    "tae_vae_time_ratio_min": (">=", 15.0, "tae at least 15× less time than the SD VAE round trip"),
    "tae_vae_peak_ratio_min": (">=", 4.0, "tae at most ¼ of the SD VAE round trip's peak memory"),
    "tae_tiled_vs_untiled_max": ("<=", 1.25, "tiled tae at most 1.25× the untiled time"),
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
    """For each planned job: VAE round trip, ``tae`` (automatic tiles) and ``tae`` untiled, timed one
    call each, interleaved round by round; then city96 and SesquiLSR for their time."""
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
        # The same job untiled: the memory the automatic tiles save, and the seam error they cost.
        untiled = _TaeCall(latent, target, family, replace(options, tile_size=0))
        vae = cached_vae(family, context.device, _vae_dtype(context))
        vae_call = round_trip(vae, latent)
        # The first call of each is its warm-up and the one whose peak memory is measured.
        calls: dict[str, Any] = {"vae": vae_call, "tae": tae_call, "untiled": untiled}
        peaks = {name: _peak(fn, context) for name, fn in calls.items()}
        seconds = interleaved_medians(
            calls,
            rounds=context.plan.vae_samples,
            threads=context.threads,
            min_run_time=context.plan.min_run_time,
            single_calls=frozenset({"vae", "tae", "untiled"}),
            device=context.device,
            warm_up=False,  # the peak-memory calls above were the warm-up
        )
        seam = None
        if tae_call.last is not None and untiled.last is not None:
            whole = untiled.last.latent.float()
            seam = float((tae_call.last.latent.float() - whole).norm() / whole.norm())
        time_ratio = ratio_spread(seconds["vae"], seconds["tae"])
        tiled_cost = ratio_spread(seconds["tae"], seconds["untiled"])
        vae_peak, tae_peak = peaks["vae"], peaks["tae"]
        row: dict[str, object] = {
            "vae": family,
            "input": [1, 4, side, side],
            "output": list(target),
            "decoded_px": side * VAE_STRIDE,
            "encoded_px": 2 * side * VAE_STRIDE,
            "vae_median_s": statistics.median(seconds["vae"]),
            "vae_peak_bytes": vae_peak,
            "tae_median_s": statistics.median(seconds["tae"]),
            "tae_peak_bytes": tae_peak,
            "tae_tiles": tile_count(tae_call.last) if tae_call.last is not None else 1,
            "tae_dtype": (tae_call.last.extra.get("neural_dtype") if tae_call.last else None),
            "tae_untiled_median_s": statistics.median(seconds["untiled"]),
            "tae_untiled_peak_bytes": peaks["untiled"],
            "tile_relative_error": seam,
            "rounds": context.plan.vae_samples,
            "round_seconds": seconds,
            # Medians of the per-round ratios, with their lowest and highest.
            "time_ratio": time_ratio[0],
            "time_ratio_spread": list(time_ratio[1:]),
            "tiled_vs_untiled": tiled_cost[0],
            "tiled_vs_untiled_spread": list(tiled_cost[1:]),
            "peak_ratio": (vae_peak / tae_peak) if vae_peak and tae_peak else None,
        }
        for model_id in _CONTENDERS:
            timing, _ = context.measure(context.models.job(model_id, latent, target))
            row[f"{model_id}_median_s"] = timing.median_s
        rows.append(row)
        logger.info(
            "%s %d→%d: VAE %.2f s, tae %.2f s (%.1f× less time, %.1f–%.1f over %d rounds; peak %s)",
            family,
            side,
            2 * side,
            row["vae_median_s"],
            row["tae_median_s"],
            time_ratio[0],
            time_ratio[1],
            time_ratio[2],
            context.plan.vae_samples,
            row["peak_ratio"],
        )
    return rows


def _peak(fn: Any, context: BenchContext) -> int | None:
    with peak_memory(context.device) as probe:
        fn()
    return probe.peak_bytes


def _vae_dtype(context: BenchContext) -> torch.dtype:
    return torch.float16 if context.device.type == "cuda" else torch.float32


def tae_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline figures of the row (merged into the report's summary), each ratio with the spread
    of its per-round ratios (``…_spread``: the worst job's lowest and highest)."""
    measured = [r for r in rows if "time_ratio" in r]
    if not measured:
        return {}
    summary: dict[str, Any] = {
        "tae_vae_time_ratios": {r["vae"]: r["time_ratio"] for r in measured},
        "tae_vae_time_ratio_min": min(r["time_ratio"] for r in measured),
    }
    spreads = [r.get("time_ratio_spread") for r in measured]
    if all(spreads):
        summary["tae_vae_time_ratio_min_spread"] = [min(s[0] for s in spreads), min(s[1] for s in spreads)]
    peaks = [r["peak_ratio"] for r in measured if r.get("peak_ratio")]
    if peaks:
        summary["tae_vae_peak_ratios"] = {r["vae"]: r["peak_ratio"] for r in measured}
        summary["tae_vae_peak_ratio_min"] = min(peaks)
    tiled = [r for r in measured if r.get("tae_tiles", 1) > 1 and r.get("tiled_vs_untiled")]
    if tiled:  # only jobs where the automatic tiles ran: elsewhere both calls are the same
        summary["tae_tiled_vs_untiled_max"] = max(r["tiled_vs_untiled"] for r in tiled)
        spreads = [r.get("tiled_vs_untiled_spread") for r in tiled]
        if all(spreads):
            summary["tae_tiled_vs_untiled_max_spread"] = [
                max(s[0] for s in spreads),
                max(s[1] for s in spreads),
            ]
    return summary


def _mib(value: object) -> str:
    return f"{float(value) / 2**20:.0f} MiB" if isinstance(value, (int, float)) else "n/a"


def _seconds(value: object) -> str:
    return f"{float(value):.2f} s" if isinstance(value, (int, float)) else "n/a"


def _range(spread: object, rounds: object) -> str:
    if not isinstance(spread, (list, tuple)) or len(spread) != 2:
        return "n/a"
    return f"{spread[0]:.1f}–{spread[1]:.1f}× ({rounds} rounds)"


def _error(value: object) -> str:
    return f"{float(value):.1e}" if isinstance(value, (int, float)) else "n/a"


def tae_section(rows: list[dict[str, Any]]) -> list[str]:
    """The markdown table of the row."""
    lines = ["## 2b. Tiny VAE round trip (`tae`) vs the SD VAE round trip (the same 2× job)", ""]
    if rows and "skipped" in rows[0]:
        return [*lines, f"Not run: {rows[0]['skipped']}", ""]
    header = (
        "| VAE | image | VAE round trip | tae | less time | VAE peak | tae peak | less memory "
        "| untiled tae peak | tile error | city96 | SesquiLSR | untiled tae | less time, per-round range |"
    )
    lines += [header, "|" + "---|" * 14]
    for r in rows:
        tiles = f" ({r['tae_tiles']} tiles)" if r.get("tae_tiles", 1) > 1 else ""
        peak = f"{r['peak_ratio']:.1f}×" if r.get("peak_ratio") else "n/a"
        lines.append(
            f"| {r['vae'].upper()} | {r['decoded_px']} → {r['encoded_px']} px | {r['vae_median_s']:.2f} s "
            f"| {r['tae_median_s']:.2f} s{tiles} | {r['time_ratio']:.1f}× | {_mib(r['vae_peak_bytes'])} "
            f"| {_mib(r['tae_peak_bytes'])} | {peak} | {_mib(r.get('tae_untiled_peak_bytes'))} "
            f"| {_error(r.get('tile_relative_error'))} | {r['city96_median_s']:.3f} s "
            f"| {r['sesqui_median_s']:.3f} s | {_seconds(r.get('tae_untiled_median_s'))} "
            f"| {_range(r.get('time_ratio_spread'), r.get('rounds'))} |"
        )
    lines += [
        "",
        "Tile error: ‖tiled − untiled‖ / ‖untiled‖ of the `tae` output (random weights; TAEF2's GroupNorm "
        "makes tiles inexact, the other variants' only through the blended seams).",
    ]
    return [*lines, ""]
