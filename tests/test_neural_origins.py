"""Where each weights file comes from: its own catalog entry, unless a user sets a mirror meant for it.

A mirror option (``hf_repo_id`` with ``hf_revision``, ``sesqui_base_url``, ``tae_base_url``) is empty
unless set, and then applies only to the entries whose ``mirror_option`` names it; a new catalog
entry resolves to its own Hub repo or URL. The status line names the place the download uses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from latent_upscale.neural import catalog, describe
from latent_upscale.neural.catalog import CatalogEntry, WeightSet
from latent_upscale.neural.downloads import manual_url, origin
from latent_upscale.neural.options import MIRROR_OPTIONS, NeuralOptions
from latent_upscale.neural.resolution import resolve_weights
from tests.helpers.host_stub import host_stub
from tests.helpers.hub_server import LocalHub
from tests.helpers.neural_env import options

NEW_REVISION = "0123456789abcdef0123456789abcdef01234567"
DATA = b"made-up weights of a new published upscaler"
ELSEWHERE = "http://127.0.0.1:9/someone-elses-mirror/"


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py, as is the `hub` fixture


def made_up_entry(**where: object) -> CatalogEntry:
    """A new published file, as a contributor would add it: no ``mirror_option``."""
    return CatalogEntry(
        key="newlab-x",
        arch="sesqui",
        filename="newlab_upscaler.safetensors",
        family="sd3",
        version="",
        factor=None,
        approx_bytes=3_000_000,
        licence="MIT",
        homepage="https://example.org/newlab",
        sha256=hashlib.sha256(DATA).hexdigest(),
        **where,  # type: ignore[arg-type]
    )


def serve_for_sd3(monkeypatch: pytest.MonkeyPatch, entry: CatalogEntry) -> None:
    """Make ``entry`` the only weight set of SD3 (which has none today)."""
    monkeypatch.setitem(
        catalog.PREFERENCES, "sd3", (WeightSet("Newlab SD3", "sesqui", (entry,), id="newlab"),)
    )


def every_mirror_set(hub: LocalHub) -> dict[str, object]:
    return {
        "allow_download": True,
        "hf_endpoint": hub.url,
        "hf_repo_id": "someone/city96-mirror",
        "hf_revision": "v2",
        "sesqui_base_url": ELSEWHERE,
        "tae_base_url": ELSEWHERE,
    }


def test_no_mirror_is_set_by_default_and_every_file_comes_from_its_own_entry(monkeypatch: pytest.MonkeyPatch):
    defaults = NeuralOptions()
    assert all(getattr(defaults, name) is None for name in MIRROR_OPTIONS)
    assert NeuralOptions(hf_repo_id="", sesqui_base_url=" ").hf_repo_id is None  # "" = unset (WebUI)
    for entry in catalog.CATALOG:
        if entry.source == "hf":
            own = f"https://huggingface.co/{entry.hf_repo}/resolve/{entry.hf_revision}/{entry.filename}"
            assert manual_url(entry, defaults) == own
        elif entry.source == "url":
            assert manual_url(entry, defaults) == entry.url


def test_a_new_hub_entry_downloads_from_its_own_repo_while_the_city96_mirror_serves_city96_only(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    entry = made_up_entry(source="hf", hf_repo="newlab/new-upscaler", hf_revision=NEW_REVISION)
    serve_for_sd3(monkeypatch, entry)
    hub.add_hub_file("newlab/new-upscaler", NEW_REVISION, entry.filename, DATA)
    opts = options(tmp_path, **every_mirror_set(hub))
    # The status line names the place the download then uses.
    assert str(describe("sd3", opts)) == "Newlab SD3 (will download 3.0 MB from HF newlab/new-upscaler)"
    found = resolve_weights("sd3", opts)
    assert found.path.read_bytes() == DATA
    assert ("GET", f"/newlab/new-upscaler/resolve/{NEW_REVISION}/{entry.filename}") in hub.requests
    city96 = catalog.WEIGHT_SETS["city96-2.1-sdv1"].entries[0]
    assert origin(city96, opts) == "HF someone/city96-mirror"
    assert f"/someone/city96-mirror/resolve/v2/{city96.filename}" in manual_url(city96, opts)


def test_a_new_url_entry_downloads_from_its_own_url_whatever_base_urls_are_set(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    entry = made_up_entry(source="url", url=f"{hub.url}/newlab/files/newlab_upscaler.safetensors")
    serve_for_sd3(monkeypatch, entry)
    hub.add_file("/newlab/files/newlab_upscaler.safetensors", DATA)
    opts = options(tmp_path, **every_mirror_set(hub))
    host = hub.url.split("://", 1)[1]
    assert origin(entry, opts) == host
    assert str(describe("sd3", opts)) == f"Newlab SD3 (will download 3.0 MB from {host})"
    assert resolve_weights("sd3", opts).path.read_bytes() == DATA
    assert [path for method, path in hub.requests if method == "GET"] == [
        "/newlab/files/newlab_upscaler.safetensors"
    ]
    sesqui = catalog.WEIGHT_SETS["sesqui-sdxl"].entries[0]
    assert manual_url(sesqui, opts) == ELSEWHERE + sesqui.filename  # the mirror it was meant for


def test_the_webui_mirror_setting_is_empty_by_default_and_serves_city96_when_set():
    with host_stub() as host:
        assert host.glue("settings").neural_options().hf_repo_id is None
    with host_stub(opts={"latent_upscale_hf_repo": "someone/city96-mirror"}) as host:
        opts = host.glue("settings").neural_options()
    city96 = catalog.WEIGHT_SETS["city96-2.1-sdxl"].entries[0]
    assert origin(city96, opts) == "HF someone/city96-mirror"
