"""TAESD variants: tell them apart from a file's layout and name, and load halves and pairs.

**Variants and detection.** The layout gives the latent channels (4, 16 or 32) and whether the
side branch is there (only TAEF2). It does *not* tell TAESD (SD1/SD2) from TAESDXL (SDXL), nor TAESD3
from TAEF1: each pair has identical layouts and differs only in its weights. Those are told apart by the
published file name (``taesdxl_decoder.pth``…), or by the caller naming the variant.

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
from latent_upscale.neural.archs.tae_layers import (
    DECODER_GN_BLOCKS,
    DECODER_IN,
    DECODER_OUT,
    DECODER_SIGNATURE,
    ENCODER_GN_BLOCKS,
    ENCODER_OUT,
    ENCODER_SIGNATURE,
    WIDTH,
    TaeDecoder,
    TaeEncoder,
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
    """

    id: str
    label: str
    families: tuple[str, ...]
    latent_channels: int
    midblock_gn: bool
    latent_format: LatentFormat

    def file_name(self, half: str) -> str:
        """The published file name of one half, e.g. ``taesdxl_decoder.pth``."""
        return f"{self.id}_{half}.pth"


#: Published variants (madebyollin/taesd, commit 5cccb12). Scale/shift are the families' model-space
#: factors (ldm v1-inference.yaml 0.18215, sgm SDXL 0.13025, SD3 1.5305/0.0609, FLUX.1 0.3611/0.1159).
VARIANTS: dict[str, TaeVariant] = {
    "taesd": TaeVariant("taesd", "TAESD (SD1/SD2)", ("sd1", "sd2"), 4, False, LatentFormat(scale=0.18215)),
    "taesdxl": TaeVariant("taesdxl", "TAESDXL (SDXL)", ("sdxl",), 4, False, LatentFormat(scale=0.13025)),
    "taesd3": TaeVariant("taesd3", "TAESD3 (SD3)", ("sd3",), 16, False, LatentFormat(1.5305, 0.0609)),
    "taef1": TaeVariant("taef1", "TAEF1 (FLUX.1)", ("flux",), 16, False, LatentFormat(0.3611, 0.1159)),
    "taef2": TaeVariant("taef2", "TAEF2 (FLUX.2)", ("flux2",), 32, True, LatentFormat()),
}

#: Longest names first, so ``taesdxl`` is not read as ``taesd``.
_NAME_PATTERN = re.compile(r"(taesdxl|taesd3|taesd|taef1|taef2)(?![a-z0-9])")


# --- layout and variant detection ------------------------------------------------------------------


@dataclass(frozen=True)
class TaeLayout:
    """What a state dict's shapes say: which half, how many latent channels, side branch or not."""

    half: str  # "encoder" or "decoder"
    latent_channels: int
    midblock_gn: bool

    @property
    def candidates(self) -> tuple[str, ...]:
        """Variant ids with this layout (two for 4 and 16 channels: the file name decides)."""
        return tuple(
            v.id
            for v in VARIANTS.values()
            if v.latent_channels == self.latent_channels and v.midblock_gn == self.midblock_gn
        )


def _shape(state_dict: Mapping[str, Tensor], key: str) -> tuple[int, ...] | None:
    tensor = state_dict.get(key)
    return None if tensor is None else tuple(tensor.shape)


def describe_layout(state_dict: Mapping[str, Tensor], source: str = "state dict") -> TaeLayout:
    """Read the half, the latent channels and the side branch from the shapes.

    Raises :class:`LatentUpscaleError` naming the keys and shapes found when the state dict is not a
    TAESD encoder or decoder.
    """
    is_encoder = all(key in state_dict for key in ENCODER_SIGNATURE)
    is_decoder = all(key in state_dict for key in DECODER_SIGNATURE)
    if is_encoder == is_decoder:
        what = "both an encoder's and a decoder's keys" if is_encoder else "neither layout's keys"
        sample = ", ".join(sorted(state_dict)[:6])
        raise LatentUpscaleError(
            f"{source} is not a TAESD encoder or decoder: it has {what} (encoder: "
            f"{', '.join(ENCODER_SIGNATURE)}; decoder: {', '.join(DECODER_SIGNATURE)}); found "
            f"{len(state_dict)} tensors such as {sample}"
        )
    if is_encoder:
        first, last = _shape(state_dict, "0.weight"), _shape(state_dict, f"{ENCODER_OUT}.weight")
        if first != (WIDTH, 3, 3, 3) or last is None or len(last) != 4 or last[1:] != (WIDTH, 3, 3):
            raise LatentUpscaleError(
                f"{source}: a TAESD encoder has 0.weight of shape (64, 3, 3, 3) and 14.weight of shape "
                f"(C, 64, 3, 3); found {first} and {last}"
            )
        channels, gn_key = last[0], f"{ENCODER_GN_BLOCKS[0]}.pool.0.weight"
        half = "encoder"
    else:
        first, last = _shape(state_dict, f"{DECODER_IN}.weight"), _shape(state_dict, f"{DECODER_OUT}.weight")
        if last != (3, WIDTH, 3, 3) or first is None or len(first) != 4 or first[0] != WIDTH:
            raise LatentUpscaleError(
                f"{source}: a TAESD decoder has 1.weight of shape (64, C, 3, 3) and 19.weight of shape "
                f"(3, 64, 3, 3); found {first} and {last}"
            )
        channels, gn_key = first[1], f"{DECODER_GN_BLOCKS[0]}.pool.0.weight"
        half = "decoder"
    return TaeLayout(half=half, latent_channels=int(channels), midblock_gn=gn_key in state_dict)


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
            for v in VARIANTS.values()
        )
        branch = "with" if layout.midblock_gn else "without"
        raise LatentUpscaleError(
            f"{source}: a TAESD {layout.half} with {layout.latent_channels} latent channels {branch} the "
            f"GroupNorm side branch matches no published variant ({known})"
        )
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
    cls = TaeEncoder if layout.half == "encoder" else TaeDecoder
    module = cls(spec.latent_channels, midblock_gn=spec.midblock_gn)
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
    """An encoder/decoder pair of one variant. Images are RGB ``[B, 3, H, W]`` in [0, 1] (H, W
    multiples of 8); latents ``[B, C, H/8, W/8]`` are in the variant's TAE space (the family's
    model space, see :attr:`TaeVariant.latent_format`)."""

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
        """Channels of the latent (4, 16 or 32)."""
        return self.variant.latent_channels

    def encode(self, image: Tensor) -> Tensor:
        """``[B, 3, H, W]`` in [0, 1] → ``[B, C, H/8, W/8]``, float32 (inference mode)."""
        with torch.inference_mode():
            return self.encoder(image.float())

    def decode(self, latent: Tensor) -> Tensor:
        """``[B, C, h, w]`` → ``[B, 3, 8h, 8w]`` clamped to [0, 1], float32 (inference mode)."""
        with torch.inference_mode():
            return self.decoder(latent.float()).clamp(0.0, 1.0)


_WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")


def find_pair(folder: str | Path) -> tuple[Path, Path]:
    """The ``*encoder*`` and ``*decoder*`` weight files in ``folder`` (one of each; safetensors first)."""
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
