"""Where tiny autoencoders are found: the hosts' folders (A1111/Forge/Neo ``models/VAE-taesd``,
``models/VAE-approx``, ComfyUI ``models/vae_approx``) under every extension the hosts read, and what
the message says when none is there."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latent_upscale import upscale, upscale_detailed
from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.lab.fixtures.tae_random import save_tae_pair, tae_state_dict
from latent_upscale.lab.fixtures.taehv_random import save_taehv
from latent_upscale.latent_formats import FAMILIES
from latent_upscale.neural import catalog, unload
from latent_upscale.neural.resolution import Search, resolve_weights
from latent_upscale.neural.state_dict import WEIGHT_SUFFIXES, read_state_dict
from latent_upscale.neural.status import describe
from tests.helpers.neural_env import isolate, options


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    isolate(monkeypatch, tmp_path)
    yield
    unload()


def test_the_extensions_are_comfyuis_supported_pt_extensions_safetensors_first():
    # ComfyUI folder_paths.supported_pt_extensions: .ckpt .pt .pt2 .bin .pth .safetensors .pkl .sft
    assert set(WEIGHT_SUFFIXES) == {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
    assert WEIGHT_SUFFIXES[:2] == (".safetensors", ".sft")


@pytest.mark.parametrize("suffix", WEIGHT_SUFFIXES)
def test_every_host_extension_is_read_as_tensors(tmp_path: Path, suffix: str):
    encoder, _ = save_tae_pair(tmp_path, "taef2", suffix=suffix)
    assert torch.equal(read_state_dict(encoder)["14.weight"], tae_state_dict("taef2", "encoder")["14.weight"])


@pytest.mark.parametrize("subfolder", ["", "VAE-taesd", "VAE-approx", "vae_approx"])
@pytest.mark.parametrize("suffix", WEIGHT_SUFFIXES)
def test_a_pair_is_found_in_each_host_folder_under_each_extension(
    tmp_path: Path, subfolder: str, suffix: str
):
    folder = tmp_path / "models" / subfolder
    encoder, decoder = save_tae_pair(folder, "taef2", suffix=suffix)
    found = resolve_weights("flux2", options(tmp_path), role="autoencoder")
    assert set(found.parts) == {encoder, decoder}
    assert found.sources[None] == ("models folder" + (f", {subfolder}" if subfolder else ""))


def test_the_published_name_and_the_named_folder_come_first(tmp_path: Path):
    models = tmp_path / "models"
    save_tae_pair(models / "vae_approx", "taef2", suffix=".pth")
    save_tae_pair(models, "taef2", suffix=".sft")
    save_tae_pair(models, "taef2", suffix=".pth")
    found = Search.of(options(tmp_path)).local_set(catalog.WEIGHT_SETS["taef2"])
    assert found is not None and {p.name for p in found.parts} == {"taef2_decoder.pth", "taef2_encoder.pth"}
    assert {p.parent for p in found.parts} == {models}
    # neural upscalers are not looked for in the tiny-VAE folders
    assert catalog.WEIGHT_SETS["sesqui-sdxl"].entries[0].host_folders == ()


def test_taew2_1_as_one_safetensors_file_in_comfyuis_folder_serves_wan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The family registry names TAEW2.1 for Wan (Family.autoencoder); here only the table is set.
    monkeypatch.setitem(catalog.AUTOENCODERS, "wan", (catalog.WEIGHT_SETS["taew2_1"],))
    path = save_taehv(tmp_path / "models" / "vae_approx", suffix=".safetensors")
    latent = torch.randn(1, 16, 6, 5, generator=torch.Generator().manual_seed(2))
    opts = options(tmp_path)
    result = upscale_detailed(latent, (9, 7), method="tae", family="wan", neural=opts)
    assert result.latent.shape == (1, 16, 9, 7) and torch.isfinite(result.latent).all()
    assert result.weights == path.name and result.extra["neural_arch"] == "taehv"
    assert result.steps[0].startswith("TAEW2_1 wan")
    # model space (WebUI, Neo) in and out equals raw (ComfyUI) in and out, converted by the Wan format
    via_raw = upscale(
        FAMILIES["wan"].to_raw(latent), (9, 7), method="tae", family="wan", latent_space="raw", neural=opts
    )
    torch.testing.assert_close(FAMILIES["wan"].from_raw(via_raw), result.latent, rtol=1e-4, atol=1e-4)


def test_taeqi2_1_pair_is_found_as_comfyui_keeps_it(tmp_path: Path):
    folder = tmp_path / "models" / "vae_approx"
    encoder, decoder = save_tae_pair(folder, "taeqi2_1", suffix=".safetensors")
    found = Search.of(options(tmp_path)).local_set(catalog.WEIGHT_SETS["taeqi2_1"])
    assert found is not None and set(found.parts) == {encoder, decoder}


def test_a_missing_tiny_vae_says_tiny_autoencoder_the_host_folders_and_fetch_by_hand(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError) as caught:
        upscale(torch.randn(1, 4, 5, 5), (8, 8), method="tae", family="sdxl", neural=options(tmp_path))
    message, summary = str(caught.value), caught.value.summary
    assert message.startswith("no tiny autoencoder (tiny VAE) for 'sdxl' latents were found")
    assert "models/VAE-taesd" in message and "models/vae_approx" in message and ".safetensors" in message
    assert "fetch by hand" in message
    for offer in ("neural weights", "Downloads are off", "allow downloads", "HF_ENDPOINT"):
        assert offer not in message, offer  # nothing here can be downloaded, from the Hub or at all
    assert summary.startswith("no sdxl tiny autoencoder: put taesdxl_decoder.pth + taesdxl_encoder.pth in ")
    assert summary.endswith("(no pinned SHA-256: fetch by hand)") and "LatentUpscaler" not in summary


def test_a_missing_downloadable_tiny_vae_still_offers_the_download(tmp_path: Path):
    opts = options(tmp_path, allow_download=False)
    with pytest.raises(WeightsUnavailableError) as caught:
        upscale(torch.randn(1, 32, 5, 5), (8, 8), method="tae", family="flux2", neural=opts)
    assert "Downloads are off" in str(caught.value) and caught.value.summary.endswith("(downloads off)")
    assert describe("flux2", opts, role="autoencoder").text.startswith("missing: TAEF2 (FLUX.2)")
