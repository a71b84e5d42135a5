"""The UI, the HTTP API and paste-back with REAL gradio (the hosts' 3.41.2 or 4.40.0).

Skipped where another gradio is installed; CI runs them in one virtual environment per host gradio
(see .ci/run).
"""

from __future__ import annotations

import pytest

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
    assert components[0].value == "Bislerp (spherical)"  # labels shown, ids accepted
    assert components[1].value == "Automatic"
    assert components[2].value is True
    # Schedule parameters are hidden until their schedule is chosen.
    assert not any(c.visible for c in components[3:])


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
    assert components[0].value == "Bislerp (spherical)"


@host_gradio
def test_the_ui_builds_with_bad_saved_settings_and_the_hint_says_why(fake_webui):
    # Issue 11 §9: tile size "abc", precision "fp64", models folder "~nouser/x" saved in config.json.
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
    assert "cannot tell which weights" in hint.value and "falls back to bislerp" in hint.value
