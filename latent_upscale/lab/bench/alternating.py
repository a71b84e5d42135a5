"""Per-round medians of contenders timed in alternating short blocks: for calls of microseconds,
whose ratio must be told to a per cent on a shared machine.

:func:`~latent_upscale.lab.bench.measure.interleaved_medians` times each contender for a whole
``blocked_autorange`` in turn, so a neighbour's burst of a tenth of a second lands on one
contender of a round and not the other (an ``upscale`` row read −14 … +48 % per round at load 8
where block-by-block alternation reads a few per cent). Here every round alternates the
contenders in ``blocks`` blocks of about ``min_run_time / blocks`` seconds each (which one leads
alternates too) and keeps each contender's median block; callers take the median of the per-round
ratios and report their spread, as for every other goal.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from torch.utils import benchmark

__all__ = ["alternating_medians"]


def alternating_medians(
    fns: dict[str, Callable[[], object]],
    *,
    rounds: int,
    threads: int,
    min_run_time: float,
    blocks: int = 8,
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one median block per round (``rounds`` figures each).

    The block length (calls per block) is set once from the first contender, after a warm-up of
    every contender, so all contenders run the same number of calls per block.
    """
    timers = {
        name: benchmark.Timer("fn()", globals={"fn": fn}, num_threads=threads) for name, fn in fns.items()
    }
    first = next(iter(timers.values()))
    target = min_run_time / blocks
    calls = 1
    while (seconds := first.timeit(calls).mean * calls) < target / 4:
        calls *= 4
    calls = max(1, round(calls * target / max(seconds, 1e-9)))
    for timer in timers.values():
        timer.timeit(calls)  # warm-up at the block length
    names = list(timers)
    medians: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in names}
        for block in range(blocks):
            order = names if (index + block) % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(timers[name].timeit(calls).mean)
        for name in names:
            medians[name].append(statistics.median(times[name]))
    return medians
