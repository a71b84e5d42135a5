"""TAEW2.1 (the TAEHV layout, madebyollin/taehv): strict loading of one file (.pth and .safetensors),
detection by keys and file name, one still image through the temporal blocks, the latent convention.
Its architecture contract class sits with the others in test_neural_archs.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.taehv_random import save_taehv, taehv_state_dict
from latent_upscale.latent_formats import FAMILIES
from latent_upscale.neural.archs import ARCHITECTURES, load_descriptor, load_weight_set, taehv
from latent_upscale.neural.archs.taehv_layers import apply_to_frames, decode_image
from latent_upscale.neural.state_dict import read_state_dict


@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    return taehv_state_dict(seed=4, dtype=torch.float32)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_the_published_file_loads_strictly_from_pth_and_safetensors(tmp_path: Path, suffix: str):
    path = save_taehv(tmp_path, seed=1, suffix=suffix)
    written = read_state_dict(path)
    assert len(written) == 128 and {key.split(".")[0] for key in written} == {"encoder", "decoder"}
    descriptor = load_weight_set([written], names=[path.name])
    assert (descriptor.arch, descriptor.name, descriptor.in_channels) == ("taehv", "TAEW2_1", 16)
    params = dict(descriptor.model.named_parameters())  # type: ignore[union-attr]
    assert torch.equal(params["decoder.22.weight"], written["decoder.22.weight"].float())
    assert torch.equal(params["encoder.2.conv.weight"], written["encoder.2.conv.weight"].float())


def test_only_taehv_claims_the_file_and_the_name_tells_taew2_1_from_other_checkpoints(state):
    assert [arch.ARCH_ID for arch in ARCHITECTURES if arch.detect(state)] == ["taehv"]
    for name in ("taew2_1.pth", "lighttaew2_1.safetensors", "renamed.sft", None):
        assert load_descriptor(state, name).name == "TAEW2_1", name
    others = (("taehv.pth", "taehv"), ("taehv1_5.safetensors", "taehv1_5"), ("taecvx.pth", "taecvx"))
    for name, checkpoint in others:
        with pytest.raises(LatentUpscaleError, match=f"TAEHV checkpoint {checkpoint}, for a video VAE"):
            load_descriptor(state, name)


def test_other_video_layouts_and_broken_files_are_clear_errors(state):
    patched = dict(state)  # taew2_2-like: 2×2 patches, 12 image-side channels
    patched["encoder.0.weight"] = torch.zeros(64, 12, 3, 3)
    patched["decoder.22.weight"], patched["decoder.22.bias"] = torch.zeros(12, 64, 3, 3), torch.zeros(12)
    with pytest.raises(LatentUpscaleError, match=r"2×2 pixel patches .*serves no family here"):
        load_descriptor(patched)
    wide = dict(state)
    wide["encoder.17.weight"], wide["encoder.17.bias"] = torch.zeros(48, 64, 3, 3), torch.zeros(48)
    with pytest.raises(LatentUpscaleError, match=r"48 latent channels: only TAEW2\.1's 16"):
        load_descriptor(wide)
    bad_pool = dict(state)
    bad_pool["encoder.7.conv.weight"] = torch.zeros(64, 192, 1, 1)
    with pytest.raises(LatentUpscaleError, match=r"encoder\.7 of shape \(64, 192, 1, 1\) is not a TAEHV"):
        load_descriptor(bad_pool)
    missing = {key: value for key, value in state.items() if key != "decoder.9.conv.2.bias"}
    with pytest.raises(LatentUpscaleError, match=r"looks like taew2_1 .*decoder\.9\.conv\.2\.bias"):
        load_descriptor(missing)


def test_a_stride_two_first_tgrow_is_cut_to_its_last_frames_rows():
    full = taehv_state_dict(seed=5, dtype=torch.float32, stride7_rows=512)
    descriptor = load_descriptor(full)
    loaded = dict(descriptor.model.named_parameters())["decoder.7.conv.weight"]  # type: ignore[union-attr]
    assert torch.equal(loaded, full["decoder.7.conv.weight"][256:])


def test_a_still_image_is_four_equal_frames_and_one_latent_frame(state):
    model = load_descriptor(state).model
    image = torch.rand(2, 3, 48, 40, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        latent = model.encode(image)
        # the shortcut (full-resolution layers once, then repeated) equals encoding four frames
        frames = image.unsqueeze(1).expand(-1, 4, -1, -1, -1).reshape(8, 3, 48, 40)
        reference = apply_to_frames(model.encoder, frames, batch=2)
    assert latent.shape == (2, 16, 6, 5)
    torch.testing.assert_close(latent, reference, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(latent[0], latent[1])  # each image of the batch is its own clip


def test_decoding_is_causal_and_keeps_the_last_of_four_frames(state):
    model = load_descriptor(state).model
    generator = torch.Generator().manual_seed(1)
    first, second = torch.randn(2, 1, 16, 5, 4, generator=generator)
    with torch.inference_mode():
        clip = apply_to_frames(model.decoder, torch.cat([first, second]), batch=1)  # 2 latent frames
        alone = apply_to_frames(model.decoder, first, batch=1)
        image = decode_image(model.decoder, first)
    assert clip.shape == (8, 3, 40, 32) and alone.shape == (4, 3, 40, 32)
    torch.testing.assert_close(clip[:4], alone)  # later latent frames never change earlier frames
    assert not torch.allclose(clip[4:], alone)
    torch.testing.assert_close(image, alone[3:])  # the image is the last frame (3 trimmed)


def test_the_convention_is_the_normalised_wan_latent_the_families_model_space():
    descriptor = load_descriptor(taehv_state_dict(seed=2, dtype=torch.float32))
    assert descriptor.convention == FAMILIES["wan"]
    assert descriptor.family == "wan" and not descriptor.convention.is_identity
    raw = torch.randn(1, 16, 2, 2) * 3 + 1
    normalised = descriptor.convention.from_raw(raw)
    mean = torch.tensor(FAMILIES["wan"].shift).view(1, 16, 1, 1)
    std = 1 / torch.tensor(FAMILIES["wan"].scale).view(1, 16, 1, 1)
    torch.testing.assert_close(normalised, (raw - mean) / std)
    # every family the registry serves with TAEW2.1 holds that same model space (one Wan 2.1 VAE)
    for family in taehv.served_families(taehv.VARIANT, taehv.DEFAULT_FAMILIES):
        assert FAMILIES[family] == descriptor.convention, family


def test_the_round_trip_resizes_one_frame_to_any_size(state):
    descriptor = load_descriptor(state)
    latent = torch.randn(1, 16, 7, 5, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        out = descriptor(latent, (11, 8))
        same = descriptor(latent, (7, 5))
    assert out.shape == (1, 16, 11, 8) and torch.isfinite(out).all()
    # at 1× the round trip is decode then encode of that image, not an identity
    image = descriptor.model.decode(latent).clamp(0, 1)  # type: ignore[union-attr]
    torch.testing.assert_close(same, descriptor.model.encode(image), rtol=1e-4, atol=1e-4)  # type: ignore[union-attr]
    assert taehv.variant_from_name("models/vae_approx/lighttaew2_1.safetensors") == "taew2_1"
