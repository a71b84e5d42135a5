"""Live tests drive a real, running WebUI over its HTTP API; CI has none, so they skip.

Start the WebUI (A1111 1.6+, Forge or reForge) with ``--api`` and this extension installed, load any
SD1 or SDXL checkpoint, then::

    LATENT_UPSCALE_WEBUI_URL=http://127.0.0.1:7860 python -m pytest tests/live -v

``LATENT_UPSCALE_WEBUI_TIMEOUT`` (seconds per request, default 900) helps on CPU-only hosts.
"""

from __future__ import annotations

import base64
import io
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

URL_VARIABLE = "LATENT_UPSCALE_WEBUI_URL"


@dataclass
class WebUI:
    """A tiny JSON client for the WebUI's /sdapi/v1 endpoints (stdlib only: no extra dependency)."""

    base_url: str
    timeout: float

    def request(self, method: str, path: str, payload: object = None) -> object:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")[:2000]
            raise AssertionError(f"{method} {path} -> HTTP {error.code}: {body}") from None

    def get(self, path: str) -> object:
        return self.request("GET", path)

    def post(self, path: str, payload: object) -> object:
        return self.request("POST", path, payload)


@pytest.fixture(scope="session")
def webui() -> WebUI:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        pytest.skip(f"set {URL_VARIABLE} to a WebUI started with --api to run the live tests")
    client = WebUI(url, float(os.environ.get("LATENT_UPSCALE_WEBUI_TIMEOUT", "900")))
    try:
        client.get("/sdapi/v1/options")
    except (urllib.error.URLError, OSError) as error:
        pytest.fail(f"{URL_VARIABLE}={url} does not answer: {error}")
    return client


def png_base64(width: int, height: int) -> str:
    """A small deterministic picture as the API wants init images."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (70, 110, 190))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.55, height * 0.1, width * 0.85, height * 0.4), fill=(250, 220, 90))
    draw.rectangle((width * 0.1, height * 0.5, width * 0.45, height * 0.9), fill=(190, 50, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def image_size(encoded: str) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(encoded.split(",", 1)[-1]))).size


def script_info_or_skip(webui: WebUI) -> list:
    """``/sdapi/v1/script-info``, or a skip where the host's own endpoint fails (A1111 1.6.0 answers
    HTTP 500 there: a host bug, not ours)."""
    try:
        return webui.get("/sdapi/v1/script-info")  # type: ignore[return-value]
    except AssertionError as error:
        if " -> HTTP 5" in str(error):
            pytest.skip(f"this host's own /sdapi/v1/script-info fails: {str(error)[:160]}")
        raise
