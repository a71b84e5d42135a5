"""Against a real WebUI: every method in img2img and in hires fix, schedules, exact steps, settings."""

from __future__ import annotations

import json
import re

import pytest

from latent_upscale import methods
from latent_upscale.webui.job import INFOTEXT_METHOD, INFOTEXT_SCHEDULE, INFOTEXT_STEPS_FIXED, JobOptions
from tests.live.conftest import image_size, png_base64, script_info_or_skip

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


@pytest.mark.parametrize("sampler", ["Euler", "DDIM", "PLMS", "UniPC"])
def test_exact_steps_run_the_slider_steps_with_every_sampler(webui, sampler):
    # Needs the probe extension (shared/hosts/*/probe-extension), which writes the denoiser calls that
    # really ran into the infotext; DDIM runs steps - 2 and PLMS/UniPC steps - 1 without our request.
    steps = 6
    infotext = _infotext(_img2img(webui, "bilinear", sampler=sampler, steps=steps))
    found = re.search(r"Probe calls: (\d+)", infotext)
    if found is None:
        pytest.skip("the probe extension is not installed in this WebUI")
    assert int(found.group(1)) == steps, infotext


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
                # Forge fails every hires request without it (HTTP 500, its bug); A1111 ignores it.
                "hr_additional_modules": ["Use same choices"],
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
    infotext = _infotext(response)
    # "original" stays in latent space where the host allows it (A1111 1.9.1+, Forge, reForge); otherwise the
    # job is resized in pixels, and then no latent method is recorded, since none ran.
    in_pixels = "resized in pixels" in infotext
    assert in_pixels != (f"{INFOTEXT_METHOD}: lanczos" in infotext)
    if fill != 1:
        assert in_pixels


# --- Upscale by, named and null script_args, what the infotext says --------------------------------------


def _img2img_args(webui, script_args: list, source: tuple[int, int] = (SOURCE, SOURCE), **extra) -> dict:
    payload = {
        "init_images": [png_base64(*source)],
        "prompt": "a red house under a yellow sun",
        "steps": STEPS,
        "denoising_strength": 0.5,
        "width": 512,
        "height": 512,
        "sampler_name": "Euler",
        "seed": 1234,
        "script_name": "latent upscale",
        "script_args": script_args,
        "send_images": True,
        "save_images": False,
    }
    payload.update(extra)
    return webui.post("/sdapi/v1/img2img", payload)


def test_upscale_by_appended_to_positional_script_args_sizes_the_job_from_the_source(webui):
    args = _script_args("lanczos")  # every argument, "scale" last
    args[-1] = 1.5
    response = _img2img_args(webui, args, source=(64, 48))
    assert image_size(response["images"][0]) == (96, 72)
    assert "Latent upscale by: 1.5" in _infotext(response)


def _padded(first: object) -> list[object]:
    # Nulls after it keep the arguments of the scripts after ours in place (a short list shifts them).
    return [first, *[None] * (len(JobOptions().ui_values()) - 1)]


def test_named_script_args_in_one_object(webui):
    response = _img2img_args(webui, _padded({"method": "lanczos", "schedule": "karras", "scale": 2}))
    assert image_size(response["images"][0]) == (2 * SOURCE, 2 * SOURCE)
    infotext = _infotext(response)
    assert f"{INFOTEXT_METHOD}: lanczos" in infotext and f"{INFOTEXT_SCHEDULE}: karras" in infotext


def test_unknown_script_args_names_are_refused_with_the_known_ones(webui):
    with pytest.raises(AssertionError, match="known: method"):
        _img2img_args(webui, _padded({"methd": "lanczos"}))


def test_null_method_and_schedule_take_the_defaults(webui):
    response = _img2img_args(webui, [None] * len(JobOptions().ui_values()), width=TARGET, height=TARGET)
    assert image_size(response["images"][0]) == (TARGET, TARGET)
    assert INFOTEXT_METHOD in _infotext(response)


def test_when_our_schedule_ran_the_schedule_type_names_it(webui):
    response = _img2img_args(
        webui, _script_args("lanczos", "exponential"), width=TARGET, height=TARGET, scheduler="Karras"
    )
    infotext = _infotext(response)
    assert f"{INFOTEXT_SCHEDULE}: exponential" in infotext
    if "Schedule type:" in infotext:  # A1111 1.9+, Forge, reForge write one
        assert "Schedule type: Karras" not in infotext


def test_the_neural_fallback_names_no_folder_in_the_infotext(webui):
    options = webui.get("/sdapi/v1/options")
    folder = options.get("latent_upscale_models_dir") or ""
    response = _img2img_args(webui, _script_args("neural"), width=TARGET, height=TARGET)
    infotext = _infotext(response)
    for private in (folder, "/home/", "/Users/", ":\\"):
        assert not private or private not in infotext


def test_the_xyz_scale_axis_is_listed_last_of_ours(webui):
    info = script_info_or_skip(webui)
    xyz = next((s for s in info if s.get("name") == "x/y/z plot" and s.get("is_img2img")), None)
    if xyz is None:
        pytest.skip("this host's script-info does not describe the X/Y/Z plot script")
    choices = next(a for a in xyz["args"] if a.get("label") == "X type")["choices"]
    assert "Latent upscale by" in choices
