"""What several subcommands share: the program name, the usage error, argument types and checks, and
the options of the methods with weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError

__all__ = [
    "PROG",
    "UsageError",
    "add_neural_arguments",
    "check_device_available",
    "device",
    "latent_size",
    "neural_kwargs",
    "neural_options",
    "positive_float",
    "resolve_method",
]

PROG = "python -m latent_upscale"


class UsageError(LatentUpscaleError):
    """A combination of arguments argparse cannot check by itself."""


def resolve_method(text: str) -> str:
    """A method id from ``--method``: an id or a UI label, in any case ("Lanczos-3", "BILINEAR").

    Raises :class:`UsageError`, one line that starts with the closest known ids (difflib) when there
    are any, then the list of ids.
    """
    import difflib

    from latent_upscale.resize_methods import registered_methods

    entries = registered_methods()
    wanted = text.strip().lower()
    for method in entries:
        if wanted in (method.id.lower(), method.label.lower()):
            return method.id
    names = {method.id: method.id for method in entries} | {
        method.label.lower(): method.id for method in entries
    }
    close = list(
        dict.fromkeys(names[n] for n in difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6))
    )
    known = ", ".join(method.id for method in entries)
    if close:
        guesses = " or ".join(f"--method {name}" for name in close)
        raise UsageError(f"did you mean {guesses}? {text!r} is not a method (known: {known})")
    raise UsageError(f"--method {text!r} is not a method (known: {known}; labels work too)")


def latent_size(text: str) -> tuple[int, int]:
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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def device(text: str) -> object:
    import torch

    try:
        device = torch.device(text)
    except RuntimeError as error:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} ({error})") from None
    return device


def check_device_available(device: object) -> None:
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


def neural_options(args: argparse.Namespace) -> object:
    from latent_upscale.neural import NeuralOptions

    return NeuralOptions(
        models_dir=args.models_dir or None,
        allow_download=args.allow_download,
        precision=args.precision,
        tile_size=args.tile_size,
        factor=args.factor,
    )


def neural_kwargs(args: argparse.Namespace) -> dict[str, object]:
    from latent_upscale.resize_methods import get_method

    # Every method that needs weights (neural, tae) takes the same options.
    return {"neural": neural_options(args)} if get_method(args.method).neural else {}


def add_neural_arguments(parser: argparse.ArgumentParser) -> None:
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
        help="download missing weights, each checked against its pinned SHA-256: city96's from Hugging "
        "Face, the TAEF2 tiny autoencoder from madebyollin/taesd (SesquiLSR's files are never downloaded: "
        "fetch them by hand, see the models command)",
    )
    group.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16", "bf16"))
    group.add_argument(
        "--tile-size", type=int, help="tile size in latent pixels (0: never tile; default: automatic)"
    )
    group.add_argument(
        "--factor", type=positive_float, help="factor of a city96 file whose name does not say it"
    )
