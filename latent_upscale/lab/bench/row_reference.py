"""Row 3: ours vs references — city96 v2.1 as published, run the plain way, and the interpolations
against their yardstick and peers (:mod:`latent_upscale.lab.bench.row_peers`, rows of ``kind``
``"yardstick"`` and ``"peer"``), and the learned upscalers against their published ComfyUI nodes
(:mod:`latent_upscale.lab.bench.row_neural_peers`, ``kind`` ``"peer"`` too); the city96 rows are
``kind`` ``"neural runner"``.

The reference is the published layout as an eager float32 ``nn.Sequential`` (conv 4→64, ReLU,
nearest upsample, ReLU, 16 × (conv 64→64, ReLU), conv 64→4) under ``torch.no_grad()`` on raw
latents. Ours is the whole public call ``upscale(..., method="neural")`` on model-space latents,
conversions and all. Both run on the same latent, interleaved round by round; the speed-up is the
median of the per-round ratios, and the outputs are compared in raw latent units (the stricter
scale: model-space differences are 0.13025 times smaller).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.measure import interleaved_medians, median_ratio
from latent_upscale.lab.bench.row_neural_peers import run_neural_peer_comparisons
from latent_upscale.lab.bench.row_peers import run_interpolation_comparisons
from latent_upscale.latent_formats import family_format

__all__ = ["FP16_RELATIVE_TOLERANCE", "FP32_TOLERANCE", "reference_city96", "run_reference_row"]

logger = logging.getLogger(__name__)

#: The float32 goal: our runner matches the reference to this (raw latent units).
FP32_TOLERANCE = 1e-4
#: Half precision on a GPU: max abs difference within this fraction of the reference's largest value.
FP16_RELATIVE_TOLERANCE = 5e-3
_FAMILY = "sdxl"
_FACTOR = 2.0


def reference_city96(state_dict: dict[str, Tensor], factor: float) -> nn.Sequential:
    """city96 v2.1 exactly as published (``sequential.N`` keys), strictly loaded, eval mode."""
    layers: list[nn.Module] = [
        nn.Conv2d(4, 64, 3, padding=1),
        nn.ReLU(),
        nn.Upsample(scale_factor=factor, mode="nearest"),
        nn.ReLU(),
    ]
    for _ in range(16):
        layers += [nn.Conv2d(64, 64, 3, padding=1), nn.ReLU()]
    layers.append(nn.Conv2d(64, 4, 3, padding=1))
    model = nn.Sequential(*layers)
    model.load_state_dict({key.removeprefix("sequential."): value for key, value in state_dict.items()})
    return model.eval()


def _variants(context: BenchContext) -> list[tuple[str, str]]:
    """(name, precision) of our runner: float32 everywhere, plus the default half type on a GPU."""
    if context.device.type == "cuda":
        return [("runner", "auto"), ("runner fp32", "fp32")]
    return [("runner", "auto")]


def run_reference_row(context: BenchContext) -> list[dict[str, object]]:
    """Speed-up and max abs difference of our runner over the reference at each planned size, then
    the interpolation comparisons, then the learned upscalers against their published nodes (when
    the peers folder holds them)."""
    return [
        *_run_city96(context),
        *run_interpolation_comparisons(context),
        *run_neural_peer_comparisons(context),
    ]


def _run_city96(context: BenchContext) -> list[dict[str, object]]:
    weights = context.models.weights_for("city96", _FACTOR)
    reference = reference_city96(load_file(str(weights)), _FACTOR).to(context.device)
    sdxl = family_format(_FAMILY)
    rows = []
    sizes = context.plan.reference_sides
    for side, batch in context.steps(sizes, "reference", total=len(sizes)):
        latent = context.latent(batch, side)
        raw = sdxl.to_raw(latent)
        target = (int(side * _FACTOR), int(side * _FACTOR))

        def plain(raw: Tensor = raw) -> Tensor:
            with torch.no_grad():
                return reference(raw)

        jobs = {
            name: context.models.job("city96", latent, target, precision=precision)
            for name, precision in _variants(context)
        }
        contenders: dict[str, Callable[[], object]] = {"reference": plain, **jobs}
        medians = interleaved_medians(
            contenders,
            rounds=context.plan.reference_rounds,
            threads=context.threads,
            min_run_time=context.plan.min_run_time,
        )
        expected = plain().float()
        peak = float(expected.abs().max())
        for name, precision in _variants(context):
            ours = sdxl.to_raw(jobs[name]().latent.float())
            difference = float((ours - expected).abs().max())
            half = precision == "auto" and context.device.type == "cuda"
            tolerance = FP16_RELATIVE_TOLERANCE * peak if half else FP32_TOLERANCE
            row: dict[str, object] = {
                "kind": "neural runner",
                "contender": name,
                "precision": "float16" if half else "float32",
                "input": [batch, 4, side, side],
                "output": list(target),
                "batch": batch,
                "reference_median_s": statistics.median(medians["reference"]),
                "runner_median_s": statistics.median(medians[name]),
                "speedup": median_ratio(medians["reference"], medians[name]),
                "rounds": context.plan.reference_rounds,
                "reference_round_medians_s": medians["reference"],
                "runner_round_medians_s": medians[name],
                "max_abs_diff_raw": difference,
                "max_abs_reference_raw": peak,
                "tolerance_raw": tolerance,
                "within_tolerance": difference <= tolerance,
            }
            rows.append(row)
            logger.info(
                "reference %s %dx%d batch %d: %.2fx faster, max abs diff %.2e",
                name,
                side,
                side,
                batch,
                row["speedup"],
                difference,
            )
    return rows
