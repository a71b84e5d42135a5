"""The conv-throughput figure: the layer shapes one call runs (convs as they run, reflect padding
included; attention blocks over every pixel), their multiply-accumulates, and bare timings summed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from latent_upscale.lab.bench import conv_throughput as ct
from latent_upscale.lab.fixtures.random_weights import ttl_state_dict
from latent_upscale.neural.archs import ttl


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 8, 3, padding=1, padding_mode="reflect", bias=False)
        self.b = nn.Conv2d(8, 8, 1)
        self.c = nn.Conv2d(8, 6, 3, stride=2, padding=1, groups=2)

    def forward(self, x):
        return self.c(self.b(self.b(self.a(x))))


def test_every_conv_call_is_counted_with_the_shape_it_runs_at() -> None:
    seen = ct.watch_layers(lambda: _Net()(torch.randn(2, 4, 10, 12)))
    reflect = ct.ConvShape(2, 4, 8, 12, 14, (3, 3), (1, 1), (0, 0), 1, False)  # padded by the module
    pointwise = ct.ConvShape(2, 8, 8, 10, 12, (1, 1), (1, 1), (0, 0), 1, True)
    strided = ct.ConvShape(2, 8, 6, 10, 12, (3, 3), (2, 2), (1, 1), 2, True)
    assert seen == {reflect: 1, pointwise: 2, strided: 1}
    assert reflect.macs == 2 * 8 * 10 * 12 * 4 * 9
    assert strided.out_size == (5, 6)
    assert strided.macs == 2 * 6 * 5 * 6 * 4 * 9
    assert reflect.label() == "conv 3×3 4→8 @ 12×14 ×2"


def test_attention_blocks_are_counted_over_every_pixel() -> None:
    model = ttl.load(ttl_state_dict(2, 2, channels=32)).model
    seen = ct.watch_layers(lambda: model(torch.randn(1, 4, 6, 5), (9, 7)))
    attention = {shape: n for shape, n in seen.items() if isinstance(shape, ct.AttentionShape)}
    # One attention block per group at these depths: 6×5 pixels before the resize, 9×7 after.
    assert attention == {ct.AttentionShape(1, 30, 32): 1, ct.AttentionShape(1, 63, 32): 1}
    assert ct.AttentionShape(1, 63, 32).macs == 2 * 63 * 63 * 32


def test_achievable_time_sums_count_times_bare_time(monkeypatch) -> None:
    calls = []

    def fake(shape, threads, min_run_time):
        calls.append(shape)
        return shape.macs * 1e-9

    monkeypatch.setattr(ct, "_bare_conv_seconds", fake)
    monkeypatch.setattr(ct, "_CACHE", {})
    seen = ct.watch_layers(lambda: _Net()(torch.randn(1, 4, 8, 8)))
    total, layers = ct.achievable_seconds(seen, threads=1)
    assert total == pytest.approx(sum(shape.macs * n for shape, n in seen.items()) * 1e-9)
    assert [work.count * work.bare_s for work in layers] == sorted(
        (work.count * work.bare_s for work in layers), reverse=True
    )
    ct.achievable_seconds(seen, threads=1)
    assert len(calls) == len(seen)  # remembered per shape


def test_a_real_bare_timing_is_positive_and_has_a_rate() -> None:
    shape = ct.ConvShape(1, 8, 8, 16, 16, (3, 3), (1, 1), (1, 1), 1, True)
    total, layers = ct.achievable_seconds({shape: 3}, threads=1, min_run_time=0.01)
    assert total > 0 and layers[0].count == 3
    assert layers[0].as_dict()["macs_per_s"] > 0
