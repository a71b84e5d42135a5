"""Mirrors modules/sd_samplers.py (v1.10.1): the sampler list and ``create_sampler``.

Samplers: the k-diffusion ones (sd_samplers_kdiffusion.py, "Euler", "Euler a", "DPM++ 2M", ... with the
flavor's names) and the timestep ones ("DDIM", "PLMS", "UniPC"). ``get_sampler_and_scheduler`` and
``fix_p_invalid_sampler_and_scheduler`` (1.10+/Forge/reForge, called by ``process_images``) are reproduced.
Simplified: no LCM/alter samplers, ``samplers_hidden`` ignored.
"""

import functools
import logging

from modules import sd_samplers_common, sd_samplers_kdiffusion, sd_samplers_timesteps
from modules.fake_host import FLAVOR

if FLAVOR.has_schedulers:
    from modules import sd_schedulers

samples_to_image_grid = None
sample_to_image = sd_samplers_common.sample_to_image

all_samplers = [
    *sd_samplers_kdiffusion.samplers_data_k_diffusion,
    *sd_samplers_timesteps.samplers_data_timesteps,
]
all_samplers_map = {x.name: x for x in all_samplers}

samplers = []
samplers_for_img2img = []
samplers_map = {}
samplers_hidden = {}


def find_sampler_config(name):
    return all_samplers_map.get(name) if name is not None else all_samplers[0]


def create_sampler(name, model):
    """mirrors create_sampler (v1.10.1 :33)."""
    config = find_sampler_config(name)
    assert config is not None, f"bad sampler name: {name}"
    if model.is_sdxl and config.options.get("no_sdxl", False):
        raise Exception(f"Sampler {config.name} is not supported for SDXL")
    sampler = config.constructor(model)
    sampler.config = config
    return sampler


def set_samplers():
    global samplers, samplers_for_img2img
    samplers = all_samplers
    samplers_for_img2img = all_samplers
    samplers_map.clear()
    for sampler in all_samplers:
        samplers_map[sampler.name.lower()] = sampler.name
        for alias in sampler.aliases:
            samplers_map[alias.lower()] = sampler.name


def visible_sampler_names():
    return [x.name for x in samplers]


def visible_samplers():
    return list(samplers)


if FLAVOR.has_schedulers:

    @functools.cache
    def get_sampler_and_scheduler(sampler_name, scheduler_name, *, convert_automatic=True):
        """mirrors get_sampler_and_scheduler (v1.10.1 :97): "DPM++ 2M Karras" -> ("DPM++ 2M", "Karras")."""
        default_sampler = samplers[0]
        found_scheduler = sd_schedulers.schedulers_map.get(scheduler_name, sd_schedulers.schedulers[0])
        name = sampler_name or default_sampler.name
        for scheduler in sd_schedulers.schedulers:
            name_options = [scheduler.label, scheduler.name, *(scheduler.aliases or [])]
            for name_option in name_options:
                if name.endswith(" " + name_option):
                    found_scheduler = scheduler
                    name = name[0 : -(len(name_option) + 1)]
                    break
        sampler = all_samplers_map.get(name, default_sampler)
        if convert_automatic and sampler.options.get("scheduler", None) == found_scheduler.name:
            found_scheduler = sd_schedulers.schedulers[0]
        return sampler.name, found_scheduler.label

    def get_sampler_from_infotext(d: dict):
        return get_sampler_and_scheduler(d.get("Sampler"), d.get("Schedule type"))[0]

    def get_scheduler_from_infotext(d: dict):
        return get_sampler_and_scheduler(d.get("Sampler"), d.get("Schedule type"))[1]


if FLAVOR.fixes_sampler_and_scheduler:

    def fix_p_invalid_sampler_and_scheduler(p):
        """mirrors fix_p_invalid_sampler_and_scheduler (v1.10.1 :125): unknown -> default, with a warning."""
        i_sampler_name, i_scheduler = p.sampler_name, p.scheduler
        p.sampler_name, p.scheduler = get_sampler_and_scheduler(
            p.sampler_name, p.scheduler, convert_automatic=False
        )
        if p.sampler_name != i_sampler_name or i_scheduler != p.scheduler:
            logging.warning(
                f'Sampler Scheduler autocorrection: "{i_sampler_name}" -> "{p.sampler_name}", '
                f'"{i_scheduler}" -> "{p.scheduler}"'
            )


set_samplers()
