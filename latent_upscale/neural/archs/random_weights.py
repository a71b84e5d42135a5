"""Random weights in the real key layouts of the three published latent upscalers, saved like the
real files (names, formats), so tests exercise detection, strict loading and the runner, and the
benchmark times the real runner path, without downloading anything (cost does not depend on the values).

The layouts are written from the published descriptions (see each architecture module's docstring
and ``shared/docs/host-api.md`` §8), independently of our loaders: a test that loads these proves
the loader matches the layout, not merely itself. Tensor counts and parameter totals at the default
sizes are the published ones (city96 v2.1: 36 tensors / 595,524; v1.0: 10 / 511,588; SesquiLSR
SDXL: 80 tensors / 3,071,542 parameters, the "3.07M" of its README; NNLatentUpscale: 250 / 6,274,020).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor

__all__ = [
    "StateDict",
    "city96_filename",
    "city96_state_dict",
    "parameter_count",
    "save_safetensors",
    "save_torch",
    "sesqui_state_dict",
    "ttl_state_dict",
]

StateDict = dict[str, Tensor]


class _Random:
    """Fan-in-scaled normal tensors from a private generator (no global RNG state touched)."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def weight(self, *shape: int, gain: float = 1.0) -> Tensor:
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
        return torch.randn(*shape, generator=self.generator) * (gain / math.sqrt(fan_in))

    def bias(self, n: int, scale: float = 0.05) -> Tensor:
        return torch.randn(n, generator=self.generator) * scale

    def near(self, value: float, n: int, scale: float = 0.05) -> Tensor:
        return value + torch.randn(n, generator=self.generator) * scale


# --- city96 -------------------------------------------------------------------------------------


def city96_state_dict(version: str = "2.1", *, width: int = 64, depth: int = 16, seed: int = 0) -> StateDict:
    """``sequential.{0,4,6,…}`` convs: v2.x 3×3 (4→width, depth × width→width, width→4); v1.0 the
    5/7/7/7/5 kernels with 64/64/64/32 channels. ``width``/``depth`` shrink v2 models for speed."""
    rng = _Random(seed)
    if version.startswith("1"):
        layers = [(4, 64, 5), (64, 64, 7), (64, 64, 7), (64, 32, 7), (32, 4, 5)]
    else:
        layers = [(4, width, 3)] + [(width, width, 3)] * depth + [(width, 4, 3)]
    state: StateDict = {}
    for position, (c_in, c_out, kernel) in enumerate(layers):
        index = 0 if position == 0 else 4 + 2 * (position - 1)
        # He-style gain keeps activations from vanishing through the ReLU stack.
        state[f"sequential.{index}.weight"] = rng.weight(c_out, c_in, kernel, kernel, gain=1.4)
        state[f"sequential.{index}.bias"] = rng.bias(c_out)
    return state


def city96_filename(version: str, vae: str, factor: float) -> str:
    """The published name, e.g. ``latent-upscaler-v2.1_SDxl-x1.5.safetensors``."""
    return f"latent-upscaler-v{version}_SD{vae}-x{factor}.safetensors"


# --- SesquiLSR ----------------------------------------------------------------------------------


def _gated_block_shapes(
    channels: int, expand: float, shrink: float, values_per_gate: int = 8
) -> dict[str, tuple]:
    gate = math.ceil(expand * channels / (values_per_gate + 1))
    gate = math.ceil(gate / values_per_gate) * values_per_gate
    value = gate * values_per_gate
    mid = math.ceil(channels * shrink)
    return {
        "norm.weight": (channels,),
        "up.weight": (value + gate, channels, 1, 1),
        "down.weight": (mid, value, 1, 1),
        "mix.weight": (channels, mid, 3, 3),
    }


def sesqui_state_dict(
    in_channels: int = 4,
    *,
    width: int = 128,
    in_depth: int = 8,
    out_depth: int = 6,
    in_expand: float = 1.5,
    out_expand: float = 2.0,
    rank: int = 2,
    seed: int = 0,
) -> StateDict:
    """SesquiLSR's ``LatentUpscaler`` layout (defaults = the published models)."""
    rng = _Random(seed)
    state: StateDict = {
        "head_conv.0.weight": rng.weight(width // 2, in_channels, 3, 3),
        "head_conv.2.weight": rng.weight(width, width // 2, 3, 3),
        "head_conv.2.bias": rng.bias(width),
    }

    def block(prefix: str, expand: float, shrink: float) -> None:
        for name, shape in _gated_block_shapes(width, expand, shrink).items():
            if name == "norm.weight":
                state[f"{prefix}.{name}"] = rng.near(1.0, shape[0])
            else:
                state[f"{prefix}.{name}"] = rng.weight(*shape, gain=0.5)

    for i in range(in_depth):
        block(f"in_blocks.{i}", in_expand, 0.75)
    lift = min(64, width // 2)
    taps = torch.zeros(rank, 2, width, 4)
    taps[0] = torch.tensor([-0.0625, 0.5625, 0.5625, -0.0625])  # bicubic-like start, as published
    state.update(
        {
            "upsample.base_taps": taps + 0.01 * torch.randn(taps.shape, generator=rng.generator),
            "upsample.rank_gain": torch.tensor([2.0] + [0.0] * (rank - 1)),
            "upsample.ps_expand.weight": rng.weight(width * 4, width, 1, 1),
            "upsample.ps_expand.bias": rng.bias(width * 4),
            "upsample.lift_expand.weight": rng.weight(lift * 4, width, 1, 1, gain=0.1),
            "upsample.lift_mix.weight": rng.weight(width, lift, 3, 3, gain=0.1),
            "upsample.pe.freqs": 2.0 ** torch.linspace(0, 2, 4),
            "upsample.axis_emb.weight": torch.randn(2, 8, generator=rng.generator),
            "upsample.rank_emb.weight": torch.randn(rank, 8, generator=rng.generator),
            "upsample.filter_net.0.weight": rng.weight(64, 4 * 2 + 1 + 8 + 8),
            "upsample.filter_net.0.bias": rng.bias(64),
            "upsample.filter_net.2.weight": rng.weight(width * 4, 64),
            "upsample.filter_net.2.bias": rng.bias(width * 4),
        }
    )
    block("upsample.refine", 2.0, 1.0)
    for i in range(out_depth):
        block(f"out_blocks.{i}", out_expand, 1.0)
    state["tail_conv.0.weight"] = rng.weight(width // 2, width, 1, 1)
    state["tail_conv.2.weight"] = rng.weight(in_channels, width // 2, 3, 3, gain=0.2)
    state["tail_conv.2.bias"] = rng.bias(in_channels)
    skip = torch.zeros(in_channels, in_channels, 5, 5)
    skip[range(in_channels), range(in_channels), 2, 2] = 1.0  # dirac start, as published
    state["skip_conv.weight"] = skip + 0.01 * torch.randn(skip.shape, generator=rng.generator)
    return state


# --- Ttl NNLatentUpscale ------------------------------------------------------------------------


def _ttl_layout(blocks: int, attention: bool) -> list[str]:
    layout: list[str] = []
    for b in range(blocks):
        if attention and b in (1, blocks - 1):
            layout.append("attn")
        layout.append("res")
    return layout


def ttl_state_dict(
    in_blocks: int = 10, out_blocks: int = 10, *, channels: int = 128, attention: bool = True, seed: int = 0
) -> StateDict:
    """``LatentResizer`` layout: attention before residual blocks 1 and N-1 of each group."""
    rng = _Random(seed)
    embed = 32
    state: StateDict = {
        "conv_in.weight": rng.weight(channels, 4, 3, 3),
        "conv_in.bias": rng.bias(channels),
        "embed.0.weight": rng.weight(embed, 1),
        "embed.0.bias": rng.bias(embed),
        "embed.2.weight": rng.weight(embed, embed),
        "embed.2.bias": rng.bias(embed),
    }

    def norm(prefix: str) -> None:
        state[f"{prefix}.weight"] = rng.near(1.0, channels)
        state[f"{prefix}.bias"] = rng.bias(channels)

    for group, count in (("in_blocks", in_blocks), ("out_blocks", out_blocks)):
        for index, kind in enumerate(_ttl_layout(count, attention)):
            prefix = f"{group}.{index}"
            if kind == "attn":
                norm(f"{prefix}.norm")
                for name in ("q", "k", "v", "proj_out"):
                    state[f"{prefix}.{name}.weight"] = rng.weight(channels, channels, 1, 1)
                    state[f"{prefix}.{name}.bias"] = rng.bias(channels)
            else:
                norm(f"{prefix}.in_layers.0")
                state[f"{prefix}.in_layers.2.weight"] = rng.weight(channels, channels, 3, 3)
                state[f"{prefix}.in_layers.2.bias"] = rng.bias(channels)
                state[f"{prefix}.emb_layers.1.weight"] = rng.weight(channels, embed)
                state[f"{prefix}.emb_layers.1.bias"] = rng.bias(channels)
                norm(f"{prefix}.out_layers.0")
                state[f"{prefix}.out_layers.3.weight"] = rng.weight(channels, channels, 3, 3, gain=0.5)
                state[f"{prefix}.out_layers.3.bias"] = rng.bias(channels)
    norm("norm_out")
    state["conv_out.weight"] = rng.weight(4, channels, 3, 3)
    state["conv_out.bias"] = rng.bias(4)
    return state


# --- saving like the real files -------------------------------------------------------------------


def save_safetensors(state: StateDict, path: Path) -> Path:
    """Write ``state`` as the published ``.safetensors`` files are written (all or nothing:
    :func:`~latent_upscale.latent_io.atomic_write`)."""
    from latent_upscale.latent_io import atomic_write

    with atomic_write(path) as temporary:
        save_file({k: v.contiguous() for k, v in state.items()}, str(temporary))
    return path


def save_torch(state: StateDict, path: Path) -> Path:
    """Write ``state`` with ``torch.save`` (an OrderedDict pickle), as Ttl's ``.pt`` files are (all
    or nothing: :func:`~latent_upscale.latent_io.atomic_write`)."""
    from collections import OrderedDict

    from latent_upscale.latent_io import atomic_write

    with atomic_write(path) as temporary:
        torch.save(OrderedDict(state), temporary)
    return path


def parameter_count(state: StateDict, *, skip: tuple[str, ...] = ()) -> int:
    """Total number of values, leaving out buffer keys in ``skip``."""
    return sum(int(v.numel()) for k, v in state.items() if k not in skip)
