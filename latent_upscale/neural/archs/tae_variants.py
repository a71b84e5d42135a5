"""TAESD variants: tell them apart from a file's layout and name, and load halves and pairs.

**Variants and detection.** The layout gives the latent channels (4, 16, 32 or 64), whether the
side branch is there (only TAEF2) and the spatial factor (8, or 16 for TAEQI2.1's layout with RGBA
images). It does *not* tell TAESD (SD1/SD2) from TAESDXL (SDXL), nor TAESD3 from TAEF1: each pair has
identical layouts and differs only in its weights. Those are told apart by the published file name
(``taesdxl_decoder.pth``…), or by the caller naming the variant.

:mod:`latent_upscale.neural.archs.tae` is the architecture module (it describes the latent conventions
of :attr:`TaeVariant.latent_format`); :mod:`latent_upscale.neural.archs.tae_layers` builds the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural.archs.tae_conventions import QWEN_IMAGE21_MODEL_SPACE
from latent_upscale.neural.archs.tae_layers import (
    DECODER_GN_BLOCKS,
    DECODER_IN,
    DECODER_OUT,
    DECODER_SIGNATURE,
    ENCODER_GN_BLOCKS,
    ENCODER_OUT,
    ENCODER_SIGNATURE,
    F16_DECODER_OUT,
    F16_ENCODER_OUT,
    F16_ENCODER_SIGNATURE,
    F16_WIDTHS,
    WIDTH,
    TaeDecoder,
    TaeEncoder,
    TaeF16Decoder,
    TaeF16Encoder,
)

__all__ = [
    "VARIANTS",
    "TaeHalf",
    "TaeLayout",
    "TaeVariant",
    "TinyAutoencoder",
    "describe_layout",
    "detect_variant",
    "find_pair",
    "load",
    "load_tiny_autoencoder",
    "variant_from_name",
]


@dataclass(frozen=True)
class TaeVariant:
    """One published TAESD variant: its latent channels, side branch, families and latent convention.

    ``latent_format`` maps the family's raw VAE latent to the TAE latent (``(raw − shift) · scale``).
    ``layout`` is ``"f8"`` (8× per side, RGB) or ``"f16"`` (16× per side, 2×2 pixel (un)shuffle at the
    image end, ``image_channels`` 4 for RGBA).
    """

    id: str
    label: str
    families: tuple[str, ...]
    latent_channels: int
    midblock_gn: bool
    latent_format: LatentFormat
    layout: str = "f8"
    image_channels: int = 3

    @property
    def spatial(self) -> int:
        """Image pixels per latent pixel, per side (8, or 16 for the ``f16`` layout)."""
        return 16 if self.layout == "f16" else 8

    def file_name(self, half: str) -> str:
        """The published file name of one half, e.g. ``taesdxl_decoder.pth``."""
        return f"{self.id}_{half}.pth"


#: Published variants (madebyollin/taesd, commit 5cccb12; TAEQI2.1 from commit 401ce45). Scale/shift
#: are the families' model-space factors (ldm v1-inference.yaml 0.18215, sgm SDXL 0.13025, SD3
#: 1.5305/0.0609, FLUX.1 0.3611/0.1159; Qwen-Image 2.1 per-channel mean/std). TAEQI2.1 takes the
#: normalised latent: taesd.py's ``TAESD`` applies no scale to it, ComfyUI's ``QwenImage21`` latent
#: format previews its model-space ``x0`` with it, and its Diffusers release declares mean 0 and std 1.
VARIANTS: dict[str, TaeVariant] = {
    "taesd": TaeVariant("taesd", "TAESD (SD1/SD2)", ("sd1", "sd2"), 4, False, LatentFormat(scale=0.18215)),
    "taesdxl": TaeVariant("taesdxl", "TAESDXL (SDXL)", ("sdxl",), 4, False, LatentFormat(scale=0.13025)),
    "taesd3": TaeVariant("taesd3", "TAESD3 (SD3)", ("sd3",), 16, False, LatentFormat(1.5305, 0.0609)),
    "taef1": TaeVariant("taef1", "TAEF1 (FLUX.1)", ("flux",), 16, False, LatentFormat(0.3611, 0.1159)),
    "taef2": TaeVariant("taef2", "TAEF2 (FLUX.2)", ("flux2",), 32, True, LatentFormat()),
    "taeqi2_1": TaeVariant(
        "taeqi2_1",
        "TAEQI2.1 (Qwen-Image 2.1)",
        (),  # the family registry names it (``Family.autoencoder``); see :func:`served_families`
        64,
        False,
        QWEN_IMAGE21_MODEL_SPACE,
        layout="f16",
        image_channels=4,
    ),
}

#: Longest names first, so ``taesdxl`` is not read as ``taesd``.
_NAME_PATTERN = re.compile(r"(taesdxl|taesd3|taesd|taef1|taef2|taeqi2_1)(?![a-z0-9])")


def served_families(variant_id: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The families whose ``Family.autoencoder`` names ``variant_id`` (registry order), else
    ``default``: the family registry is the one place that says which weights serve which family."""
    from latent_upscale.families import FAMILY_LIST

    named = tuple(family.id for family in FAMILY_LIST if family.autoencoder == variant_id)
    return named or default


# --- layout and variant detection ------------------------------------------------------------------


@dataclass(frozen=True)
class TaeLayout:
    """What a state dict's shapes say: which half, how many latent channels, side branch or not, and
    the layout (``"f8"``, or ``"f16"`` with ``image_channels`` from its image-side conv)."""

    half: str  # "encoder" or "decoder"
    latent_channels: int
    midblock_gn: bool
    layout: str = "f8"
    image_channels: int = 3

    @property
    def candidates(self) -> tuple[str, ...]:
        """Variant ids with this layout (two for 4 and 16 channels: the file name decides)."""
        return tuple(
            v.id
            for v in VARIANTS.values()
            if (v.latent_channels, v.midblock_gn, v.layout, v.image_channels)
            == (self.latent_channels, self.midblock_gn, self.layout, self.image_channels)
        )

    def describe(self) -> str:
        """E.g. ``"a 16-channel TAESD encoder without the GroupNorm side branch"``."""
        branch = "with" if self.midblock_gn else "without"
        extra = f", 16× layout with {self.image_channels} image channels" if self.layout == "f16" else ""
        channels = f"{self.latent_channels} latent channels"
        return f"a TAESD {self.half} with {channels} {branch} the GroupNorm side branch{extra}"


def _shape(state_dict: Mapping[str, Tensor], key: str) -> tuple[int, ...] | None:
    tensor = state_dict.get(key)
    return None if tensor is None else tuple(tensor.shape)


def _conv_shape(shape: tuple[int, ...] | None, n_out: int | None, n_in: int | None) -> bool:
    """A 3×3 conv weight with these output/input channels (``None``: any)."""
    if shape is None or len(shape) != 4 or shape[2:] != (3, 3):
        return False
    return (n_out is None or shape[0] == n_out) and (n_in is None or shape[1] == n_in)


def describe_layout(state_dict: Mapping[str, Tensor], source: str = "state dict") -> TaeLayout:
    """Read the half, the latent channels, the side branch and the 8×/16× layout from the shapes.

    Raises :class:`LatentUpscaleError` naming the keys and shapes found when the state dict is not a
    TAESD encoder or decoder.
    """
    has = {
        "encoder": all(key in state_dict for key in ENCODER_SIGNATURE),
        "f16-encoder": all(key in state_dict for key in F16_ENCODER_SIGNATURE),
        "decoder": all(key in state_dict for key in DECODER_SIGNATURE),
    }
    if sum(has.values()) != 1:
        what = "several layouts' keys" if any(has.values()) else "neither layout's keys"
        sample = ", ".join(sorted(state_dict)[:6])
        raise LatentUpscaleError(
            f"{source} is not a TAESD encoder or decoder: it has {what} (encoder: "
            f"{', '.join(ENCODER_SIGNATURE)}; 16× encoder: {', '.join(F16_ENCODER_SIGNATURE)}; decoder: "
            f"{', '.join(DECODER_SIGNATURE)}); found {len(state_dict)} tensors such as {sample}"
        )
    if has["encoder"]:
        first, last = _shape(state_dict, "0.weight"), _shape(state_dict, f"{ENCODER_OUT}.weight")
        if not (_conv_shape(first, WIDTH, 3) and _conv_shape(last, None, WIDTH)):
            raise LatentUpscaleError(
                f"{source}: a TAESD encoder has 0.weight of shape (64, 3, 3, 3) and 14.weight of shape "
                f"(C, 64, 3, 3); found {first} and {last}"
            )
        assert last is not None
        gn_key = f"{ENCODER_GN_BLOCKS[0]}.pool.0.weight"
        return TaeLayout("encoder", last[0], gn_key in state_dict)
    if has["f16-encoder"]:
        first, last = _shape(state_dict, "1.weight"), _shape(state_dict, f"{F16_ENCODER_OUT}.weight")
        if not (_conv_shape(first, F16_WIDTHS[0], None) and _conv_shape(last, None, F16_WIDTHS[-1])):
            raise LatentUpscaleError(
                f"{source}: a 16× TAESD encoder has 1.weight of shape (64, 4·I, 3, 3) and 16.weight of "
                f"shape (C, 256, 3, 3); found {first} and {last}"
            )
        assert first is not None and last is not None
        return TaeLayout("encoder", last[0], False, "f16", first[1] // 4)
    first = _shape(state_dict, f"{DECODER_IN}.weight")
    if _conv_shape(first, F16_WIDTHS[-1], None):  # the 16× decoder starts at 256 channels
        last = _shape(state_dict, f"{F16_DECODER_OUT}.weight")
        if not _conv_shape(last, None, F16_WIDTHS[0]) or last[0] % 4:  # type: ignore[index]
            raise LatentUpscaleError(
                f"{source}: a 16× TAESD decoder has 19.weight of shape (4·I, 64, 3, 3); found {last}"
            )
        assert first is not None and last is not None
        return TaeLayout("decoder", first[1], False, "f16", last[0] // 4)
    last = _shape(state_dict, f"{DECODER_OUT}.weight")
    if not (_conv_shape(last, 3, WIDTH) and _conv_shape(first, WIDTH, None)):
        raise LatentUpscaleError(
            f"{source}: a TAESD decoder has 1.weight of shape (64, C, 3, 3) and 19.weight of shape "
            f"(3, 64, 3, 3); found {first} and {last}"
        )
    assert first is not None
    gn_key = f"{DECODER_GN_BLOCKS[0]}.pool.0.weight"
    return TaeLayout("decoder", first[1], gn_key in state_dict)


def variant_from_name(name: str | Path | None) -> str | None:
    """The variant a published file name states (``taesdxl_encoder.pth`` → ``taesdxl``), else ``None``."""
    if name is None:
        return None
    match = _NAME_PATTERN.search(Path(name).name.lower())
    return match.group(1) if match else None


def detect_variant(
    state_dict: Mapping[str, Tensor],
    filename: str | Path | None = None,
    *,
    variant: str | None = None,
) -> str:
    """The variant id of a TAESD half: from its layout, then the caller's ``variant``, then the file name.

    Raises :class:`LatentUpscaleError` when the layout is not TAESD's, when the named variant does
    not fit the layout, or when the layout is shared by two variants (4 channels: taesd/taesdxl;
    16: taesd3/taef1) and neither ``variant`` nor the file name says which.
    """
    source = Path(filename).name if filename is not None else "state dict"
    layout = describe_layout(state_dict, source)
    candidates = layout.candidates
    if not candidates:
        known = "; ".join(
            f"{v.id}: {v.latent_channels} channels{', GroupNorm side branch' if v.midblock_gn else ''}"
            f"{', 16× RGBA' if v.layout == 'f16' else ''}"
            for v in VARIANTS.values()
        )
        raise LatentUpscaleError(f"{source}: {layout.describe()} matches no published variant ({known})")
    named, how = (variant, "variant=") if variant is not None else (variant_from_name(filename), "file name")
    if variant is not None and variant not in VARIANTS:
        raise LatentUpscaleError(f"unknown TAESD variant {variant!r}; expected one of: {', '.join(VARIANTS)}")
    if named is not None:
        if named not in candidates:
            raise LatentUpscaleError(
                f"{source}: the {how} says {named} but the weights are a {layout.latent_channels}-channel "
                f"layout (fits {', '.join(candidates)})"
            )
        return named
    if len(candidates) == 1:
        return candidates[0]
    raise LatentUpscaleError(
        f"{source}: a {layout.latent_channels}-channel TAESD {layout.half} fits {' and '.join(candidates)}, "
        "whose layouts are identical; keep the published file name (e.g. "
        f"{VARIANTS[candidates[1]].file_name(layout.half)}) or name the variant"
    )


# --- loading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TaeHalf:
    """A strictly loaded encoder or decoder and what it is."""

    variant: TaeVariant
    half: str
    module: nn.Module


def load(
    state_dict: Mapping[str, Tensor],
    *,
    filename: str | Path | None = None,
    variant: str | None = None,
) -> TaeHalf:
    """Detect the half and the variant, build the module (float32, eval, no grad) and load strictly.

    Raises :class:`LatentUpscaleError` for layouts that are not TAESD's or do not match exactly
    (missing or unexpected keys, wrong shapes), naming the file and the keys.
    """
    source = Path(filename).name if filename is not None else "state dict"
    variant_id = detect_variant(state_dict, filename, variant=variant)
    spec = VARIANTS[variant_id]
    layout = describe_layout(state_dict, source)
    module: nn.Module
    if spec.layout == "f16":
        f16 = TaeF16Encoder if layout.half == "encoder" else TaeF16Decoder
        module = f16(spec.latent_channels, spec.image_channels)
    else:
        f8 = TaeEncoder if layout.half == "encoder" else TaeDecoder
        module = f8(spec.latent_channels, midblock_gn=spec.midblock_gn)
    try:
        module.load_state_dict(dict(state_dict), strict=True)
    except RuntimeError as error:
        message = " ".join(str(error).split())
        if len(message) > 600:
            message = message[:600] + " …"
        raise LatentUpscaleError(
            f"{source} looks like a {spec.id} {layout.half} but does not match its layout: {message}"
        ) from error
    return TaeHalf(variant=spec, half=layout.half, module=module.float().eval().requires_grad_(False))


class TinyAutoencoder(nn.Module):
    """An encoder/decoder pair of one variant. Images are ``[B, I, H, W]`` in [0, 1] (I = 3 for RGB, 4
    for TAEQI2.1's RGBA; H, W multiples of the spatial factor ``s``, 8 or 16); latents
    ``[B, C, H/s, W/s]`` are in the variant's TAE space (the family's model space, see
    :attr:`TaeVariant.latent_format`)."""

    def __init__(self, encoder: TaeHalf, decoder: TaeHalf, files: tuple[str, str] = ("", "")) -> None:
        super().__init__()
        if encoder.half != "encoder" or decoder.half != "decoder":
            raise LatentUpscaleError(
                f"expected an encoder and a decoder, got a {encoder.half} and a {decoder.half}"
            )
        if encoder.variant.id != decoder.variant.id:
            raise LatentUpscaleError(
                f"the encoder is {encoder.variant.id} but the decoder is {decoder.variant.id}; "
                "use a matching pair"
            )
        self.variant = encoder.variant
        self.encoder = encoder.module
        self.decoder = decoder.module
        self.files = files

    @property
    def latent_channels(self) -> int:
        """Channels of the latent (4, 16, 32 or 64)."""
        return self.variant.latent_channels

    @property
    def spatial(self) -> int:
        """Image pixels per latent pixel, per side (8 or 16)."""
        return self.variant.spatial

    def encode(self, image: Tensor) -> Tensor:
        """``[B, I, H, W]`` in [0, 1] → ``[B, C, H/s, W/s]``, float32 (inference mode). An RGBA variant
        takes RGB as opaque RGBA (alpha 1), as taesd.py's example does."""
        image = image.float()
        if image.shape[1] == 3 and self.variant.image_channels == 4:
            image = torch.cat([image, torch.ones_like(image[:, :1])], dim=1)
        with torch.inference_mode():
            return self.encoder(image)

    def decode(self, latent: Tensor) -> Tensor:
        """``[B, C, h, w]`` → ``[B, I, s·h, s·w]`` clamped to [0, 1], float32 (inference mode)."""
        with torch.inference_mode():
            return self.decoder(latent.float()).clamp(0.0, 1.0)


def find_pair(folder: str | Path) -> tuple[Path, Path]:
    """The ``*encoder*`` and ``*decoder*`` weight files in ``folder`` (one of each, under any extension
    of :data:`~latent_upscale.neural.state_dict.WEIGHT_SUFFIXES`; safetensors first)."""
    from latent_upscale.neural.state_dict import WEIGHT_SUFFIXES as _WEIGHT_SUFFIXES

    folder = Path(folder)
    if not folder.is_dir():
        raise LatentUpscaleError(f"not a folder: {folder}")
    found: dict[str, list[Path]] = {"encoder": [], "decoder": []}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in _WEIGHT_SUFFIXES:
            continue
        for half, files in found.items():
            if half in path.name.lower():
                files.append(path)
    chosen = []
    for half, files in found.items():
        if not files:
            raise LatentUpscaleError(
                f"{folder} holds no {half} file (expected e.g. taef2_{half}.pth or .safetensors)"
            )
        stems = {path.stem for path in files}
        if len(stems) > 1:
            raise LatentUpscaleError(
                f"{folder} holds several {half} files ({', '.join(p.name for p in files)}); "
                "pass the two files"
            )
        files.sort(key=lambda path: _WEIGHT_SUFFIXES.index(path.suffix.lower()))
        chosen.append(files[0])
    return chosen[0], chosen[1]


def load_tiny_autoencoder(
    encoder_path: str | Path, decoder_path: str | Path, *, variant: str | None = None
) -> TinyAutoencoder:
    """Read both files (``.safetensors``, or ``.pth`` through the weights-only unpickler) and load them.

    Raises :class:`LatentUpscaleError` for unreadable files, wrong layouts and mismatched pairs.
    """
    from latent_upscale.neural.state_dict import read_state_dict

    halves = []
    for path in (Path(encoder_path), Path(decoder_path)):
        halves.append(load(read_state_dict(path), filename=path, variant=variant))
    encoder, decoder = halves
    if encoder.half == "decoder" and decoder.half == "encoder":
        encoder, decoder = decoder, encoder
    return TinyAutoencoder(encoder, decoder, files=(Path(encoder_path).name, Path(decoder_path).name))
