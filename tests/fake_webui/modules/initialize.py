"""Mirrors modules/initialize.py ``initialize_rest`` (v1.10.1 :78): samplers, extensions, then
``load_scripts``.

Simplified: no model listing, localizations, upscalers, VAE or optimizer discovery.
"""

from modules import scripts, sd_samplers


def initialize_rest(*, reload_script_modules=False):
    sd_samplers.set_samplers()
    scripts.load_scripts()
