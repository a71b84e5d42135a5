"""Run the planned rows and write ``results.json``, ``results.md`` and ``results.png``."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.environment import describe_environment, load_average
from latent_upscale.lab.bench.models import bench_models
from latent_upscale.lab.bench.plan import BenchPlan
from latent_upscale.lab.bench.row_growth import run_growth_row
from latent_upscale.lab.bench.row_methods import run_methods_row
from latent_upscale.lab.bench.row_overhead import run_overhead_row
from latent_upscale.lab.bench.row_reference import run_reference_row
from latent_upscale.lab.bench.row_tae import run_tae_row
from latent_upscale.lab.bench.row_vae import release_vaes, run_vae_row

__all__ = ["BenchOutcome", "run_bench"]

logger = logging.getLogger(__name__)

_ROW_RUNNERS: dict[str, Callable[[BenchContext], Any]] = {
    "methods": run_methods_row,
    "vae_round_trip": run_vae_row,
    "tae_round_trip": run_tae_row,
    "reference": run_reference_row,
    "growth": run_growth_row,
    "overhead": run_overhead_row,
}


#: Rows that run the neural models (the overhead row needs none: no models are written or loaded).
_ROWS_WITH_MODELS = {"methods", "vae_round_trip", "tae_round_trip", "reference", "growth"}


class BenchOutcome:
    """The results dictionary, the files written and the rows that failed."""

    def __init__(self, results: dict[str, Any], files: dict[str, Path], failed: list[str]) -> None:
        self.results = results
        self.files = files
        self.failed = failed


def _dtype_label(device: torch.device) -> str:
    if device.type == "cuda":
        return "neural auto precision (float16 on CUDA), VAE float16, interpolations float32"
    return "float32"


def run_bench(
    plan: BenchPlan,
    out: Path,
    *,
    device: torch.device | str = "cpu",
    threads: int | None = None,
    progress: bool = True,
) -> BenchOutcome:
    """Measure every planned row on ``device`` with ``threads`` CPU threads and write the report.

    A row that fails is recorded with its error and the others still run, so one bad row never
    costs the rest of a long run; :attr:`BenchOutcome.failed` names them.
    """
    from latent_upscale.lab.bench.report import summarise, write_report

    device = torch.device(device)
    previous_threads = torch.get_num_threads()
    threads = threads or previous_threads
    torch.set_num_threads(threads)
    environment = describe_environment(device, threads, quick=plan.quick, dtype=_dtype_label(device))
    rows: dict[str, Any] = {}
    durations: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    failed: list[str] = []
    started, started_cpu = time.perf_counter(), _cpu_seconds()
    try:
        with bench_models(device) as models:
            if set(plan.rows) & _ROWS_WITH_MODELS:
                models.warm_up()
            context = BenchContext(plan, device, threads, models, progress)
            for row in plan.rows:
                logger.info("benchmark row: %s", row)
                row_started, row_cpu = time.perf_counter(), _cpu_seconds()
                try:
                    rows[row] = _ROW_RUNNERS[row](context)
                except Exception as error:  # record it and go on with the other rows
                    logger.exception("benchmark row %s failed", row)
                    rows[row] = {"error": f"{type(error).__name__}: {error}"}
                    failed.append(row)
                durations[row] = time.perf_counter() - row_started
                cpu_seconds[row] = _cpu_seconds() - row_cpu
    finally:
        release_vaes()
        torch.set_num_threads(previous_threads)
    environment["duration_s"] = time.perf_counter() - started
    environment["row_durations_s"] = durations
    # CPU seconds of this process and the interpreters it started: on a shared machine the wall time
    # measures the neighbours too; on two idle cores the wall time is at most about this.
    environment["cpu_s"] = _cpu_seconds() - started_cpu
    environment["row_cpu_s"] = cpu_seconds
    environment["load_average_end"] = load_average()
    results = {"environment": environment, "plan": _plan_dict(plan), "rows": rows}
    results["summary"] = summarise(results)
    files = write_report(results, out)
    return BenchOutcome(results, files, failed)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _plan_dict(plan: BenchPlan) -> dict[str, Any]:
    return asdict(plan)
