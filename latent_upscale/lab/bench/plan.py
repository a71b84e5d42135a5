"""What each benchmark run measures: the sizes, repeats and time caps of the quick and full runs.

A plan is plain data, so tests can shrink every size and CI can run the real command quickly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import torch

__all__ = ["PEERS_ENV", "ROWS", "BenchPlan", "Job", "full_plan", "quick_plan"]

#: Environment variable naming a folder of peer implementations (see ``BenchPlan.peers``).
PEERS_ENV = "LATENT_UPSCALE_BENCH_PEERS"

#: The interpolation shapes of the peer comparison: (input [B, C, H, W], output (H, W)).
_PEER_SHAPES = (
    ((1, 4, 64, 64), (128, 128)),
    ((1, 4, 128, 128), (256, 256)),
    ((4, 4, 128, 128), (192, 192)),
    ((1, 16, 128, 128), (256, 256)),
)

#: The learned-upscaler peer jobs: (model id, latent side, scale factor).
_NEURAL_PEER_JOBS = (
    *((model, side, factor) for model in ("sesqui", "city96") for side in (64, 128) for factor in (1.5, 2.0)),
    ("ttl", 64, 1.5),
    ("ttl", 64, 2.0),
)

#: Row ids, in report order.
ROWS = ("methods", "vae_round_trip", "tae_round_trip", "reference", "growth", "overhead")


@dataclass(frozen=True)
class Job:
    """Enlarge a ``side × side`` latent by ``scale``; ``label`` says which model size it mimics."""

    label: str
    side: int
    scale: float

    @property
    def target(self) -> tuple[int, int]:
        """The output size (``floor(side × scale)``, as every method produces)."""
        out = int(self.side * self.scale)
        return (out, out)


@dataclass(frozen=True)
class BenchPlan:
    """Sizes and budgets for one run (see :func:`quick_plan` and :func:`full_plan`)."""

    quick: bool
    #: Row 1: jobs × batches for every method.
    method_jobs: tuple[Job, ...]
    batches: tuple[int, ...]
    #: Row 2: VAE round trips, (VAE config id, latent side), each a 2× job.
    vae_jobs: tuple[tuple[str, int], ...]
    #: Rows 2 and 2b: interleaved rounds (one round-trip call each) behind each ratio and its spread.
    vae_samples: int
    #: Row 3: latent sides (batch 1) and extra (side, batch) pairs; interleaved rounds.
    reference_sides: tuple[tuple[int, int], ...]
    reference_rounds: int
    #: Row 4: input sides for each model; tile size of the "tiled" variant (None: the runner's
    #: automatic tiling, what users get).
    growth_sides: tuple[int, ...]
    growth_tile: int | None
    #: Row 4: Ttl's attention is quadratic without tiles: largest untiled side.
    ttl_untiled_max_side: int
    #: Row 5: interpolate inputs for the overhead measurement and interleaved rounds.
    overhead_shapes: tuple[tuple[int, int, int, int], ...]
    overhead_rounds: int
    #: Seconds each fast measurement runs (``blocked_autorange``).
    min_run_time: float
    #: A call at least this slow is sampled one call at a time, ``slow_samples`` times…
    slow_s: float
    slow_samples: int
    #: …and a call at least this slow only once (its warm-up).
    single_sample_s: float
    #: Skip a neural call whose cost, extrapolated from a smaller one, exceeds this (seconds).
    call_budget_s: float
    rows: tuple[str, ...] = field(default=ROWS)
    #: Row 3: interpolations against yardsticks and peers, (input shape, output size) each.
    interpolation_jobs: tuple[tuple[tuple[int, int, int, int], tuple[int, int]], ...] = _PEER_SHAPES[:1]
    interpolation_rounds: int = 3
    #: Row 4: input sides of the 2× growth series of every interpolation (powers of two and not).
    interpolation_growth_sides: tuple[int, ...] = (32, 48, 64)
    #: Row 4: further input sides for bislerp alone (its linear-growth goal is stated up to 4096²
    #: output); the other interpolations stop at ``interpolation_growth_sides``.
    bislerp_growth_sides: tuple[int, ...] = ()
    #: Row 5: ``upscale`` on torch modes vs a direct ``F.interpolate`` (input shapes, 2× each).
    upscale_overhead_shapes: tuple[tuple[int, int, int, int], ...] = ((1, 4, 64, 64), (1, 4, 128, 128))
    #: Row 3: learned upscalers vs their published nodes (``row_neural_peers``), (model id, latent
    #: side, scale factor) each; run only when the peers folder holds the node's file.
    neural_peer_jobs: tuple[tuple[str, int, float], ...] = (
        ("sesqui", 16, 1.5),
        ("city96", 16, 2.0),
        ("ttl", 16, 1.5),
    )
    neural_peer_rounds: int = 3
    #: A folder of published peer implementations (e.g. ComfyUI's ``bislerp`` saved as
    #: ``comfy_bislerp.py``), never part of this repository; None: only the in-repo yardsticks.
    peers: str | None = field(default_factory=lambda: os.environ.get(PEERS_ENV) or None)

    def only(self, rows: tuple[str, ...]) -> BenchPlan:
        """The same plan restricted to ``rows``."""
        unknown = [row for row in rows if row not in ROWS]
        if unknown:
            raise ValueError(f"unknown benchmark rows {unknown}; expected some of {list(ROWS)}")
        return replace(self, rows=tuple(row for row in ROWS if row in rows))


def quick_plan() -> BenchPlan:
    """Small sizes and short timings: under three minutes on two idle cores (CI runs it)."""
    return BenchPlan(
        quick=True,
        method_jobs=(Job("small", 32, 2.0), Job("small", 48, 1.5)),
        batches=(1, 4),
        # 64 → 128 and 96 → 192 image pixels; two rounds (a spread) of one call each per row.
        vae_jobs=(("sd1", 8), ("sdxl", 12)),
        vae_samples=2,
        reference_sides=((32, 1), (64, 1)),
        reference_rounds=3,
        growth_sides=(24, 48),
        growth_tile=32,
        ttl_untiled_max_side=48,
        overhead_shapes=((2, 640, 32, 32), (1, 4, 64, 64)),
        overhead_rounds=5,
        min_run_time=0.05,
        slow_s=0.5,
        slow_samples=1,
        single_sample_s=0.5,
        call_budget_s=1.5,
        interpolation_jobs=(((1, 4, 32, 32), (64, 64)), ((2, 4, 24, 24), (36, 36))),
        interpolation_rounds=3,
        interpolation_growth_sides=(24, 32, 48),
        upscale_overhead_shapes=((1, 4, 64, 64), (1, 4, 128, 128)),
        neural_peer_jobs=(("sesqui", 16, 1.5), ("city96", 16, 2.0), ("ttl", 16, 1.5)),
        neural_peer_rounds=3,
    )


def full_plan(device: torch.device | None = None) -> BenchPlan:
    """SD1 and SDXL sizes; bounded so a 2-core CPU finishes in about a quarter of an hour.

    The VAE round trips run at their real sizes (SD1 64×64 → 128×128 latents: 512 px decoded, 1024 px
    encoded; SDXL 128×128 → 256×256: 1024 px decoded, 2048 px encoded), once each on a CPU, where
    one SDXL round trip takes minutes. Neural calls whose extrapolated cost exceeds the per-call
    budget are skipped and listed.
    """
    gpu = device is not None and device.type == "cuda"
    return BenchPlan(
        quick=False,
        method_jobs=(
            Job("SD1 512px", 64, 2.0),
            Job("SDXL 1024px", 128, 1.5),
            Job("SDXL 1024px", 128, 2.0),
            Job("2048px", 256, 2.0),
        ),
        batches=(1, 4),
        vae_jobs=(("sd1", 64), ("sdxl", 128)),
        vae_samples=3 if gpu else 2,
        reference_sides=((32, 1), (64, 1), (128, 1), (64, 4)),
        reference_rounds=5,
        growth_sides=(64, 128, 256, 512),
        growth_tile=None,
        ttl_untiled_max_side=128 if gpu else 64,
        overhead_shapes=((2, 640, 32, 32), (1, 4, 64, 64)),
        overhead_rounds=9,
        min_run_time=0.2 if gpu else 0.3,
        slow_s=3.0,
        slow_samples=2,
        single_sample_s=10.0,
        call_budget_s=20.0 if gpu else 30.0,
        interpolation_jobs=_PEER_SHAPES,
        interpolation_rounds=5,
        interpolation_growth_sides=(64, 96, 128, 192, 256, 384),
        # 2048² → 4096²: a 256 MiB float32 output, about a second per call on a CPU.
        bislerp_growth_sides=(512, 1024, 2048),
        upscale_overhead_shapes=((1, 4, 64, 64), (1, 4, 128, 128)),
        # The peer comparison's sizes. Ttl's attention is quadratic in pixels (a 128² latent ×2 is
        # 65536 tokens untiled, as the node runs it): 64² only.
        neural_peer_jobs=_NEURAL_PEER_JOBS,
        neural_peer_rounds=3,
    )
