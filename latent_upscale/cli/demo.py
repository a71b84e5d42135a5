"""``demo``: compare every method on a real photograph (or a built-in test latent)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_demo"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from latent_upscale.lab.demo import run_demo

    written = run_demo(
        args.out,
        autoencoder=args.autoencoder,
        models_dir=args.models_dir,
        progress=True,
        download=not args.offline,
    )
    for name, path in written.items():
        print(f"{name:12} {path}")
    return 0


def add_demo(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "demo",
        parents=[common],
        help="compare every method on a real photograph (fetching the 2 x 2.7 MB TAEF2 pair if needed)",
        description="Upscale a real photograph's latent with every method at 1.5x and 2x, decode each and "
        "score it against the original; write a comparison image and a report. The latent comes from a "
        "tiny autoencoder: --autoencoder, else a TAESD pair such as taef2_encoder.pth + "
        "taef2_decoder.pth in a models folder, else the TAEF2 pair is downloaded (madebyollin/taesd, "
        "MIT; SHA-256 pinned) into the first models folder or the download cache. With --offline (or "
        "HF_HUB_OFFLINE=1) and no pair, a built-in test latent seen through the SD1 and SDXL latent "
        "previews, and one line saying what to fetch.",
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
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never download: without a tiny autoencoder, show the built-in test scene instead",
    )
    parser.set_defaults(func=_cmd_demo)
