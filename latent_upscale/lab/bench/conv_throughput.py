"""How close a network runs to the convolution throughput its own layer shapes reach on this machine.

The figure behind the goal "at ≥ 40 % of the conv throughput their layer shapes reach": one call of
the network is watched (a forward hook on every ``nn.Conv2d``, and on every attention block, a module
with ``q``, ``k`` and ``v`` 1×1 convs such as Ttl's), which gives each layer's shape and how often it
runs. Each distinct shape is then timed alone as a bare ``F.conv2d`` loop on a random input of that
shape: the fastest of contiguous and channels-last ``F.conv2d`` and oneDNN's conv called directly
(on one thread ``F.conv2d`` sends 1×1 convs of one image to torch's BLAS), what the machine can reach
for it through torch. Attention's two products per block (scores ``Q·Kᵀ`` and ``P·V`` over every
pixel) are timed as bare products of one block of 256 queries against all keys (``torch.matmul`` or
oneDNN's, the faster), scaled to all queries; the softmax between them is not counted as work.

The **achievable time** is the sum of the bare times; the **fraction** of a contender is achievable
time / its measured time (1.0: the whole call runs at the bare layers' speed and costs nothing else).
The shapes come from the published node's call, so both contenders are judged against the same
work, whatever kernels ours runs them with. Multiply-accumulates (MACs) are counted per output value:
``C_in / groups · k_h · k_w`` each.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.lab.bench.measure import timer

__all__ = ["AttentionShape", "ConvShape", "LayerWork", "achievable_seconds", "watch_layers"]

#: Queries per timed block of a bare attention product (all keys each).
_QUERY_BLOCK = 256
#: oneDNN's conv and matrix product called directly (torch internals; None when absent): on one
#: thread F.conv2d sends 1×1 convs, and torch.matmul every product, to torch's BLAS instead.
_onednn_conv = getattr(getattr(torch.ops, "mkldnn", None), "_convolution_pointwise", None)
_onednn_linear = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)


@dataclass(frozen=True)
class ConvShape:
    """One convolution as it runs: input ``[batch, in_channels, height, width]`` already padded when
    the module pads by itself (reflect padding), and the conv's own zero ``padding``."""

    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    groups: int
    bias: bool

    @property
    def out_size(self) -> tuple[int, int]:
        """Output height and width."""
        return tuple(  # type: ignore[return-value]
            (size + 2 * pad - k) // s + 1
            for size, pad, k, s in zip(
                (self.height, self.width), self.padding, self.kernel, self.stride, strict=True
            )
        )

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one call."""
        out_h, out_w = self.out_size
        per_output = self.in_channels // self.groups * self.kernel[0] * self.kernel[1]
        return self.batch * self.out_channels * out_h * out_w * per_output

    def label(self) -> str:
        """``conv 3×3 128→128 @ 64×64`` (batch when above 1)."""
        batch = f" ×{self.batch}" if self.batch > 1 else ""
        k = f"{self.kernel[0]}×{self.kernel[1]}"
        return f"conv {k} {self.in_channels}→{self.out_channels} @ {self.height}×{self.width}{batch}"

    def bare(self) -> Callable[[], Tensor]:
        """A bare ``F.conv2d`` call of this shape (the faster layout is chosen by the timer)."""
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(self.batch, self.in_channels, self.height, self.width, generator=generator)
        w = torch.randn(self.out_channels, self.in_channels // self.groups, *self.kernel, generator=generator)
        b = torch.randn(self.out_channels, generator=generator) if self.bias else None
        return lambda: F.conv2d(x, w, b, self.stride, self.padding, 1, self.groups)


@dataclass(frozen=True)
class AttentionShape:
    """Single-head attention over ``tokens`` pixels of ``channels`` channels (one sample)."""

    batch: int
    tokens: int
    channels: int

    @property
    def macs(self) -> int:
        """Scores and weighted sum: two ``tokens × tokens × channels`` products per sample."""
        return 2 * self.batch * self.tokens * self.tokens * self.channels

    def label(self) -> str:
        """``attention 4096 tokens × 128``."""
        batch = f" ×{self.batch}" if self.batch > 1 else ""
        return f"attention {self.tokens} tokens × {self.channels}{batch}"


LayerShape = ConvShape | AttentionShape


@dataclass(frozen=True)
class LayerWork:
    """A layer shape, how often one network call runs it, and its bare time per call."""

    shape: LayerShape
    count: int
    bare_s: float

    def as_dict(self) -> dict[str, Any]:
        """The figures for ``results.json``."""
        rate = self.shape.macs / self.bare_s if self.bare_s > 0 else None
        return {"layer": self.shape.label(), "count": self.count, "bare_s": self.bare_s, "macs_per_s": rate}


def _conv_shape(module: nn.Conv2d, x: Tensor) -> ConvShape:
    padding = tuple(int(p) for p in module.padding)  # type: ignore[union-attr]
    height, width = int(x.shape[-2]), int(x.shape[-1])
    if module.padding_mode != "zeros":  # the module pads the input itself, then convolves unpadded
        height, width = height + 2 * padding[0], width + 2 * padding[1]
        padding = (0, 0)
    return ConvShape(
        batch=int(x.shape[0]),
        in_channels=module.in_channels,
        out_channels=module.out_channels,
        height=height,
        width=width,
        kernel=tuple(module.kernel_size),  # type: ignore[arg-type]
        stride=tuple(module.stride),  # type: ignore[arg-type]
        padding=padding,  # type: ignore[arg-type]
        groups=module.groups,
        bias=module.bias is not None,
    )


def _is_attention(module: nn.Module) -> bool:
    return all(isinstance(getattr(module, name, None), nn.Conv2d) for name in ("q", "k", "v"))


def watch_layers(call: Callable[[], object]) -> Counter[LayerShape]:
    """Run ``call`` once and count every conv and attention shape its ``nn.Module`` calls run."""
    seen: Counter[LayerShape] = Counter()

    def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        if not args or not isinstance(args[0], Tensor) or args[0].dim() != 4:
            return
        x = args[0]
        if isinstance(module, nn.Conv2d):
            seen[_conv_shape(module, x)] += 1
        elif _is_attention(module):
            seen[AttentionShape(int(x.shape[0]), int(x.shape[2] * x.shape[3]), int(x.shape[1]))] += 1

    handle = nn.modules.module.register_module_forward_pre_hook(hook)
    try:
        with torch.inference_mode():
            call()
    finally:
        handle.remove()
    return seen


def _best_seconds(calls: list[Callable[[], object]], threads: int, min_run_time: float) -> float:
    best = math.inf
    for fn in calls:
        fn()  # warm-up (oneDNN primitive creation, weight reorders)
        best = min(best, float(timer(fn, threads).blocked_autorange(min_run_time=min_run_time).median))
    return best


def _bare_conv_seconds(shape: ConvShape, threads: int, min_run_time: float) -> float:
    plain = shape.bare()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(shape.batch, shape.in_channels, shape.height, shape.width, generator=generator)
    x = x.contiguous(memory_format=torch.channels_last)
    w = torch.randn(shape.out_channels, shape.in_channels // shape.groups, *shape.kernel, generator=generator)
    w = w.contiguous(memory_format=torch.channels_last)
    b = torch.randn(shape.out_channels, generator=generator) if shape.bias else None

    def channels_last() -> Tensor:
        return F.conv2d(x, w, b, shape.stride, shape.padding, 1, shape.groups)

    calls = [plain, channels_last]
    if _onednn_conv is not None and torch.backends.mkldnn.is_available():
        geometry = (list(shape.padding), list(shape.stride), [1, 1], shape.groups)
        # F.conv2d sends a 1×1 conv of one image on one thread to torch's BLAS, not to oneDNN.
        calls.append(lambda: _onednn_conv(x, w, b, *geometry, "none", [], ""))
    with torch.inference_mode():
        return _best_seconds(calls, threads, min_run_time)


def _bare_attention_seconds(shape: AttentionShape, threads: int, min_run_time: float) -> float:
    generator = torch.Generator().manual_seed(0)
    block = min(_QUERY_BLOCK, shape.tokens)
    q = torch.randn(block, shape.channels, generator=generator)
    k = torch.randn(shape.tokens, shape.channels, generator=generator)
    p = torch.randn(block, shape.tokens, generator=generator)
    v = torch.randn(shape.tokens, shape.channels, generator=generator)
    score_calls: list[Callable[[], object]] = [lambda: torch.matmul(q, k.t())]
    weighted_calls: list[Callable[[], object]] = [lambda: torch.matmul(p, v)]
    if _onednn_linear is not None and torch.backends.mkldnn.is_available():
        v_t = v.t().contiguous()
        score_calls.append(lambda: _onednn_linear(q, k, None, "none", [], ""))
        weighted_calls.append(lambda: _onednn_linear(p, v_t, None, "none", [], ""))
    with torch.inference_mode():
        scores = _best_seconds(score_calls, threads, min_run_time)
        weighted = _best_seconds(weighted_calls, threads, min_run_time)
    return (scores + weighted) * shape.tokens / block * shape.batch


_CACHE: dict[tuple[LayerShape, int], float] = {}


def achievable_seconds(
    layers: Counter[LayerShape], *, threads: int, min_run_time: float = 0.2
) -> tuple[float, list[LayerWork]]:
    """The bare time of every layer of one call, summed; and each layer's figures (largest first).
    Bare times are remembered per shape and thread count for the life of the process."""
    works = []
    for shape, count in layers.items():
        key = (shape, threads)
        if key not in _CACHE:
            if isinstance(shape, ConvShape):
                _CACHE[key] = _bare_conv_seconds(shape, threads, min_run_time)
            else:
                _CACHE[key] = _bare_attention_seconds(shape, threads, min_run_time)
        works.append(LayerWork(shape, count, _CACHE[key]))
    works.sort(key=lambda work: work.count * work.bare_s, reverse=True)
    return sum(work.count * work.bare_s for work in works), works
