"""What the loaded WebUI model says about its latents: family, channel count and model-space format.

Duck-typed reads of the host's model object (no ``modules.*`` import), one reader per host layout,
tried in order (``webui/HOST_SEAMS.md`` §1 and §7):

1. reForge: ``sd_model.forge_objects.unet.model.model_config.latent_format`` — the object its patched
   ``encode_first_stage`` uses (``modules_forge/forge_loader.py``); ldm_patched ``latent_formats`` class
   (``SD15``, ``SDXL``, ``SD3``, ``Flux``…) with ``scale_factor``, optional ``shift_factor`` and
   per-channel ``latents_mean``/``latents_std``.
2. Forge: ``sd_model.forge_objects.vae.first_stage_model.scaling_factor``/``shift_factor``
   (``backend/nn/vae.py`` ``process_in``), channels from ``forge_objects.vae.latent_channels``; Flux and
   Chroma have every ``is_*`` flag False.
3. Forge Neo's ``WanVAE`` (Wan, Qwen-Image): no ``scaling_factor``; ``first_stage_model.latent_format``
   (huggingface_guess ``latent_formats``, e.g. ``Wan21`` with per-channel mean/std) is what its
   ``process_in`` uses (``backend/nn/wan_vae.py``). Neo also flags ``is_flux`` and ``is_wan`` on the
   engine (``backend/diffusion_engine/base.py``), so there an unflagged 16-channel model is not Flux.
4. A1111 1.10 SD3: ``sd_model.latent_format.scale_factor``/``shift_factor``.
5. A1111 (all versions): ``sd_model.scale_factor`` (a float, or a buffer when ``scale_by_std``).

The family comes from the host's own class names first (:data:`~latent_upscale.families.HOST_NAMES`):
Forge Neo's engine keeps its huggingface_guess model config as ``sd_model.model_config``
(``backend/diffusion_engine/base.py``: ``Flux2K4B``, ``ErnieImage``, ``Mugen``, ``ZImage``, ``Chroma``,
``Anima``, ``QwenImage``, ``QwenImage21``, ``Krea2``…) and hangs its latent format on the VAE
(``huggingface_components["vae"].latent_format``: ``Flux2``, ``SDXL_Flux2``, ``QwenImage21``, ``Wan21``,
``Wan22``, ``Flux``…); a name is taken only when the latent's channel count is one of that family's
layouts (Neo's FLUX.2 VAE reports 128: the packed layout, ``backend/patcher/vae.py`` ``is_flux2``).
Then the ``is_*`` flags (Neo's newest engines set only ``is_sd1``, ``is_sdxl``, ``is_wan``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from latent_upscale.families import HOST_NAMES, get_family
from latent_upscale.latent_formats import FAMILIES, LatentFormat

__all__ = ["ModelLatentInfo", "read_model_latent_info"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelLatentInfo:
    """The model's latent convention, as read from the host."""

    family: str | None
    latent_format: LatentFormat
    channels: int
    #: Where the values came from, for the log.
    source: str


def _number(value: object) -> float | None:
    try:
        return float(value)  # floats, ints and one-element tensors (ldm's scale_by_std buffer)
    except (TypeError, ValueError, RuntimeError):
        return None


def _flag(model: object, name: str) -> bool:
    return bool(getattr(model, name, False))


def _family_from_flags(model: object, channels: int) -> str | None:
    if _flag(model, "is_sd3"):
        return "sd3"
    if _flag(model, "is_sdxl"):
        return "sdxl"
    if _flag(model, "is_sd1") or _flag(model, "is_sd2"):
        return "sd1"  # SD2 shares SD1's VAE, so SD1 weights and conventions serve it
    if _flag(model, "is_flux"):
        return "flux"  # Forge Neo (backend/diffusion_engine/flux.py)
    if _flag(model, "is_wan"):
        # Forge Neo: Wan, Qwen-Image, Anima and Krea 2 use the Wan 2.1 VAE (WanVAE); Wan 2.2-5B its own.
        return "wan22-5b" if channels == 48 else "wan"
    if hasattr(model, "is_flux"):
        return None  # a Forge Neo that flags Flux itself: an unflagged model is not Flux
    if channels == 16:
        return "flux"  # Forge: Flux and Chroma set no is_* flag and use the Flux VAE
    return None


def _host_family(model: object, fmt: object, channels: int) -> str | None:
    """The family the host's class names say: its model config (most specific), then the latent format;
    a name counts only when ``channels`` is one of that family's layouts."""
    configs = (getattr(model, "model_config", None), _path(model, "forge_objects.unet.model.model_config"))
    for obj in (*configs, fmt):
        family = HOST_NAMES.get(type(obj).__name__) if obj is not None else None
        if family is not None and channels in get_family(family).channel_counts:
            return family
    return None


def _path(obj: object, dotted: str) -> object | None:
    for name in dotted.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _per_channel(values: object) -> tuple[float, ...] | None:
    if values is None:
        return None
    try:
        return tuple(float(v) for v in values.reshape(-1).tolist())  # type: ignore[attr-defined]
    except AttributeError:
        return tuple(float(v) for v in values)  # type: ignore[union-attr]


def _from_latent_format(model: object, fmt: object, channels: int, source: str) -> ModelLatentInfo | None:
    """An ldm_patched/huggingface_guess ``latent_formats`` object (``process_in`` per class)."""
    scale = _number(getattr(fmt, "scale_factor", None))
    if scale is None:
        return None
    shift = _number(getattr(fmt, "shift_factor", None)) or 0.0
    channels = int(getattr(fmt, "latent_channels", None) or channels)
    mean, std = (
        _per_channel(getattr(fmt, "latents_mean", None)),
        _per_channel(getattr(fmt, "latents_std", None)),
    )
    if mean is not None and std is not None and len(mean) == len(std):
        latent_format = LatentFormat(scale=tuple(scale / s for s in std), shift=mean)
    else:
        latent_format = LatentFormat(scale=scale, shift=shift)
    family = _host_family(model, fmt, channels) or _family_from_flags(model, channels)
    return ModelLatentInfo(family, latent_format, channels, f"{source} {type(fmt).__name__}")


def _from_reforge(model: object) -> ModelLatentInfo | None:
    fmt = _path(model, "forge_objects.unet.model.model_config.latent_format")
    if fmt is None:
        return None
    channels = int(getattr(model, "latent_channels", None) or 4)
    return _from_latent_format(model, fmt, channels, "reForge latent_format")


def _from_neo_latent_format(model: object) -> ModelLatentInfo | None:
    # Forge Neo's WanVAE (Wan, Qwen-Image) has no scaling_factor: its process_in is latent_format's.
    fmt = _path(model, "forge_objects.vae.first_stage_model.latent_format")
    if fmt is None:
        return None
    channels = int(_path(model, "forge_objects.vae.latent_channels") or 16)
    return _from_latent_format(model, fmt, channels, "Forge Neo VAE latent_format")


def _from_forge(model: object) -> ModelLatentInfo | None:
    vae_model = _path(model, "forge_objects.vae.first_stage_model")
    scale = _number(getattr(vae_model, "scaling_factor", None)) if vae_model is not None else None
    if scale is None:
        return None
    shift = _number(getattr(vae_model, "shift_factor", None)) or 0.0
    channels = int(_path(model, "forge_objects.vae.latent_channels") or 4)
    # Newer Forge Neo also hangs the model config's latent_format on every VAE: its class names the family.
    family = _host_family(model, getattr(vae_model, "latent_format", None), channels)
    family = family or _family_from_flags(model, channels)
    return ModelLatentInfo(
        family, LatentFormat(scale, shift), channels, "Forge VAE scaling_factor/shift_factor"
    )


def _from_a1111(model: object) -> ModelLatentInfo | None:
    channels = int(getattr(model, "latent_channels", None) or 4)
    if _flag(model, "is_sd3"):
        fmt = getattr(model, "latent_format", None)
        scale = _number(getattr(fmt, "scale_factor", None))
        if scale is not None:
            shift = _number(getattr(fmt, "shift_factor", None)) or 0.0
            return ModelLatentInfo("sd3", LatentFormat(scale, shift), 16, "A1111 SD3 latent_format")
    scale = _number(getattr(model, "scale_factor", None))
    if scale is None:
        return None
    return ModelLatentInfo(
        _family_from_flags(model, channels), LatentFormat(scale), channels, "sd_model.scale_factor"
    )


def read_model_latent_info(model: object) -> ModelLatentInfo:
    """Family and model-space format of the loaded model; family defaults when the host says nothing."""
    for reader in (_from_reforge, _from_forge, _from_neo_latent_format, _from_a1111):
        info = reader(model)
        if info is not None:
            return info
    channels = int(getattr(model, "latent_channels", None) or 4)
    family = _family_from_flags(model, channels)
    fallback = FAMILIES.get(family or "sd1", LatentFormat())
    log.warning("Latent Upscale: could not read the model's latent scale factor; assuming %s", fallback)
    return ModelLatentInfo(family, fallback, channels, "assumed from the model family")
