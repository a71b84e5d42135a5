"""Run by the WebUI on every launch (``launch_utils.run_extension_installer``) and after installing
the extension from the UI: installs only what is *missing* of our two light dependencies, through the
WebUI's own ``launch`` helpers (which honour its index URL and ``--skip-install``).

It never installs or upgrades torch, torchvision, gradio or numpy (the WebUI pins its own), and it
never upgrades a package that is present: A1111 pins huggingface-hub through transformers, and a newer
one could break it. Our code works with old huggingface-hub versions.
"""

from __future__ import annotations

import importlib.util

#: (import name, pip requirement) of everything we may need to add.
REQUIREMENTS: tuple[tuple[str, str], ...] = (
    ("safetensors", "safetensors>=0.3"),
    ("huggingface_hub", "huggingface-hub>=0.16"),
)
PREFIX = "[Latent Upscale]"


def main() -> None:
    """Install each missing requirement with ``launch.run_pip``."""
    try:
        import launch
    except ImportError:  # run by hand, outside the WebUI
        missing = [req for module, req in REQUIREMENTS if importlib.util.find_spec(module) is None]
        if missing:
            print(f"{PREFIX} not run by the WebUI; install by hand: pip install {' '.join(missing)}")  # noqa: T201
        return
    for module, requirement in REQUIREMENTS:
        # is_installed: find_spec on 1.6, the pip distribution (then find_spec) on 1.7+.
        if not launch.is_installed(module):
            launch.run_pip(f'install "{requirement}"', f"{requirement} for Latent Upscale")


if __name__ == "__main__":
    main()
