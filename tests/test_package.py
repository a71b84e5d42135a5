"""Packaging promises: cheap import, public API surface, required layout."""

from __future__ import annotations

from pathlib import Path

import latent_upscale

REPO = Path(__file__).resolve().parents[1]


def test_import_loads_no_gradio_hub_host_plotting_or_neural_internals(fresh_imports):
    # `import latent_upscale` (and its light `neural` entry) needs torch only: no gradio, no
    # huggingface-hub, no WebUI, no plotting, no architectures, runner, weights or model cache.
    loaded = [
        m
        for m in fresh_imports["package"]
        if m.split(".")[0] in ("gradio", "huggingface_hub", "safetensors", "modules", "matplotlib", "PIL")
        or m.startswith(
            (
                "latent_upscale.neural.archs",
                "latent_upscale.neural.runner",
                "latent_upscale.neural.weights",
                "latent_upscale.neural.resolution",
                "latent_upscale.neural.status",
                "latent_upscale.neural.search",
                "latent_upscale.neural.downloads",
                "latent_upscale.neural.cache",
                "latent_upscale.webui",
            )
        )
    ]
    assert loaded == []
    assert "latent_upscale.neural" in fresh_imports["package"]  # the probe did import it


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
