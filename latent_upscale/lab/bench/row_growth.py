"""Row 4: how time and peak memory grow with the latent, with and without tiles, per architecture,
and for every interpolation method.

Every job is 2×, from the smallest to the largest planned side. The log-log slope is fitted against
output pixels: about 1 means cost proportional to the image (convolutions); Ttl's attention makes
its untiled cost grow faster, so its untiled sizes are capped. Calls whose extrapolated cost exceeds
the plan's per-call budget are skipped and say so. Interpolation series (``kind`` ``"interpolation"``)
run through :func:`latent_upscale.upscale` at sizes that include non-powers of two, and each point
also gives its peak memory as a multiple of its input plus output bytes (``peak_ratio``), measured
on a CPU in one fresh interpreter. Bislerp, the one with work of its own per pixel, also runs at the
plan's ``bislerp_growth_sides`` (a full run: up to 2048² → 4096²), so its slope covers that range.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from functools import partial

from latent_upscale.api import upscale
from latent_upscale.lab.bench.context import BenchContext, CostEstimator
from latent_upscale.lab.bench.models import NEURAL_MODELS
from latent_upscale.resize_methods import registered_methods

__all__ = ["fit_slope", "run_growth_row"]

logger = logging.getLogger(__name__)

_FACTOR = 2


@dataclass(frozen=True)
class _Case:
    model: str
    tiled: bool
    side: int

    @property
    def series(self) -> str:
        return f"{self.model} {'tiled' if self.tiled else 'untiled'}"

    @property
    def output_pixels(self) -> int:
        return (self.side * _FACTOR) ** 2


def fit_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) against log(x); None with fewer than two usable points."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    return statistics.linear_regression([x for x, _ in points], [y for _, y in points]).slope


def run_growth_row(context: BenchContext) -> dict[str, list[dict[str, object]]]:
    """Points (one per model, tiling and size) and one fitted slope per series."""
    plan = context.plan
    estimator = CostEstimator(plan.call_budget_s)
    cases = [
        _Case(model.id, tiled, side)
        for model in NEURAL_MODELS
        for tiled in (False, True)
        for side in plan.growth_sides
    ]
    points: list[dict[str, object]] = []
    #: series → (output pixels, seconds, peak bytes) of each measured point.
    measured: dict[str, list[tuple[int, float, int | None, int]]] = {case.series: [] for case in cases}
    for case in context.steps(cases, "growth", total=len(cases)):
        tile_size = plan.growth_tile if case.tiled else 0  # None: automatic tiling
        point: dict[str, object] = {
            "model": case.model,
            "series": case.series,
            "tiled": case.tiled,
            "tile_size": "automatic" if tile_size is None else tile_size,
            "input": [1, 4, case.side, case.side],
            "output": [case.side * _FACTOR, case.side * _FACTOR],
            "output_pixels": case.output_pixels,
        }
        points.append(point)
        if case.model == "ttl" and not case.tiled and case.side > plan.ttl_untiled_max_side:
            point["skipped"] = (
                f"untiled Ttl stops at {plan.ttl_untiled_max_side}x{plan.ttl_untiled_max_side}: its "
                "attention grows with the square of the pixel count"
            )
            continue
        over = estimator.over_budget(case.series, case.output_pixels)
        if over is not None:
            point["skipped"] = f"estimated {over:.0f} s per call, over the {plan.call_budget_s:g} s budget"
            point["estimated_s"] = over
            continue
        latent = context.latent(1, case.side)
        target = (case.side * _FACTOR, case.side * _FACTOR)
        call = context.models.job(case.model, latent, target, tile_size=tile_size)
        timing, peak = context.measure(call)
        estimator.record(case.series, case.output_pixels, timing.median_s)
        point.update(timing.as_dict())
        point["peak_bytes"] = peak
        point["tiles"] = call.tiles
        logger.info(
            "growth: %s %dx%d: %.3f s in %d tile(s)",
            case.series,
            case.side,
            case.side,
            timing.median_s,
            call.tiles,
        )
        measured[case.series].append((case.output_pixels, timing.median_s, peak, case.side))
    interpolations = _interpolation_points(context)
    points += interpolations
    for point in interpolations:
        measured.setdefault(str(point["series"]), []).append(
            (int(point["output_pixels"]), float(point["median_s"]), point["peak_bytes"], point["input"][2])
        )
    fits: list[dict[str, object]] = []
    for case in cases:
        if any(fit["series"] == case.series for fit in fits):
            continue
        series = measured[case.series]
        pixels = [float(pixels) for pixels, _, _, _ in series]
        fits.append(
            {
                "series": case.series,
                "model": case.model,
                "tiled": case.tiled,
                "points": len(series),
                "time_slope": fit_slope(pixels, [seconds for _, seconds, _, _ in series]),
                "memory_slope": fit_slope(pixels, [float(peak or 0) for _, _, peak, _ in series]),
                "largest_side": max((side for _, _, _, side in series), default=None),
            }
        )
    for method in dict.fromkeys(str(point["series"]) for point in interpolations):
        series = measured[method]
        pixels = [float(pixels) for pixels, _, _, _ in series]
        ratios = [p["peak_ratio"] for p in interpolations if p["series"] == method and p["peak_ratio"]]
        fits.append(
            {
                "series": method,
                "kind": "interpolation",
                "model": None,
                "tiled": False,
                "points": len(series),
                "time_slope": fit_slope(pixels, [seconds for _, seconds, _, _ in series]),
                "memory_slope": fit_slope(pixels, [float(peak or 0) for _, _, peak, _ in series]),
                "largest_side": max((side for _, _, _, side in series), default=None),
                "peak_ratio_max": max(ratios, default=None),
            }
        )
    return {"points": points, "fits": fits}


#: Run in a fresh interpreter: the peak extra memory of one ``upscale`` call (after a warm-up
#: call) per method and side, as JSON. A long-running bench process (models, diffusers, freed
#: arenas) inflates the resident-size peak of small calls; a fresh process measures what a call
#: itself needs. One interpreter serves every method (starting one costs seconds of CPU).
_FRESH_PEAKS = """
import json, sys, torch
from latent_upscale.api import upscale
from latent_upscale.lab.bench.measure import peak_memory
torch.set_num_threads(int(sys.argv[1]))
peaks = {}
for method, sides in json.loads(sys.argv[2]).items():
    peaks[method] = {}
    for side in sides:
        latent = torch.randn(1, 4, side, side, generator=torch.Generator().manual_seed(0))
        upscale(latent, (2 * side, 2 * side), method=method)
        with peak_memory(torch.device("cpu")) as probe:
            out = upscale(latent, (2 * side, 2 * side), method=method)
        # Freed only after the peak is read: VmHWM is max(current RSS, the RSS the kernel recorded
        # at the last unmap), and that record comes from batched per-CPU counters, short by up to
        # ~32 pages a CPU; an output unmapped inside the block made small calls' peaks look too low.
        del out
        peaks[method][side] = probe.peak_bytes
print(json.dumps(peaks))
"""


def _fresh_process_peaks(sides: dict[str, tuple[int, ...]], threads: int) -> dict[str, dict[int, int | None]]:
    """Peak extra bytes of ``upscale(method)`` for each method and its sides, in one fresh interpreter."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    command = [sys.executable, "-c", _FRESH_PEAKS, str(threads), json.dumps(sides)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=600, check=True, env=environment
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        return {
            method: {int(side): peak for side, peak in by_side.items()} for method, by_side in found.items()
        }
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, AttributeError) as error:
        logger.warning("fresh-process memory failed (%s); using the in-process figures", error)
        return {}


def _interpolation_points(context: BenchContext) -> list[dict[str, object]]:
    """Every interpolation method at every planned side (2×; bislerp also at the plan's
    ``bislerp_growth_sides``): time, peak memory and its ratio.

    On a CPU the memory comes from one fresh interpreter (see ``_FRESH_PEAKS``); the
    in-process figure is kept as ``peak_bytes_in_process``.
    """
    plan = context.plan
    extra = {"bislerp": plan.bislerp_growth_sides}
    sides = {
        method.id: plan.interpolation_growth_sides + extra.get(method.id, ())
        for method in registered_methods()
        if not method.neural
    }
    cases = [(method, side) for method, method_sides in sides.items() for side in method_sides]
    fresh = _fresh_process_peaks(sides, context.threads) if context.device.type == "cpu" else {}
    points: list[dict[str, object]] = []
    for method, side in context.steps(cases, "growth (interpolations)", total=len(cases)):
        latent = context.latent(1, side)
        target = (side * _FACTOR, side * _FACTOR)
        call = partial(upscale, latent, target, method=method)
        call()  # warm-up: first-use costs (kernel code paged in, cached filters) are not the call's
        timing, in_process = context.measure(call)
        peak = fresh.get(method, {}).get(side, in_process)
        io_bytes = latent.numel() * latent.element_size() * (1 + _FACTOR**2)
        point: dict[str, object] = {
            "kind": "interpolation",
            "model": None,
            "method": method,
            "series": method,
            "tiled": False,
            "tile_size": 0,
            "input": [1, 4, side, side],
            "output": list(target),
            "output_pixels": target[0] * target[1],
            **timing.as_dict(),
            "peak_bytes": peak,
            "peak_bytes_in_process": in_process,
            "peak_ratio": None if peak is None else peak / io_bytes,
        }
        points.append(point)
    return points
