"""On the fake host (every flavor): "Upscale by", what the infotext and console say, X/Y/Z.

The UI and HTTP API parts (real gradio) are in test_webui_ui.py.
"""

from __future__ import annotations

import logging

import pytest

from latent_upscale.webui.job import JobOptions
from tests.helpers.glue import TITLE, glue, job_args, start
from tests.helpers.webui import png_image


def _img2img(host, args, image=None, **kwargs):
    kwargs.setdefault("width", 512)
    kwargs.setdefault("height", 512)
    kwargs.setdefault("resize_mode", 3)
    kwargs.setdefault("denoising_strength", 0.4)
    kwargs.setdefault("steps", 4)
    return host.img2img(
        image if image is not None else png_image(64, 48), script=TITLE, script_args=args, **kwargs
    )


# --- §1 Upscale by ----------------------------------------------------------------------------------------


def test_upscale_by_sizes_the_job_from_the_source_image(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    processed = _img2img(host, JobOptions("lanczos", scale=1.5).ui_values())  # Width/Height say 512
    assert processed.images[0].size == (96, 72)  # 64x48 × 1.5
    assert host.runs[-1].x.shape[-2:] == (9, 12)
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Latent upscale by"] == "1.5" and "Size: 96x72" in processed.infotexts[0]
    assert JobOptions.from_infotext(info).scale == 1.5  # paste-back restores it
    host.assert_no_errors()


@pytest.mark.parametrize("scale", [0, 1])
def test_upscale_by_zero_or_one_keeps_width_and_height(fake_webui, scale):
    host = fake_webui()
    start(host)
    processed = _img2img(host, JobOptions("lanczos", scale=scale).ui_values(), width=128, height=96)
    assert processed.images[0].size == (128, 96)
    assert "Latent upscale by" not in host.parse_infotext(processed.infotexts[0])


def test_upscale_by_rounds_down_to_what_the_latent_gives(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(host, JobOptions("bislerp", scale=1.1).ui_values(), image=png_image(100, 60))
    # int(110.00000000000001) = 110 → 104; int(66.0) = 66 → 64 (the latent is 13 × 8 by 8 × 8)
    assert processed.images[0].size == (104, 64)


def test_the_old_positional_script_args_still_use_width_and_height(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(host, ["lanczos", "karras", True, 7, 1, 0.6, 0.6, 0.025], width=128, height=64)
    assert processed.images[0].size == (128, 64)


def test_the_xyz_scale_axis_sizes_each_cell(fake_webui):
    host = fake_webui()
    start(host)
    axis = next(o for o in host.xyz_grid.axis_options if o.label == "Latent upscale by")
    p = host.new_img2img(
        png_image(64, 64), width=64, height=64, resize_mode=3, denoising_strength=0.5, steps=3
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img")
    axis.apply(p, 2.0, [2.0])
    processed = host.process_images(p)
    assert processed.images[0].size == (128, 128)
    assert host.parse_infotext(processed.infotexts[0])["Latent upscale by"] == "2"


# --- §8 what the infotext and the console say ---------------------------------------------------------------


def test_the_neural_fallback_keeps_folders_out_of_the_infotext(fake_webui, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    caplog.set_level(logging.WARNING)
    host = fake_webui()
    start(host)
    folder = tmp_path / "private-user" / "models"
    host.opts.data["latent_upscale_models_dir"] = str(folder)
    host.opts.data["latent_upscale_allow_download"] = False
    processed = _img2img(host, job_args("neural"), width=96, height=64)
    infotext = processed.infotexts[0]
    assert "Latent upscale fallback: " in infotext
    assert str(tmp_path) not in infotext and "private-user" not in infotext
    assert str(folder) in caplog.text  # the console keeps the whole story


@pytest.mark.parametrize("flavor", ["1.10.1", "forge", "reforge"])
def test_the_infotext_names_the_schedule_that_ran(fake_webui, flavor):
    host = fake_webui(flavor)
    start(host)
    processed = _img2img(host, job_args("lanczos", "exponential"), width=96, height=64, scheduler="Karras")
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Schedule type"] == "Exponential"  # not the host's Karras, which did not run
    assert info["Latent upscale schedule"] == "exponential"
    assert host.runs[-1].override_used


def test_a_sampler_that_ignores_our_schedule_keeps_the_hosts_schedule_type(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(
        host, job_args("lanczos", "exponential"), width=96, height=64, sampler_name="DDIM", scheduler="Karras"
    )
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Schedule type"] != "Exponential"
    assert info["Latent upscale schedule"].startswith("exponential (not used")


def test_the_resize_mode_switch_is_said_at_a_level_the_hosts_show(fake_webui, caplog):
    # No host configures logging for extensions: Python's last-resort handler prints WARNING and above.
    caplog.set_level(logging.DEBUG)
    host = fake_webui()
    start(host)
    _img2img(host, job_args("lanczos"), width=96, height=64, resize_mode=0)
    switched = [r for r in caplog.records if "switched to 'Just resize (latent upscale)'" in r.getMessage()]
    assert switched and all(r.levelno >= logging.WARNING for r in switched)


def test_a_resize_that_did_not_run_is_not_recorded(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(host, job_args("lanczos"), image=png_image(64, 64), width=64, height=64)
    info = host.parse_infotext(processed.infotexts[0])
    assert "nothing to resize" in info["Latent upscale note"]
    assert "Latent upscale method" not in info
    assert info["Script"] == TITLE


def test_an_unreadable_model_never_fails_a_job_and_both_fallbacks_are_recorded(fake_webui, monkeypatch):
    # A bad model never crashes a job: the model-info reads (resize and schedule) sit inside their
    # fallbacks.
    host = fake_webui()
    start(host)

    def unreadable(model):
        raise TypeError("an odd model object")

    for name in ("resize", "img2img"):
        monkeypatch.setattr(glue(name), "read_model_latent_info", unreadable)
    processed = _img2img(host, job_args("lanczos", "karras"), width=96, height=64)
    fallback = host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
    assert "WebUI resize (an odd model object)" in fallback
    assert "default schedule (an odd model object)" in fallback
    assert processed.images[0].size == (96, 64) and host.runs[-1].x.shape[-2:] == (8, 12)
