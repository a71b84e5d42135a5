"""Mirrors modules/sd_samplers_kdiffusion.py (v1.10.1): the k-diffusion samplers and ``get_sigmas``.

Faithful where the glue reaches in:
- ``get_sigmas(p, steps)`` (1.10.1 :79): discard-penultimate (+1 step, then drop sigmas[-2]); the override
  ``p.sampler_noise_scheduler_override(steps)`` is checked FIRST (1.6.0 :99, 1.10.1 :96, Forge :98, reForge
  :156); else the schedule: 1.9+ ``p.scheduler``/``p.hr_scheduler`` via ``sd_schedulers.schedulers_map``
  ("Automatic" = the sampler's own ``scheduler`` option), 1.6: ``opts.k_sched_type`` then the sampler's
  karras/exponential option. Device: 1.6 returns as built; 1.10+ ``.cpu()``; Forge/reForge/Neo also
  ``.to(x.device)`` in the sample functions; schedulers build on ``shared.device`` on 1.9, reForge and Neo.
- ``sample_img2img`` (:134): ``setup_img2img_steps``, then walks ``sigmas[steps - t_enc - 1:]`` from
  ``xi = x + noise * sigma_sched[0]`` (SD3 1.10: ``add_noise_to_latent``; Forge: ``predictor.noise_scaling``;
  Neo: the plain sum again).
- ``model_wrap`` is ``p.sampler.model_wrap``: ``CompVisDenoiser`` over ``sd_model.alphas_cumprod`` (A1111,
  reForge; Neo with ``quantize=True``), ``sd_model.create_denoiser()`` (1.10 SD3),
  ``ForgeScheduleLinker(unet.model.predictor)`` (Forge).
Simplified: every sampler is one deterministic Euler walk (k_diffusion/sampling.py); no noise samplers, no
extra-noise callback, no refiner.
"""

import inspect

import k_diffusion.external
import k_diffusion.sampling
import torch

from modules import devices, sd_samplers_cfg_denoiser, sd_samplers_common
from modules.fake_host import FLAVOR
from modules.shared import opts

if FLAVOR.has_schedulers:
    from modules import sd_schedulers
import modules.shared as shared

if FLAVOR.has_schedulers:
    # sd_samplers_kdiffusion.py v1.10.1 :11-27 (Forge/reForge: same names)
    samplers_k_diffusion = [
        ("DPM++ 2M", "sample_dpmpp_2m", ["k_dpmpp_2m"], {"scheduler": "karras"}),
        (
            "DPM++ SDE",
            "sample_dpmpp_sde",
            ["k_dpmpp_sde"],
            {"scheduler": "karras", "second_order": True, "brownian_noise": True},
        ),
        (
            "DPM++ 2M SDE",
            "sample_dpmpp_2m_sde",
            ["k_dpmpp_2m_sde"],
            {"scheduler": "exponential", "brownian_noise": True},
        ),
        (
            "DPM++ 2S a",
            "sample_dpmpp_2s_ancestral",
            ["k_dpmpp_2s_a"],
            {"scheduler": "karras", "uses_ensd": True, "second_order": True},
        ),
        (
            "DPM++ 3M SDE",
            "sample_dpmpp_3m_sde",
            ["k_dpmpp_3m_sde"],
            {"scheduler": "exponential", "discard_next_to_last_sigma": True, "brownian_noise": True},
        ),
        ("Euler a", "sample_euler_ancestral", ["k_euler_a", "k_euler_ancestral"], {"uses_ensd": True}),
        ("Euler", "sample_euler", ["k_euler"], {}),
        ("LMS", "sample_lms", ["k_lms"], {}),
        ("Heun", "sample_heun", ["k_heun"], {"second_order": True}),
        (
            "DPM2",
            "sample_dpm_2",
            ["k_dpm_2"],
            {"scheduler": "karras", "discard_next_to_last_sigma": True, "second_order": True},
        ),
        (
            "DPM2 a",
            "sample_dpm_2_ancestral",
            ["k_dpm_2_a"],
            {
                "scheduler": "karras",
                "discard_next_to_last_sigma": True,
                "uses_ensd": True,
                "second_order": True,
            },
        ),
        ("DPM fast", "sample_dpm_fast", ["k_dpm_fast"], {"uses_ensd": True}),
    ]
else:
    # sd_samplers_kdiffusion.py v1.6.0 :11-37 ("... Karras" variants are separate samplers)
    samplers_k_diffusion = [
        ("DPM++ 2M Karras", "sample_dpmpp_2m", ["k_dpmpp_2m_ka"], {"scheduler": "karras"}),
        (
            "DPM++ SDE Karras",
            "sample_dpmpp_sde",
            ["k_dpmpp_sde_ka"],
            {"scheduler": "karras", "second_order": True, "brownian_noise": True},
        ),
        (
            "DPM++ 2M SDE Exponential",
            "sample_dpmpp_2m_sde",
            ["k_dpmpp_2m_sde_exp"],
            {"scheduler": "exponential", "brownian_noise": True},
        ),
        ("Euler a", "sample_euler_ancestral", ["k_euler_a", "k_euler_ancestral"], {"uses_ensd": True}),
        ("Euler", "sample_euler", ["k_euler"], {}),
        ("LMS", "sample_lms", ["k_lms"], {}),
        ("Heun", "sample_heun", ["k_heun"], {"second_order": True}),
        ("DPM2", "sample_dpm_2", ["k_dpm_2"], {"discard_next_to_last_sigma": True, "second_order": True}),
        (
            "DPM2 a",
            "sample_dpm_2_ancestral",
            ["k_dpm_2_a"],
            {"discard_next_to_last_sigma": True, "uses_ensd": True, "second_order": True},
        ),
        ("DPM++ 2M", "sample_dpmpp_2m", ["k_dpmpp_2m"], {}),
        ("DPM++ SDE", "sample_dpmpp_sde", ["k_dpmpp_sde"], {"second_order": True, "brownian_noise": True}),
        (
            "DPM++ 3M SDE",
            "sample_dpmpp_3m_sde",
            ["k_dpmpp_3m_sde"],
            {"discard_next_to_last_sigma": True, "brownian_noise": True},
        ),
        ("DPM fast", "sample_dpm_fast", ["k_dpm_fast"], {"uses_ensd": True}),
        ("LMS Karras", "sample_lms", ["k_lms_ka"], {"scheduler": "karras"}),
        (
            "DPM2 Karras",
            "sample_dpm_2",
            ["k_dpm_2_ka"],
            {
                "scheduler": "karras",
                "discard_next_to_last_sigma": True,
                "uses_ensd": True,
                "second_order": True,
            },
        ),
    ]

samplers_data_k_diffusion = [
    sd_samplers_common.SamplerData(
        label, lambda model, funcname=funcname: KDiffusionSampler(funcname, model), aliases, options
    )
    for label, funcname, aliases, options in samplers_k_diffusion
    if callable(funcname) or hasattr(k_diffusion.sampling, funcname)
]

sampler_extra_params = {
    "sample_euler": ["s_churn", "s_tmin", "s_tmax", "s_noise"],
    "sample_heun": ["s_churn", "s_tmin", "s_tmax", "s_noise"],
    "sample_dpm_2": ["s_churn", "s_tmin", "s_tmax", "s_noise"],
    "sample_dpm_fast": ["s_noise"],
    "sample_dpm_2_ancestral": ["s_noise"],
    "sample_dpmpp_2s_ancestral": ["s_noise"],
    "sample_dpmpp_sde": ["s_noise"],
    "sample_dpmpp_2m_sde": ["s_noise"],
    "sample_dpmpp_3m_sde": ["s_noise"],
}

k_diffusion_samplers_map = {x.name: x for x in samplers_data_k_diffusion}
if FLAVOR.has_schedulers:
    k_diffusion_scheduler = {x.name: x.function for x in sd_schedulers.schedulers}
else:
    k_diffusion_scheduler = {
        "Automatic": None,
        "karras": k_diffusion.sampling.get_sigmas_karras,
        "exponential": k_diffusion.sampling.get_sigmas_exponential,
        "polyexponential": k_diffusion.sampling.get_sigmas_polyexponential,
    }


class CFGDenoiserKDiffusion(sd_samplers_cfg_denoiser.CFGDenoiser):
    @property
    def inner_model(self):
        """mirrors CFGDenoiserKDiffusion.inner_model (v1.10.1 :53; Forge :60; Neo: CompVisDenoiser or
        CompVisVDenoiser over the engine's ``alphas_cumprod``, always ``quantize=True``)."""
        if self.model_wrap is None:
            if FLAVOR.is_neo:
                denoiser = (
                    k_diffusion.external.CompVisVDenoiser
                    if shared.sd_model.parameterization == "v"
                    else k_diffusion.external.CompVisDenoiser
                )
                self.model_wrap = denoiser(shared.sd_model, quantize=True)
            elif FLAVOR.is_forge:
                self.model_wrap = k_diffusion.external.ForgeScheduleLinker(
                    shared.sd_model.forge_objects.unet.model.predictor
                )
                self.model_wrap.inner_model = shared.sd_model
            else:
                denoiser_constructor = getattr(shared.sd_model, "create_denoiser", None)
                if denoiser_constructor is not None and FLAVOR.at_least(1, 10):
                    self.model_wrap = denoiser_constructor()
                else:
                    denoiser = (
                        k_diffusion.external.CompVisVDenoiser
                        if shared.sd_model.parameterization == "v"
                        else k_diffusion.external.CompVisDenoiser
                    )
                    self.model_wrap = denoiser(shared.sd_model, quantize=shared.opts.enable_quantization)
        return self.model_wrap


class KDiffusionSampler(sd_samplers_common.Sampler):
    def __init__(self, funcname, sd_model, options=None):
        super().__init__(funcname)
        self.extra_params = sampler_extra_params.get(funcname, [])
        self.options = options or {}
        self.func = funcname if callable(funcname) else getattr(k_diffusion.sampling, self.funcname)
        self.model_wrap_cfg = CFGDenoiserKDiffusion(self)
        self.model_wrap = self.model_wrap_cfg.inner_model

    def get_sigmas(self, p, steps):
        """mirrors KDiffusionSampler.get_sigmas (1.10.1 :79; 1.6.0 :90; Forge :81; reForge :139)."""
        discard_next_to_last_sigma = self.config is not None and self.config.options.get(
            "discard_next_to_last_sigma", False
        )
        if opts.always_discard_next_to_last_sigma and not discard_next_to_last_sigma:
            discard_next_to_last_sigma = True
            p.extra_generation_params["Discard penultimate sigma"] = True

        steps += 1 if discard_next_to_last_sigma else 0

        sigmas = self._get_sigmas_19(p, steps) if FLAVOR.has_schedulers else self._get_sigmas_16(p, steps)

        if discard_next_to_last_sigma:
            sigmas = torch.cat([sigmas[:-2], sigmas[-1:]])

        if FLAVOR.sigmas_cpu:
            sigmas = sigmas.cpu()
        return sigmas

    def _call_override(self, p, steps):
        if self.fake_run is not None:
            self.fake_run.override_used = True
        return p.sampler_noise_scheduler_override(steps)

    def _get_sigmas_19(self, p, steps):
        scheduler_name = (p.hr_scheduler if p.is_hr_pass else p.scheduler) or "Automatic"
        if scheduler_name == "Automatic":
            scheduler_name = self.config.options.get("scheduler", None)
        scheduler = sd_schedulers.schedulers_map.get(scheduler_name)

        m_sigma_min, m_sigma_max = self.model_wrap.sigmas[0].item(), self.model_wrap.sigmas[-1].item()
        sigma_min, sigma_max = (
            (0.1, 10) if opts.use_old_karras_scheduler_sigmas else (m_sigma_min, m_sigma_max)
        )

        if p.sampler_noise_scheduler_override:
            return self._call_override(p, steps)
        if scheduler is None or scheduler.function is None:
            return self.model_wrap.get_sigmas(steps)

        sigmas_kwargs = {"sigma_min": sigma_min, "sigma_max": sigma_max}
        if scheduler.label != "Automatic" and not p.is_hr_pass:
            p.extra_generation_params["Schedule type"] = scheduler.label
        elif scheduler.label != p.extra_generation_params.get("Schedule type"):
            p.extra_generation_params["Hires schedule type"] = scheduler.label
        if opts.sigma_min != 0 and opts.sigma_min != m_sigma_min:
            sigmas_kwargs["sigma_min"] = opts.sigma_min
            p.extra_generation_params["Schedule min sigma"] = opts.sigma_min
        if opts.sigma_max != 0 and opts.sigma_max != m_sigma_max:
            sigmas_kwargs["sigma_max"] = opts.sigma_max
            p.extra_generation_params["Schedule max sigma"] = opts.sigma_max
        if scheduler.default_rho != -1 and opts.rho != 0 and opts.rho != scheduler.default_rho:
            sigmas_kwargs["rho"] = opts.rho
            p.extra_generation_params["Schedule rho"] = opts.rho
        if scheduler.need_inner_model:
            sigmas_kwargs["inner_model"] = self.model_wrap

        device = devices.cpu if FLAVOR.scheduler_device_is_cpu else shared.device
        return scheduler.function(n=steps, **sigmas_kwargs, device=device)

    def _get_sigmas_16(self, p, steps):
        if p.sampler_noise_scheduler_override:
            return self._call_override(p, steps)
        if opts.k_sched_type != "Automatic":
            m_sigma_min, m_sigma_max = (self.model_wrap.sigmas[0].item(), self.model_wrap.sigmas[-1].item())
            sigma_min, sigma_max = (
                (0.1, 10) if opts.use_old_karras_scheduler_sigmas else (m_sigma_min, m_sigma_max)
            )
            sigmas_kwargs = {"sigma_min": sigma_min, "sigma_max": sigma_max}
            sigmas_func = k_diffusion_scheduler[opts.k_sched_type]
            p.extra_generation_params["Schedule type"] = opts.k_sched_type
            if opts.sigma_min != m_sigma_min and opts.sigma_min != 0:
                sigmas_kwargs["sigma_min"] = opts.sigma_min
                p.extra_generation_params["Schedule min sigma"] = opts.sigma_min
            if opts.sigma_max != m_sigma_max and opts.sigma_max != 0:
                sigmas_kwargs["sigma_max"] = opts.sigma_max
                p.extra_generation_params["Schedule max sigma"] = opts.sigma_max
            default_rho = 1.0 if opts.k_sched_type == "polyexponential" else 7.0
            if opts.k_sched_type != "exponential" and opts.rho != 0 and opts.rho != default_rho:
                sigmas_kwargs["rho"] = opts.rho
                p.extra_generation_params["Schedule rho"] = opts.rho
            return sigmas_func(n=steps, **sigmas_kwargs, device=shared.device)
        if self.config is not None and self.config.options.get("scheduler", None) == "karras":
            sigma_min, sigma_max = (
                (0.1, 10)
                if opts.use_old_karras_scheduler_sigmas
                else (self.model_wrap.sigmas[0].item(), self.model_wrap.sigmas[-1].item())
            )
            return k_diffusion.sampling.get_sigmas_karras(
                n=steps, sigma_min=sigma_min, sigma_max=sigma_max, device=shared.device
            )
        if self.config is not None and self.config.options.get("scheduler", None) == "exponential":
            m_sigma_min, m_sigma_max = (self.model_wrap.sigmas[0].item(), self.model_wrap.sigmas[-1].item())
            return k_diffusion.sampling.get_sigmas_exponential(
                n=steps, sigma_min=m_sigma_min, sigma_max=m_sigma_max, device=shared.device
            )
        return self.model_wrap.get_sigmas(steps)

    def _extra_kwargs(self, p, sigma_sched):
        extra_params_kwargs = self.initialize(p)
        parameters = inspect.signature(self.func).parameters
        if "sigma_min" in parameters:
            extra_params_kwargs["sigma_min"] = sigma_sched[-2]
        if "sigma_max" in parameters:
            extra_params_kwargs["sigma_max"] = sigma_sched[0]
        if "n" in parameters:
            extra_params_kwargs["n"] = len(sigma_sched) - 1
        if "sigma_sched" in parameters:
            extra_params_kwargs["sigma_sched"] = sigma_sched
        if "sigmas" in parameters:
            extra_params_kwargs["sigmas"] = sigma_sched
        return extra_params_kwargs

    def sample_img2img(
        self, p, x, noise, conditioning, unconditional_conditioning, steps=None, image_conditioning=None
    ):
        """mirrors sample_img2img (1.10.1 :134; Forge :136; reForge :194)."""
        requested_steps = steps
        run = self._fake_start_run(
            kind="kdiffusion",
            is_img2img=True,
            is_hr_pass=bool(getattr(p, "is_hr_pass", False)),
            steps=0,
            t_enc=None,
            requested_steps=requested_steps,
            sigmas=None,
            schedule=None,
            override_used=False,
            x=x.detach().clone(),
            noise=noise.detach().clone(),
            x_device=x.device,
        )
        if FLAVOR.is_reforge or FLAVOR.is_neo:
            self.model_wrap.log_sigmas = self.model_wrap.log_sigmas.to(x.device)
            self.model_wrap.sigmas = self.model_wrap.sigmas.to(x.device)

        steps, t_enc = sd_samplers_common.setup_img2img_steps(p, steps)
        sigmas = self.get_sigmas(p, steps)
        run.sigmas_device = sigmas.device
        if FLAVOR.sigmas_to_x_device:
            sigmas = sigmas.to(x.device)
        sigma_sched = sigmas[steps - t_enc - 1 :]
        run.steps, run.t_enc, run.sigmas, run.schedule = steps, t_enc, sigmas.clone(), sigma_sched.clone()

        if FLAVOR.is_forge and not FLAVOR.is_neo:
            x = x.to(noise)
            xi = self.model_wrap.predictor.noise_scaling(sigma_sched[0], noise, x, max_denoise=False)
        elif FLAVOR.is_reforge or FLAVOR.is_neo:  # Neo sample_img2img: `xi = x + noise * sigma_sched[0]`
            x = x.to(noise)
            xi = x + noise * sigma_sched[0]
        elif hasattr(shared.sd_model, "add_noise_to_latent"):
            xi = shared.sd_model.add_noise_to_latent(x, noise, sigma_sched[0])
        else:
            xi = x + noise * sigma_sched[0]

        if opts.img2img_extra_noise > 0:
            p.extra_generation_params["Extra noise"] = opts.img2img_extra_noise
            xi += noise * opts.img2img_extra_noise

        extra_params_kwargs = self._extra_kwargs(p, sigma_sched)
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
        """mirrors sample (1.10.1 :190; Forge :196)."""
        run = self._fake_start_run(
            kind="kdiffusion",
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
        sigmas = self.get_sigmas(p, steps)
        run.sigmas_device = sigmas.device
        if FLAVOR.sigmas_to_x_device:
            sigmas = sigmas.to(x.device)
        run.steps, run.sigmas, run.schedule = steps, sigmas.clone(), sigmas.clone()

        self.model_wrap_cfg.fake_target = x.detach().clone()
        if FLAVOR.is_forge and not FLAVOR.is_neo:
            if opts.sgm_noise_multiplier:
                p.extra_generation_params["SGM noise multiplier"] = True
            x = self.model_wrap.predictor.noise_scaling(
                sigmas[0], x, torch.zeros_like(x), max_denoise=opts.sgm_noise_multiplier
            )
        elif opts.sgm_noise_multiplier:
            p.extra_generation_params["SGM noise multiplier"] = True
            x = x * torch.sqrt(1.0 + sigmas[0] ** 2.0)
        else:
            x = x * sigmas[0]

        extra_params_kwargs = self.initialize(p)
        parameters = inspect.signature(self.func).parameters
        if "n" in parameters:
            extra_params_kwargs["n"] = steps
        if "sigma_min" in parameters:
            extra_params_kwargs["sigma_min"] = self.model_wrap.sigmas[0].item()
            extra_params_kwargs["sigma_max"] = self.model_wrap.sigmas[-1].item()
        if "sigmas" in parameters:
            extra_params_kwargs["sigmas"] = sigmas

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
