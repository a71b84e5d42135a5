"""Run a tiny autoencoder's layers stage by stage, each large stage in horizontal strips.

A stage is a run of 3×3 convolutions (stride 1, or one stride-2 conv ending it), nearest ×2
upsampling (starting it) and element-wise layers. Each strip is computed from its input rows plus
the rows of context its receptive field needs (``halo``: 1 per 3×3 conv), zero padding only at the
image's real edges, and the rows that context made inexact are cropped after every layer. Every kept
value is therefore computed from the same inputs and weights as in a whole-image run, with a peak
bounded by the strip instead of the image. The convolution library may block a strip's shape
differently from the whole image's, so values agree to float rounding (they were bit-identical for
TAESD at SD1 and SDXL sizes and the real TAEF2 weights; a strip of a few rows differed by 1.6e-7).
Strips are equal in height, so none is a sliver. Layers that see the whole image (the GroupNorm side
branch) run whole, as do stages whose activations are small.

Layers declare what strips need through ``strip_halo`` (rows of context each side, ``None``: not
separable), or are ``nn.Conv2d`` (3×3, padding 1), ``nn.ReLU`` or ``nn.Upsample`` (nearest, ×2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["STRIP_BYTES", "run_stages", "strip_rows"]

#: Largest activation a strip may hold (bytes): strips hold a few such tensors at once, so a strip's
#: convolution reads and writes within a CPU's last-level cache instead of main memory. Measured on a
#: 2-core AMD EPYC with a 32 MiB L3 (random TAESD weights, float32, idle, interleaved): SD1 512 → 1024
#: px 1.40 s at 20 MiB, 1.43 s at 16, 1.46 s at 24, 1.97 s at 32 (the whole image: 2.0 s); SDXL
#: 1024 → 2048 px 6.1 s at 24 MiB, 6.4 s at 16, 7.8 s at 32.
STRIP_BYTES = 20 * 2**20
#: Fewest output rows per strip: below this the context rows cost more than the cache saves (each 3×3
#: conv adds a row each side; SDXL's 2048-px-wide stages hit this floor).
_MIN_ROWS = 24


def _kind(layer: nn.Module) -> tuple[str, int] | None:
    """``("same", halo)``, ``("down", 1)``, ``("up", 0)``, or None (not separable into strips)."""
    if isinstance(layer, nn.Conv2d):
        if layer.kernel_size != (3, 3) or layer.padding != (1, 1) or layer.dilation != (1, 1):
            return None
        return ("same", 1) if layer.stride == (1, 1) else ("down", 1) if layer.stride == (2, 2) else None
    if isinstance(layer, nn.ReLU):
        return ("same", 0)
    if isinstance(layer, nn.Upsample):
        nearest_2x = layer.mode == "nearest" and layer.scale_factor in (2, 2.0, (2.0, 2.0))
        return ("up", 0) if nearest_2x and layer.size is None else None
    halo = getattr(layer, "strip_halo", None)
    return ("same", int(halo)) if halo is not None else None


def _stages(layers: Sequence[nn.Module]) -> list[list[nn.Module]]:
    """Split after each stride-2 conv and before each upsampling; lone inseparable layers."""
    stages: list[list[nn.Module]] = []
    current: list[nn.Module] = []
    for layer in layers:
        kind = _kind(layer)
        if kind is None or kind[0] == "up":
            if current:
                stages.append(current)
            current = []
            if kind is None:
                stages.append([layer])
                continue
        current.append(layer)
        if kind[0] == "down":
            stages.append(current)
            current = []
    if current:
        stages.append(current)
    return stages


def _out_rows(kind: str, rows: int) -> int:
    return {"same": rows, "down": (rows + 1) // 2, "up": 2 * rows}[kind]


def _need(kind: str, halo: int, lo: int, hi: int, rows_in: int) -> tuple[int, int]:
    """Input rows ``[lo, hi)`` a layer needs for output rows ``[lo, hi)``, clipped to the image."""
    if kind == "same":
        lo, hi = lo - halo, hi + halo
    elif kind == "down":  # output row r reads input rows 2r-1 … 2r+1; start on an even row
        lo, hi = 2 * lo - 2, 2 * hi
    else:  # nearest ×2: output row r is input row r // 2
        lo, hi = lo // 2, -(-hi // 2)
    return max(lo, 0), min(hi, rows_in)


def _run_in_strips(stage: list[nn.Module], x: Tensor, budget: int) -> Tensor:
    kinds: list[tuple[str, int]] = [kind for kind in map(_kind, stage) if kind is not None]
    heights, widths = [x.shape[2]], [x.shape[3]]
    for kind, _ in kinds:
        heights.append(_out_rows(kind, heights[-1]))
        widths.append(_out_rows(kind, widths[-1]))
    channels = max((getattr(layer, "out_channels", 0) for layer in stage), default=0) or x.shape[1]
    largest = max(h * w for h, w in zip(heights, widths, strict=True))
    row_bytes = x.shape[0] * channels * x.element_size() * largest / heights[-1]
    if row_bytes * heights[-1] <= budget:
        for layer in stage:
            x = layer(x)
        return x
    rows = strip_rows(budget, row_bytes)
    rows = -(-heights[-1] // -(-heights[-1] // rows))  # equal strips: no sliver of a few rows at the end
    out: Tensor | None = None
    for start in range(0, heights[-1], rows):
        stop = min(start + rows, heights[-1])
        spans = [(start, stop)]
        for (kind, halo), rows_in in zip(reversed(kinds), reversed(heights[:-1]), strict=True):
            spans.append(_need(kind, halo, *spans[-1], rows_in))
        spans.reverse()  # spans[i]: input rows of layer i; spans[-1]: the strip's output rows
        piece, at = x[:, :, spans[0][0] : spans[0][1]], spans[0][0]
        for layer, (kind, _), (lo, hi) in zip(stage, kinds, spans[1:], strict=True):
            piece = layer(piece)
            at = {"same": at, "down": at // 2, "up": 2 * at}[kind]
            piece = piece[:, :, lo - at : hi - at]  # drop the rows the strip's edges made inexact
            at = lo
        if out is None:
            channels_last = piece.is_contiguous(memory_format=torch.channels_last)
            out = torch.empty(
                (piece.shape[0], piece.shape[1], heights[-1], piece.shape[3]),
                dtype=piece.dtype,
                device=piece.device,
                memory_format=torch.channels_last if channels_last else torch.contiguous_format,
            )
        out[:, :, start:stop] = piece
    assert out is not None
    return out


def run_stages(layers: Sequence[nn.Module], x: Tensor, *, budget: int | None = None) -> Tensor:
    """``layers`` applied in order to ``x [B, C, H, W]``, large separable stages in strips of at most
    about ``budget`` bytes per activation (default :data:`STRIP_BYTES`); same result as running them."""
    budget = STRIP_BYTES if budget is None else budget
    for stage in _stages(layers):
        separable = not (len(stage) == 1 and _kind(stage[0]) is None)
        x = _run_in_strips(stage, x, budget) if separable else stage[0](x)
    return x


def strip_rows(budget: int, row_bytes: float) -> int:
    """Output rows per strip for ``row_bytes`` per output row (at least :data:`_MIN_ROWS`)."""
    return max(_MIN_ROWS, math.floor(budget / row_bytes))
