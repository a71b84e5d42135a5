"""Fault injection, by fault kind, for what a server or a caller controls: download sizes (announced,
sent, unannounced; through urllib and through a downloader hook such as the WebUI's
``load_file_from_url``), echoed values, files that are not weights, latents that need autograd or
are too small for a network, and sigma ranges that would break the schedules' promise. Each fault
gives one of our errors (bounded, saying what to do), and a download leaves nothing behind."""

from __future__ import annotations

import math
import pickle
import random
import shutil
import urllib.request
from pathlib import Path

import pytest
import torch

from latent_upscale import upscale
from latent_upscale.errors import MAX_MESSAGE_CHARS, LatentUpscaleError, WeightsUnavailableError, shown
from latent_upscale.lab.fixtures.random_weights import save_safetensors, ttl_state_dict
from latent_upscale.neural import downloads
from latent_upscale.neural.resolution import resolve_weights
from latent_upscale.neural.state_dict import read_state_dict
from latent_upscale.resize_methods import method_ids
from latent_upscale.schedules import (
    SigmaTable,
    build_sigmas,
    get_sigmas_exponential,
    get_sigmas_karras,
    get_sigmas_kl_optimal,
    get_sigmas_polyexponential,
    sd_sigma_table,
)
from tests.helpers.neural_env import SESQUI_PATH, hub_options, leftovers, options, sesqui_bytes
from tests.helpers.neural_pins import pin_files

SDXL = "upscaler_SDXL.safetensors"
_NOISE = random.Random(0).randbytes(4096)  # fixed: random bytes must not differ between runs
HUGE = 10 * 2**30  # what a hostile server announces: 10 GiB


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py, as is the `hub` fixture


@pytest.fixture
def weights(tmp_path: Path) -> bytes:
    return sesqui_bytes(tmp_path)


# --- downloads: bounded by the pinned size, or Content-Length under a ceiling ------------------------------


def test_a_server_announcing_more_than_the_pinned_size_is_refused_before_a_byte_is_kept(
    tmp_path, hub, weights, monkeypatch
):
    pin_files(monkeypatch.setattr, {SDXL: weights})
    hub.add_file(SESQUI_PATH + SDXL, weights, announce=HUGE, repeat_to=64 * 2**20)
    with pytest.raises(
        WeightsUnavailableError, match=r"announces 10,737,418,240 bytes.*more than the [\d,]+ bytes"
    ):
        resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert leftovers(tmp_path / "models") == []
    assert hub.files[SESQUI_PATH + SDXL].sent < 8 * 2**20  # the client closed, it did not read 64 MiB


def test_a_server_sending_past_the_pinned_size_without_a_length_is_cut_at_the_size(
    tmp_path, hub, weights, monkeypatch
):
    pin_files(monkeypatch.setattr, {SDXL: weights})
    hub.add_file(SESQUI_PATH + SDXL, weights, repeat_to=256 * 2**20)  # no Content-Length, 256 MiB on offer
    with pytest.raises(WeightsUnavailableError, match=r"sent over [\d,]+ bytes .*stopped there"):
        resolve_weights("sdxl", hub_options(tmp_path, hub))
    assert leftovers(tmp_path / "models") == []
    assert hub.files[SESQUI_PATH + SDXL].sent < 32 * 2**20


def test_without_a_pinned_size_the_content_length_bounds_the_download(tmp_path, hub, weights):
    hub.add_file("/f.bin", weights, announce=1000, repeat_to=8 * 2**20)  # sends far more than it says
    path = downloads.url_downloader(progress=False)(hub.url + "/f.bin", tmp_path, "f.bin")
    assert path.stat().st_size == 1000
    hub.add_file("/g.bin", weights, announce=downloads.UNPINNED_CEILING_BYTES + 1)
    with pytest.raises(downloads.DownloadTooLarge, match="announces"):
        downloads.url_downloader(progress=False)(hub.url + "/g.bin", tmp_path, "g.bin")


def test_a_downloader_hook_that_keeps_writing_is_stopped_and_leaves_nothing(tmp_path, weights, monkeypatch):
    pin_files(monkeypatch.setattr, {SDXL: weights})
    written: list[int] = []

    def endless_hook(url: str, folder: Path, name: str) -> str:  # torch.hub's loop, from a generous server
        with (folder / f"{name}.partial").open("wb") as out:
            for _ in range(100_000):  # 800 MB if never stopped
                out.write(b"\0" * 8192)
                out.flush()
                written.append(8192)
        return str(folder / name)

    with pytest.raises(
        WeightsUnavailableError, match=r"the download grew.*more than the [\d,]+ bytes allowed"
    ):
        resolve_weights("sdxl", options(tmp_path, allow_download=True, downloader=endless_hook))
    assert sum(written) < 200 * 2**20  # stopped within one watch interval, far from 800 MB
    assert leftovers(tmp_path / "models") == []


def test_a_downloader_hook_that_returns_a_file_over_the_size_is_refused_after(tmp_path, weights, monkeypatch):
    pin_files(monkeypatch.setattr, {SDXL: weights})
    monkeypatch.setattr(
        downloads, "WATCH_INTERVAL_S", 3600.0
    )  # the watcher never looks: the check after does

    def hook(url: str, folder: Path, name: str) -> str:
        (folder / name).write_bytes(weights + b"\0" * 10)
        return str(folder / name)

    with pytest.raises(WeightsUnavailableError, match=r"refusing upscaler_SDXL.* more than the"):
        resolve_weights("sdxl", options(tmp_path, allow_download=True, downloader=hook))
    assert leftovers(tmp_path / "models") == []


def test_the_pinned_files_carry_their_exact_size():
    from latent_upscale.neural import catalog

    pinned = [entry for entry in catalog.CATALOG if entry.downloadable]
    assert pinned and all(entry.size is not None and entry.size > 0 for entry in pinned)
    taef2 = Path(__file__).resolve().parents[1].parent / "shared" / "weights" / "taef2" / "taef2_decoder.pth"
    if taef2.exists():
        entry = next(e for e in pinned if e.filename == "taef2_decoder.pth")
        assert entry.size == taef2.stat().st_size


# --- echoed values are cut, with their length said ---------------------------------------------------------


@pytest.mark.parametrize("value", ["x" * 10_000_000, ["y"] * 1_000_000, b"z" * 5_000_000])
def test_an_echoed_value_is_cut_and_its_length_said(value):
    text = shown(value)
    assert len(text) < 120 and "characters" in text


def test_every_error_message_is_bounded_whatever_it_echoes():
    error = LatentUpscaleError("bad " + "q" * 10_000_000)
    assert len(str(error)) < MAX_MESSAGE_CHARS + 100 and "10,000,004 characters" in str(error)


@pytest.mark.parametrize("where", ["method", "family", "latent_space"])
def test_a_10_mb_name_given_to_the_library_gives_a_short_error(where):
    kwargs = {"method": "bicubic", where: "n" * 10_000_000}
    with pytest.raises(LatentUpscaleError) as excinfo:
        upscale(torch.zeros(1, 4, 8, 8), scale=2, **kwargs)
    assert len(str(excinfo.value)) <= MAX_MESSAGE_CHARS + 100


# --- files that are not weights ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [_NOISE, b"\x80" + _NOISE, b"PK\x03\x04" + _NOISE, b"", b"\x80\x02"],
    ids=["random", "pickle-opcode-then-garbage", "zip-magic-then-garbage", "empty", "truncated-pickle"],
)
def test_random_bytes_named_pth_are_not_a_valid_weights_file(tmp_path, content):
    path = tmp_path / "taef2_decoder.pth"
    path.write_bytes(content)
    with pytest.raises(LatentUpscaleError, match="is not a valid weights file") as excinfo:
        read_state_dict(path)
    assert "could run code" not in str(excinfo.value)


def test_a_pickle_that_calls_a_function_is_still_called_one_that_could_run_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (shutil.rmtree, ("/nonexistent",))

    path = tmp_path / "x.pth"
    path.write_bytes(pickle.dumps({"w": Payload()}, protocol=2))
    with pytest.raises(LatentUpscaleError, match="could run code"):
        read_state_dict(path)


# --- latents the kernels and networks must answer for ------------------------------------------------------


@pytest.mark.parametrize("method", [m for m in method_ids() if m not in ("neural", "tae", "roundtrip")])
def test_every_interpolation_returns_a_tensor_for_a_latent_that_requires_grad(method):
    latent = torch.randn(1, 4, 6, 5, requires_grad=True)
    result = upscale(latent, scale=2, method=method)
    expected = upscale(latent.detach(), scale=2, method=method)
    torch.testing.assert_close(result.detach(), expected)


def test_lanczos_stays_differentiable_and_bislerp_says_it_is_not():
    latent = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: upscale(t, size=(9, 13), method="lanczos"), (latent,))
    assert not upscale(latent, scale=2, method="bislerp").requires_grad


def test_ttl_weights_on_a_latent_too_small_for_groupnorm_give_our_error(tmp_path):
    path = save_safetensors(ttl_state_dict(2, 2, channels=32, attention=False), tmp_path / "ttl.safetensors")
    with pytest.raises(LatentUpscaleError, match=r"at least 2x2 pixels, got 1x1; use an interpolation"):
        upscale(torch.randn(1, 4, 1, 1), scale=2, method="neural", weights=str(path), family="sd1")
    assert (
        upscale(torch.randn(1, 4, 2, 2), scale=2, method="neural", weights=str(path), family="sd1").shape[-1]
        == 4
    )


# --- schedules keep their promise or say they cannot -------------------------------------------------------


@pytest.mark.parametrize(
    "function", [get_sigmas_karras, get_sigmas_exponential, get_sigmas_polyexponential, get_sigmas_kl_optimal]
)
@pytest.mark.parametrize(
    ("sigma_min", "sigma_max"),
    [(10.0, 0.1), (math.nan, 10.0), (0.1, math.inf), (0.1, -1.0), (torch.tensor(math.nan), 1.0)],
    ids=["reversed", "nan-min", "inf-max", "negative-max", "nan-tensor"],
)
def test_low_level_schedules_refuse_ranges_that_break_their_promise(function, sigma_min, sigma_max):
    with pytest.raises(LatentUpscaleError, match="sigma"):
        function(10, sigma_min, sigma_max)


@pytest.mark.parametrize("function", [get_sigmas_karras, get_sigmas_kl_optimal])
def test_accepted_ranges_give_finite_non_increasing_sigmas_ending_at_zero(function):
    sigmas = function(10, 0.03, 14.6)
    assert torch.isfinite(sigmas).all() and (sigmas[1:] <= sigmas[:-1]).all() and sigmas[-1] == 0


def test_a_sigma_table_on_the_meta_device_is_refused_with_our_error():
    table = sd_sigma_table()
    with pytest.raises(LatentUpscaleError, match="'meta', which holds no values"):
        build_sigmas("karras", 10, SigmaTable(table.sigmas.to("meta")))
    assert build_sigmas("karras", 10, table, device="meta").device.type == "meta"  # a result may go there


def test_the_hub_server_helper_really_serves_past_its_announcement(hub):
    # The download faults above rely on this: the helper can send more than a pinned file holds.
    hub.add_file("/h.bin", b"a" * 1000, repeat_to=50_000)
    with urllib.request.urlopen(hub.url + "/h.bin", timeout=10) as response:
        assert len(response.read()) >= 50_000


def test_a_hub_file_whose_announced_size_differs_from_the_pin_is_refused_before_fetching(
    tmp_path, hub, monkeypatch
):
    from latent_upscale.lab.fixtures.random_weights import city96_state_dict
    from latent_upscale.neural.catalog import CITY96_COMMITS

    name = "latent-upscaler-v2.1_SDv1-x2.0.safetensors"
    good = save_safetensors(city96_state_dict("2.1", width=8, depth=2), tmp_path / "src" / "a.safetensors")
    larger = save_safetensors(city96_state_dict("2.1", width=16, depth=2), tmp_path / "src" / "b.safetensors")
    pin_files(monkeypatch.setattr, {name: good.read_bytes()})
    hub.add_hub_file("city96/SD-Latent-Upscaler", CITY96_COMMITS["2.1"], name, larger.read_bytes())
    with pytest.raises(
        WeightsUnavailableError, match=r"the server announces [\d,]+ bytes, but the published"
    ):
        resolve_weights("sd1", hub_options(tmp_path, hub), factors_wanted=(2.0,))
    assert hub.count("GET", name) == 0 and not list((tmp_path / "hf").rglob(name))
