"""Ttl's NNLatentUpscale ``LatentResizer``: residual blocks with a scale embedding and self-attention.

Original project: https://github.com/Ttl/ComfyUi_NNLatentUpscale (``latent_resizer.py``,
``nn_upscale.py``), GPL-3.0, code and weights (``sd15_resizer.pt``, ``sdxl_resizer.pt``). We neither
ship nor download those weights; users place them in a models folder themselves. This module is our
own implementation, written only against the key layout and the documented behaviour:

* ``conv_in`` 3×3; ``embed``: Linear(1, 32) → SiLU → Linear(32, 32) over ``scale - 1``;
* ``in_blocks`` / ``out_blocks``: residual blocks (``in_layers``: GroupNorm(32) → SiLU → conv 3×3;
  ``emb_layers``: SiLU → Linear to the channels, added per channel; ``out_layers``: GroupNorm(32) →
  SiLU → dropout → conv 3×3; identity skip) and attention blocks (GroupNorm(32), 1×1 ``q``/``k``/
  ``v``, single-head scaled dot-product attention over every pixel, 1×1 ``proj_out``, residual);
* bilinear resize of the features to the target size between the two groups;
* ``norm_out`` GroupNorm(32) → SiLU → ``conv_out`` 3×3.

On CPUs in float32 without autograd the same maths runs faster (equal to float rounding): attention
as oneDNN matrix products over blocks of queries instead of ``scaled_dot_product_attention`` (whose
products go through torch's BLAS, which on AMD CPUs runs at less than half oneDNN's speed), and
residual blocks with the embedding folded into the conv bias and the skip added by the conv.

Block counts, attention positions and widths are read from the keys. Any scale from 1× to 2×
(trained on 1.0–2.1). Trained on raw VAE latents × 0.13025 for SD 1.5 and SDXL alike
(``latent_resizer_train.py``: "Use this scale even with SD 1.5").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural.archs._grid import TileGrid, resample_separable
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = ["ARCH_ID", "SIGNATURE_KEYS", "TRAINING_SCALE", "TtlResizer", "detect", "load"]

ARCH_ID = "ttl"
NAME = "NNLatentUpscale"
#: Detected before these architectures.
BEFORE: tuple[str, ...] = ("city96",)
SIGNATURE_KEYS = ("conv_in.weight", "embed.0.weight", "embed.2.weight", "norm_out.weight", "conv_out.weight")
#: The resizer sees raw latents times this factor, whatever the model family.
TRAINING_SCALE = 0.13025
_GROUPS = 32
_BLOCK_KEY = re.compile(r"^(in_blocks|out_blocks)\.(\d+)\.(.+)$")


#: oneDNN's convolution with a fused "add" post-op (what torch.compile's CPU backend emits): the skip
#: is added while the output is written, not in a second pass. A torch internal: None when absent.
_conv_add = getattr(getattr(torch.ops, "mkldnn", None), "_convolution_pointwise", None)
_conv_add = getattr(_conv_add, "binary", None)


#: Whether the oneDNN fast paths run at all: set by :func:`_probe_fast_paths` at import (torch internals
#: change between the torch versions the hosts ship; a build where they raise or disagree runs the
#: published path).
_FAST_PATHS = True


def _conv_add_ok(h: Tensor) -> bool:
    cpu_float32 = h.device.type == "cpu" and h.dtype == torch.float32
    return _FAST_PATHS and _conv_add is not None and cpu_float32 and torch.backends.mkldnn.is_available()


class ResidualBlock(nn.Module):
    """GroupNorm-SiLU-conv, plus the scale embedding, GroupNorm-SiLU-(dropout)-conv, identity skip."""

    def __init__(self, channels: int, embed_dim: int) -> None:
        super().__init__()
        self.in_layers = nn.Sequential(
            nn.GroupNorm(_GROUPS, channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1)
        )
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(embed_dim, channels))
        # Index 2 is the original's Dropout (inactive at inference): keeps ``out_layers.3`` the conv.
        self.out_layers = nn.Sequential(
            nn.GroupNorm(_GROUPS, channels),
            nn.SiLU(),
            nn.Identity(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        emb = self.emb_layers(embedding).to(x.dtype)
        if torch.is_grad_enabled() or emb.shape[0] != 1:
            h = self.in_layers(x) + emb[:, :, None, None]
            return x + self.out_layers(h)
        # The same sums with fewer passes: SiLU in place on GroupNorm's fresh output, the embedding
        # added to the conv's bias (one value per channel), the skip added by the conv where oneDNN
        # can (its "add" post-op), else in place.
        norm, _, conv = self.in_layers
        h = F.conv2d(F.silu(norm(x), inplace=True), conv.weight, conv.bias + emb[0], padding=1)
        norm, _, _, conv = self.out_layers
        h = F.silu(norm(h), inplace=True)
        if _conv_add_ok(h):
            return _conv_add(
                h, x, conv.weight, conv.bias, [1, 1], [1, 1], [1, 1], 1, "add", 1.0, None, [], None
            )
        return F.conv2d(h, conv.weight, conv.bias, padding=1).add_(x)


class AttentionBlock(nn.Module):
    """Single-head self-attention over all pixels (scale 1/√channels), residual."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(_GROUPS, channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(x)
        batch, channels, height, width = h.shape
        if _blocked_attention_ok(h):
            return _blocked_attention(self, x, h)

        def tokens(t: Tensor) -> Tensor:  # [B, C, H, W] → [B, 1, H·W, C]
            return t.flatten(2).transpose(1, 2).unsqueeze(1)

        attended = F.scaled_dot_product_attention(tokens(self.q(h)), tokens(self.k(h)), tokens(self.v(h)))
        attended = attended.squeeze(1).transpose(1, 2).reshape(batch, channels, height, width)
        return x + self.proj_out(attended)


#: Queries per block: ``rows × pixels`` float32 scores and probabilities stay in the last-level
#: cache between the two products (and oneDNN's matrix kernels run fastest at this height here).
_QUERY_ROWS = 256

#: oneDNN's matrix product (``torch.ops.mkldnn._linear_pointwise``, what torch.compile's CPU backend
#: emits for linear layers): ``X·Wᵀ + b``, plus ``other`` in its "add" variant. On this project's AMD
#: test machine it ran 116-125 G multiply-adds/s on one core where torch's BLAS (MKL, whose AVX-512
#: kernels are not dispatched on AMD) and so ``scaled_dot_product_attention`` reached about 50.
#: A torch internal: None when absent.
_onednn_linear = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)


def _blocked_attention_ok(h: Tensor) -> bool:
    """Float32 on a CPU with oneDNN, without autograd (the op has no backward)."""
    cpu_float32 = h.device.type == "cpu" and h.dtype == torch.float32
    return (
        _FAST_PATHS
        and _onednn_linear is not None
        and cpu_float32
        and torch.backends.mkldnn.is_available()
        and not torch.is_grad_enabled()
    )


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    assert _onednn_linear is not None
    return _onednn_linear(x, weight, bias, "none", [], "")


def _blocked_attention(block: AttentionBlock, x: Tensor, h: Tensor) -> Tensor:
    """``x + proj_out(softmax(q·kᵀ/√C)·v)`` over pixel tokens, the same maths as the fused kernel,
    as oneDNN matrix products: q, k and v from one product with the three 1×1 weights stacked (the
    scale folded into q's), then for each block of queries ``scores = q·kᵀ`` → softmax →
    ``scores·v``, and the projection with the skip added by the same product."""
    batch, channels, height, width = h.shape
    pixels = height * width
    scale = channels**-0.5
    weight = torch.cat([block.q.weight * scale, block.k.weight, block.v.weight]).view(3 * channels, channels)
    bias = torch.cat([block.q.bias * scale, block.k.bias, block.v.bias])
    tokens = h.permute(0, 2, 3, 1).reshape(batch * pixels, channels)  # a view when h is channels-last
    qkv = _linear(tokens, weight, bias).view(batch, pixels, 3 * channels)
    del tokens
    rows = min(pixels, _QUERY_ROWS)
    probabilities = h.new_empty(rows, pixels)
    parts = []  # each block's output, joined once (every torch call is a parallel region)
    for b in range(batch):
        queries = qkv[b, :, :channels].contiguous()
        keys = qkv[b, :, channels : 2 * channels].contiguous()  # the product's weight: [pixels, C]
        values = qkv[b, :, 2 * channels :].t().contiguous()  # [C, pixels]
        for start in range(0, pixels, rows):
            n = min(rows, pixels - start)
            scores = _linear(queries[start : start + n], keys)
            torch.softmax(scores, dim=-1, out=probabilities[:n])
            del scores
            parts.append(_linear(probabilities[:n], values))
    del qkv, probabilities
    attended = torch.cat(parts)
    del parts
    skip = x.permute(0, 2, 3, 1).reshape(batch * pixels, channels)
    assert _onednn_linear is not None
    out = _onednn_linear.binary(
        attended, skip, block.proj_out.weight.view(channels, channels), block.proj_out.bias, "add"
    )
    # Token-major memory is channels-last: [B·H·W, C] → [B, C, H, W] is a view.
    return out.view(batch, height, width, channels).permute(0, 3, 1, 2)


class TtlResizer(nn.Module):
    """``forward(x, (height, width), scale=None)``: the embedding uses ``scale`` or width ratio."""

    def __init__(
        self, in_channels: int, channels: int, embed_dim: int, in_layout: list[str], out_layout: list[str]
    ) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.embed = nn.Sequential(nn.Linear(1, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))

        def blocks(layout: list[str]) -> nn.ModuleList:
            return nn.ModuleList(
                AttentionBlock(channels) if kind == "attn" else ResidualBlock(channels, embed_dim)
                for kind in layout
            )

        self.in_blocks = blocks(in_layout)
        self.out_blocks = blocks(out_layout)
        self.norm_out = nn.GroupNorm(_GROUPS, channels)
        self.conv_out = nn.Conv2d(channels, in_channels, 3, padding=1)

    def _run(self, blocks: nn.ModuleList, x: Tensor, embedding: Tensor) -> Tensor:
        for block in blocks:
            x = block(x, embedding) if isinstance(block, ResidualBlock) else block(x)
        return x

    def forward(
        self, x: Tensor, size: tuple[int, int], scale: float | None = None, grid: TileGrid | None = None
    ) -> Tensor:
        """Resize to ``size``; ``grid`` places a tile in the whole image (see ``_grid``)."""
        if grid is None and tuple(size) == tuple(x.shape[-2:]):
            return x  # the original returns its input unchanged at 1×
        if scale is None:
            # What the original does when given a size; tiles use the whole image's width ratio.
            scale = grid.full_out[1] / grid.full_src[1] if grid is not None else size[-1] / x.shape[-1]
        embedding = self.embed(torch.tensor([[scale - 1.0]], dtype=x.dtype, device=x.device))
        h = self._run(self.in_blocks, self.conv_in(x), embedding)
        if grid is None:
            h = F.interpolate(h, size=tuple(size), mode="bilinear", align_corners=False)
        else:
            h = resample_separable(h, "bilinear", size, grid)
        h = self._run(self.out_blocks, h, embedding)
        return self.conv_out(F.silu(self.norm_out(h)))


def _probe_fast_paths() -> bool:
    """True when both fast blocks run in this torch build and agree with the published computation
    (which runs with autograd on) to float rounding, on a small block with fixed random weights."""
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            residual, attention = ResidualBlock(_GROUPS, 8).eval(), AttentionBlock(_GROUPS).eval()
            x, embedding = torch.randn(1, _GROUPS, 6, 5), torch.randn(1, 8)
        with torch.no_grad():
            fast = (residual(x, embedding), attention(x))
        with torch.enable_grad():
            plain = (residual(x, embedding).detach(), attention(x).detach())
        return all(torch.allclose(f, p, rtol=1e-4, atol=1e-5) for f, p in zip(fast, plain, strict=True))
    except (RuntimeError, TypeError, AttributeError):  # a changed signature, a build without the op
        return False


_FAST_PATHS = _probe_fast_paths()


def forward(
    model: nn.Module, x: Tensor, size: tuple[int, int], grid: TileGrid | None, factor: float | None
) -> Tensor:
    """The descriptor's call: resize to ``size`` (any scale 1-2×)."""
    return model(x, size, None, grid)


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True when the LatentResizer's signature tensors are present (may be a false positive)."""
    return all(key in state_dict for key in SIGNATURE_KEYS)


def _layout(state_dict: Mapping[str, Tensor], group: str) -> list[str]:
    kinds: dict[int, str] = {}
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match is None or match.group(1) != group:
            continue
        index, rest = int(match.group(2)), match.group(3)
        kind = "attn" if rest.startswith(("q.", "k.", "v.", "proj_out.", "norm.")) else "res"
        if kinds.setdefault(index, kind) != kind:
            raise LatentUpscaleError(f"NNLatentUpscale: {group}.{index} mixes attention and residual keys")
    if set(kinds) != set(range(len(kinds))):
        raise LatentUpscaleError(f"NNLatentUpscale: {group} indices {sorted(kinds)} are not 0..N-1")
    return [kinds[i] for i in range(len(kinds))]


def load(state_dict: Mapping[str, Tensor]) -> ModelDescriptor:
    """Infer widths, block counts and attention positions from the keys, load strictly, describe."""
    conv_in = state_dict["conv_in.weight"]
    channels, in_channels = int(conv_in.shape[0]), int(conv_in.shape[1])
    embed_dim = int(state_dict["embed.0.weight"].shape[0])
    if channels % _GROUPS:
        raise LatentUpscaleError(
            f"NNLatentUpscale: {channels} channels cannot be split into GroupNorm's {_GROUPS} groups"
        )
    in_layout = _layout(state_dict, "in_blocks")
    out_layout = _layout(state_dict, "out_blocks")
    model = TtlResizer(in_channels, channels, embed_dim, in_layout, out_layout)
    model.load_state_dict(dict(state_dict), strict=True)
    attention = "attn" in in_layout or "attn" in out_layout
    return ModelDescriptor(
        arch=ARCH_ID,
        name=NAME,
        version="",
        family=None,
        in_channels=in_channels,
        out_channels=in_channels,
        convention=LatentFormat(scale=TRAINING_SCALE),
        factors=(),
        scale_range=(1.0, 2.0),
        supports_fp16=True,  # the ComfyUI node runs it in fp16 when ComfyUI allows
        supports_bf16=True,
        preferred_half="fp16",
        receptive_radius=None,  # GroupNorm and attention see the whole image
        # GroupNorm needs more than one value per group: one channel per group needs 2×2 pixels
        # (torch's "Expected more than 1 value per channel" otherwise).
        min_input_size=1 if channels // _GROUPS > 1 else 2,
        # Attention cost grows with the square of the pixel count: keep each tile's output small.
        auto_tile_output_pixels=(160 * 160) if attention else (384 * 384),
        channels_last=True,  # measured ~1.6× faster on CPU (oneDNN convolutions)
        hyperparameters={
            "in_channels": in_channels,
            "channels": channels,
            "embed_dim": embed_dim,
            "in_blocks": in_layout.count("res"),
            "out_blocks": out_layout.count("res"),
            "in_attention": in_layout.count("attn"),
            "out_attention": out_layout.count("attn"),
        },
        model=model.eval().requires_grad_(False),
        forward=forward,
        tile_tolerance=0.15,  # GroupNorm and attention see the whole image (random weights: 0.12-0.13)
    )
