"""The TAESD network: its blocks, encoder and decoder, built to the published key layout.

Original project: https://github.com/madebyollin/taesd (MIT, © 2023 Ollin Boer Bohan). This is our own
implementation, written against the published key layout (``nn.Sequential`` indices) so the original
files load with ``strict=True``:

* ``Block(c)``: ``conv.0`` 3×3 → ReLU → ``conv.2`` 3×3 → ReLU → ``conv.4`` 3×3, plus the input, then
  ReLU. FLUX.2's variant adds a normalised side branch to the block's input first: ``pool.0`` 1×1 conv
  (no bias) c → 4c, ``pool.1`` GroupNorm(4, 4c), ReLU, ``pool.3`` 1×1 conv (no bias) 4c → c.
* Encoder (image ``[B, 3, H, W]`` in [0, 1] → latent ``[B, C, H/8, W/8]``): ``0`` conv 3→64,
  ``1`` Block, then three times a stride-2 conv without bias (``2``, ``6``, ``10``) and three Blocks
  (``3-5``, ``7-9``, ``11-13``), ``14`` conv 64→C. The side branch sits in Blocks 11-13.
* Decoder (latent → image): ``0`` soft clamp ``tanh(x / 3) · 3``, ``1`` conv C→64, ``2`` ReLU, three
  times three Blocks (``3-5``, ``8-10``, ``13-15``) each followed by nearest ×2 upsampling (``6``,
  ``11``, ``16``) and a conv without bias (``7``, ``12``, ``17``), ``18`` Block, ``19`` conv 64→3.
  The side branch sits in Blocks 3-5.

All convs are 64 channels wide with zero "same" padding. Parameter counts: 1,222,532 (encoder) and
1,222,531 (decoder) for 4 latent channels, as TAESD's README says.

**The 16× layout** (``F16Encoder``/``F16Decoder`` of madebyollin/taesd's ``taesd.py`` from commit
401ce45, used by TAEQI2.1 for Qwen-Image 2.1: 64 latent channels, RGBA images) widens the low-resolution
stages and folds 2×2 pixels into channels at the image end:

* Encoder: ``0`` pixel-unshuffle 2×2 (image channels × 4), ``1`` conv → 64, ``2`` ReLU, ``3`` Block(64),
  ``4`` stride-2 conv 64→64, Blocks ``5-7`` (64), ``8`` stride-2 conv 64→128, Blocks ``9-11`` (128),
  ``12`` stride-2 conv 128→256, Blocks ``13-15`` (256), ``16`` conv 256→C. Downscale 2·2·2·2 = 16.
* Decoder: ``0`` soft clamp, ``1`` conv C→256, ``2`` ReLU, Blocks ``3-5`` (256), ``6`` ×2, ``7`` conv
  256→128, Blocks ``8-10`` (128), ``11`` ×2, ``12`` conv 128→64, Blocks ``13-15`` (64), ``16`` ×2,
  ``17`` conv 64→64, ``18`` Block(64), ``19`` conv 64→4·image channels, ``20`` pixel-shuffle 2×2.

Every Block keeps its width, so it has no ``skip`` conv (an identity) in either layout.

**Memory.** Untiled, the 64-channel activations at full image resolution dominate the peak (256 MiB
each for a 1024² image in float32). Between resolution changes the networks are plain 3×3 convolutions
and ReLUs, so each such stage can run in horizontal strips with a few rows of context
(:mod:`latent_upscale.neural.archs.tae_strips`): the same numbers as the whole-image run, a bounded
peak, and no seams (unlike overlapping tiles, nothing is blended). The GroupNorm side branch sees the
whole image, so its stage always runs whole. ReLUs and the residual add run in place, or on CPUs
as oneDNN post-ops of the convolutions that precede them (one pass over each output, not two).

:mod:`latent_upscale.neural.archs.tae` is the architecture module (detection, the descriptor);
:mod:`latent_upscale.neural.archs.tae_variants` tells the variants apart and loads the files.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.neural.archs.tae_strips import run_stages

__all__ = [
    "DECODER_SIGNATURE",
    "ENCODER_SIGNATURE",
    "F16_ENCODER_SIGNATURE",
    "F16_WIDTHS",
    "WIDTH",
    "TaeBlock",
    "TaeDecoder",
    "TaeEncoder",
    "TaeF16Decoder",
    "TaeF16Encoder",
]

WIDTH = 64
#: Indices of the Blocks, the stride-2 convs / upsample-convs, and the Blocks with the side branch.
ENCODER_BLOCKS = (1, 3, 4, 5, 7, 8, 9, 11, 12, 13)
ENCODER_DOWNS = (2, 6, 10)
ENCODER_GN_BLOCKS = (11, 12, 13)
ENCODER_OUT = 14
DECODER_IN = 1
DECODER_BLOCKS = (3, 4, 5, 8, 9, 10, 13, 14, 15, 18)
DECODER_UPS = (6, 11, 16)  # nn.Upsample: no parameters
DECODER_UP_CONVS = (7, 12, 17)
DECODER_GN_BLOCKS = (3, 4, 5)
DECODER_OUT = 19
#: Keys every encoder (first four) or decoder (last four) file has; used by detection and errors.
ENCODER_SIGNATURE = ("0.weight", "1.conv.0.weight", "2.weight", "14.weight")
DECODER_SIGNATURE = ("1.weight", "3.conv.0.weight", "7.weight", "19.weight")
#: The 16× layout's encoder (its decoder shares :data:`DECODER_SIGNATURE`; ``1.weight``'s 256 output
#: channels tell it apart). ``4.weight`` is a stride-2 conv here and a Block in every other layout.
F16_ENCODER_SIGNATURE = ("1.weight", "3.conv.0.weight", "4.weight", "16.weight")
#: The 16× layout's stage widths, full resolution first.
F16_WIDTHS = (64, 128, 256)
F16_ENCODER_OUT = 16
F16_DECODER_OUT = 19


#: oneDNN's convolution with fused post-ops (what torch.compile's CPU backend emits): conv → ReLU and
#: conv → + residual → ReLU in one pass over the output instead of two or three. A torch internal, so
#: it is used only where a probe at import gives exactly the unfused result; else None.
_pointwise = getattr(getattr(torch.ops, "mkldnn", None), "_convolution_pointwise", None)
#: padding, stride, dilation, groups of every block conv.
_GEOMETRY = ([1, 1], [1, 1], [1, 1], 1)


def _probe_pointwise() -> bool:
    if _pointwise is None or not torch.backends.mkldnn.is_available():
        return False
    generator = torch.Generator().manual_seed(0)
    # The blocks' width at a size where oneDNN picks its usual kernels (on slivers of a few pixels it
    # may pick others, which round differently: agreement to float rounding, as for strips).
    x = torch.randn(1, WIDTH, 40, 33, generator=generator)
    weight = torch.randn(WIDTH, WIDTH, 3, 3, generator=generator) / 24
    bias = torch.randn(WIDTH, generator=generator)
    try:
        with torch.inference_mode():
            for layout in (torch.contiguous_format, torch.channels_last):
                h, w = x.contiguous(memory_format=layout), weight.contiguous(memory_format=layout)
                conv = F.conv2d(h, w, bias, padding=1)
                if not torch.equal(_pointwise(h, w, bias, *_GEOMETRY, "relu", [None], ""), torch.relu(conv)):
                    return False
                fused = _pointwise(h, h, w, bias, *_GEOMETRY, "add", 1.0, "relu", [None], "")
                if not torch.equal(fused, torch.relu(conv + h)):
                    return False
    except (RuntimeError, TypeError):  # a changed signature or a build without oneDNN
        return False
    return True


_POINTWISE_OK = _probe_pointwise()


def _fused_ok(x: Tensor) -> bool:
    """The fused path: float32 on a CPU, no autograd (the op has no backward)."""
    cpu_float32 = x.device.type == "cpu" and x.dtype == torch.float32
    return _POINTWISE_OK and cpu_float32 and not torch.is_grad_enabled()


def _conv(n_in: int, n_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class TaeBlock(nn.Module):
    """``relu(convs(x') + x')`` with ``x' = x + side(x)`` when the GroupNorm side branch is present.

    Parameter names follow the published layout: ``conv.{0,2,4}`` and ``pool.{0,1,3}``.
    """

    def __init__(self, channels: int = WIDTH, *, midblock_gn: bool = False) -> None:
        super().__init__()
        #: Rows of context each side for strips (three 3×3 convs); None: GroupNorm sees the whole image.
        self.strip_halo: int | None = None if midblock_gn else 3
        # In-place ReLUs: no new tensor per activation (the same values; inference and autograd alike).
        self.conv = nn.Sequential(
            _conv(channels, channels),
            nn.ReLU(inplace=True),
            _conv(channels, channels),
            nn.ReLU(inplace=True),
            _conv(channels, channels),
        )
        self.pool: nn.Sequential | None = None
        if midblock_gn:
            wide = 4 * channels
            self.pool = nn.Sequential(
                nn.Conv2d(channels, wide, 1, bias=False),
                nn.GroupNorm(4, wide),
                nn.ReLU(inplace=True),
                nn.Conv2d(wide, channels, 1, bias=False),
            )

    def forward(self, x: Tensor) -> Tensor:
        """``[B, C, H, W] → [B, C, H, W]``."""
        if self.pool is not None:
            x = x + self.pool(x)
        if x.shape[1] == WIDTH and _fused_ok(
            x
        ):  # (probed at this width) oneDNN applies the ReLUs and the residual add as the convs write
            first, _, second, _, third = self.conv
            h = _pointwise(x, first.weight, first.bias, *_GEOMETRY, "relu", [None], "")
            h = _pointwise(h, second.weight, second.bias, *_GEOMETRY, "relu", [None], "")
            return _pointwise(h, x, third.weight, third.bias, *_GEOMETRY, "add", 1.0, "relu", [None], "")
        out = self.conv(x)
        out += x  # the conv output is ours: add and clamp in place (one pass each, no new tensor)
        return out.relu_()


class _SoftClamp(nn.Module):
    """``tanh(x / 3) · 3``: keeps decoder inputs within ±3 smoothly."""

    strip_halo = 0  # element-wise

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(x / 3.0) * 3.0


class TaeEncoder(nn.Sequential):
    """RGB image ``[B, 3, H, W]`` in [0, 1] → latent ``[B, C, ⌈H/8⌉, ⌈W/8⌉]`` (the TAE latent space)."""

    def __init__(self, latent_channels: int, *, midblock_gn: bool = False) -> None:
        layers: list[nn.Module] = [_conv(3, WIDTH)]
        for index in range(1, ENCODER_OUT):
            if index in ENCODER_DOWNS:
                layers.append(_conv(WIDTH, WIDTH, stride=2, bias=False))
            else:
                layers.append(TaeBlock(midblock_gn=midblock_gn and index in ENCODER_GN_BLOCKS))
        layers.append(_conv(WIDTH, latent_channels))
        super().__init__(*layers)
        self.latent_channels = latent_channels

    def forward(self, x: Tensor) -> Tensor:
        """``[B, 3, H, W] → [B, C, ⌈H/8⌉, ⌈W/8⌉]``; full-resolution stages in strips when large."""
        return run_stages(list(self), x)


class TaeDecoder(nn.Sequential):
    """Latent ``[B, C, h, w]`` (the TAE latent space) → RGB image ``[B, 3, 8h, 8w]``, about [0, 1]."""

    def __init__(self, latent_channels: int, *, midblock_gn: bool = False) -> None:
        layers: list[nn.Module] = [_SoftClamp(), _conv(latent_channels, WIDTH), nn.ReLU(inplace=True)]
        for index in range(3, DECODER_OUT):
            if index in DECODER_UPS:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            elif index in DECODER_UP_CONVS:
                layers.append(_conv(WIDTH, WIDTH, bias=False))
            else:
                layers.append(TaeBlock(midblock_gn=midblock_gn and index in DECODER_GN_BLOCKS))
        layers.append(_conv(WIDTH, 3))
        super().__init__(*layers)
        self.latent_channels = latent_channels

    def forward(self, x: Tensor) -> Tensor:
        """``[B, C, h, w] → [B, 3, 8h, 8w]``; upsampled stages in strips when large."""
        return run_stages(list(self), x)


class TaeF16Encoder(nn.Sequential):
    """Image ``[B, I, H, W]`` in [0, 1] (I = 4 for RGBA, H and W multiples of 16) → latent
    ``[B, C, H/16, W/16]``: the 16× layout described in the module docstring."""

    def __init__(self, latent_channels: int, image_channels: int = 4) -> None:
        low, mid, high = F16_WIDTHS
        layers: list[nn.Module] = [nn.PixelUnshuffle(2), _conv(4 * image_channels, low), nn.ReLU()]
        layers.append(TaeBlock(low))
        for n_in, n_out in ((low, low), (low, mid), (mid, high)):
            layers.append(_conv(n_in, n_out, stride=2, bias=False))
            layers += [TaeBlock(n_out) for _ in range(3)]
        layers.append(_conv(high, latent_channels))
        super().__init__(*layers)
        self.latent_channels = latent_channels
        self.image_channels = image_channels


class TaeF16Decoder(nn.Sequential):
    """Latent ``[B, C, h, w]`` → image ``[B, I, 16h, 16w]`` (about [0, 1]; I = 4 for RGBA): the 16×
    layout described in the module docstring."""

    def __init__(self, latent_channels: int, image_channels: int = 4) -> None:
        low, mid, high = F16_WIDTHS
        layers: list[nn.Module] = [_SoftClamp(), _conv(latent_channels, high), nn.ReLU()]
        for n_in, n_out in ((high, mid), (mid, low), (low, low)):
            layers += [TaeBlock(n_in) for _ in range(3)]
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(n_in, n_out, bias=False)]
        layers += [TaeBlock(low), _conv(low, 4 * image_channels), nn.PixelShuffle(2)]
        super().__init__(*layers)
        self.latent_channels = latent_channels
        self.image_channels = image_channels
