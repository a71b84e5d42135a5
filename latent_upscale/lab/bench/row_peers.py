"""Row 3, interpolations: ours against an in-repo yardstick and the peers users would otherwise run.

The yardstick stays in the repository: bislerp's time as a multiple of bilinear's on the same
latent (both through :func:`latent_upscale.upscale`). Peers are published implementations (the
ones users would otherwise run: ComfyUI's ``comfy.utils.bislerp``, which Forge ships identically)
loaded from the plan's ``peers`` folder when it holds them; their code is never part of this
repository. Every comparison first checks the outputs (max abs difference), then times the
contenders interleaved round by round; the ratio is the median of the per-round ratios, ours /
theirs (< 1: ours is faster).
"""

from __future__ import annotations

import importlib.util
import logging
import statistics
import types
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from latent_upscale.api import upscale
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.measure import interleaved_medians, median_ratio, peak_memory

__all__ = ["PEERS", "Peer", "load_peer", "load_peer_file", "run_interpolation_comparisons"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """A published implementation: ``function`` in ``file`` (inside the peers folder)."""

    name: str
    method: str
    file: str
    function: str
    #: How to call it: ``call(function, latent, (height, width)) → latent``.
    call: Callable[[Callable[..., Tensor], Tensor, tuple[int, int]], Tensor]


#: The peers the bench knows how to call. ComfyUI's signature is ``bislerp(samples, width, height)``.
PEERS = (
    Peer(
        name="ComfyUI/Forge bislerp",
        method="bislerp",
        file="comfy_bislerp.py",
        function="bislerp",
        call=lambda function, latent, size: function(latent, size[1], size[0]),
    ),
)


def load_peer_file(
    folder: str | Path,
    file: str,
    around: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> tuple[types.ModuleType, Any] | None:
    """Execute ``folder/file`` as a private module inside ``around()``; returns the module and what
    ``around()`` gave, or None when the file is not there."""
    path = Path(folder) / file
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"latent_upscale_bench_peer_{path.stem}", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    with around() as entered:
        spec.loader.exec_module(module)
    return module, entered


def load_peer(folder: str | Path, peer: Peer) -> Callable[..., Tensor] | None:
    """The peer's function from ``folder/peer.file``, or None when the file is not there."""
    loaded = load_peer_file(folder, peer.file)
    return None if loaded is None else getattr(loaded[0], peer.function)


def _peak_ratio(context: BenchContext, fn: Callable[[], Tensor], io_bytes: int) -> float | None:
    fn()  # warm-up: one-time allocations (index tables, caches) are not the call's
    with peak_memory(context.device) as probe:
        fn()
    return None if probe.peak_bytes is None else probe.peak_bytes / io_bytes


def _compare(
    context: BenchContext,
    latent: Tensor,
    size: tuple[int, int],
    ours_name: str,
    ours: Callable[[], Tensor],
    theirs_name: str,
    theirs: Callable[[], Tensor],
    *,
    kind: str,
    rounds: int | None = None,
) -> dict[str, Any]:
    rounds = rounds or context.plan.interpolation_rounds
    ours_out = ours()
    theirs_out = theirs()
    difference = float((ours_out.float() - theirs_out.float()).abs().max()) if kind == "peer" else None
    medians = interleaved_medians(
        {"ours": ours, "theirs": theirs},
        rounds=rounds,
        threads=context.threads,
        min_run_time=context.plan.min_run_time,
    )
    io_bytes = (latent.numel() + ours_out.numel()) * latent.element_size()
    row: dict[str, Any] = {
        "kind": kind,
        "ours": ours_name,
        "theirs": theirs_name,
        "input": list(latent.shape),
        "output": list(size),
        "ours_median_s": statistics.median(medians["ours"]),
        "theirs_median_s": statistics.median(medians["theirs"]),
        "ratio": median_ratio(medians["ours"], medians["theirs"]),
        "rounds": rounds,
        "ours_round_medians_s": medians["ours"],
        "theirs_round_medians_s": medians["theirs"],
        "max_abs_diff": difference,
        "ours_peak_ratio": _peak_ratio(context, ours, io_bytes),
        "theirs_peak_ratio": _peak_ratio(context, theirs, io_bytes),
    }
    logger.info(
        "%s vs %s %s → %s: ratio %.3f", ours_name, theirs_name, row["input"], list(size), row["ratio"]
    )
    return row


def run_interpolation_comparisons(context: BenchContext) -> list[dict[str, Any]]:
    """Yardstick rows (bislerp / bilinear) at every planned shape, and peer rows where loaded."""
    peers: list[tuple[Peer, Callable[..., Tensor]]] = []
    if context.plan.peers:
        for peer in PEERS:
            function = load_peer(context.plan.peers, peer)
            if function is None:
                logger.info("peer %s: no %s in %s", peer.name, peer.file, context.plan.peers)
            else:
                peers.append((peer, function))
    rows = []
    jobs = context.plan.interpolation_jobs
    for shape, size in context.steps(jobs, "interpolations", total=len(jobs)):
        batch, channels, side, _ = shape
        latent = context.latent(batch, side, channels=channels)
        bislerp = partial(upscale, latent, size, method="bislerp")
        bilinear = partial(upscale, latent, size, method="bilinear")
        with torch.no_grad():
            rows.append(
                _compare(context, latent, size, "bislerp", bislerp, "bilinear", bilinear, kind="yardstick")
            )
            for peer, function in peers:
                theirs = partial(peer.call, function, latent, size)
                ours = partial(upscale, latent, size, method=peer.method)
                rows.append(
                    _compare(context, latent, size, peer.method, ours, peer.name, theirs, kind="peer")
                )
    return rows
