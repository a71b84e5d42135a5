"""Latent Upscale for the AUTOMATIC1111 WebUI family: the thin door into ``latent_upscale.webui``.

Two scripts: "Latent Upscale" in img2img's Script dropdown, and an always-on hooks script, because
the WebUI calls processing hooks (``process``, ``postprocess``) only on always-on scripts.
"""

import modules.scripts as scripts  # not `from … import Script`: every Script in this namespace is loaded
from latent_upscale.webui import entry, register, ui
from latent_upscale.webui.host import TITLE

register()


class LatentUpscaleScript(scripts.Script):
    def title(self):
        return TITLE

    def show(self, is_img2img):
        return is_img2img

    def ui(self, is_img2img):
        components = ui.build_ui()
        self.infotext_fields = ui.infotext_fields(components)
        self.paste_field_names = ui.paste_field_names()
        return components

    def run(self, p, *args):
        return entry.run_img2img(p, args)


class LatentUpscaleHooks(scripts.Script):
    def title(self):
        return f"{TITLE} hooks"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def process(self, p, *args):
        entry.before_job(p)

    def postprocess(self, p, processed, *args):
        entry.after_job(p)
