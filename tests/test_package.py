"""Packaging promises: cheap import, public API surface, required layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import latent_upscale

REPO = Path(__file__).resolve().parents[1]


def test_import_loads_no_gradio_hub_or_network_code():
    code = (
        "import sys, latent_upscale; "
        "heavy = [m for m in ('gradio', 'huggingface_hub', 'modules', 'matplotlib', 'PIL') "
        "if m in sys.modules]; "
        "arch = [m for m in sys.modules if m.startswith('latent_upscale.neural.') and m not in "
        "('latent_upscale.neural.method', 'latent_upscale.neural.options')]; "
        "print(heavy, arch)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"


def test_public_api_is_listed_in_all():
    for name in ("upscale", "methods", "upscale_detailed", "LatentUpscaleError", "LatentFormat"):
        assert name in latent_upscale.__all__
        assert hasattr(latent_upscale, name)


def test_required_layout_exists():
    for folder in ("scripts", "latent_upscale", "assets", "tests"):
        assert (REPO / folder).is_dir(), folder
    for file in ("install.py", "README.md", "LICENSE", "pyproject.toml", ".ci/run"):
        assert (REPO / file).is_file(), file
