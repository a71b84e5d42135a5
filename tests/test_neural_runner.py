"""The neural runner: exact sizes, step planning, latent conventions, tiling, caching, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latent_upscale import upscale_detailed
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.random_weights import city96_state_dict, sesqui_state_dict, ttl_state_dict
from latent_upscale.lab.fixtures.tae_random import tae_state_dict
from latent_upscale.latent_formats import FAMILIES, LatentFormat
from latent_upscale.neural import NeuralOptions, runner, unload
from latent_upscale.neural.archs import load_descriptor, tae
from latent_upscale.neural.cache import model_cache
from latent_upscale.neural.runner import plan_fixed_factors, run_step, tile_geometry
from latent_upscale.neural.state_dict import read_state_dict
from tests.helpers.latents import random_latent
from tests.helpers.neural_env import options, put_city96, put_sesqui, put_ttl

SD1 = 0.18215
TTL_SCALE = 0.13025


pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py


def model_of(path: Path):
    return load_descriptor(read_state_dict(path)).model


# --- sizes and plans ------------------------------------------------------------------------------

TARGETS = [(14, 18), (16, 21), (20, 26), (26, 34), (27, 31), (40, 55), (61, 19), (10, 30), (9, 7), (13, 200)]


@pytest.mark.parametrize("arch", ["city96", "sesqui", "ttl"])
@pytest.mark.parametrize("target", TARGETS)
def test_every_architecture_returns_the_exact_target_size(tmp_path: Path, arch: str, target: tuple[int, int]):
    models = tmp_path / "models"
    family = {"city96": "sd1", "sesqui": "sdxl", "ttl": "sdxl"}[arch]
    {"city96": put_city96, "sesqui": put_sesqui, "ttl": put_ttl}[arch](models)
    latent = random_latent(2, 4, 13, 17)
    result = upscale_detailed(latent, target, method="neural", family=family, neural=options(tmp_path))
    assert result.latent.shape == (2, 4, *target)
    assert torch.isfinite(result.latent).all()
    if target[0] <= 13 and target[1] <= 17:
        assert result.weights is None and "network not run" in result.steps[0]
    else:
        assert result.weights and result.steps[-1].endswith(f"{target[0]}x{target[1]}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    height=st.integers(1, 24),
    width=st.integers(1, 24),
    target_h=st.integers(1, 60),
    target_w=st.integers(1, 60),
)
def test_city96_reaches_any_target_from_any_size(tmp_path: Path, height, width, target_h, target_w):
    models = tmp_path / "models"
    if not models.exists():
        put_city96(models)
    result = upscale_detailed(
        random_latent(1, 4, height, width),
        (target_h, target_w),
        method="neural",
        family="sd1",
        neural=options(tmp_path),
    )
    assert result.latent.shape == (1, 4, target_h, target_w)


@pytest.mark.parametrize(
    ("src", "target", "factors", "plan"),
    [
        ((64, 64), (80, 80), (1.25, 1.5, 2.0), [1.25]),
        ((64, 64), (81, 70), (1.25, 1.5, 2.0), [1.5]),
        ((64, 64), (97, 64), (1.25, 1.5, 2.0), [2.0]),
        ((64, 64), (192, 192), (1.25, 1.5, 2.0), [2.0, 1.5]),
        ((64, 64), (200, 200), (1.25, 1.5, 2.0), [2.0, 2.0]),
        ((64, 64), (100, 100), (1.5,), [1.5, 1.5]),
        ((61, 93), (76, 116), (1.25,), [1.25]),  # floor(61·1.25) = 76, as nn.Upsample gives
        ((2, 2), (4, 4), (1.25,), []),  # 1.25 cannot grow 2 pixels: the resample does it
        ((64, 64), (64, 64), (2.0,), []),
    ],
)
def test_fixed_factor_plan_uses_the_smallest_reaching_factor_and_chains_beyond_2x(src, target, factors, plan):
    assert plan_fixed_factors(src, target, factors) == plan


def test_steps_record_weights_factors_and_the_final_resample(tmp_path: Path):
    put_city96(tmp_path / "models", factors=(1.5, 2.0))
    result = upscale_detailed(
        random_latent(1, 4, 32, 32), (90, 90), method="neural", family="sd1", neural=options(tmp_path)
    )
    assert len(result.steps) == 3
    assert "x2.0.safetensors" in result.steps[0] and result.steps[0].endswith("64x64")
    assert "x1.5.safetensors" in result.steps[1] and result.steps[1].endswith("96x96")
    assert result.steps[2] == "area → 90x90"
    # In the order the networks ran: 2x, then 1.5x.
    assert (
        result.weights
        == "latent-upscaler-v2.1_SDv1-x2.0.safetensors, latent-upscaler-v2.1_SDv1-x1.5.safetensors"
    )
    assert result.extra["neural_arch"] == "city96" and result.extra["neural_source"] == "models folder"


def test_any_scale_network_chains_2x_steps_above_2x(tmp_path: Path):
    put_sesqui(tmp_path / "models")
    result = upscale_detailed(
        random_latent(1, 4, 10, 10), (35, 26), method="neural", family="sdxl", neural=options(tmp_path)
    )
    assert [step.rsplit("→ ", 1)[1] for step in result.steps] == ["20x20", "35x26"]


def test_shrinking_needs_no_weights_and_runs_no_network(tmp_path: Path):
    result = upscale_detailed(
        random_latent(1, 16, 20, 20), (10, 15), method="neural", family="sd3", neural=options(tmp_path)
    )
    assert result.latent.shape == (1, 16, 10, 15)
    assert result.weights is None
    assert result.steps[:2] == ("not enlarged (≤1× on both axes): network not run", "area → 10x15")
    assert result.steps[2:] == (  # an explicit size off SD3's 2×2 patches is kept, with a warning
        "size 10x15 is not a multiple of 2 latent px: SD 3.x's next pass patchifies 2×2 and may refuse it",
    )


# --- latent conventions -------------------------------------------------------------------------


def test_city96_sees_raw_latents_when_given_scaled_sd1_latents(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(2.0,))
    model = model_of(path)
    latent = random_latent(1, 4, 12, 12) * 0.9
    result = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=options(tmp_path))
    expected = model(latent / SD1, 2.0) * SD1
    naive = model(latent, 2.0)
    torch.testing.assert_close(result.latent, expected, rtol=1e-5, atol=1e-5)
    assert (result.latent - naive).abs().max() > 0.05  # the network really depends on the scale


def test_raw_latent_space_goes_to_city96_unchanged(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(2.0,))
    latent = random_latent(1, 4, 12, 12) * 5
    result = upscale_detailed(
        latent, scale=2, method="neural", family="sd1", latent_space="raw", neural=options(tmp_path)
    )
    torch.testing.assert_close(result.latent, model_of(path)(latent, 2.0), rtol=1e-5, atol=1e-5)


def test_ttl_sees_raw_times_0_13025_for_sd1_and_sdxl(tmp_path: Path):
    models = tmp_path / "models"
    model_xl = model_of(put_ttl(models, "sdxl_resizer.pt", seed=1))
    model_15 = model_of(put_ttl(models, "sd15_resizer.pt", seed=2))
    latent = random_latent(1, 4, 8, 8)
    sdxl = upscale_detailed(latent, (12, 12), method="neural", family="sdxl", neural=options(tmp_path))
    # SDXL model space is raw × 0.13025: exactly what Ttl trained on, so no conversion at all.
    torch.testing.assert_close(sdxl.latent, model_xl(latent, (12, 12)), rtol=1e-5, atol=1e-5)
    sd1 = upscale_detailed(latent, (12, 12), method="neural", family="sd1", neural=options(tmp_path))
    ratio = TTL_SCALE / SD1
    torch.testing.assert_close(sd1.latent, model_15(latent * ratio, (12, 12)) / ratio, rtol=1e-4, atol=1e-5)
    assert (sd1.latent - model_15(latent, (12, 12))).abs().max() > 0.05


def test_wan_latents_are_unnormalised_per_channel_for_sesqui(tmp_path: Path):
    model = model_of(put_sesqui(tmp_path / "models", "Wan21", channels=16))
    fmt = FAMILIES["wan"]
    mean = torch.tensor(fmt.shift).view(1, -1, 1, 1)
    std = 1 / torch.tensor(fmt.scale).view(1, -1, 1, 1)
    latent = random_latent(1, 16, 8, 8)
    result = upscale_detailed(latent, (12, 14), method="neural", family="wan", neural=options(tmp_path))
    expected = (model(latent * std + mean, (12, 14)) - mean) / std
    torch.testing.assert_close(result.latent, expected, rtol=1e-4, atol=1e-4)
    assert (result.latent - model(latent, (12, 14))).abs().max() > 0.05


def test_an_explicit_latent_format_from_the_host_wins(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(2.0,))
    fmt = LatentFormat(scale=0.3, shift=0.2)
    latent = random_latent(1, 4, 10, 10)
    result = upscale_detailed(
        latent, scale=2, method="neural", family="sd1", latent_space=fmt, neural=options(tmp_path)
    )
    expected = (model_of(path)(latent / 0.3 + 0.2, 2.0) - 0.2) * 0.3
    torch.testing.assert_close(result.latent, expected, rtol=1e-5, atol=1e-5)
    assert result.extra["latent_format"] == "scale 0.3, shift 0.2"


# --- errors -----------------------------------------------------------------------------------------


def test_channel_mismatch_is_a_clear_error(tmp_path: Path):
    put_sesqui(tmp_path / "models")
    # the family's layouts are checked first (before any weights load), in the family's words
    with pytest.raises(LatentUpscaleError, match=r"SDXL latents have 4 .*channels, but this latent has 16"):
        upscale_detailed(
            random_latent(1, 16, 8, 8), scale=1.5, method="neural", family="sdxl", neural=options(tmp_path)
        )
    flux2 = put_sesqui(tmp_path / "other", "Flux2", channels=32)
    with pytest.raises(
        LatentUpscaleError,
        match=r"128 channels: a FLUX\.2 latent packed 2×2; pass family=.flux2. and it is unpacked",
    ):
        upscale_detailed(
            random_latent(1, 128, 8, 8), scale=1.5, method="neural", weights=flux2, latent_space="raw"
        )


def test_weights_for_another_vae_are_refused(tmp_path: Path):
    sdxl = put_sesqui(tmp_path / "models")
    with pytest.raises(LatentUpscaleError, match="trained on sdxl latents, but the latent is sd1"):
        upscale_detailed(random_latent(1, 4, 8, 8), scale=1.5, method="neural", family="sd1", weights=sdxl)


def test_a_city96_file_whose_name_hides_its_factor_needs_one(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(1.5,))
    renamed = path.rename(path.with_name("my-upscaler.safetensors"))
    latent = random_latent(1, 4, 8, 8)
    with pytest.raises(LatentUpscaleError, match=r"scale factor of this city96 file is unknown.*factor"):
        upscale_detailed(
            latent, scale=1.5, method="neural", family="sd1", weights=renamed, neural=options(tmp_path)
        )
    result = upscale_detailed(
        latent,
        scale=1.5,
        method="neural",
        family="sd1",
        weights=renamed,
        neural=options(tmp_path, factor=1.5),
    )
    assert result.latent.shape == (1, 4, 12, 12) and "→ 12x12" in result.steps[0]


def test_scaled_latents_need_a_family_when_the_weights_do_not_say(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(2.0,))
    renamed = path.rename(path.with_name("anonymous-x2.0.safetensors"))
    with pytest.raises(LatentUpscaleError, match="needs its model family"):
        upscale_detailed(
            random_latent(1, 4, 8, 8), scale=2, method="neural", weights=renamed, neural=options(tmp_path)
        )
    with pytest.raises(LatentUpscaleError, match="needs family="):
        upscale_detailed(random_latent(1, 4, 8, 8), scale=2, method="neural", neural=options(tmp_path))


def test_too_small_latents_for_reflect_padding_are_refused_clearly(tmp_path: Path):
    put_sesqui(tmp_path / "models")
    with pytest.raises(LatentUpscaleError, match="at least 3x3"):
        upscale_detailed(
            random_latent(1, 4, 2, 5), (4, 9), method="neural", family="sdxl", neural=options(tmp_path)
        )


# --- tiling ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.25, 1.5, 2.0])
def test_tiled_city96_equals_untiled(tmp_path: Path, factor: float):
    put_city96(tmp_path / "models", factors=(factor,))
    latent = random_latent(1, 4, 61, 45, seed=3)
    target = (int(61 * factor), int(45 * factor))
    whole = upscale_detailed(
        latent, target, method="neural", family="sd1", neural=options(tmp_path, tile_size=0)
    )
    tiled = upscale_detailed(
        latent, target, method="neural", family="sd1", neural=options(tmp_path, tile_size=24)
    )
    assert "tiles" in tiled.steps[0] and "tiles" not in whole.steps[0]
    torch.testing.assert_close(tiled.latent, whole.latent, rtol=0, atol=2e-5)


@pytest.mark.parametrize(("arch", "tolerance"), [("sesqui", 1e-3), ("ttl", 0.12)])
def test_tiled_any_scale_networks_agree_closely_with_untiled(tmp_path: Path, arch: str, tolerance: float):
    # SesquiLSR normalises over the whole image and Ttl also attends over it, so tiles see slightly
    # different statistics; the sampling grid itself is the whole image's (see archs/_grid.py).
    (put_sesqui if arch == "sesqui" else put_ttl)(tmp_path / "models")
    latent = random_latent(1, 4, 61, 45, seed=4)
    target = (91, 67)  # 1.49×: tiles are not aligned to any small denominator
    whole = upscale_detailed(
        latent, target, method="neural", family="sdxl", neural=options(tmp_path, tile_size=0)
    )
    tiled = upscale_detailed(
        latent, target, method="neural", family="sdxl", neural=options(tmp_path, tile_size=32)
    )
    assert "tiles" in tiled.steps[0]
    relative = (tiled.latent - whole.latent).norm() / whole.latent.norm()
    assert relative < tolerance


def test_automatic_tiling_starts_above_the_architectures_output_budget():
    attention = load_descriptor(ttl_state_dict(1, 1, channels=32))
    convolutional = load_descriptor(city96_state_dict("2.1", width=8, depth=2))
    auto = NeuralOptions()
    assert tile_geometry(attention, (90, 90), (180, 180), auto)[0] > 0  # 32,400 px > 160²
    assert tile_geometry(attention, (80, 80), (160, 160), auto)[0] == 0
    assert tile_geometry(convolutional, (90, 90), (180, 180), auto)[0] == 0
    assert tile_geometry(attention, (90, 90), (180, 180), NeuralOptions(tile_size=0))[0] == 0
    tile, overlap, margin = tile_geometry(convolutional, (90, 90), (180, 180), NeuralOptions(tile_size=16))
    # city96's receptive field (4 px for this 4-conv stack) fits in the margin, on both sides of an overlap.
    assert overlap >= 2 * 4 and tile >= 2 * overlap and margin >= 4 * 2


def test_exact_networks_and_tae_get_equal_shorter_tiles_and_whole_image_networks_keep_full_ones(
    monkeypatch: pytest.MonkeyPatch,
):
    exact = load_descriptor(city96_state_dict("2.1", width=8, depth=2))
    whole_image = load_descriptor(sesqui_state_dict(4, width=16, in_depth=1, out_depth=1))
    halves = {half: tae_state_dict("taesd", half) for half in tae.PARTS}
    pair = tae.load_parts(halves, {half: f"taesd_{half}.pth" for half in tae.PARTS})
    assert (exact.balances_tiles, whole_image.balances_tiles, pair.balances_tiles) == (True, False, True)
    asked: list[bool] = []

    def spy(step, x, size, **kw):
        asked.append(kw["balance"])  # what the runner asked the tiler for
        return torch.zeros(x.shape[0], x.shape[1], *size), 4

    monkeypatch.setattr(runner, "run_tiled", spy)
    for descriptor in (whole_image, pair):
        run_step(descriptor, torch.zeros(1, 4, 64, 64), None, (128, 128), NeuralOptions(tile_size=32))
    assert asked == [False, True]


# --- caching, dtypes, precision ---------------------------------------------------------------------


def test_loaded_models_are_reused_until_the_file_changes_or_unload(tmp_path: Path):
    (path,) = put_city96(tmp_path / "models", factors=(2.0,))
    latent = random_latent(1, 4, 8, 8)
    run = lambda: upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=options(tmp_path))  # noqa: E731
    run()
    first = model_cache.stats()
    run()
    second = model_cache.stats()
    assert second.misses == first.misses and second.hits > first.hits
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the file "changed"
    run()
    assert model_cache.stats().misses == first.misses + 1
    assert unload() >= 1 and model_cache.stats().size == 0


def test_half_latents_keep_their_dtype_and_cpu_runs_in_float32(tmp_path: Path):
    put_city96(tmp_path / "models", factors=(2.0,))
    latent = random_latent(1, 4, 8, 8)
    full = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=options(tmp_path))
    half = upscale_detailed(latent.half(), scale=2, method="neural", family="sd1", neural=options(tmp_path))
    assert half.latent.dtype == torch.float16 and full.extra["neural_dtype"] == "float32"
    torch.testing.assert_close(half.latent.float(), full.latent, rtol=1e-2, atol=1e-2)


def test_precision_switch_runs_the_network_in_bfloat16(tmp_path: Path):
    put_city96(tmp_path / "models", factors=(2.0,))
    latent = random_latent(1, 4, 8, 8)
    full = upscale_detailed(latent, scale=2, method="neural", family="sd1", neural=options(tmp_path))
    bf16 = upscale_detailed(
        latent, scale=2, method="neural", family="sd1", neural=options(tmp_path, precision="bf16")
    )
    assert bf16.extra["neural_dtype"] == "bfloat16" and bf16.latent.dtype == torch.float32
    assert (bf16.latent - full.latent).abs().max() < 0.05 * full.latent.abs().max()
    assert not torch.equal(bf16.latent, full.latent)


def test_the_result_is_an_ordinary_tensor_the_host_may_update_in_place(tmp_path: Path):
    put_city96(tmp_path / "models", factors=(2.0,))
    result = upscale_detailed(
        random_latent(1, 4, 8, 8), scale=2, method="neural", family="sd1", neural=options(tmp_path)
    )
    assert not result.latent.is_inference()
    result.latent.mul_(0.5)  # what img2img does with masks and noise; fails on an inference tensor


def test_result_names_only_the_weights_whose_network_ran(tmp_path):
    from latent_upscale import upscale_detailed
    from latent_upscale.lab.fixtures.random_weights import (
        city96_filename,
        city96_state_dict,
        save_safetensors,
    )
    from latent_upscale.neural import NeuralOptions

    for factor in (1.25, 1.5, 2.0):
        save_safetensors(
            city96_state_dict("2.1", width=8, depth=2), tmp_path / city96_filename("2.1", "v1", factor)
        )
    latent = torch.randn(1, 4, 20, 20)
    result = upscale_detailed(
        latent, (34, 34), method="neural", family="sd1", neural=NeuralOptions(models_dir=tmp_path)
    )
    assert result.weights == "latent-upscaler-v2.1_SDv1-x2.0.safetensors"  # 1.7x needs the 2x file only
    assert "x1.5" not in result.extra["neural_weights"]
