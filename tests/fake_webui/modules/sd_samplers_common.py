"""Mirrors modules/sd_samplers_common.py (v1.10.1): step arithmetic, VAE entry points, the Sampler base.

``setup_img2img_steps`` is the real function, unchanged (v1.10.1 :22; identical in 1.6.0 :22, Forge :24,
reForge :26). ``InterruptedException`` is a BaseException (:142) caught only in ``Sampler.launch_sampling``.
``images_tensor_to_samples`` (:87) is the encode entry the real ``Img2Img.init`` uses: image in [0, 1] ->
``model.get_first_stage_encoding(model.encode_first_stage(image * 2 - 1))``; the fake model does the scaling
where the real one does (see sd_models.py).
Simplified: no TAESD/approximate decoders, no live previews, no refiner switching.
"""

import inspect
from collections import namedtuple

import numpy as np
import torch
from PIL import Image

from modules import devices, shared
from modules.fake_host import FLAVOR, RECORD
from modules.shared import opts, state

SamplerDataTuple = namedtuple("SamplerData", ["name", "constructor", "aliases", "options"])


class SamplerData(SamplerDataTuple):
    def total_steps(self, steps):
        if self.options.get("second_order", False):
            steps = steps * 2
        return steps


def setup_img2img_steps(p, steps=None):
    if opts.img2img_fix_steps or steps is not None:
        requested_steps = steps or p.steps
        steps = int(requested_steps / min(p.denoising_strength, 0.999)) if p.denoising_strength > 0 else 0
        t_enc = requested_steps - 1
    else:
        steps = p.steps
        t_enc = int(min(p.denoising_strength, 0.999) * steps)

    return steps, t_enc


approximation_indexes = {"Full": 0, "Approx NN": 1, "Approx cheap": 2, "TAESD": 3}


def samples_to_images_tensor(sample, approximation=None, model=None):
    """latent -> image tensor in [-1, 1] (always the full fake VAE)."""
    if model is None:
        model = shared.sd_model
    with torch.no_grad():
        return model.decode_first_stage(sample)


def single_sample_to_image(sample, approximation=None):
    x_sample = samples_to_images_tensor(sample.unsqueeze(0), approximation)[0] * 0.5 + 0.5
    x_sample = torch.clamp(x_sample, min=0.0, max=1.0)
    x_sample = 255.0 * np.moveaxis(x_sample.float().cpu().numpy(), 0, 2)
    return Image.fromarray(x_sample.astype(np.uint8))


def decode_first_stage(model, x):
    x = x.to(devices.dtype_vae)
    return samples_to_images_tensor(x, approximation_indexes.get(opts.sd_vae_decode_method, 0), model)


def sample_to_image(samples, index=0, approximation=None):
    return single_sample_to_image(samples[index], approximation)


def images_tensor_to_samples(image, approximation=None, model=None):
    """mirrors images_tensor_to_samples (v1.10.1 :87): image [0, 1] -> latent in model space."""
    if model is None:
        model = shared.sd_model
    image = image.to(shared.device, dtype=devices.dtype_vae)
    image = image * 2 - 1
    if len(image) > 1:
        x_latent = torch.stack(
            [
                model.get_first_stage_encoding(model.encode_first_stage(torch.unsqueeze(img, 0)))[0]
                for img in image
            ]
        )
    else:
        x_latent = model.get_first_stage_encoding(model.encode_first_stage(image))
    return x_latent


class InterruptedException(BaseException):
    pass


class Sampler:
    """mirrors sd_samplers_common.Sampler (v1.10.1 :217)."""

    def __init__(self, funcname):
        self.funcname = funcname
        self.func = funcname
        self.extra_params = []
        self.sampler_noises = None
        self.stop_at = None
        self.eta = None
        self.config: SamplerData = None
        self.last_latent = None
        self.s_min_uncond = None
        self.s_churn = 0.0
        self.s_tmin = 0.0
        self.s_tmax = float("inf")
        self.s_noise = 1.0
        self.eta_option_field = "eta_ancestral"
        self.eta_infotext_field = "Eta"
        self.eta_default = 1.0
        self.conditioning_key = (
            "crossattn"
            if FLAVOR.is_forge
            else getattr(shared.sd_model.model, "conditioning_key", "crossattn")
        )
        self.p = None
        self.model_wrap_cfg = None
        self.sampler_extra_args = None
        self.options = {}
        self.fake_run = None  # fake-only: the SamplingRun being recorded

    def callback_state(self, d):
        step = d["i"]
        if self.stop_at is not None and step > self.stop_at:
            raise InterruptedException
        state.sampling_step = step
        shared.total_tqdm.update()

    def launch_sampling(self, steps, func):
        """mirrors launch_sampling (v1.10.1 :249): an interrupt returns the last latent; errors propagate."""
        self.model_wrap_cfg.steps = steps
        self.model_wrap_cfg.total_steps = self.config.total_steps(steps)
        state.sampling_steps = steps
        state.sampling_step = 0
        if self.fake_run is not None:
            self.fake_run.launch_steps = steps
        try:
            result = func()
        except InterruptedException:
            if self.fake_run is not None:
                self.fake_run.interrupted = True
            result = self.last_latent
        if self.fake_run is not None:
            self.fake_run.result = result
        return result

    def number_of_needed_noises(self, p):
        return p.steps

    def initialize(self, p) -> dict:
        self.p = p
        self.model_wrap_cfg.p = p
        self.model_wrap_cfg.mask = p.mask if hasattr(p, "mask") else None
        self.model_wrap_cfg.nmask = p.nmask if hasattr(p, "nmask") else None
        self.model_wrap_cfg.step = 0
        self.model_wrap_cfg.image_cfg_scale = getattr(p, "image_cfg_scale", None)
        self.eta = p.eta if p.eta is not None else getattr(opts, self.eta_option_field, 0.0)
        self.s_min_uncond = getattr(p, "s_min_uncond", 0.0)

        extra_params_kwargs = {}
        if callable(self.func):
            parameters = inspect.signature(self.func).parameters
            for param_name in self.extra_params:
                if hasattr(p, param_name) and param_name in parameters:
                    extra_params_kwargs[param_name] = getattr(p, param_name)
            if "eta" in parameters:
                if self.eta != self.eta_default:
                    p.extra_generation_params[self.eta_infotext_field] = self.eta
                extra_params_kwargs["eta"] = self.eta
        return extra_params_kwargs

    def sample(self, p, x, conditioning, unconditional_conditioning, steps=None, image_conditioning=None):
        raise NotImplementedError()

    def sample_img2img(
        self, p, x, noise, conditioning, unconditional_conditioning, steps=None, image_conditioning=None
    ):
        raise NotImplementedError()

    def add_infotext(self, p):
        if self.model_wrap_cfg.padded_cond_uncond:
            p.extra_generation_params["Pad conds"] = True

    def _fake_start_run(self, **kwargs):
        """Fake-only: record a SamplingRun and hand it to the denoiser."""
        from modules.fake_host import SamplingRun

        run = SamplingRun(sampler_name=self.config.name if self.config else str(self.funcname), **kwargs)
        RECORD.runs.append(run)
        self.fake_run = run
        self.model_wrap_cfg.fake_run = run
        return run
