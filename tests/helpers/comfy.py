"""``fake_comfy``: the node pack loaded into the fake ComfyUI of ``tests/fake_comfy`` as ComfyUI loads it."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_COMFY = REPO_ROOT / "tests" / "fake_comfy"
#: Modules of the fake host and of our glue that a fake ComfyUI session imports (removed on exit).
_SESSION_PREFIXES = ("comfy", "folder_paths", "latent_upscale.comfy")


def load_door(root: Path = REPO_ROOT) -> ModuleType:
    """Execute ``root/__init__.py`` as ComfyUI's ``load_custom_node`` does (a module named after its path)."""
    name = str(root).replace(".", "_x_")
    spec = importlib.util.spec_from_file_location(name, root / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _ours(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in _SESSION_PREFIXES)


@contextlib.contextmanager
def fake_comfy(base: Path) -> Iterator[SimpleNamespace]:
    """A fake ComfyUI whose ``models/`` lies under ``base``, with the node pack loaded through its door.

    Yields ``door`` (the root module), ``nodes`` (``latent_upscale.comfy.nodes``), ``folder_paths`` and the
    fake ``comfy`` modules. On exit the host's and the glue's modules and ``sys.path`` are restored.
    """
    import os

    saved_path, saved_env = list(sys.path), os.environ.get("LATENT_UPSCALE_FAKE_COMFY_BASE")
    before = set(sys.modules)
    os.environ["LATENT_UPSCALE_FAKE_COMFY_BASE"] = str(base)
    sys.path.insert(0, str(FAKE_COMFY))
    door_name = str(REPO_ROOT).replace(".", "_x_")
    try:
        import comfy.latent_formats
        import comfy.model_patcher
        import comfy.sd
        import folder_paths

        door = load_door()
        yield SimpleNamespace(
            door=door,
            nodes=sys.modules["latent_upscale.comfy.nodes"],
            folder_paths=folder_paths,
            latent_formats=comfy.latent_formats,
            model_for=comfy.model_patcher.model_for,
            VAE=comfy.sd.VAE,
        )
    finally:
        sys.path[:] = saved_path
        if saved_env is None:
            os.environ.pop("LATENT_UPSCALE_FAKE_COMFY_BASE", None)
        else:
            os.environ["LATENT_UPSCALE_FAKE_COMFY_BASE"] = saved_env
        for name in sorted(set(sys.modules) - before, reverse=True):
            if _ours(name) or name == door_name:
                del sys.modules[name]
                parent, _, child = name.rpartition(".")
                if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                    delattr(sys.modules[parent], child)
