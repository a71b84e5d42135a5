"""SesquiLSR's in-place forward (for speed) keeps the published float operations: the
same bits as the plain out-of-place statement of each step, and the caller's tensors untouched."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from latent_upscale.lab.fixtures.random_weights import sesqui_state_dict
from latent_upscale.neural.archs import sesqui


def _model(channels: int = 4) -> sesqui.SesquiUpscaler:
    return sesqui.load(sesqui_state_dict(channels, width=32, in_depth=2, out_depth=2, seed=3)).model


def _plain_block(block: sesqui.GatedBlock, x: Tensor) -> Tensor:
    """The published GatedWDSR step by step, every intermediate a new tensor."""
    var, mean = torch.var_mean(x, dim=(1, 2, 3), unbiased=False, keepdim=True)
    std = torch.sqrt(var + 1e-6)
    normalised = (x - mean) / std * block.norm.weight.view(1, -1, 1, 1)
    values, gates = torch.split(block.up(normalised), [block.value_channels, block.gate_channels], dim=1)
    values = F.mish(values)
    gates = torch.tanh(0.5 * gates)
    batch, _, height, width = values.shape
    grouped = values.view(batch, block.gate_channels, block.values_per_gate, height, width)
    gated = (grouped * gates[:, :, None]).reshape(batch, block.value_channels, height, width)
    return x + block.mix(block.down(gated)) * std


@pytest.mark.parametrize("batch", [1, 3])
def test_gated_block_in_place_gives_the_same_bits_as_the_plain_statement(batch: int) -> None:
    block = _model().in_blocks[0]
    x = torch.randn(batch, 32, 11, 13, generator=torch.Generator().manual_seed(batch))
    before = x.clone()
    with torch.inference_mode():
        ours = block(x)
        plain = _plain_block(block, x)
    assert torch.equal(ours, plain)
    assert torch.equal(x, before)  # the residual input is read, never overwritten


@pytest.mark.parametrize("size", [(20, 26), (16, 16), (13, 17)])
def test_whole_network_leaves_its_input_alone_and_is_deterministic(size: tuple[int, int]) -> None:
    model = _model()
    x = torch.randn(2, 4, 10, 13, generator=torch.Generator().manual_seed(0))
    before = x.clone()
    with torch.inference_mode():
        first = model(x, size)
        second = model(x, size)
    assert first.shape == (2, 4, *size)
    assert torch.equal(x, before)
    assert torch.equal(first, second)
    assert bool(torch.isfinite(first).all())


def _plain_filter(head: sesqui.ResamplingHead, x: Tensor, centres: Tensor, taps: Tensor, dim: int) -> Tensor:
    """The published resampling pass: gather the 4 taps with an expanded index, weight, sum."""
    n_out = centres.numel()
    index = (centres.unsqueeze(0) + head.tap_offsets.unsqueeze(1)).clamp(0, x.shape[dim] - 1)
    weights = taps.permute(1, 2, 0)  # [C, 4, n_out]
    if dim == 2:
        expanded = index.view(1, 1, -1, 1).expand(x.shape[0], x.shape[1], -1, x.shape[3])
        samples = torch.gather(x, 2, expanded).view(x.shape[0], x.shape[1], 4, n_out, x.shape[3])
        return (samples * weights.unsqueeze(-1)).sum(dim=2)
    expanded = index.view(1, 1, 1, -1).expand(x.shape[0], x.shape[1], x.shape[2], -1)
    samples = torch.gather(x, 3, expanded).view(x.shape[0], x.shape[1], x.shape[2], 4, n_out)
    return (samples * weights.unsqueeze(1)).sum(dim=3)


@pytest.mark.parametrize("dim", [2, 3])
def test_resampling_pass_matches_the_gather_formulation_bit_for_bit(dim: int) -> None:
    head = _model().upsample
    x = torch.randn(2, 32, 12, 14, generator=torch.Generator().manual_seed(dim))
    n_src = x.shape[dim]
    n_out = math.floor(n_src * 1.5)
    _phase, centres = head._sample_positions(n_src, n_out, x.device, None)
    taps = torch.randn(n_out, 32, 4, generator=torch.Generator().manual_seed(7))
    before = x.clone()
    with torch.inference_mode():
        assert torch.equal(head._filter(x, centres, taps, dim), _plain_filter(head, x, centres, taps, dim))
    assert torch.equal(x, before)
