"""Against a real WebUI: every method in img2img and in hires fix, schedules, exact steps, settings."""

from __future__ import annotations

import json

import pytest

from latent_upscale import methods
from latent_upscale.webui.job import INFOTEXT_METHOD, INFOTEXT_SCHEDULE, INFOTEXT_STEPS_FIXED, JobOptions
from tests.live.conftest import image_size, png_base64

pytestmark = pytest.mark.live

SOURCE = 64
TARGET = 128
STEPS = 4


def _script_args(method: str, schedule: str = "automatic", exact_steps: bool = True) -> list[object]:
    # Every argument, in the documented order: a shorter list shifts other scripts' arguments.
    values = JobOptions(method=method, schedule=schedule, exact_steps=exact_steps).ui_values()
    values[0], values[1] = method, schedule  # ids are accepted as well as labels
    return values


def _img2img(webui, method: str, schedule: str = "automatic", sampler: str = "Euler", **extra) -> dict:
    payload = {
        "init_images": [png_base64(SOURCE, SOURCE)],
        "prompt": "a red house under a yellow sun",
        "steps": STEPS,
        "denoising_strength": 0.5,
        "width": TARGET,
        "height": TARGET,
        "resize_mode": 0,  # the script switches it to "Just resize (latent upscale)" and says so
        "sampler_name": sampler,
        "seed": 1234,
        "script_name": "latent upscale",
        "script_args": _script_args(method, schedule),
        "send_images": True,
        "save_images": False,
    }
    payload.update(extra)
    return webui.post("/sdapi/v1/img2img", payload)


def _infotext(response: dict) -> str:
    return json.loads(response["info"])["infotexts"][0]


def test_the_script_is_listed_for_img2img(webui):
    listed = webui.get("/sdapi/v1/scripts")
    assert "latent upscale" in [name.lower() for name in listed["img2img"]]


@pytest.mark.parametrize("method", methods())
def test_img2img_with_every_method_gives_the_target_size_and_records_it(webui, method):
    options_before = webui.get("/sdapi/v1/options")
    response = _img2img(webui, method)
    assert image_size(response["images"][0]) == (TARGET, TARGET)
    infotext = _infotext(response)
    assert f"{INFOTEXT_METHOD}: {method}" in infotext
    assert f"Steps: {STEPS}," in infotext  # the slider's count, run exactly
    assert f"{INFOTEXT_STEPS_FIXED}: True" in infotext
    if method == "neural":  # weights may be absent on the server: then the fallback must be said
        assert "Latent upscale weights" in infotext or "Latent upscale fallback" in infotext
    options_after = webui.get("/sdapi/v1/options")
    assert options_after.get("img2img_fix_steps") == options_before.get("img2img_fix_steps")


@pytest.mark.parametrize("schedule", ["karras", "align_your_steps", "beta"])
def test_img2img_with_a_custom_schedule_records_it(webui, schedule):
    infotext = _infotext(_img2img(webui, "lanczos", schedule))
    assert f"{INFOTEXT_SCHEDULE}: {schedule}" in infotext
    assert "not used" not in infotext


def test_a_timestep_sampler_says_it_ignored_the_schedule(webui):
    infotext = _infotext(_img2img(webui, "lanczos", "karras", sampler="DDIM"))
    assert "not used" in infotext


def test_fix_steps_setting_is_untouched_even_without_restore_afterwards(webui):
    before = webui.get("/sdapi/v1/options").get("img2img_fix_steps")
    _img2img(webui, "bicubic", override_settings_restore_afterwards=False)
    assert webui.get("/sdapi/v1/options").get("img2img_fix_steps") == before


def _hires_names(webui) -> list[str]:
    return [entry["name"] for entry in webui.get("/sdapi/v1/latent-upscale-modes")]


def test_our_hires_upscalers_are_listed(webui):
    names = _hires_names(webui)
    for method in ("bislerp", "lanczos", "area", "neural"):
        assert f"Latent ({method})" in names


def test_txt2img_hires_with_every_latent_upscaler_entry(webui):
    for name in _hires_names(webui):
        response = webui.post(
            "/sdapi/v1/txt2img",
            {
                "prompt": "a red house under a yellow sun",
                "steps": 2,
                "width": SOURCE,
                "height": SOURCE,
                "enable_hr": True,
                "hr_scale": 2,
                "hr_upscaler": name,
                "hr_second_pass_steps": 2,
                "denoising_strength": 0.5,
                "seed": 1234,
                "send_images": True,
                "save_images": False,
            },
        )
        assert image_size(response["images"][0]) == (TARGET, TARGET), name
        assert f"Hires upscaler: {name}" in _infotext(response), name


@pytest.mark.parametrize("fill", [0, 1, 2, 3])
def test_whole_picture_inpainting_with_a_mask_at_a_new_size_completes(webui, fill):
    # The WebUI's own latent mode fails here ("images do not match") for every fill but "original".
    import base64
    import io

    from PIL import Image

    mask = Image.new("L", (SOURCE, SOURCE), 0)
    mask.paste(255, (SOURCE // 4, SOURCE // 4, 3 * SOURCE // 4, 3 * SOURCE // 4))
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    response = _img2img(
        webui,
        "lanczos",
        mask=base64.b64encode(buffer.getvalue()).decode(),
        inpaint_full_res=False,
        inpainting_fill=fill,
    )
    assert image_size(response["images"][0]) == (TARGET, TARGET)
    assert "resized in pixels" in _infotext(response)
