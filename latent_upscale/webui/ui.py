"""The img2img script's gradio UI, built from :func:`latent_upscale.webui.job.script_fields`.

Works with A1111/reForge's gradio 3.41.2, Forge's 4.40 and current gradio: plain string choices
(3.41 has no label/value pairs, so dropdowns show labels and we accept labels or ids), and
``gr.update`` for visibility and advice. ``ui()`` is also called twice by the HTTP API to read
defaults, so building it does no I/O beyond reading settings (and the guide's optional JSON file).

Every control carries its advice (``info=``) from the registries (:mod:`latent_upscale.webui.guide`);
the method's and the schedule's follow the choice. "Upscale by" shows the size it gives ("→ W × H px")
from the source image, which the host's own ``currentImg2imgSourceResolution`` (``javascript/ui.js``,
every version) reads in the browser, as img2img's "Resize by" does.
"""

from __future__ import annotations

import logging
from typing import Any

from latent_upscale.webui import guide, settings
from latent_upscale.webui.hint import hint_after_checkpoint_change, neural_hint
from latent_upscale.webui.job import JobOptions, ScriptField, method_id, schedule_id, script_fields

log = logging.getLogger("latent_upscale")

__all__ = [
    "CHECKPOINT_ELEM_IDS",
    "ELEM_PREFIX",
    "after_component",
    "build_ui",
    "forget_components",
    "infotext_fields",
    "neural_hint",
    "paste_field_names",
]

ELEM_PREFIX = "latent_upscale_"
#: The checkpoint dropdown: A1111/reForge quicksettings (``ui_settings.py``); Forge builds its own
#: dropdown without an id (``modules_forge/main_entry.py``), found by its label and class.
CHECKPOINT_ELEM_IDS = ("setting_sd_model_checkpoint",)
_SOURCE_SIZE_JS = "currentImg2imgSourceResolution"

#: The (method dropdown, neural hint) pairs of the UIs built so far, to refresh on a checkpoint change.
_hints: list[tuple[Any, Any]] = []


def _field_advice(f: ScriptField, options: JobOptions) -> str:
    if f.name == "method":
        return guide.method_advice(options.method)
    if f.name == "schedule":
        return guide.schedule_advice(options.schedule)
    if f.name == "exact_steps":
        return guide.EXACT_STEPS_ADVICE
    if f.name == "scale":
        return guide.SCALE_ADVICE
    return guide.param_meta(f.schedule or "", f.param or "").advice


def _component(gr: Any, f: ScriptField, value: object, visible: bool, advice: str) -> Any:
    elem_id = f"{ELEM_PREFIX}{f.name}"
    if f.kind == "dropdown":
        return gr.Dropdown(label=f.label, choices=list(f.choices), value=value, elem_id=elem_id, info=advice)
    if f.kind == "checkbox":
        return gr.Checkbox(label=f.label, value=bool(value), elem_id=elem_id, info=advice)
    return gr.Slider(
        label=f.label,
        minimum=f.minimum,
        maximum=f.maximum,
        step=f.step,
        value=value,
        visible=visible,
        elem_id=elem_id,
        info=advice,
    )


def _js_keyword(gr: Any) -> str:
    # gradio 3 names an event's browser-side function `_js`, gradio 4 and later `js`.
    return "_js" if int(str(gr.__version__).split(".")[0]) < 4 else "js"


def build_ui() -> list[Any]:
    """The components in ``script_args`` order; dependent inputs show only when relevant."""
    import gradio as gr

    defaults = settings.default_job_options()
    fields = {f.name: f for f in script_fields()}
    values = dict(zip(fields, defaults.ui_values(), strict=True))
    param_fields = [f for f in fields.values() if f.schedule is not None]
    components: dict[str, Any] = {}

    def add(name: str, visible: bool = True) -> None:
        f = fields[name]
        components[name] = _component(gr, f, values[name], visible, _field_advice(f, defaults))

    with gr.Row():
        add("method")
        add("schedule")
    hint = gr.Markdown(neural_hint(defaults.method), elem_id=f"{ELEM_PREFIX}neural_hint")
    with gr.Row():
        add("exact_steps")
        add("scale")
    readout = gr.Markdown(guide.scale_readout(0, 0, defaults.scale), elem_id=f"{ELEM_PREFIX}scale_readout")
    with gr.Row():
        for f in param_fields:
            add(f.name, visible=f.schedule == defaults.schedule)
    with gr.Accordion("Which method?", open=False, elem_id=f"{ELEM_PREFIX}guide"):
        gr.Markdown(guide.which_method_markdown())
    # Stand-ins the browser-side function replaces with the source image's width and height.
    source_width = gr.Number(value=0, visible=False, elem_id=f"{ELEM_PREFIX}source_width")
    source_height = gr.Number(value=0, visible=False, elem_id=f"{ELEM_PREFIX}source_height")

    def on_schedule(schedule_value: object) -> list[Any]:
        chosen = schedule_id(schedule_value)
        return [
            gr.update(info=guide.schedule_advice(chosen)),
            *(gr.update(visible=f.schedule == chosen) for f in param_fields),
        ]

    def on_method(method_value: object) -> list[Any]:
        try:
            advice = guide.method_advice(method_id(method_value))
        except ValueError:
            advice = ""
        return [gr.update(info=advice), neural_hint(method_value)]

    components["schedule"].change(
        fn=on_schedule,
        inputs=[components["schedule"]],
        outputs=[components["schedule"], *(components[f.name] for f in param_fields)],
    )
    components["method"].change(
        fn=on_method, inputs=[components["method"]], outputs=[components["method"], hint]
    )
    components["scale"].change(
        fn=guide.scale_readout,
        inputs=[source_width, source_height, components["scale"]],
        outputs=[readout],
        **{_js_keyword(gr): _SOURCE_SIZE_JS},
    )
    # The img2img tab's build is the last before the quicksettings (the API's default-reading builds
    # come later, at requests); a checkpoint dropdown built after it refreshes this hint.
    _hints[:] = [(components["method"], hint)]
    return [components[name] for name in fields]


def forget_components() -> None:
    """``on_script_unloaded``: Reload UI builds new components; never wire the old ones."""
    _hints.clear()


def _is_checkpoint_dropdown(component: Any, elem_id: object) -> bool:
    if elem_id in CHECKPOINT_ELEM_IDS or getattr(component, "elem_id", None) in CHECKPOINT_ELEM_IDS:
        return True
    classes = getattr(component, "elem_classes", None) or []
    return getattr(component, "label", None) == "Checkpoint" and "model_selection" in classes


def after_component(component: Any, **kwargs: Any) -> None:
    """``on_after_component``: when the checkpoint dropdown is built, refresh our neural hints on change.

    The quicksettings are built after the img2img tab (``ui.py``), so our components exist by then.
    Only a dropdown built inside a ``gr.Blocks`` can take an event: Forge also makes a
    "Checkpoint" dropdown outside one on every page load (a component returned as an update, gradio
    4), where ``change`` raises "Cannot call change outside of a gradio.Blocks context"; those are
    passed over (the page's real dropdown was wired when the UI was built).
    """
    if not _is_checkpoint_dropdown(component, kwargs.get("elem_id")) or not _hints:
        return
    if not _inside_blocks():
        return
    for method, hint in _hints:
        try:
            component.change(
                fn=hint_after_checkpoint_change,
                inputs=[method, component],
                outputs=[hint],
                show_progress=False,
            )
        except AttributeError as error:  # a gradio whose context test we do not know
            log.debug("[Latent Upscale] checkpoint dropdown not wired: %s", error)
            return


def _inside_blocks() -> bool:
    """Whether a ``gr.Blocks`` is being built now (gradio 3.41 and 4.x keep it in
    ``gradio.context.Context.root_block``; 4.x also offers ``get_blocks_context()``)."""
    try:
        from gradio import context
    except ImportError:
        return True  # unknown gradio: try, and let the guard above catch a refusal
    getter = getattr(context, "get_blocks_context", None)
    if callable(getter):
        return getter() is not None
    holder = getattr(context, "Context", None)
    return holder is None or getattr(holder, "root_block", None) is not None


def infotext_fields(components: list[Any]) -> list[tuple[Any, Any]]:
    """Paste-back (PNG Info → Send to img2img): each component from our infotext keys.

    Callables return None (no change) when the infotext has none of ours, labels for the dropdowns,
    and a schedule parameter only for the schedule the infotext names.
    """
    pairs: list[tuple[Any, Any]] = []
    for component, f in zip(components, script_fields(), strict=True):
        pairs.append((component, _paste_value(f)))
    return pairs


def _paste_value(f: ScriptField) -> Any:
    def value(params: dict[str, Any]) -> object:
        try:
            options = JobOptions.from_infotext(params)
        except ValueError:
            return None
        if options is None:
            return None
        if f.schedule is not None and f.schedule != options.schedule:
            return None
        index = [g.name for g in script_fields()].index(f.name)
        return _slider_paste(f, options.ui_values()[index])

    return value


def _slider_paste(f: ScriptField, value: object) -> object:
    """A pasted value; for a slider whose track does not reach it, an update that widens the track.

    Schedule sliders span the usable part of each parameter's accepted range, but an infotext (from the
    HTTP API or the CLI) may hold any accepted value. gradio 3.41 and 4.40 keep such a value (the number
    box shows it, the thumb sits at the end, and it is sent as is) only until the box loses focus, when
    they clamp it; gradio 5+ refuses it on submit ("Value … is greater than maximum value …"). A
    ``gr.update`` with the range widened to the value keeps it exact in every version; the host's paste
    code passes an update through unchanged (``infotext_utils`` / ``generation_parameters_copypaste``).
    """
    if f.kind != "slider" or not isinstance(value, (int, float)) or f.minimum <= value <= f.maximum:
        return value
    import gradio as gr

    return gr.update(value=value, minimum=min(f.minimum, value), maximum=max(f.maximum, value))


def paste_field_names() -> list[str]:
    """Infotext keys that "Send to img2img" carries."""
    return sorted({f.infotext_key for f in script_fields()})
