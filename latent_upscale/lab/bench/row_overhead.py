"""Row 5: what the WebUI glue costs an ``F.interpolate`` call it does not own, and what
:func:`latent_upscale.upscale` adds to the ``F.interpolate`` call it makes for a torch mode.

During one host call the glue replaces ``torch.nn.functional.interpolate`` with an
:class:`~latent_upscale.webui.patches.InterpolateInterceptor` that passes every call it does not
recognise to torch. This row times UNet-like calls with the interceptor installed (armed, never
matching) against torch's own function, interleaved round by round; both statements are the same
attribute lookup and call, so the difference is the pass-through alone (rows of ``kind``
``"interceptor"``). Rows of ``kind`` ``"upscale"`` time ``upscale(latent, size, method=mode)``
for every torch mode of the registry against the ``F.interpolate`` call whose result it returns
(input checks, dispatch), on one thread, the two alternating in short blocks within each round;
the goal is at most 5 % at 64² and 128² inputs (2×).
"""

from __future__ import annotations

import logging
import statistics
from functools import partial
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils import benchmark

from latent_upscale.api import upscale
from latent_upscale.lab.bench.alternating import alternating_medians
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.measure import median_ratio
from latent_upscale.webui.patches import InterpolateInterceptor

__all__ = ["run_overhead_row"]

logger = logging.getLogger(__name__)

_STATEMENT = 'functional.interpolate(x, scale_factor=2.0, mode="nearest")'


def _never_called(latent: Tensor, size: tuple[int, int], call_host: object) -> Tensor:
    raise AssertionError("the benchmark's interceptor must never match")


#: Every torch mode of the registry, timed through ``upscale`` and as the ``F.interpolate`` call it
#: gives exactly (the arguments the WebUI passes).
_UPSCALE_MODES = {
    "nearest": {"mode": "nearest"},
    "nearest-exact": {"mode": "nearest-exact"},
    "bilinear": {"mode": "bilinear", "align_corners": False, "antialias": False},
    "bilinear-antialiased": {"mode": "bilinear", "align_corners": False, "antialias": True},
    "bicubic": {"mode": "bicubic", "align_corners": False, "antialias": False},
    "bicubic-antialiased": {"mode": "bicubic", "align_corners": False, "antialias": True},
    "area": {"mode": "area"},
}


#: ``upscale``'s extra cost is per call, not per pixel: measured on one thread, where a kernel's
#: share of the machine cannot hide it (and a loaded machine's thread pool cannot inflate it).
_UPSCALE_THREADS = 1


def run_overhead_row(context: BenchContext) -> list[dict[str, object]]:
    """Interceptor rows, then ``upscale`` vs direct ``F.interpolate`` rows."""
    return [*_interceptor_rows(context), *_upscale_rows(context)]


def _upscale_rows(context: BenchContext) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for shape in context.plan.upscale_overhead_shapes:
        latent = context.latent(shape[0], shape[2], channels=shape[1])
        size = (shape[2] * 2, shape[3] * 2)
        for method, arguments in _UPSCALE_MODES.items():
            direct = partial(F.interpolate, latent, size=size, **arguments)
            ours = partial(upscale, latent, size, method=method)
            if not torch.equal(direct(), ours()):
                raise RuntimeError(f"upscale(method={method!r}) differs from its F.interpolate call")
            medians = alternating_medians(
                {"direct": direct, "upscale": ours},
                rounds=context.plan.overhead_rounds,
                threads=_UPSCALE_THREADS,
                min_run_time=context.plan.min_run_time,
            )
            ratio = median_ratio(medians["upscale"], medians["direct"])
            rows.append(
                {
                    "kind": "upscale",
                    "input": list(shape),
                    "output": list(size),
                    "call": f"upscale(method={method!r}) vs F.interpolate",
                    "method": method,
                    "plain_median_s": statistics.median(medians["direct"]),
                    "patched_median_s": statistics.median(medians["upscale"]),
                    "extra_per_call_s": (ratio - 1.0) * statistics.median(medians["direct"]),
                    "overhead_percent": (ratio - 1.0) * 100.0,
                    "rounds": context.plan.overhead_rounds,
                    "threads": _UPSCALE_THREADS,
                    "plain_round_medians_s": medians["direct"],
                    "patched_round_medians_s": medians["upscale"],
                }
            )
            logger.info("upscale overhead %s %s: %+.1f %%", method, list(shape), rows[-1]["overhead_percent"])
    return rows


def _interceptor_rows(context: BenchContext) -> list[dict[str, object]]:
    """Per shape: median time with and without the interceptor and the relative overhead."""
    rows = []
    unmatched = torch.zeros(1)  # the interceptor waits for this tensor, which no call passes
    shapes = context.plan.overhead_shapes
    original = F.interpolate
    for shape in context.steps(shapes, "overhead", total=len(shapes)):
        x = torch.randn(*shape, device=context.device)
        plain = benchmark.Timer(
            _STATEMENT,
            globals={"functional": SimpleNamespace(interpolate=original), "x": x},
            num_threads=context.threads,
        )
        patched = benchmark.Timer(_STATEMENT, globals={"functional": F, "x": x}, num_threads=context.threads)
        plain_medians: list[float] = []
        patched_medians: list[float] = []
        with InterpolateInterceptor(lambda: unmatched, lambda: (1, 1), _never_called) as interceptor:
            if F.interpolate is original:
                raise RuntimeError("the interceptor did not install itself")
            patched.timeit(10)  # warm-up both
            plain.timeit(10)
            for _ in range(context.plan.overhead_rounds):
                plain_medians.append(
                    float(plain.blocked_autorange(min_run_time=context.plan.min_run_time).median)
                )
                patched_medians.append(
                    float(patched.blocked_autorange(min_run_time=context.plan.min_run_time).median)
                )
            served = interceptor.served
        ratio = median_ratio(patched_medians, plain_medians)
        row = {
            "kind": "interceptor",
            "input": list(shape),
            "call": "F.interpolate(x, scale_factor=2, mode='nearest')",
            "plain_median_s": statistics.median(plain_medians),
            "patched_median_s": statistics.median(patched_medians),
            # From the same per-round ratio as the percentage, so the two never disagree in sign.
            "extra_per_call_s": (ratio - 1.0) * statistics.median(plain_medians),
            "overhead_percent": (ratio - 1.0) * 100.0,
            "rounds": context.plan.overhead_rounds,
            "plain_round_medians_s": plain_medians,
            "patched_round_medians_s": patched_medians,
            "interceptor_served": served,
        }
        rows.append(row)
        logger.info("overhead %s: %+.2f %%", list(shape), row["overhead_percent"])
    return rows
