"""Tiny autoencoders (TAESD family): encode RGB images to a model family's latent and decode them back.

Original project: https://github.com/madebyollin/taesd (TAESD, TAESDXL, TAESD3, TAEF1, TAEF2, TAEQI2.1;
MIT, © 2023 Ollin Boer Bohan); weights are the ``<variant>_encoder.pth`` / ``<variant>_decoder.pth`` files
of that repository (A1111 1.10, Forge and Forge Neo keep them in ``models/VAE-taesd``, their
``modules/sd_vae_taesd.py``; ComfyUI in ``models/vae_approx`` under any extension it reads, e.g.
``.safetensors``). Our own implementation, written
against the published key layout so the original files load with ``strict=True``, is three modules:
:mod:`~latent_upscale.neural.archs.tae_layers` (the network: blocks, encoder, decoder, the key layout),
:mod:`~latent_upscale.neural.archs.tae_variants` (the variants, their detection, loading halves and
pairs) and this one, the architecture the registry names: detection, the round-trip ``forward`` and the
descriptor. It re-exports the other two's public names.

**Variants and detection.** The layout gives the latent channels (4, 16, 32 or 64), whether the
side branch is there (only TAEF2) and the 8× or 16× layout (TAEQI2.1: 16×, RGBA images). It does
*not* tell TAESD (SD1/SD2) from TAESDXL (SDXL), nor TAESD3
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
the older variants are in model space instead, as above. TAEQI2.1 (Qwen-Image 2.1, 64 channels at
1/16) takes the normalised model-space latent (:mod:`~latent_upscale.neural.archs.tae_conventions`);
its images are RGBA, resized in pixels like RGB (straight alpha, every channel alike).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.neural.archs._grid import TileGrid, resample_filtered
from latent_upscale.neural.archs.tae_layers import (
    DECODER_SIGNATURE,
    ENCODER_SIGNATURE,
    F16_ENCODER_SIGNATURE,
    TaeBlock,
    TaeDecoder,
    TaeEncoder,
    TaeF16Decoder,
    TaeF16Encoder,
)
from latent_upscale.neural.archs.tae_variants import (
    VARIANTS,
    TaeHalf,
    TaeLayout,
    TaeVariant,
    TinyAutoencoder,
    describe_layout,
    detect_variant,
    find_pair,
    load,
    load_tiny_autoencoder,
    served_families,
    variant_from_name,
)
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
    "TaeF16Decoder",
    "TaeF16Encoder",
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
    "served_families",
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
SIGNATURE_KEYS = ENCODER_SIGNATURE + DECODER_SIGNATURE


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True for state dicts with a TAESD encoder's (8× or 16× layout) or decoder's signature keys
    (may be a false positive)."""
    return any(
        all(key in state_dict for key in signature)
        for signature in (ENCODER_SIGNATURE, F16_ENCODER_SIGNATURE, DECODER_SIGNATURE)
    )


# --- the architecture contract: a decoder + encoder pair as one round-trip upscaler ----------------


def part_of(state_dict: Mapping[str, Tensor]) -> str:
    """``"decoder"`` or ``"encoder"``, from the layout (raises for state dicts that are neither)."""
    return describe_layout(state_dict).half


def resize_image(
    image: Tensor, size: tuple[int, int], grid: TileGrid | None = None, spatial: int = 8
) -> Tensor:
    """Resize an image ``[B, I, H, W]`` (RGB or RGBA) to ``size`` image pixels in float32 (antialiased
    when shrinking, no 8-bit rounding), with :data:`RESAMPLER`. ``grid`` (in *latent* pixels, ``spatial``
    image pixels each) places a tile in the whole image, so each tile samples the whole image's grid;
    the result is clamped to [0, 1]."""
    work = image.float()
    if tuple(work.shape[-2:]) == tuple(size):
        return work.clamp(0.0, 1.0)
    if grid is None:
        if RESAMPLER == "bicubic":
            out = F.interpolate(work, size=size, mode="bicubic", align_corners=False, antialias=True)
        else:
            out = lanczos(work, size)
        return out.clamp(0.0, 1.0)
    return resample_filtered(work, RESAMPLER, size, _image_grid(grid, spatial)).clamp(0.0, 1.0)


def _image_grid(grid: TileGrid, spatial: int = 8) -> TileGrid:
    """A latent-pixel tile grid in image pixels (``spatial`` per latent pixel)."""

    def scaled(pair: tuple[int, int]) -> tuple[int, int]:
        return (spatial * pair[0], spatial * pair[1])

    return TileGrid(
        scaled(grid.full_src), scaled(grid.full_out), scaled(grid.src_offset), scaled(grid.out_offset)
    )


def forward(
    model: nn.Module, latent: Tensor, size: tuple[int, int], grid: TileGrid | None, factor: float | None
) -> Tensor:
    """The descriptor's call: decode ``latent [B, C, h, w]`` (TAE space), resize the image to exactly
    ``s · size`` pixels (``s`` = 8, or 16 for TAEQI2.1; :func:`resize_image`, float32), encode →
    ``[B, C, *size]`` in the latent's dtype."""
    assert isinstance(model, TinyAutoencoder)
    spatial = model.spatial
    image = model.decoder(latent)
    image = resize_image(image, (spatial * size[0], spatial * size[1]), grid, spatial)
    return model.encoder(image.to(latent.dtype))


def load_parts(
    parts: Mapping[str, Mapping[str, Tensor]], names: Mapping[str, str | None] | None = None
) -> ModelDescriptor:
    """Load a decoder and an encoder (strict) as one round-trip upscaler of any scale.

    ``names`` (part → file name) tell TAESD from TAESDXL and TAESD3 from TAEF1, whose layouts are
    identical. The descriptor's ``convention`` is the variant's :attr:`TaeVariant.latent_format`
    (raw VAE latent → TAE latent), its ``family`` the first family the registry serves with it.
    """
    names = names or {}
    halves = {part: load(parts[part], filename=names.get(part)) for part in PARTS}
    pair = TinyAutoencoder(
        halves["encoder"], halves["decoder"], files=(names.get("encoder") or "", names.get("decoder") or "")
    )
    variant = pair.variant
    return ModelDescriptor(
        arch=ARCH_ID,
        name=variant.id.upper(),  # TAESD, TAESDXL, TAESD3, TAEF1, TAEF2, TAEQI2_1
        version="",
        family=next(iter(served_families(variant.id, variant.families)), None),
        in_channels=variant.latent_channels,
        out_channels=variant.latent_channels,
        convention=variant.latent_format,
        scale_range=(1.0, 8.0),  # one round trip reaches any size: the resize happens in pixels
        supports_fp16=True,
        supports_bf16=True,
        preferred_half="fp16",  # the hosts run TAESD in float16
        receptive_radius=None,  # ~20 latent pixels of 3×3 convs, and TAEF2's GroupNorm sees the tile
        tile_margin=TILE_MARGIN,
        # Equal tiles: a 64² latent at 2× runs as 4 tiles of 42² instead of 48² (random TAESD weights,
        # SD1 64→128, one run: 20 % less time, 22 % less memory, same tile error). Not for TAEF2, whose
        # GroupNorm sees the tile: real weights, 512² photograph at 2×, tile error 0.26 vs 0.20.
        balanced_tiles=not variant.midblock_gn,
        min_input_size=1,
        # Tile above 256×256 output latent pixels (2048² image pixels, SDXL at 2×) for the 8× layouts:
        # they run their full-resolution stages in strips (tae_strips), so an untiled run peaks near
        # 110–160 B per output image pixel in float32 (SD1 512 → 1024 px: 157 MiB, SDXL 1024 → 2048:
        # 444 MiB; 781 MiB and 3122 MiB whole-image; the SD VAE round trip: 2596 and 10344 MiB) and
        # needs no tiles, whose overlapping margins cost time.
        # The 16× layout (TAEQI2.1) runs whole-image, works at image resolution only in its last,
        # 64-wide stage before the pixel shuffle, yet has 4× more image pixels per latent pixel: tile
        # above 48×48 (768²).
        auto_tile_output_pixels=256 * 256 if variant.spatial == 8 else 48 * 48,
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
