"""Run by the WebUI on every launch (``launch_utils.run_extension_installer``) and after installing
the extension from the UI: installs only what is *missing* of our two light dependencies.

It never installs or upgrades torch, torchvision, gradio or numpy (the WebUI pins its own), and it
never upgrades a package that is present: A1111 pins huggingface-hub through transformers, and a
newer one could break it. Our code works with old huggingface-hub versions and degrades where an API
is missing.
"""

from __future__ import annotations

import importlib.util

#: (import name, pip requirement) of everything we may need to add.
REQUIREMENTS: tuple[tuple[str, str], ...] = (
    ("safetensors", "safetensors>=0.3"),
    ("huggingface_hub", "huggingface-hub>=0.16"),
)
PREFIX = "[Latent Upscale]"


def missing_requirements() -> list[str]:
    """pip requirements whose module cannot be imported in this Python."""
    return [requirement for module, requirement in REQUIREMENTS if importlib.util.find_spec(module) is None]


def main() -> None:
    """Install what is missing through the WebUI's own pip helper (honours its index URL)."""
    missing = missing_requirements()
    if not missing:
        return
    try:
        import launch
    except ImportError:
        print(f"{PREFIX} not run by the WebUI; install by hand: pip install {' '.join(missing)}")  # noqa: T201
        return
    for requirement in missing:
        launch.run_pip(f'install "{requirement}"', f"{requirement} for Latent Upscale")


if __name__ == "__main__":
    main()
