"""Overlapping tiles with a feathered blend, so large latents run in bounded memory.

Tiles are planned on the input grid and mapped to the output grid with the exact scale ratio. When
the ratio is a simple fraction (city96's 5/4, 3/2, 2/1, or a SesquiLSR target such as 96/64), tile
starts are aligned to its denominator, so every tile samples exactly the grid the whole image would.
Each tile's weight ramps from 0 to 1 across its overlap with a neighbour, starting ``margin`` output
pixels inside its edge; the blend divides by the summed weights. For a network whose receptive
field fits inside the margin (pure convolutions) the tiled result equals the untiled one up to
float rounding; networks with whole-image normalisation or attention agree closely, not exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import Tensor

from latent_upscale.neural.archs._grid import TileGrid

__all__ = ["Segment", "plan_axis", "run_tiled"]

#: Never align tiles to a denominator larger than this (the grid would barely shift anyway).
_MAX_ALIGN = 16


@dataclass(frozen=True)
class Segment:
    """One tile's extent along one axis, in input and output pixels (half-open)."""

    src_start: int
    src_stop: int
    out_start: int
    out_stop: int


def _alignment(ratio: Fraction, overlap: int) -> int:
    denominator = ratio.denominator
    return denominator if denominator <= min(_MAX_ALIGN, max(overlap // 2, 1)) else 1


def _greedy_starts(n_in: int, tile: int, overlap: int, align: int) -> list[int]:
    """Tile starts every ``tile - overlap`` pixels (aligned), the last one flush with the end."""
    step = max((tile - overlap) // align * align, align)
    last = (n_in - tile) // align * align
    starts = [0]
    while starts[-1] < last:
        starts.append(min(starts[-1] + step, last))
    return starts


def _covered(n_in: int, tile: int, starts: list[int]) -> int:
    """Input pixels the network runs on along this axis (overlaps counted twice): the cost."""
    return tile * (len(starts) - 1) + n_in - starts[-1]


def plan_axis(
    n_in: int,
    n_out: int,
    tile: int,
    overlap: int,
    ratio: Fraction | None = None,
    *,
    balance: bool = False,
) -> list[Segment]:
    """Cover ``[0, n_in)`` with tiles of about ``tile`` pixels overlapping by at least ``overlap``.

    ``ratio`` is the network's exact scale (city96's factor; by default ``n_out / n_in``): inner
    tile edges map to ``edge × ratio``, which is a whole pixel when tiles are aligned to its
    denominator; the last tile ends at ``n_out``. With ``balance`` (for networks whose tiled result
    equals the untiled one, so smaller tiles lose nothing), equal tiles just long enough for the
    same count replace full-size ones when the network then runs on fewer pixels: 512 pixels in
    tiles of 256 overlapping by 40 become 3 tiles of 198 (594 pixels run), not 3 of 256 (768).
    Networks that see the whole image keep full-size tiles: more context per tile.
    """
    if n_in <= tile:
        return [Segment(0, n_in, 0, n_out)]
    ratio = ratio if ratio is not None else Fraction(n_out, n_in)
    align = _alignment(ratio, overlap)
    tile = max(align, tile // align * align)
    count = math.ceil((n_in - overlap) / max(tile - overlap, 1))
    balanced = -(-math.ceil((n_in + (count - 1) * overlap) / max(count, 1)) // align) * align
    plans = [(tile, _greedy_starts(n_in, tile, overlap, align))]
    if balance and overlap < balanced < tile:
        plans.append((balanced, _greedy_starts(n_in, balanced, overlap, align)))
    length, starts = min(plans, key=lambda plan: _covered(n_in, *plan))
    segments = []
    for index, start in enumerate(starts):
        is_last = index == len(starts) - 1
        stop = n_in if is_last else start + length
        out_start = math.floor(start * ratio + Fraction(1, 2))
        out_stop = n_out if is_last else math.floor(stop * ratio + Fraction(1, 2))
        segments.append(Segment(start, stop, out_start, out_stop))
    return segments


def _ramp(
    length: int, at_start: bool, at_stop: bool, margin: int, feather: int, device: torch.device
) -> Tensor:
    """Weights along one axis of a tile: 0 within ``margin`` of an inner edge, then a linear ramp."""
    position = torch.arange(length, device=device, dtype=torch.float32) + 0.5
    weight = torch.ones(length, device=device)
    if not at_start:
        weight = weight * ((position - margin) / feather).clamp(0.0, 1.0)
    if not at_stop:
        weight = weight * ((length - position - margin) / feather).clamp(0.0, 1.0)
    return weight


def run_tiled(
    step: Callable[[Tensor, tuple[int, int], TileGrid | None], Tensor],
    x: Tensor,
    size: tuple[int, int],
    *,
    tile: int,
    overlap: int,
    margin: int,
    ratio: tuple[Fraction, Fraction] | None = None,
    balance: bool = False,
) -> tuple[Tensor, int]:
    """Apply ``step(x_tile, out_size_tile, grid)`` over overlapping tiles and blend to ``size``.

    ``overlap`` is in input pixels, ``margin`` in output pixels (how far inside a tile's inner edge
    its output is trusted). ``ratio`` is the exact per-axis scale of a fixed-factor network;
    ``balance`` as in :func:`plan_axis`. The blend accumulates in float32 whatever the model dtype.
    Returns the result and the tile count.
    """
    rows = plan_axis(x.shape[2], size[0], tile, overlap, ratio[0] if ratio else None, balance=balance)
    cols = plan_axis(x.shape[3], size[1], tile, overlap, ratio[1] if ratio else None, balance=balance)
    if len(rows) == 1 and len(cols) == 1:
        return step(x, size, None), 1
    full_src = (x.shape[2], x.shape[3])
    out = torch.zeros(x.shape[0], x.shape[1], *size, device=x.device, dtype=torch.float32)
    total = torch.zeros(1, 1, *size, device=x.device, dtype=torch.float32)

    def weights(segments: list[Segment], index: int) -> Tensor:
        segment = segments[index]
        length = segment.out_stop - segment.out_start
        neighbour_overlaps = []
        if index > 0:
            neighbour_overlaps.append(segments[index - 1].out_stop - segment.out_start)
        if index < len(segments) - 1:
            neighbour_overlaps.append(segment.out_stop - segments[index + 1].out_start)
        shortest = min(neighbour_overlaps) if neighbour_overlaps else length
        edge = min(margin, max((shortest - 1) // 2, 0))
        feather = max(shortest - 2 * edge, 1)
        return _ramp(length, index == 0, index == len(segments) - 1, edge, feather, x.device)

    for i, row in enumerate(rows):
        row_weight = weights(rows, i)
        for j, col in enumerate(cols):
            piece = x[:, :, row.src_start : row.src_stop, col.src_start : col.src_stop]
            tile_size = (row.out_stop - row.out_start, col.out_stop - col.out_start)
            grid = TileGrid(full_src, size, (row.src_start, col.src_start), (row.out_start, col.out_start))
            result = step(piece, tile_size, grid).float()
            if tuple(result.shape[-2:]) != tile_size:
                raise RuntimeError(f"tile produced {tuple(result.shape[-2:])}, expected {tile_size}")
            weight = (row_weight[:, None] * weights(cols, j)[None, :])[None, None]
            region = (
                slice(None),
                slice(None),
                slice(row.out_start, row.out_stop),
                slice(col.out_start, col.out_stop),
            )
            out[region] += result * weight
            total[region] += weight
    return (out / total.clamp_min(1e-12)).to(x.dtype), len(rows) * len(cols)
