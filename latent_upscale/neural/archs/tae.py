"""Tiny autoencoders (TAESD family): encode RGB images to a model family's latent and decode them back.

Original project: https://github.com/madebyollin/taesd (TAESD, TAESDXL, TAESD3, TAEF1, TAEF2; MIT,
© 2023 Ollin Boer Bohan); weights are the ``<variant>_encoder.pth`` / ``<variant>_decoder.pth`` files of
that repository (A1111 and Forge keep them in ``models/VAE-approx``). This module is our own
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

**Variants and detection.** The layout gives the latent channels (4, 16 or 32) and whether the
side branch is there (only TAEF2). It does *not* tell TAESD (SD1/SD2) from TAESDXL (SDXL), nor TAESD3
from TAEF1: each pair has identical layouts and differs only in its weights. Those are told apart by the
published file name (``taesdxl_decoder.pth``…), or by the caller naming the variant.

**Latent conventions.** TAESD's "scale factor is 1": its latents are the latents the diffusion model
sees, i.e. the host's *model space* ``(raw − shift) · scale`` (ComfyUI loads TAESD with
``vae_scale``/``vae_shift`` 0.18215/0, 0.13025/0, 1.5305/0.0609, 0.3611/0.1159 for the four older
variants). :attr:`TaeVariant.latent_format` maps the raw VAE latent to the TAE latent exactly like
:class:`~latent_upscale.latent_formats.LatentFormat` maps raw to model space, so a WebUI latent goes in
unchanged. TAEF2 (32 channels, 1/8 resolution) mimics the FLUX.2 VAE's own ``encode``/``decode``, which
work on the raw, unpatchified latent; the pipeline's patchify to 128 channels and batch-norm
normalisation happen outside the VAE. So we take TAEF2 latents as the raw FLUX.2 latent, the convention
of ``FAMILIES["flux2"]`` (identity). Measured with the published weights on six scikit-image
photographs (float32, whole images): per-channel means −0.43…+0.33 (mean |mean| 0.19), spreads
0.62…1.04 (all values 0.83), extremes about ±5: near unit scale (unlike FLUX.1's raw latent, spread
about 2.8) yet not zero-mean unit-variance per channel, consistent with a raw latent; TAE latents of
the older variants are in model space instead, as above.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural.archs._grid import TileGrid, resample_filtered
from latent_upscale.neural.descriptor import ModelDescriptor
from latent_upscale.resize_methods import lanczos

__all__ = [
    "ARCH_ID",
    "BEFORE",
    "NAME",
    "PARTS",
    "RESAMPLER",
    "SIGNATURE_KEYS",
    "VARIANTS",
    "TaeBlock",
    "TaeDecoder",
    "TaeEncoder",
    "TaeHalf",
    "TaeLayout",
    "TaeVariant",
    "TinyAutoencoder",
    "describe_layout",
    "detect",
    "detect_variant",
    "find_pair",
    "forward",
    "load",
    "load_parts",
    "load_tiny_autoencoder",
    "part_of",
    "resize_image",
    "variant_from_name",
]

ARCH_ID = "tae"
NAME = "TAESD"
#: No other detector claims TAESD's numbered ``nn.Sequential`` keys.
BEFORE: tuple[str, ...] = ()
#: A weight set is a decoder and an encoder (``load_parts``); a lone half is refused by the registry.
PARTS = ("decoder", "encoder")
#: The pixel-space resize of the round trip: antialiased bicubic (torch, float32). Chosen with
#: ``bench quality --quick`` on the real TAEF2 weights (2 photographs, 256 px crops): bicubic 26.74 /
#: 25.42 dB PSNR and 0.851 / 0.802 HaarPSI at 1.5× / 2×, float Lanczos-3 26.69 / 25.39 dB and
#: 0.849 / 0.802. ``"lanczos"`` stays selectable for re-measuring.
RESAMPLER = "bicubic"
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
SIGNATURE_KEYS = ENCODER_SIGNATURE + DECODER_SIGNATURE


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


# --- the network -----------------------------------------------------------------------------------


def _conv(n_in: int, n_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=bias)


class TaeBlock(nn.Module):
    """``relu(convs(x') + x')`` with ``x' = x + side(x)`` when the GroupNorm side branch is present.

    Parameter names follow the published layout: ``conv.{0,2,4}`` and ``pool.{0,1,3}``.
    """

    def __init__(self, channels: int = WIDTH, *, midblock_gn: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv(channels, channels),
            nn.ReLU(),
            _conv(channels, channels),
            nn.ReLU(),
            _conv(channels, channels),
        )
        self.pool: nn.Sequential | None = None
        if midblock_gn:
            wide = 4 * channels
            self.pool = nn.Sequential(
                nn.Conv2d(channels, wide, 1, bias=False),
                nn.GroupNorm(4, wide),
                nn.ReLU(),
                nn.Conv2d(wide, channels, 1, bias=False),
            )

    def forward(self, x: Tensor) -> Tensor:
        """``[B, C, H, W] → [B, C, H, W]``."""
        if self.pool is not None:
            x = x + self.pool(x)
        return torch.relu(self.conv(x) + x)


class _SoftClamp(nn.Module):
    """``tanh(x / 3) · 3``: keeps decoder inputs within ±3 smoothly."""

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


class TaeDecoder(nn.Sequential):
    """Latent ``[B, C, h, w]`` (the TAE latent space) → RGB image ``[B, 3, 8h, 8w]``, about [0, 1]."""

    def __init__(self, latent_channels: int, *, midblock_gn: bool = False) -> None:
        layers: list[nn.Module] = [_SoftClamp(), _conv(latent_channels, WIDTH), nn.ReLU()]
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


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True for state dicts with a TAESD encoder's or decoder's signature keys (may be a false positive)."""
    return all(key in state_dict for key in ENCODER_SIGNATURE) or all(
        key in state_dict for key in DECODER_SIGNATURE
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


# --- the architecture contract: a decoder + encoder pair as one round-trip upscaler ----------------


def part_of(state_dict: Mapping[str, Tensor]) -> str:
    """``"decoder"`` or ``"encoder"``, from the layout (raises for state dicts that are neither)."""
    return describe_layout(state_dict).half


def resize_image(image: Tensor, size: tuple[int, int], grid: TileGrid | None = None) -> Tensor:
    """Resize RGB ``[B, 3, H, W]`` to ``size`` image pixels in float32 (antialiased when shrinking, no
    8-bit rounding), with :data:`RESAMPLER`. ``grid`` (in *latent* pixels) places a tile in the
    whole image, so each tile samples the whole image's grid; the result is clamped to [0, 1]."""
    work = image.float()
    if tuple(work.shape[-2:]) == tuple(size):
        return work.clamp(0.0, 1.0)
    if grid is None:
        if RESAMPLER == "bicubic":
            out = F.interpolate(work, size=size, mode="bicubic", align_corners=False, antialias=True)
        else:
            out = lanczos(work, size)
        return out.clamp(0.0, 1.0)
    return resample_filtered(work, RESAMPLER, size, _image_grid(grid)).clamp(0.0, 1.0)


def _image_grid(grid: TileGrid) -> TileGrid:
    """A latent-pixel tile grid in image pixels (8 per latent pixel)."""

    def times8(pair: tuple[int, int]) -> tuple[int, int]:
        return (8 * pair[0], 8 * pair[1])

    return TileGrid(
        times8(grid.full_src), times8(grid.full_out), times8(grid.src_offset), times8(grid.out_offset)
    )


def forward(
    model: nn.Module, latent: Tensor, size: tuple[int, int], grid: TileGrid | None, factor: float | None
) -> Tensor:
    """The descriptor's call: decode ``latent [B, C, h, w]`` (TAE space), resize the image to exactly
    ``8 · size`` pixels (:func:`resize_image`, float32), encode → ``[B, C, *size]`` in the latent's dtype."""
    assert isinstance(model, TinyAutoencoder)
    image = model.decoder(latent)
    image = resize_image(image, (8 * size[0], 8 * size[1]), grid)
    return model.encoder(image.to(latent.dtype))


def load_parts(
    parts: Mapping[str, Mapping[str, Tensor]], names: Mapping[str, str | None] | None = None
) -> ModelDescriptor:
    """Load a decoder and an encoder (strict) as one round-trip upscaler of any scale.

    ``names`` (part → file name) tell TAESD from TAESDXL and TAESD3 from TAEF1, whose layouts are
    identical. The descriptor's ``convention`` is the variant's :attr:`TaeVariant.latent_format`
    (raw VAE latent → TAE latent), its ``family`` the variant's first family.
    """
    names = names or {}
    halves = {part: load(parts[part], filename=names.get(part)) for part in PARTS}
    pair = TinyAutoencoder(
        halves["encoder"], halves["decoder"], files=(names.get("encoder") or "", names.get("decoder") or "")
    )
    variant = pair.variant
    return ModelDescriptor(
        arch=ARCH_ID,
        name=variant.id.upper(),  # TAESD, TAESDXL, TAESD3, TAEF1, TAEF2
        version="",
        family=variant.families[0],
        in_channels=variant.latent_channels,
        out_channels=variant.latent_channels,
        convention=variant.latent_format,
        scale_range=(1.0, 8.0),  # one round trip reaches any size: the resize happens in pixels
        supports_fp16=True,
        supports_bf16=True,
        preferred_half="fp16",  # the hosts run TAESD in float16
        receptive_radius=None,  # ~20 latent pixels of 3×3 convs, and TAEF2's GroupNorm sees the tile
        tile_margin=TILE_MARGIN,
        min_input_size=1,
        # Tile above 96×96 output latent pixels (768² image pixels): untiled, the 64-channel
        # activations at full image resolution peak near 1 KiB per output image pixel in float32
        # (measured: 3.3× less than the SD VAE round trip at 1024² untiled; the goal is 4×).
        auto_tile_output_pixels=96 * 96,
        channels_last=True,
        hyperparameters={"variant": variant.id, "resampler": RESAMPLER, "files": pair.files},
        model=pair.eval().requires_grad_(False),
        forward=forward,
        tile_tolerance=TILE_TOLERANCE[variant.midblock_gn],
    )


#: Latent pixels trusted inside a tile edge: most of the ~20-pixel receptive field of the decoder and
#: encoder convolutions (the feathered blend hides the rest).
TILE_MARGIN = 8
#: ``‖tiled − untiled‖ / ‖untiled‖`` promised for tiled runs, by "has the GroupNorm side branch".
#: Measured: random weights 0.004 (TAEF2 layout) and 1e-6 (TAESD layout), 32-pixel tiles; the real
#: TAEF2 weights, a 384² photograph at 2× in 32-pixel tiles: 0.14 in the latent, yet 46 dB PSNR
#: between the decoded tiled and untiled images (the GroupNorm shift sits in little-seen channels).
TILE_TOLERANCE = {False: 0.02, True: 0.2}
