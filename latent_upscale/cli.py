"""``python -m latent_upscale``: a thin argparse front over the public API.

Bad arguments or files print one line and exit with code 2, checked before the work wherever they
can be (output path, device, ``--out`` folder); a failed write (a full disk) prints one line, exits 1
and leaves any earlier file whole (every file is written atomically). Characters the console cannot
show are printed as backslash escapes. ``--debug``, before or after the subcommand, shows tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError

__all__ = ["main"]

PROG = "python -m latent_upscale"


class UsageError(LatentUpscaleError):
    """A combination of arguments argparse cannot check by itself."""


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected latent ROWSxCOLUMNS such as 96x128, got {text!r}"
        ) from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return height, width


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# --- methods ------------------------------------------------------------------------------------


def _cmd_methods(args: argparse.Namespace) -> int:
    from latent_upscale.resize_methods import registered_methods

    for method in registered_methods():
        print(f"{method.id:22} {method.label:28} {method.advice}" if args.long else method.id)
    return 0


def _add_methods(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("methods", parents=[common], help="list the resize method ids, one a line")
    parser.add_argument("--long", action="store_true", help="also show each method's label and advice")
    parser.set_defaults(func=_cmd_methods)


# --- upscale ------------------------------------------------------------------------------------


def _device(text: str) -> object:
    import torch

    try:
        device = torch.device(text)
    except RuntimeError as error:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} ({error})") from None
    return device


def _check_device_available(device: object) -> None:
    import torch

    kind = getattr(device, "type", "cpu")
    if kind == "meta":
        raise UsageError("--device meta holds shapes without values and cannot compute; use cpu or a GPU")
    if kind == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was given but torch sees no CUDA device here")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps was given but MPS is not available here")
    try:  # any other backend (xpu, a wrong cuda index…): one tiny allocation says whether it works
        torch.empty(1, device=device)  # type: ignore[arg-type]
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"--device {device} is not usable here ({reason})") from None


def _cmd_upscale(args: argparse.Namespace) -> int:
    from latent_upscale.api import upscale_detailed
    from latent_upscale.core import frames_as_batch
    from latent_upscale.latent_formats import family_format
    from latent_upscale.latent_io import check_output_path, read_latent, write_latent

    # Everything that can be checked is checked before the work: the output, the device, the input.
    out_path = check_output_path(args.output)
    if args.device is not None:
        _check_device_available(args.device)
    source = read_latent(args.input)
    family = args.family
    if family is None and source.latent_space == "scaled" and Path(args.input).suffix.lower() == ".latent":
        family = "sd1"  # ComfyUI's pre-marker .latent files are SD1 model-space latents
    latent_space = args.latent_space or source.latent_space or "scaled"
    to_raw = out_path.suffix.lower() == ".latent" and latent_space == "scaled"
    if to_raw and family is None:
        raise UsageError(
            "a ComfyUI .latent holds raw VAE latents; to write one from a model-space ('scaled') "
            "latent, say which model it belongs to with --family"
        )
    latent = source.latent
    if args.device is not None:
        latent = latent.to(args.device)
    result = upscale_detailed(
        latent,
        args.size,
        scale=args.scale,
        method=args.method,
        family=family,
        latent_space=latent_space,
        weights=args.weights,
        **_neural_kwargs(args),
    )
    written = result.latent
    if to_raw:
        flat, restore = frames_as_batch(written.float())  # per-channel formats broadcast over 4-D
        written = restore(family_format(family).to_raw(flat)).to(written.dtype)
    write_latent(out_path, written, like=source)
    shape = "x".join(str(d) for d in result.latent.shape)
    how = "; ".join(result.steps) or result.method
    print(f"wrote {out_path} [{shape}] {str(result.latent.dtype).removeprefix('torch.')} ({how})")
    if result.fallback:
        print(f"note: {result.fallback}")
    return 0


def _neural_options(args: argparse.Namespace) -> object:
    from latent_upscale.neural import NeuralOptions

    return NeuralOptions(
        models_dir=args.models_dir or None,
        allow_download=args.allow_download,
        precision=args.precision,
        tile_size=args.tile_size,
        factor=args.factor,
    )


def _neural_kwargs(args: argparse.Namespace) -> dict[str, object]:
    from latent_upscale.resize_methods import get_method

    # Every method that needs weights (neural, tae) takes the same options.
    return {"neural": _neural_options(args)} if get_method(args.method).neural else {}


def _add_neural_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("methods with weights (neural, tae)")
    group.add_argument(
        "--models-dir",
        type=Path,
        action="append",
        help="folder to search for weights first (repeatable; also env LATENT_UPSCALE_MODELS)",
    )
    group.add_argument(
        "--allow-download",
        action="store_true",
        help="download missing weights (city96 from Hugging Face; SesquiLSR and the tiny autoencoders "
        "from GitHub), each checked against its pinned SHA-256",
    )
    group.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    group.add_argument(
        "--tile-size", type=int, help="tile size in latent pixels (0: never tile; default: automatic)"
    )
    group.add_argument(
        "--factor", type=_positive_float, help="factor of a city96 file whose name does not say it"
    )


# --- models -------------------------------------------------------------------------------------


def _cmd_models(args: argparse.Namespace) -> int:
    from latent_upscale.neural import describe, list_models
    from latent_upscale.neural.weights import find_local_weights, search_dirs

    options = _neural_options(args)
    print("Searched, in order:")
    for folder, label in search_dirs(options):
        print(f"  {folder}  ({label}{'' if folder.is_dir() else ', absent'})")
    wanted = set(args.family or ())
    print("\nKnown weights" + (f" for {', '.join(sorted(wanted))}:" if wanted else ":"))
    infos = list_models(options)
    known = {info.entry.filename for info in infos}
    for info in infos:
        if not wanted or wanted & set(info.families):
            print(f"  {info.summary()}")
    others = [
        (path, label)
        for path, label in find_local_weights(options)
        if path.name not in known and _may_serve(path.name, wanted)
    ]
    if others:
        print("\nOther weight files found (used when named with --weights):")
        for path, label in others:
            print(f"  {path}  ({label})")
    print("\nWhat --method neural would use:")
    from latent_upscale.families import FAMILY_LIST

    # One line per VAE (SD 2.x shares SD 1.x's files), in the family registry's order.
    for family in args.family or [f.id for f in FAMILY_LIST if f.vae_group == f.id]:
        print(f"  {family:5} {describe(family, options)}")
    print("\nWhat --method tae would use:")
    for family in args.family or ("sd1", "sdxl", "sd3", "flux", "flux2"):
        print(f"  {family:5} {describe(family, options, role='autoencoder')}")
    return 0


def _may_serve(filename: str, families: set[str]) -> bool:
    """A weights file the catalog does not name is listed unless its name says another family."""
    from latent_upscale.neural.catalog import hints_from_filename

    hinted = hints_from_filename(filename).family
    return not families or hinted is None or hinted in families


def _add_models(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.latent_formats import FAMILIES

    parser = sub.add_parser(
        "models",
        parents=[common],
        help="list the known neural weights, where they are and where they come from",
    )
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these families")
    _add_neural_arguments(parser)
    parser.set_defaults(func=_cmd_models, method="neural")


def _add_upscale(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.api import DEFAULT_METHOD, methods
    from latent_upscale.latent_formats import FAMILIES, LATENT_SPACES

    parser = sub.add_parser(
        "upscale",
        parents=[common],
        help="resize a latent file",
        description=(
            "Resize a latent file (.latent, .safetensors, .pt/.pth, .npy; chosen by suffix) and write "
            "the result in the format of OUTPUT's suffix."
        ),
    )
    parser.add_argument("input", help="latent file to read")
    parser.add_argument("output", help="file to write")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--scale", type=_positive_float, help="factor for both axes, e.g. 1.5")
    target.add_argument("--size", type=_size, help="exact latent size ROWSxCOLUMNS, e.g. 96x128")
    parser.add_argument("--method", default=DEFAULT_METHOD, choices=methods(), help="default: %(default)s")
    parser.add_argument("--family", choices=sorted(FAMILIES), help="model family (needed by neural and tae)")
    parser.add_argument(
        "--latent-space",
        choices=LATENT_SPACES,
        help="scaled = WebUI model space, raw = VAE output (ComfyUI). Default: from the file "
        "(.latent files say), else scaled",
    )
    parser.add_argument("--weights", type=Path, help="neural weights file to use")
    parser.add_argument("--device", type=_device, help="cpu, cuda, cuda:1, mps… (default: cpu)")
    _add_neural_arguments(parser)
    parser.set_defaults(func=_cmd_upscale)


# --- schedules ----------------------------------------------------------------------------------


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE such as rho=5, got {text!r}")
    return name.strip(), value.strip()


def _denoise(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"denoising strength lies in (0, 1], got {text!r}")
    return value


def _cmd_schedulers(args: argparse.Namespace) -> int:
    from latent_upscale.schedules import registered_schedules

    for schedule in registered_schedules():
        if args.long:
            params = ", ".join(
                f"{p.name}={p.default:g} [{p.minimum:g}..{p.maximum:g}]" for p in schedule.params
            )
            print(f"{schedule.id:18} {schedule.label:18} {params or '-':32} {schedule.advice}")
        else:
            print(schedule.id)
    return 0


def _cmd_sigmas(args: argparse.Namespace) -> int:
    import json

    from latent_upscale.schedules import build_sigmas, img2img_sigmas, sd_sigma_table

    params = dict(args.param or [])
    table = sd_sigma_table(args.model)
    if args.denoise is None:
        if args.no_fix_steps:
            raise UsageError("--no-fix-steps only makes sense with --denoise")
        sigmas = build_sigmas(args.scheduler, args.steps, table, family=args.model, **params)
    else:
        sigmas = img2img_sigmas(
            args.scheduler,
            args.steps,
            args.denoise,
            table,
            fix_steps=not args.no_fix_steps,
            family=args.model,
            **params,
        )
    print(json.dumps([round(float(s), 6) for s in sigmas]))
    return 0


def _add_schedules(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.schedules import TABLE_FAMILIES, schedule_ids

    parser = sub.add_parser("schedulers", parents=[common], help="list the noise schedule ids, one a line")
    parser.add_argument("--long", action="store_true", help="also show labels, parameters and advice")
    parser.set_defaults(func=_cmd_schedulers)

    parser = sub.add_parser(
        "sigmas",
        parents=[common],
        help="print a noise schedule as a JSON list",
        description="Print the sigmas of a schedule for an SD1/SDXL model (built from its betas). With "
        "--denoise, print only the part img2img really samples, with or without the WebUI's "
        "img2img_fix_steps.",
    )
    parser.add_argument(
        "--scheduler", required=True, choices=schedule_ids(), metavar="ID", help="one of: %(choices)s"
    )
    parser.add_argument("--steps", required=True, type=int, help="sampling steps (the slider value)")
    parser.add_argument("--model", default="sd1", choices=TABLE_FAMILIES, help="default: %(default)s")
    parser.add_argument("--denoise", type=_denoise, help="img2img denoising strength: print the sigmas used")
    parser.add_argument(
        "--no-fix-steps",
        action="store_true",
        help="with --denoise: as the WebUI does by default (fewer steps than the slider)",
    )
    parser.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="NAME=VALUE",
        help="a schedule parameter, e.g. rho=5 (repeatable)",
    )
    parser.set_defaults(func=_cmd_sigmas)


# --- demo ---------------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from latent_upscale.demo import run_demo

    written = run_demo(args.out, autoencoder=args.autoencoder, models_dir=args.models_dir, progress=True)
    for name, path in written.items():
        print(f"{name:12} {path}")
    return 0


def _add_demo(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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


# --- bench --------------------------------------------------------------------------------------


def _rows(text: str) -> tuple[str, ...]:
    from latent_upscale.bench import ROWS

    rows = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [row for row in rows if row not in ROWS]
    if unknown or not rows:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(ROWS)}; got {text!r}"
        )
    return rows


def _cmd_bench(args: argparse.Namespace) -> int:
    from latent_upscale.bench import full_plan, quick_plan, run_bench

    if args.suite == "quality":
        from latent_upscale.bench.quality_cli import run_quality_command

        _check_device_available(args.device)
        for line in run_quality_command(args):
            print(line)
        return 0
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    _check_device_available(args.device)
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
        print(f"goal {'met' if goal['met'] else 'MISSED':6} {goal['what']}: {goal['value']:.3g} ({key})")
    if outcome.failed:
        print(f"rows that failed: {', '.join(outcome.failed)} (see results.json)", file=sys.stderr)
        return 1
    return 0


def _add_bench(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "bench",
        parents=[common],
        help="measure every method, the neural runner and the VAE round trip it saves",
        description="Benchmark every resize method, neural vs a VAE round trip, our runner vs the plain "
        "reference, growth with size and the WebUI glue's overhead; write results.json, results.md and "
        "results.png. Needs the bench extra (pip install 'latent-upscale[bench]').",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: well under two minutes on 2 cores")
    parser.add_argument(
        "--device", type=_device, default="cpu", help="cpu (default) or cuda[:N] when there is one"
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
    """``bench [speed|quality]`` and the options only ``bench quality`` reads (issue 9)."""
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
        "--family",
        choices=("sd1", "sd2", "sdxl", "sd3", "flux", "flux2"),
        help="the family of a full VAE whose scaling factor does not say",
    )


# --- main ---------------------------------------------------------------------------------------

_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = [
    _add_methods,
    _add_upscale,
    _add_schedules,
    _add_models,
    _add_demo,
    _add_bench,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Latent Upscale: resize Stable Diffusion latents with better methods than bilinear.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    # After the subcommand too; SUPPRESS keeps a --debug given before it from being reset to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks and debug logging"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _SUBCOMMANDS:
        add(sub, common)
    return parser


def _print_safely() -> None:
    """Never fail a finished run over a character the console cannot show ("→" in cp1252, a file
    name that is not UTF-8): such characters are written as backslash escapes."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _check_out_folder(args: argparse.Namespace) -> None:
    """``--out`` (demo, bench) names a folder: refuse an existing file before any work."""
    out = getattr(args, "out", None)
    if not isinstance(out, Path):
        return
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file; --out names a folder (created if missing)")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: cannot be created ({parent} is not a folder)")


def _for_the_cli(message: str) -> str:
    # Messages shared with the WebUI name its settings; here the equivalent is an option.
    return message.replace("allow downloads (the extension's setting)", "pass --allow-download").replace(
        "the extension's setting", "--allow-download"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 unexpected failure, 2 bad input)."""
    _print_safely()
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(levelname)s %(message)s")
    try:
        _check_out_folder(args)
        return int(args.func(args) or 0)
    except LatentUpscaleError as error:
        if debug:
            traceback.print_exc()
        print(f"{PROG} {args.command}: error: {_for_the_cli(str(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head` closed our output: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # a full disk, a lost network share…: the environment, not a bug
        if debug:
            traceback.print_exc()
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # an unexpected failure: one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            print(
                f"{PROG} {args.command}: unexpected error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback)",
                file=sys.stderr,
            )
        return 1
