"""The architecture contract fits a tiny-autoencoder round trip: a weight set of TWO files (decoder +
encoder), any scale, inexact tiles (GroupNorm), so adding TAESD is one module, one registry line and
its test class. Proved here with a stand-in architecture module defined in this test (not TAESD)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.random_weights import save_safetensors
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural import archs, unload
from latent_upscale.neural.descriptor import ModelDescriptor
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.runner import load_model
from tests.helpers.neural_arch_contract import ArchitectureContract


class _RoundTrip(nn.Module):
    """decode (conv 4→8 + GroupNorm) → resize the image ×8 → encode (conv 8→4, stride 8)."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = nn.ModuleDict({"conv": nn.Conv2d(4, 8, 3, padding=1), "norm": nn.GroupNorm(2, 8)})
        self.encoder = nn.ModuleDict({"conv": nn.Conv2d(8, 4, 8, stride=8)})

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        image = self.decoder["norm"](self.decoder["conv"](x))
        image = F.interpolate(image, size=(8 * size[0], 8 * size[1]), mode="bilinear")
        return self.encoder["conv"](image)


def _forward(
    model: nn.Module, x: Tensor, size: tuple[int, int], grid: object, factor: float | None
) -> Tensor:
    return model(x, size)


def _make_module() -> ModuleType:
    module = ModuleType("pair_arch")
    module.ARCH_ID = "pair"
    module.NAME = "Pair round trip"
    module.SIGNATURE_KEYS = ("decoder.conv.weight", "encoder.conv.weight")
    module.BEFORE = ()
    module.PARTS = ("decoder", "encoder")

    def detect(state: Mapping[str, Tensor]) -> bool:
        return bool(state) and all(key.startswith(("decoder.", "encoder.")) for key in state)

    def part_of(state: Mapping[str, Tensor]) -> str:
        return "decoder" if any(key.startswith("decoder.") for key in state) else "encoder"

    def load_parts(
        parts: Mapping[str, Mapping[str, Tensor]], names: Mapping[str, str | None] | None = None
    ) -> ModelDescriptor:
        model = _RoundTrip()
        model.load_state_dict({**parts["decoder"], **parts["encoder"]}, strict=True)
        return ModelDescriptor(
            arch="pair",
            name="Pair round trip",
            version="",
            family=None,
            in_channels=4,
            out_channels=4,
            convention=LatentFormat(),
            scale_range=(0.25, 2.0),
            supports_bf16=True,
            receptive_radius=None,  # GroupNorm sees the whole image: tiles are inexact
            channels_last=False,
            model=model.eval().requires_grad_(False),
            forward=_forward,
            tile_tolerance=0.3,  # stand-in: ignores the tile grid, and GroupNorm sees each tile
        )

    module.detect, module.part_of, module.load_parts = detect, part_of, load_parts
    return module


PAIR = _make_module()


def _pair_weights() -> dict[str, dict[str, Tensor]]:
    state = {key: value.clone() for key, value in _RoundTrip().state_dict().items()}
    return {
        "decoder": {k: v for k, v in state.items() if k.startswith("decoder.")},
        "encoder": {k: v for k, v in state.items() if k.startswith("encoder.")},
    }


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch):
    # What the one registry line does: add the module to REGISTERED (detection order from BEFORE).
    monkeypatch.setattr(archs, "ARCHITECTURES", archs.order_by_before((*archs.REGISTERED, PAIR)))
    monkeypatch.setitem(sys.modules, "pair_arch", PAIR)
    yield
    unload()


class TestPairContract(ArchitectureContract):
    arch = PAIR
    target = (91, 67)

    def random_weights(self):
        return _pair_weights()


def test_a_weight_set_of_two_files_loads_as_one_descriptor_through_the_runner(tmp_path: Path):
    weights = _pair_weights()
    decoder = save_safetensors(weights["decoder"], tmp_path / "pair_decoder.safetensors")
    encoder = save_safetensors(weights["encoder"], tmp_path / "pair_encoder.safetensors")
    descriptor, dtype = load_model([encoder, decoder], NeuralOptions(), torch.device("cpu"))
    out = descriptor(torch.randn(1, 4, 10, 12), (15, 7))  # any scale, even shrinking one axis
    assert out.shape == (1, 4, 15, 7) and dtype == torch.float32
    with pytest.raises(
        LatentUpscaleError, match="decoder of a Pair round trip weight set; it needs its encoder"
    ):
        load_model(decoder, NeuralOptions(), torch.device("cpu"))
    with pytest.raises(LatentUpscaleError, match="two files are the decoder"):
        archs.load_weight_set([weights["decoder"], weights["decoder"]])
