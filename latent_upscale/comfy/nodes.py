"""The ComfyUI nodes (classic V1 API: ``INPUT_TYPES``, ``RETURN_TYPES``, ``FUNCTION``, ``CATEGORY``).

* :class:`LatentUpscaleAdvanced` (*Latent Upscale Advanced*): every method of the registry on a
  ComfyUI ``LATENT`` (raw VAE latents, ``[B, C, H, W]`` or video ``[B, C, T, H, W]``), sized by scale
  factor, width × height or megapixels with an alignment, the family read from an optional MODEL or
  VAE (:mod:`.detect`) or chosen.
* :class:`LatentUpscaleNoiseSchedule` (*Noise Schedule*): ``SIGMAS`` for ``SamplerCustom`` /
  ``SamplerCustomAdvanced`` from the MODEL's sigma table, every schedule of the registry.

Inputs ComfyUI can check (lists, minimum, maximum) are refused at ``/prompt`` with HTTP 400 before
anything runs; what only the latent can tell is refused while running, as one line in ComfyUI's
error panel (a ``ValueError`` raised without a chained traceback). Neither node changes its inputs
or any ComfyUI state: the output is a new dict (new tensors where resized).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional

from latent_upscale.api import DEFAULT_METHOD, methods, upscale, upscale_detailed
from latent_upscale.comfy import host
from latent_upscale.comfy.detect import AUTO, describe_latent, family_of_model
from latent_upscale.comfy.sizing import ALIGNMENTS, MAX_RESOLUTION, SIZE_MODES, target_latent_size
from latent_upscale.comfy.weights import (
    AUTOMATIC_WEIGHTS,
    explicit_weights,
    missing_weights_message,
    neural_options,
)
from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.families import FAMILY_IDS
from latent_upscale.resize_methods import get_method
from latent_upscale.schedules import MAX_STEPS, SigmaTable, build_sigmas_detailed, get_schedule
from latent_upscale.schedules import registered_schedules as _schedules

__all__ = [
    "NODE_CLASS_MAPPINGS",
    "NODE_DISPLAY_NAME_MAPPINGS",
    "LatentUpscaleAdvanced",
    "LatentUpscaleNoiseSchedule",
    "refusal",
]

logger = logging.getLogger(__name__)
CATEGORY = "latent/upscaling"
#: The ``align`` choices as numbers (a lookup, not ``int()`` per call).
_ALIGNMENT_VALUES = {choice: int(choice) for choice in ALIGNMENTS}
PREFIX = "Latent Upscale: "


def refusal(error: Exception) -> ValueError:
    """The one line ComfyUI's error panel shows for a refused input (raise it ``from None``)."""
    text = getattr(error, "summary", None) or str(error)
    return ValueError(PREFIX + (text.strip().splitlines() or [type(error).__name__])[0])


def _resize_mask(mask: Any, source: tuple[int, int], target: tuple[int, int]) -> Any:
    """A ``noise_mask`` resized by the latent's factor per side (it may be at image or latent size)."""
    if not isinstance(mask, Tensor) or mask.dim() < 2 or mask.numel() == 0:
        return mask
    height, width = mask.shape[-2:]
    size = (max(1, round(height * target[0] / source[0])), max(1, round(width * target[1] / source[1])))
    flat = mask.reshape(-1, 1, height, width)
    dtype = flat.dtype if flat.is_floating_point() else torch.float32
    out = functional.interpolate(flat.to(dtype), size=size, mode="bilinear", align_corners=False)
    return out.reshape(*mask.shape[:-2], *size).to(mask.dtype)


class LatentUpscaleAdvanced:
    """Resize a latent with any method of the registry; see the module docstring."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "upscale"
    DESCRIPTION = (
        "Resize a latent by scale factor, width × height or megapixels with every interpolation, bislerp, "
        "the tiny-autoencoder round trip (tae) and learned upscalers (neural). Connect the MODEL (or "
        "choose the family) for tae and neural."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, dict[str, tuple[Any, ...]]]:
        weights = [AUTOMATIC_WEIGHTS, *host.file_names(host.LATENT_UPSCALE_MODELS)]
        image_px = {"min": 0, "max": MAX_RESOLUTION, "step": 8}
        return {
            "required": {
                "samples": ("LATENT",),
                "upscale_method": (methods(), {"default": DEFAULT_METHOD}),
                "size_by": (list(SIZE_MODES), {"default": "scale_by"}),
                "scale_by": ("FLOAT", {"default": 1.5, "min": 0.01, "max": 8.0, "step": 0.01}),
            },
            # Optional with defaults, so an API prompt names only what it changes; the page shows them alike.
            "optional": {
                "width": (
                    "INT",
                    {"default": 1024, **image_px, "tooltip": "image pixels; 0 keeps the aspect"},
                ),
                "height": (
                    "INT",
                    {"default": 1024, **image_px, "tooltip": "image pixels; 0 keeps the aspect"},
                ),
                "megapixels": ("FLOAT", {"default": 1.0, "min": 0.01, "max": 16.0, "step": 0.01}),
                "align": (list(ALIGNMENTS), {"default": "8", "tooltip": "round sizes to this many image px"}),
                "family": ([AUTO, *FAMILY_IDS], {"default": AUTO, "tooltip": "auto: from MODEL or VAE"}),
                "model": ("MODEL", {"tooltip": "tells the family and spatial ratio (tae, neural)"}),
                "vae": ("VAE", {"tooltip": "tells the spatial ratio (and FLUX.2 / Wan 2.1)"}),
                "weights": (weights, {"default": AUTOMATIC_WEIGHTS, "tooltip": "neural: a file to use"}),
                "allow_download": ("BOOLEAN", {"default": True, "tooltip": "fetch pinned missing weights"}),
            },
        }

    def upscale(
        self,
        samples: dict[str, Any],
        upscale_method: str,
        size_by: str,
        scale_by: float,
        width: int = 1024,
        height: int = 1024,
        megapixels: float = 1.0,
        align: str = "8",
        family: str = AUTO,
        model: Any = None,
        vae: Any = None,
        weights: str = AUTOMATIC_WEIGHTS,
        allow_download: bool = True,
    ) -> tuple[dict[str, Any]]:
        """The resized ``LATENT`` (a new dict; ``noise_mask`` resized alike, other keys kept)."""
        info_family: str | None = None
        try:
            latent = samples.get("samples") if isinstance(samples, dict) else None
            if not isinstance(latent, Tensor):
                raise LatentUpscaleError(
                    f"the LATENT holds {type(latent).__name__}, not a tensor (nested video+audio latents are "
                    "not supported: upscale the video part)"
                )
            shape = latent.shape
            if len(shape) not in (4, 5):
                raise LatentUpscaleError(
                    f"expected a [B, C, H, W] or [B, C, T, H, W] latent, got {tuple(shape)}"
                )
            method = get_method(upscale_method)
            alignment = _ALIGNMENT_VALUES.get(align) if align.__class__ is str else None
            if alignment is None:
                raise LatentUpscaleError(
                    f"align must be one of {', '.join(ALIGNMENTS)} image pixels, got {align!r}"
                )
            info = describe_latent(samples, shape[1], family, model, vae)
            info_family = info.family
            source = (shape[-2], shape[-1])
            size = target_latent_size(
                source, info.ratio, size_by, scale_by=scale_by, width=width, height=height,
                megapixels=megapixels, align=alignment,
            )  # fmt: skip
            if size == source:
                return (dict(samples),)
            options = explicit = None
            if method.neural:
                if info.family is None and (method.id == "tae" or weights == AUTOMATIC_WEIGHTS):
                    raise LatentUpscaleError(
                        f"the {method.id} method needs the model family: connect the MODEL, or choose family "
                        f"({', '.join(FAMILY_IDS)})"
                    )
                options = neural_options(method.id, allow_download)
                explicit = explicit_weights(weights) if method.id == "neural" else None
            if method.neural or info.family is not None:
                result = upscale_detailed(
                    latent, size, method=method.id, family=info.family, latent_space="raw",
                    weights=explicit, neural=options,
                )  # fmt: skip
                resized, steps = result.latent, result.steps
            else:  # an interpolation of a latent of no known family: the library's fast path, no account
                resized, steps = upscale(latent, size, method=method.id), ()
        except WeightsUnavailableError as error:
            raise ValueError(PREFIX + missing_weights_message(error, upscale_method, info_family)) from None
        except LatentUpscaleError as error:
            raise refusal(error) from None
        # What ran and why, at INFO for the learned methods (which weights, from where); an interpolation
        # runs per call in a fraction of a millisecond and logs at DEBUG.
        level = logging.INFO if method.neural else logging.DEBUG
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "[Latent Upscale] %s %s → %s latent px (family %s from %s, ratio %d from %s)%s",
                method.id, list(source), list(size), info.family, info.family_source, info.ratio,
                info.ratio_source, f": {'; '.join(steps)}" if steps else "",
            )  # fmt: skip
        out = dict(samples)
        out["samples"] = resized
        if "noise_mask" in out:
            out["noise_mask"] = _resize_mask(out["noise_mask"], source, size)
        return (out,)


def _param_key(schedule_id: str, name: str) -> str:
    return f"{schedule_id}_{name}"


class LatentUpscaleNoiseSchedule:
    """Sigmas of any registered schedule over the MODEL's own sigma table; see the module docstring."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    DESCRIPTION = (
        "Noise levels for SamplerCustom / SamplerCustomAdvanced from the model's sigma table: Karras, "
        "exponential, beta, KL optimal, Align Your Steps and more. denoise < 1 keeps the last part of "
        "the walk."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, dict[str, tuple[Any, ...]]]:
        required: dict[str, tuple[Any, ...]] = {
            "model": ("MODEL",),
            "schedule": ([schedule.id for schedule in _schedules()], {"default": "karras"}),
            "steps": ("INT", {"default": 20, "min": 1, "max": MAX_STEPS}),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
        }
        # Each schedule's own parameters, optional: an API prompt names only those it changes.
        optional: dict[str, tuple[Any, ...]] = {}
        for schedule in _schedules():
            for spec in schedule.params:
                optional[_param_key(schedule.id, spec.name)] = (
                    "FLOAT",
                    {
                        "default": spec.default,
                        "min": spec.minimum,
                        "max": spec.maximum,
                        "step": spec.step,
                        "round": False,
                        "tooltip": f"{schedule.label}: {spec.advice or spec.label}",
                    },
                )
        return {"required": required, "optional": optional}

    def get_sigmas(
        self, model: Any, schedule: str, steps: int, denoise: float, **params: float
    ) -> tuple[Tensor]:
        """``steps + 1`` float32 CPU sigmas ending at 0 (fewer where a formula repeats a level; none
        for ``denoise`` 0, as ComfyUI's ``BasicScheduler``)."""
        try:
            chosen = get_schedule(schedule)
            own = {
                spec.name: params[_param_key(chosen.id, spec.name)]
                for spec in chosen.params
                if _param_key(chosen.id, spec.name) in params
            }
            if denoise <= 0.0:
                return (torch.zeros(0),)
            # As BasicScheduler: a longer walk of int(steps / denoise) steps, of which the last `steps` run.
            total = steps if denoise >= 1.0 else int(steps / denoise)
            sampling = model.get_model_object("model_sampling")
            table = SigmaTable(sampling.sigmas, getattr(sampling, "log_sigmas", None))
            result = build_sigmas_detailed(chosen.id, total, table, family=family_of_model(model), **own)
        except LatentUpscaleError as error:
            raise refusal(error) from None
        if result.note:
            logger.warning("[Latent Upscale] %s", result.note)
        return (result.sigmas[-(steps + 1) :],)


NODE_CLASS_MAPPINGS = {
    "LatentUpscaleAdvanced": LatentUpscaleAdvanced,
    "LatentUpscaleNoiseSchedule": LatentUpscaleNoiseSchedule,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "LatentUpscaleAdvanced": "Latent Upscale Advanced",
    "LatentUpscaleNoiseSchedule": "Noise Schedule (Latent Upscale)",
}

host.register_model_folders()
