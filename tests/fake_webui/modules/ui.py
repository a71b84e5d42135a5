"""Mirrors the script-related parts of modules/ui.py ``create_ui`` (v1.10.1 :253).

Per tab: ``scripts_current = runner``, ``initialize_scripts(is_img2img)``, ``prepare_ui()``, then the sections
in ``ordered_ui_categories`` order (``setup_ui_for_section(category)``; "scripts" -> ``setup_ui()``), then
``add_paste_fields(tab, ..., [*host fields, *runner.infotext_fields])``.
``script_callbacks.ui_settings_callback()`` fires first on 1.9+ (``UiSettings.register_settings``, ui.py
1.10.1 :262) and after the tabs on 1.6-1.8. With ``with_gradio=False`` (fake-only) the same layout is computed
from ``ui_values`` without gradio. Simplified: no real tabs/components for the host's own controls (its paste
fields use FakeComponents).
"""

from modules import script_callbacks, scripts, shared
from modules.fake_host import FLAVOR
from modules.scripts import FakeComponent

if FLAVOR.has_infotext_utils:
    from modules import infotext_utils as parameters_copypaste
else:
    from modules import generation_parameters_copypaste as parameters_copypaste

ui_reorder_categories_builtin_items = [
    "prompt",
    "image",
    "inpaint",
    "sampler",
    "accordions",
    "checkboxes",
    "dimensions",
    "cfg",
    "denoising",
    "seed",
    "batch",
    "override_settings",
]


def ordered_ui_categories():
    """mirrors shared_items.ui_reorder_categories (v1.10.1 :109) in default order."""
    yield from ui_reorder_categories_builtin_items
    sections = {}
    for script in scripts.scripts_txt2img.scripts + scripts.scripts_img2img.scripts:
        if isinstance(script.section, str) and script.section not in ui_reorder_categories_builtin_items:
            sections[script.section] = 1
    yield from sections
    yield "scripts"


def host_paste_fields(tabname):
    """The host's own paste fields (ui.py 1.10.1 :443-470 / :838-858), as FakeComponents."""
    fields = [
        (FakeComponent("", "Prompt"), "Prompt"),
        (FakeComponent("", "Negative prompt"), "Negative prompt"),
        (FakeComponent(7.0, "CFG scale"), "CFG scale"),
        (FakeComponent(-1, "Seed"), "Seed"),
        (FakeComponent(512, "Width"), "Size-1"),
        (FakeComponent(512, "Height"), "Size-2"),
        (FakeComponent(0.75, "Denoising strength"), "Denoising strength"),
    ]
    if tabname == "txt2img":
        fields += [
            (FakeComponent(shared.latent_upscale_default_mode, "Upscaler"), "Hires upscaler"),
            (FakeComponent(2.0, "Upscale by"), "Hires upscale"),
            (FakeComponent(0, "Hires steps"), "Hires steps"),
        ]
    if not FLAVOR.has_builtin_sampler_script:
        fields += [
            (FakeComponent(20, "Sampling steps"), "Steps"),
            (FakeComponent("Euler a", "Sampling method"), "Sampler"),
        ]
    return fields


def create_ui(*, with_gradio=True, ui_values=None):
    parameters_copypaste.reset()
    if FLAVOR.at_least(1, 9):
        script_callbacks.ui_settings_callback()  # 1.9+: UiSettings.register_settings() before the tabs (:262)
    for tabname, runner in (("txt2img", scripts.scripts_txt2img), ("img2img", scripts.scripts_img2img)):
        scripts.scripts_current = runner
        runner.initialize_scripts(is_img2img=tabname == "img2img")
        runner.prepare_ui()
        if with_gradio:
            import gradio as gr

            with gr.Blocks(analytics_enabled=False):
                for category in ordered_ui_categories():
                    if category == "scripts":
                        runner.setup_ui()
                    if category not in {"accordions"}:
                        runner.setup_ui_for_section(category)
        else:
            sections = [c for c in ordered_ui_categories() if c not in {"accordions", "scripts"}]
            runner.setup_ui_without_gradio(ui_values or {}, sections=sections)
        parameters_copypaste.add_paste_fields(
            tabname, None, [*host_paste_fields(tabname), *runner.infotext_fields]
        )
    scripts.scripts_current = None

    if not FLAVOR.at_least(1, 9):
        # 1.6-1.8: UiSettings.create_ui, after the tabs (ui.py 1.6.0 :1246)
        script_callbacks.ui_settings_callback()
    return None
