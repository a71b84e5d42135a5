"""Mirrors modules/api/api.py (v1.10.1): the HTTP API's job functions, without FastAPI.

``Api().img2imgapi(req)`` / ``text2imgapi(req)`` reproduce the real script handling (:286-566):
- ``script_name`` -> index among the runner's SELECTABLE scripts by case-insensitive title (:36; 422 if
  absent);
- default ``script_args``: every script's ``ui()`` called AGAIN inside a throwaway ``gr.Blocks()`` (:315-333,
  real gradio), ``[args_from:args_to]`` filled with the components' ``.value``;
- the request's ``script_args`` list is slice-assigned into ``[args_from:args_to]`` (a shorter list SHIFTS
  later scripts' arguments), ``script_args[0] = index + 1``; ``alwayson_scripts`` = ``{title: {"args":
  [...]}}`` (422 for a selectable script);
- selectable script: ``processed = scripts_img2img.run(p, *p.script_args)`` with NO fallback to
  process_images, then ``processed.images``: a ``run()`` returning None raises AttributeError (HTTP 500 on the
  real host); otherwise ``p.script_args = tuple(script_args)`` and ``process_images(p)``.
Errors surface as exceptions (the real middleware turns them into HTTP 500 responses); ``HTTPException``
carries the real status codes. Simplified: no queue lock/tasks, no ``infotext`` request field handling.
"""

import base64
import io

import gradio as gr
from PIL import Image

import modules.shared as shared
from modules import scripts, sd_samplers
from modules.api import models
from modules.fake_host import FLAVOR
from modules.processing import (
    StableDiffusionProcessingImg2Img,
    StableDiffusionProcessingTxt2Img,
    process_images,
)
from modules.shared import opts


class HTTPException(Exception):
    def __init__(self, status_code, detail=None):
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


def script_name_to_index(name, scripts_list):
    try:
        return [script.title().lower() for script in scripts_list].index(name.lower())
    except Exception as e:
        raise HTTPException(status_code=422, detail=f"Script '{name}' not found") from e


def validate_sampler_name(name):
    config = sd_samplers.all_samplers_map.get(name, None)
    if config is None:
        raise HTTPException(status_code=400 if FLAVOR.at_least(1, 10) else 404, detail="Sampler not found")
    return name


def decode_base64_to_image(encoding):
    if encoding.startswith("data:image/"):
        encoding = encoding.split(";")[1].split(",")[1]
    return Image.open(io.BytesIO(base64.b64decode(encoding)))


def encode_pil_to_base64(image):
    with io.BytesIO() as output_bytes:
        image.save(output_bytes, format="PNG")
        return base64.b64encode(output_bytes.getvalue()).decode()


class Api:
    def __init__(self, app=None, queue_lock=None):
        self.app = app
        self.default_script_arg_txt2img = []
        self.default_script_arg_img2img = []

        txt2img_script_runner = scripts.scripts_txt2img
        img2img_script_runner = scripts.scripts_img2img

        if not txt2img_script_runner.scripts:
            txt2img_script_runner.initialize_scripts(False)
        if not self.default_script_arg_txt2img:
            self.default_script_arg_txt2img = self.init_default_script_args(txt2img_script_runner)

        if not img2img_script_runner.scripts:
            img2img_script_runner.initialize_scripts(True)
        if not self.default_script_arg_img2img:
            self.default_script_arg_img2img = self.init_default_script_args(img2img_script_runner)

    def get_selectable_script(self, script_name, script_runner):
        if script_name is None or script_name == "":
            return None, None
        script_idx = script_name_to_index(script_name, script_runner.selectable_scripts)
        script = script_runner.selectable_scripts[script_idx]
        return script, script_idx

    def get_scripts_list(self):
        t2ilist = [script.name for script in scripts.scripts_txt2img.scripts if script.name is not None]
        i2ilist = [script.name for script in scripts.scripts_img2img.scripts if script.name is not None]
        return {"txt2img": t2ilist, "img2img": i2ilist}

    def get_script_info(self):
        res = []
        for script_list in [scripts.scripts_txt2img.scripts, scripts.scripts_img2img.scripts]:
            res += [script.api_info for script in script_list if script.api_info is not None]
        return res

    def get_script(self, script_name, script_runner):
        if script_name is None or script_name == "":
            return None, None
        script_idx = script_name_to_index(script_name, script_runner.scripts)
        return script_runner.scripts[script_idx]

    def init_default_script_args(self, script_runner):
        """mirrors init_default_script_args (v1.10.1 :315): ui() is called again (twice) per script."""
        last_arg_index = 1
        for script in script_runner.scripts:
            if last_arg_index < script.args_to:
                last_arg_index = script.args_to
        script_args = [None] * last_arg_index
        script_args[0] = 0

        with gr.Blocks():
            for script in script_runner.scripts:
                if script.ui(script.is_img2img):
                    ui_default_values = []
                    for elem in script.ui(script.is_img2img):
                        ui_default_values.append(elem.value)
                    script_args[script.args_from : script.args_to] = ui_default_values
        return script_args

    def init_script_args(
        self,
        request,
        default_script_args,
        selectable_scripts,
        selectable_idx,
        script_runner,
        *,
        input_script_args=None,
    ):
        """mirrors init_script_args (v1.10.1 :335)."""
        script_args = default_script_args.copy()

        if input_script_args is not None:
            for index, value in input_script_args.items():
                script_args[index] = value

        if selectable_scripts:
            script_args[selectable_scripts.args_from : selectable_scripts.args_to] = request.script_args
            script_args[0] = selectable_idx + 1

        if request.alwayson_scripts:
            for alwayson_script_name in request.alwayson_scripts:
                alwayson_script = self.get_script(alwayson_script_name, script_runner)
                if alwayson_script is None:
                    raise HTTPException(
                        status_code=422, detail=f"always on script {alwayson_script_name} not found"
                    )
                if alwayson_script.alwayson is False:
                    raise HTTPException(
                        status_code=422,
                        detail="Cannot have a selectable script in the always on scripts params",
                    )
                if "args" in request.alwayson_scripts[alwayson_script_name]:
                    args = request.alwayson_scripts[alwayson_script_name]["args"]
                    for idx in range(
                        0, min((alwayson_script.args_to - alwayson_script.args_from), len(args))
                    ):
                        script_args[alwayson_script.args_from + idx] = args[idx]
        return script_args

    def _sampler_and_scheduler(self, req):
        name = req.sampler_name or req.sampler_index
        if FLAVOR.has_schedulers:
            return sd_samplers.get_sampler_and_scheduler(name, req.scheduler)
        return name, None

    def text2imgapi(self, txt2imgreq):
        """mirrors text2imgapi (v1.10.1 :432)."""
        script_runner = scripts.scripts_txt2img
        selectable_scripts, selectable_script_idx = self.get_selectable_script(
            txt2imgreq.script_name, script_runner
        )
        sampler, scheduler = self._sampler_and_scheduler(txt2imgreq)

        populate = txt2imgreq.copy(
            update={
                "sampler_name": validate_sampler_name(sampler),
                "do_not_save_samples": not txt2imgreq.save_images,
                "do_not_save_grid": not txt2imgreq.save_images,
            }
        )
        if populate.sampler_name:
            populate.sampler_index = None
        if FLAVOR.has_schedulers and not populate.scheduler and scheduler != "Automatic":
            populate.scheduler = scheduler

        args = vars(populate)
        for key in ("script_name", "script_args", "alwayson_scripts", "infotext"):
            args.pop(key, None)

        script_args = self.init_script_args(
            txt2imgreq,
            self.default_script_arg_txt2img,
            selectable_scripts,
            selectable_script_idx,
            script_runner,
        )

        send_images = args.pop("send_images", True)
        args.pop("save_images", None)

        p = StableDiffusionProcessingTxt2Img(sd_model=shared.sd_model, **args)
        try:
            p.is_api = True
            p.scripts = script_runner
            p.outpath_grids = opts.outdir_txt2img_grids
            p.outpath_samples = opts.outdir_txt2img_samples
            try:
                shared.state.begin(job="scripts_txt2img")
                if selectable_scripts is not None:
                    p.script_args = script_args
                    processed = scripts.scripts_txt2img.run(p, *p.script_args)
                else:
                    p.script_args = tuple(script_args)
                    processed = process_images(p)
            finally:
                shared.state.end()
                shared.total_tqdm.clear()
        finally:
            p.close()

        b64images = list(map(encode_pil_to_base64, processed.images)) if send_images else []
        return models.TextToImageResponse(images=b64images, parameters=vars(txt2imgreq), info=processed.js())

    def img2imgapi(self, img2imgreq):
        """mirrors img2imgapi (v1.10.1 :492)."""
        init_images = img2imgreq.init_images
        if init_images is None:
            raise HTTPException(status_code=404, detail="Init image not found")

        mask = img2imgreq.mask
        if mask:
            mask = decode_base64_to_image(mask)

        script_runner = scripts.scripts_img2img
        selectable_scripts, selectable_script_idx = self.get_selectable_script(
            img2imgreq.script_name, script_runner
        )
        sampler, scheduler = self._sampler_and_scheduler(img2imgreq)

        populate = img2imgreq.copy(
            update={
                "sampler_name": validate_sampler_name(sampler),
                "do_not_save_samples": not img2imgreq.save_images,
                "do_not_save_grid": not img2imgreq.save_images,
                "mask": mask,
            }
        )
        if populate.sampler_name:
            populate.sampler_index = None
        if FLAVOR.has_schedulers and not populate.scheduler and scheduler != "Automatic":
            populate.scheduler = scheduler

        args = vars(populate)
        for key in ("include_init_images", "script_name", "script_args", "alwayson_scripts", "infotext"):
            args.pop(key, None)

        script_args = self.init_script_args(
            img2imgreq,
            self.default_script_arg_img2img,
            selectable_scripts,
            selectable_script_idx,
            script_runner,
        )

        send_images = args.pop("send_images", True)
        args.pop("save_images", None)

        p = StableDiffusionProcessingImg2Img(sd_model=shared.sd_model, **args)
        try:
            p.init_images = [decode_base64_to_image(x) for x in init_images]
            p.is_api = True
            p.scripts = script_runner
            p.outpath_grids = opts.outdir_img2img_grids
            p.outpath_samples = opts.outdir_img2img_samples
            try:
                shared.state.begin(job="scripts_img2img")
                if selectable_scripts is not None:
                    p.script_args = script_args
                    processed = scripts.scripts_img2img.run(p, *p.script_args)
                else:
                    p.script_args = tuple(script_args)
                    processed = process_images(p)
            finally:
                shared.state.end()
                shared.total_tqdm.clear()
        finally:
            p.close()

        b64images = list(map(encode_pil_to_base64, processed.images)) if send_images else []

        if not img2imgreq.include_init_images:
            img2imgreq.init_images = None
            img2imgreq.mask = None

        return models.ImageToImageResponse(images=b64images, parameters=vars(img2imgreq), info=processed.js())

    def get_samplers(self):
        return [
            {"name": sampler[0], "aliases": sampler[2], "options": sampler[3]}
            for sampler in sd_samplers.all_samplers
        ]

    def get_upscalers(self):
        return [{"name": upscaler.name, "scale": upscaler.scale} for upscaler in shared.sd_upscalers]

    def get_latent_upscale_modes(self):
        """mirrors get_latent_upscale_modes (v1.10.1 :718): read per request."""
        return [{"name": upscale_mode} for upscale_mode in [*(shared.latent_upscale_modes or {})]]

    def get_config(self):
        options = {}
        for key in shared.opts.data:
            metadata = shared.opts.data_labels.get(key)
            if metadata is not None:
                options.update({key: shared.opts.data.get(key, shared.opts.data_labels.get(key).default)})
            else:
                options.update({key: shared.opts.data.get(key, None)})
        return options

    def set_config(self, req):
        """mirrors set_config (v1.10.1 :678): opts.set + save (fails under --freeze-settings)."""
        for k, v in req.items():
            shared.opts.set(k, v, is_api=True)
        shared.opts.save(shared.config_filename)


if FLAVOR.has_schedulers:

    def _get_schedulers(self):
        from modules import sd_schedulers

        return [
            {
                "name": s.name,
                "label": s.label,
                "aliases": s.aliases,
                "default_rho": s.default_rho,
                "need_inner_model": s.need_inner_model,
            }
            for s in sd_schedulers.schedulers
        ]

    Api.get_schedulers = _get_schedulers
