"""Mirrors modules/shared.py (v1.10.1) + shared_init.initialize: the host's global state.

``latent_upscale_modes`` and ``latent_upscale_default_mode`` are the real six entries (shared.py 1.10.1
:54-62, identical in every host). ``opts`` is built and loaded from ``<data_path>/config.json`` at import, as
shared_init.initialize does (:18-24). ``sd_model`` is a plain attribute here (the real one is a property that
loads the checkpoint lazily); the fixture assigns the fake model.
"""

import contextlib
import os

from modules import options, shared_cmd_options, shared_options, upscaler
from modules.fake_host import FLAVOR
from modules.paths_internal import (  # noqa: F401
    data_path,
    extensions_builtin_dir,
    extensions_dir,
    models_path,
    script_path,
)
from modules.shared_state import State

cmd_opts = shared_cmd_options.cmd_opts
parser = shared_cmd_options.parser

parallel_processing_allowed = True
config_filename = cmd_opts.ui_settings_file or os.path.join(data_path, "config.json")
hide_dirs = {"visible": not cmd_opts.hide_ui_dir_config}

demo = None
device = None  # set from devices below, as shared_init does
sd_model = None
settings_components = None
tab_names = []

options_templates = shared_options.options_templates
restricted_opts = shared_options.restricted_opts
opts = options.Options(shared_options.options_templates, shared_options.restricted_opts)
with contextlib.suppress(FileNotFoundError):  # shared_init.py 1.6/1.7: a missing config keeps the defaults
    opts.load(config_filename)

state = State()

latent_upscale_default_mode = "Latent"
latent_upscale_modes = {
    "Latent": {"mode": "bilinear", "antialias": False},
    "Latent (antialiased)": {"mode": "bilinear", "antialias": True},
    "Latent (bicubic)": {"mode": "bicubic", "antialias": False},
    "Latent (bicubic antialiased)": {"mode": "bicubic", "antialias": True},
    "Latent (nearest)": {"mode": "nearest", "antialias": False},
    "Latent (nearest-exact)": {"mode": "nearest-exact", "antialias": False},
}

sd_upscalers = upscaler.builtin_upscalers()
face_restorers = []

if FLAVOR.has_hf_endpoint:
    hf_endpoint = os.getenv("HF_ENDPOINT", "https://huggingface.co")  # shared.py 1.10.1 :94

options_section = options.options_section
OptionInfo = options.OptionInfo
OptionHTML = options.OptionHTML


class _TotalTQDM:
    """mirrors shared_total_tqdm.TotalTQDM: progress bar over the whole job (does nothing here)."""

    def reset(self):
        pass

    def update(self):
        pass

    def updateTotal(self, new_total):
        pass

    def clear(self):
        pass


total_tqdm = _TotalTQDM()


class _PromptStyles:
    """mirrors styles.StyleDatabase as far as processing uses it: no styles defined."""

    styles = {}  # noqa: RUF012

    def apply_styles_to_prompt(self, prompt, styles):
        return prompt

    def apply_negative_styles_to_prompt(self, prompt, styles):
        return prompt

    def extract_styles_from_prompt(self, prompt, negative_prompt):
        return [], prompt, negative_prompt


prompt_styles = _PromptStyles()

from modules import devices  # noqa: E402  (shared_init assigns shared.device after devices exists)

device = devices.device
