"""The ``tae`` method: a round trip through the family's tiny autoencoder (decode → resize the image
in pixels → encode), through every surface, with real TAEF2 weights and random weights per variant.
Its architecture contract class sits with the others in test_neural_archs.py."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest
import torch

from latent_upscale import upscale, upscale_detailed
from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.families import FAMILY_LIST, get_family
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.latent_formats import FAMILIES, LatentFormat
from latent_upscale.neural import NeuralOptions, unload
from latent_upscale.neural.archs import tae, taehv
from latent_upscale.neural.catalog import AUTOENCODERS, TAESD_BASE_URL, TAESD_COMMIT, WEIGHT_SETS
from latent_upscale.resize_methods import get_method
from tests.helpers.cli import run_cli
from tests.helpers.hub_server import LocalHub
from tests.helpers.neural_env import options
from tests.helpers.real_weights import photograph, require_taef2

TAE_PATH = f"/madebyollin/taesd/raw/{TAESD_COMMIT}/"


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / float(((a - b) ** 2).mean()))


@pytest.fixture(scope="module")
def real_pair():
    """The real TAEF2 pair and a photograph encoded with it (a 32-channel raw FLUX.2 latent)."""
    folder = require_taef2()
    pair = tae.load_tiny_autoencoder(folder / "taef2_encoder.pth", folder / "taef2_decoder.pth")
    image = photograph("astronaut", side=192)
    return folder, pair, image, pair.encode(image)


# --- registry and family table ----------------------------------------------------------------------


def test_tae_is_a_registered_weights_method_and_each_family_names_its_variant():
    method = get_method("tae")
    assert method.neural and method.label == "Tiny VAE round trip"
    expected = {"sd1": "taesd", "sd2": "taesd", "sdxl": "taesdxl", "sd3": "taesd3", "flux": "taef1"}
    expected |= {"flux2": "taef2", "wan": "taew2_1", "qwen-image": "taew2_1", "anima": "taew2_1"}
    expected |= {"krea2": "taew2_1", "qwen-image-2.1": "taeqi2_1", "zimage": "taef1", "chroma": "taef1"}
    expected |= {"ernie": "taef2", "mugen": "taef2", "wan22-5b": None}
    assert {f.id: f.autoencoder for f in FAMILY_LIST} == expected
    for family in FAMILY_LIST:
        sets = AUTOENCODERS[family.id]
        # A variant without a weight set here (yet) serves nothing: tae then says no weights exist.
        assert [s.id for s in sets] == ([family.autoencoder] if family.autoencoder in WEIGHT_SETS else [])
        for weight_set in sets:  # the variant's latent channels are the family's
            assert weight_set.role == "autoencoder"
            assert all(e.licence == "MIT" for e in weight_set.entries)
            if weight_set.arch == "taehv":  # TAEW2.1: one file holding both halves
                assert family.latent_channels == taehv.LATENT_CHANNELS
                assert [e.part for e in weight_set.entries] == [None]
                continue
            assert tae.VARIANTS[weight_set.id].latent_channels == family.latent_channels
            assert [e.part for e in weight_set.entries] == ["decoder", "encoder"]


def test_only_files_with_an_established_sha256_are_downloadable():
    shared = {"taef2_decoder.pth", "taef2_encoder.pth"}
    for set_id in ("taesd", "taesdxl", "taesd3", "taef1", "taef2"):
        for entry in WEIGHT_SETS[set_id].entries:
            assert entry.downloadable == (entry.filename in shared), entry.filename
            assert entry.url == TAESD_BASE_URL + entry.filename
    # TAEQI2.1 and TAEW2.1: no SHA-256 could be established, so fetched by hand from a pinned commit
    for set_id, repository in (("taeqi2_1", "madebyollin/taesd"), ("taew2_1", "madebyollin/taehv")):
        for entry in WEIGHT_SETS[set_id].entries:
            assert not entry.downloadable and entry.sha256 is None
            assert entry.url.startswith(f"https://github.com/{repository}/raw/")
            assert entry.url.endswith("/" + entry.filename) and TAESD_COMMIT not in entry.url
    folder = require_taef2()
    for entry in WEIGHT_SETS["taef2"].entries:  # the pins are the real files' hashes
        assert hashlib.sha256((folder / entry.filename).read_bytes()).hexdigest() == entry.sha256


# --- real TAEF2 weights through upscale() -------------------------------------------------------------


def test_a_photograph_survives_tae_from_1x_to_2x_with_high_psnr(real_pair):
    folder, pair, image, latent = real_pair
    for scale in (1.25, 2.0):
        size = (round(latent.shape[2] * scale), round(latent.shape[3] * scale))
        result = upscale_detailed(
            latent, size, method="tae", family="flux2", neural=NeuralOptions(models_dir=folder)
        )
        assert result.method == "tae" and result.latent.shape == (1, 32, *size)
        assert result.weights == "taef2_decoder.pth, taef2_encoder.pth"
        assert "TAEF2 flux2 (taef2_decoder.pth + taef2_encoder.pth)" in result.steps[0]
        decoded = pair.decode(result.latent)
        reference = torch.nn.functional.interpolate(
            image, size=decoded.shape[-2:], mode="bicubic", antialias=True
        ).clamp(0, 1)
        assert psnr(decoded, reference) > 24.0, scale
    # At 2x (the loop's last round trip, reused: the same call by scale would redo it) tae beats bilinear.
    bilinear = upscale(latent, scale=2.0, method="bilinear")
    ref2 = torch.nn.functional.interpolate(image, scale_factor=2.0, mode="bicubic").clamp(0, 1)
    assert decoded.shape == ref2.shape
    assert psnr(decoded, ref2) > psnr(pair.decode(bilinear), ref2) + 3.0


def test_webui_model_space_comfyui_raw_and_an_explicit_format_give_one_result(real_pair):
    folder, _, _, latent = real_pair
    latent = latent[..., :12, :12]
    opts = NeuralOptions(models_dir=folder)
    fmt = LatentFormat(scale=0.5, shift=0.1)  # an invented convention: model = (raw - 0.1) * 0.5
    raw = upscale(latent, (18, 18), method="tae", family="flux2", latent_space="raw", neural=opts)
    via_fmt = upscale(
        fmt.from_raw(latent), (18, 18), method="tae", family="flux2", latent_space=fmt, neural=opts
    )
    assert torch.allclose(fmt.to_raw(via_fmt), raw, atol=2e-3)  # float rounding through the network


def test_the_models_env_variable_pointing_at_the_shared_folder_finds_the_real_files(
    real_pair, monkeypatch: pytest.MonkeyPatch
):
    folder, _, _, latent = real_pair
    monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(folder))
    result = upscale_detailed(latent[..., :8, :8], (12, 12), method="tae", family="flux2")
    assert result.extra["neural_source"] == "$LATENT_UPSCALE_MODELS"


def test_the_cli_upscales_a_latent_file_with_tae(real_pair, tmp_path: Path, capsys):
    from safetensors.torch import load_file, save_file

    folder, _, _, latent = real_pair
    source, target = tmp_path / "in.safetensors", tmp_path / "out.safetensors"
    save_file({"latent": latent[..., :8, :8].contiguous()}, str(source))
    run = run_cli(
        capsys, "upscale", str(source), str(target), "--method", "tae", "--family", "flux2", "--scale", "1.5",
        "--latent-space", "raw", "--models-dir", str(folder),
    )  # fmt: skip
    assert run.code == 0, run.err
    assert next(iter(load_file(str(target)).values())).shape == (1, 32, 12, 12)


def test_the_cli_models_command_says_what_tae_would_use(real_pair, capsys):
    folder = real_pair[0]
    run = run_cli(capsys, "models", "--family", "flux2", "--models-dir", str(folder))
    assert run.code == 0, run.err
    assert f"taef2_decoder.pth [flux2, ernie, mugen; MIT] present: {folder / 'taef2_decoder.pth'}" in run.out
    assert "What --method tae would use:" in run.out
    assert f"flux2 TAEF2 (FLUX.2) ({folder / 'taef2_decoder.pth'}, {folder / 'taef2_encoder.pth'})" in run.out


# --- every variant with random weights in its real layout ----------------------------------------------


@pytest.mark.parametrize("family", ["sd1", "sdxl", "sd3", "flux", "flux2"])
def test_each_family_runs_its_own_variant_and_converts_model_space(family: str, tmp_path: Path):
    variant = get_family(family).autoencoder
    save_tae_pair(tmp_path / "models", variant)
    channels = get_family(family).latent_channels
    latent = torch.randn(1, channels, 6, 5, generator=torch.Generator().manual_seed(1))
    opts = options(tmp_path)
    result = upscale_detailed(latent, (9, 7), method="tae", family=family, neural=opts)
    assert result.latent.shape == (1, channels, 9, 7)
    assert result.steps[0].startswith(f"{variant.upper()} ")
    # Model space in, model space out: the same as raw in, raw out, converted by the family's format.
    raw = FAMILIES[family].to_raw(latent)
    via_raw = upscale(raw, (9, 7), method="tae", family=family, latent_space="raw", neural=opts)
    assert torch.allclose(FAMILIES[family].from_raw(via_raw), result.latent, atol=1e-4, rtol=1e-4)


def test_taesd_and_taesdxl_files_are_told_apart_by_their_names(tmp_path: Path):
    save_tae_pair(tmp_path / "models", "taesdxl")
    latent = torch.randn(1, 4, 5, 5)
    result = upscale_detailed(latent, (8, 8), method="tae", family="sdxl", neural=options(tmp_path))
    assert result.steps[0].startswith("TAESDXL sdxl")
    with pytest.raises(WeightsUnavailableError, match=r"taesd_decoder\.pth"):  # SD1 needs its own pair
        upscale(latent, (8, 8), method="tae", family="sd1", neural=options(tmp_path))


# --- missing weights --------------------------------------------------------------------------------------


def test_missing_weights_raise_one_clear_error_naming_files_folders_and_urls(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError) as caught:
        upscale(torch.randn(1, 4, 5, 5), (8, 8), method="tae", family="sdxl", neural=options(tmp_path))
    message = str(caught.value)
    assert "taesdxl_decoder.pth" in message and "taesdxl_encoder.pth" in message
    assert "no pinned SHA-256" in message and str(tmp_path / "models") in message
    assert TAESD_BASE_URL + "taesdxl_encoder.pth" in message
    with pytest.raises(WeightsUnavailableError, match=r"(?s)taew2_1\.pth.*fetch by hand"):  # no pinned hash
        upscale(torch.randn(1, 16, 5, 5), (8, 8), method="tae", family="wan", neural=options(tmp_path))
    with pytest.raises(WeightsUnavailableError, match="no tiny autoencoder serves 'wan22-5b'"):
        upscale(torch.randn(1, 48, 6, 6), (8, 8), method="tae", family="wan22-5b", neural=options(tmp_path))


def test_a_lone_half_is_not_enough(tmp_path: Path):
    _, encoder = save_tae_pair(tmp_path / "models", "taef2")
    encoder.unlink()
    with pytest.raises(WeightsUnavailableError, match=r"taef2_encoder\.pth"):
        upscale(torch.randn(1, 32, 5, 5), (8, 8), method="tae", family="flux2", neural=options(tmp_path))


# --- the pinned download --------------------------------------------------------------------------------


def test_the_real_taef2_pair_downloads_through_the_pinned_path_and_is_verified(tmp_path: Path):
    folder = require_taef2()
    with LocalHub() as hub:
        for name in ("taef2_decoder.pth", "taef2_encoder.pth"):
            hub.add_file(TAE_PATH + name, (folder / name).read_bytes())
        opts = options(tmp_path, allow_download=True, tae_base_url=hub.url + TAE_PATH)
        result = upscale_detailed(torch.randn(1, 32, 4, 4), (6, 6), method="tae", family="flux2", neural=opts)
        assert result.extra["neural_source"] == "downloaded"
        assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
            "taef2_decoder.pth",
            "taef2_encoder.pth",
        ]
        requests = hub.count("GET", "_decoder.pth") + hub.count("GET", "_encoder.pth")
        assert requests == 2
        unload()
        # Present now: a second upscale downloads nothing.
        upscale(torch.randn(1, 32, 4, 4), (6, 6), method="tae", family="flux2", neural=opts)
        assert hub.count("GET", "_decoder.pth") + hub.count("GET", "_encoder.pth") == 2


def test_a_tampered_download_never_lands(tmp_path: Path):
    folder = require_taef2()
    with LocalHub() as hub:
        hub.add_file(TAE_PATH + "taef2_decoder.pth", (folder / "taef2_decoder.pth").read_bytes())
        hub.add_file(TAE_PATH + "taef2_encoder.pth", b"not the published file")
        opts = options(tmp_path, allow_download=True, tae_base_url=hub.url + TAE_PATH)
        with pytest.raises(WeightsUnavailableError, match=r"refusing taef2_encoder\.pth"):
            upscale(torch.randn(1, 32, 4, 4), (6, 6), method="tae", family="flux2", neural=opts)
    assert not (tmp_path / "models" / "taef2_encoder.pth").exists()


def test_downloads_stay_off_in_the_library_unless_asked(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError, match=r"Downloads are off"):
        upscale(torch.randn(1, 32, 4, 4), (6, 6), method="tae", family="flux2", neural=options(tmp_path))
    assert not (tmp_path / "models").exists()  # nothing was fetched or created


@pytest.mark.parametrize("resampler", ["bicubic", "lanczos"])
def test_a_tile_resizes_on_the_whole_images_pixel_grid(resampler: str, monkeypatch: pytest.MonkeyPatch):
    from latent_upscale.neural.archs._grid import TileGrid

    monkeypatch.setattr(tae, "RESAMPLER", resampler)
    image = torch.rand(1, 3, 8 * 20, 8 * 6, generator=torch.Generator().manual_seed(0))
    whole = tae.resize_image(image, (8 * 30, 8 * 9))
    # The tile holding latent rows 6-15 (output rows 9-22): its centre must match the whole image.
    grid = TileGrid(full_src=(20, 6), full_out=(30, 9), src_offset=(6, 0), out_offset=(9, 0))
    tile = tae.resize_image(image[:, :, 8 * 6 : 8 * 16], (8 * 14, 8 * 9), grid)
    centre = slice(8 * 3, 8 * 11)  # away from the tile's edges (the margin the blend hides)
    assert torch.allclose(tile[:, :, centre], whole[:, :, 8 * 9 :][:, :, centre], atol=1e-5)
