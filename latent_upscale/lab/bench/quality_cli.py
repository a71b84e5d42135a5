"""``python -m latent_upscale bench quality``: from parsed arguments (``cli.py`` declares them, so that
building the parser imports no bench module) to the run and the lines to print."""

from __future__ import annotations

import argparse

__all__ = ["run_quality_command"]


def run_quality_command(args: argparse.Namespace) -> list[str]:
    """Run the quality benchmark from parsed arguments; returns the lines to print (files written, the
    best interpolation, the methods skipped)."""
    from latent_upscale.errors import LatentUpscaleError
    from latent_upscale.lab.bench.quality import (
        QualityPlan,
        best_interpolation,
        load_autoencoder,
        run_quality,
    )

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
