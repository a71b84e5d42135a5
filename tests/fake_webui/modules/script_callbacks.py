"""Mirrors modules/script_callbacks.py (v1.10.1): registering and firing the host's callbacks.

Reproduced: every ``on_*`` registers into ``callback_map``; ``clear_callbacks()`` empties it (``load_scripts``
calls it first); firing functions call each callback in order and *report* (never raise) its exceptions;
``script_unloaded_callback`` and ``before_ui_callback`` run in REVERSED registration order (:386-398);
``on_*`` accept ``name=`` only from 1.9 (1.6.0 ``on_script_unloaded(callback)``, v1.6.0 :457).
Simplified: no metadata-driven ordering or user sort (``prioritized_callbacks_*``); the callbacks that carry
sampler/CFG params are registered but never fired by the fake sampler.
"""

import os
import sys
from dataclasses import dataclass
from typing import Any

from modules import errors
from modules.fake_host import FLAVOR


def report_exception(c, job):
    errors.report(f"Error executing callback {job} for {c.script}", exc_info=True)


@dataclass
class ScriptCallback:
    script: str
    callback: Any
    name: str = "unnamed"


class ExtraNoiseParams:
    def __init__(self, noise, x, xi):
        self.noise = noise
        self.x = x
        self.xi = xi


class ImageSaveParams:
    def __init__(self, image, p, filename, pnginfo):
        self.image = image
        self.p = p
        self.filename = filename
        self.pnginfo = pnginfo


_CATEGORIES = (
    "app_started",
    "model_loaded",
    "ui_tabs",
    "ui_train_tabs",
    "ui_settings",
    "before_image_saved",
    "image_saved",
    "extra_noise",
    "cfg_denoiser",
    "cfg_denoised",
    "cfg_after_cfg",
    "before_component",
    "after_component",
    "image_grid",
    "infotext_pasted",
    "script_unloaded",
    "before_ui",
    "on_reload",
    "list_optimizers",
    "list_unets",
    "before_token_counter",
)

callback_map = {f"callbacks_{name}": [] for name in _CATEGORIES}


def _caller_filename():
    """The real code's ``[x for x in inspect.stack() if x.filename != __file__][0].filename`` (or "unknown
    file"): the same file, found by walking the frames. ``inspect.stack()`` also reads every frame's source
    and searches ``sys.modules`` per frame: most of a fake host's start-up time, for nothing a test sees."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else "unknown file"


def add_callback(callbacks, fun, *, name=None, category="unknown", filename=None):
    """mirrors add_callback (v1.10.1 :127): remembers the registering file (first frame outside here)."""
    if filename is None:
        filename = _caller_filename()

    callback_name = f"{os.path.basename(filename)}/{category}"
    if name is not None:
        callback_name += f"/{name}"
    unique_callback_name = callback_name
    for index in range(1000):
        if not any(x.name == unique_callback_name for x in callbacks):
            break
        unique_callback_name = f"{callback_name}-{index + 1}"

    callbacks.append(ScriptCallback(filename, fun, unique_callback_name))


def ordered_callbacks(category, unordered_callbacks=None, *, enable_user_sort=True):
    """Simplified: registration order (the real sorts by metadata.ini and user settings, :194)."""
    if unordered_callbacks is None:
        unordered_callbacks = callback_map.get("callbacks_" + category, [])
    return list(unordered_callbacks)


def clear_callbacks():
    for callback_list in callback_map.values():
        callback_list.clear()


def _fire(category, *args):
    for c in ordered_callbacks(category):
        try:
            c.callback(*args)
        except Exception:
            report_exception(c, f"{category}_callback")


def app_started_callback(demo, app):
    _fire("app_started", demo, app)


def app_reload_callback():
    _fire("on_reload")


def model_loaded_callback(sd_model):
    _fire("model_loaded", sd_model)


def ui_tabs_callback():
    res = []
    for c in ordered_callbacks("ui_tabs"):
        try:
            res += c.callback() or []
        except Exception:
            report_exception(c, "ui_tabs_callback")
    return res


def ui_settings_callback():
    _fire("ui_settings")


def before_image_saved_callback(params):
    _fire("before_image_saved", params)


def image_saved_callback(params):
    _fire("image_saved", params)


def extra_noise_callback(params):
    _fire("extra_noise", params)


def infotext_pasted_callback(infotext, params):
    _fire("infotext_pasted", infotext, params)


def script_unloaded_callback():
    """mirrors script_unloaded_callback (v1.10.1 :386): reversed order."""
    for c in reversed(ordered_callbacks("script_unloaded")):
        try:
            c.callback()
        except Exception:
            report_exception(c, "script_unloaded")


def before_ui_callback():
    """mirrors before_ui_callback (v1.10.1 :394): reversed order."""
    for c in reversed(ordered_callbacks("before_ui")):
        try:
            c.callback()
        except Exception:
            report_exception(c, "before_ui")


def remove_current_script_callbacks():
    filename = _caller_filename()
    if filename == "unknown file":
        return
    for callback_list in callback_map.values():
        for callback_to_remove in [cb for cb in callback_list if cb.script == filename]:
            callback_list.remove(callback_to_remove)


def remove_callbacks_for_function(callback_func):
    for callback_list in callback_map.values():
        for callback_to_remove in [cb for cb in callback_list if cb.callback == callback_func]:
            callback_list.remove(callback_to_remove)


def _make_register(category):
    if FLAVOR.callbacks_take_name:

        def register(callback, *, name=None):
            add_callback(callback_map[f"callbacks_{category}"], callback, name=name, category=category)

    else:

        def register(callback):  # 1.6-1.8: no name= (script_callbacks.py v1.6.0 :332-468)
            add_callback(callback_map[f"callbacks_{category}"], callback, category=category)

    register.__name__ = f"on_{category}"
    register.__doc__ = f"mirrors script_callbacks.on_{category}: registers a callback."
    return register


on_app_started = _make_register("app_started")
on_before_reload = _make_register("on_reload")
on_model_loaded = _make_register("model_loaded")
on_ui_tabs = _make_register("ui_tabs")
on_ui_train_tabs = _make_register("ui_train_tabs")
on_ui_settings = _make_register("ui_settings")
on_before_image_saved = _make_register("before_image_saved")
on_image_saved = _make_register("image_saved")
on_extra_noise = _make_register("extra_noise")
on_cfg_denoiser = _make_register("cfg_denoiser")
on_cfg_denoised = _make_register("cfg_denoised")
on_cfg_after_cfg = _make_register("cfg_after_cfg")
on_before_component = _make_register("before_component")
on_after_component = _make_register("after_component")
on_image_grid = _make_register("image_grid")
on_infotext_pasted = _make_register("infotext_pasted")
on_script_unloaded = _make_register("script_unloaded")
on_before_ui = _make_register("before_ui")
on_list_optimizers = _make_register("list_optimizers")
on_list_unets = _make_register("list_unets")
if FLAVOR.callbacks_take_name:
    on_before_token_counter = _make_register("before_token_counter")
