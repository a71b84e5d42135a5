"""ComfyUI's door into Latent Upscale (a thin door: the nodes live in ``latent_upscale/comfy/``).

ComfyUI (``nodes.py`` ``load_custom_node``) executes this file as the package of
``custom_nodes/<folder>/`` and reads ``NODE_CLASS_MAPPINGS`` / ``NODE_DISPLAY_NAME_MAPPINGS`` (the
classic V1 API). It does not put the folder on ``sys.path``, so the folder is *appended* when
``latent_upscale`` is not importable from it yet (appended, not prepended: nothing in this
repository may shadow a module of ComfyUI's). Outside ComfyUI (no ``folder_paths`` to import) it
exports empty mappings and changes nothing. The WebUI never imports this file: it loads
``scripts/*.py`` by path and runs ``install.py`` in a subprocess (A1111 ``modules/scripts.py``
``load_scripts``, ``modules/script_loading.py`` ``load_module``, ``modules/launch_utils.py``
``run_extension_installer``).
"""

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _ensure_importable() -> None:
    """Make ``import latent_upscale`` find this folder's package, or say which other copy is in the way."""
    spec = importlib.util.find_spec("latent_upscale")
    if spec is None:
        sys.path.append(str(_HERE))
        spec = importlib.util.find_spec("latent_upscale")
    origin = Path(spec.origin).resolve().parent.parent if spec and spec.origin else None
    if origin != _HERE:
        raise ImportError(
            f"another latent_upscale package ({origin}) shadows this one ({_HERE}): uninstall it, or remove "
            "the other copy from custom_nodes"
        )


if importlib.util.find_spec("folder_paths") is None:
    # Not inside ComfyUI (whose folder_paths is imported before any custom node): pytest, for one, imports
    # this file as the package of the repository root. Nothing to register, nothing to change.
    NODE_CLASS_MAPPINGS: dict = {}
    NODE_DISPLAY_NAME_MAPPINGS: dict = {}
else:
    _ensure_importable()
    from latent_upscale.comfy.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
