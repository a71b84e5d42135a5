"""The neural room's packaging: cheap imports, registration, options and latent formats."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import latent_upscale
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import FAMILIES, resolve_latent_format
from latent_upscale.neural import NeuralOptions
from latent_upscale.resize_methods import get_method

REPO = Path(__file__).resolve().parents[1]


def test_neural_is_a_registered_method_that_loads_its_runner_lazily():
    method = get_method("neural")
    assert method.neural and method.label == "Neural (learned upscaler)"
    assert "neural" in latent_upscale.methods()
    assert latent_upscale.neural.unload() >= 0
    assert callable(latent_upscale.neural.list_models) and callable(latent_upscale.neural.describe)
    with pytest.raises(AttributeError):
        _ = latent_upscale.neural.no_such_name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"precision": "fp8"}, "unknown neural precision 'fp8'"),
        ({"tile_size": -1}, "tile_size must be None"),
        ({"tile_size": 8}, "at least 16"),
        ({"factor": 0.5}, "factor must be a number above 1"),
        ({"hf_repo_id": "no-slash"}, "owner/name"),
    ],
)
def test_bad_options_are_refused_with_the_accepted_values(changes: dict, message: str):
    with pytest.raises(LatentUpscaleError, match=message):
        NeuralOptions(**changes)


def test_models_dir_accepts_one_path_or_several_and_offline_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    assert NeuralOptions(models_dir="a").caller_models_dirs == (Path("a"),)
    assert NeuralOptions(models_dir=["a", Path("b")]).caller_models_dirs == (Path("a"), Path("b"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert (
        NeuralOptions(allow_download=True).is_offline and not NeuralOptions(allow_download=True).may_download
    )
    assert not NeuralOptions(offline=False).is_offline
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert NeuralOptions(allow_download=True).may_download


def test_wan_family_is_normalised_per_channel_with_the_wan21_vae_statistics():
    fmt = FAMILIES["wan"]
    assert len(fmt.scale) == 16 and len(fmt.shift) == 16
    assert fmt.shift[0] == pytest.approx(-0.7571) and 1 / fmt.scale[0] == pytest.approx(2.8184)
    raw = torch.randn(1, 16, 4, 4)
    scaled = fmt.from_raw(raw)
    expected = (raw - torch.tensor(fmt.shift).view(1, -1, 1, 1)) / (
        1 / torch.tensor(fmt.scale).view(1, -1, 1, 1)
    )
    torch.testing.assert_close(scaled, expected)
    torch.testing.assert_close(fmt.to_raw(scaled), raw, rtol=1e-5, atol=1e-5)


def test_flux2_family_is_the_raw_32_channel_latent():
    assert resolve_latent_format("scaled", "flux2").is_identity


def test_every_served_family_is_recognised_from_a_weights_file_name_by_its_registry_id():
    from latent_upscale.families import FAMILY_IDS, FAMILY_LIST
    from latent_upscale.neural.catalog import hints_from_filename

    for family in FAMILY_LIST:
        if family.weights:  # a family no weights serve is never named by a weights file
            assert hints_from_filename(f"my_{family.id}_upscaler.safetensors").family == family.id
    aliases = {"flux.2": "flux2", "qwen": "wan", "sd15": "sd1", "sdv1": "sd1"}
    for word, family_id in aliases.items():
        assert family_id in FAMILY_IDS
        assert hints_from_filename(f"upscaler-{word}.pt").family == family_id
    assert hints_from_filename("upscaler.pt").family is None
