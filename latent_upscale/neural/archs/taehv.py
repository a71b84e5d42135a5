"""TAEHV tiny autoencoders for one image: TAEW2.1 serves Wan 2.1, Wan 2.2-14B, Qwen-Image and Anima.

Original project: https://github.com/madebyollin/taehv (MIT, © 2025 Ollin Boer Bohan). Its README: "For
Wan 2.1, load the ``taew2_1`` weights"; "For Wan 2.2 14B, load the ``taew2_1`` weights since Wan 2.2 14B
still uses the older Wan 2.1 VAE"; "for Qwen Image, load the ``taew2_1`` weights (since Qwen Image uses
the Wan 2.1 VAE encoder)". Anima's latent is the Wan 2.1 VAE's too. The weights are one file,
``taew2_1.pth`` (and ``safetensors/taew2_1.safetensors``), holding the encoder (``encoder.*``) and the
decoder (``decoder.*``); A1111-family hosts keep TAE files in ``models/VAE-taesd``, ComfyUI in
``models/vae_approx``. The network and how a still image passes through its temporal blocks:
:mod:`~latent_upscale.neural.archs.taehv_layers`; the latent it takes (the normalised Wan latent, the
model space): :mod:`~latent_upscale.neural.archs.tae_conventions`.

The architecture contract (``ADDING_AN_ARCHITECTURE.md`` beside this file): detection by the ``encoder.``/
``decoder.`` keys of the TAEHV layout, ``load`` of the one file, and the ``tae`` round trip as
``forward`` (decode the frame, resize the image in pixels, encode it again), exactly as
:mod:`~latent_upscale.neural.archs.tae` does for the TAESD layouts.

Only TAEW2.1 is served: the other TAEHV checkpoints (``taehv`` for Hunyuan Video, which shares
TAEW2.1's layout; ``taew2_2`` with 48 channels and 2×2 patches; ``taehv1_5``, ``taecvx``, ``taeos1_3``,
``taeltx_2``, ``taeh3``) serve no family of this product, and a file named after one of them is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.neural.archs._grid import TileGrid
from latent_upscale.neural.archs.tae import TILE_MARGIN, resize_image
from latent_upscale.neural.archs.tae_conventions import WAN21_MODEL_SPACE
from latent_upscale.neural.archs.tae_variants import served_families
from latent_upscale.neural.archs.taehv_layers import (
    DECODER_GROWS,
    DECODER_OUT,
    DECODER_WIDTHS,
    ENCODER_OUT,
    ENCODER_POOLS,
    TaehvDecoder,
    TaehvEncoder,
    decode_image,
    encode_image,
)
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = [
    "ARCH_ID",
    "BEFORE",
    "NAME",
    "SIGNATURE_KEYS",
    "VARIANT",
    "TinyVideoAutoencoder",
    "detect",
    "forward",
    "load",
    "variant_from_name",
]

ARCH_ID = "taehv"
NAME = "TAEHV"
#: No other detector claims the ``encoder.``/``decoder.`` keys of this layout.
BEFORE: tuple[str, ...] = ()
#: ``load`` takes ``filename=``: only the name tells TAEW2.1 from Hunyuan Video's ``taehv.pth``.
NAMED_LOAD = True
#: Keys every TAEHV file has: the first TPool, the first TGrow, the decoder's last conv.
SIGNATURE_KEYS = ("encoder.2.conv.weight", "decoder.7.conv.weight", "decoder.22.bias")
#: The one variant served: its id (the weight set's), latent channels and the families it serves
#: when the family registry names none.
VARIANT = "taew2_1"
LATENT_CHANNELS = 16
DEFAULT_FAMILIES = ("wan",)
#: TAEHV checkpoints of other video VAEs (the taehv README's list): refused by file name.
OTHER_CHECKPOINTS = ("taehv1_5", "taehv", "taew2_2", "taecvx", "taeos1_3", "taeltx", "taeh3")
_NAME_PATTERN = re.compile(r"(taew2_1|" + "|".join(OTHER_CHECKPOINTS) + r")(?![0-9])")


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True for state dicts with the TAEHV signature keys (may be a false positive)."""
    return all(key in state_dict for key in SIGNATURE_KEYS)


def variant_from_name(name: str | Path | None) -> str | None:
    """The TAEHV checkpoint a file name states (``lighttaew2_1.safetensors`` → ``taew2_1``), else ``None``."""
    if name is None:
        return None
    match = _NAME_PATTERN.search(Path(name).name.lower())
    return match.group(1) if match else None


class TinyVideoAutoencoder(nn.Module):
    """TAEW2.1's encoder and decoder used on single frames. Images are RGB ``[B, 3, H, W]`` in [0, 1]
    (H, W multiples of 8); latents ``[B, 16, H/8, W/8]`` are in the TAEW2.1 space (Wan model space)."""

    spatial = 8

    def __init__(self, encoder: TaehvEncoder, decoder: TaehvDecoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, image: Tensor) -> Tensor:
        """``[B, 3, H, W]`` → ``[B, C, H/8, W/8]`` (the image as a still clip)."""
        return encode_image(self.encoder, image)

    def decode(self, latent: Tensor) -> Tensor:
        """``[B, C, h, w]`` → ``[B, 3, 8h, 8w]``, not clamped (the last decoded frame)."""
        return decode_image(self.decoder, latent)


def _shape(state_dict: Mapping[str, Tensor], key: str) -> tuple[int, ...]:
    tensor = state_dict.get(key)
    if tensor is None:
        raise LatentUpscaleError(f"a TAEHV file has {key}; this one lacks it")
    return tuple(tensor.shape)


def _stride(shape: tuple[int, ...], width: int, key: str, *, grow: bool) -> int:
    """A TPool's (``[width, width·s, 1, 1]``) or TGrow's (``[width·s, width, 1, 1]``) stride."""
    wide, narrow = (shape[0], shape[1]) if grow else (shape[1], shape[0])
    stride = wide // width
    if len(shape) != 4 or shape[2:] != (1, 1) or narrow != width or wide % width or stride not in (1, 2):
        side = "(width·s, width, 1, 1)" if grow else "(width, width·s, 1, 1)"
        raise LatentUpscaleError(f"{key} of shape {shape} is not a TAEHV 1×1 conv {side} with s 1 or 2")
    return wide // width


def _layout(state_dict: Mapping[str, Tensor]) -> tuple[int, tuple[int, int, int], tuple[int, int, int]]:
    """Latent channels, encoder TPool strides and decoder TGrow strides, read from the shapes."""
    first, last = _shape(state_dict, "encoder.0.weight"), _shape(state_dict, f"decoder.{DECODER_OUT}.weight")
    if first[1] != 3 or last[0] != 3:
        patch = round((last[0] / 3) ** 0.5)
        raise LatentUpscaleError(
            f"a TAEHV layout with {patch}×{patch} pixel patches (decoder.{DECODER_OUT}.weight {last}): a "
            "checkpoint of another video VAE (taew2_2, taehv1_5, …), which serves no family here; TAEW2.1 "
            "has 3 image channels"
        )
    channels = _shape(state_dict, f"encoder.{ENCODER_OUT}.weight")[0]
    if channels != LATENT_CHANNELS or _shape(state_dict, "decoder.1.weight")[1] != LATENT_CHANNELS:
        raise LatentUpscaleError(
            f"a TAEHV layout with {channels} latent channels: only TAEW2.1's 16 (the Wan 2.1 VAE) are served"
        )
    pools = tuple(
        _stride(_shape(state_dict, f"encoder.{i}.conv.weight"), 64, f"encoder.{i}", grow=False)
        for i in ENCODER_POOLS
    )
    grows = [1]  # decoder 7 is stride 1 in every published configuration (see the layers module)
    for stage, index in enumerate(DECODER_GROWS[1:], start=1):
        key = f"decoder.{index}.conv.weight"
        grows.append(_stride(_shape(state_dict, key), DECODER_WIDTHS[stage], key, grow=True))
    return channels, pools, (grows[0], grows[1], grows[2])  # type: ignore[return-value]


def load(state_dict: Mapping[str, Tensor], filename: str | Path | None = None) -> ModelDescriptor:
    """Build TAEW2.1 from one file's state dict (strict), as one round-trip upscaler of any scale.

    Raises :class:`LatentUpscaleError` for a checkpoint named after another video VAE, a layout that
    is not TAEW2.1's (channels, patches, strides) or keys that do not match exactly.
    """
    source = Path(filename).name if filename is not None else "state dict"
    named = variant_from_name(filename)
    if named is not None and named != VARIANT:
        raise LatentUpscaleError(
            f"{source} is the TAEHV checkpoint {named}, for a video VAE no family of this product uses; "
            f"Wan 2.1/2.2-14B, Qwen-Image and Anima use {VARIANT}"
        )
    channels, pools, grows = _layout(state_dict)
    state = dict(state_dict)
    key = f"decoder.{DECODER_GROWS[0]}.conv.weight"
    if state[key].shape[0] == 2 * DECODER_WIDTHS[0]:  # stored at stride 2: keep the last frame's rows
        state[key] = state[key][-DECODER_WIDTHS[0] :]
    model = TinyVideoAutoencoder(TaehvEncoder(channels, pools), TaehvDecoder(channels, grows))  # type: ignore[arg-type]
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        message = " ".join(str(error).split())
        raise LatentUpscaleError(
            f"{source} looks like {VARIANT} but does not match its layout: {message[:600]}"
        ) from error
    return ModelDescriptor(
        arch=ARCH_ID,
        name=VARIANT.upper(),
        version="",
        family=next(iter(served_families(VARIANT, DEFAULT_FAMILIES)), None),
        in_channels=channels,
        out_channels=channels,
        convention=WAN21_MODEL_SPACE,
        scale_range=(1.0, 8.0),  # one round trip reaches any size: the resize happens in pixels
        supports_fp16=True,
        supports_bf16=True,
        preferred_half="fp16",  # the published weights are float16
        receptive_radius=None,  # about 20 latent pixels of 3×3 convs: tiles are close, not exact
        tile_margin=TILE_MARGIN,
        balanced_tiles=True,
        min_input_size=1,
        # The encoder runs its full-resolution layers once, then four frames at half resolution:
        # tile above 64×64 output latent pixels (512² image pixels).
        auto_tile_output_pixels=64 * 64,
        channels_last=True,
        hyperparameters={"variant": VARIANT, "encoder_pools": pools, "decoder_grows": grows, "files": source},
        model=model.float().eval().requires_grad_(False),
        forward=forward,
        tile_tolerance=0.02,
    )


def forward(
    model: nn.Module, latent: Tensor, size: tuple[int, int], grid: TileGrid | None, factor: float | None
) -> Tensor:
    """The descriptor's call: decode ``latent [B, 16, h, w]`` (TAEW2.1 space) as one frame, resize the
    image to exactly ``8 · size`` pixels (float32, :func:`~latent_upscale.neural.archs.tae.resize_image`),
    encode it as a still clip → ``[B, 16, *size]`` in the latent's dtype."""
    assert isinstance(model, TinyVideoAutoencoder)
    image = resize_image(model.decode(latent), (8 * size[0], 8 * size[1]), grid)
    return model.encode(image.to(latent.dtype))
