"""Row: our ComfyUI node against ComfyUI's core ``LatentUpscaleBy`` on the same job, in-process on ComfyUI's
own code (a checkout given with ``--comfy``; skipped when absent). ComfyUI's code is executed here, never
part of this repository.

Both contenders are whole node calls on the same ``LATENT`` dict: core ``LatentUpscaleBy().upscale(samples,
method, scale_by)`` (``comfy.utils.common_upscale``) and our ``LatentUpscaleAdvanced().upscale(samples,
method, "scale_by", scale_by)``, loaded through the repository's root ``__init__.py`` as ComfyUI loads it.
Each pair is first checked (max abs difference of the outputs, same shape), then timed in rounds that
alternate the two in short blocks (:func:`~latent_upscale.lab.bench.alternating.alternating_medians`); the
ratio is the median of the per-round ratios, ours / core (< 1: ours is faster); the fastest rounds' ratio is
reported beside it, for machines whose load swamps single rounds. Times in the table are the fastest round
medians. Goals: bilinear within 5 % (ratio ≤ 1.05), bislerp faster (ratio < 1).

Run it with ComfyUI's Python (its dependencies) and the torchvision stub the recipe writes, e.g.::

    PYTHONPATH=DEST/stubs DEST/venv/bin/python -m latent_upscale.lab.bench.row_comfy_nodes \
        --comfy DEST/ComfyUI --out comfy-nodes.json
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch

from latent_upscale.lab.bench.alternating import alternating_medians
from latent_upscale.lab.bench.environment import load_average
from latent_upscale.lab.bench.measure import median_ratio

__all__ = ["CORE_METHODS", "JOBS", "load_comfy", "main", "run_comfy_node_comparisons"]

logger = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]
#: The methods core LatentUpscaleBy offers (nodes.py ``upscale_methods``); each is one of ours too.
CORE_METHODS = ("nearest-exact", "bilinear", "area", "bicubic", "bislerp")
#: (batch, channels, side, scale_by): SD-sized latents of 512² and 1024² images, and a 16-channel one.
JOBS = ((1, 4, 64, 1.5), (1, 4, 128, 1.5), (2, 16, 64, 2.0))
#: The goal per method: the largest ratio (ours / core) that meets it.
GOALS = {"bilinear": 1.05, "bislerp": 1.0}

Node = Callable[[dict[str, Any], str, float], dict[str, Any]]


def load_comfy(directory: str | Path) -> tuple[Node, Node] | None:
    """Core's and our node as ``call(samples, method, scale_by) → LATENT``, or None without a ComfyUI."""
    directory = Path(directory).resolve()
    if not (directory / "nodes.py").is_file() or not (directory / "folder_paths.py").is_file():
        return None
    sys.path.insert(0, str(directory))
    cli_args = importlib.import_module("comfy.cli_args")
    cli_args.args.cpu = True  # before comfy.model_management is imported (the recipe's README)
    core_nodes = importlib.import_module("nodes")
    spec = importlib.util.spec_from_file_location(
        str(REPO_ROOT).replace(".", "_x_"), REPO_ROOT / "__init__.py"
    )
    assert spec is not None and spec.loader is not None
    door = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = door
    spec.loader.exec_module(door)
    core, ours = core_nodes.LatentUpscaleBy(), door.NODE_CLASS_MAPPINGS["LatentUpscaleAdvanced"]()

    def call_core(samples: dict[str, Any], method: str, scale_by: float) -> dict[str, Any]:
        return core.upscale(samples, method, scale_by)[0]

    def call_ours(samples: dict[str, Any], method: str, scale_by: float) -> dict[str, Any]:
        return ours.upscale(samples, method, "scale_by", scale_by)[0]

    return call_core, call_ours


def run_comfy_node_comparisons(
    core: Node, ours: Node, *, rounds: int = 9, threads: int | None = None, min_run_time: float = 0.2
) -> list[dict[str, Any]]:
    """One row per (job, method): shapes, the outputs' difference, medians and the ratio."""
    threads = threads or torch.get_num_threads()
    generator = torch.Generator().manual_seed(0)
    rows = []
    for batch, channels, side, scale in JOBS:
        samples = {"samples": torch.randn(batch, channels, side, side, generator=generator)}
        for method in CORE_METHODS:
            theirs_out, ours_out = (
                core(samples, method, scale)["samples"],
                ours(samples, method, scale)["samples"],
            )
            if theirs_out.shape != ours_out.shape:
                raise RuntimeError(
                    f"{method}: core gives {tuple(theirs_out.shape)}, ours {tuple(ours_out.shape)}"
                )
            with torch.no_grad():
                medians = alternating_medians(
                    {
                        "ours": partial(ours, samples, method, scale),
                        "core": partial(core, samples, method, scale),
                    },
                    rounds=rounds,
                    threads=threads,
                    min_run_time=min_run_time,
                )
            ratio = median_ratio(medians["ours"], medians["core"])
            rows.append(
                {
                    "method": method,
                    "input": [batch, channels, side, side],
                    "output": list(ours_out.shape),
                    "ours_median_s": min(medians["ours"]),
                    "core_median_s": min(medians["core"]),
                    "ratio": ratio,
                    # the fastest rounds' ratio: what a quiet machine would read when the load swamps rounds
                    "ratio_of_fastest": min(medians["ours"]) / min(medians["core"]),
                    "goal": GOALS.get(method),
                    "meets_goal": None if method not in GOALS else ratio <= GOALS[method],
                    "max_abs_diff": float((ours_out.float() - theirs_out.float()).abs().max()),
                    "rounds": rounds,
                    "threads": threads,
                }
            )
            logger.info("%s %s: ours/core %.3f", method, rows[-1]["input"], ratio)
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| method | input | output | ours (ms) | core (ms) | ours / core | fastest rounds | goal "
        "| max abs diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        goal = "" if row["goal"] is None else f"≤ {row['goal']:.2f} " + ("✓" if row["meets_goal"] else "✗")
        lines.append(
            f"| {row['method']} | {'×'.join(map(str, row['input']))} | {'×'.join(map(str, row['output']))} "
            f"| {row['ours_median_s'] * 1e3:.3f} | {row['core_median_s'] * 1e3:.3f} | {row['ratio']:.3f} "
            f"| {row['ratio_of_fastest']:.3f} | {goal} | {row['max_abs_diff']:.2e} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``--comfy DIR`` (a ComfyUI checkout), ``--out FILE`` (JSON), ``--rounds``, ``--threads``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfy", required=True, help="a ComfyUI checkout (the folder holding nodes.py)")
    parser.add_argument("--out", type=Path, help="write the rows and the environment as JSON here")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    loaded = load_comfy(args.comfy)
    if loaded is None:
        logger.warning("skipped: no ComfyUI checkout at %s", args.comfy)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    before = load_average()
    rows = run_comfy_node_comparisons(*loaded, rounds=args.rounds, threads=args.threads)
    environment = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average_start": before,
        "load_average_end": load_average(),
        "comfyui": str(Path(args.comfy).resolve()),
    }
    table = _table(rows)
    print(table)  # noqa: T201 (the command's output)
    if args.out:
        args.out.write_text(json.dumps({"environment": environment, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
