"""The fused oneDNN conv + ReLU path of city96 computes what the eager path computes, and steps aside
whenever it must (autograd, other dtypes, a switch, a torch without the kernel)."""

from __future__ import annotations

import pytest
import torch

from latent_upscale.bench.random_weights import city96_state_dict
from latent_upscale.neural import fused
from latent_upscale.neural.archs.city96 import load

needs_fused = pytest.mark.skipif(
    not fused.fused_conv_available(), reason="torch here has no usable fused oneDNN convolution"
)


@pytest.fixture
def fresh_availability():
    """Re-run the one-time self-check for this test, and again afterwards for the next ones."""
    fused.fused_conv_available.cache_clear()
    yield
    fused.fused_conv_available.cache_clear()


def _model(version: str):
    return load(city96_state_dict(version, seed=3)).model.to(memory_format=torch.channels_last)


@needs_fused
@pytest.mark.parametrize("version", ["2.1", "1.0"])
@pytest.mark.parametrize(
    ("shape", "factor"), [((1, 4, 16, 16), 2.0), ((2, 4, 11, 17), 1.5), ((1, 4, 9, 7), 1.25)]
)
def test_fused_city96_matches_the_eager_network(version, shape, factor):
    model = _model(version)
    latent = (torch.randn(*shape, generator=torch.Generator().manual_seed(1)) * 6).contiguous(
        memory_format=torch.channels_last
    )
    with torch.inference_mode():
        ours = model(latent, factor)
        with fused.disabled():
            eager = model(latent, factor)
    assert ours.shape == eager.shape == (shape[0], 4, int(shape[2] * factor), int(shape[3] * factor))
    torch.testing.assert_close(ours, eager, atol=1e-5, rtol=1e-5)


@needs_fused
def test_the_fused_kernel_is_used_in_inference_and_not_with_autograd():
    conv = _model("2.1").convs[1]
    latent = torch.randn(1, 64, 8, 8)
    with torch.inference_mode():
        assert fused.can_fuse(latent, conv)
        assert not fused.can_fuse(latent.double(), conv)
        with fused.disabled():
            assert not fused.can_fuse(latent, conv)
    assert not fused.can_fuse(latent, conv)  # grad mode: the eager path keeps autograd working
    model = _model("2.1").requires_grad_(True)
    out = model(torch.randn(1, 4, 8, 8, requires_grad=True), 2.0)
    out.sum().backward()
    assert model.convs[0].weight.grad is not None


def test_the_switch_turns_the_fused_kernel_off(monkeypatch, fresh_availability):
    monkeypatch.setenv(fused.DISABLE_ENV, "0")
    assert fused.fused_conv_available() is False
    conv = _model("2.1").convs[1]
    with torch.inference_mode():
        assert not fused.can_fuse(torch.randn(1, 64, 8, 8), conv)


def test_a_torch_without_the_kernel_falls_back_to_eager(monkeypatch, fresh_availability):
    monkeypatch.delenv(fused.DISABLE_ENV, raising=False)
    monkeypatch.setattr(fused, "_operator", lambda: None)
    assert fused.fused_conv_available() is False
    model = _model("2.1")
    with torch.inference_mode():
        assert model(torch.randn(1, 4, 8, 8), 2.0).shape == (1, 4, 16, 16)


def test_a_kernel_that_disagrees_is_not_used(monkeypatch, fresh_availability):
    monkeypatch.delenv(fused.DISABLE_ENV, raising=False)

    def wrong(x, weight, bias, *args):
        return torch.zeros(x.shape[0], weight.shape[0], x.shape[2], x.shape[3])

    monkeypatch.setattr(fused, "_operator", lambda: wrong)
    assert fused.fused_conv_available() is False
