"""NNLatentUpscale's CPU fast paths (for speed) compute the published blocks' maths: attention as
stacked q/k/v products and blocks of queries (score, softmax, weighted sum) instead of the fused
``scaled_dot_product_attention``, and residual blocks with the embedding in the conv bias and the skip
added by the conv. Each is compared with the plain statement of the block, step by step."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from latent_upscale.lab.fixtures.random_weights import ttl_state_dict
from latent_upscale.neural.archs import ttl


def _model(channels: int = 64) -> ttl.TtlResizer:
    return ttl.load(ttl_state_dict(3, 3, channels=channels, seed=5)).model


def _plain_attention(block: ttl.AttentionBlock, x: Tensor) -> Tensor:
    """The published attention block: GroupNorm, three 1×1 convs, fused attention, projection, skip."""
    h = block.norm(x)
    batch, channels, height, width = h.shape

    def tokens(t: Tensor) -> Tensor:
        return t.flatten(2).transpose(1, 2).unsqueeze(1)

    attended = F.scaled_dot_product_attention(tokens(block.q(h)), tokens(block.k(h)), tokens(block.v(h)))
    attended = attended.squeeze(1).transpose(1, 2).reshape(batch, channels, height, width)
    return x + block.proj_out(attended)


def _plain_residual(block: ttl.ResidualBlock, x: Tensor, embedding: Tensor) -> Tensor:
    h = block.in_layers(x) + block.emb_layers(embedding)[:, :, None, None]
    return x + block.out_layers(h)


def _relative_error(ours: Tensor, plain: Tensor) -> float:
    return float((ours - plain).abs().max() / plain.abs().max())


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize(("batch", "size"), [(1, (24, 24)), (2, (13, 17)), (1, (96, 80))])
def test_blocked_attention_equals_the_fused_kernel_to_float_rounding(batch, size, layout, monkeypatch):
    model = _model()
    block = next(b for b in model.in_blocks if isinstance(b, ttl.AttentionBlock))
    # Small score blocks, so that several blocks of queries (and a short last one) are exercised.
    monkeypatch.setattr(ttl, "_QUERY_ROWS", 7)
    x = torch.randn(batch, 64, *size, generator=torch.Generator().manual_seed(batch)).contiguous(
        memory_format=layout
    )
    before = x.clone()
    with torch.inference_mode():
        assert ttl._blocked_attention_ok(x)
        ours = block(x)
        plain = _plain_attention(block, x)
    assert ours.shape == plain.shape
    assert _relative_error(ours, plain) < 2e-6
    assert torch.equal(x, before)


def test_attention_off_the_cpu_float32_path_is_the_fused_kernel() -> None:
    block = next(b for b in _model().in_blocks if isinstance(b, ttl.AttentionBlock))
    x = torch.randn(1, 64, 9, 11, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert not ttl._blocked_attention_ok(x.double())
        assert torch.equal(block.double()(x.double()), _plain_attention(block, x.double()))


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_residual_block_with_bias_folded_and_fused_skip_equals_the_plain_block(layout) -> None:
    model = _model()
    block = next(b for b in model.out_blocks if isinstance(b, ttl.ResidualBlock))
    embedding = model.embed(torch.tensor([[0.5]]))
    x = torch.randn(2, 64, 19, 23, generator=torch.Generator().manual_seed(2))
    x = x.contiguous(memory_format=layout)
    before = x.clone()
    with torch.inference_mode():
        ours = block(x, embedding)
        plain = _plain_residual(block, x, embedding)
    assert _relative_error(ours, plain) < 2e-6
    assert torch.equal(x, before)


def test_whole_network_on_the_fast_paths_equals_the_plain_blocks(monkeypatch) -> None:
    model = _model(32)
    x = torch.randn(1, 4, 20, 18, generator=torch.Generator().manual_seed(3)).contiguous(
        memory_format=torch.channels_last
    )
    with torch.inference_mode():
        ours = model(x, (30, 27))
    monkeypatch.setattr(ttl.AttentionBlock, "forward", _plain_attention)
    monkeypatch.setattr(ttl.ResidualBlock, "forward", _plain_residual)
    with torch.inference_mode():
        plain = model(x, (30, 27))
    assert _relative_error(ours, plain) < 1e-5


def test_fast_paths_are_on_where_this_torch_build_runs_them_exactly_enough() -> None:
    assert ttl._probe_fast_paths() is True
    assert ttl._FAST_PATHS is True


def test_a_torch_build_whose_onednn_product_fails_runs_the_published_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> Tensor:
        raise RuntimeError("mkldnn::_linear_pointwise: unsupported in this build")

    monkeypatch.setattr(ttl, "_onednn_linear", broken)
    assert ttl._probe_fast_paths() is False
    monkeypatch.setattr(ttl, "_FAST_PATHS", False)
    block = ttl.AttentionBlock(32).eval()
    x = torch.randn(1, 32, 5, 4)
    with torch.no_grad():
        assert torch.equal(block(x), _plain_attention(block, x))  # broken() was never called


def test_a_fast_path_that_disagrees_with_the_published_block_is_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = ttl._onednn_linear
    assert original is not None

    def off_by_a_little(*args: object) -> Tensor:
        return original(*args) * 1.01

    off_by_a_little.binary = original.binary  # type: ignore[attr-defined]
    monkeypatch.setattr(ttl, "_onednn_linear", off_by_a_little)
    assert ttl._probe_fast_paths() is False
