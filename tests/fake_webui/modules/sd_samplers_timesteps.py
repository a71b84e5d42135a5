"""Mirrors modules/sd_samplers_timesteps.py (v1.10.1): DDIM / PLMS / UniPC (``CompVisSampler``).

These samplers never read ``p.sampler_noise_scheduler_override`` (no line in the real file mentions it, in any
host): the schedule is ``get_timesteps`` (:86), evenly spaced timesteps
``clip(range(0, 1000, 1000 // steps) + 1, 0, 999)``. ``model_wrap`` is a ``CompVisTimestepsDenoiser`` that has
NO ``sigmas`` table. img2img walks ``timesteps[:t_enc]`` (:102) from
``xi = x * sqrt(a_t) + noise * sqrt(1 - a_t)`` with ``a_t = alphas_cumprod[timesteps[t_enc]]``.

How many model calls each walk makes is reproduced exactly, because that is what "exact steps" promises
(``sd_samplers_timesteps_impl.py``, identical in 1.6.0, 1.10.1, Forge, reForge and Neo; n = len(timesteps)):
- ``ddim``: ``for i in trange(n - 1)``, one call each, never at ``timesteps[0]`` -> n - 1 calls;
- ``plms``: the same loop, plus a second call on the first iteration (pseudo improved Euler) -> n calls;
- ``unipc``: ``UniPC.sample(steps=n)`` (``uni_pc.py`` multistep): one call at the start, one per step but the
  last (the corrector's) -> n calls; it asserts ``n >= opts.uni_pc_order`` first.
So img2img with fixed steps S (t_enc = S - 1) runs S - 2 (DDIM) or S - 1 (PLMS, UniPC) calls.
Simplified: the update rules (the fake model output is taken as the new latent).
"""

import torch

from modules import devices, sd_samplers_cfg_denoiser, sd_samplers_common
from modules.fake_host import FLAVOR
from modules.shared import opts

import modules.shared as shared  # isort: skip


def _call(model, x, t, s_in, extra_args, callback, i):
    x = model(x, t * s_in, **extra_args)
    if callback is not None:
        callback({"x": x, "i": i, "sigma": 0, "sigma_hat": 0, "denoised": x})
    return x


def ddim(model, x, timesteps, extra_args=None, callback=None, disable=None, eta=0.0):
    """mirrors sd_samplers_timesteps_impl.ddim (1.10.1 :12): ``len(timesteps) - 1`` model calls."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones((x.shape[0],))
    for i in range(len(timesteps) - 1):
        index = len(timesteps) - 1 - i
        x = _call(model, x, timesteps[index].item(), s_in, extra_args, callback, i)
    return x


def plms(model, x, timesteps, extra_args=None, callback=None, disable=None):
    """mirrors sd_samplers_timesteps_impl.plms (1.10.1 :84): the first step also evaluates ``t_next``."""
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones((x.shape[0],))
    for i in range(len(timesteps) - 1):
        index = len(timesteps) - 1 - i
        if i == 0:  # len(old_eps) == 0: pseudo improved Euler, model(x_prev, t_next)
            x = model(x, timesteps[index].item() * s_in, **extra_args)
            index = max(index - 1, 0)
        x = _call(model, x, timesteps[index].item(), s_in, extra_args, callback, i)
    return x


def unipc(model, x, timesteps, extra_args=None, callback=None, disable=None, is_img2img=False):
    """mirrors sd_samplers_timesteps_impl.unipc (1.10.1 :170) + ``UniPC.sample`` (multistep)."""
    extra_args = {} if extra_args is None else extra_args
    steps = len(timesteps)
    assert steps >= opts.uni_pc_order, "UniPC order must be < sampling steps"
    s_in = x.new_ones((x.shape[0],))
    # its own grid from t_start = timesteps[-1] / 1000 + 1 / 1000 (img2img) down to 1 / 1000
    t_start = (timesteps[-1].item() + 1) if is_img2img else 1000
    grid = torch.linspace(t_start, 1, steps + 1)
    x = model(x, grid[0].item() * s_in, **extra_args)  # model_prev_list = [model_fn(x, t_0)]
    for step in range(1, steps):  # the corrector's model call; none after the last step
        x = _call(model, x, grid[step].item(), s_in, extra_args, callback, step - 1)
    if callback is not None:
        callback({"x": x, "i": steps - 1, "sigma": 0, "sigma_hat": 0, "denoised": x})
    return x


samplers_timesteps = [
    ("DDIM", ddim, ["ddim"], {}),
    ("PLMS", plms, ["plms"], {}),
    ("UniPC", unipc, ["unipc"], {}),
]

samplers_data_timesteps = [
    sd_samplers_common.SamplerData(
        label, lambda model, funcname=funcname: CompVisSampler(funcname, model), aliases, options
    )
    for label, funcname, aliases, options in samplers_timesteps
]


class CompVisTimestepsDenoiser(torch.nn.Module):
    def __init__(self, model, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inner_model = model

    def forward(self, input, timesteps, **kwargs):
        return input


class CFGDenoiserTimesteps(sd_samplers_cfg_denoiser.CFGDenoiser):
    def __init__(self, sampler):
        super().__init__(sampler)
        if FLAVOR.is_forge and not FLAVOR.is_neo:
            # Forge sd_samplers_timesteps.py :31 creates sd_model.alphas_cumprod from the predictor's sigmas;
            # Neo reads the engine's own alphas_cumprod (CFGDenoiserTimesteps.__init__)
            predictor_sigmas = shared.sd_model.forge_objects.unet.model.predictor.sigmas
            shared.sd_model.alphas_cumprod = 1.0 / (predictor_sigmas**2.0 + 1.0)
        self.alphas = shared.sd_model.alphas_cumprod
        self.mask_before_denoising = True

    @property
    def inner_model(self):
        if self.model_wrap is None:
            self.model_wrap = CompVisTimestepsDenoiser(shared.sd_model)
        return self.model_wrap


class CompVisSampler(sd_samplers_common.Sampler):
    def __init__(self, funcname, sd_model):
        super().__init__(funcname)
        self.eta_option_field = "eta_ddim"
        self.eta_infotext_field = "Eta DDIM"
        self.eta_default = 0.0
        self.model_wrap_cfg = CFGDenoiserTimesteps(self)
        self.model_wrap = self.model_wrap_cfg.inner_model

    def get_timesteps(self, p, steps):
        """mirrors get_timesteps (v1.10.1 :86): evenly spaced; no override, no scheduler."""
        discard_next_to_last_sigma = self.config is not None and self.config.options.get(
            "discard_next_to_last_sigma", False
        )
        if opts.always_discard_next_to_last_sigma and not discard_next_to_last_sigma:
            discard_next_to_last_sigma = True
            p.extra_generation_params["Discard penultimate sigma"] = True
        steps += 1 if discard_next_to_last_sigma else 0
        return torch.clip(
            torch.asarray(list(range(0, 1000, 1000 // steps)), device=devices.device) + 1, 0, 999
        )

    def sample_img2img(
        self, p, x, noise, conditioning, unconditional_conditioning, steps=None, image_conditioning=None
    ):
        run = self._fake_start_run(
            kind="timesteps",
            is_img2img=True,
            is_hr_pass=bool(getattr(p, "is_hr_pass", False)),
            steps=0,
            t_enc=None,
            requested_steps=steps,
            sigmas=None,
            schedule=None,
            override_used=False,
            x=x.detach().clone(),
            noise=noise.detach().clone(),
            x_device=x.device,
        )
        steps, t_enc = sd_samplers_common.setup_img2img_steps(p, steps)
        timesteps = self.get_timesteps(p, steps)
        timesteps_sched = timesteps[:t_enc]
        run.steps, run.t_enc, run.sigmas, run.schedule = (
            steps,
            t_enc,
            timesteps.clone(),
            timesteps_sched.clone(),
        )
        run.sigmas_device = timesteps.device

        alphas_cumprod = shared.sd_model.alphas_cumprod
        sqrt_alpha_cumprod = torch.sqrt(alphas_cumprod[timesteps[t_enc]])
        sqrt_one_minus_alpha_cumprod = torch.sqrt(1 - alphas_cumprod[timesteps[t_enc]])
        xi = x * sqrt_alpha_cumprod + noise * sqrt_one_minus_alpha_cumprod

        extra_params_kwargs = self.initialize(p)
        extra_params_kwargs["timesteps"] = timesteps_sched
        self.model_wrap_cfg.init_latent = x
        self.model_wrap_cfg.fake_target = x
        self.last_latent = x
        self.sampler_extra_args = {
            "cond": conditioning,
            "image_cond": image_conditioning,
            "uncond": unconditional_conditioning,
            "cond_scale": p.cfg_scale,
            "s_min_uncond": self.s_min_uncond,
        }
        samples = self.launch_sampling(
            t_enc + 1,
            lambda: self.func(
                self.model_wrap_cfg,
                xi,
                extra_args=self.sampler_extra_args,
                disable=False,
                callback=self.callback_state,
                **extra_params_kwargs,
            ),
        )
        self.add_infotext(p)
        return samples

    def sample(self, p, x, conditioning, unconditional_conditioning, steps=None, image_conditioning=None):
        run = self._fake_start_run(
            kind="timesteps",
            is_img2img=False,
            is_hr_pass=bool(getattr(p, "is_hr_pass", False)),
            steps=0,
            t_enc=None,
            requested_steps=steps,
            sigmas=None,
            schedule=None,
            override_used=False,
            x=x.detach().clone(),
            noise=x.detach().clone(),
            x_device=x.device,
        )
        steps = steps or p.steps
        timesteps = self.get_timesteps(p, steps)
        run.steps, run.sigmas, run.schedule = steps, timesteps.clone(), timesteps.clone()
        run.sigmas_device = timesteps.device
        extra_params_kwargs = self.initialize(p)
        extra_params_kwargs["timesteps"] = timesteps
        self.model_wrap_cfg.fake_target = x.detach().clone()
        self.last_latent = x
        self.sampler_extra_args = {
            "cond": conditioning,
            "image_cond": image_conditioning,
            "uncond": unconditional_conditioning,
            "cond_scale": p.cfg_scale,
            "s_min_uncond": self.s_min_uncond,
        }
        samples = self.launch_sampling(
            steps,
            lambda: self.func(
                self.model_wrap_cfg,
                x,
                extra_args=self.sampler_extra_args,
                disable=False,
                callback=self.callback_state,
                **extra_params_kwargs,
            ),
        )
        self.add_infotext(p)
        return samples
