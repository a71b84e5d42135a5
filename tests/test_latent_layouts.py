"""Latents as their hosts hold them: the family registry's layouts, the 2×2 packing of FLUX.2, the
channel-count check, and sizes rounded to what the next pass accepts."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from latent_upscale import upscale, upscale_detailed
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.families import FAMILY_IDS, FAMILY_LIST, HOST_NAMES, get_family
from latent_upscale.lab.fixtures.random_weights import save_safetensors, sesqui_state_dict
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.latent_formats import FAMILIES
from latent_upscale.latent_layouts import (
    align_side,
    held_layout,
    megapixel_scale,
    pack_2x2,
    patch_alignment,
    unpack_2x2,
)
from latent_upscale.resize_methods import registered_methods
from tests.helpers.cli import run_cli
from tests.helpers.neural_env import isolate, options

INTERPOLATIONS = [method.id for method in registered_methods() if not method.neural]


def _hosts_unpack(packed: torch.Tensor) -> torch.Tensor:
    """ComfyUI ``comfy/latent_formats.py`` ``Flux2.latent_rgb_factors_reshape``, as written there."""
    b, _, h, w = packed.shape
    return packed.reshape(b, 32, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, 32, h * 2, w * 2)


def _packed(height: int = 6, width: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 128, height, width, generator=torch.Generator().manual_seed(seed))


# --- the registry ------------------------------------------------------------------------------------


def test_existing_family_ids_stay_and_the_hosts_newer_families_are_defined():
    assert FAMILY_IDS[:7] == ("sd1", "sd2", "sdxl", "sd3", "flux", "wan", "flux2")
    newer = {
        "qwen-image",
        "qwen-image-2.1",
        "anima",
        "krea2",
        "zimage",
        "chroma",
        "ernie",
        "mugen",
        "wan22-5b",
    }
    assert newer <= set(FAMILY_IDS)
    assert all(family_id == family_id.lower() and " " not in family_id for family_id in FAMILY_IDS)


def test_each_family_lists_the_channel_counts_of_the_layouts_its_hosts_hold():
    counts = {family.id: family.channel_counts for family in FAMILY_LIST}
    assert counts["flux2"] == counts["ernie"] == (32, 128)  # VAE latent, and packed 2×2 (Neo, ComfyUI)
    assert counts["mugen"] == (32,)  # SDXL UNet on the unpacked FLUX.2 latent (SDXL_Flux2)
    assert counts["qwen-image-2.1"] == (64,) and get_family("qwen-image-2.1").ratio == 16
    assert counts["wan22-5b"] == (48,) and get_family("wan22-5b").ratio == 16
    for family_id in ("qwen-image", "anima", "krea2"):  # the Wan 2.1 VAE, per-channel mean/std
        assert counts[family_id] == (16,) and get_family(family_id).vae_group == "wan"
        assert FAMILIES[family_id] == FAMILIES["wan"]
    for family_id in ("zimage", "chroma"):  # the FLUX.1 VAE
        assert get_family(family_id).vae_group == "flux" and FAMILIES[family_id] == FAMILIES["flux"]


def test_per_channel_formats_have_one_value_per_channel():
    for family in FAMILY_LIST:
        for values in (family.scale, family.shift):
            if isinstance(values, tuple):
                assert len(values) == family.latent_channels, family.id


def test_host_class_names_name_the_families():
    assert HOST_NAMES["Flux2"] == "flux2" and HOST_NAMES["ErnieImage"] == "ernie"
    assert HOST_NAMES["SDXL_Flux2"] == HOST_NAMES["Mugen"] == "mugen"
    assert HOST_NAMES["QwenImage21"] == "qwen-image-2.1" and HOST_NAMES["Wan22"] == "wan22-5b"
    assert HOST_NAMES["Wan21"] == "wan" and HOST_NAMES["Anima"] == "anima" and HOST_NAMES["Krea2"] == "krea2"


# --- packing -----------------------------------------------------------------------------------------


def test_unpacking_follows_the_hosts_order_and_packing_inverts_it():
    packed = _packed()
    unpacked = unpack_2x2(packed)
    assert unpacked.shape == (1, 32, 12, 10)
    assert torch.equal(unpacked, _hosts_unpack(packed))
    assert torch.equal(pack_2x2(unpacked), packed)
    # Packed channel 4c + 2i + j holds unpacked channel c at row offset i, column offset j.
    assert torch.equal(unpacked[0, 3, 1::2, 0::2], packed[0, 4 * 3 + 2])


def test_packing_an_odd_side_is_one_clear_error():
    with pytest.raises(LatentUpscaleError, match=r"cannot pack a 5x4 latent 2×2: both sides must be even"):
        pack_2x2(torch.zeros(1, 32, 5, 4))


@pytest.mark.parametrize("method", INTERPOLATIONS)
def test_every_interpolation_resizes_a_packed_latent_unpacked_and_packs_it_again(method: str):
    packed = _packed()
    result = upscale_detailed(packed, (9, 8), method=method, family="flux2")
    expected = pack_2x2(upscale(unpack_2x2(packed), (18, 16), method=method))
    assert result.latent.shape == (1, 128, 9, 8)
    assert torch.allclose(result.latent, expected, atol=1e-6)
    assert result.steps[0] == "unpacked 2×2 (128 → 32 channels)" and result.steps[-1] == "packed 2×2 again"


def test_resizing_the_packed_channels_directly_gives_another_latent():
    packed = _packed()
    ours = upscale(packed, (9, 8), method="bilinear", family="flux2")
    naive = upscale(packed, (9, 8), method="bilinear")  # no family: the channels are taken as they are
    assert not torch.allclose(ours, naive, atol=1e-3)


def test_a_packed_video_batch_and_half_precision_keep_shape_and_dtype():
    packed = _packed().to(torch.float16)
    out = upscale(packed, (12, 10), family="ernie", method="bicubic")
    assert out.shape == (1, 128, 12, 10) and out.dtype == torch.float16


def test_the_tae_round_trip_on_a_packed_latent_is_the_packed_round_trip_of_the_unpacked_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    isolate(monkeypatch, tmp_path)
    save_tae_pair(tmp_path / "models", "taef2")
    opts = options(tmp_path)
    packed = _packed(4, 4)
    result = upscale_detailed(packed, (6, 6), method="tae", family="flux2", neural=opts)
    unpacked = upscale(unpack_2x2(packed), (12, 12), method="tae", family="flux2", neural=opts)
    assert result.latent.shape == (1, 128, 6, 6)
    assert torch.allclose(result.latent, pack_2x2(unpacked), atol=1e-5)
    assert result.steps[1].startswith("TAEF2 ")


def test_the_neural_method_gives_sesquilsrs_flux2_weights_the_unpacked_latent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    isolate(monkeypatch, tmp_path)
    state = sesqui_state_dict(32, width=16, in_depth=1, out_depth=1)
    save_safetensors(state, tmp_path / "models" / "upscaler_Flux2.safetensors")
    opts = options(tmp_path)
    packed = _packed(4, 4)
    out = upscale(packed, (6, 6), method="neural", family="flux2", neural=opts)
    unpacked = upscale(unpack_2x2(packed), (12, 12), method="neural", family="flux2", neural=opts)
    assert out.shape == (1, 128, 6, 6) and torch.allclose(out, pack_2x2(unpacked), atol=1e-5)


# --- bad input -----------------------------------------------------------------------------------------


def test_a_channel_count_no_layout_of_the_family_has_is_one_clear_error():
    with pytest.raises(
        LatentUpscaleError, match=r"FLUX\.2 latents have 32 .* or 128 .* but this latent has 64"
    ):
        upscale(torch.zeros(1, 64, 4, 4), (8, 8), family="flux2")
    with pytest.raises(LatentUpscaleError, match=r"SDXL latents have 4 .* but this latent has 128"):
        upscale(torch.zeros(1, 128, 4, 4), (8, 8), family="sdxl")
    with pytest.raises(LatentUpscaleError, match=r"Mugen .* have 32 .* but this latent has 128"):
        upscale(torch.zeros(1, 128, 4, 4), (8, 8), family="mugen")  # Mugen's UNet takes it unpacked


def test_an_unknown_family_is_one_clear_error_naming_the_known_ones():
    with pytest.raises(LatentUpscaleError, match=r"unknown model family 'flux3'.*qwen-image-2\.1"):
        upscale(torch.zeros(1, 4, 4, 4), (8, 8), family="flux3")
    with pytest.raises(LatentUpscaleError, match=r"unknown model family 'flux3'"):
        held_layout("flux3", 4)


# --- sizes the next pass accepts -------------------------------------------------------------------------


def test_factor_1_517_on_a_60_wide_flux2_latent_gives_92_not_91(caplog: pytest.LogCaptureFixture):
    latent = torch.randn(1, 32, 40, 60)
    assert upscale(latent, scale=1.517).shape[-1] == 91  # no family: the plain rounding, as before
    with caplog.at_level(logging.INFO, logger="latent_upscale.api"):
        result = upscale_detailed(latent, scale=1.517, family="flux2")
    assert result.latent.shape[-2:] == (62, 92)
    assert result.steps[-1] == "size 61x91 rounded to 62x92 latent px (a multiple of 2: FLUX.2's patch size)"


def test_a_packed_latent_needs_no_rounding_its_unpacked_sides_are_even():
    result = upscale_detailed(torch.randn(1, 128, 40, 60), scale=1.517, family="flux2")
    assert result.latent.shape[-2:] == (61, 91)
    assert patch_alignment("flux2", 128) == 1 and patch_alignment("flux2", 32) == 2


def test_an_explicit_size_that_breaks_the_alignment_is_kept_with_a_warning(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="latent_upscale.api"):
        result = upscale_detailed(torch.randn(1, 16, 8, 8), (13, 12), family="zimage")
    assert result.latent.shape[-2:] == (13, 12)
    assert "not a multiple of 2 latent px" in result.steps[-1]


def test_unet_families_keep_every_size():
    assert upscale(torch.randn(1, 4, 40, 60), scale=1.517, family="sdxl").shape[-2:] == (61, 91)
    assert patch_alignment("sd1", 4) == 1 and patch_alignment("mugen", 32) == 1


def test_align_side_rounds_to_the_nearest_multiple_and_never_to_zero():
    assert [align_side(side, 2) for side in (1, 2, 3, 91, 92)] == [2, 2, 4, 92, 92]


def test_megapixels_keep_the_aspect_ratio_and_count_the_held_ratio():
    out = upscale(torch.randn(1, 4, 64, 96), megapixels=1.0)  # 512x768 px → about 1024² px
    assert out.shape[-2:] == (105, 157)
    packed = upscale(torch.randn(1, 128, 32, 32), megapixels=1.0, family="flux2")  # 1/16: 512 px → 1024
    assert packed.shape[-2:] == (64, 64)
    assert math.isclose(megapixel_scale((64, 64), 1.0), 2.0)
    with pytest.raises(LatentUpscaleError, match="exactly one of"):
        upscale(torch.randn(1, 4, 8, 8), (16, 16), megapixels=1.0)
    with pytest.raises(LatentUpscaleError, match="megapixels must be a positive number"):
        upscale(torch.randn(1, 4, 8, 8), megapixels=0)


def test_the_cli_resizes_a_packed_file_by_megapixels(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from safetensors.torch import load_file, save_file

    save_file({"latent": torch.randn(1, 128, 60, 60)}, tmp_path / "in.safetensors")
    args = (
        "upscale",
        str(tmp_path / "in.safetensors"),
        str(tmp_path / "out.safetensors"),
        "--family",
        "flux2",
    )
    run = run_cli(capsys, *args, "--megapixels", "2")
    assert run.code == 0, run.err
    assert load_file(tmp_path / "out.safetensors")["latent"].shape == (1, 128, 91, 91)
    assert "unpacked 2×2 (128 → 32 channels)" in run.out
    bad = run_cli(capsys, *args[:-1], "sdxl", "--scale", "2")
    assert bad.code != 0 and "SDXL latents have 4" in bad.err


# --- the unpacked path --------------------------------------------------------------------------------------


def test_an_unpacked_latent_without_a_family_is_resized_exactly_as_before():
    latent = torch.randn(2, 4, 17, 23)
    expected = F.interpolate(latent, size=(40, 31), mode="bilinear", align_corners=False)
    assert torch.equal(upscale(latent, (40, 31)), expected)
    assert torch.equal(upscale(latent, (40, 31), family="sdxl"), expected)


def test_the_cli_takes_a_128_channel_latent_as_packed_flux2_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from safetensors.torch import load_file, save_file

    packed = torch.randn(1, 128, 6, 5)
    save_file({"latent": packed}, tmp_path / "in.safetensors")
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.safetensors"), str(tmp_path / "out.safetensors"), "--scale", "2"
    )
    assert run.code == 0, run.err
    assert "taken as a packed FLUX.2 latent (--family flux2)" in run.out
    expected = pack_2x2(upscale(unpack_2x2(packed), (24, 20)))
    assert torch.allclose(load_file(tmp_path / "out.safetensors")["latent"], expected, atol=1e-6)
