"""The UI, the HTTP API and paste-back with REAL gradio (the hosts' 3.41.2 or 4.40.0).

Skipped where another gradio is installed; CI runs them in one virtual environment per host gradio
(see .ci/run).
"""

from __future__ import annotations

import pytest

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.resize_methods import get_method
from latent_upscale.webui.job import script_fields
from tests.helpers.glue import TITLE, job_args
from tests.helpers.webui import png_image, require_webui_gradio

host_gradio = pytest.mark.usefixtures("_host_gradio")


@pytest.fixture
def _host_gradio():
    return require_webui_gradio()


def _our_components(host):
    script = host.script(TITLE)
    return host.runner("img2img").inputs[script.args_from : script.args_to]


@host_gradio
def test_the_ui_builds_one_component_per_script_field(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    host.start()
    components = _our_components(host)
    fields = script_fields()
    assert len(components) == len(fields)
    for component, f in zip(components, fields, strict=True):
        assert component.elem_id == f"latent_upscale_{f.name}"
        assert component.label == f.label
    assert components[0].value == get_method(DEFAULT_METHOD).label  # labels shown, ids accepted
    assert components[1].value == "Automatic"
    assert components[2].value is True
    # Schedule parameters are hidden until their schedule is chosen; "Upscale by" (last) always shows.
    assert not any(c.visible for c in components[3:-1])
    assert components[-1].visible and components[-1].value == 1.0
    # Every control carries its advice from the registries.
    assert all(getattr(c, "info", None) for c in components)


@host_gradio
def test_the_ui_defaults_come_from_settings(fake_webui):
    host = fake_webui(
        config={"latent_upscale_default_method": "lanczos", "latent_upscale_default_schedule": "karras"}
    )
    host.start()
    components = _our_components(host)
    assert components[0].value == "Lanczos-3"
    assert components[1].value == "Karras"
    rho = components[[f.name for f in script_fields()].index("karras_rho")]
    assert rho.visible


@host_gradio
def test_paste_back_restores_the_script_choice_and_its_fields(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    host.start()
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("area", "polyexponential", False, rho=2.5),
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=6,
    )
    pasted = dict(
        (id(component), value) for component, value in host.paste("img2img", processed.infotexts[0])
    )
    components = _our_components(host)
    by_name = dict(zip([f.name for f in script_fields()], components, strict=True))
    assert pasted[id(by_name["method"])] == "Area"
    assert pasted[id(by_name["schedule"])] == "Polyexponential"
    assert pasted[id(by_name["exact_steps"])] is False
    assert pasted[id(by_name["polyexponential_rho"])] == 2.5
    # The Script dropdown is inputs[0] (modules/scripts.py setup_ui); "Script: Latent Upscale" selects us.
    script_dropdown = host.runner("img2img").inputs[0]
    assert pasted[id(script_dropdown)] == TITLE


@host_gradio
def test_schedule_sliders_span_the_usable_range_and_paste_back_widens_them_for_any_accepted_value(
    fake_webui, webui_flavor
):
    import gradio as gr

    from latent_upscale.schedules import get_schedule

    host = fake_webui(webui_flavor)
    host.start()
    by_name = dict(zip([f.name for f in script_fields()], _our_components(host), strict=True))
    alpha_spec = next(spec for spec in get_schedule("beta").params if spec.name == "alpha")
    alpha = by_name["beta_alpha"]
    assert (
        (alpha.minimum, alpha.maximum) == (0.3, 2.0) == (alpha_spec.slider_minimum, alpha_spec.slider_maximum)
    )
    assert alpha_spec.minimum < 0.3 and alpha_spec.maximum > 2.0  # the API accepts more than the track shows
    # An API job with alpha 10 (accepted, off the track) writes it into the infotext ...
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("bislerp", "beta", True, alpha=10.0),
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=6,
    )
    text = processed.infotexts[0]
    assert "Latent upscale alpha: 10" in text
    # ... and paste-back restores it exactly, widening the track instead of letting gradio clamp it.
    pasted = dict((id(c), v) for c, v in host.paste("img2img", text))
    assert pasted[id(alpha)] == 10.0
    paste_alpha = dict((id(c), key) for c, key in host.script(TITLE).infotext_fields)[id(alpha)]
    update = paste_alpha(host.infotext.parse_generation_parameters(text))
    assert isinstance(update, dict) and update["value"] == 10.0
    assert (update["minimum"], update["maximum"]) == (0.3, 10.0)
    widened = gr.Slider(minimum=update["minimum"], maximum=update["maximum"], value=10.0)
    assert widened.preprocess(10.0) == 10.0
    # A value on the track pastes as a plain value (the host turns it into gr.update(value=...)).
    inside = host.infotext.parse_generation_parameters(text.replace("alpha: 10", "alpha: 1.5"))
    assert paste_alpha(inside) == 1.5


@host_gradio
def test_api_img2img_with_script_name_and_script_args(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    host.start()
    response = host.api_img2img(
        {
            "init_images": [png_image(64, 64)],
            "width": 128,
            "height": 96,
            "resize_mode": 0,
            "denoising_strength": 0.4,
            "steps": 10,
            "sampler_name": "Euler",
            "script_name": "latent upscale",
            "script_args": ["lanczos", "karras", True],
        }
    )
    assert response["images"][0].size == (128, 96)
    infotext = response["info"]["infotexts"][0]
    assert "Latent upscale method: lanczos" in infotext and "Latent upscale schedule: karras" in infotext
    assert len(host.runs[-1].schedule) - 1 == 10
    assert host.runs[-1].override_used


@host_gradio
def test_api_img2img_keeps_settings_when_the_client_does_not_restore_them(fake_webui):
    host = fake_webui(args=["--freeze-settings"])
    host.start()
    before = dict(host.opts.data)
    host.api_img2img(
        {
            "init_images": [png_image(64, 64)],
            "width": 128,
            "height": 128,
            "denoising_strength": 0.4,
            "steps": 10,
            "script_name": "latent upscale",
            "script_args": job_args("bicubic"),
            "override_settings_restore_afterwards": False,
        }
    )
    assert host.opts.data == before
    assert len(host.runs[-1].schedule) - 1 == 10


@host_gradio
def test_api_txt2img_with_our_hires_upscaler(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    host.start()
    response = host.api_txt2img(
        {
            "width": 64,
            "height": 64,
            "steps": 3,
            "enable_hr": True,
            "hr_scale": 2,
            "hr_upscaler": "Latent (bislerp)",
            "denoising_strength": 0.5,
        }
    )
    assert response["images"][0].size == (128, 128)
    assert "Hires upscaler: Latent (bislerp)" in response["info"]["infotexts"][0]


def test_the_ui_also_builds_with_the_current_gradio(fake_webui):
    # The hosts pin gradio 3.41.2 / 4.40.0, but users update: build our components with whatever is here.
    gr = pytest.importorskip("gradio")
    from tests.helpers.glue import glue, start

    host = fake_webui()
    start(host)
    with gr.Blocks():
        components = glue("ui").build_ui()
    assert [c.elem_id for c in components] == [f"latent_upscale_{f.name}" for f in script_fields()]
    assert components[0].value == get_method(DEFAULT_METHOD).label


@host_gradio
def test_the_ui_builds_with_bad_saved_settings_and_the_hint_says_why(fake_webui):
    # Bad saved settings never crash the UI: tile size "abc", precision "fp64", models folder
    # "~nouser/x" saved in config.json.
    import gradio as gr

    from tests.helpers.glue import glue

    host = fake_webui(
        config={
            "latent_upscale_default_method": "neural",
            "latent_upscale_tile_size": "abc",
            "latent_upscale_precision": "fp64",
            "latent_upscale_models_dir": "~nouser-latent-upscale-test/x",
        }
    )
    host.start()  # every tab's UI is built
    assert _our_components(host)[0].value == "Neural (learned upscaler)"
    with gr.Blocks() as demo:
        glue("ui").build_ui()
    hint = next(
        b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "latent_upscale_neural_hint"
    )
    assert "cannot tell which weights" in hint.value and f"falls back to {DEFAULT_METHOD}" in hint.value


# --- advice, "Upscale by" readout, the guide, the hint on a checkpoint change, API names ---------------


def _functions(demo):
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    return [getattr(f, "fn", None) for f in fns]


def _dependencies(demo):
    return demo.get_config_file()["dependencies"]


@host_gradio
def test_the_ui_shows_the_size_upscale_by_gives_with_the_hosts_own_browser_function(fake_webui):
    import gradio as gr

    from tests.helpers.glue import glue, start

    host = fake_webui()
    start(host)
    with gr.Blocks() as demo:
        glue("ui").build_ui()
    readouts = [d for d in _dependencies(demo) if d.get("js") == "currentImg2imgSourceResolution"]
    assert len(readouts) == 1
    blocks = demo.blocks.values()
    readout = next(b for b in blocks if getattr(b, "elem_id", None) == "latent_upscale_scale_readout")
    assert readout.value == "→ Width × Height from the sliders"
    guide = next(b for b in blocks if getattr(b, "elem_id", None) == "latent_upscale_guide")
    assert guide.label == "Which method?"


@host_gradio
def test_the_method_and_schedule_advice_follow_the_choice(fake_webui):
    import gradio as gr

    from latent_upscale.webui.guide import method_advice, schedule_advice
    from tests.helpers.glue import glue, start

    host = fake_webui()
    start(host)
    with gr.Blocks() as demo:
        glue("ui").build_ui()
    on_method = next(f for f in _functions(demo) if getattr(f, "__name__", "") == "on_method")
    on_schedule = next(f for f in _functions(demo) if getattr(f, "__name__", "") == "on_schedule")
    method_update, hint = on_method("Lanczos-3")
    assert method_update["info"] == method_advice("lanczos") and hint == ""
    schedule_update = on_schedule("Karras")[0]
    assert schedule_update["info"] == schedule_advice("karras")


@host_gradio
def test_the_neural_hint_follows_a_checkpoint_change(fake_webui, tmp_path):
    from types import SimpleNamespace

    import gradio as gr

    from tests.helpers.glue import glue, start

    host = fake_webui(model="sdxl")
    start(host)
    host.sd_models.model_data = SimpleNamespace(sd_model=None)
    ui = glue("ui")
    with gr.Blocks() as demo:
        ui.build_ui()
        checkpoint = gr.Dropdown(choices=["xl.safetensors [abc]"], elem_id="setting_sd_model_checkpoint")
        ui.after_component(checkpoint, elem_id="setting_sd_model_checkpoint")
    assert any(getattr(f, "__name__", "") == "hint_after_checkpoint_change" for f in _functions(demo))
    # The host loads the checkpoint in its own handler; ours draws the hint once it is loaded.
    host.sd_model.sd_checkpoint_info = SimpleNamespace(title="xl.safetensors [abc]", name="xl.safetensors")
    host.sd_models.model_data = SimpleNamespace(sd_model=host.sd_model)
    hint = glue("hint").hint_after_checkpoint_change("neural", "xl.safetensors [abc]", wait_s=1)
    assert hint.startswith("**Neural** for this sdxl model")
    later = glue("hint").hint_after_checkpoint_change("neural", "other.safetensors", wait_s=0.3)
    assert "other.safetensors is not loaded yet" in later
    assert glue("hint").hint_after_checkpoint_change("lanczos", "other.safetensors", wait_s=0) == ""


@host_gradio
def test_the_settings_show_labels_and_read_saved_ids(fake_webui):
    host = fake_webui(config={"latent_upscale_default_method": "lanczos", "latent_upscale_exact_steps": True})
    host.start()
    info = host.opts.data_labels["latent_upscale_default_method"]
    assert "Lanczos-3" in info.component_args["choices"] and "lanczos" not in info.component_args["choices"]
    assert host.opts.data["latent_upscale_default_method"] == "Lanczos-3"  # the saved id, shown as its label
    assert _our_components(host)[0].value == "Lanczos-3"


@host_gradio
@pytest.mark.parametrize(
    "script_args",
    [
        [{"method": "lanczos", "schedule": "karras", "scale": 1.5}],
        ["lanczos", "karras", True, 7, 1, 0.6, 0.6, 0.025, 1.5],
    ],
    ids=["named", "positional"],
)
def test_api_img2img_with_named_or_positional_script_args_and_upscale_by(
    fake_webui, webui_flavor, script_args
):
    host = fake_webui(webui_flavor)
    host.start()
    response = host.api_img2img(
        {
            "init_images": [png_image(64, 48)],
            "width": 512,
            "height": 512,
            "denoising_strength": 0.4,
            "steps": 6,
            "sampler_name": "Euler",
            "script_name": "latent upscale",
            "script_args": script_args,
        }
    )
    assert response["images"][0].size == (96, 72)
    infotext = response["info"]["infotexts"][0]
    assert "Latent upscale method: lanczos" in infotext and "Latent upscale schedule: karras" in infotext
    assert "Latent upscale by: 1.5" in infotext
    assert len(host.runs[-1].schedule) - 1 == 6 and host.runs[-1].override_used


@host_gradio
def test_api_null_method_and_null_schedule_take_the_defaults(fake_webui):
    host = fake_webui(
        config={"latent_upscale_default_method": "area", "latent_upscale_default_schedule": "karras"}
    )
    host.start()
    response = host.api_img2img(
        {
            "init_images": [png_image(64, 64)],
            "width": 96,
            "height": 96,
            "denoising_strength": 0.4,
            "steps": 6,
            "script_name": "latent upscale",
            "script_args": [None, None, None],
        }
    )
    infotext = response["info"]["infotexts"][0]
    assert "Latent upscale method: area" in infotext and "Latent upscale schedule: karras" in infotext


@host_gradio
def test_api_unknown_script_args_name_fails_with_the_known_names(fake_webui):
    host = fake_webui()
    host.start()
    with pytest.raises(
        Exception, match=r"unknown Latent Upscale script_args name\(s\) 'methd'; known: method"
    ):
        host.api_img2img(
            {
                "init_images": [png_image(64, 64)],
                "width": 96,
                "height": 96,
                "script_name": "latent upscale",
                "script_args": [{"methd": "lanczos"}],
            }
        )
    assert host.runs == []
