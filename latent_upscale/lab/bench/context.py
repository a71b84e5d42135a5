"""What every benchmark row shares: the plan, the device, the models and how to measure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import Tensor

from latent_upscale.lab.bench.measure import Timing, measure
from latent_upscale.lab.bench.models import BenchModels
from latent_upscale.lab.bench.plan import BenchPlan

__all__ = ["BenchContext", "CostEstimator"]

T = TypeVar("T")


@dataclass(frozen=True)
class BenchContext:
    """The plan, device, thread count and models of one run, and its measuring helpers."""

    plan: BenchPlan
    device: torch.device
    threads: int
    models: BenchModels
    progress: bool = True

    def measure(self, fn: Callable[[], object], *, samples: int | None = None) -> tuple[Timing, int | None]:
        """Median time and peak extra memory of ``fn`` under this run's budgets (``samples``: how
        many single calls time a slow ``fn``, default the plan's)."""
        return measure(
            fn,
            self.device,
            threads=self.threads,
            min_run_time=self.plan.min_run_time,
            slow_s=self.plan.slow_s,
            slow_samples=samples or self.plan.slow_samples,
            single_sample_s=float("inf") if samples else self.plan.single_sample_s,
        )

    def latent(self, batch: int, side: int, *, channels: int = 4, seed: int = 0) -> Tensor:
        """A deterministic model-space latent (unit variance, as the WebUI holds them)."""
        generator = torch.Generator().manual_seed(seed)
        return torch.randn(batch, channels, side, side, generator=generator).to(self.device)

    def steps(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """``items`` with a progress bar on a terminal (tqdm, a bench extra) and nothing elsewhere."""
        try:
            from tqdm.auto import tqdm
        except ImportError:
            yield from items
            return
        # disable=None: tqdm shows the bar only when stderr is a terminal (not in CI logs).
        yield from tqdm(
            items, desc=description, total=total, leave=False, disable=None if self.progress else True
        )


class CostEstimator:
    """Extrapolates a model's next call from its last measured one, to skip calls over budget.

    Cost is taken as proportional to output pixels × batch, which underestimates attention (Ttl):
    the budget is a guard against runaway runs, not a promise.
    """

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._rate: dict[str, float] = {}

    def estimate(self, key: str, work: float) -> float | None:
        """Estimated seconds for ``work`` units, or None before any measurement of ``key``."""
        rate = self._rate.get(key)
        return None if rate is None else rate * work

    def over_budget(self, key: str, work: float) -> float | None:
        """The estimate when it exceeds the budget (skip the call), else None (run it)."""
        estimate = self.estimate(key, work)
        return estimate if estimate is not None and estimate > self.budget_s else None

    def record(self, key: str, work: float, seconds: float) -> None:
        """Remember the cost rate of a measured call; calls come smallest first, so the latest rate
        (the least diluted by fixed per-call costs) is kept."""
        self._rate[key] = seconds / max(work, 1.0)
