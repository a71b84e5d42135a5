"""How the benchmark measures: ``torch.utils.benchmark.Timer.blocked_autorange`` for time (and the
standard ``timeit`` for calls of seconds, timed one call each), the kernel's or CUDA's peak counters
for memory. Only the policy (warm-up, how many samples for slow calls) is ours.

Memory on CPU is the peak resident set size reached during one call minus the resident size before
it (Linux: ``/proc/self/status`` ``VmHWM`` after resetting it through ``/proc/self/clear_refs``,
with freed heap pages first returned by ``malloc_trim``): everything the call touched, weights
already loaded excluded. glibc's mmap threshold is pinned at 64 KiB for the measuring process
(``mallopt``) while a probe is open, so every large tensor is mapped on allocation and unmapped
when freed: without that, its dynamic threshold keeps freed tensors in the heap and the peak counts
them twice. When the probe closes the threshold goes to 32 MiB (glibc's ceiling for its dynamic
threshold on 64-bit), so timings taken afterwards reuse heap memory as a long-running process
does, instead of paying fresh page faults for every tensor (that skewed allocation-heavy code).
On CUDA it is ``torch.cuda.max_memory_allocated`` minus what was allocated before.
Where neither is available the figure is ``None``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import statistics
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch.utils import benchmark

__all__ = [
    "MemoryProbe",
    "Timing",
    "interleaved_medians",
    "measure",
    "median_ratio",
    "memory_method",
    "peak_memory",
    "ratio_spread",
    "timer",
]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Timing:
    """A median over samples; each sample averages ``calls_per_sample`` calls."""

    median_s: float
    iqr_s: float
    samples: int
    calls_per_sample: int
    #: Seconds per call of each sample.
    times_s: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The figures for ``results.json``."""
        return {
            "median_s": self.median_s,
            "iqr_s": self.iqr_s,
            "samples": self.samples,
            "calls_per_sample": self.calls_per_sample,
            "times_s": list(self.times_s),
        }


def _timing(measurement: benchmark.Measurement) -> Timing:
    return Timing(
        median_s=float(measurement.median),
        iqr_s=float(measurement.iqr),
        samples=len(measurement.times),
        calls_per_sample=int(measurement.number_per_run),
        times_s=tuple(float(t) for t in measurement.times),
    )


def timer(fn: Callable[[], object], threads: int) -> benchmark.Timer:
    """A ``torch.utils.benchmark.Timer`` of ``fn()`` on ``threads`` threads (it synchronises CUDA
    around each sample by itself)."""
    return benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=threads)


# --- memory -------------------------------------------------------------------------------------


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _status_bytes(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


#: ``mallopt`` parameter number of ``M_MMAP_THRESHOLD`` (glibc's malloc.h).
_M_MMAP_THRESHOLD = -3


#: While measuring memory: every allocation of 64 KiB or more is its own mapping, unmapped on free.
_PROBE_MMAP_THRESHOLD = 64 * 1024
#: Between probes: glibc's ``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit (where its dynamic threshold
#: settles in a long-running process that frees large blocks).
_TIMING_MMAP_THRESHOLD = 32 * 1024 * 1024


def _set_mmap_threshold(size: int) -> bool:
    """``mallopt(M_MMAP_THRESHOLD, size)``; False where glibc's malloc is not there."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, size))


@cache
def _rss_peak_resettable() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def memory_method(device: torch.device) -> str:
    """What the memory figures mean on this machine (for the environment block)."""
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated increase during one call"
    if _rss_peak_resettable():
        return "peak RSS increase during one call (Linux VmHWM reset via clear_refs)"
    return "unavailable on this platform"


class MemoryProbe:
    """Holds the peak extra bytes of the call made inside :func:`peak_memory` (``None``: unknown)."""

    peak_bytes: int | None = None


@contextmanager
def peak_memory(device: torch.device) -> Iterator[MemoryProbe]:
    """Measure the peak memory added by the code inside the ``with`` block."""
    probe = MemoryProbe()
    # Young generations only: a full collection costs ~0.2 s once diffusers is imported, and
    # tensors of earlier calls are freed by reference counting, not by the cycle collector.
    gc.collect(1)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        yield probe
        torch.cuda.synchronize(device)
        probe.peak_bytes = max(0, torch.cuda.max_memory_allocated(device) - base)
        return
    if not _rss_peak_resettable():
        yield probe
        return
    _set_mmap_threshold(_PROBE_MMAP_THRESHOLD)
    try:
        libc = _libc()
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)  # freed heap pages would otherwise hide new allocations
        base = _status_bytes("VmRSS")
        _CLEAR_REFS.write_text("5")  # reset VmHWM to the current RSS
        yield probe
        peak = _status_bytes("VmHWM")
        if base is not None and peak is not None:
            probe.peak_bytes = max(0, peak - base)
    finally:
        _set_mmap_threshold(_TIMING_MMAP_THRESHOLD)


# --- time ---------------------------------------------------------------------------------------


def _one_call_seconds(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds for exactly one call (``Timer.timeit`` would add two warm-up calls of its own)."""
    if device.type != "cuda":
        return timeit.Timer(fn).timeit(number=1)

    def synchronised() -> None:
        fn()
        torch.cuda.synchronize(device)

    torch.cuda.synchronize(device)
    return timeit.Timer(synchronised).timeit(number=1)


def measure(
    fn: Callable[[], object],
    device: torch.device,
    *,
    threads: int,
    min_run_time: float,
    slow_s: float,
    slow_samples: int,
    single_sample_s: float = float("inf"),
) -> tuple[Timing, int | None]:
    """Time ``fn`` and measure its peak memory; returns the timing and the peak extra bytes.

    The first call warms up (and is the one whose memory is measured). A call that takes at least
    ``slow_s`` seconds is timed ``slow_samples`` times one call at a time, the warm-up counting as
    the first sample (at seconds per call, one-time costs are noise), and a call of at least
    ``single_sample_s`` only that once; faster calls go to ``blocked_autorange`` for
    ``min_run_time`` seconds.
    """
    with peak_memory(device) as probe:
        first = _one_call_seconds(fn, device)
    if first >= slow_s:
        more = 0 if first >= single_sample_s else max(slow_samples - 1, 0)
        times = [first] + [_one_call_seconds(fn, device) for _ in range(more)]
        quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
        timing = Timing(
            median_s=statistics.median(times),
            iqr_s=quartiles[2] - quartiles[0],
            samples=len(times),
            calls_per_sample=1,
            times_s=tuple(times),
        )
        return timing, probe.peak_bytes
    return _timing(timer(fn, threads).blocked_autorange(min_run_time=min_run_time)), probe.peak_bytes


def interleaved_medians(
    fns: dict[str, Callable[[], object]],
    *,
    rounds: int,
    threads: int,
    min_run_time: float,
    single_calls: frozenset[str] = frozenset(),
    device: torch.device | None = None,
    warm_up: bool = True,
) -> dict[str, list[float]]:
    """Per-round medians of several callables timed in turn, round after round.

    A noisy neighbour then slows every contender in a round alike, so per-round ratios stay
    meaningful; callers take the median of those ratios. Callables named in ``single_calls`` (calls
    of a second or more) are timed one call per round instead of ``blocked_autorange``.
    """
    if warm_up:
        for fn in fns.values():
            fn()
    timers = {name: timer(fn, threads) for name, fn in fns.items()}
    medians: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, each in timers.items():
            if name in single_calls:
                medians[name].append(_one_call_seconds(fns[name], device or torch.device("cpu")))
            else:
                medians[name].append(float(each.blocked_autorange(min_run_time=min_run_time).median))
    return medians


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios ``numerator / denominator``."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def ratio_spread(numerators: list[float], denominators: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-round ratios ``numerator / denominator``."""
    ratios = [n / d for n, d in zip(numerators, denominators, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)
