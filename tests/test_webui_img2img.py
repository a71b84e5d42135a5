"""The img2img script on the fake host (every flavor): methods, exact steps, schedules, fallbacks, cleanup."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from latent_upscale import methods, upscale
from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.schedules import img2img_sigmas, sd_sigma_table
from latent_upscale.webui.job import JobOptions
from latent_upscale.webui.patches import is_interceptor
from tests.helpers.glue import (
    TITLE,
    capture_jobs,
    job_args,
    patched_names,
    put_city96_weights,
    put_sesqui_weights,
    source_latent,
    spy_resizes,
    start,
    use_models_dir,
)
from tests.helpers.webui import FLAVORS, each_flavor_once, png_image

INTERPOLATIONS = [m for m in methods() if m not in ("neural", "tae")]  # methods with weights: own tests


def _img2img(host, method="bislerp", *, schedule="automatic", exact_steps=True, image=None, **kwargs):
    kwargs.setdefault("width", 120)
    kwargs.setdefault("height", 88)
    kwargs.setdefault("resize_mode", 3)
    kwargs.setdefault("denoising_strength", 0.4)
    kwargs.setdefault("steps", 10)
    return host.img2img(
        image if image is not None else png_image(64, 64),
        script=TITLE,
        script_args=job_args(method, schedule, exact_steps),
        **kwargs,
    )


@pytest.mark.parametrize(("method", "webui_flavor"), each_flavor_once(INTERPOLATIONS))
def test_every_method_resizes_the_hosts_encoded_latent_to_the_exact_size(fake_webui, webui_flavor, method):
    host = fake_webui(webui_flavor)
    start(host)
    image = png_image(64, 64)
    processed = _img2img(host, method, image=image)
    run = host.runs[-1]
    expected = upscale(source_latent(host, image), (88 // 8, 120 // 8), method=method)
    # What the sampler started from is our method's result on the host's own source-size encode.
    assert run.x.shape == (1, 4, 11, 15)
    assert torch.allclose(run.x.float(), expected.float(), atol=1e-5)
    assert processed.images[0].size == (120, 88)
    host.assert_no_errors()


def test_methods_differ_from_the_hosts_bilinear(fake_webui):
    host = fake_webui()
    start(host)
    image = png_image(64, 64)
    _img2img(host, "lanczos", image=image)
    ours = host.runs[-1].x
    plain = host.new_img2img(image, width=120, height=88, resize_mode=3, denoising_strength=0.4, steps=10)
    host.process_images(plain)
    host_bilinear = host.runs[-1].x
    assert torch.allclose(
        host_bilinear, F.interpolate(source_latent(host, image), size=(11, 15), mode="bilinear")
    )
    assert not torch.allclose(ours, host_bilinear, atol=1e-3)


def test_only_the_init_latent_call_is_replaced(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    spy = spy_resizes(monkeypatch)
    _img2img(host, "bicubic")
    assert len(spy.calls) == 1
    latent, size, method = spy.calls[0]
    assert latent.shape == (1, 4, 8, 8) and size == (11, 15) and method == "bicubic"


def test_the_inpainting_conditioning_image_is_resized_to_the_target(fake_webui, webui_flavor, monkeypatch):
    # The host builds img2img_image_conditioning from the source-size image; inpainting models would
    # then fail in torch.cat (processing.py inpainting_image_conditioning). We hand it the target size.
    host = fake_webui(webui_flavor)
    start(host)
    jobs = capture_jobs(monkeypatch)
    _img2img(host, "lanczos", width=128, height=96)
    assert jobs[0].fake_image_conditioning_source_shape[-2:] == (96, 128)


@pytest.mark.parametrize("resize_mode", [0, 1, 2])
def test_other_resize_modes_are_switched_to_latent_upscale_and_said(fake_webui, caplog, resize_mode):
    host = fake_webui()
    start(host)
    caplog.set_level(logging.INFO, logger="latent_upscale")
    processed = _img2img(host, "lanczos", resize_mode=resize_mode)
    info = host.parse_infotext(processed.infotexts[0])
    assert "switched" in info["Latent upscale note"] and "latent upscale" in info["Latent upscale note"]
    assert "switched to 'Just resize (latent upscale)'" in caplog.text
    assert host.runs[-1].x.shape == (1, 4, 11, 15)


# --- exact steps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("denoise", "steps", "webui_flavor"), each_flavor_once([(0.4, 10), (0.75, 20), (1.0, 7)])
)
def test_runs_exactly_the_slider_steps_and_leaves_the_setting_alone(fake_webui, webui_flavor, denoise, steps):
    host = fake_webui(webui_flavor)
    start(host)
    before = host.snapshot()
    processed = _img2img(host, denoising_strength=denoise, steps=steps)
    run = host.runs[-1]
    assert len(run.schedule) - 1 == steps  # sampler steps walked
    assert run.launch_steps == steps  # what the progress bar shows
    assert host.parse_infotext(processed.infotexts[0])["Steps"] == str(steps)
    assert host.opts.data.get("img2img_fix_steps", False) is False
    assert host.snapshot()["opts.data"] == before["opts.data"]


@pytest.mark.parametrize(("sampler", "webui_flavor"), each_flavor_once(["DDIM", "PLMS", "UniPC", "Euler"]))
def test_exact_steps_runs_exactly_the_slider_steps_with_every_sampler(fake_webui, webui_flavor, sampler):
    # DDIM calls the model S - 2 times and PLMS/UniPC S - 1 for a fixed-steps request of S (the fake
    # reproduces the real walks, tests/test_fake_webui_sampling.py): the glue asks them for S + 2 / S + 1.
    host = fake_webui(webui_flavor)
    start(host)
    for steps, denoise in ((6, 0.5), (30, 0.4), (10, 1.0), (4, 0.2), (3, 0.75)):
        _img2img(host, sampler_name=sampler, steps=steps, denoising_strength=denoise)
        assert host.runs[-1].model_evaluations == steps, (steps, denoise)
    host.assert_no_errors()


def test_exact_steps_off_leaves_the_hosts_own_count(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(host, exact_steps=False, denoising_strength=0.4, steps=10)
    assert len(host.runs[-1].schedule) - 1 == int(0.4 * 10) + 1
    assert host.parse_infotext(processed.infotexts[0])["Latent upscale steps fixed"] == "False"


def test_exact_steps_work_under_freeze_settings(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor, args=["--freeze-settings"])
    start(host)
    _img2img(host, steps=12, denoising_strength=0.5)
    assert len(host.runs[-1].schedule) - 1 == 12
    host.assert_no_errors()


def test_exact_steps_work_on_a_host_that_never_saved_its_settings(fake_webui, webui_flavor):
    # 1.8+: no config.json means an empty opts.data (override_settings would not even restore).
    host = fake_webui(webui_flavor, config="missing")
    start(host)
    _img2img(host, steps=9, denoising_strength=0.3)
    assert len(host.runs[-1].schedule) - 1 == 9
    assert "img2img_fix_steps" not in host.opts.data or host.opts.data["img2img_fix_steps"] is False


def test_the_users_own_fix_steps_setting_is_reported_truthfully(fake_webui):
    host = fake_webui(config={"img2img_fix_steps": True})
    start(host)
    processed = _img2img(host, exact_steps=False, steps=10)
    assert host.parse_infotext(processed.infotexts[0])["Latent upscale steps fixed"] == "True"
    assert len(host.runs[-1].schedule) - 1 == 10


# --- schedules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "webui_flavor"),
    each_flavor_once(["karras", "exponential", "align_your_steps", "beta", "simple", "kl_optimal"]),
)
def test_the_chosen_schedule_is_what_the_sampler_walks(fake_webui, webui_flavor, schedule):
    host = fake_webui(webui_flavor)
    start(host)
    processed = _img2img(host, "lanczos", schedule=schedule, steps=10, denoising_strength=0.4)
    run = host.runs[-1]
    assert run.override_used
    expected = img2img_sigmas(schedule, 10, 0.4, sd_sigma_table("sd1"), fix_steps=True, family="sd1")
    assert torch.allclose(run.schedule.float().cpu(), expected, rtol=1e-4, atol=1e-5)
    assert host.parse_infotext(processed.infotexts[0])["Latent upscale schedule"] == schedule


def test_repeated_levels_are_dropped_and_the_infotext_says_so(fake_webui, webui_flavor, caplog):
    # Beta with alpha 0.05 (accepted by the API, below the slider's track) repeats float32 levels near
    # sigma_min: a zero-length step would give NaN in DPM++ samplers, so the levels are dropped and said.
    host = fake_webui(webui_flavor)
    start(host)
    with caplog.at_level(logging.WARNING, logger="latent_upscale"):
        processed = host.img2img(
            png_image(64, 64),
            script=TITLE,
            script_args=job_args("lanczos", "beta", True, alpha=0.05),
            width=128,
            height=128,
            resize_mode=0,  # switched to latent upscale: that note must survive beside ours
            denoising_strength=1.0,
            steps=10,
            batch_size=1,
            n_iter=2,
        )
    walked = host.runs[-1].schedule.float().cpu()
    assert host.runs[-1].override_used
    assert len(walked) == 10 + 1 - 2 and bool((walked[1:] < walked[:-1]).all())
    note = host.parse_infotext(processed.infotexts[0])["Latent upscale note"]
    assert "resize mode switched" in note
    assert note.count("beta gave 8 distinct steps of 10 (2 repeated sigmas dropped)") == 1
    assert "repeated sigmas dropped" in caplog.text


def test_schedule_parameters_reach_the_schedule(fake_webui):
    host = fake_webui()
    start(host)
    host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("lanczos", "karras", True, rho=3.0),
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=8,
    )
    expected = img2img_sigmas("karras", 8, 0.5, sd_sigma_table(), fix_steps=True, rho=3.0)
    assert torch.allclose(host.runs[-1].schedule.float().cpu(), expected, rtol=1e-4, atol=1e-5)


def test_automatic_leaves_the_hosts_schedule_alone(fake_webui):
    host = fake_webui()
    start(host)
    processed = _img2img(host, "lanczos", schedule="automatic")
    assert not host.runs[-1].override_used
    assert "Latent upscale schedule" not in host.parse_infotext(processed.infotexts[0])


@pytest.mark.parametrize("sampler", ["DDIM", "PLMS", "UniPC"])
def test_timestep_samplers_ignore_the_schedule_and_the_infotext_says_so(fake_webui, caplog, sampler):
    host = fake_webui()
    start(host)
    caplog.set_level(logging.WARNING, logger="latent_upscale")
    processed = _img2img(host, "lanczos", schedule="karras", sampler_name=sampler)
    assert not host.runs[-1].override_used
    value = host.parse_infotext(processed.infotexts[0])["Latent upscale schedule"]
    assert value.startswith("karras (not used") and sampler in value
    assert f"{sampler} ignores custom noise schedules" in caplog.text


def test_the_override_is_restored_after_the_job(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    jobs = capture_jobs(monkeypatch)
    _img2img(host, schedule="karras")
    assert jobs[0].sampler_noise_scheduler_override is None


# --- neural: the host's scaled latents ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flavor", "model", "scale"),
    [
        ("1.10.1", "sd1", 0.18215),
        ("1.6.0", "sdxl", 0.13025),
        ("forge", "sdxl", 0.13025),
        ("reforge", "sd1", 0.18215),
    ],
)
def test_neural_sees_raw_latents_and_returns_model_space(
    fake_webui, monkeypatch, tmp_path, flavor, model, scale
):
    host = fake_webui(flavor, model=model)
    start(host)
    put_city96_weights(tmp_path, vae="v1" if model == "sd1" else "xl")
    use_models_dir(host, tmp_path)
    spy = spy_resizes(monkeypatch)
    processed = _img2img(host, "neural", width=128, height=128)
    from latent_upscale.neural import NeuralOptions

    host_latent = spy.calls[0][0]
    raw_options = NeuralOptions(models_dir=tmp_path)
    by_hand = (
        upscale(
            host_latent / scale,
            (16, 16),
            method="neural",
            family=model,
            latent_space="raw",
            neural=raw_options,
        )
        * scale
    )
    unconverted = upscale(
        host_latent, (16, 16), method="neural", family=model, latent_space="raw", neural=raw_options
    )
    assert torch.allclose(host.runs[-1].x.float(), by_hand, atol=1e-4)
    assert not torch.allclose(by_hand, unconverted, atol=1e-2)  # the conversion matters
    info = host.parse_infotext(processed.infotexts[0])
    assert "x2.0.safetensors" in info["Latent upscale weights"]
    assert "Latent upscale fallback" not in info


def test_neural_on_forge_flux_uses_16_channel_weights_with_the_shift(fake_webui, monkeypatch, tmp_path):
    host = fake_webui("forge", model="flux")
    start(host)
    put_sesqui_weights(tmp_path, "upscaler_Flux.safetensors", channels=16)
    use_models_dir(host, tmp_path)
    spy = spy_resizes(monkeypatch)
    processed = _img2img(host, "neural", width=128, height=128)
    from latent_upscale.neural import NeuralOptions

    host_latent = spy.calls[0][0]
    raw = host_latent / 0.3611 + 0.1159
    by_hand = (
        upscale(
            raw,
            (16, 16),
            method="neural",
            family="flux",
            latent_space="raw",
            neural=NeuralOptions(models_dir=tmp_path),
        )
        - 0.1159
    ) * 0.3611
    assert host_latent.shape[1] == 16
    assert torch.allclose(host.runs[-1].x.float(), by_hand, atol=1e-4)
    assert (
        "upscaler_Flux.safetensors" in host.parse_infotext(processed.infotexts[0])["Latent upscale weights"]
    )


def test_neural_without_weights_falls_back_to_the_default_method_and_says_so(
    fake_webui, monkeypatch, tmp_path, caplog
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    host = fake_webui()
    start(host)
    use_models_dir(host, tmp_path / "empty")
    caplog.set_level(logging.WARNING, logger="latent_upscale")
    image = png_image(64, 64)
    processed = _img2img(host, "neural", image=image, width=128, height=128)
    expected = upscale(source_latent(host, image), (16, 16), method=DEFAULT_METHOD)
    assert torch.allclose(host.runs[-1].x.float(), expected, atol=1e-5)
    fallback = host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
    assert fallback.startswith(f"{DEFAULT_METHOD} (")
    assert "latent-upscaler-v2.1_SDv1-x2.0.safetensors" in fallback
    assert f"neural unavailable; using {DEFAULT_METHOD} instead" in caplog.text
    assert "Places tried" in caplog.text  # the whole message, once, in the log
    assert processed.images[0].size == (128, 128)


@pytest.mark.parametrize("method", ["bislerp", "neural"])
def test_a_video_latent_from_forge_neo_is_resized_frame_by_frame(fake_webui, tmp_path, caplog, method):
    # Forge Neo's Wan and Qwen-Image (WanVAE) give img2img 5-D latents [B, C, T, H, W]: the glue hands
    # them to the library, which resizes them frame by frame (neural without Wan weights: the default
    # method, said); the host's own resize, which crashes on them, is never called.
    from types import SimpleNamespace

    from tests.helpers.glue import glue

    host = fake_webui("forge-neo", model="qwen")
    start(host)
    use_models_dir(host, tmp_path)
    latent = host.sd_samplers_common.images_tensor_to_samples(torch.rand(2, 3, 32, 32), 0, host.sd_model)
    assert latent.shape == (2, 16, 1, 4, 4)
    p = SimpleNamespace(sd_model=host.sd_model, extra_generation_params={})
    host_calls = []

    def call_host():
        host_calls.append(True)
        return "the host's result"

    caplog.set_level(logging.WARNING, logger="latent_upscale")
    result = glue("resize").resize_host_latent(p, method, latent, (8, 8), call_host)
    assert result.shape == (2, 16, 1, 8, 8) and not host_calls
    ran = DEFAULT_METHOD if method == "neural" else method  # neural without Wan weights falls back
    frame = upscale(latent[:, :, 0], (8, 8), method=ran)
    assert torch.allclose(result[:, :, 0], frame, atol=1e-5)
    if method == "neural":
        assert p.extra_generation_params["Latent upscale fallback"].startswith(f"{DEFAULT_METHOD} (")
    else:
        assert "Latent upscale fallback" not in p.extra_generation_params


def test_neural_on_16_channel_sd3_latents_falls_back_without_failing(fake_webui, tmp_path):
    host = fake_webui("1.10.1", model="sd3")
    start(host)
    use_models_dir(host, tmp_path)
    processed = _img2img(host, "neural", width=128, height=128)
    assert host.runs[-1].x.shape == (1, 16, 16, 16)
    assert (
        "no neural weights serve 'sd3'"
        in host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
    )


def test_a_failing_method_falls_back_to_the_hosts_resize(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    import latent_upscale.webui.resize as resize_module  # the running host's copy

    def broken(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(resize_module, "upscale_detailed", broken)
    image = png_image(64, 64)
    processed = _img2img(host, "lanczos", image=image)
    expected = F.interpolate(source_latent(host, image), size=(11, 15), mode="bilinear")
    assert torch.allclose(host.runs[-1].x, expected)
    assert (
        host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
        == "WebUI resize (kernel exploded)"
    )


# --- nothing stays patched ---------------------------------------------------------------------------


def _assert_clean(host, before, jobs):
    after = host.snapshot()
    assert after == before
    assert not is_interceptor(F.interpolate)
    for p in jobs:
        assert not patched_names(p), patched_names(p)
        assert not hasattr(p, "latent_upscale_state") and not hasattr(p, "latent_upscale_options")
        sampler = getattr(p, "sampler", None)
        if sampler is not None:
            assert not patched_names(sampler)


def test_nothing_stays_patched_after_a_job(fake_webui, webui_flavor, monkeypatch):
    host = fake_webui(webui_flavor)
    start(host)
    before = host.snapshot()
    jobs = capture_jobs(monkeypatch)
    _img2img(host, "lanczos", schedule="karras")
    _assert_clean(host, before, jobs)


def test_nothing_stays_patched_after_an_exception_in_sampling(fake_webui, webui_flavor, monkeypatch):
    host = fake_webui(webui_flavor)
    start(host)
    before = host.snapshot()
    jobs = capture_jobs(monkeypatch)
    host.raise_at(2, RuntimeError("CUDA out of memory"))
    with pytest.raises(RuntimeError, match="out of memory"):
        _img2img(host, "lanczos", schedule="karras")
    _assert_clean(host, before, jobs)


def test_nothing_stays_patched_after_an_exception_in_the_hosts_init(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    before = host.snapshot()
    jobs = capture_jobs(monkeypatch)

    def broken_encode(*args, **kwargs):
        raise RuntimeError("VAE failed")

    monkeypatch.setattr(host.processing, "images_tensor_to_samples", broken_encode)
    with pytest.raises(RuntimeError, match="VAE failed"):
        _img2img(host, "lanczos")
    monkeypatch.undo()
    _assert_clean(host, before, jobs)


def test_nothing_stays_patched_after_an_interrupt(fake_webui, webui_flavor, monkeypatch):
    host = fake_webui(webui_flavor)
    start(host)
    before = host.snapshot()
    jobs = capture_jobs(monkeypatch)
    host.interrupt_at(1)
    processed = _img2img(host, "lanczos", schedule="karras")  # InterruptedException is caught by the host
    assert host.runs[-1].interrupted
    assert processed.images
    _assert_clean(host, before, jobs)


def test_jobs_without_the_script_see_no_patched_object(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    seen = []
    host.on_step(lambda step, sigma, x, run: seen.append(is_interceptor(F.interpolate)))
    before = host.snapshot()
    p = host.new_img2img(
        png_image(64, 64), width=128, height=128, resize_mode=3, denoising_strength=0.5, steps=6
    )
    p.scripts = host.scripts.scripts_img2img  # the always-on hooks run, as in a real job
    p.script_args = host.script_args("img2img")
    host.process_images(p)
    host.assert_no_errors()
    assert seen and not any(seen)
    assert not patched_names(p)
    assert len(host.runs[-1].schedule) - 1 == int(0.5 * p.steps) + 1  # the host's own step count
    assert host.snapshot() == before


# --- inpainting with a mask ------------------------------------------------------------------------------


def _mask():
    from PIL import Image

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    return mask


# "original" (1) keeps the job in latent space where the host allows it: every flavor. The other fills
# take the pixel fallback alike: each meets every flavor once.
@pytest.mark.parametrize(
    ("fill", "webui_flavor"), [(1, flavor) for flavor in FLAVORS] + each_flavor_once([0, 2, 3])
)
def test_masked_inpainting_at_a_new_size_never_crashes_and_records_only_what_ran(
    fake_webui, webui_flavor, fill, monkeypatch
):
    # In latent-upscale mode the WebUI resizes the mask but not the image: masking.fill (every masked content
    # but "original") and, before 1.9.1, the overlay paste fail with "images do not match". There we resize in
    # pixels and say so; with "original" on 1.9.1+/Forge/reForge the job stays in latent space.
    host = fake_webui(webui_flavor)
    start(host)
    jobs = capture_jobs(monkeypatch)
    image = png_image(64, 64)
    processed = _img2img(
        host, "lanczos", image=image, mask=_mask(), inpainting_fill=fill, width=128, height=128, resize_mode=3
    )
    assert processed.images[0].size == (128, 128)
    info = host.parse_infotext(processed.infotexts[0])
    assert len(host.runs[-1].schedule) - 1 == 10  # exact steps apply either way
    if fill == 1 and webui_flavor != "1.6.0":
        assert info["Latent upscale method"] == "lanczos"
        assert "Latent upscale note" not in info
        expected = upscale(source_latent(host, image), (16, 16), method="lanczos")
        assert torch.allclose(host.runs[-1].x.float(), expected.float(), atol=1e-5)
        # The original is laid over the whole picture, not over its top-left quarter (apply_overlay's
        # alpha_composite pastes at the corner whatever size it gets).
        assert [overlay.size for overlay in jobs[0].overlay_images] == [(128, 128)]
        corner = np.asarray(processed.images[0].convert("RGB"), dtype=np.float32)[100:, 100:]
        source = np.asarray(image.resize((128, 128), Image.LANCZOS), dtype=np.float32)[100:, 100:]
        assert np.abs(corner - source).mean() < 2.0
    else:
        assert "resized in pixels" in info["Latent upscale note"]
        assert "Latent upscale method" not in info  # no latent resize ran: none is recorded
        assert JobOptions.from_infotext(info).method == DEFAULT_METHOD  # paste-back still selects the script


def test_only_masked_inpainting_keeps_the_latent_path(fake_webui):
    # "Only masked" crops and resizes the crop to the target in pixels: the latent already has the size.
    host = fake_webui()
    start(host)
    processed = _img2img(
        host, "lanczos", mask=_mask(), inpainting_fill=1, inpaint_full_res=True, width=128, height=128
    )
    info = host.parse_infotext(processed.infotexts[0])
    assert "nothing to resize" in info["Latent upscale note"]
    assert host.runs[-1].x.shape == (1, 4, 16, 16)  # the crop, resized to 128x128 in pixels, encoded
    assert processed.images[0].size == (64, 64)  # pasted back into the original, as the host does
