"""The neural method: resize a latent to any size with a learned latent upscaler.

``run(latent, size, request)`` is the registry's ``Method.run``. It

1. returns a plain resample when the target is not larger than the input on either axis (the
   networks only enlarge; no weights are needed or loaded);
2. resolves weights for the family (:func:`~latent_upscale.neural.resolution.resolve_weights`) and loads
   them through a small LRU cache (file, device, dtype);
3. converts the latent from the caller's space (``request.latent_space``: ``"scaled"`` model space,
   ``"raw"`` or an explicit :class:`~latent_upscale.latent_formats.LatentFormat`) into the space the
   network was trained in (raw for city96 and SesquiLSR; raw × 0.13025 for Ttl) and back;
4. plans the steps: fixed-factor networks use the smallest available factor that reaches the target
   (2× steps beyond 2×); any-scale networks go straight to the target (2× steps beyond 2×); a final
   resample lands on the exact size (area when shrinking, Lanczos-3 otherwise);
5. runs each step under ``torch.inference_mode`` on the latent's device (or the one in the options),
   in float32 on CPUs and the architecture's half type on accelerators, tiled above a size;
6. records the weights, factors and resample steps in the result (for the WebUI infotext).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import torch
from torch import Tensor

from latent_upscale.core import Size, UpscaleRequest, UpscaleResult
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat, resolve_latent_format
from latent_upscale.neural.archs import load_weight_set
from latent_upscale.neural.archs._grid import TileGrid
from latent_upscale.neural.cache import cache_key, model_cache
from latent_upscale.neural.catalog import hints_from_filename
from latent_upscale.neural.descriptor import ModelDescriptor, same_vae
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.planning import plan_fixed_factors, plan_range
from latent_upscale.neural.resolution import ResolvedWeights, resolve_weights
from latent_upscale.neural.state_dict import read_state_dict
from latent_upscale.neural.tiling import run_tiled
from latent_upscale.resize_methods import lanczos, torch_mode

__all__ = ["METHOD_ID", "load_model", "plan_fixed_factors", "resample", "run"]  # plan_*: re-exported

logger = logging.getLogger(__name__)

METHOD_ID = "neural"
#: Margin (input pixels) trusted inside a tile edge for networks that see the whole image.
_GLOBAL_TILE_MARGIN = 4
_area = torch_mode("area")


# --- resampling ---------------------------------------------------------------------------------


def resample(latent: Tensor, size: Size) -> tuple[Tensor, str]:
    """Land on the exact ``size``: area when no axis grows, Lanczos-3 (antialiased when an axis
    shrinks) otherwise. Returns the tensor and a step description."""
    if tuple(latent.shape[-2:]) == tuple(size):
        return latent, ""
    work = latent.float()
    if size[0] <= latent.shape[2] and size[1] <= latent.shape[3]:
        return _area(work, size).to(latent.dtype), f"area → {size[0]}x{size[1]}"
    return lanczos(work, size).to(latent.dtype), f"lanczos → {size[0]}x{size[1]}"


# --- loading ------------------------------------------------------------------------------------


def _fill_from_name(descriptor: ModelDescriptor, path: Path, options: NeuralOptions) -> ModelDescriptor:
    hints = hints_from_filename(path.name)
    changes: dict[str, object] = {}
    if descriptor.family is None and hints.family is not None:
        changes["family"] = hints.family
    # A layout shared by several releases ("2.x"): the published file name says which one.
    if hints.version is not None and descriptor.version.endswith(".x"):
        changes["version"] = hints.version
    if descriptor.is_fixed_factor and not descriptor.factors:
        factor = hints.factor or options.factor
        if factor is not None:
            changes["factors"] = (float(factor),)
    return replace(descriptor, **changes) if changes else descriptor


def _choose_dtype(descriptor: ModelDescriptor, device: torch.device, precision: str) -> torch.dtype:
    if precision == "fp32":
        return torch.float32
    if precision == "fp16":
        return torch.float16
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cpu":
        return torch.float32  # half kernels on CPUs are slow or missing, and latents are small
    bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if descriptor.preferred_half == "bf16" and descriptor.supports_bf16 and bf16_ok:
        return torch.bfloat16
    if descriptor.supports_fp16:
        return torch.float16
    if descriptor.supports_bf16 and bf16_ok:
        return torch.bfloat16
    return torch.float32


def load_model(
    path: Path | Sequence[Path], options: NeuralOptions, device: torch.device, precision: str | None = None
) -> tuple[ModelDescriptor, torch.dtype]:
    """Load (or fetch from the LRU) the model in ``path`` for ``device``; returns it and its dtype.

    ``path`` may be the files of one weight set (a tiny autoencoder's decoder and encoder), loaded
    together as one descriptor (:func:`~latent_upscale.neural.archs.load_weight_set`).
    """
    paths = (Path(path),) if isinstance(path, (str, Path)) else tuple(Path(p) for p in path)
    path = paths[0]
    precision = precision or options.precision
    # The dtype depends on the architecture; read it once on the CPU, cached like any model.
    cpu = torch.device("cpu")
    others = tuple(cache_key(other, cpu, torch.float32) for other in paths[1:])
    cpu_key = cache_key(path, cpu, torch.float32, *others)

    def load_cpu() -> ModelDescriptor:
        # File names travel with the parts: they tell apart variants whose layouts are identical.
        descriptor = load_weight_set([read_state_dict(each) for each in paths], names=[p.name for p in paths])
        if descriptor.channels_last and descriptor.model is not None:
            descriptor.model.to(memory_format=torch.channels_last)
        logger.info("loaded %s from %s", descriptor.label, ", ".join(str(each) for each in paths))
        return descriptor

    base: ModelDescriptor = model_cache.get_or_load(cpu_key, load_cpu)
    base = _fill_from_name(base, path, options)
    dtype = _choose_dtype(base, device, precision)
    if device.type == "cpu" and dtype == torch.float32:
        return base, dtype

    def move() -> ModelDescriptor:
        assert base.model is not None
        model = copy.deepcopy(base.model).to(device=device, dtype=dtype)
        return replace(base, model=model)

    moved: ModelDescriptor = model_cache.get_or_load(cache_key(path, device, dtype, *others), move)
    return _fill_from_name(moved, path, options), dtype


# --- running ------------------------------------------------------------------------------------


def tile_geometry(
    descriptor: ModelDescriptor, src: Size, out: Size, options: NeuralOptions
) -> tuple[int, int, int]:
    """Tile side and overlap (input pixels) and margin (output pixels); tile 0 means untiled."""
    ratio = max(out[0] / src[0], out[1] / src[1])
    if options.tile_size == 0:
        return 0, 0, 0
    if options.tile_size is None:
        if out[0] * out[1] <= descriptor.auto_tile_output_pixels:
            return 0, 0, 0
        tile = max(32, int(math.sqrt(descriptor.auto_tile_output_pixels) / ratio))
    else:
        tile = options.tile_size
    margin_in = descriptor.receptive_radius or descriptor.tile_margin or _GLOBAL_TILE_MARGIN
    overlap = 2 * margin_in + 4
    # A tile must be wider than two margins, or its trusted centre would be empty.
    return max(tile, 2 * overlap), overlap, math.ceil(margin_in * ratio)


def run_step(
    descriptor: ModelDescriptor, x: Tensor, factor: float | None, out: Size, options: NeuralOptions
) -> tuple[Tensor, int]:
    """One network pass to ``out``, tiled when large; returns the result and the number of tiles."""
    src = (x.shape[2], x.shape[3])
    if min(src) < descriptor.min_input_size:
        raise LatentUpscaleError(
            f"{descriptor.label} needs a latent of at least {descriptor.min_input_size}x"
            f"{descriptor.min_input_size} pixels, got {src[0]}x{src[1]}; use an interpolation method "
            "(bicubic, lanczos) for latents this small"
        )

    def step(tile: Tensor, tile_size: Size, grid: TileGrid | None) -> Tensor:
        return descriptor(tile, tile_size, grid=grid, factor=factor)

    tile, overlap, margin = tile_geometry(descriptor, src, out, options)
    if tile == 0 or (src[0] <= tile and src[1] <= tile):
        return step(x, out, None), 1
    exact = None
    if factor is not None:
        exact_factor = Fraction(factor).limit_denominator(1000)
        if exact_factor.denominator > 16:
            logger.info("not tiling: factor %s does not map tiles onto whole output pixels", factor)
            return step(x, out, None), 1
        exact = (exact_factor, exact_factor)
    # Exact networks (and those that opt in) use shorter, equal tiles: less overlap to run.
    balance = descriptor.balances_tiles
    return run_tiled(step, x, out, tile=tile, overlap=overlap, margin=margin, ratio=exact, balance=balance)


def _check_compatible(descriptor: ModelDescriptor, latent: Tensor, family: str | None, path: Path) -> None:
    channels = latent.shape[1]
    if channels != descriptor.in_channels:
        hint = {
            16: " (a 16-channel latent: SD3, Flux or Wan; use SesquiLSR Flux/Wan weights)",
            32: " (a 32-channel latent: Flux.2; use SesquiLSR Flux.2 weights)",
            128: " (128 channels: a FLUX.2 latent packed 2×2; pass family='flux2' and it is unpacked first)",
            4: " (a 4-channel latent: SD 1.x/2.x or SDXL)",
        }.get(channels, "")
        raise LatentUpscaleError(
            f"{path.name} ({descriptor.label}) takes {descriptor.in_channels}-channel latents, but the "
            f"latent has {channels} channels{hint}"
        )
    if family is not None and descriptor.family is not None and not same_vae(family, descriptor.family):
        raise LatentUpscaleError(
            f"{path.name} was trained on {descriptor.family} latents, but the latent is {family}: the "
            "VAEs differ, so the result would be garbage"
        )


def _target_device(latent: Tensor, options: NeuralOptions) -> torch.device:
    return torch.device(options.device) if options.device is not None else latent.device


def _shrink_only(latent: Tensor, size: Size, method_id: str) -> UpscaleResult:
    out, step = resample(latent, size)
    return UpscaleResult(
        latent=out,
        method=method_id,
        steps=("not enlarged (≤1× on both axes): network not run", step),
    )


def _resolve(
    latent: Tensor, size: Size, request: UpscaleRequest, options: NeuralOptions, role: str
) -> ResolvedWeights:
    src = (latent.shape[2], latent.shape[3])
    return resolve_weights(request.family, options, explicit=request.weights, sizes=(src, size), role=role)


def run(
    latent: Tensor, size: Size, request: UpscaleRequest, *, role: str = "upscaler", method_id: str = METHOD_ID
) -> UpscaleResult:
    """A weights-backed ``Method.run``: see the module docstring. ``role`` says which weights the
    method uses (``"upscaler"``: ``neural``; ``"autoencoder"``: the ``tae`` round trip), ``method_id``
    what the result reports. Errors are ``LatentUpscaleError``s."""
    size = (int(size[0]), int(size[1]))
    options = request.neural or NeuralOptions()
    src = (latent.shape[2], latent.shape[3])
    if size[0] <= src[0] and size[1] <= src[1]:
        return _shrink_only(latent, size, method_id)
    if request.family is None and request.weights is None:
        # a tiny autoencoder is a pair of files found by family; only a neural upscaler takes one file
        how = "" if role == "autoencoder" else " or weights= to choose a model"
        families = "sd1, sdxl, flux, wan, flux2, …"
        raise LatentUpscaleError(f"the {method_id} method needs family= ({families}){how}")
    device = _target_device(latent, options)
    resolved = _resolve(latent, size, request, options, role)
    files = sorted(resolved.files.items(), key=lambda item: (item[0] is None, item[0] or 0.0))
    models: dict[float | None, tuple[ModelDescriptor, torch.dtype, Path]] = {}
    for factor, path in files:
        descriptor, dtype = load_model(resolved.load_paths(factor), options, device)
        _check_compatible(descriptor, latent, request.family, path)
        models[factor] = (descriptor, dtype, path)
    first_descriptor, _, first_path = next(iter(models.values()))
    family = request.family or first_descriptor.family
    try:
        caller_format = resolve_latent_format(request.latent_space, family)
    except LatentUpscaleError as error:
        raise LatentUpscaleError(
            f"{error} (the weights {first_path.name} do not say their family)"
        ) from error

    with torch.inference_mode():
        work = latent.to(device=device, dtype=torch.float32)
        work = first_descriptor.convention.from_raw(caller_format.to_raw(work))
        if first_descriptor.is_fixed_factor:
            work, steps, used = _run_fixed(work, size, models, options)
        else:
            names = " + ".join(part.name for part in resolved.parts) or None
            work, steps, used = _run_range(work, size, next(iter(models.values())), options, names)
        if not bool(torch.isfinite(work).all()):  # one check per upscale: cheap beside the network
            names = ", ".join(dict.fromkeys(path.name for path in used))
            raise LatentUpscaleError(
                f"the network ({names}) produced non-finite values (NaN or inf): the weights file may be "
                "corrupt, or half precision overflowed (try the fp32 precision option)"
            )
        out, final = resample(work, size)
        if final:
            steps.append(final)
        out = caller_format.from_raw(first_descriptor.convention.to_raw(out.float()))
        out = out.to(device=latent.device, dtype=latent.dtype)
    # A normal tensor for the caller: hosts update latents in place, which inference tensors forbid.
    out = out.clone(memory_format=torch.contiguous_format)
    # Only the files whose network ran: the infotext must not name a factor that was merely present.
    weights_used = ", ".join(dict.fromkeys(path.name for path in (resolved.parts or used)))
    return UpscaleResult(
        latent=out,
        method=method_id,
        steps=tuple(steps),
        weights=weights_used,
        extra={
            "neural_arch": first_descriptor.arch,
            "neural_weights": weights_used,
            "neural_source": ", ".join(dict.fromkeys(resolved.sources.values())),
            "neural_dtype": str(next(iter(models.values()))[1]).replace("torch.", ""),
            "latent_format": _format_label(caller_format),
        },
    )


def _format_label(fmt: LatentFormat) -> str:
    if fmt.is_identity:
        return "raw"
    if isinstance(fmt.scale, tuple) or isinstance(fmt.shift, tuple):
        return "per-channel"
    return f"scale {fmt.scale:g}" + (f", shift {fmt.shift:g}" if fmt.shift else "")


def _run_fixed(
    work: Tensor,
    size: Size,
    models: dict[float | None, tuple[ModelDescriptor, torch.dtype, Path]],
    options: NeuralOptions,
) -> tuple[Tensor, list[str], list[Path]]:
    by_factor: dict[float, tuple[ModelDescriptor, torch.dtype, Path]] = {}
    for key, (descriptor, dtype, path) in models.items():
        factors = descriptor.factors or ((key,) if key is not None else ())
        if not factors:
            raise LatentUpscaleError(
                f"{path.name}: the scale factor of this {descriptor.name} file is unknown: its name does not "
                "say it (expected …-x1.25/-x1.5/-x2.0.safetensors) and none was given; set the 'factor' "
                "neural option (NeuralOptions(factor=1.5)) or rename the file as published"
            )
        by_factor[factors[0]] = (descriptor, dtype, path)
    plan = plan_fixed_factors((work.shape[2], work.shape[3]), size, tuple(by_factor))
    steps: list[str] = []
    used: list[Path] = []
    for factor in plan:
        descriptor, dtype, path = by_factor[factor]
        out = (math.floor(work.shape[2] * factor), math.floor(work.shape[3] * factor))
        result, tiles = run_step(descriptor, work.to(dtype), factor, out, options)
        work = result.float()
        steps.append(f"{descriptor.label} ({path.name}){_tiles(tiles)} → {out[0]}x{out[1]}")
        used.append(path)
    return work, steps, used


def _run_range(
    work: Tensor,
    size: Size,
    model: tuple[ModelDescriptor, torch.dtype, Path],
    options: NeuralOptions,
    names: str | None = None,
) -> tuple[Tensor, list[str], list[Path]]:
    descriptor, dtype, path = model
    names = names or path.name  # a weight set of several files names them all
    assert descriptor.scale_range is not None
    steps: list[str] = []
    for out in plan_range((work.shape[2], work.shape[3]), size, descriptor.scale_range[1]):
        result, tiles = run_step(descriptor, work.to(dtype), None, out, options)
        work = result.float()
        steps.append(f"{descriptor.label} ({names}){_tiles(tiles)} → {out[0]}x{out[1]}")
    return work, steps, [path]


def _tiles(count: int) -> str:
    return f" in {count} tiles" if count > 1 else ""
