"""Row 4: how time and peak memory grow with the latent, with and without tiles, per architecture.

Every job is 2×, from the smallest to the largest planned side. The log-log slope is fitted against
output pixels: about 1 means cost proportional to the image (convolutions); Ttl's attention makes
its untiled cost grow faster, so its untiled sizes are capped. Calls whose extrapolated cost exceeds
the plan's per-call budget are skipped and say so.
"""

from __future__ import annotations

import logging
import math
import statistics
from dataclasses import dataclass

from latent_upscale.bench.context import BenchContext, CostEstimator
from latent_upscale.bench.models import NEURAL_MODELS

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
    return {"points": points, "fits": fits}
