"""Mirrors modules/paths_internal.py (v1.10.1): where the WebUI, its data, models and extensions live.

``script_path`` is this fake tree (it holds ``scripts/xyz_grid.py``); ``data_path`` comes from ``--data-dir``
(the fixture points it at a per-test temporary directory), ``models_path`` from ``--models-dir`` (1.10+)
or ``<data_path>/models``.
"""

import argparse
import os

from modules import cmd_args
from modules.fake_host import FLAVOR

script_path = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
cwd = os.getcwd()

parser_pre = argparse.ArgumentParser(add_help=False)
parser_pre.add_argument("--data-dir", type=str, default=None)
if FLAVOR.has_models_dir:
    parser_pre.add_argument("--models-dir", type=str, default=None)
cmd_opts_pre = parser_pre.parse_known_args(cmd_args.argv())[0]

data_path = cmd_opts_pre.data_dir or script_path
models_path = getattr(cmd_opts_pre, "models_dir", None) or os.path.join(
    data_path, "models"
)  # mirrors paths_internal.py 1.10.1 :32
extensions_dir = os.path.join(data_path, "extensions")
extensions_builtin_dir = os.path.join(script_path, "extensions-builtin")
config_states_dir = os.path.join(script_path, "config_states")
default_output_dir = os.path.join(data_path, "outputs")
