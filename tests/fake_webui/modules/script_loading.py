"""Mirrors modules/script_loading.py (v1.10.1): load a script file by path.

The module is named after the file's basename (e.g. ``"latent_upscale.py"``) and is NOT put in
``sys.modules``; executing a file twice creates two distinct module objects (Reload UI).
"""

import importlib.util
import os

loaded_scripts = {}


def load_module(path):
    module_spec = importlib.util.spec_from_file_location(os.path.basename(path), path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    loaded_scripts[path] = module
    return module
