"""The part of a schedule that the WebUI's img2img really samples, with and without ``img2img_fix_steps``."""

from __future__ import annotations

import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules.checks import Device, check_steps, finish
from latent_upscale.schedules.registry import build_sigmas
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
    if isinstance(denoise, bool) or not isinstance(denoise, (int, float)) or not 0 < denoise <= 1:
        raise LatentUpscaleError(
            f"denoising strength must lie in (0, 1], got {denoise!r} (at 0 the WebUI samples nothing)"
        )
    strength = min(denoise, 0.999)
    if fix_steps:
        return int(steps / strength), steps - 1
    return steps, int(strength * steps)


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
    sigmas = build_sigmas(schedule_id, asked, table, family=family, **params)
    if discard_penultimate:
        sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])
    return finish(sigmas[total - t_enc - 1 :].clone(), device)
