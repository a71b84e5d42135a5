"""Row 1: every resize method at SD1- and SDXL-like sizes, batch 1 and 4 — median time, peak memory.

Interpolations go through :func:`latent_upscale.upscale` like any caller; ``neural`` is timed once
per architecture (city96 v2.1 at the job's factor, SesquiLSR SDXL, Ttl) through the same call with
the weights named, so weight resolution, conversions and the final resample are all included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from latent_upscale.api import upscale_detailed
from latent_upscale.lab.bench.context import BenchContext, CostEstimator
from latent_upscale.lab.bench.models import NEURAL_MODELS, NeuralCall
from latent_upscale.lab.bench.plan import Job
from latent_upscale.resize_methods import registered_methods

__all__ = ["run_methods_row"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Case:
    method: str
    model: str | None
    label: str
    job: Job
    batch: int

    @property
    def work(self) -> float:
        height, width = self.job.target
        return float(height * width * self.batch)


def _cases(context: BenchContext) -> list[_Case]:
    plan = context.plan
    cases = []
    for method in registered_methods():
        if method.neural and method.weights_role != "upscaler":
            continue  # a round trip (tae) has its own row: tae_round_trip
        variants = (
            [(model.id, f"neural: {model.label}") for model in NEURAL_MODELS]
            if method.neural
            else [(None, method.id)]
        )
        for model_id, label in variants:
            for job in plan.method_jobs:
                for batch in plan.batches:
                    cases.append(_Case(method.id, model_id, label, job, batch))
    # Cheapest first, so each neural model's cost estimate comes from a smaller call of its own.
    return sorted(cases, key=lambda case: (case.model is not None, case.work))


def run_methods_row(context: BenchContext) -> list[dict[str, object]]:
    """Time every method on every job; neural calls over the plan's budget are skipped and say so."""
    estimator = CostEstimator(context.plan.call_budget_s)
    rows = []
    cases = _cases(context)
    for case in context.steps(cases, "methods", total=len(cases)):
        latent = context.latent(case.batch, case.job.side)
        size = case.job.target
        if case.model is not None:
            call = context.models.job(case.model, latent, size)
        else:
            call = partial(upscale_detailed, latent, size, method=case.method)

        row: dict[str, object] = {
            "method": case.method,
            "model": case.model,
            "label": case.label,
            "job": case.job.label,
            "input": [case.batch, 4, case.job.side, case.job.side],
            "output": list(size),
            "scale": case.job.scale,
            "batch": case.batch,
        }
        skip = estimator.over_budget(case.label, case.work) if case.model else None
        if skip is not None:
            row["skipped"] = f"estimated {skip:.0f} s per call, over the {estimator.budget_s:g} s budget"
            row["estimated_s"] = skip
            rows.append(row)
            logger.info("methods: %s %s batch %d skipped (%s)", case.label, size, case.batch, row["skipped"])
            continue
        timing, peak = context.measure(call)
        estimator.record(case.label, case.work, timing.median_s)
        row.update(timing.as_dict())
        row["peak_bytes"] = peak
        if isinstance(call, NeuralCall):
            row["tiles"] = call.tiles
            logger.info("methods: %s %s batch %d: %.3f s", case.label, size, case.batch, timing.median_s)
        rows.append(row)
    return rows
