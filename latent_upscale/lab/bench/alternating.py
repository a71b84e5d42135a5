"""Per-round figures of contenders timed in alternating short blocks: for calls of microseconds,
whose ratio must be told to a per cent on a shared machine.

:func:`~latent_upscale.lab.bench.measure.interleaved_medians` times each contender for a whole
``blocked_autorange`` in turn, so a neighbour's burst of a tenth of a second lands on one
contender of a round and not the other (an ``upscale`` row read −14 … +48 % per round at load 8).
Here every round alternates the contenders in blocks of about :data:`BLOCK_S` seconds (which one
leads alternates too), ``min_run_time`` seconds of blocks per contender, and keeps each contender's
fastest-quartile block: on a machine shared with other processes the slower blocks are the ones a
neighbour preempted, not the code (the advice of Python's ``timeit``). Callers take the median of
the per-round ratios and report their spread, as for every other goal.
"""

from __future__ import annotations

from collections.abc import Callable

from latent_upscale.lab.bench.measure import timer

__all__ = ["BLOCK_S", "alternating_medians"]

#: The length of one block: a few scheduler time slices at most, so most blocks run undisturbed.
BLOCK_S = 0.002
#: Blocks per contender and round, at least.
_MIN_BLOCKS = 8


def alternating_medians(
    fns: dict[str, Callable[[], object]], *, rounds: int, threads: int, min_run_time: float
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one figure per round (its fastest-quartile block).

    The block length (calls per block) is set once from the first contender, after a warm-up of
    every contender, so all contenders run the same number of calls per block.
    """
    timers = {name: timer(fn, threads) for name, fn in fns.items()}
    first = next(iter(timers.values()))
    target = min(BLOCK_S, min_run_time / _MIN_BLOCKS)
    calls = 1
    while (seconds := first.timeit(calls).mean * calls) < target / 4:
        calls *= 4
    per_call = seconds / calls
    calls = max(1, round(target / per_call))
    # Calls longer than a block: one call a block, and fewer blocks (still _MIN_BLOCKS at least).
    blocks = max(_MIN_BLOCKS, round(min_run_time / max(target, calls * per_call)))
    for each in timers.values():
        each.timeit(calls)  # warm-up at the block length
    names = list(timers)
    figures: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in names}
        for block in range(blocks):
            order = names if (index + block) % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(timers[name].timeit(calls).mean)
        for name in names:
            figures[name].append(sorted(times[name])[len(times[name]) // 4])
    return figures
