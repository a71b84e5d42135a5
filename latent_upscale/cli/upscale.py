"""``methods`` (list the resize methods) and ``upscale`` (resize a latent file)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from latent_upscale.cli.common import (
    UsageError,
    add_neural_arguments,
    check_device_available,
    device,
    latent_size,
    neural_kwargs,
    positive_float,
    resolve_method,
)

__all__ = ["add_methods", "add_upscale"]


def _cmd_methods(args: argparse.Namespace) -> int:
    from latent_upscale.resize_methods import registered_methods

    for method in registered_methods():
        print(f"{method.id:22} {method.label:28} {method.advice}" if args.long else method.id)
    return 0


def add_methods(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("methods", parents=[common], help="list the resize method ids, one a line")
    parser.add_argument("--long", action="store_true", help="also show each method's label and advice")
    parser.set_defaults(func=_cmd_methods)


#: An output larger than this (bytes) is written only with ``--force``: a mistyped ``--scale 100``
#: should not fill a disk without a word.
LARGE_OUTPUT_BYTES = 1 << 30


def _check_output_folder(out_path: Path, parents: bool) -> None:
    """Like ``cp`` and ``mkdir``: a missing output folder is an error unless ``--parents`` asks for it."""
    if not out_path.parent.exists() and not parents:
        raise UsageError(
            f"{out_path.parent}: no such folder for OUTPUT; create it first or pass --parents to create it"
        )


def _check_output_size(latent: object, args: argparse.Namespace, family: str | None) -> None:
    """Refuse an output over :data:`LARGE_OUTPUT_BYTES` without ``--force``, before any work."""
    from latent_upscale.core import resolve_size
    from latent_upscale.errors import LatentUpscaleError
    from latent_upscale.latent_layouts import held_layout, megapixel_scale

    scale = args.scale
    if args.megapixels is not None:
        # the size --megapixels asks for, as the library derives it (alignment moves it a pixel at most)
        try:
            ratio = held_layout(family, latent.shape[1]).ratio if family is not None else 8  # type: ignore[attr-defined]
        except LatentUpscaleError:
            ratio = 8  # a bad family/channel pair is refused by the upscale itself, in its own words
        scale = megapixel_scale((latent.shape[-2], latent.shape[-1]), args.megapixels, ratio)  # type: ignore[attr-defined]
    rows, columns = resolve_size(latent, args.size, scale)  # type: ignore[arg-type]
    shape = (*latent.shape[:-2], rows, columns)  # type: ignore[attr-defined]
    size = math.prod(shape) * latent.element_size()  # type: ignore[attr-defined]
    if size > LARGE_OUTPUT_BYTES and not args.force:
        dims = "x".join(str(d) for d in shape)
        raise UsageError(
            f"the output would be {size / 2**30:.1f} GiB ([{dims}]); check --scale/--size, or pass --force "
            "to write it"
        )


def _cmd_upscale(args: argparse.Namespace) -> int:
    from latent_upscale.api import upscale_detailed
    from latent_upscale.latent_io import check_output_path, file_space_converter, read_latent, write_latent

    # Everything that can be checked is checked before the work: the method, the output, the device,
    # the input and the size of the result.
    args.method = resolve_method(args.method)
    out_path = check_output_path(args.output)
    _check_output_folder(out_path, args.parents)
    if args.device is not None:
        check_device_available(args.device)
    source = read_latent(args.input)
    family = args.family or source.family  # a file may say (ComfyUI's pre-marker .latent: sd1)
    if family is None and source.latent.shape[1] == 128 and source.latent.dim() == 4:
        # Only FLUX.2 (and ERNIE-Image, its VAE) holds a 4-D latent of 128 channels: packed 2×2.
        family = "flux2"
        print("note: a 128-channel latent is taken as a packed FLUX.2 latent (--family flux2)")
    _check_output_size(source.latent, args, family)
    latent_space = args.latent_space or source.latent_space or "scaled"
    to_file = file_space_converter(out_path, latent_space, family)
    latent = source.latent
    if args.device is not None:
        latent = latent.to(args.device)
    result = upscale_detailed(
        latent,
        args.size,
        scale=args.scale,
        megapixels=args.megapixels,
        method=args.method,
        family=family,
        latent_space=latent_space,
        weights=args.weights,
        **neural_kwargs(args),
    )
    written = to_file(result.latent) if to_file is not None else result.latent
    write_latent(out_path, written, like=source)
    shape = "x".join(str(d) for d in result.latent.shape)
    how = "; ".join(result.steps) or result.method
    print(f"wrote {out_path} [{shape}] {str(result.latent.dtype).removeprefix('torch.')} ({how})")
    if result.fallback:
        print(f"note: {result.fallback}")
    return 0


def add_upscale(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.api import DEFAULT_METHOD, methods
    from latent_upscale.families import FAMILY_IDS
    from latent_upscale.latent_formats import LATENT_SPACES

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
    target.add_argument(
        "--scale",
        type=positive_float,
        help="factor for both axes, e.g. 1.5 (with --family, sides are rounded to its patch alignment)",
    )
    target.add_argument(
        "--size", type=latent_size, help="exact latent size ROWSxCOLUMNS (held latent pixels), e.g. 96x128"
    )
    target.add_argument(
        "--megapixels",
        type=positive_float,
        help="about this many x 1024x1024 image pixels, keeping the aspect ratio (e.g. 1.0)",
    )
    parser.add_argument(
        "--method",
        default=DEFAULT_METHOD,
        metavar="ID",
        help=f"{', '.join(methods())}, or a label such as 'Lanczos-3' (any case); default: %(default)s",
    )
    parser.add_argument(
        "--family",
        choices=FAMILY_IDS,
        help="model family: says how the latent is held (flux2: 32 channels, or 128 packed 2x2, "
        "unpacked to resize); rounds --scale/--megapixels sizes to its patch alignment; "
        "needed by neural and tae",
    )
    parser.add_argument(
        "--latent-space",
        choices=LATENT_SPACES,
        help="scaled = WebUI model space, raw = VAE output (ComfyUI). Default: from the file "
        "(.latent files say), else scaled",
    )
    parser.add_argument("--weights", type=Path, help="neural weights file to use")
    parser.add_argument("--device", type=device, help="cpu, cuda, cuda:1, mps… (default: cpu)")
    parser.add_argument(
        "--parents", action="store_true", help="create OUTPUT's folder (and its parents) when missing"
    )
    parser.add_argument(
        "--force", action="store_true", help="write an output larger than 1 GiB (refused without it)"
    )
    add_neural_arguments(parser)
    parser.set_defaults(func=_cmd_upscale)
