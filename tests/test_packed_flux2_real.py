"""A FLUX.2 latent packed as Forge Neo and ComfyUI hold it, through every method with the real TAEF2
(``../shared/weights/taef2``; skipped where absent)."""

from __future__ import annotations

import math

import pytest
import torch

from latent_upscale import upscale, upscale_detailed
from latent_upscale.errors import WeightsUnavailableError
from latent_upscale.latent_layouts import pack_2x2, unpack_2x2
from latent_upscale.neural import NeuralOptions
from latent_upscale.neural.archs import tae
from latent_upscale.resize_methods import registered_methods
from tests.helpers.real_weights import photograph, require_taef2


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / float(((a.clamp(0, 1) - b.clamp(0, 1)) ** 2).mean()))


@pytest.fixture(scope="module")
def real():
    """The real TAEF2 pair, a 192² photograph and its 2×-smaller latent packed (128 channels, 6×6)."""
    folder = require_taef2()
    pair = tae.load_tiny_autoencoder(folder / "taef2_encoder.pth", folder / "taef2_decoder.pth")
    image = photograph("astronaut", side=192)
    small = torch.nn.functional.interpolate(image, size=(96, 96), mode="area")
    with torch.inference_mode():
        packed = pack_2x2(pair.encode(small))
    return folder, pair, image, packed.clone()


def _decode(pair, packed: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return pair.decode(unpack_2x2(packed.float()))


@pytest.mark.parametrize("method", [m.id for m in registered_methods()])
def test_every_method_takes_a_real_packed_flux2_latent_and_hands_it_back_packed(real, method):
    folder, pair, image, packed = real
    options = NeuralOptions(models_dir=folder, search_extension_models=False, progress=False)
    try:
        result = upscale_detailed(packed, (12, 12), method=method, family="flux2", neural=options)
    except WeightsUnavailableError:
        pytest.skip(f"{method}: no weights for FLUX.2 here")
    assert result.latent.shape == (1, 128, 12, 12) and bool(torch.isfinite(result.latent).all())
    assert result.steps[0] == "unpacked 2×2 (128 → 32 channels)"
    assert _psnr(_decode(pair, result.latent), image) > 15.0


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "nearest-exact"])
def test_resizing_unpacked_decodes_better_than_resizing_the_packed_channels(real, method):
    _, pair, image, packed = real
    ours = upscale(packed, (12, 12), method=method, family="flux2")
    hosts = upscale(packed, (12, 12), method=method)  # the packed channels as they are
    assert _psnr(_decode(pair, ours), image) > _psnr(_decode(pair, hosts), image) + 0.5


def test_tae_on_the_packed_latent_decodes_as_well_as_on_the_raw_one(real):
    folder, pair, image, packed = real
    options = NeuralOptions(models_dir=folder, search_extension_models=False, progress=False)
    on_packed = upscale(packed, (12, 12), method="tae", family="flux2", neural=options)
    on_raw = upscale(unpack_2x2(packed), (24, 24), method="tae", family="flux2", neural=options)
    assert torch.allclose(unpack_2x2(on_packed), on_raw, atol=1e-5)
    assert _psnr(_decode(pair, on_packed), image) == pytest.approx(
        _psnr(pair.decode(on_raw), image), abs=0.01
    )
