"""Mirrors modules/paths.py (v1.10.1 :3): re-exports of paths_internal."""

from modules.paths_internal import (  # noqa: F401
    cwd,
    data_path,
    extensions_builtin_dir,
    extensions_dir,
    models_path,
    script_path,
)
