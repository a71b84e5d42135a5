"""The ``tae`` method in the WebUI (fake host): its hires-fix entry "Latent (tiny VAE)", the files it
used in the infotext, the hint, the fallback when weights are missing, the host's own downloader, and
the hosts' ``models/VAE-taesd`` folder."""

from __future__ import annotations

from pathlib import Path

import torch

from latent_upscale import upscale
from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.neural import NeuralOptions
from tests.helpers.glue import glue, start, use_models_dir
from tests.helpers.host_stub import host_stub
from tests.helpers.real_weights import require_taef2


def _hires(host, upscaler, **kwargs):
    kwargs = {"width": 64, "height": 64, "hr_scale": 2.0, "denoising_strength": 0.5, "steps": 4} | kwargs
    return host.txt2img(enable_hr=True, hr_upscaler=upscaler, **kwargs)


def _runs(host):
    first = [r for r in host.runs if not r.is_hr_pass][-1]
    hires = [r for r in host.runs if r.is_hr_pass][-1]
    return first, hires


def test_the_hires_entry_runs_the_tiny_vae_found_in_the_hosts_vae_taesd_folder(
    fake_webui, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    host = fake_webui("1.10.1", model="sdxl")
    start(host)
    assert "Latent (tiny VAE)" in host.latent_upscale_modes
    use_models_dir(host, tmp_path / "ours")  # empty: the files sit where A1111/Forge keep them
    taesd_folder = host.data_dir / "models" / "VAE-taesd"
    save_tae_pair(taesd_folder, "taesdxl")
    processed = _hires(host, "Latent (tiny VAE)")
    first, hires = _runs(host)
    by_hand = upscale(
        first.result, (16, 16), method="tae", family="sdxl", neural=NeuralOptions(models_dir=taesd_folder)
    )
    assert torch.allclose(hires.x.float(), by_hand.float(), atol=1e-4)
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Hires upscaler"] == "Latent (tiny VAE)"
    assert "taesdxl_decoder.pth + taesdxl_encoder.pth" in info["Latent upscale weights"]
    assert "Latent upscale fallback" not in info


def test_without_weights_the_hires_entry_falls_back_and_says_so(fake_webui, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    host = fake_webui("1.10.1", model="sdxl")
    start(host)
    use_models_dir(host, tmp_path / "empty", allow_download=True)  # taesdxl has no pin: no download
    processed = _hires(host, "Latent (tiny VAE)")
    first, hires = _runs(host)
    assert torch.allclose(
        hires.x.float(), upscale(first.result, (16, 16), method=DEFAULT_METHOD).float(), atol=1e-5
    )
    fallback = host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
    assert fallback.startswith(f"{DEFAULT_METHOD} (") and "taesdxl" in fallback


def test_the_webui_downloads_taef2_with_its_own_downloader_and_checks_the_pin(
    fake_webui, tmp_path: Path, monkeypatch
):
    folder = require_taef2()
    monkeypatch.setenv("FAKE_WEBUI_DOWNLOADS", str(folder))  # the fake's "network": copies by name
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    host = fake_webui("1.10.1")
    start(host)
    use_models_dir(host, tmp_path / "ours", allow_download=True)
    options = glue("settings").neural_options()
    from latent_upscale.neural.resolution import resolve_weights

    resolved = resolve_weights("flux2", options, role="autoencoder")
    assert [p.name for p in resolved.parts] == ["taef2_decoder.pth", "taef2_encoder.pth"]
    assert all(p.parent == tmp_path / "ours" for p in resolved.parts)
    attempts = host.module("modules.modelloader").download_attempts
    assert [url.rsplit("/", 1)[1] for url in attempts] == ["taef2_decoder.pth", "taef2_encoder.pth"]
    assert all("madebyollin/taesd/raw/5cccb12" in url for url in attempts)


def test_the_hint_under_the_dropdown_covers_tae(tmp_path: Path):
    from types import SimpleNamespace

    model = SimpleNamespace(is_sdxl=True, is_sd1=False, is_sd2=False, latent_channels=4)
    save_tae_pair(tmp_path / "VAE-taesd", "taesdxl")
    with host_stub(
        opts={"latent_upscale_models_dir": str(tmp_path / "ours")}, model=model, models_path=tmp_path
    ) as host:
        hint = host.glue("ui").neural_hint("Tiny VAE round trip")
        assert hint.startswith("**Tiny VAE round trip** for this sdxl model: TAESDXL (SDXL) (")
        assert "taesdxl_decoder.pth" in hint and "taesdxl_encoder.pth" in hint
        assert host.glue("hires").hires_key("tae") == "Latent (tiny VAE)"
