"""SesquiLSR: a multi-scale latent upscaler that takes any target size from 1× to 2×.

Original project: https://github.com/LoganBooker/SesquiLSR (``sesqui_lsr/upscaler.py``), MIT licence;
weights in its ``models/`` folder (``upscaler_SDXL``, ``upscaler_Flux``, ``upscaler_Wan21``,
``upscaler_Flux2`` ``.safetensors``). This module is our own implementation written against the
published key layout and numerics, so the original files load with ``strict=True`` and give the same
output:

* ``head_conv`` (3×3 reflect conv → Mish → 3×3 reflect conv), ``in_blocks`` of gated WDSR residual
  blocks, an ``upsample`` head (pixel shuffle to 2× plus a learned lift, a refine block, then a
  learned separable 4-tap resampling from the 2× grid to the exact target whose taps a small MLP
  predicts from the sub-pixel phase and the scale; rank 2), ``out_blocks``, ``tail_conv`` and a
  ``skip_conv`` over a bicubic upsample of the input.
* The normalisation ("IR LayerNorm", no bias) uses the mean and variance over channels *and* the
  whole image, so tiled runs only approximate untiled ones.
* ``upsample.pe.freqs`` is a persistent buffer (it is in the files); the tap offsets are not.

Every channel count is read from the tensor shapes, so any ``in_channels`` (4 for SDXL, 16 for
Flux/Wan, 32 for Flux.2) and width load. Trained on raw VAE latents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural.archs._grid import TileGrid, head_positions, log2_footprint, resample_separable
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = ["ARCH_ID", "SIGNATURE_KEYS", "SesquiUpscaler", "detect", "load"]

ARCH_ID = "sesqui"
NAME = "SesquiLSR"
#: Detected before these architectures.
BEFORE: tuple[str, ...] = ("ttl", "city96")
SIGNATURE_KEYS = (
    "head_conv.0.weight",
    "head_conv.2.weight",
    "upsample.base_taps",
    "upsample.ps_expand.weight",
    "tail_conv.2.weight",
    "skip_conv.weight",
)
#: The learned resampler reads 4 source rows/columns around each target position.
_TAP_OFFSETS = (-1, 0, 1, 2)
_NORM_EPS = 1e-6
_BLOCK_KEY = re.compile(r"^(in_blocks|out_blocks)\.(\d+)\.")


def _reflect_conv(in_channels: int, out_channels: int, kernel: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(
        in_channels, out_channels, kernel, padding=kernel // 2, padding_mode="reflect", bias=bias
    )


class GatedBlock(nn.Module):
    """Residual block: whole-image normalisation, 1×1 expand into values and gates (each gate scales
    ``values_per_gate`` values), Mish on values, ``tanh(g/2)`` gates, 1×1 shrink, 3×3 reflect mix,
    added back scaled by the input's standard deviation."""

    def __init__(self, channels: int, value_channels: int, gate_channels: int, mid_channels: int) -> None:
        super().__init__()
        if gate_channels <= 0 or value_channels % gate_channels:
            raise ValueError("value channels must be a whole multiple of gate channels")
        self.value_channels = value_channels
        self.gate_channels = gate_channels
        self.values_per_gate = value_channels // gate_channels
        self.norm = _WholeImageNorm(channels)
        self.up = nn.Conv2d(channels, value_channels + gate_channels, 1, bias=False)
        self.down = nn.Conv2d(value_channels, mid_channels, 1, bias=False)
        self.mix = _reflect_conv(mid_channels, channels, 3, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        # The published block's float operations in the same order, but in place on fresh
        # intermediates: half the full-size allocations (each a page-faulting mmap on CPU).
        normalised, std = self.norm(x)
        values, gates = torch.split(self.up(normalised), [self.value_channels, self.gate_channels], dim=1)
        del normalised
        batch, _, height, width = values.shape
        gates = gates.mul_(0.5).tanh_().unsqueeze(2)
        grouped = F.mish(values, inplace=True).view(
            batch, self.gate_channels, self.values_per_gate, height, width
        )
        gated = grouped.mul_(gates).view(batch, self.value_channels, height, width)
        return self.mix(self.down(gated)).mul_(std).add_(x)  # x + mix * std: the same sum


class _WholeImageNorm(nn.Module):
    """Normalise by mean/std over (C, H, W) per sample, scale per channel, no bias; also return std."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        var, mean = torch.var_mean(x, dim=(1, 2, 3), unbiased=False, keepdim=True)
        std = torch.sqrt(var + _NORM_EPS)
        return (x - mean).div_(std).mul_(self.weight.view(1, -1, 1, 1)), std


class _PhaseEncoding(nn.Module):
    """sin/cos of the sub-pixel phase at a few frequencies (``freqs`` is stored in the files)."""

    def __init__(self, n_freqs: int) -> None:
        super().__init__()
        self.register_buffer("freqs", torch.ones(n_freqs))

    def forward(self, phase: Tensor) -> Tensor:
        angles = phase.unsqueeze(-1) * self.freqs * math.pi
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ResamplingHead(nn.Module):
    """Pixel shuffle to 2×, then a learned separable 4-tap resampling to the exact target size."""

    def __init__(
        self,
        channels: int,
        lift_channels: int,
        refine: GatedBlock,
        rank: int,
        n_freqs: int,
        axis_dim: int,
        rank_dim: int,
        filter_hidden: int,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.rank = rank
        self.taps = len(_TAP_OFFSETS)
        self.ps_expand = nn.Conv2d(channels, channels * 4, 1, bias=True)
        self.lift_expand = nn.Conv2d(channels, lift_channels * 4, 1, bias=False)
        self.lift_mix = _reflect_conv(lift_channels, channels, 3, bias=False)
        self.refine = refine
        self.base_taps = nn.Parameter(torch.zeros(rank, 2, channels, self.taps))
        self.pe = _PhaseEncoding(n_freqs)
        self.axis_emb = nn.Embedding(2, axis_dim)
        self.rank_emb = nn.Embedding(rank, rank_dim)
        self.filter_net = nn.Sequential(
            nn.Linear(2 * n_freqs + 1 + axis_dim + rank_dim, filter_hidden),
            nn.Mish(),
            nn.Linear(filter_hidden, channels * self.taps),
        )
        self.rank_gain = nn.Parameter(torch.zeros(rank))
        self.register_buffer("tap_offsets", torch.tensor(_TAP_OFFSETS), persistent=False)

    @staticmethod
    def _sample_positions(
        n_src: int, n_out: int, device: torch.device, tile: tuple[int, int, int, int] | None
    ) -> tuple[Tensor, Tensor]:
        """Half-pixel-centred source positions: the integer tap centre and the phase in [0, 1)."""
        pos = head_positions(n_out, n_src, n_out, device, tile)
        centre = torch.floor(pos).long().clamp_(0, n_src - 1)
        return pos - centre.float(), centre

    def _axis_taps(
        self, phase_y: Tensor, phase_x: Tensor, foot_y: float, foot_x: float
    ) -> tuple[Tensor, Tensor]:
        """Per-rank, per-channel 4-tap filters for every output row and column: ``[R, n, C, 4]``."""
        n_y = phase_y.numel()
        n_axis = n_y + phase_x.numel()
        device = phase_y.device
        foot = torch.full((n_axis, 1), foot_x, device=device, dtype=phase_y.dtype)
        foot[:n_y] = foot_y
        axis = (torch.arange(n_axis, device=device) >= n_y).long()
        per_axis = torch.cat([self.pe(torch.cat([phase_y, phase_x])), foot, self.axis_emb(axis)], dim=-1)
        ranks = torch.arange(self.rank, device=device).repeat_interleave(n_axis)
        cond = torch.cat([per_axis.repeat(self.rank, 1), self.rank_emb(ranks)], dim=-1)
        cond = cond.to(self.base_taps.dtype)
        residual = 0.2 * torch.tanh(self.filter_net(cond).view(self.rank, n_axis, self.channels, self.taps))
        residual = residual - residual.mean(dim=-1, keepdim=True)  # residual taps keep the DC gain
        taps_y = residual[:, :n_y] + self.base_taps[:, 0].unsqueeze(1)
        taps_x = residual[:, n_y:] + self.base_taps[:, 1].unsqueeze(1)
        return taps_y, taps_x

    def _filter(self, x: Tensor, centres: Tensor, taps: Tensor, dim: int) -> Tensor:
        """Resample ``x`` along ``dim`` (2 rows, 3 columns) with per-channel taps ``[n_out, C, 4]``."""
        n_out = centres.numel()
        index = (centres.unsqueeze(0) + self.tap_offsets.unsqueeze(1)).clamp(0, x.shape[dim] - 1)
        flat = index.reshape(-1)  # tap-major: [.., 4 * n_out, ..]
        if dim == 3:
            # index_select along the last dimension takes a slow CPU path (3.5-10× slower at 192-256
            # columns); gather with an expanded index copies the same values (as the original does).
            samples = x.gather(3, flat.view(1, 1, 1, -1).expand(*x.shape[:3], flat.numel()))
        else:
            samples = x.index_select(dim, flat)
        weights = taps.permute(1, 2, 0)  # [C, 4, n_out]
        if dim == 2:
            samples = samples.unflatten(2, (self.taps, n_out))  # [B, C, 4, n_out, W]
            return samples.mul_(weights.unsqueeze(-1)).sum(dim=2)
        samples = samples.unflatten(3, (self.taps, n_out))  # [B, C, H, 4, n_out]
        return samples.mul_(weights.unsqueeze(1)).sum(dim=3)

    def forward(
        self,
        x: Tensor,
        size: tuple[int, int],
        foot: tuple[float, float] | None = None,
        grid: TileGrid | None = None,
    ) -> Tensor:
        x = F.pixel_shuffle(self.ps_expand(x), 2).add_(self.lift_mix(F.pixel_shuffle(self.lift_expand(x), 2)))
        x = self.refine(x)
        h_src, w_src = x.shape[-2:]
        tile_y = tile_x = None
        if grid is not None:  # positions on the whole image's 2× grid, shifted into this tile
            tile_y = (2 * grid.full_src[0], grid.full_out[0], grid.out_offset[0], 2 * grid.src_offset[0])
            tile_x = (2 * grid.full_src[1], grid.full_out[1], grid.out_offset[1], 2 * grid.src_offset[1])
        phase_y, centre_y = self._sample_positions(h_src, size[0], x.device, tile_y)
        phase_x, centre_x = self._sample_positions(w_src, size[1], x.device, tile_x)
        if foot is None:
            # log2 of the source-grid footprint per output pixel (1 = plain 1× of the input, 0 = 2×).
            foot = (log2_footprint(h_src, size[0]), log2_footprint(w_src, size[1]))
        taps_y, taps_x = self._axis_taps(phase_y, phase_x, *foot)
        gains = self.rank_gain.sigmoid()
        out = None
        for r in range(self.rank):
            resampled = self._filter(self._filter(x, centre_x, taps_x[r], dim=3), centre_y, taps_y[r], dim=2)
            out = gains[r] * resampled if out is None else out + gains[r] * resampled
        assert out is not None
        return out


class SesquiUpscaler(nn.Module):
    """The whole network: ``forward(x, (height, width))`` with the target between 1× and 2× the input."""

    def __init__(
        self,
        in_channels: int,
        width: int,
        in_blocks: list[GatedBlock],
        head: ResamplingHead,
        out_blocks: list[GatedBlock],
    ) -> None:
        super().__init__()
        self.head_conv = nn.Sequential(
            _reflect_conv(in_channels, width // 2, 3, bias=False),
            nn.Mish(inplace=True),  # on the conv's fresh output: no extra tensor
            _reflect_conv(width // 2, width, 3, True),
        )
        self.in_blocks = nn.Sequential(*in_blocks)
        self.upsample = head
        self.out_blocks = nn.Sequential(*out_blocks)
        self.tail_conv = nn.Sequential(
            nn.Conv2d(width, width // 2, 1, bias=False),
            nn.Mish(inplace=True),
            _reflect_conv(width // 2, in_channels, 3, True),
        )
        self.skip_conv = _reflect_conv(in_channels, in_channels, 5, bias=False)

    def forward(self, x: Tensor, size: tuple[int, int], grid: TileGrid | None = None) -> Tensor:
        """Resize ``x`` to ``size``; ``grid`` places a tile in the whole image (see ``_grid``)."""
        foot = None
        if grid is not None:  # the whole image's scale code, so every tile is conditioned alike
            foot = (
                log2_footprint(2 * grid.full_src[0], grid.full_out[0]),
                log2_footprint(2 * grid.full_src[1], grid.full_out[1]),
            )
        h = self.out_blocks(self.upsample(self.in_blocks(self.head_conv(x)), size, foot, grid))
        if grid is None:
            upsampled = F.interpolate(x, size=size, mode="bicubic", align_corners=False)
        else:
            upsampled = resample_separable(x, "bicubic", size, grid)
        return self.tail_conv(h).add_(self.skip_conv(upsampled))


def forward(
    model: nn.Module, x: Tensor, size: tuple[int, int], grid: TileGrid | None, factor: float | None
) -> Tensor:
    """The descriptor's call: resize to ``size`` (any scale 1-2×)."""
    return model(x, size, grid)


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True when SesquiLSR's signature tensors are present (may be a false positive)."""
    return all(key in state_dict for key in SIGNATURE_KEYS)


def _shape(state_dict: Mapping[str, Tensor], key: str, dims: int) -> tuple[int, ...]:
    tensor = state_dict.get(key)
    if tensor is None:
        raise LatentUpscaleError(f"SesquiLSR: missing tensor {key!r}")
    if tensor.dim() != dims:
        raise LatentUpscaleError(f"SesquiLSR: {key} should be {dims}-D, found shape {tuple(tensor.shape)}")
    return tuple(int(d) for d in tensor.shape)


def _gated_block(state_dict: Mapping[str, Tensor], prefix: str) -> GatedBlock:
    channels = _shape(state_dict, f"{prefix}.norm.weight", 1)[0]
    hidden = _shape(state_dict, f"{prefix}.up.weight", 4)[0]
    mid, value = _shape(state_dict, f"{prefix}.down.weight", 4)[:2]
    gate = hidden - value
    if gate <= 0 or value % gate:
        raise LatentUpscaleError(
            f"SesquiLSR: {prefix} has {hidden} expanded channels and {value} value channels; "
            "values must be a whole multiple of the remaining gate channels"
        )
    return GatedBlock(channels, value, gate, mid)


def _block_count(state_dict: Mapping[str, Tensor], group: str) -> int:
    indices = {int(m.group(2)) for key in state_dict if (m := _BLOCK_KEY.match(key)) and m.group(1) == group}
    if indices != set(range(len(indices))):
        raise LatentUpscaleError(f"SesquiLSR: {group} indices {sorted(indices)} are not 0..N-1")
    return len(indices)


def load(state_dict: Mapping[str, Tensor]) -> ModelDescriptor:
    """Read every width and depth from the tensor shapes, load strictly and describe the model."""
    half_width, in_channels = _shape(state_dict, "head_conv.0.weight", 4)[:2]
    width = _shape(state_dict, "head_conv.2.weight", 4)[0]
    rank, axes, channels, taps = _shape(state_dict, "upsample.base_taps", 4)
    if taps != len(_TAP_OFFSETS) or axes != 2 or channels != width:
        raise LatentUpscaleError(
            f"SesquiLSR: upsample.base_taps should be [rank, 2, {width}, 4], found "
            f"{[rank, axes, channels, taps]}"
        )
    lift_channels = _shape(state_dict, "upsample.lift_mix.weight", 4)[1]
    filter_hidden = _shape(state_dict, "upsample.filter_net.0.weight", 2)[0]
    head = ResamplingHead(
        channels=width,
        lift_channels=lift_channels,
        refine=_gated_block(state_dict, "upsample.refine"),
        rank=rank,
        n_freqs=_shape(state_dict, "upsample.pe.freqs", 1)[0],
        axis_dim=_shape(state_dict, "upsample.axis_emb.weight", 2)[1],
        rank_dim=_shape(state_dict, "upsample.rank_emb.weight", 2)[1],
        filter_hidden=filter_hidden,
    )
    in_depth = _block_count(state_dict, "in_blocks")
    out_depth = _block_count(state_dict, "out_blocks")
    model = SesquiUpscaler(
        in_channels=in_channels,
        width=width,
        in_blocks=[_gated_block(state_dict, f"in_blocks.{i}") for i in range(in_depth)],
        head=head,
        out_blocks=[_gated_block(state_dict, f"out_blocks.{i}") for i in range(out_depth)],
    )
    if half_width != width // 2:
        raise LatentUpscaleError(f"SesquiLSR: head_conv.0 has {half_width} channels, expected {width // 2}")
    model.load_state_dict(dict(state_dict), strict=True)
    return ModelDescriptor(
        arch=ARCH_ID,
        name=NAME,
        version="",
        family=None,
        in_channels=in_channels,
        out_channels=in_channels,
        convention=LatentFormat(),
        factors=(),
        scale_range=(1.0, 2.0),
        supports_fp16=True,
        supports_bf16=True,
        preferred_half="bf16",  # the ComfyUI node prefers bf16 and falls back to fp16
        receptive_radius=None,  # whole-image normalisation
        min_input_size=3,  # reflect padding of the 5×5 skip conv needs more than 2 pixels
        auto_tile_output_pixels=384 * 384,
        channels_last=False,  # measured no gain on CPU (gathers and 1×1 convs dominate)
        hyperparameters={
            "in_channels": in_channels,
            "width": width,
            "in_depth": in_depth,
            "out_depth": out_depth,
            "rank": rank,
            "lift_channels": lift_channels,
            "filter_hidden": filter_hidden,
        },
        model=model.eval().requires_grad_(False),
        forward=forward,
        tile_tolerance=1e-3,  # whole-image normalisation: tiles agree closely, not exactly
    )
