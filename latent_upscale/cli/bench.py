"""``bench [speed|quality]``: the speed rows, or each method's quality on real photographs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from latent_upscale.cli.common import UsageError, check_device_available, device
from latent_upscale.families import FAMILY_LIST

__all__ = ["add_bench"]


def _rows(text: str) -> tuple[str, ...]:
    from latent_upscale.lab.bench import ROWS

    rows = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [row for row in rows if row not in ROWS]
    if unknown or not rows:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(ROWS)}; got {text!r}"
        )
    return rows


def _method_list(text: str) -> tuple[str, ...]:
    from latent_upscale.cli.common import resolve_method

    try:
        return tuple(resolve_method(part) for part in text.split(",") if part.strip())
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _scale_list(text: str) -> tuple[float, ...]:
    from latent_upscale.cli.common import positive_float

    scales = tuple(positive_float(part) for part in text.split(",") if part.strip())
    if not scales or any(scale <= 1 for scale in scales):
        raise argparse.ArgumentTypeError(f"expected factors above 1 such as 1.5,2; got {text!r}")
    return scales


def _cmd_bench(args: argparse.Namespace) -> int:
    from latent_upscale.lab.bench import full_plan, quick_plan, run_bench

    if args.suite == "quality":
        from latent_upscale.lab.bench.quality_cli import run_quality_command

        check_device_available(args.device)
        for line in run_quality_command(args):
            print(line)
        return 0
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    check_device_available(args.device)
    plan = quick_plan() if args.quick else full_plan(args.device)
    if args.only:
        plan = plan.only(args.only)
    if args.peers is not None:
        if not args.peers.is_dir():
            raise UsageError(f"--peers must be a folder of peer implementations, got {str(args.peers)!r}")
        plan = dataclasses.replace(plan, peers=str(args.peers))
    outcome = run_bench(plan, args.out, device=args.device, threads=args.threads)
    for name, path in outcome.files.items():
        print(f"{name:9} {path}")
    for key, goal in outcome.results["summary"]["goals"].items():
        verdict = {True: "met", False: "MISSED"}.get(goal["met"], goal.get("verdict", "not judged"))
        spread = goal.get("spread")
        figures = f"{goal['value']:.3g}" + (f" (rounds {spread[0]:.3g} … {spread[1]:.3g})" if spread else "")
        print(f"goal {verdict}: {goal['what']}: {figures} ({key})")
    if outcome.failed:
        print(f"rows that failed: {', '.join(outcome.failed)} (see results.json)", file=sys.stderr)
        return 1
    return 0


_QUALITY_DESCRIPTION = (
    "How each method looks on real photographs: every photograph is Lanczos-downsampled by 1.5 and 2, "
    "encoded with a real autoencoder (--autoencoder), its latent enlarged back by every method, decoded "
    "and scored against the original (PSNR, SSIM, HaarPSI), beside the ceiling (encode-decode only) and "
    "the pixel round trip; methods within the spread across photographs are reported as tied. Writes "
    "quality.json, quality.md and quality.png to --out. Needs the bench extra "
    "(pip install 'latent-upscale[bench]')."
)


class _BenchHelp(argparse.Action):
    """``-h``: the speed bench's help, or the quality bench's own when ``quality`` came first."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show this help and exit"
        )

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: object) -> None:
        if getattr(namespace, "suite", None) == "quality":
            parser.prog = parser.prog + " quality"
            parser.usage = (
                f"{parser.prog} --autoencoder PATH [PATH] [--images DIR] [--crop PX] [--family ID] "
                "[--quick] [--device DEVICE] [--out DIR] [--threads N]"
            )
            parser.description = _QUALITY_DESCRIPTION
        parser.print_help()
        parser.exit()


def add_bench(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "bench",
        parents=[common],
        add_help=False,
        help="measure each method's speed (bench) or its quality on real photographs (bench quality)",
        description="Benchmark every resize method, neural vs a VAE round trip, our runner vs the plain "
        "reference, growth with size and the WebUI glue's overhead; write results.json, results.md and "
        "results.png. Needs the bench extra (pip install 'latent-upscale[bench]'). "
        "For the quality bench: bench quality --help.",
    )
    parser.add_argument("-h", "--help", action=_BenchHelp)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: under three minutes on two idle cores (CI runs it)"
    )
    parser.add_argument(
        "--device", type=device, default="cpu", help="cpu (default) or cuda[:N] when there is one"
    )
    parser.add_argument(
        "--out", default="bench-results", type=Path, help="output folder (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's own choice)")
    parser.add_argument("--only", type=_rows, help="comma-separated rows to run (default: all)")
    parser.add_argument(
        "--peers",
        type=Path,
        metavar="DIR",
        help="folder of published peer implementations to compare against (e.g. ComfyUI's bislerp "
        "saved as comfy_bislerp.py), never part of this repository; a peer whose file is absent is "
        "skipped (default: $LATENT_UPSCALE_BENCH_PEERS, else only the in-repo yardsticks)",
    )
    _add_bench_quality_arguments(parser)
    parser.set_defaults(func=_cmd_bench)


def _add_bench_quality_arguments(parser: argparse.ArgumentParser) -> None:
    """``bench [speed|quality]`` and the options only ``bench quality`` reads."""
    parser.add_argument(
        "suite",
        nargs="?",
        choices=("speed", "quality"),
        default="speed",
        help="speed (default): the cost rows above; quality: each method on real photographs through a real "
        "autoencoder (writes quality.json, quality.md, quality.png)",
    )
    group = parser.add_argument_group("bench quality")
    group.add_argument(
        "--autoencoder",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="a folder with a TAESD encoder/decoder pair (e.g. ../shared/weights/taef2), the two files, "
        "or a full SD VAE (diffusers folder or single file; needs diffusers)",
    )
    group.add_argument(
        "--images", type=Path, metavar="DIR", help="your own photographs instead of scikit-image's"
    )
    group.add_argument(
        "--crop",
        type=int,
        metavar="PX",
        help="measure a centred square of this side (image pixels, rounded down to a multiple of 16) of "
        "every photograph (default: whole photographs; --quick: 256)",
    )
    group.add_argument(
        "--methods",
        type=_method_list,
        metavar="ID,ID",
        help="measure only these methods, comma-separated (default: every method)",
    )
    group.add_argument(
        "--scales",
        type=_scale_list,
        metavar="F,F",
        help="upscale factors, comma-separated (default: 1.5,2; --quick: 2)",
    )
    group.add_argument(
        "--family",
        # The image-VAE families (those a tiny autoencoder mirrors); Wan's video VAE is another kind.
        choices=[family.id for family in FAMILY_LIST if family.autoencoder],
        help="the family of a full VAE whose scaling factor does not say",
    )
