"""Fault injection for downloads: a server that closes early without a Content-Length, a wrong file,
two threads fetching one file at once, and the downloader hook the WebUI uses. Nothing unverified
ever lands, and a later correct download succeeds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.lab.fixtures.random_weights import city96_state_dict, save_safetensors
from latent_upscale.neural import downloads
from latent_upscale.neural.catalog import CITY96_COMMITS
from latent_upscale.neural.downloads import url_downloader
from latent_upscale.neural.resolution import resolve_weights
from tests.helpers.hub_server import LocalHub
from tests.helpers.neural_env import SESQUI_PATH, hub_options, leftovers, options, sesqui_bytes
from tests.helpers.neural_pins import pin_files

SDXL = "upscaler_SDXL.safetensors"
X2_SD1 = "latent-upscaler-v2.1_SDv1-x2.0.safetensors"


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py


def test_a_download_cut_short_without_content_length_never_lands_and_a_later_one_succeeds(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    data = sesqui_bytes(tmp_path)
    pin_files(monkeypatch.setattr, {SDXL: data})
    hub.add_file(SESQUI_PATH + SDXL, data, cut_after=len(data) // 3)
    with pytest.raises(WeightsUnavailableError, match=r"refusing upscaler_SDXL\.safetensors"):
        resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert leftovers(tmp_path / "models") == []  # no truncated file, no temporary folder
    hub.add_file(SESQUI_PATH + SDXL, data)  # the server recovers
    found = resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert found.path.read_bytes() == data and leftovers(tmp_path / "models") == [SDXL]


def test_a_wrong_file_from_the_hub_is_refused_and_removed_from_its_cache(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    good = save_safetensors(city96_state_dict("2.1", width=8, depth=2), tmp_path / "src" / "a.safetensors")
    bad = save_safetensors(
        city96_state_dict("2.1", width=8, depth=2, seed=9), tmp_path / "src" / "b.safetensors"
    )
    pin_files(monkeypatch.setattr, {X2_SD1: good.read_bytes()})
    revision = CITY96_COMMITS["2.1"]
    hub.add_hub_file("city96/SD-Latent-Upscaler", revision, X2_SD1, bad.read_bytes())
    opts = hub_options(tmp_path, hub)
    with pytest.raises(WeightsUnavailableError, match="refusing"):
        resolve_weights("sd1", opts, factors_wanted=(2.0,))
    assert [p for p in (tmp_path / "hf").rglob(X2_SD1) if p.exists()] == []
    hub.add_hub_file("city96/SD-Latent-Upscaler", revision, X2_SD1, good.read_bytes())
    found = resolve_weights("sd1", opts, factors_wanted=(2.0,))
    assert found.path.read_bytes() == good.read_bytes() and found.sources[2.0] == "downloaded"


def test_a_stalled_download_fails_within_its_timeout_and_leaves_nothing(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    data = sesqui_bytes(tmp_path)
    pin_files(monkeypatch.setattr, {SDXL: data})
    hub.add_file(SESQUI_PATH + SDXL, data, stall_after=len(data) // 4)
    opts = hub_options(tmp_path, hub, downloader=url_downloader(progress=False, timeout=0.5))
    started = time.monotonic()
    with pytest.raises(
        WeightsUnavailableError, match=r"could not download upscaler_SDXL\.safetensors.*timed out"
    ):
        resolve_weights("sdxl", opts)
    assert time.monotonic() - started < 20  # the server stays silent for 30 s
    assert leftovers(tmp_path / "models") == []


def test_the_default_downloader_has_a_stall_timeout():
    assert downloads.DOWNLOAD_STALL_TIMEOUT_S > 0
    assert downloads.url_downloader.__defaults__ == (downloads.DOWNLOAD_STALL_TIMEOUT_S,)


def test_two_threads_downloading_one_file_never_share_a_temporary_name(
    tmp_path: Path, hub: LocalHub, monkeypatch: pytest.MonkeyPatch
):
    data = sesqui_bytes(tmp_path)
    pin_files(monkeypatch.setattr, {SDXL: data})
    hub.add_file(SESQUI_PATH + SDXL, data)
    both_started = threading.Barrier(2, timeout=30)
    folders: list[Path] = []
    default = url_downloader(progress=False)

    def downloader(url: str, folder: Path, name: str) -> Path:
        folders.append(folder)
        both_started.wait()  # both downloads are in flight at once
        return default(url, folder, name)

    opts = hub_options(tmp_path, hub, downloader=downloader)
    results: list[object] = []

    def fetch() -> None:
        try:
            results.append(resolve_weights("sdxl", opts).path.read_bytes())
        except Exception as error:  # reported below
            results.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [data, data]
    assert len(set(folders)) == 2 and all(folder.parent == tmp_path / "models" for folder in folders)
    assert leftovers(tmp_path / "models") == [SDXL] and hub.count("GET") == 2


def test_the_downloader_hook_is_used_for_url_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = sesqui_bytes(tmp_path)
    pin_files(monkeypatch.setattr, {SDXL: data})
    calls: list[tuple[str, str]] = []

    def load_file_from_url(url: str, folder: Path, name: str) -> str:  # the WebUI's modelloader shape
        calls.append((url, name))
        (folder / name).write_bytes(data)
        return str(folder / name)

    opts = options(tmp_path, allow_download=True, downloader=load_file_from_url)
    found = resolve_weights("sdxl", opts)
    assert calls == [(f"https://github.com/LoganBooker/SesquiLSR/raw/main/models/{SDXL}", SDXL)]
    assert found.path == tmp_path / "models" / SDXL and found.path.read_bytes() == data
