"""Command-line wiring of ``python -m latent_upscale bench quality`` (kept out of ``cli.py``, and cheap
to import: the benchmark itself loads only when the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["SUITES", "add_quality_arguments", "run_quality_command"]

#: ``bench [SUITE]``: ``speed`` (the default, issue 6's rows) or ``quality`` (issue 9).
SUITES = ("speed", "quality")


def add_quality_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``suite`` positional and the options only ``bench quality`` reads."""
    parser.add_argument(
        "suite",
        nargs="?",
        choices=SUITES,
        default="speed",
        help="speed (default): cost of every method; quality: each method on real photographs through "
        "a real autoencoder (writes quality.json, quality.md, quality.png)",
    )
    group = parser.add_argument_group("bench quality")
    group.add_argument(
        "--autoencoder",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="quality: a folder with a TAESD encoder/decoder pair (e.g. ../shared/weights/taef2), the two "
        "files, or a full SD VAE (diffusers folder or single file; needs diffusers)",
    )
    group.add_argument(
        "--images", type=Path, metavar="DIR", help="quality: your own photographs instead of scikit-image's"
    )
    group.add_argument(
        "--family",
        choices=("sd1", "sd2", "sdxl", "sd3", "flux", "flux2"),
        help="quality: the family of a full VAE when its scaling factor does not say",
    )


def run_quality_command(args: argparse.Namespace) -> list[str]:
    """Run the quality benchmark from parsed arguments; returns the lines to print (files written, the
    best interpolation, the methods skipped)."""
    from latent_upscale.bench.quality import QualityPlan, best_interpolation, load_autoencoder, run_quality
    from latent_upscale.errors import LatentUpscaleError

    if not args.autoencoder:
        raise LatentUpscaleError(
            "bench quality needs --autoencoder PATH: a folder with a TAESD encoder/decoder pair "
            "(e.g. ../shared/weights/taef2) or a full VAE"
        )
    if args.only:
        raise LatentUpscaleError("--only selects rows of the speed bench; bench quality has none")
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    plan = QualityPlan.quick_plan(args.images) if args.quick else QualityPlan(images_dir=args.images)
    autoencoder = load_autoencoder(args.autoencoder, args.device, args.family)
    outcome = run_quality(plan, autoencoder, args.out)
    lines = [f"{name:9} {path}" for name, path in outcome.files.items()]
    best = best_interpolation(outcome.results)
    if best:
        lines.append(f"best interpolation by mean HaarPSI at 2x: {best}")
    lines += [f"skipped {entry['method']}: {entry['reason']}" for entry in outcome.results["skipped"]]
    return lines
