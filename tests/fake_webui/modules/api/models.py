"""Mirrors modules/api/models.py (v1.10.1): request models generated from the processing classes.

Like the real ``PydanticModelGenerator`` (:37), a request's fields are every ``__init__`` parameter of the
processing class (defaults included) minus ``API_NOT_ALLOWED``, plus the API-only fields (``script_name``,
``script_args``, ``alwayson_scripts``, ``sampler_index`` = "Euler", ...). Unknown keys are ignored, as
pydantic does. Simplified: plain objects instead of pydantic models (no type coercion).
"""

import copy
import inspect

from modules.processing import StableDiffusionProcessingImg2Img, StableDiffusionProcessingTxt2Img

API_NOT_ALLOWED = [
    "self",
    "kwargs",
    "sd_model",
    "outpath_samples",
    "outpath_grids",
    "sampler_index",
    "extra_generation_params",
    "overlay_images",
    "do_not_reload_embeddings",
    "seed_enable_extras",
    "prompt_for_display",
    "sampler_noise_scheduler_override",
    "ddim_discretize",
]


class _Request:
    _defaults: dict = None

    def __init__(self, **kwargs):
        for k, v in self._defaults.items():
            setattr(self, k, copy.deepcopy(v))
        for k, v in kwargs.items():
            if k in self._defaults:
                setattr(self, k, v)

    def copy(self, update=None):
        new = copy.copy(self)
        for k, v in (update or {}).items():
            setattr(new, k, v)
        return new

    def dict(self, exclude_unset=False):
        return dict(vars(self))


def _generate(name, cls, additional_fields):
    parameters = {}
    for klass in [x for x in inspect.getmro(cls) if x is not object]:
        parameters = {**parameters, **inspect.signature(klass.__init__).parameters}
    defaults = {
        k: (None if isinstance(v.default, property) or v.default is inspect.Parameter.empty else v.default)
        for k, v in parameters.items()
        if k not in API_NOT_ALLOWED
    }
    for f in additional_fields:
        defaults[f["key"]] = f["default"]
    return type(name, (_Request,), {"_defaults": defaults})


StableDiffusionTxt2ImgProcessingAPI = _generate(
    "StableDiffusionProcessingTxt2Img",
    StableDiffusionProcessingTxt2Img,
    [
        {"key": "sampler_index", "type": str, "default": "Euler"},
        {"key": "script_name", "type": str, "default": None},
        {"key": "script_args", "type": list, "default": []},
        {"key": "send_images", "type": bool, "default": True},
        {"key": "save_images", "type": bool, "default": False},
        {"key": "alwayson_scripts", "type": dict, "default": {}},
        {"key": "force_task_id", "type": str, "default": None},
        {"key": "infotext", "type": str, "default": None},
    ],
)

StableDiffusionImg2ImgProcessingAPI = _generate(
    "StableDiffusionProcessingImg2Img",
    StableDiffusionProcessingImg2Img,
    [
        {"key": "sampler_index", "type": str, "default": "Euler"},
        {"key": "init_images", "type": list, "default": None},
        {"key": "denoising_strength", "type": float, "default": 0.75},
        {"key": "mask", "type": str, "default": None},
        {"key": "include_init_images", "type": bool, "default": False},
        {"key": "script_name", "type": str, "default": None},
        {"key": "script_args", "type": list, "default": []},
        {"key": "send_images", "type": bool, "default": True},
        {"key": "save_images", "type": bool, "default": False},
        {"key": "alwayson_scripts", "type": dict, "default": {}},
        {"key": "force_task_id", "type": str, "default": None},
        {"key": "infotext", "type": str, "default": None},
    ],
)


class ScriptArg:
    def __init__(self, label=None, value=None, minimum=None, maximum=None, step=None, choices=None):
        self.label = label
        self.value = value
        self.minimum = minimum
        self.maximum = maximum
        self.step = step
        self.choices = choices


class ScriptInfo:
    def __init__(self, name=None, is_alwayson=None, is_img2img=None, args=None):
        self.name = name
        self.is_alwayson = is_alwayson
        self.is_img2img = is_img2img
        self.args = args or []


class _Response:
    def __init__(self, images, parameters, info):
        self.images = images
        self.parameters = parameters
        self.info = info


class TextToImageResponse(_Response):
    pass


class ImageToImageResponse(_Response):
    pass
