"""WebUI conventions on the fake host: infotext and paste-back, run()'s return, XYZ axes, settings,
install.py, and the loaded model's latent convention."""

from __future__ import annotations

import re

import pytest
import torch

from latent_upscale import methods
from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.schedules import schedule_ids
from latent_upscale.webui.job import JobOptions, script_fields
from latent_upscale.webui.model import read_model_latent_info
from tests.helpers.glue import HOOKS_TITLE, TITLE, capture_jobs, glue, job_args, start
from tests.helpers.webui import png_image

# --- the script as the runner sees it ------------------------------------------------------------------


def test_the_script_is_a_dropdown_in_img2img_only_and_the_hooks_are_always_on(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    img2img, txt2img = host.scripts.scripts_img2img, host.scripts.scripts_txt2img
    assert TITLE in [s.title() for s in img2img.selectable_scripts]
    assert TITLE not in [s.title() for s in txt2img.selectable_scripts]
    assert HOOKS_TITLE in [s.title() for s in img2img.alwayson_scripts]
    assert HOOKS_TITLE in [s.title() for s in txt2img.alwayson_scripts]
    # `import modules.scripts as scripts`: the base Script class itself is not registered from our file.
    ours = [type(s) for s in img2img.scripts if s.filename.endswith("latent_upscale.py")]
    assert host.scripts.Script not in ours
    assert sorted(c.__name__ for c in ours) == ["LatentUpscaleHooks", "LatentUpscaleScript"]


def test_run_returns_the_processed_result_itself(fake_webui, monkeypatch):
    # The HTTP API reads processed.images from run()'s return value (api.py img2imgapi).
    host = fake_webui()
    start(host)
    jobs = capture_jobs(monkeypatch)
    script = host.script(TITLE)
    p = host.new_img2img(
        png_image(64, 64), width=128, height=128, resize_mode=3, denoising_strength=0.5, steps=4
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img", TITLE, job_args("lanczos"))
    processed = script.run(p, *job_args("lanczos"))
    assert processed is not None and processed.images[0].size == (128, 128)
    assert jobs == [p]
    host.assert_no_errors()


def test_bad_script_args_fail_before_the_job_with_one_clear_message(fake_webui):
    host = fake_webui()
    start(host)
    script = host.script(TITLE)
    p = host.new_img2img(png_image(64, 64), width=128, height=128, resize_mode=3, denoising_strength=0.5)
    processed = script.run(p, "bilnear")  # a UI job: the message under the gallery, no traceback
    assert re.match(r"unknown upscale method 'bilnear'; expected one of: .*lanczos", processed.info)
    assert host.runs == [] and processed.images == []
    host.assert_no_errors()


def test_script_args_accept_ids_or_labels_and_fewer_than_all(fake_webui):
    host = fake_webui()
    start(host)
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=["lanczos", "Karras"],
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=6,
    )
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Latent upscale method"] == "lanczos" and info["Latent upscale schedule"] == "karras"


# --- infotext and paste-back -----------------------------------------------------------------------------


def test_infotext_records_every_choice_and_selects_the_script_on_paste(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("bicubic", "beta", False, alpha=0.5),
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=6,
    )
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Script"] == TITLE
    assert info["Latent upscale method"] == "bicubic"
    assert info["Latent upscale schedule"] == "beta"
    assert info["Latent upscale alpha"] == "0.5"
    assert "Latent upscale beta" not in info  # only non-default parameters are written
    assert info["Latent upscale steps fixed"] == "False"
    assert JobOptions.from_infotext(info) == JobOptions("bicubic", "beta", False, {"alpha": 0.5})


def test_paste_fields_give_each_component_its_value_from_the_infotext(fake_webui):
    host = fake_webui()
    start(host)
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("lanczos", "karras", True, rho=4.0),
        width=128,
        height=128,
        resize_mode=3,
        denoising_strength=0.5,
        steps=6,
    )
    info = host.parse_infotext(processed.infotexts[0])
    ui = glue("ui")
    components = [object() for _ in script_fields()]
    values = {
        f.name: fn(info) for (_, fn), f in zip(ui.infotext_fields(components), script_fields(), strict=True)
    }
    assert values["method"] == "Lanczos-3"  # the dropdown shows labels
    assert values["schedule"] == "Karras"
    assert values["exact_steps"] is True
    assert values["karras_rho"] == 4.0
    assert values["polyexponential_rho"] is None  # another schedule's input is left alone
    # An infotext without our keys changes nothing.
    assert all(fn({"Steps": "20"}) is None for _, fn in ui.infotext_fields(components))
    assert set(ui.paste_field_names()) >= {"Latent upscale method", "Latent upscale schedule"}


# --- X/Y/Z plot ------------------------------------------------------------------------------------------


def _xyz_options(host, label):
    return [o for o in host.xyz_grid.axis_options if o.label == label]


def test_xyz_axes_are_appended_once_even_after_reload_ui(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    ours = ["Latent upscale method", "Latent upscale schedule", "Latent upscale by"]
    labels_before_ours = [o.label for o in host.xyz_grid.axis_options][:-3]
    host.reload_ui()
    host.reload_ui()
    labels = [o.label for o in host.xyz_grid.axis_options]
    assert all(labels.count(label) == 1 for label in ours)
    assert labels[-3:] == ours  # type="index" dropdowns: appended at the end
    assert labels[:-3] == labels_before_ours
    assert _xyz_options(host, "Latent upscale method")[0].choices() == methods()
    assert _xyz_options(host, "Latent upscale schedule")[0].choices() == schedule_ids()
    assert getattr(_xyz_options(host, "Latent upscale schedule")[0], "is_img2img", None) is True


def test_xyz_method_axis_applies_to_img2img_jobs(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    axis = _xyz_options(host, "Latent upscale method")[0]
    p = host.new_img2img(
        png_image(64, 64), width=128, height=128, resize_mode=0, denoising_strength=0.5, steps=5
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img")
    axis.apply(p, "nearest-exact", ["nearest-exact"])
    processed = host.process_images(p)
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Latent upscale method"] == "nearest-exact"
    assert len(host.runs[-1].schedule) - 1 == p.steps  # the settings' default: exact steps on


def test_xyz_method_axis_picks_the_hires_upscaler_in_txt2img(fake_webui):
    host = fake_webui()
    start(host)
    axis = _xyz_options(host, "Latent upscale method")[0]
    p = host.new_txt2img(width=64, height=64, enable_hr=True, hr_scale=2, denoising_strength=0.5, steps=3)
    axis.apply(p, "lanczos", ["lanczos"])
    assert p.hr_upscaler == "Latent (lanczos)"
    axis.apply(p, "bilinear", ["bilinear"])
    assert p.hr_upscaler == "Latent"


def test_xyz_schedule_axis_and_confirm_rejects_unknown_values(fake_webui):
    host = fake_webui()
    start(host)
    schedule_axis = _xyz_options(host, "Latent upscale schedule")[0]
    method_axis = _xyz_options(host, "Latent upscale method")[0]
    with pytest.raises(ValueError, match="unknown schedule 'karas'"):
        schedule_axis.confirm(None, ["karras", "karas"])
    with pytest.raises(ValueError, match="unknown upscale method 'trilinear'"):
        method_axis.confirm(None, ["trilinear"])
    p = host.new_img2img(
        png_image(64, 64), width=128, height=128, resize_mode=3, denoising_strength=0.5, steps=5
    )
    p.scripts = host.scripts.scripts_img2img
    p.script_args = host.script_args("img2img")
    schedule_axis.apply(p, "exponential", ["exponential"])
    host.process_images(p)
    assert host.runs[-1].override_used


# --- settings ----------------------------------------------------------------------------------------------


def test_settings_section_holds_every_setting_with_a_default(fake_webui):
    pytest.importorskip("gradio")
    host = fake_webui()
    start(host)
    settings = glue("settings")
    settings.register_settings()
    for setting in settings.SETTINGS:
        info = host.opts.data_labels[setting.key]
        assert info.section[0] == "latent_upscale"
        assert info.default == setting.default


# --- install.py ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ((), []),
        (("huggingface_hub",), ["huggingface-hub>=0.16"]),
        (("safetensors", "huggingface_hub"), ["safetensors>=0.3", "huggingface-hub>=0.16"]),
        (("torch", "gradio", "numpy", "torchvision"), []),
    ],
)
def test_install_py_installs_only_what_is_missing_of_our_light_packages(fake_webui, missing, expected):
    host = fake_webui()
    result = host.run_installer(missing=missing)
    assert result["returncode"] == 0, result
    installed = [command for command, _ in result["pip_calls"]]
    assert installed == [f'install "{requirement}"' for requirement in expected]
    assert not any("torch" in c or "gradio" in c or "numpy" in c for c in installed)


def test_install_py_does_nothing_under_skip_install(fake_webui):
    host = fake_webui()
    result = host.run_installer(missing=("huggingface_hub",), skip_install=True)
    assert result["returncode"] == 0 and result["pip_calls"] == []


# --- the loaded model's latent convention -------------------------------------------------------------------

MODELS = [
    ("1.6.0", "sd1", "sd1", 0.18215, 0.0, 4),
    ("1.6.0", "sdxl", "sdxl", 0.13025, 0.0, 4),
    ("1.10.1", "sd2", "sd1", 0.18215, 0.0, 4),
    ("1.10.1", "sd3", "sd3", 1.5305, 0.0609, 16),
    ("forge", "sd1", "sd1", 0.18215, 0.0, 4),
    ("forge", "sdxl", "sdxl", 0.13025, 0.0, 4),
    ("forge", "flux", "flux", 0.3611, 0.1159, 16),
    ("forge-neo", "sd1", "sd1", 0.18215, 0.0, 4),
    ("forge-neo", "sdxl", "sdxl", 0.13025, 0.0, 4),
    ("forge-neo", "flux", "flux", 0.3611, 0.1159, 16),  # from Neo's is_flux flag
    ("reforge", "sd1", "sd1", 0.18215, 0.0, 4),
    ("reforge", "sdxl", "sdxl", 0.13025, 0.0, 4),
]


@pytest.mark.parametrize(("flavor", "model", "family", "scale", "shift", "channels"), MODELS)
def test_family_and_scale_factor_are_read_from_the_loaded_model(
    fake_webui, flavor, model, family, scale, shift, channels
):
    host = fake_webui(flavor, model=model)
    info = read_model_latent_info(host.sd_model)
    assert (info.family, info.channels) == (family, channels)
    assert info.latent_format == LatentFormat(scale=pytest.approx(scale), shift=pytest.approx(shift))
    # And it really is the model's convention: it turns the host's encode back into the raw VAE output.
    pixels = torch.rand(1, 3, 32, 32)
    raw = host.sd_models.fake_vae_encode(pixels * 2 - 1, channels)
    encoded = host.sd_samplers_common.images_tensor_to_samples(pixels, 0, host.sd_model)
    assert torch.allclose(info.latent_format.to_raw(encoded.float()), raw.float(), atol=1e-4)


def test_forge_neo_qwen_image_reads_the_wan_vae_latent_format_not_flux(fake_webui):
    # Neo's WanVAE has no scaling_factor; process_in is first_stage_model.latent_format's (class Wan21,
    # per-channel mean/std), and the engine sets is_wan. Before, 16 channels without a flag meant "flux".
    host = fake_webui("forge-neo", model="qwen")
    info = read_model_latent_info(host.sd_model)
    fmt = host.sd_model.forge_objects.vae.first_stage_model.latent_format
    assert (info.family, info.channels) == ("wan", 16)
    assert info.latent_format.shift == pytest.approx(tuple(fmt.latents_mean.flatten().tolist()))
    assert info.latent_format.scale == pytest.approx(tuple((1.0 / fmt.latents_std).flatten().tolist()))
    assert "latent_format Wan21" in info.source
    # It is the convention the host encodes with: its (5-D) latent's frame maps back to the raw VAE output.
    pixels = torch.rand(1, 3, 32, 32)
    encoded = host.sd_samplers_common.images_tensor_to_samples(pixels, 0, host.sd_model)
    assert encoded.shape == (1, 16, 1, 4, 4)
    raw = host.sd_models.fake_vae_encode(pixels * 2 - 1, 16)
    assert torch.allclose(info.latent_format.to_raw(encoded[:, :, 0].float()), raw.float(), atol=1e-4)


@pytest.mark.parametrize(
    ("flags", "family"),
    [
        ({}, "flux"),  # Forge: Flux and Chroma set no flag at all
        ({"is_flux": True, "is_wan": False}, "flux"),  # Forge Neo flags Flux
        ({"is_flux": False, "is_wan": False}, None),  # Neo, not Flux (Lumina, Z-Image...): no guess
        ({"is_flux": False, "is_wan": True}, "wan"),
        ({"is_wan": False}, "flux"),  # newer Neo: no is_flux; 16 channels still read as the Flux VAE
    ],
)
def test_16_channel_family_comes_from_the_hosts_flags(flags, family):
    from types import SimpleNamespace

    vae_model = SimpleNamespace(scaling_factor=0.3611, shift_factor=0.1159)
    vae = SimpleNamespace(first_stage_model=vae_model, latent_channels=16)
    engine = SimpleNamespace(forge_objects=SimpleNamespace(vae=vae), is_sd1=False, is_sdxl=False, **flags)
    assert read_model_latent_info(engine).family == family


def test_a_latent_format_class_on_a_forge_neo_vae_names_the_family():
    # Newer Neo hangs the config's latent_format on every VAE (base.py); its class beats the guesses.
    from types import SimpleNamespace

    flux_format = type("Flux", (), {"scale_factor": 0.3611, "shift_factor": 0.1159})()
    vae_model = SimpleNamespace(scaling_factor=0.3611, shift_factor=0.1159, latent_format=flux_format)
    vae = SimpleNamespace(first_stage_model=vae_model, latent_channels=16)
    engine = SimpleNamespace(forge_objects=SimpleNamespace(vae=vae), is_flux=False, is_wan=False)
    assert read_model_latent_info(engine).family == "flux"


# --- the neural hint under the method dropdown ------------------------------------------------------------


def test_the_neural_hint_never_loads_a_model(fake_webui):
    # 1.6+: reading shared.sd_model loads a checkpoint when none is loaded (model_data.get_sd_model);
    # the hint reads model_data.sd_model instead.
    from types import SimpleNamespace

    host = fake_webui()
    start(host)
    host.sd_models.model_data = SimpleNamespace(sd_model=None)
    assert "once one is loaded" in glue("ui").neural_hint("neural")
    assert glue("ui").neural_hint("lanczos") == ""


def test_the_neural_hint_names_the_weights_it_will_use(fake_webui, tmp_path):
    from types import SimpleNamespace

    from tests.helpers.glue import put_city96_weights, use_models_dir

    host = fake_webui(model="sdxl")
    start(host)
    host.sd_models.model_data = SimpleNamespace(sd_model=host.sd_model)
    use_models_dir(host, tmp_path, allow_download=False)
    assert f"falls back to {DEFAULT_METHOD}" in glue("ui").neural_hint("Neural (learned upscaler)")
    put_city96_weights(tmp_path, vae="xl")
    hint = glue("ui").neural_hint("neural")
    assert "sdxl" in hint and "city96" in hint and str(tmp_path) in hint


def test_a_bad_saved_setting_never_fails_a_neural_job(fake_webui, webui_flavor):
    # A bad saved setting, end to end: tile size "abc" in config.json; the job completes with the
    # default and says why.
    host = fake_webui(webui_flavor)
    start(host)
    host.opts.data["latent_upscale_tile_size"] = "abc"
    processed = host.img2img(
        png_image(64, 64),
        script=TITLE,
        script_args=job_args("neural"),
        width=96,
        height=96,
        resize_mode=3,
        denoising_strength=0.5,
        steps=4,
    )
    info = host.parse_infotext(processed.infotexts[0])
    assert (
        info["Latent upscale fallback"].startswith(f"{DEFAULT_METHOD} (")
        and "Neural tile size" in info["Latent upscale fallback"]
    )
    assert processed.images[0].size == (96, 96)
    host.assert_no_errors()


def test_the_host_name_tells_a1111_forge_forge_neo_and_reforge_apart(fake_webui, tmp_path, monkeypatch):
    # For log lines and bug reports only. Forge and Neo ship modules_forge/ (forge_version.version is what
    # their launch_utils.git_tag() returns); reForge also ships ldm_patched/.
    import sys

    host = fake_webui("forge-neo")
    start(host)
    host_name = glue("host")._host_name
    assert host_name() == "A1111"  # the fake tree has neither package
    forge = tmp_path / "modules_forge"
    forge.mkdir()
    (forge / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert host_name() == "Forge"  # an older Forge without forge_version
        (forge / "forge_version.py").write_text('version = "neo"\n')
        assert host_name() == "Forge neo"
        (tmp_path / "ldm_patched").mkdir()
        (tmp_path / "ldm_patched" / "__init__.py").write_text("")
        assert host_name() == "reForge"
    finally:
        for name in ("modules_forge.forge_version", "modules_forge", "ldm_patched"):
            sys.modules.pop(name, None)
