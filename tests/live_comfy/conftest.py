"""Live tests drive a real, running ComfyUI through ``/prompt``; CI has none, so they skip.

Stand one up with ``../shared/hosts/comfyui/`` (its README: ComfyUI v0.3.64 on the CPU, a random full-size
SD1.5 checkpoint ``sd15-random.safetensors`` and a TAESD pair in ``models/vae_approx``), link or clone this
repository into its ``custom_nodes/``, start it, then::

    LATENT_UPSCALE_COMFY_URL=http://127.0.0.1:18791 python -m pytest tests/live_comfy -v

The client is the recipe's stdlib ``comfy_client`` (``../shared/hosts/comfyui``), not a copy.
``LATENT_UPSCALE_COMFY_TIMEOUT`` (seconds per workflow, default 900) helps on busy CPU hosts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

URL_VARIABLE = "LATENT_UPSCALE_COMFY_URL"
CLIENT_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "hosts" / "comfyui"


def pytest_collection_modifyitems(config, items):
    if os.environ.get(URL_VARIABLE):
        return
    skip = pytest.mark.skip(reason=f"no running ComfyUI: set {URL_VARIABLE}")
    for item in items:
        if "live_comfy" in item.nodeid:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def comfy_url():
    url = os.environ.get(URL_VARIABLE)
    if not url:
        pytest.skip(f"no running ComfyUI: set {URL_VARIABLE}")
    if not CLIENT_DIR.is_dir():
        pytest.skip(f"the ComfyUI recipe's client is not at {CLIENT_DIR.resolve()}")
    sys.path.insert(0, str(CLIENT_DIR))  # as the recipe's README says: sys.path.insert + import comfy_client
    return url


@pytest.fixture(scope="session")
def client(comfy_url):
    import comfy_client

    return comfy_client


@pytest.fixture(scope="session")
def timeout():
    return float(os.environ.get("LATENT_UPSCALE_COMFY_TIMEOUT", "900"))
