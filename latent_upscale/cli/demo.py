"""``demo``: compare every method on a real photograph (or a built-in test latent)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_demo"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from latent_upscale.lab.demo import run_demo

    written = run_demo(args.out, autoencoder=args.autoencoder, models_dir=args.models_dir, progress=True)
    for name, path in written.items():
        print(f"{name:12} {path}")
    return 0


def add_demo(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "demo",
        parents=[common],
        help="compare every method on a real photograph (or a built-in test latent)",
        description="Upscale a latent with every method at 1.5x and 2x and write a comparison image and a "
        "report. With a tiny autoencoder (--autoencoder, or a TAESD pair such as taef2_encoder.pth + "
        "taef2_decoder.pth in a models folder) the latent is a real photograph's, decoded for each "
        "method and scored against the original; without one, a built-in test latent seen through the "
        "SD1 and SDXL latent previews.",
    )
    parser.add_argument("--out", default="demo-out", type=Path, help="output folder (default: %(default)s)")
    parser.add_argument(
        "--autoencoder",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a folder with a TAESD encoder/decoder pair (e.g. taef2_encoder.pth and taef2_decoder.pth "
        "from madebyollin/taesd), or the two files",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        action="append",
        help="folder to search for a TAESD pair and neural weights first (repeatable; also env "
        "LATENT_UPSCALE_MODELS)",
    )
    parser.set_defaults(func=_cmd_demo)
