"""The hosts' newer families in the WebUI glue: read from Forge Neo's own class names and latent formats,
packed FLUX.2 on the fake Neo host, and sizes rounded to what the next pass accepts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from latent_upscale.latent_layouts import pack_2x2, unpack_2x2
from latent_upscale.webui.guide import scaled_size
from latent_upscale.webui.job import JobOptions
from latent_upscale.webui.model import read_model_latent_info
from tests.helpers.glue import TITLE, start
from tests.helpers.webui import png_image


def _named(name: str, **attributes: object) -> object:
    """An object of a class called ``name`` (the glue reads class names, as the hosts name them)."""
    return type(name, (), attributes)()


def _neo_engine(config: str, fmt: str, channels: int, **flags: bool) -> object:
    """Forge Neo's engine as ``backend/diffusion_engine/base.py`` builds it: ``model_config`` (the
    huggingface_guess class), the VAE's ``latent_format`` and ``latent_channels``, a few ``is_*`` flags."""
    vae_model = SimpleNamespace(latent_format=_named(fmt, scale_factor=1.0))
    vae = SimpleNamespace(first_stage_model=vae_model, latent_channels=channels)
    flags = {"is_sd1": False, "is_sdxl": False, "is_wan": False, **flags}
    return SimpleNamespace(model_config=_named(config), forge_objects=SimpleNamespace(vae=vae), **flags)


@pytest.mark.parametrize(
    ("config", "fmt", "channels", "flags", "family"),
    [
        ("Flux2K4B", "Flux2", 128, {}, "flux2"),
        ("Flux2K9B", "Flux2", 128, {}, "flux2"),
        ("ErnieImage", "Flux2", 128, {}, "ernie"),
        ("Mugen", "SDXL_Flux2", 32, {}, "mugen"),
        ("ZImage", "Flux", 16, {}, "zimage"),
        ("Chroma", "Flux", 16, {}, "chroma"),
        ("Lumina2", "Flux", 16, {}, "flux"),  # no family of its own: the FLUX.1 latent it holds
        ("Anima", "Wan21", 16, {"is_wan": True}, "anima"),
        ("QwenImage", "Wan21", 16, {"is_wan": True}, "qwen-image"),
        ("Krea2", "Wan21", 16, {"is_wan": True}, "krea2"),
        ("WAN21_T2V", "Wan21", 16, {"is_wan": True}, "wan"),
        ("QwenImage21", "QwenImage21", 64, {}, "qwen-image-2.1"),
        ("WAN22_T2V", "Wan22", 48, {"is_wan": True}, "wan22-5b"),
        ("Unknown", "Unknown", 48, {"is_wan": True}, "wan22-5b"),  # the flag and the channel count
    ],
)
def test_forge_neo_families_come_from_its_model_config_and_latent_format(
    config, fmt, channels, flags, family
):
    info = read_model_latent_info(_neo_engine(config, fmt, channels, **flags))
    assert (info.family, info.channels) == (family, channels)


def test_a_class_name_whose_family_has_no_layout_with_that_many_channels_is_not_taken():
    # A Flux2 format on a 16-channel VAE is not FLUX.2: the name is ignored and the flags decide.
    info = read_model_latent_info(_neo_engine("Other", "Flux2", 16, is_wan=True))
    assert info.family == "wan"


# --- the fake Forge Neo host with FLUX.2 ------------------------------------------------------------------


def test_fake_neo_flux2_holds_the_latent_packed_and_the_glue_reads_it(fake_webui):
    host = fake_webui("forge-neo", model="flux2")
    info = read_model_latent_info(host.sd_model)
    assert (info.family, info.channels) == ("flux2", 128) and info.latent_format.is_identity
    pixels = torch.rand(1, 3, 64, 48)
    encoded = host.sd_samplers_common.images_tensor_to_samples(pixels, 0, host.sd_model)
    assert encoded.shape == (1, 128, 4, 3)  # 1/16, packed
    raw = host.sd_models.fake_vae_encode(pixels * 2 - 1, 32)  # the 32-channel latent at 1/8
    assert torch.allclose(unpack_2x2(encoded.float()), raw.float(), atol=1e-5)
    assert torch.allclose(pack_2x2(raw.float()), encoded.float(), atol=1e-5)


def test_neo_sizes_a_flux2_latent_with_opt_f_8_so_its_own_resize_asks_twice_the_side(fake_webui):
    # Neo's processing.py keeps opt_f = 8: img2img "Just resize (latent upscale)" interpolates the
    # latent to (height // 8, width // 8), hires fix to (target // 8), and txt2img draws its noise as
    # (latent_channels, height // 8, width // 8). Its FLUX.2 VAE holds the latent at 1/16 (packed), so
    # that size is twice the side the VAE's ratio implies: decoded, a 64×48 request gives 128×96 pixels.
    host = fake_webui("forge-neo", model="flux2")
    packed = torch.randn(1, 128, 4, 3)  # a 64×48 image at 1/16
    asked = (64 // host.processing.opt_f, 48 // host.processing.opt_f)
    assert asked == (8, 6) == (2 * packed.shape[2], 2 * packed.shape[3])
    resized = torch.nn.functional.interpolate(packed, size=asked, mode="bilinear")
    decoded = host.sd_model.decode_first_stage(resized)
    assert decoded.shape[-2:] == (128, 96)


def test_latent_upscale_on_fake_neo_flux2_resizes_the_unpacked_latent_to_the_hosts_size(fake_webui):
    host = fake_webui("forge-neo", model="flux2")
    start(host)
    processed = host.img2img(
        png_image(64, 48),
        script=TITLE,
        script_args=JobOptions("bicubic").ui_values(),
        width=96,
        height=64,
        resize_mode=3,
        denoising_strength=0.4,
        steps=4,
    )
    start_latent = host.runs[-1].x
    assert start_latent.shape == (1, 128, 8, 12)  # the host's size, (64 // 8, 96 // 8), held packed
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Latent upscale method"] == "bicubic"
    assert processed.images[0].size == (192, 128)  # Neo's opt_f = 8 on a 1/16 latent: twice the side
    host.assert_no_errors()


# --- sizes the next pass accepts ----------------------------------------------------------------------


def test_upscale_by_rounds_to_a_multiple_of_16_pixels_for_a_dit_and_says_so(fake_webui):
    assert scaled_size((480, 320), 1.517) == (728, 480)  # the WebUI's rounding: 91 latent px
    assert scaled_size((480, 320), 1.517, multiple=16) == (736, 480)  # 92: even, as a DiT patchifies
    host = fake_webui("forge-neo", model="flux")
    start(host)
    processed = host.img2img(
        png_image(480, 320),
        script=TITLE,
        script_args=JobOptions("bilinear", scale=1.517).ui_values(),
        resize_mode=3,
        denoising_strength=0.4,
        steps=2,
    )
    assert processed.images[0].size == (736, 480)
    assert "size 728x480 rounded to 736x480 px" in processed.infotexts[0]


def test_upscale_by_keeps_the_webui_rounding_for_a_unet(fake_webui):
    host = fake_webui("forge-neo", model="sdxl")
    start(host)
    processed = host.img2img(
        png_image(480, 320),
        script=TITLE,
        script_args=JobOptions("bilinear", scale=1.517).ui_values(),
        resize_mode=3,
        denoising_strength=0.4,
        steps=2,
    )
    assert processed.images[0].size == (728, 480)
    assert "rounded to" not in processed.infotexts[0]


def test_a_factor_derived_hires_size_is_rounded_to_the_dit_patch_and_said(fake_webui):
    # The fake Flux engines sample NaN in txt2img, so the hires rounding is called as the hires hook
    # calls it (resize_host_latent(..., align=True) when no Resize width/height is set).
    host = fake_webui("forge-neo", model="flux")
    start(host)
    from latent_upscale.webui.resize import resize_host_latent

    p = SimpleNamespace(sd_model=host.sd_model, extra_generation_params={})
    latent = torch.randn(1, 16, 8, 13)
    out = resize_host_latent(p, "bilinear", latent, (12, 19), lambda: None, align=True)
    assert out.shape[-2:] == (12, 20)
    assert "size 12x19 rounded to 12x20 latent px (patch size 2)" in str(p.extra_generation_params)
    kept = resize_host_latent(p, "bilinear", latent, (12, 19), lambda: None)  # Resize width/height given
    assert kept.shape[-2:] == (12, 19)
