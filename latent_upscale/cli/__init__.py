"""``python -m latent_upscale``: a thin argparse front over the public API.

Bad arguments or files print one line and exit with code 2, checked before the work wherever they
can be (output path, device, ``--out`` folder); a failed write (a full disk) prints one line, exits 1
and leaves any earlier file whole (every file is written atomically). Characters the console cannot
show are printed as backslash escapes. ``--debug``, before or after the subcommand, shows tracebacks.

This module builds the parser and runs a command; each subcommand's arguments and handler are in the
module named after it (``upscale.py`` also holds ``methods``, ``schedules.py`` ``schedules`` and
``sigmas``), and ``common.py`` holds what they share. Names agree everywhere (``schedules``,
``--schedule``, ``--family``); old spellings are kept as aliases whose help says so.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from latent_upscale.cli.bench import add_bench
from latent_upscale.cli.common import PROG, UsageError
from latent_upscale.cli.demo import add_demo
from latent_upscale.cli.models import add_models
from latent_upscale.cli.schedules import add_schedules
from latent_upscale.cli.upscale import add_methods, add_upscale
from latent_upscale.errors import LatentUpscaleError

__all__ = ["PROG", "UsageError", "build_parser", "main"]

# --- main ---------------------------------------------------------------------------------------

_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = [
    add_methods,
    add_upscale,
    add_schedules,
    add_models,
    add_demo,
    add_bench,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Latent Upscale: resize Stable Diffusion and FLUX latents (files or tensors) by any "
        "factor, with every interpolation, learned latent upscalers and a tiny-VAE round trip.",
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


#: The library's argument names in shared messages, and the option a CLI user types instead.
_OPTIONS = (
    ("latent_space='raw'", "--latent-space raw"),
    ("family=", "--family"),
    ("weights=", "--weights"),
    ("latent_space=", "--latent-space"),
)


def _for_the_cli(message: str) -> str:
    # Messages shared with the WebUI and the library name its settings and arguments; here the
    # equivalent is an option.
    message = message.replace("allow downloads (the extension's setting)", "pass --allow-download").replace(
        "the extension's setting", "--allow-download"
    )
    for argument, option in _OPTIONS:
        message = message.replace(argument, option)
    return message


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
