"""The Latent Upscale Advanced node on the fake ComfyUI: sizes, families, keys of the latent dict, learned
methods' weights in ComfyUI's folders, and one-line refusals that change nothing."""

import pytest
import torch

import latent_upscale
from latent_upscale.comfy.detect import describe_latent
from latent_upscale.comfy.sizing import alignment_in_latent_pixels, target_latent_size
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from tests.helpers.comfy import fake_comfy

BASE = {
    "upscale_method": "bilinear",
    "size_by": "scale_by",
    "scale_by": 1.5,
    "width": 0,
    "height": 0,
    "megapixels": 1.0,
    "align": "8",
    "family": "auto",
}


@pytest.fixture
def comfy(tmp_path):
    with fake_comfy(tmp_path) as host:
        yield host


def run(comfy, samples, **inputs):
    node = comfy.door.NODE_CLASS_MAPPINGS["LatentUpscaleAdvanced"]()
    return node.upscale(samples, **{**BASE, **inputs})[0]


# --- sizes (pure) -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("side", [5, 7, 8, 9, 13, 64, 101])
@pytest.mark.parametrize("scale", [0.5, 1.25, 1.5, 1.7, 2.0, 2.5, 3.3])
def test_scale_by_at_alignment_8_gives_comfyuis_latent_upscale_by_size(side, scale):
    core = round(side * scale)  # nodes.py LatentUpscaleBy: round(shape[-1] * scale_by)
    assert target_latent_size((side, side), 8, "scale_by", scale_by=scale) == (max(1, core), max(1, core))


def test_alignment_is_the_least_common_multiple_of_the_choice_and_the_spatial_ratio():
    assert [alignment_in_latent_pixels(a, 8) for a in (8, 16, 32, 64)] == [1, 2, 4, 8]
    assert [alignment_in_latent_pixels(a, 16) for a in (8, 16, 32, 64)] == [1, 1, 2, 4]
    assert target_latent_size((64, 64), 8, "width_height", width=1000, height=600, align=64) == (72, 128)
    assert target_latent_size((64, 64), 16, "width_height", width=1000, height=600, align=8) == (38, 62)


def test_width_or_height_zero_keeps_the_aspect_and_both_zero_keep_the_size():
    assert target_latent_size((64, 96), 8, "width_height", width=1536, height=0) == (128, 192)
    assert target_latent_size((64, 96), 8, "width_height", width=0, height=1024) == (128, 192)
    assert target_latent_size((64, 96), 8, "width_height") == (64, 96)


def test_megapixels_keep_the_aspect_at_1024_squared_pixels_each():
    height, width = target_latent_size((64, 96), 8, "megapixels", megapixels=1.0, align=8)
    assert abs(height * width * 64 - 1024 * 1024) / (1024 * 1024) < 0.02 and abs(width / height - 1.5) < 0.02
    assert target_latent_size((64, 64), 8, "megapixels", megapixels=4.0) == (256, 256)


def test_a_bad_size_request_is_one_library_error():
    for mode, kwargs in [("scale_by", {"scale_by": 0.0}), ("megapixels", {"megapixels": -1}), ("x", {})]:
        with pytest.raises(LatentUpscaleError):
            target_latent_size((8, 8), 8, mode, **kwargs)


# --- the node -----------------------------------------------------------------------------------------------
def test_the_node_offers_every_registered_method_and_every_family(comfy):
    inputs = comfy.door.NODE_CLASS_MAPPINGS["LatentUpscaleAdvanced"].INPUT_TYPES()
    methods = inputs["required"]["upscale_method"][0]
    assert methods == latent_upscale.methods() and {"tae", "neural", "bislerp"} <= set(methods)
    assert inputs["optional"]["family"][0] == ["auto", *latent_upscale.FAMILIES]
    assert inputs["optional"]["align"][0] == ["8", "16", "32", "64"]
    assert set(inputs["required"]) == {"samples", "upscale_method", "size_by", "scale_by"}


def test_bilinear_equals_the_library_and_keys_ride_along_with_the_noise_mask_resized(comfy):
    latent = torch.randn(2, 4, 8, 10)
    mask = torch.zeros(2, 1, 64, 80)
    mask[..., :32, :] = 1.0
    samples = {"samples": latent, "noise_mask": mask, "batch_index": [3, 4]}
    snapshot = {
        key: value.clone() if torch.is_tensor(value) else list(value) for key, value in samples.items()
    }
    out = run(comfy, samples)
    expected = latent_upscale.upscale(latent, (12, 15), method="bilinear")
    assert torch.equal(out["samples"], expected)
    assert out["batch_index"] == [3, 4] and out["noise_mask"].shape == (2, 1, 96, 120)
    assert out["noise_mask"][..., :40, :].min() == 1.0 and out["noise_mask"][..., 56:, :].max() == 0.0
    assert out is not samples and torch.equal(samples["samples"], snapshot["samples"])
    assert torch.equal(samples["noise_mask"], snapshot["noise_mask"]) and samples["batch_index"] == [3, 4]


def test_the_same_size_returns_the_latent_unchanged(comfy):
    latent = torch.randn(1, 4, 8, 8)
    out = run(comfy, {"samples": latent}, scale_by=1.0)
    assert torch.equal(out["samples"], latent)


def test_a_video_latent_keeps_its_frames_and_a_16_channel_latent_its_channels(comfy):
    video = torch.randn(1, 16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out = run(comfy, {"samples": video}, upscale_method="bislerp", family="wan")
    assert out["samples"].shape == (1, 16, 3, 12, 12)
    frame = latent_upscale.upscale(video[:, :, 1], (12, 12), method="bislerp")
    assert torch.allclose(out["samples"][:, :, 1], frame, rtol=1e-4, atol=1e-5)
    flux = torch.randn(1, 16, 8, 8)
    assert run(comfy, {"samples": flux}, size_by="width_height", width=128, height=96)["samples"].shape == (
        1,
        16,
        12,
        16,
    )


def test_family_and_ratio_come_from_the_latent_then_the_model_then_the_vae(comfy):
    formats, model_for, vae = comfy.latent_formats, comfy.model_for, comfy.VAE
    sdxl = describe_latent({}, 4, "auto", model_for(formats.SDXL()))
    assert (sdxl.family, sdxl.ratio) == ("sdxl", 8)
    packed = describe_latent({}, 128, "auto", model_for(formats.Flux2()))
    assert (packed.family, packed.ratio, packed.ratio_source) == ("flux2", 16, "MODEL")
    assert describe_latent({}, 48, "auto", model_for(formats.Wan22())).family is None  # 48 channels: not ours
    assert describe_latent({}, 64, "auto", model_for(formats.HunyuanImage21())).ratio == 32
    assert describe_latent({"downscale_ratio_spacial": 16}, 4, "auto", model_for(formats.SD15())).ratio == 16
    assert describe_latent({}, 32, "auto", vae=vae(32)).family == "flux2"
    assert describe_latent({}, 4, "auto", vae=vae(4)).family is None  # SD1 and SDXL VAEs look alike
    assert describe_latent({}, 16, "auto", vae=vae(16, 3, (None, 16, 16))).ratio == 16
    chosen = describe_latent({}, 4, "sd2", model_for(formats.SDXL()))
    assert (chosen.family, chosen.family_source) == ("sd2", "chosen")
    assert describe_latent({}, 128, "flux2").ratio == 16  # packed FLUX.2 without MODEL or VAE


def test_sizes_by_width_follow_the_models_spatial_ratio(comfy):
    latent = torch.randn(1, 64, 8, 8)
    model = comfy.model_for(comfy.latent_formats.HunyuanImage21())
    out = run(comfy, {"samples": latent}, size_by="width_height", width=512, height=512, model=model)
    assert out["samples"].shape == (1, 64, 16, 16)  # 512 px at 32 px per latent pixel


def test_tae_finds_comfyuis_vae_approx_pair_with_any_extension_and_reads_the_family_from_the_model(
    comfy, tmp_path
):
    save_tae_pair(tmp_path / "models" / "vae_approx", "taesd", suffix=".safetensors")
    latent = torch.randn(1, 4, 8, 8)
    model = comfy.model_for(comfy.latent_formats.SD15())
    out = run(comfy, {"samples": latent}, upscale_method="tae", model=model, allow_download=False)
    assert out["samples"].shape == (1, 4, 12, 12) and torch.isfinite(out["samples"]).all()


def test_neural_without_weights_is_one_line_naming_the_comfyui_folder_and_the_file(
    comfy, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("LATENT_UPSCALE_MODELS", raising=False)
    model = comfy.model_for(comfy.latent_formats.SDXL())
    with pytest.raises(ValueError) as caught:
        run(
            comfy,
            {"samples": torch.randn(1, 4, 8, 8)},
            upscale_method="neural",
            model=model,
            allow_download=False,
        )
    message = str(caught.value)
    assert "\n" not in message and message.startswith("Latent Upscale: ")
    # the folder by its name (the same line goes into WebUI infotexts, which carry no user paths)
    assert "latent_upscale_models" in message and "upscaler_SDXL.safetensors" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_explicit_weights_file_is_listed_from_latent_upscale_models(comfy, tmp_path):
    folder = tmp_path / "models" / "latent_upscale_models"
    folder.mkdir(parents=True)
    (folder / "mine.safetensors").write_bytes(b"")
    inputs = comfy.door.NODE_CLASS_MAPPINGS["LatentUpscaleAdvanced"].INPUT_TYPES()
    assert inputs["optional"]["weights"][0] == ["automatic", "mine.safetensors"]


@pytest.mark.parametrize(
    ("samples", "inputs", "words"),
    [
        ({"samples": torch.randn(4, 8, 8)}, {}, "[B, C, H, W]"),
        ({"samples": [torch.randn(1, 4, 8, 8)]}, {}, "not a tensor"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"upscale_method": "sharpest"}, "unknown"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"family": "sd9"}, "unknown family"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"upscale_method": "tae"}, "connect the MODEL"),
        ({"samples": torch.full((1, 4, 8, 8), float("nan"))}, {}, "finite"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"scale_by": 4000.0}, "16384"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"align": "7"}, "align must be one of"),
        ({"samples": torch.randn(1, 4, 8, 8)}, {"size_by": "diagonal"}, "unknown size_by"),
    ],
)
def test_every_refused_value_is_one_line_and_changes_nothing(comfy, samples, inputs, words):
    folders_before = {
        key: (list(v[0]), set(v[1])) for key, v in comfy.folder_paths.folder_names_and_paths.items()
    }
    before = samples["samples"].clone() if torch.is_tensor(samples["samples"]) else None
    with pytest.raises(ValueError) as caught:
        run(comfy, samples, **inputs)
    message = str(caught.value)
    assert message.startswith("Latent Upscale: ") and "\n" not in message and words in message, message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert {key: (list(v[0]), set(v[1])) for key, v in comfy.folder_paths.folder_names_and_paths.items()} == (
        folders_before
    )
    if before is not None:
        assert torch.equal(samples["samples"].nan_to_num(), before.nan_to_num())


def _packed_flux2_accepted():
    """The library holds packed FLUX.2 (128 channels at 1/16) as a layout of ``flux2`` when its
    ``tae`` method takes a 128-channel latent with the 32-channel TAEF2 pair."""
    import tempfile
    from pathlib import Path

    from latent_upscale.neural.options import NeuralOptions

    with tempfile.TemporaryDirectory() as folder:
        save_tae_pair(Path(folder), "taef2")
        try:
            latent_upscale.upscale(
                torch.randn(1, 128, 2, 2), (4, 4), method="tae", family="flux2", latent_space="raw",
                neural=NeuralOptions(models_dir=folder),
            )  # fmt: skip
        except LatentUpscaleError:
            return False
    return True


def test_a_packed_flux2_latent_is_sized_at_16_pixels_per_latent_pixel_through_tae(comfy, tmp_path):
    if not _packed_flux2_accepted():
        pytest.skip(
            "the library does not take packed 128-channel FLUX.2 latents yet (the modern-families work)"
        )
    save_tae_pair(tmp_path / "models" / "vae_approx", "taef2")
    model = comfy.model_for(comfy.latent_formats.Flux2())
    samples = {"samples": torch.randn(1, 128, 4, 4)}
    out = run(comfy, samples, upscale_method="tae", size_by="width_height", width=128, height=96, model=model)
    assert out["samples"].shape == (1, 128, 6, 8)
