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


def _index_select_filter(
    head: sesqui.ResamplingHead, x: Tensor, centres: Tensor, taps: Tensor, dim: int
) -> Tensor:
    """The former formulation (index_select on both axes), a second reference."""
    n_out = centres.numel()
    index = (centres.unsqueeze(0) + head.tap_offsets.unsqueeze(1)).clamp(0, x.shape[dim] - 1)
    samples = x.index_select(dim, index.reshape(-1))
    weights = taps.permute(1, 2, 0)
    if dim == 2:
        return (samples.unflatten(2, (head.taps, n_out)) * weights.unsqueeze(-1)).sum(dim=2)
    return (samples.unflatten(3, (head.taps, n_out)) * weights.unsqueeze(1)).sum(dim=3)


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
        ours = head._filter(x, centres, taps, dim)
        assert torch.equal(ours, _plain_filter(head, x, centres, taps, dim))
        assert torch.equal(ours, _index_select_filter(head, x, centres, taps, dim))
    assert torch.equal(x, before)


@pytest.mark.parametrize(("size", "target"), [((16, 24), (24, 36)), ((17, 13), (33, 19)), ((8, 8), (16, 16))])
def test_resampling_pass_with_the_networks_own_taps_matches_both_formulations_at_any_ratio(size, target):
    # Merged from test_neural_bad_input.py (the index_select check): the taps the network computes for
    # each rank, on both axes, at integer and non-integer ratios, and the whole network's output size.
    model = sesqui.load(sesqui_state_dict(4, width=16, in_depth=1, out_depth=1)).model
    head = model.upsample
    x = torch.randn(2, 16, 2 * size[0], 2 * size[1], generator=torch.Generator().manual_seed(1))
    phase_x, centre_x = head._sample_positions(x.shape[3], target[1], x.device, None)
    phase_y, centre_y = head._sample_positions(x.shape[2], target[0], x.device, None)
    taps_y, taps_x = head._axis_taps(phase_y, phase_x, 0.5, 0.5)
    for r in range(head.rank):
        for dim, centres, taps in ((3, centre_x, taps_x[r]), (2, centre_y, taps_y[r])):
            ours = head._filter(x, centres, taps, dim)
            assert torch.equal(ours, _index_select_filter(head, x, centres, taps, dim)), (r, dim)
            assert torch.equal(ours, _plain_filter(head, x, centres, taps, dim)), (r, dim)
    with torch.inference_mode():
        assert model(torch.randn(1, 4, *size), target).shape == (1, 4, *target)
