"""Mirrors modules/txt2img.py ``txt2img`` (v1.10.1 :102 / ``txt2img_create_processing`` :14), the UI's job.

Same flow as img2img.py: ``p.script_args = args``, ``scripts_txt2img.run(p, *p.script_args)``, None ->
``process_images(p)``, inside ``closing(p)`` and ``state.begin()/end()``. "Use same sampler/scheduler" map to
None; on 1.6 ``denoising_strength`` is None without hires fix (txt2img.py v1.6.0 :30).
"""

from contextlib import closing

import modules.scripts
import modules.shared as shared
from modules import processing
from modules.fake_host import FLAVOR

if FLAVOR.has_infotext_utils:
    from modules.infotext_utils import create_override_settings_dict
else:
    from modules.generation_parameters_copypaste import create_override_settings_dict


def txt2img(
    *args,
    prompt="",
    negative_prompt="",
    n_iter=1,
    batch_size=1,
    cfg_scale=7.0,
    height=512,
    width=512,
    enable_hr=False,
    denoising_strength=0.7,
    hr_scale=2.0,
    hr_upscaler="Latent",
    hr_second_pass_steps=0,
    hr_resize_x=0,
    hr_resize_y=0,
    hr_sampler_name="Use same sampler",
    hr_scheduler="Use same scheduler",
    override_settings_texts=None,
    steps=20,
    sampler_name="Euler a",
    seed=-1,
    username=None,
):
    override_settings = create_override_settings_dict(override_settings_texts)

    extra = {}
    if FLAVOR.has_schedulers:
        extra["hr_scheduler"] = None if hr_scheduler == "Use same scheduler" else hr_scheduler
    if not FLAVOR.has_builtin_sampler_script:
        extra.update(steps=steps, sampler_name=sampler_name)
    if not FLAVOR.at_least(1, 8):
        denoising_strength = denoising_strength if enable_hr else None

    p = processing.StableDiffusionProcessingTxt2Img(
        sd_model=shared.sd_model,
        outpath_samples=shared.opts.outdir_samples or shared.opts.outdir_txt2img_samples,
        outpath_grids=shared.opts.outdir_grids or shared.opts.outdir_txt2img_grids,
        prompt=prompt,
        negative_prompt=negative_prompt,
        batch_size=batch_size,
        n_iter=n_iter,
        cfg_scale=cfg_scale,
        width=width,
        height=height,
        enable_hr=enable_hr,
        denoising_strength=denoising_strength,
        hr_scale=hr_scale,
        hr_upscaler=hr_upscaler,
        hr_second_pass_steps=hr_second_pass_steps,
        hr_resize_x=hr_resize_x,
        hr_resize_y=hr_resize_y,
        hr_sampler_name=None if hr_sampler_name == "Use same sampler" else hr_sampler_name,
        override_settings=override_settings,
        seed=seed,
        **extra,
    )

    p.scripts = modules.scripts.scripts_txt2img
    p.script_args = args
    p.user = username

    shared.state.begin(job="txt2img")
    try:
        with closing(p):
            processed = modules.scripts.scripts_txt2img.run(p, *p.script_args)
            if processed is None:
                processed = processing.process_images(p)
    finally:
        shared.state.end()
    shared.total_tqdm.clear()
    return processed
