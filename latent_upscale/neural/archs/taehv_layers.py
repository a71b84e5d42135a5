"""The TAEHV network (Tiny AutoEncoder for Hunyuan Video and other video VAEs), built to the published
key layout, and how one still image passes through its temporal blocks.

Original project: https://github.com/madebyollin/taehv (MIT, © 2025 Ollin Boer Bohan), model file
``taehv.py`` and README. This is our own implementation, written from the published description and
key layout so the original files (one file, ``encoder.*`` and ``decoder.*`` keys) load with
``strict=True``. Videos are ``[B, T, C, H, W]`` (time before channels); every block but the three
below works on each frame alone.

* ``MemBlock(n)``: ``conv.0`` 3×3 2n→n, ReLU, ``conv.2`` 3×3, ReLU, ``conv.4`` 3×3, added to the input,
  then ReLU. Its conv sees the frame concatenated with the *previous* frame's input to the same block
  (zeros for the first frame): the only place where frames see each other. Width never changes, so the
  ``skip`` is an identity without parameters.
* ``TPool(n, s)``: ``conv`` 1×1 n·s→n without bias over ``s`` consecutive frames stacked on channels (T
  shrinks s-fold). ``TGrow(n, s)``: ``conv`` 1×1 n→n·s without bias, its output split into ``s``
  consecutive frames (T grows s-fold).
* Encoder (frames in [0, 1] → latent at 1/8 per side): ``0`` conv 3→64, ``1`` ReLU, three times a TPool
  (``2``, ``7``, ``12``; strides 2, 2, 1 for Wan 2.1), a stride-2 conv 64→64 without bias (``3``, ``8``,
  ``13``) and three MemBlocks (``4-6``, ``9-11``, ``14-16``), then ``17`` conv 64→C.
* Decoder: ``0`` soft clamp ``tanh(x / 3) · 3``, ``1`` conv C→256, ``2`` ReLU, three stages of widths
  256, 128, 64: three MemBlocks (``3-5``, ``9-11``, ``15-17``), nearest ×2 (``6``, ``12``, ``18``), a
  TGrow (``7``, ``13``, ``19``; strides 1, 2, 2) and a conv without bias to the next width (``8``
  256→128, ``14`` 128→64, ``20`` 64→64); then ``21`` ReLU and ``22`` conv 64→3.

**A still image is one frame.** ``taehv.py``'s ``encode_video`` pads a clip at its end, repeating the last
frame, to a multiple of the encoder's time reduction (2·2·1 = 4): a single image becomes four equal
frames and one latent frame. ``decode_video`` turns one latent frame into 1·2·2 = 4 frames and drops the
first ``4 − 1`` (aligning with the causal video VAE, whose first latent frame is one image): the last
frame is the image. The stride-1 TGrow at decoder ``7`` is a learned 1×1 projection; a file that stores
it at stride 2 (512 output channels) is cut to its last 256 rows, as ``taehv.py``'s
``patch_tgrow_layers`` does ("the last-timestep output channels").
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "DECODER_WIDTHS",
    "MemBlock",
    "TGrow",
    "TPool",
    "TaehvDecoder",
    "TaehvEncoder",
    "apply_to_frames",
    "decode_image",
    "encode_image",
]

WIDTH = 64
DECODER_WIDTHS = (256, 128, 64, 64)
ENCODER_POOLS = (2, 7, 12)
ENCODER_DOWNS = (3, 8, 13)
ENCODER_OUT = 17
DECODER_GROWS = (7, 13, 19)
DECODER_CONVS = (8, 14, 20)
DECODER_OUT = 22


def _conv(n_in: int, n_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class MemBlock(nn.Module):
    """``relu(convs(cat(x, past)) + x)``: ``x`` and ``past`` (the previous frame's input) ``[N, n, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv(2 * channels, channels),
            nn.ReLU(),
            _conv(channels, channels),
            nn.ReLU(),
            _conv(channels, channels),
        )

    def forward(self, x: Tensor, past: Tensor) -> Tensor:
        return torch.relu(self.conv(torch.cat([x, past], 1)) + x)


class TPool(nn.Module):
    """``[B·T, n, H, W] → [B·T/s, n, H, W]``: ``s`` consecutive frames stacked on channels, 1×1 conv."""

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(channels * stride, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        _, channels, height, width = x.shape
        return self.conv(x.reshape(-1, self.stride * channels, height, width))


class TGrow(nn.Module):
    """``[B·T, n, H, W] → [B·T·s, n, H, W]``: a 1×1 conv to ``s·n`` channels, split into ``s`` frames."""

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(channels, channels * stride, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        _, channels, height, width = x.shape
        return self.conv(x).reshape(-1, channels, height, width)


class _SoftClamp(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(x / 3.0) * 3.0


class TaehvEncoder(nn.Sequential):
    """Frames ``[B·T, 3, H, W]`` in [0, 1] → latent frames ``[B·T/Π strides, C, H/8, W/8]``
    (:func:`apply_to_frames` runs it; ``strides`` are the three TPools')."""

    def __init__(self, latent_channels: int, strides: tuple[int, int, int] = (2, 2, 1)) -> None:
        layers: list[nn.Module] = [_conv(3, WIDTH), nn.ReLU()]
        for stride in strides:
            layers += [TPool(WIDTH, stride), _conv(WIDTH, WIDTH, stride=2, bias=False)]
            layers += [MemBlock(WIDTH) for _ in range(3)]
        layers.append(_conv(WIDTH, latent_channels))
        super().__init__(*layers)
        self.latent_channels = latent_channels
        self.time_reduction = strides[0] * strides[1] * strides[2]


class TaehvDecoder(nn.Sequential):
    """Latent frames ``[B·T, C, h, w]`` → frames ``[B·T·Π strides, 3, 8h, 8w]`` (about [0, 1]);
    ``strides`` are the three TGrows' (the first is 1 in every published file)."""

    def __init__(self, latent_channels: int, strides: tuple[int, int, int] = (1, 2, 2)) -> None:
        widths = DECODER_WIDTHS
        layers: list[nn.Module] = [_SoftClamp(), _conv(latent_channels, widths[0]), nn.ReLU()]
        for stage, stride in enumerate(strides):
            width = widths[stage]
            layers += [MemBlock(width) for _ in range(3)]
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), TGrow(width, stride)]
            layers.append(_conv(width, widths[stage + 1], bias=False))
        layers += [nn.ReLU(), _conv(widths[-1], 3)]
        super().__init__(*layers)
        self.latent_channels = latent_channels
        self.time_growth = strides[0] * strides[1] * strides[2]


def apply_to_frames(model: nn.Sequential, x: Tensor, batch: int, start: int = 0) -> Tensor:
    """Run ``model[start:]`` on frames flattened batch-major, ``[B·T, C, H, W]`` (all frames at once,
    ``taehv.py``'s "parallel" mode); each MemBlock's past is the previous frame of the same clip."""
    for layer in list(model)[start:]:
        if isinstance(layer, MemBlock):
            frames = x.reshape(batch, -1, *x.shape[1:])
            past = F.pad(frames, (0, 0, 0, 0, 0, 0, 1, 0))[:, :-1]  # zeros, then frames 0 … T−2
            x = layer(x, past.reshape(x.shape))
        else:
            x = layer(x)
    return x


def encode_image(encoder: TaehvEncoder, image: Tensor) -> Tensor:
    """One still image ``[B, 3, H, W]`` (H, W multiples of 8) → one latent frame ``[B, C, H/8, W/8]``.

    The image stands for ``time_reduction`` equal frames (``encode_video``'s end padding). Layers
    before the first TPool see each frame alone, so they run once and their output is repeated."""
    first_pool = next(i for i, layer in enumerate(encoder) if isinstance(layer, TPool))
    x = image
    for layer in list(encoder)[:first_pool]:
        x = layer(x)
    frames = encoder.time_reduction
    x = x.unsqueeze(1).expand(-1, frames, *x.shape[1:]).reshape(-1, *x.shape[1:])
    return apply_to_frames(encoder, x, image.shape[0], start=first_pool)


def decode_image(decoder: TaehvDecoder, latent: Tensor) -> Tensor:
    """One latent frame ``[B, C, h, w]`` → the image ``[B, 3, 8h, 8w]``: the last of the
    ``time_growth`` decoded frames (``decode_video`` trims the others)."""
    out = apply_to_frames(decoder, latent, latent.shape[0])
    return out.reshape(latent.shape[0], decoder.time_growth, *out.shape[1:])[:, -1]
