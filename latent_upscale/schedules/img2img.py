"""The part of a schedule that the WebUI's img2img really samples, with and without ``img2img_fix_steps``."""

from __future__ import annotations

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.build import build_sigmas
from latent_upscale.schedules.checks import MAX_STEPS, Device, as_real, check_device, check_steps, finish
from latent_upscale.schedules.table import SigmaTable

__all__ = ["img2img_sigmas", "img2img_steps"]


def img2img_steps(steps: int, denoise: float, *, fix_steps: bool) -> tuple[int, int]:
    """``(schedule length asked of the override, t_enc)`` exactly as WebUI ``setup_img2img_steps``.

    Identical in A1111 1.6–1.10.1, Forge and reForge (``modules/sd_samplers_common.py``). With the
    fix the schedule has ``int(steps / min(denoise, 0.999))`` steps and ``t_enc = steps - 1``;
    without it, ``steps`` and ``t_enc = int(min(denoise, 0.999) * steps)``. The sampler runs
    ``t_enc + 1`` steps. The hires pass always behaves as fixed.
    """
    steps = check_steps(steps, "steps")
    strength = _check_denoise(denoise)
    if fix_steps:
        _check_length(steps / strength, steps, denoise)
        return int(steps / strength), steps - 1
    return steps, int(strength * steps)


def _check_denoise(denoise: object) -> float:
    if isinstance(denoise, str):  # a number, not text: the API and the CLI parse theirs first
        value = None
    else:
        try:
            value = as_real(denoise, "denoising strength")
        except LatentUpscaleError:
            value = None
    if value is None or not 0 < value <= 1:
        raise LatentUpscaleError(
            f"denoising strength must lie in (0, 1], got {denoise!r} (at 0 the WebUI samples nothing)"
        )
    return min(value, 0.999)


def _check_length(length: float, steps: int, denoise: object) -> None:
    """Refuse, before anything is allocated, a schedule that a tiny denoising strength makes huge."""
    if length >= MAX_STEPS + 1:
        raise LatentUpscaleError(
            f"{steps} steps at denoising strength {float(denoise):g} need a schedule of {length:.4g} steps "
            f"(img2img_fix_steps), over the limit of {MAX_STEPS}; use a denoising strength of at least "
            f"{steps / MAX_STEPS:.2g} or fewer steps"
        )


def img2img_sigmas(
    schedule_id: str,
    steps: int,
    denoise: float,
    table: SigmaTable,
    *,
    fix_steps: bool,
    family: str | None = None,
    discard_penultimate: bool = False,
    device: Device = None,
    **params: object,
) -> Tensor:
    """The sigmas the WebUI's k-diffusion img2img really samples: ``len - 1`` sampler steps.

    Reproduces v1.10.1 ``KDiffusionSampler.sample_img2img``: ``setup_img2img_steps`` (see
    :func:`img2img_steps`), then ``get_sigmas`` asks the override for one more step when the
    sampler discards the penultimate sigma (DPM2, DPM2 a, DPM++ 3M SDE or the option) and drops
    it, then the sampler walks ``sigmas[steps - t_enc - 1:]``. So with the fix that is
    ``steps + 1`` values; without it, ``int(min(denoise, 0.999) * steps) + 2`` values.
    """
    total, t_enc = img2img_steps(steps, denoise, fix_steps=fix_steps)
    asked = total + 1 if discard_penultimate else total
    _check_length(asked, steps, denoise)
    check_device(device)
    sigmas = build_sigmas(schedule_id, asked, table, family=family, **params)
    if discard_penultimate:
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    return finish(sigmas[total - t_enc - 1 :].clone(), device)
