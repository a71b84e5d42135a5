"""Mirrors modules/processing.py (v1.10.1): jobs (``p``), ``process_images`` and the two latent resize seams.

The two calls the glue intercepts are reproduced verbatim, through this module's ``torch`` global:
- ``StableDiffusionProcessingImg2Img.init`` (1.10.1 :1734; 1.6.0 :1500; Forge :1819; reForge :1881): the
  source image is NOT resized when ``resize_mode == 3`` (:1679), it is VAE-encoded at source size into a
  model-space latent, then ``torch.nn.functional.interpolate(self.init_latent, size=(self.height // opt_f,
  self.width // opt_f), mode="bilinear")``; masks (``p.mask``/``p.nmask``) follow ``init_latent``'s shape and
  ``image_conditioning`` is built from the source-size image.
- ``StableDiffusionProcessingTxt2Img.sample_hr_pass`` (1.10.1 :1392; 1.6.0 :1187; Forge :1458; reForge :1518):
  ``torch.nn.functional.interpolate(samples, size=(target_height // opt_f, target_width // opt_f),
  mode=self.latent_scale_mode["mode"], antialias=self.latent_scale_mode["antialias"])``, then truncation,
  noise, ``scripts.before_hr``, then ``sample_img2img(..., steps=self.hr_second_pass_steps or self.steps)``
  with ``is_hr_pass`` True.
``process_images`` (:819) keeps the real override_settings save/restore (including its quirks per flavor) and
lets every exception but ``InterruptedException`` (caught in the sampler) propagate.

Simplified: no prompts/conds (strings stand in), no extra networks, no saving to disk (except params.txt), no
face restoration, colour correction, refiner, hires checkpoint, or inpainting-model conditioning; mask blur is
a PIL Gaussian blur, "fill" only checks sizes like the real paste, "only masked" crops to the mask's bounding
box, no grid image.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

import modules.images as images
import modules.shared as shared
from modules import devices, errors, paths, rng, scripts, sd_models, sd_samplers, sd_samplers_common
from modules.fake_host import FLAVOR
from modules.sd_samplers_common import approximation_indexes, decode_first_stage, images_tensor_to_samples
from modules.shared import cmd_opts, opts, state

if FLAVOR.has_infotext_utils:
    from modules import infotext_utils as _infotext
else:
    from modules import generation_parameters_copypaste as _infotext

opt_C = 4
opt_f = 8


def apply_overlay(image, paste_loc, overlay):
    """mirrors apply_overlay (v1.10.1 :75)."""
    if overlay is None:
        return image, image.copy()
    if paste_loc is not None:
        x, y, w, h = paste_loc
        base_image = Image.new("RGBA", (overlay.width, overlay.height))
        image = images.resize_image(1, image, w, h)
        base_image.paste(image, (x, y))
        image = base_image
    original_denoised_image = image.copy()
    image = image.convert("RGBA")
    image.alpha_composite(overlay)
    image = image.convert("RGB")
    return image, original_denoised_image


def create_binary_mask(image, round=True):
    if image.mode == "RGBA" and image.getextrema()[-1] != (255, 255):
        if round:
            image = image.split()[-1].convert("L").point(lambda x: 255 if x > 128 else 0)
        else:
            image = image.split()[-1].convert("L")
    else:
        image = image.convert("L")
    return image


def txt2img_image_conditioning(sd_model, x, width, height):
    """Dummy zero conditioning (normal models; v1.10.1 :130)."""
    return x.new_zeros(x.shape[0], 5, 1, 1, dtype=x.dtype, device=x.device)


def _masking_fill(image, mask):
    """masking.fill: the real one pastes ``image`` through ``mask`` (same sizes required), then blurs."""
    image_masked = Image.new("RGBa", (image.width, image.height))
    image_masked.paste(image.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(mask.convert("L")))
    return image


def _crop_region(mask, pad):
    box = mask.getbbox()
    if box is None:
        return None
    x1, y1, x2, y2 = box
    return max(x1 - pad, 0), max(y1 - pad, 0), min(x2 + pad, mask.width), min(y2 + pad, mask.height)


@dataclass(repr=False)
class StableDiffusionProcessing:
    """mirrors StableDiffusionProcessing (v1.10.1 :137)."""

    sd_model: object = None
    outpath_samples: str = None
    outpath_grids: str = None
    prompt: str = ""
    prompt_for_display: str = None
    negative_prompt: str = ""
    styles: list[str] = None
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    seed_enable_extras: bool = True
    sampler_name: str = None
    if FLAVOR.has_schedulers:
        scheduler: str = None  # p.scheduler exists from 1.9 (processing.py 1.10.1 :153)
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 50
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    restore_faces: bool = None
    tiling: bool = None
    do_not_save_samples: bool = False
    do_not_save_grid: bool = False
    extra_generation_params: dict[str, Any] = None
    overlay_images: list = None
    eta: float = None
    do_not_reload_embeddings: bool = False
    denoising_strength: float = None
    ddim_discretize: str = None
    s_min_uncond: float = None
    s_churn: float = None
    s_tmax: float = None
    s_tmin: float = None
    s_noise: float = None
    override_settings: dict[str, Any] = None
    override_settings_restore_afterwards: bool = True
    sampler_index: int = None
    refiner_checkpoint: str = None
    refiner_switch_at: float = None
    token_merging_ratio = 0
    token_merging_ratio_hr = 0
    disable_extra_networks: bool = False
    firstpass_image: Image = None

    scripts_value: scripts.ScriptRunner = field(default=None, init=False)
    script_args_value: list = field(default=None, init=False)
    scripts_setup_complete: bool = field(default=False, init=False)

    cached_uc = [None, None]  # noqa: RUF012
    cached_c = [None, None]  # noqa: RUF012

    comments: dict = None
    sampler: sd_samplers_common.Sampler | None = field(default=None, init=False)
    is_using_inpainting_conditioning: bool = field(default=False, init=False)
    paste_to: tuple | None = field(default=None, init=False)
    is_hr_pass: bool = field(default=False, init=False)
    c: tuple = field(default=None, init=False)
    uc: tuple = field(default=None, init=False)
    rng: rng.ImageRNG | None = field(default=None, init=False)
    step_multiplier: int = field(default=1, init=False)
    color_corrections: list = field(default=None, init=False)
    all_prompts: list = field(default=None, init=False)
    all_negative_prompts: list = field(default=None, init=False)
    all_seeds: list = field(default=None, init=False)
    all_subseeds: list = field(default=None, init=False)
    iteration: int = field(default=0, init=False)
    main_prompt: str = field(default=None, init=False)
    main_negative_prompt: str = field(default=None, init=False)
    prompts: list = field(default=None, init=False)
    negative_prompts: list = field(default=None, init=False)
    seeds: list = field(default=None, init=False)
    subseeds: list = field(default=None, init=False)
    extra_network_data: dict = field(default=None, init=False)
    user: str = field(default=None, init=False)
    sd_model_name: str = field(default=None, init=False)
    sd_model_hash: str = field(default=None, init=False)
    sd_vae_name: str = field(default=None, init=False)
    sd_vae_hash: str = field(default=None, init=False)
    is_api: bool = field(default=False, init=False)

    def __post_init__(self):
        if self.sampler_index is not None:
            print(
                "sampler_index argument for StableDiffusionProcessing does not do anything; use sampler_name",
                file=sys.stderr,
            )

        self.comments = {}
        if self.styles is None:
            self.styles = []

        self.sampler_noise_scheduler_override = None

        self.extra_generation_params = self.extra_generation_params or {}
        self.override_settings = self.override_settings or {}
        self.script_args = self.script_args or {}

        self.refiner_checkpoint_info = None

        if not self.seed_enable_extras:
            self.subseed = -1
            self.subseed_strength = 0
            self.seed_resize_from_h = 0
            self.seed_resize_from_w = 0

        self.cached_uc = StableDiffusionProcessing.cached_uc
        self.cached_c = StableDiffusionProcessing.cached_c

    def fill_fields_from_opts(self):
        self.s_min_uncond = self.s_min_uncond if self.s_min_uncond is not None else opts.s_min_uncond
        self.s_churn = self.s_churn if self.s_churn is not None else opts.s_churn
        self.s_tmin = self.s_tmin if self.s_tmin is not None else opts.s_tmin
        self.s_tmax = (self.s_tmax if self.s_tmax is not None else opts.s_tmax) or float("inf")
        self.s_noise = self.s_noise if self.s_noise is not None else opts.s_noise

    @property
    def sd_model(self):  # noqa: F811 (the real class shadows its dataclass field with a property too)
        return shared.sd_model

    @sd_model.setter
    def sd_model(self, value):
        pass

    @property
    def scripts(self):
        return self.scripts_value

    @scripts.setter
    def scripts(self, value):
        self.scripts_value = value
        if self.scripts_value and self.script_args_value and not self.scripts_setup_complete:
            self.setup_scripts()

    @property
    def script_args(self):
        return self.script_args_value

    @script_args.setter
    def script_args(self, value):
        self.script_args_value = value
        if self.scripts_value and self.script_args_value and not self.scripts_setup_complete:
            self.setup_scripts()

    def setup_scripts(self):
        self.scripts_setup_complete = True
        self.scripts.setup_scrips(self, is_ui=not self.is_api)

    def comment(self, text):
        self.comments[text] = 1

    def txt2img_image_conditioning(self, x, width=None, height=None):
        self.is_using_inpainting_conditioning = False
        return txt2img_image_conditioning(self.sd_model, x, width or self.width, height or self.height)

    def img2img_image_conditioning(self, source_image, latent_image, image_mask=None, round_image_mask=True):
        """Normal (non-inpainting) models: zeros (B, 5, 1, 1) (v1.10.1 :395)."""
        source_image = devices.cond_cast_float(source_image)
        self.fake_image_conditioning_source_shape = tuple(source_image.shape)
        return latent_image.new_zeros(latent_image.shape[0], 5, 1, 1)

    def init(self, all_prompts, all_seeds, all_subseeds):
        pass

    def sample(self, conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts):
        raise NotImplementedError()

    def close(self):
        self.sampler = None
        self.c = None
        self.uc = None

    def get_token_merging_ratio(self, for_hr=False):
        if for_hr:
            return (
                self.token_merging_ratio_hr
                or opts.token_merging_ratio_hr
                or self.token_merging_ratio
                or opts.token_merging_ratio
            )
        return self.token_merging_ratio or opts.token_merging_ratio

    def setup_prompts(self):
        if isinstance(self.prompt, list):
            self.all_prompts = self.prompt
        elif isinstance(self.negative_prompt, list):
            self.all_prompts = [self.prompt] * len(self.negative_prompt)
        else:
            self.all_prompts = self.batch_size * self.n_iter * [self.prompt]

        if isinstance(self.negative_prompt, list):
            self.all_negative_prompts = self.negative_prompt
        else:
            self.all_negative_prompts = [self.negative_prompt] * len(self.all_prompts)

        if len(self.all_prompts) != len(self.all_negative_prompts):
            raise RuntimeError(
                f"Received a different number of prompts ({len(self.all_prompts)}) "
                f"and negative prompts ({len(self.all_negative_prompts)})"
            )
        self.main_prompt = self.all_prompts[0]
        self.main_negative_prompt = self.all_negative_prompts[0]

    def setup_conds(self):
        """Fake: the conditioning is the prompt text (no text encoder)."""
        self.c = ("cond", tuple(self.prompts))
        self.uc = ("uncond", tuple(self.negative_prompts))

    def get_conds(self):
        return self.c, self.uc

    def parse_extra_network_prompts(self):
        self.extra_network_data = {}

    def save_samples(self) -> bool:
        return False  # the fake never writes images


class Processed:
    """mirrors Processed (v1.10.1 :516)."""

    def __init__(
        self,
        p,
        images_list,
        seed=-1,
        info="",
        subseed=None,
        all_prompts=None,
        all_negative_prompts=None,
        all_seeds=None,
        all_subseeds=None,
        index_of_first_image=0,
        infotexts=None,
        comments="",
    ):
        self.images = images_list
        self.prompt = p.prompt
        self.negative_prompt = p.negative_prompt
        self.seed = seed
        self.subseed = subseed
        self.subseed_strength = p.subseed_strength
        self.info = info
        self.comments = "".join(f"{comment}\n" for comment in p.comments)
        self.width = p.width
        self.height = p.height
        self.sampler_name = p.sampler_name
        self.cfg_scale = p.cfg_scale
        self.image_cfg_scale = getattr(p, "image_cfg_scale", None)
        self.steps = p.steps
        self.batch_size = p.batch_size
        self.restore_faces = p.restore_faces
        self.face_restoration_model = opts.face_restoration_model if p.restore_faces else None
        self.sd_model_name = p.sd_model_name
        self.sd_model_hash = p.sd_model_hash
        self.sd_vae_name = p.sd_vae_name
        self.sd_vae_hash = p.sd_vae_hash
        self.seed_resize_from_w = p.seed_resize_from_w
        self.seed_resize_from_h = p.seed_resize_from_h
        self.denoising_strength = getattr(p, "denoising_strength", None)
        self.extra_generation_params = p.extra_generation_params
        self.index_of_first_image = index_of_first_image
        self.styles = p.styles
        self.job_timestamp = state.job_timestamp
        self.clip_skip = opts.CLIP_stop_at_last_layers
        self.token_merging_ratio = p.token_merging_ratio
        self.token_merging_ratio_hr = p.token_merging_ratio_hr
        self.eta = p.eta
        self.sampler_noise_scheduler_override = p.sampler_noise_scheduler_override
        self.prompt = self.prompt if not isinstance(self.prompt, list) else self.prompt[0]
        self.negative_prompt = (
            self.negative_prompt if not isinstance(self.negative_prompt, list) else self.negative_prompt[0]
        )
        self.seed = (
            int(self.seed if not isinstance(self.seed, list) else self.seed[0])
            if self.seed is not None
            else -1
        )
        self.subseed = (
            int(self.subseed if not isinstance(self.subseed, list) else self.subseed[0])
            if self.subseed is not None
            else -1
        )
        self.is_using_inpainting_conditioning = p.is_using_inpainting_conditioning
        self.all_prompts = all_prompts or p.all_prompts or [self.prompt]
        self.all_negative_prompts = all_negative_prompts or p.all_negative_prompts or [self.negative_prompt]
        self.all_seeds = all_seeds or p.all_seeds or [self.seed]
        self.all_subseeds = all_subseeds or p.all_subseeds or [self.subseed]
        self.infotexts = infotexts or [info] * len(images_list)
        self.version = program_version()

    def js(self):
        obj = {
            "prompt": self.all_prompts[0],
            "all_prompts": self.all_prompts,
            "negative_prompt": self.all_negative_prompts[0],
            "all_negative_prompts": self.all_negative_prompts,
            "seed": self.seed,
            "all_seeds": self.all_seeds,
            "subseed": self.subseed,
            "all_subseeds": self.all_subseeds,
            "subseed_strength": self.subseed_strength,
            "width": self.width,
            "height": self.height,
            "sampler_name": self.sampler_name,
            "cfg_scale": self.cfg_scale,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "restore_faces": self.restore_faces,
            "face_restoration_model": self.face_restoration_model,
            "sd_model_name": self.sd_model_name,
            "sd_model_hash": self.sd_model_hash,
            "sd_vae_name": self.sd_vae_name,
            "sd_vae_hash": self.sd_vae_hash,
            "seed_resize_from_w": self.seed_resize_from_w,
            "seed_resize_from_h": self.seed_resize_from_h,
            "denoising_strength": self.denoising_strength,
            "extra_generation_params": self.extra_generation_params,
            "index_of_first_image": self.index_of_first_image,
            "infotexts": self.infotexts,
            "styles": self.styles,
            "job_timestamp": self.job_timestamp,
            "clip_skip": self.clip_skip,
            "is_using_inpainting_conditioning": self.is_using_inpainting_conditioning,
            "version": self.version,
        }
        return json.dumps(obj, default=lambda o: None)

    def infotext(self, p, index):
        return create_infotext(
            p,
            self.all_prompts,
            self.all_seeds,
            self.all_subseeds,
            comments=[],
            position_in_batch=index % self.batch_size,
            iteration=index // self.batch_size,
        )


def create_random_tensors(
    shape, seeds, subseeds=None, subseed_strength=0.0, seed_resize_from_h=0, seed_resize_from_w=0, p=None
):
    g = rng.ImageRNG(shape, seeds, subseeds=subseeds, subseed_strength=subseed_strength)
    return g.next()


class DecodedSamples(list):
    already_decoded = True


def decode_latent_batch(model, batch, target_device=None, check_for_nans=False):
    samples = DecodedSamples()
    for i in range(batch.shape[0]):
        sample = decode_first_stage(model, batch[i : i + 1])[0]
        if target_device is not None:
            sample = sample.to(target_device)
        samples.append(sample)
    return samples


def get_fixed_seed(seed):
    if seed == "" or seed is None:
        seed = -1
    elif isinstance(seed, str):
        try:
            seed = int(seed)
        except Exception:
            seed = -1
    if seed == -1:
        return int(random.randrange(4294967294))
    return seed


def fix_seed(p):
    p.seed = get_fixed_seed(p.seed)
    p.subseed = get_fixed_seed(p.subseed)


def program_version():
    import launch

    res = launch.git_tag()
    if res == "<none>":
        res = None
    return res


def create_infotext(
    p,
    all_prompts,
    all_seeds,
    all_subseeds,
    comments=None,
    iteration=0,
    position_in_batch=0,
    use_main_prompt=False,
    index=None,
    all_negative_prompts=None,
):
    """mirrors create_infotext (v1.10.1 :705; 1.6.0 :617)."""
    if use_main_prompt:
        index = 0
    elif index is None:
        index = position_in_batch + iteration * p.batch_size

    if all_negative_prompts is None:
        all_negative_prompts = p.all_negative_prompts

    clip_skip = getattr(p, "clip_skip", opts.CLIP_stop_at_last_layers)
    enable_hr = getattr(p, "enable_hr", False)
    token_merging_ratio = p.get_token_merging_ratio()
    token_merging_ratio_hr = p.get_token_merging_ratio(for_hr=True)

    prompt_text = p.main_prompt if use_main_prompt else all_prompts[index]
    negative_prompt = p.main_negative_prompt if use_main_prompt else all_negative_prompts[index]

    generation_params = {"Steps": p.steps, "Sampler": p.sampler_name}
    if FLAVOR.infotext_schedule_type:
        generation_params["Schedule type"] = p.scheduler
    generation_params.update(
        {
            "CFG scale": p.cfg_scale,
            "Image CFG scale": getattr(p, "image_cfg_scale", None),
            "Seed": p.all_seeds[0] if use_main_prompt else all_seeds[index],
            "Face restoration": opts.face_restoration_model if p.restore_faces else None,
            "Size": f"{p.width}x{p.height}",
            "Model hash": p.sd_model_hash if opts.add_model_hash_to_info else None,
            "Model": p.sd_model_name if opts.add_model_name_to_info else None,
            "Variation seed": (
                None
                if p.subseed_strength == 0
                else (p.all_subseeds[0] if use_main_prompt else all_subseeds[index])
            ),
            "Variation seed strength": (None if p.subseed_strength == 0 else p.subseed_strength),
            "Seed resize from": (
                None
                if p.seed_resize_from_w <= 0 or p.seed_resize_from_h <= 0
                else f"{p.seed_resize_from_w}x{p.seed_resize_from_h}"
            ),
            "Denoising strength": (
                p.extra_generation_params.get("Denoising strength")
                if FLAVOR.denoising_in_extra_params
                else getattr(p, "denoising_strength", None)
            ),
            "Conditional mask weight": None,
            "Clip skip": None if clip_skip <= 1 else clip_skip,
            "Token merging ratio": None if token_merging_ratio == 0 else token_merging_ratio,
            "Token merging ratio hr": None
            if not enable_hr or token_merging_ratio_hr == 0
            else token_merging_ratio_hr,
            "Init image hash": getattr(p, "init_img_hash", None),
            "RNG": opts.randn_source if opts.randn_source != "GPU" else None,
            "Tiling": "True" if p.tiling else None,
            **p.extra_generation_params,
            "Version": program_version() if opts.add_version_to_infotext else None,
            "User": p.user if opts.add_user_name_to_info else None,
        }
    )

    if FLAVOR.infotext_resolves_callables:
        for key, value in generation_params.items():
            try:
                if isinstance(value, list):
                    generation_params[key] = value[index]
                elif callable(value):
                    generation_params[key] = value(**locals())
            except Exception:
                errors.report(f'Error creating infotext for key "{key}"', exc_info=True)
                generation_params[key] = None

    generation_params_text = ", ".join(
        [k if k == v else f"{k}: {_infotext.quote(v)}" for k, v in generation_params.items() if v is not None]
    )
    negative_prompt_text = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""
    return f"{prompt_text}{negative_prompt_text}\n{generation_params_text}".strip()


def process_images(p: StableDiffusionProcessing) -> Processed:
    """mirrors process_images (1.10.1 :819; 1.6.0 :708; Forge :815 via sysinfo.set_config; reForge :898)."""
    if p.scripts is not None:
        p.scripts.before_process(p)

    if FLAVOR.stored_opts_only_known_keys:
        stored_opts = {
            k: opts.data[k] if k in opts.data else opts.get_default(k)
            for k in p.override_settings
            if k in opts.data
        }
    else:
        stored_opts = {k: opts.data[k] for k in p.override_settings}  # 1.6.0 :712: KeyError if not in data

    try:
        if sd_models.checkpoint_aliases.get(p.override_settings.get("sd_model_checkpoint")) is None:
            p.override_settings.pop("sd_model_checkpoint", None)
            sd_models.reload_model_weights()

        if FLAVOR.is_forge:
            from modules.sysinfo import set_config

            set_config(p.override_settings, is_api=True, run_callbacks=False, save_config=False)
        else:
            for k, v in p.override_settings.items():
                opts.set(k, v, is_api=True, run_callbacks=False)

        if FLAVOR.fixes_sampler_and_scheduler:
            sd_samplers.fix_p_invalid_sampler_and_scheduler(p)

        res = process_images_inner(p)

    finally:
        if p.override_settings_restore_afterwards:
            if FLAVOR.is_forge:
                from modules.sysinfo import set_config

                set_config(stored_opts, save_config=False)
            else:
                for k, v in stored_opts.items():
                    setattr(opts, k, v)

    return res


def process_images_inner(p: StableDiffusionProcessing) -> Processed:
    """mirrors process_images_inner (v1.10.1 :863)."""
    if isinstance(p.prompt, list):
        assert len(p.prompt) > 0
    else:
        assert p.prompt is not None

    devices.torch_gc()

    seed = get_fixed_seed(p.seed)
    subseed = get_fixed_seed(p.subseed)

    if p.restore_faces is None:
        p.restore_faces = opts.face_restoration
    if p.tiling is None:
        p.tiling = opts.tiling

    if hasattr(shared.sd_model, "fix_dimensions"):
        p.width, p.height = shared.sd_model.fix_dimensions(p.width, p.height)

    p.sd_model_name = shared.sd_model.sd_checkpoint_info.name_for_extra
    p.sd_model_hash = shared.sd_model.sd_model_hash
    p.sd_vae_name = None
    p.sd_vae_hash = None

    p.fill_fields_from_opts()
    p.setup_prompts()

    if isinstance(seed, list):
        p.all_seeds = seed
    else:
        p.all_seeds = [int(seed) + (x if p.subseed_strength == 0 else 0) for x in range(len(p.all_prompts))]
    if isinstance(subseed, list):
        p.all_subseeds = subseed
    else:
        p.all_subseeds = [int(subseed) + x for x in range(len(p.all_prompts))]

    if p.scripts is not None:
        p.scripts.process(p)

    infotexts = []
    output_images = []
    with torch.no_grad(), p.sd_model.ema_scope():
        with devices.autocast():
            p.init(p.all_prompts, p.all_seeds, p.all_subseeds)

        if state.job_count == -1:
            state.job_count = p.n_iter

        for n in range(p.n_iter):
            p.iteration = n

            if state.skipped:
                state.skipped = False
            if state.interrupted or getattr(state, "stopping_generation", False):
                break

            sd_models.reload_model_weights()

            p.prompts = p.all_prompts[n * p.batch_size : (n + 1) * p.batch_size]
            p.negative_prompts = p.all_negative_prompts[n * p.batch_size : (n + 1) * p.batch_size]
            p.seeds = p.all_seeds[n * p.batch_size : (n + 1) * p.batch_size]
            p.subseeds = p.all_subseeds[n * p.batch_size : (n + 1) * p.batch_size]

            if FLAVOR.is_forge:
                latent_channels = shared.sd_model.forge_objects.vae.latent_channels  # Forge :943
            elif FLAVOR.at_least(1, 10):
                latent_channels = getattr(shared.sd_model, "latent_channels", opt_C)  # 1.10.1 :948
            else:
                latent_channels = opt_C  # 1.6.0 :830
            p.rng = rng.ImageRNG(
                (latent_channels, p.height // opt_f, p.width // opt_f),
                p.seeds,
                subseeds=p.subseeds,
                subseed_strength=p.subseed_strength,
            )

            if p.scripts is not None:
                p.scripts.before_process_batch(
                    p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds
                )

            if len(p.prompts) == 0:
                break

            p.parse_extra_network_prompts()

            if p.scripts is not None:
                p.scripts.process_batch(
                    p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds
                )

            p.setup_conds()

            if n == 0 and not cmd_opts.no_prompt_history:
                # real: params.txt is written here, BEFORE sampling (infotext callables run early too)
                with open(os.path.join(paths.data_path, "params.txt"), "w", encoding="utf8") as file:
                    processed = Processed(p, [])
                    file.write(processed.infotext(p, 0))

            samples_ddim = p.sample(
                conditioning=p.c,
                unconditional_conditioning=p.uc,
                seeds=p.seeds,
                subseeds=p.subseeds,
                subseed_strength=p.subseed_strength,
                prompts=p.prompts,
            )

            if p.scripts is not None and FLAVOR.has_post_sample:
                ps = scripts.PostSampleArgs(samples_ddim)
                p.scripts.post_sample(p, ps)
                samples_ddim = ps.samples

            if getattr(samples_ddim, "already_decoded", False):
                x_samples_ddim = samples_ddim
            else:
                if opts.sd_vae_decode_method != "Full":
                    p.extra_generation_params["VAE Decoder"] = opts.sd_vae_decode_method
                x_samples_ddim = decode_latent_batch(
                    p.sd_model, samples_ddim, target_device=devices.cpu, check_for_nans=True
                )

            x_samples_ddim = torch.stack(x_samples_ddim).float()
            x_samples_ddim = torch.clamp((x_samples_ddim + 1.0) / 2.0, min=0.0, max=1.0)

            del samples_ddim
            state.nextjob()

            if p.scripts is not None:
                p.scripts.postprocess_batch(p, x_samples_ddim, batch_number=n)
                p.prompts = p.all_prompts[n * p.batch_size : (n + 1) * p.batch_size]
                p.negative_prompts = p.all_negative_prompts[n * p.batch_size : (n + 1) * p.batch_size]
                batch_params = scripts.PostprocessBatchListArgs(list(x_samples_ddim))
                p.scripts.postprocess_batch_list(p, batch_params, batch_number=n)
                x_samples_ddim = batch_params.images

            def infotext(index=0, use_main_prompt=False):
                return create_infotext(
                    p,
                    p.prompts,
                    p.seeds,
                    p.subseeds,
                    use_main_prompt=use_main_prompt,
                    index=index,
                    all_negative_prompts=p.negative_prompts,
                )

            for i, x_sample in enumerate(x_samples_ddim):
                p.batch_index = i
                x_sample = 255.0 * np.moveaxis(x_sample.cpu().numpy(), 0, 2)
                x_sample = x_sample.astype(np.uint8)
                image = Image.fromarray(x_sample)

                if p.scripts is not None:
                    pp = scripts.PostprocessImageArgs(image)
                    p.scripts.postprocess_image(p, pp)
                    image = pp.image

                if not opts.overlay_inpaint:
                    overlay_image = None
                elif getattr(p, "overlay_images", None) is not None and i < len(p.overlay_images):
                    overlay_image = p.overlay_images[i]
                else:
                    overlay_image = None
                image, _original = apply_overlay(image, p.paste_to, overlay_image)

                text = infotext(i)
                infotexts.append(text)
                if opts.enable_pnginfo:
                    image.info["parameters"] = text
                output_images.append(image)

            del x_samples_ddim

        if not infotexts:
            infotexts.append(Processed(p, []).infotext(p, 0))

        p.color_corrections = None
        index_of_first_image = 0  # simplified: no grid

    res = Processed(
        p,
        images_list=output_images,
        seed=p.all_seeds[0],
        info=infotexts[0],
        subseed=p.all_subseeds[0],
        index_of_first_image=index_of_first_image,
        infotexts=infotexts,
    )

    if p.scripts is not None:
        p.scripts.postprocess(p, res)

    return res


def old_hires_fix_first_pass_dimensions(width, height):
    import math

    desired_pixel_count = 512 * 512
    actual_pixel_count = width * height
    scale = math.sqrt(desired_pixel_count / actual_pixel_count)
    return math.ceil(scale * width / 64) * 64, math.ceil(scale * height / 64) * 64


@dataclass(repr=False)
class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    """mirrors StableDiffusionProcessingTxt2Img (v1.10.1 :1166)."""

    enable_hr: bool = False
    denoising_strength: float = 0.75
    firstphase_width: int = 0
    firstphase_height: int = 0
    hr_scale: float = 2.0
    hr_upscaler: str = None
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0
    hr_checkpoint_name: str = None
    hr_sampler_name: str = None
    if FLAVOR.has_schedulers:
        hr_scheduler: str = None
    hr_prompt: str = ""
    hr_negative_prompt: str = ""
    force_task_id: str = None

    hr_checkpoint_info: dict = field(default=None, init=False)
    hr_upscale_to_x: int = field(default=0, init=False)
    hr_upscale_to_y: int = field(default=0, init=False)
    truncate_x: int = field(default=0, init=False)
    truncate_y: int = field(default=0, init=False)
    applied_old_hires_behavior_to: tuple = field(default=None, init=False)
    latent_scale_mode: dict = field(default=None, init=False)
    hr_c: tuple | None = field(default=None, init=False)
    hr_uc: tuple | None = field(default=None, init=False)

    def __post_init__(self):
        super().__post_init__()
        if self.firstphase_width != 0 or self.firstphase_height != 0:
            self.hr_upscale_to_x = self.width
            self.hr_upscale_to_y = self.height
            self.width = self.firstphase_width
            self.height = self.firstphase_height

    def calculate_target_resolution(self):
        """mirrors calculate_target_resolution (v1.10.1 :1213)."""
        if self.hr_resize_x == 0 and self.hr_resize_y == 0:
            self.extra_generation_params["Hires upscale"] = self.hr_scale
            self.hr_upscale_to_x = int(self.width * self.hr_scale)
            self.hr_upscale_to_y = int(self.height * self.hr_scale)
        else:
            self.extra_generation_params["Hires resize"] = f"{self.hr_resize_x}x{self.hr_resize_y}"
            if self.hr_resize_y == 0:
                self.hr_upscale_to_x = self.hr_resize_x
                self.hr_upscale_to_y = self.hr_resize_x * self.height // self.width
            elif self.hr_resize_x == 0:
                self.hr_upscale_to_x = self.hr_resize_y * self.width // self.height
                self.hr_upscale_to_y = self.hr_resize_y
            else:
                target_w = self.hr_resize_x
                target_h = self.hr_resize_y
                src_ratio = self.width / self.height
                dst_ratio = self.hr_resize_x / self.hr_resize_y
                if src_ratio < dst_ratio:
                    self.hr_upscale_to_x = self.hr_resize_x
                    self.hr_upscale_to_y = self.hr_resize_x * self.height // self.width
                else:
                    self.hr_upscale_to_x = self.hr_resize_y * self.width // self.height
                    self.hr_upscale_to_y = self.hr_resize_y
                self.truncate_x = (self.hr_upscale_to_x - target_w) // opt_f
                self.truncate_y = (self.hr_upscale_to_y - target_h) // opt_f

    def init(self, all_prompts, all_seeds, all_subseeds):
        """mirrors Txt2Img.init (v1.10.1 :1252; 1.6.0 :1097)."""
        if self.enable_hr:
            if FLAVOR.denoising_in_extra_params:
                self.extra_generation_params["Denoising strength"] = self.denoising_strength

            if self.hr_sampler_name is not None and self.hr_sampler_name != self.sampler_name:
                self.extra_generation_params["Hires sampler"] = self.hr_sampler_name

            if FLAVOR.has_schedulers:
                self.extra_generation_params["Hires schedule type"] = None
                if self.hr_scheduler is None:
                    self.hr_scheduler = self.scheduler

            self.latent_scale_mode = (
                shared.latent_upscale_modes.get(self.hr_upscaler, None)
                if self.hr_upscaler is not None
                else shared.latent_upscale_modes.get(shared.latent_upscale_default_mode, "nearest")
            )
            if (
                self.enable_hr
                and self.latent_scale_mode is None
                and not any(x.name == self.hr_upscaler for x in shared.sd_upscalers)
            ):
                raise Exception(f"could not find upscaler named {self.hr_upscaler}")

            self.calculate_target_resolution()

            if not state.processing_has_refined_job_count:
                if state.job_count == -1:
                    state.job_count = self.n_iter
                state.job_count = state.job_count * 2
                state.processing_has_refined_job_count = True

            if self.hr_second_pass_steps:
                self.extra_generation_params["Hires steps"] = self.hr_second_pass_steps

            if self.hr_upscaler is not None:
                self.extra_generation_params["Hires upscaler"] = self.hr_upscaler

    def sample(self, conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts):
        """mirrors Txt2Img.sample (v1.10.1 :1307)."""
        self.sampler = sd_samplers.create_sampler(self.sampler_name, self.sd_model)

        if self.firstpass_image is not None and self.enable_hr:
            if self.latent_scale_mode is None:
                image = np.array(self.firstpass_image).astype(np.float32) / 255.0 * 2.0 - 1.0
                image = np.moveaxis(image, 2, 0)
                samples = None
                decoded_samples = torch.asarray(np.expand_dims(image, 0))
            else:
                image = np.array(self.firstpass_image).astype(np.float32) / 255.0
                image = np.moveaxis(image, 2, 0)
                image = torch.from_numpy(np.expand_dims(image, axis=0))
                image = image.to(shared.device, dtype=devices.dtype_vae)
                samples = images_tensor_to_samples(
                    image, approximation_indexes.get(opts.sd_vae_encode_method), self.sd_model
                )
                decoded_samples = None
        else:
            x = self.rng.next()
            if self.scripts is not None and FLAVOR.has_process_before_every_sampling:
                self.scripts.process_before_every_sampling(
                    p=self, x=x, noise=x, c=conditioning, uc=unconditional_conditioning
                )

            samples = self.sampler.sample(
                self,
                x,
                conditioning,
                unconditional_conditioning,
                image_conditioning=self.txt2img_image_conditioning(x),
            )
            del x

            if not self.enable_hr:
                return samples

            if self.latent_scale_mode is None:
                decoded_samples = torch.stack(
                    decode_latent_batch(
                        self.sd_model, samples, target_device=devices.cpu, check_for_nans=True
                    )
                ).to(dtype=torch.float32)
            else:
                decoded_samples = None

        with sd_models.SkipWritingToConfig():
            sd_models.reload_model_weights(info=self.hr_checkpoint_info)

        return self.sample_hr_pass(samples, decoded_samples, seeds, subseeds, subseed_strength, prompts)

    def sample_hr_pass(self, samples, decoded_samples, seeds, subseeds, subseed_strength, prompts):
        """mirrors sample_hr_pass (v1.10.1 :1364)."""
        if shared.state.interrupted:
            return samples

        self.is_hr_pass = True
        target_width = self.hr_upscale_to_x
        target_height = self.hr_upscale_to_y

        img2img_sampler_name = self.hr_sampler_name or self.sampler_name
        self.sampler = sd_samplers.create_sampler(img2img_sampler_name, self.sd_model)

        if self.latent_scale_mode is not None:
            samples = torch.nn.functional.interpolate(
                samples,
                size=(target_height // opt_f, target_width // opt_f),
                mode=self.latent_scale_mode["mode"],
                antialias=self.latent_scale_mode["antialias"],
            )

            if getattr(self, "inpainting_mask_weight", shared.opts.inpainting_mask_weight) < 1.0:
                image_conditioning = self.img2img_image_conditioning(
                    decode_first_stage(self.sd_model, samples), samples
                )
            else:
                image_conditioning = self.txt2img_image_conditioning(samples)
        else:
            lowres_samples = torch.clamp((decoded_samples + 1.0) / 2.0, min=0.0, max=1.0)
            batch_images = []
            for x_sample in lowres_samples:
                x_sample = 255.0 * np.moveaxis(x_sample.cpu().numpy(), 0, 2)
                image = Image.fromarray(x_sample.astype(np.uint8))
                image = images.resize_image(
                    0, image, target_width, target_height, upscaler_name=self.hr_upscaler
                )
                image = np.array(image).astype(np.float32) / 255.0
                batch_images.append(np.moveaxis(image, 2, 0))

            decoded_samples = torch.from_numpy(np.array(batch_images))
            decoded_samples = decoded_samples.to(shared.device, dtype=devices.dtype_vae)
            samples = images_tensor_to_samples(
                decoded_samples, approximation_indexes.get(opts.sd_vae_encode_method)
            )
            image_conditioning = self.img2img_image_conditioning(decoded_samples, samples)

        shared.state.nextjob()

        samples = samples[
            :,
            :,
            self.truncate_y // 2 : samples.shape[2] - (self.truncate_y + 1) // 2,
            self.truncate_x // 2 : samples.shape[3] - (self.truncate_x + 1) // 2,
        ]

        self.rng = rng.ImageRNG(
            samples.shape[1:], self.seeds, subseeds=self.subseeds, subseed_strength=self.subseed_strength
        )
        noise = self.rng.next()

        self.calculate_hr_conds()

        if self.scripts is not None:
            self.scripts.before_hr(self)
            if FLAVOR.has_process_before_every_sampling:
                self.scripts.process_before_every_sampling(
                    p=self, x=samples, noise=noise, c=self.hr_c, uc=self.hr_uc
                )
                if FLAVOR.is_forge:  # Forge :1522 calls it a second time
                    self.scripts.process_before_every_sampling(
                        self, x=samples, noise=noise, c=self.hr_c, uc=self.hr_uc
                    )

        samples = self.sampler.sample_img2img(
            self,
            samples,
            noise,
            self.hr_c,
            self.hr_uc,
            steps=self.hr_second_pass_steps or self.steps,
            image_conditioning=image_conditioning,
        )

        self.sampler = None
        decoded_samples = decode_latent_batch(
            self.sd_model, samples, target_device=devices.cpu, check_for_nans=True
        )

        self.is_hr_pass = False
        return decoded_samples

    def calculate_hr_conds(self):
        self.hr_c = ("cond", tuple(self.prompts or ()))
        self.hr_uc = ("uncond", tuple(self.negative_prompts or ()))

    def close(self):
        super().close()
        self.hr_c = None
        self.hr_uc = None


@dataclass(repr=False)
class StableDiffusionProcessingImg2Img(StableDiffusionProcessing):
    """mirrors StableDiffusionProcessingImg2Img (v1.10.1 :1557)."""

    init_images: list = None
    resize_mode: int = 0
    denoising_strength: float = 0.75
    image_cfg_scale: float = None
    mask: Any = None
    mask_blur_x: int = 4
    mask_blur_y: int = 4
    mask_blur: int = None
    mask_round: bool = True
    inpainting_fill: int = 0
    inpaint_full_res: bool = True
    inpaint_full_res_padding: int = 0
    inpainting_mask_invert: int = 0
    initial_noise_multiplier: float = None
    latent_mask: Image = None
    force_task_id: str = None

    image_mask: Any = field(default=None, init=False)
    nmask: torch.Tensor = field(default=None, init=False)
    image_conditioning: torch.Tensor = field(default=None, init=False)
    init_img_hash: str = field(default=None, init=False)
    mask_for_overlay: Image = field(default=None, init=False)
    init_latent: torch.Tensor = field(default=None, init=False)

    def __post_init__(self):
        super().__post_init__()
        self.image_mask = self.mask
        self.mask = None
        self.initial_noise_multiplier = (
            opts.initial_noise_multiplier
            if self.initial_noise_multiplier is None
            else self.initial_noise_multiplier
        )

    @property
    def mask_blur(self):  # noqa: F811 (as in the real class)
        if self.mask_blur_x == self.mask_blur_y:
            return self.mask_blur_x
        return None

    @mask_blur.setter
    def mask_blur(self, value):
        if isinstance(value, int):
            self.mask_blur_x = value
            self.mask_blur_y = value

    def init(self, all_prompts, all_seeds, all_subseeds):
        """mirrors Img2Img.init (v1.10.1 :1602; 1.6.0 :1390; Forge :1684; reForge :1746)."""
        if FLAVOR.denoising_in_extra_params:
            self.extra_generation_params["Denoising strength"] = self.denoising_strength

        self.image_cfg_scale = None

        self.sampler = sd_samplers.create_sampler(self.sampler_name, self.sd_model)
        crop_region = None

        image_mask = self.image_mask

        if image_mask is not None:
            image_mask = create_binary_mask(image_mask, round=self.mask_round)

            if self.inpainting_mask_invert:
                image_mask = ImageOps.invert(image_mask)
                self.extra_generation_params["Mask mode"] = "Inpaint not masked"

            if self.mask_blur_x > 0 or self.mask_blur_y > 0:  # simplified: one PIL blur
                image_mask = image_mask.filter(
                    ImageFilter.GaussianBlur(max(self.mask_blur_x, self.mask_blur_y))
                )
                self.extra_generation_params["Mask blur"] = self.mask_blur

            if self.inpaint_full_res:
                self.mask_for_overlay = image_mask
                mask = image_mask.convert("L")
                crop_region = _crop_region(mask, self.inpaint_full_res_padding)
                if crop_region:
                    x1, y1, x2, y2 = crop_region
                    mask = mask.crop(crop_region)
                    image_mask = images.resize_image(2, mask, self.width, self.height)
                    self.paste_to = (x1, y1, x2 - x1, y2 - y1)
                    self.extra_generation_params["Inpaint area"] = "Only masked"
                    self.extra_generation_params["Masked area padding"] = self.inpaint_full_res_padding
                else:
                    crop_region = None
                    image_mask = None
                    self.mask_for_overlay = None
                    self.inpaint_full_res = False
            else:
                image_mask = images.resize_image(self.resize_mode, image_mask, self.width, self.height)
                np_mask = np.array(image_mask)
                np_mask = np.clip((np_mask.astype(np.float32)) * 2, 0, 255).astype(np.uint8)
                self.mask_for_overlay = Image.fromarray(np_mask)

            self.overlay_images = []

        latent_mask = self.latent_mask if self.latent_mask is not None else image_mask

        imgs = []
        for img in self.init_images:
            image = images.flatten(img, opts.img2img_background_color)

            if crop_region is None and self.resize_mode != 3:
                image = images.resize_image(self.resize_mode, image, self.width, self.height)

            if image_mask is not None:
                if FLAVOR.resizes_mask_for_overlay and self.mask_for_overlay.size != (
                    image.width,
                    image.height,
                ):
                    self.mask_for_overlay = images.resize_image(
                        self.resize_mode, self.mask_for_overlay, image.width, image.height
                    )
                image_masked = Image.new("RGBa", (image.width, image.height))
                image_masked.paste(
                    image.convert("RGBA").convert("RGBa"),
                    mask=ImageOps.invert(self.mask_for_overlay.convert("L")),
                )
                self.overlay_images.append(image_masked.convert("RGBA"))

            if crop_region is not None:
                image = image.crop(crop_region)
                image = images.resize_image(2, image, self.width, self.height)

            if image_mask is not None and self.inpainting_fill != 1:
                image = _masking_fill(image, latent_mask)
                if self.inpainting_fill == 0 and FLAVOR.at_least(1, 8):
                    self.extra_generation_params["Masked content"] = "fill"

            image = np.array(image).astype(np.float32) / 255.0
            image = np.moveaxis(image, 2, 0)
            imgs.append(image)

        if len(imgs) == 1:
            batch_images = np.expand_dims(imgs[0], axis=0).repeat(self.batch_size, axis=0)
            if self.overlay_images is not None:
                self.overlay_images = self.overlay_images * self.batch_size
        elif len(imgs) <= self.batch_size:
            self.batch_size = len(imgs)
            batch_images = np.array(imgs)
        else:
            raise RuntimeError(
                f"bad number of images passed: {len(imgs)}; expecting {self.batch_size} or less"
            )

        image = torch.from_numpy(batch_images)
        if FLAVOR.is_forge:
            image = image.to(shared.device, dtype=torch.float32)  # Forge :1810
        else:
            image = image.to(shared.device, dtype=devices.dtype_vae)

        if opts.sd_vae_encode_method != "Full":
            self.extra_generation_params["VAE Encoder"] = opts.sd_vae_encode_method

        self.init_latent = images_tensor_to_samples(
            image, approximation_indexes.get(opts.sd_vae_encode_method), self.sd_model
        )
        devices.torch_gc()

        if self.resize_mode == 3:
            self.init_latent = torch.nn.functional.interpolate(
                self.init_latent, size=(self.height // opt_f, self.width // opt_f), mode="bilinear"
            )

        if image_mask is not None:
            init_mask = latent_mask
            latmask = init_mask.convert("RGB").resize((self.init_latent.shape[3], self.init_latent.shape[2]))
            latmask = np.moveaxis(np.array(latmask, dtype=np.float32), 2, 0) / 255
            latmask = latmask[0]
            if self.mask_round or not FLAVOR.at_least(1, 7):
                latmask = np.around(latmask)
            channels = self.init_latent.shape[1] if FLAVOR.at_least(1, 7) else 4  # 1.6.0 :1506 tiles by 4
            latmask = np.tile(latmask[None], (channels, 1, 1))

            self.mask = torch.asarray(1.0 - latmask).to(shared.device).type(devices.dtype)
            self.nmask = torch.asarray(latmask).to(shared.device).type(devices.dtype)

            if self.inpainting_fill == 2:
                self.init_latent = (
                    self.init_latent * self.mask
                    + create_random_tensors(
                        self.init_latent.shape[1:], all_seeds[0 : self.init_latent.shape[0]]
                    )
                    * self.nmask
                )
                if FLAVOR.at_least(1, 8):
                    self.extra_generation_params["Masked content"] = "latent noise"
            elif self.inpainting_fill == 3:
                self.init_latent = self.init_latent * self.mask
                if FLAVOR.at_least(1, 8):
                    self.extra_generation_params["Masked content"] = "latent nothing"

        self.image_conditioning = self.img2img_image_conditioning(
            image * 2 - 1, self.init_latent, image_mask, self.mask_round
        )

    def sample(self, conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts):
        """mirrors Img2Img.sample (v1.10.1 :1759)."""
        x = self.rng.next()

        if self.initial_noise_multiplier != 1.0:
            self.extra_generation_params["Noise multiplier"] = self.initial_noise_multiplier
            x *= self.initial_noise_multiplier

        if self.scripts is not None and FLAVOR.has_process_before_every_sampling:
            self.scripts.process_before_every_sampling(
                p=self, x=self.init_latent, noise=x, c=conditioning, uc=unconditional_conditioning
            )

        samples = self.sampler.sample_img2img(
            self,
            self.init_latent,
            x,
            conditioning,
            unconditional_conditioning,
            image_conditioning=self.image_conditioning,
        )

        if self.mask is not None:
            blended_samples = samples * self.nmask + self.init_latent * self.mask
            if self.scripts is not None and FLAVOR.has_post_sample:
                mba = scripts.MaskBlendArgs(samples, self.nmask, self.init_latent, self.mask, blended_samples)
                self.scripts.on_mask_blend(self, mba)
                blended_samples = mba.blended_latent
            samples = blended_samples

        del x
        devices.torch_gc()
        return samples

    def get_token_merging_ratio(self, for_hr=False):
        return self.token_merging_ratio or opts.token_merging_ratio_img2img or opts.token_merging_ratio
