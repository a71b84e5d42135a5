"""Tiny autoencoders: layout detection, variant told apart, strict loading, real TAEF2 reconstruction."""

from __future__ import annotations

import math

import pytest
import torch

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.tae_random import save_tae_pair, tae_state_dict
from latent_upscale.neural.archs import tae
from tests.helpers.real_weights import photograph, require_taef2

VARIANT_IDS = list(tae.VARIANTS)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / float(((a - b) ** 2).mean()))


@pytest.mark.parametrize("variant", VARIANT_IDS)
@pytest.mark.parametrize("half", ["encoder", "decoder"])
def test_every_variant_loads_strictly_from_random_weights_under_its_published_name(variant, half):
    state = tae_state_dict(variant, half, seed=3)
    loaded = tae.load(state, filename=f"{variant}_{half}.pth")
    assert loaded.variant.id == variant
    assert loaded.half == half
    assert len(state) == (79 if variant == "taef2" else 67)
    # strict load copied the values (up to float16 → float32)
    params = dict(loaded.module.named_parameters())
    out_conv = 16 if variant == "taeqi2_1" else 14  # the 16× encoder's last conv is one further
    key = f"{out_conv}.weight" if half == "encoder" else "19.weight"
    assert torch.equal(params[key], state[key].float())


def test_parameter_counts_match_taesd_readme():
    assert sum(p.numel() for p in tae.TaeEncoder(4).parameters()) == 1_222_532
    assert sum(p.numel() for p in tae.TaeDecoder(4).parameters()) == 1_222_531


@pytest.mark.parametrize(
    ("channels", "candidates"),
    [(4, ("taesd", "taesdxl")), (16, ("taesd3", "taef1"))],
)
def test_variants_sharing_a_layout_are_told_apart_only_by_file_name(channels, candidates):
    first, second = candidates
    state = tae_state_dict(first, "decoder")
    assert tae.describe_layout(state).candidates == candidates
    assert tae.detect_variant(state, f"{first}_decoder.pth") == first
    assert tae.detect_variant(state, f"models/VAE-approx/{second}_decoder.safetensors") == second
    assert tae.detect_variant(state, "whatever.pth", variant=second) == second
    with pytest.raises(LatentUpscaleError, match=f"fits {first} and {second}"):
        tae.detect_variant(state, "my_decoder.pth")


def test_taef2_is_recognised_from_its_layout_alone():
    for half in ("encoder", "decoder"):
        assert tae.detect_variant(tae_state_dict("taef2", half), "renamed.pth") == "taef2"


@pytest.mark.parametrize("variant", VARIANT_IDS)
def test_detection_is_exclusive_across_variants(variant):
    state = tae_state_dict(variant, "encoder")
    accepted = []
    for other in VARIANT_IDS:
        try:
            tae.detect_variant(state, f"{other}_encoder.pth")
        except LatentUpscaleError:
            continue
        accepted.append(other)
    same_layout = {"taesd": {"taesd", "taesdxl"}, "taesdxl": {"taesd", "taesdxl"}}
    same_layout |= {"taesd3": {"taesd3", "taef1"}, "taef1": {"taesd3", "taef1"}, "taef2": {"taef2"}}
    same_layout |= {"taeqi2_1": {"taeqi2_1"}}
    assert set(accepted) == same_layout[variant]


def test_a_file_name_contradicting_the_layout_is_a_clear_error():
    state = tae_state_dict("taef2", "encoder")
    with pytest.raises(LatentUpscaleError, match=r"file name says taesdxl but the weights are a 32-channel"):
        tae.detect_variant(state, "taesdxl_encoder.pth")


def test_wrong_layouts_give_clear_errors():
    with pytest.raises(LatentUpscaleError, match="not a TAESD encoder or decoder"):
        tae.load({"sequential.0.weight": torch.zeros(64, 4, 3, 3)})
    state = tae_state_dict("taef2", "encoder")
    del state["12.pool.1.bias"]  # a side branch missing a tensor: strict load names it
    with pytest.raises(LatentUpscaleError, match=r"looks like a taef2 encoder.*12\.pool\.1\.bias"):
        tae.load(state, filename="taef2_encoder.pth")
    state = tae_state_dict("taesd", "decoder")
    state["19.weight"] = torch.zeros(4, 64, 3, 3)
    with pytest.raises(LatentUpscaleError, match=r"19\.weight of shape \(3, 64, 3, 3\)"):
        tae.load(state, filename="taesd_decoder.pth")
    odd = tae_state_dict("taesd", "encoder")
    odd["14.weight"], odd["14.bias"] = torch.zeros(8, 64, 3, 3), torch.zeros(8)
    with pytest.raises(LatentUpscaleError, match="8 latent channels without the GroupNorm side branch"):
        tae.load(odd)


def test_pair_loads_from_pth_and_safetensors_folders_and_checks_the_pair(tmp_path):
    for suffix in (".pth", ".safetensors"):
        folder = tmp_path / suffix.strip(".")
        save_tae_pair(folder, "taesd3", suffix=suffix)
        encoder, decoder = tae.find_pair(folder)
        model = tae.load_tiny_autoencoder(encoder, decoder)
        assert model.variant.id == "taesd3"
        latent = model.encode(torch.rand(1, 3, 16, 24))
        assert latent.shape == (1, 16, 2, 3)
        assert model.decode(latent).shape == (1, 3, 16, 24)
    save_tae_pair(tmp_path / "mixed", "taesd")
    save_tae_pair(tmp_path / "other", "taesdxl")
    with pytest.raises(LatentUpscaleError, match="encoder is taesd but the decoder is taesdxl"):
        tae.load_tiny_autoencoder(
            tmp_path / "mixed/taesd_encoder.pth", tmp_path / "other/taesdxl_decoder.pth"
        )
    with pytest.raises(LatentUpscaleError, match="holds no decoder file"):
        (tmp_path / "mixed/taesd_decoder.pth").unlink()
        tae.find_pair(tmp_path / "mixed")


def test_latent_formats_are_the_families_model_spaces():
    from latent_upscale.latent_formats import FAMILIES

    for variant in tae.VARIANTS.values():
        for family in tae.served_families(variant.id, variant.families):
            assert variant.latent_format == FAMILIES[family]


# --- TAEQI2.1: the 16× layout, 64 channels, RGBA ------------------------------------------------------


def test_taeqi2_1_parameter_counts_fit_the_published_decoder_size():
    # float16 weights: 7,644,560 × 2 bytes = 15,289,120, plus the pickle's keys and headers, against the
    # 15,314,938 bytes reported for the published taeqi2_1_decoder.pth.
    encoder, decoder = tae.TaeF16Encoder(64), tae.TaeF16Decoder(64)
    assert sum(p.numel() for p in encoder.parameters()) == 7_644_416
    assert sum(p.numel() for p in decoder.parameters()) == 7_644_560
    assert 0 < 15_314_938 - 2 * 7_644_560 < 40_000


def test_taeqi2_1_is_recognised_from_its_layout_and_maps_rgba_images_at_one_sixteenth():
    halves = {
        half: tae.load(tae_state_dict("taeqi2_1", half, seed=2), filename="renamed.pth") for half in tae.PARTS
    }
    layout = tae.describe_layout(tae_state_dict("taeqi2_1", "decoder"))
    assert (layout.layout, layout.image_channels, layout.latent_channels) == ("f16", 4, 64)
    model = tae.TinyAutoencoder(halves["encoder"], halves["decoder"])
    assert model.variant.id == "taeqi2_1" and model.spatial == 16
    rgba = torch.rand(2, 4, 64, 48)
    latent = model.encode(rgba)
    assert latent.shape == (2, 64, 4, 3)
    assert model.decode(latent).shape == (2, 4, 64, 48)
    # RGB goes in as opaque RGBA (alpha 1), as taesd.py's example converts images
    rgb = rgba[:, :3]
    opaque = torch.cat([rgb, torch.ones_like(rgb[:, :1])], dim=1)
    assert torch.equal(model.encode(rgb), model.encode(opaque))


def test_the_16x_decoder_shares_the_8x_decoders_keys_but_not_its_shapes():
    f16 = tae_state_dict("taeqi2_1", "decoder")
    assert all(key in f16 for key in tae.DECODER_SIGNATURE)  # same signature keys …
    assert tae.describe_layout(f16).layout == "f16"  # … told apart by 1.weight's 256 outputs
    assert tae.describe_layout(tae_state_dict("taef1", "decoder")).layout == "f8"
    with pytest.raises(LatentUpscaleError, match="file name says taef1 but the weights are a 64-channel"):
        tae.detect_variant(f16, "taef1_decoder.pth")
    broken = dict(f16)
    broken["19.weight"] = torch.zeros(3, 64, 3, 3)  # 3 is no whole number of 2×2 patches
    with pytest.raises(LatentUpscaleError, match=r"16× TAESD decoder has 19\.weight of shape \(4·I, 64"):
        tae.describe_layout(broken)


def test_real_taef2_reconstructs_a_photograph_above_25_db():
    folder = require_taef2()
    model = tae.load_tiny_autoencoder(*tae.find_pair(folder))
    assert model.variant.id == "taef2"
    image = photograph("astronaut", side=256)
    latent = model.encode(image)
    assert latent.shape == (1, 32, 32, 32)
    decoded = model.decode(latent)
    assert psnr(decoded, image) >= 25.0
    # the decoded image is this photograph, not any smooth image: mirrored, it no longer matches
    assert psnr(decoded, image.flip(-1)) < 20.0


def assert_same(got: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal up to float rounding (the convolution library may block a strip's shape differently)."""
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) <= 1e-5 * float(expected.abs().max())


@pytest.mark.parametrize("variant", ["taesd", "taef2"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_strips_give_the_whole_image_result_up_to_float_rounding(variant, channels_last):
    from latent_upscale.neural.archs.tae_strips import run_stages

    layout = torch.channels_last if channels_last else torch.contiguous_format
    pair = {
        half: tae.load(tae_state_dict(variant, half, seed=5), filename=f"{variant}_{half}.pth")
        for half in ("encoder", "decoder")
    }
    decoder = pair["decoder"].module.to(memory_format=layout)
    encoder = pair["encoder"].module.to(memory_format=layout)
    channels = tae.VARIANTS[variant].latent_channels
    latent = torch.randn(1, channels, 13, 21, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        latent = latent.contiguous(memory_format=layout)
        whole_image = torch.nn.Sequential.forward(decoder, latent)
        # A 1-byte budget: every separable stage runs in strips of the fewest rows (16).
        image = run_stages(list(decoder), latent, budget=1)
        assert_same(image, whole_image)
        assert torch.equal(decoder(latent), whole_image)  # the default budget: whole stages here
        big = torch.nn.functional.interpolate(image.clamp(0, 1), scale_factor=1.5, mode="bilinear")
        big = big.contiguous(memory_format=layout)
        assert_same(run_stages(list(encoder), big, budget=1), torch.nn.Sequential.forward(encoder, big))
