"""``python -m latent_upscale bench quality``: from parsed arguments (``cli.py`` declares them, so that
building the parser imports no bench module) to the run and the lines to print."""

from __future__ import annotations

import argparse
import dataclasses

__all__ = ["run_quality_command"]


def run_quality_command(args: argparse.Namespace) -> list[str]:
    """Run the quality benchmark from parsed arguments; returns the lines to print (files written, the
    best interpolation, the methods skipped)."""
    from latent_upscale.errors import LatentUpscaleError
    from latent_upscale.lab.bench.quality import QualityPlan, load_autoencoder, run_quality
    from latent_upscale.lab.bench.quality_report import best_sentence

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
    crop = getattr(args, "crop", None)
    if crop is not None and crop < 64:
        raise LatentUpscaleError(f"--crop must be at least 64 image pixels, got {crop}")
    plan = QualityPlan.quick_plan(args.images) if args.quick else QualityPlan(images_dir=args.images)
    if crop is not None:
        plan = dataclasses.replace(plan, crop=crop)
    if getattr(args, "methods", None):
        plan = dataclasses.replace(plan, methods=args.methods)
    if getattr(args, "scales", None):
        plan = dataclasses.replace(plan, scales=args.scales)
    autoencoder = load_autoencoder(args.autoencoder, args.device, args.family)
    outcome = run_quality(plan, autoencoder, args.out)
    lines = [f"{name:9} {path}" for name, path in outcome.files.items()]
    for scale in plan.scales:
        sentence = best_sentence(outcome.results, scale)
        if sentence:
            lines.append(sentence.replace("`", ""))
    lines += [f"skipped {entry['method']}: {entry['reason']}" for entry in outcome.results["skipped"]]
    return lines
