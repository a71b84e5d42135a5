"""Mirrors modules/img2img.py ``img2img`` (v1.10.1 :150), the UI's img2img job (single image).

``p = StableDiffusionProcessingImg2Img(...)``; ``p.scripts = scripts_img2img``; ``p.script_args = args`` (the
UI's script inputs, index 0 = the Script dropdown; 1.9+ this runs the alwayson scripts' ``setup``, e.g. the
built-in Sampler section that sets steps/sampler/scheduler); ``processed = scripts_img2img.run(p, *args)``; if
None -> ``process_images(p)``; all inside ``closing(p)``. The gradio call wrapper's
``state.begin()``/``state.end()`` (call_queue.py) are included; exceptions propagate (the real wrapper shows
them in the UI instead). Simplified signature: keyword arguments instead of the UI's positional component
list; on 1.6 ``steps`` and ``sampler_name`` are plain arguments as in the real 1.6 signature.
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


def img2img(
    *args,
    prompt="",
    negative_prompt="",
    init_img=None,
    mask=None,
    mask_blur=4,
    inpainting_fill=1,
    n_iter=1,
    batch_size=1,
    cfg_scale=7.0,
    denoising_strength=0.75,
    width=512,
    height=512,
    resize_mode=0,
    inpaint_full_res=False,
    inpaint_full_res_padding=32,
    inpainting_mask_invert=0,
    override_settings_texts=None,
    steps=20,
    sampler_name="Euler a",
    seed=-1,
    username=None,
):
    override_settings = create_override_settings_dict(override_settings_texts)
    assert 0.0 <= denoising_strength <= 1.0, "can only work with strength in [0.0, 1.0]"

    extra = {} if FLAVOR.has_builtin_sampler_script else {"steps": steps, "sampler_name": sampler_name}
    p = processing.StableDiffusionProcessingImg2Img(
        sd_model=shared.sd_model,
        outpath_samples=shared.opts.outdir_samples or shared.opts.outdir_img2img_samples,
        outpath_grids=shared.opts.outdir_grids or shared.opts.outdir_img2img_grids,
        prompt=prompt,
        negative_prompt=negative_prompt,
        batch_size=batch_size,
        n_iter=n_iter,
        cfg_scale=cfg_scale,
        width=width,
        height=height,
        init_images=[init_img],
        mask=mask,
        mask_blur=mask_blur,
        inpainting_fill=inpainting_fill,
        resize_mode=resize_mode,
        denoising_strength=denoising_strength,
        inpaint_full_res=inpaint_full_res,
        inpaint_full_res_padding=inpaint_full_res_padding,
        inpainting_mask_invert=inpainting_mask_invert,
        override_settings=override_settings,
        seed=seed,
        **extra,
    )

    p.scripts = modules.scripts.scripts_img2img
    p.script_args = args
    p.user = username

    shared.state.begin(job="img2img")
    try:
        with closing(p):
            processed = modules.scripts.scripts_img2img.run(p, *args)
            if processed is None:
                processed = processing.process_images(p)
    finally:
        shared.state.end()
    shared.total_tqdm.clear()
    return processed
