"""Mirrors modules/processing_scripts/sampler.py (1.9+; v1.10.1): the built-in Sampler section.

An AlwaysVisible ``ScriptBuiltinUI`` (section "sampler") whose args are (steps, sampler_name, scheduler) and
whose ``setup()`` copies them into ``p`` (UI jobs only: ``setup_for_ui_only``). It therefore takes the first
script args after the dropdown index in UI jobs. On 1.6 this file does not register anything (steps and
sampler are plain function arguments of the UI there). ``fake_ui_values`` is fake-only: the defaults used when
the UI is laid out without gradio.
"""

from modules import scripts, sd_samplers
from modules.fake_host import FLAVOR

if FLAVOR.has_builtin_sampler_script:

    class ScriptSampler(scripts.ScriptBuiltinUI):
        section = "sampler"

        def __init__(self):
            self.steps = None
            self.sampler_name = None
            self.scheduler = None
            self.fake_ui_values = [20, sd_samplers.visible_sampler_names()[0], "Automatic"]

        def title(self):
            return "Sampler"

        def ui(self, is_img2img):
            import gradio as gr

            from modules import sd_schedulers
            from modules.infotext_utils import PasteField

            sampler_names = [x.name for x in sd_samplers.visible_samplers()]
            scheduler_names = [x.label for x in sd_schedulers.schedulers]
            self.sampler_name = gr.Dropdown(
                label="Sampling method",
                elem_id=f"{self.tabname}_sampling",
                choices=sampler_names,
                value=sampler_names[0],
            )
            self.scheduler = gr.Dropdown(
                label="Schedule type",
                elem_id=f"{self.tabname}_scheduler",
                choices=scheduler_names,
                value=scheduler_names[0],
            )
            self.steps = gr.Slider(
                minimum=1,
                maximum=150,
                step=1,
                elem_id=f"{self.tabname}_steps",
                label="Sampling steps",
                value=20,
            )
            self.infotext_fields = [
                PasteField(self.steps, "Steps", api="steps"),
                PasteField(self.sampler_name, sd_samplers.get_sampler_from_infotext, api="sampler_name"),
                PasteField(self.scheduler, sd_samplers.get_scheduler_from_infotext, api="scheduler"),
            ]
            return self.steps, self.sampler_name, self.scheduler

        def setup(self, p, steps, sampler_name, scheduler):
            p.steps = steps
            p.sampler_name = sampler_name
            p.scheduler = scheduler
