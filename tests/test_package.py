"""Packaging promises: cheap import, public API surface, required layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import latent_upscale

REPO = Path(__file__).resolve().parents[1]


def test_import_loads_no_gradio_hub_host_plotting_or_neural_internals():
    # `import latent_upscale` (and its light `neural` entry) needs torch only: no gradio, no
    # huggingface-hub, no WebUI, no plotting, no architectures, runner, weights or model cache.
    code = (
        "import sys, latent_upscale, latent_upscale.neural; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('gradio', 'huggingface_hub', 'safetensors', 'modules', 'matplotlib', 'PIL') "
        "or m.startswith(('latent_upscale.neural.archs', 'latent_upscale.neural.runner', "
        "'latent_upscale.neural.weights', 'latent_upscale.neural.resolution', "
        "'latent_upscale.neural.status', 'latent_upscale.neural.search', 'latent_upscale.neural.downloads', "
        "'latent_upscale.neural.cache', "
        "'latent_upscale.webui'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_api_is_listed_in_all():
    for name in ("upscale", "methods", "upscale_detailed", "LatentUpscaleError", "LatentFormat"):
        assert name in latent_upscale.__all__
        assert hasattr(latent_upscale, name)


def test_required_layout_exists():
    for folder in ("scripts", "latent_upscale", "assets", "tests"):
        assert (REPO / folder).is_dir(), folder
    for file in ("install.py", "README.md", "LICENSE", "pyproject.toml", ".ci/run"):
        assert (REPO / file).is_file(), file


def test_metadata_ini_names_the_extension_and_requires_no_other():
    import configparser

    config = configparser.ConfigParser()
    assert config.read(REPO / "metadata.ini")
    assert config.get("Extension", "Name") == "latent-upscale"
    assert config.get("Extension", "Requires", fallback="").strip() == ""
