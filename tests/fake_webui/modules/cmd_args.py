"""Mirrors modules/cmd_args.py: the subset of command-line flags the fake host honours.

Simplified: the fake parses only the ``COMMANDLINE_ARGS`` environment variable (the real launcher appends it
to ``sys.argv``), never ``sys.argv`` itself, which belongs to pytest here.
"""

import argparse
import os
import shlex

from modules.fake_host import FLAVOR

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--data-dir", type=str, default=None)
if FLAVOR.has_models_dir:
    parser.add_argument("--models-dir", type=str, default=None)  # 1.10+ / Forge / reForge
parser.add_argument("--skip-install", action="store_true")
parser.add_argument("--freeze-settings", action="store_true")
if FLAVOR.at_least(1, 8):
    parser.add_argument("--freeze-settings-in-sections", type=str, default=None)
    parser.add_argument("--freeze-specific-settings", type=str, default=None)
parser.add_argument("--hide-ui-dir-config", action="store_true")
parser.add_argument("--api", action="store_true")
parser.add_argument("--nowebui", action="store_true")
parser.add_argument("--no-half", action="store_true")
parser.add_argument("--no-half-vae", action="store_true")
parser.add_argument("--disable-safe-unpickle", action="store_true")
parser.add_argument("--use-cpu", nargs="+", default=[])
parser.add_argument("--no-prompt-history", action="store_true")
parser.add_argument("--ui-settings-file", type=str, default=None)
parser.add_argument("--embeddings-dir", type=str, default="")


def argv() -> list[str]:
    """The fake's argv: ``COMMANDLINE_ARGS`` split like the real paths_internal does (v1.10.1 :12)."""
    return shlex.split(os.environ.get("COMMANDLINE_ARGS", ""))
