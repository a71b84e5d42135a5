"""The img2img script's gradio UI, built from :func:`latent_upscale.webui.job.script_fields`.

Works with A1111/reForge's gradio 3.41.2, Forge's 4.40 and current gradio: plain string choices
(3.41 has no label/value pairs, so dropdowns show labels and we accept labels or ids), and
``gr.update`` for visibility. ``ui()`` is also called twice by the HTTP API to read defaults, so
building it does no I/O beyond reading settings.
"""

from __future__ import annotations

from typing import Any

from latent_upscale.webui import settings
from latent_upscale.webui.hint import neural_hint
from latent_upscale.webui.job import JobOptions, ScriptField, schedule_id, script_fields

__all__ = ["ELEM_PREFIX", "build_ui", "infotext_fields", "neural_hint", "paste_field_names"]

ELEM_PREFIX = "latent_upscale_"


def _component(gr: Any, f: ScriptField, value: object, visible: bool) -> Any:
    elem_id = f"{ELEM_PREFIX}{f.name}"
    if f.kind == "dropdown":
        return gr.Dropdown(label=f.label, choices=list(f.choices), value=value, elem_id=elem_id)
    if f.kind == "checkbox":
        return gr.Checkbox(
            label=f.label,
            value=bool(value),
            elem_id=elem_id,
            info="run exactly the steps on the slider (img2img runs fewer by default)",
        )
    return gr.Slider(
        label=f.label,
        minimum=f.minimum,
        maximum=f.maximum,
        step=f.step,
        value=value,
        visible=visible,
        elem_id=elem_id,
    )


def build_ui() -> list[Any]:
    """The components in ``script_args`` order; dependent inputs show only when relevant."""
    import gradio as gr

    defaults = settings.default_job_options()
    fields = script_fields()
    values = defaults.ui_values()
    components: dict[str, Any] = {}
    with gr.Row():
        for f, value in zip(fields[:2], values[:2], strict=True):
            components[f.name] = _component(gr, f, value, True)
    hint = gr.Markdown(neural_hint(defaults.method), elem_id=f"{ELEM_PREFIX}neural_hint")
    components["exact_steps"] = _component(gr, fields[2], values[2], True)
    param_fields = fields[3:]
    with gr.Row():
        for f, value in zip(param_fields, values[3:], strict=True):
            components[f.name] = _component(gr, f, value, f.schedule == defaults.schedule)

    def show_params(schedule_value: object) -> list[Any]:
        chosen = schedule_id(schedule_value)
        return [gr.update(visible=f.schedule == chosen) for f in param_fields]

    components["schedule"].change(
        fn=show_params, inputs=[components["schedule"]], outputs=[components[f.name] for f in param_fields]
    )
    components["method"].change(fn=neural_hint, inputs=[components["method"]], outputs=[hint])
    return [components[f.name] for f in fields]


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
        return options.ui_values()[index]

    return value


def paste_field_names() -> list[str]:
    """Infotext keys that "Send to img2img" carries."""
    return sorted({f.infotext_key for f in script_fields()})
