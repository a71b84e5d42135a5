"""Mirrors modules/sd_samplers_cfg_denoiser.py CFGDenoiser (v1.10.1): the model call of every sampling step.

Kept from the real ``forward`` (:156): it raises ``InterruptedException`` when ``state.interrupted`` or
``state.skipped`` is set, blends masked areas with ``init_latent``, counts steps and stores ``last_latent``.
Replaced: no UNet and no CFG. The fake "model" predicts the denoised latent to be the latent the run started
from (``fake_target``: the init/upscaled latent for img2img and hires, the unit noise for txt2img), so an
Euler walk ends exactly on it and a test can see which latent reached the sampler. Step hooks registered on
the handle run first on every step (they may interrupt, raise, or inspect).
"""

import torch

from modules import sd_samplers_common
from modules.fake_host import RECORD
from modules.shared import state


class CFGDenoiser(torch.nn.Module):
    def __init__(self, sampler):
        super().__init__()
        self.model_wrap = None
        self.mask = None
        self.nmask = None
        self.init_latent = None
        self.steps = None
        self.total_steps = None
        self.step = 0
        self.image_cfg_scale = None
        self.padded_cond_uncond = False
        self.padded_cond_uncond_v0 = False
        self.sampler = sampler
        self.p = None
        self.mask_before_denoising = False
        self.fake_target = None
        self.fake_run = None

    @property
    def inner_model(self):
        raise NotImplementedError()

    def forward(self, x, sigma, uncond=None, cond=None, cond_scale=None, s_min_uncond=None, image_cond=None):
        if state.interrupted or state.skipped:
            raise sd_samplers_common.InterruptedException

        for hook in list(RECORD.step_hooks):
            hook(self.step, sigma, x, self.fake_run)

        denoised = self.fake_target.to(device=x.device, dtype=x.dtype).expand_as(x).clone()

        if self.mask is not None:
            # mirrors the final apply_blend (:173): keep the masked-out area from init_latent
            denoised = self.init_latent.to(x) * self.mask.to(x) + self.nmask.to(x) * denoised

        self.step += 1
        if self.fake_run is not None:
            self.fake_run.model_evaluations += 1
        self.sampler.last_latent = denoised
        return denoised
