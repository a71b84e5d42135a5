"""The fake WebUI host itself: options, img2img, steps, interrupts, infotext.

Each seam behaves like the real host code the glue relies on, and every test names the behaviour it
proves. ``webui_flavor`` parametrises over 1.6.0, 1.10.1, Forge, Forge Neo and reForge where the real
hosts agree, and the expectations branch where they differ.
"""

import pytest
import torch

from tests.helpers.fake_webui_seams import fake_webui_context, interpolate_spy, make_extension
from tests.helpers.webui import png_image


# --- options ------------------------------------------------------------------------------------------------
def test_opts_raise_attribute_error_for_unknown_keys_and_add_option_registers_a_default(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        opts, shared = host.opts, host.shared
        with pytest.raises(AttributeError):
            _ = opts.latent_upscale_no_such_key
        assert opts.data.get("latent_upscale_no_such_key", "fallback") == "fallback"
        section = ("latent_upscale", "Latent Upscale")
        opts.add_option("latent_upscale_tile", shared.OptionInfo(64, "Tile size", section=section))
        assert opts.latent_upscale_tile == 64 and opts.data["latent_upscale_tile"] == 64
        assert opts.img2img_fix_steps is False
        if webui_flavor == "1.6.0":
            with pytest.raises(TypeError):
                shared.OptionInfo(1, "x", category_id="sd")
        else:
            assert shared.OptionInfo(1, "x", category_id="sd").category_id == "sd"


def test_opts_assignment_asserts_under_freeze_settings_and_set_does_not_catch_it():
    with fake_webui_context("1.10.1", args=["--freeze-settings"]) as host:
        with pytest.raises(AssertionError, match="changing settings is disabled"):
            host.opts.img2img_fix_steps = True
        with pytest.raises(AssertionError):
            host.opts.set("img2img_fix_steps", True)
        assert (
            host.opts.set("img2img_fix_steps", False) is False
        )  # unchanged value: returns before the assert
        host.opts.data["img2img_fix_steps"] = True  # writing the dict directly bypasses the freeze
        assert host.opts.img2img_fix_steps is True


def test_override_settings_apply_during_the_job_and_are_restored_after(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        seen = []
        host.on_step(lambda step, sigma, x, run: seen.append(host.opts.img2img_fix_steps))
        p = host.new_img2img(
            width=64,
            height=64,
            steps=4,
            denoising_strength=0.5,
            override_settings={"img2img_fix_steps": True},
        )
        host.process_images(p)
        assert seen and all(seen) and host.runs[-1].launch_steps == 4
        assert host.opts.img2img_fix_steps is False


def test_override_settings_persist_when_restore_afterwards_is_false():
    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(
            width=64,
            height=64,
            steps=4,
            override_settings={"img2img_fix_steps": True},
            override_settings_restore_afterwards=False,
        )
        host.process_images(p)
        assert host.opts.img2img_fix_steps is True


@pytest.mark.parametrize(
    ("flavor", "leaks"), [("1.6.0", False), ("1.10.1", True), ("forge", True), ("reforge", True)]
)
def test_without_config_json_overrides_of_unsaved_keys_are_not_restored_from_1_8(flavor, leaks):
    # 1.8+ Options.load leaves data EMPTY without config.json, and process_images saves only keys in data
    with fake_webui_context(flavor, config="missing") as host:
        assert ("img2img_fix_steps" in host.opts.data) is not leaks
        p = host.new_img2img(width=64, height=64, steps=4, override_settings={"img2img_fix_steps": True})
        host.process_images(p)
        assert host.opts.img2img_fix_steps is leaks


@pytest.mark.parametrize("flavor", ["1.10.1", "forge", "forge-neo", "reforge", "1.6.0"])
def test_override_settings_fail_under_freeze_settings_even_unchanged_except_on_forge(flavor):
    with fake_webui_context(flavor, args=["--freeze-settings"]) as host:
        changed = host.new_img2img(
            width=64, height=64, steps=4, override_settings={"img2img_fix_steps": True}
        )
        with pytest.raises(AssertionError):
            host.process_images(changed)
        unchanged = host.new_img2img(
            width=64, height=64, steps=4, override_settings={"img2img_fix_steps": False}
        )
        if flavor in ("forge", "forge-neo"):  # Neo processing.py process_images: set_config too
            host.process_images(unchanged)  # sysinfo.set_config skips unchanged values
        else:
            with pytest.raises(AssertionError):  # the restore does setattr(opts, k, v) unconditionally
                host.process_images(unchanged)


# --- img2img: the mode-3 latent path ------------------------------------------------------------------------
def test_mode_3_encodes_the_source_at_its_size_then_bilinear_resizes_the_latent(monkeypatch, webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        calls = interpolate_spy(monkeypatch)
        p = host.new_img2img(
            png_image(64, 48), width=128, height=96, resize_mode=3, denoising_strength=0.5, steps=4
        )
        processed = host.process_images(p)
        assert tuple(host.record.encoded[0].shape) == (1, 3, 48, 64)  # the source is not resized
        resize = [c for c in calls if c["shape"] == (1, 4, 6, 8)]
        assert len(resize) == 1 and resize[0]["size"] == (12, 16) and resize[0]["mode"] == "bilinear"
        assert resize[0]["antialias"] is False
        expected = torch.nn.functional.interpolate(resize[0]["input"], size=(12, 16), mode="bilinear")
        assert torch.equal(host.runs[-1].x, expected)  # that latent reaches the sampler
        assert torch.equal(p.init_latent, expected)
        assert processed.images[0].size == (128, 96)
        assert p.fake_image_conditioning_source_shape == (
            1,
            3,
            48,
            64,
        )  # image_conditioning from the source size
        assert tuple(p.image_conditioning.shape) == (1, 5, 1, 1)


def test_other_resize_modes_resize_the_image_before_encoding_and_never_interpolate(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        calls = interpolate_spy(monkeypatch)
        p = host.new_img2img(png_image(64, 48), width=128, height=96, resize_mode=0, steps=4)
        host.process_images(p)
        assert tuple(host.record.encoded[0].shape) == (1, 3, 96, 128)
        assert not [c for c in calls if c["mode"] == "bilinear"]


@pytest.mark.parametrize(
    ("flavor", "kind", "scale", "shift", "channels"),
    [
        ("1.6.0", "sd1", 0.18215, 0.0, 4),
        ("1.10.1", "sdxl", 0.13025, 0.0, 4),
        ("1.10.1", "sd3", 1.5305, 0.0609, 16),
        ("forge", "sd1", 0.18215, 0.0, 4),
        ("forge", "flux", 0.3611, 0.1159, 16),
        ("reforge", "sdxl", 0.13025, 0.0, 4),
        ("reforge", "sd3", 1.5305, 0.0609, 16),
    ],
)
def test_init_latent_is_in_model_space_like_each_host_scales_it(flavor, kind, scale, shift, channels):
    with fake_webui_context(flavor, model=kind) as host:
        scheduler = (
            {"scheduler": "Simple"} if kind == "flux" else {}
        )  # Forge Flux needs a flow-aware schedule
        p = host.new_img2img(png_image(64, 64), width=64, height=64, resize_mode=3, steps=4, **scheduler)
        host.process_images(p)
        raw = host.sd_models.fake_vae_encode(host.record.encoded[0], channels)
        assert p.init_latent.shape[1] == channels
        assert torch.allclose(p.init_latent, (raw - shift) * scale, atol=1e-5)


@pytest.mark.parametrize("flavor", ["1.6.0", "1.10.1", "forge", "reforge"])
def test_model_flags_and_scale_attributes_match_each_host(flavor):
    with fake_webui_context(flavor, model="sdxl") as host:
        m = host.sd_model
        assert m.is_sdxl and not m.is_sd1 and not m.is_sd2
        assert hasattr(m, "is_ssd") == (flavor in ("1.10.1", "reforge"))
        assert hasattr(m, "is_sd3") == (flavor != "1.6.0")
        assert hasattr(m, "latent_channels") == (flavor in ("1.10.1", "reforge"))
        assert hasattr(m, "scale_factor") == (flavor != "forge")
        if flavor == "forge":
            assert m.forge_objects.vae.first_stage_model.scaling_factor == 0.13025
            assert m.forge_objects.vae.latent_channels == 4 and m.is_inpaint is False
        if flavor == "reforge":
            assert m.forge_objects.unet.model.latent_format.scale_factor == 0.13025
    if flavor == "forge":
        with fake_webui_context("forge", model="flux") as host:
            m = host.sd_model
            assert not (m.is_sd1 or m.is_sd2 or m.is_sdxl or m.is_sd3)
            assert m.forge_objects.vae.first_stage_model.shift_factor == 0.1159
    if flavor == "1.10.1":
        with fake_webui_context("1.10.1", model="sd3") as host:
            assert (
                not hasattr(host.sd_model, "scale_factor")
                and host.sd_model.latent_format.shift_factor == 0.0609
            )


def test_mode_3_mask_follows_the_resized_latent_shape():
    with fake_webui_context("1.10.1") as host:
        from PIL import Image

        mask = Image.new("L", (128, 96), 0)
        mask.paste(255, (32, 24, 96, 72))
        p = host.new_img2img(
            png_image(64, 48),
            mask=mask,
            width=128,
            height=96,
            resize_mode=3,
            steps=4,
            inpaint_full_res=False,
            inpainting_fill=1,
            denoising_strength=0.5,
        )
        processed = host.process_images(p)
        assert tuple(p.mask.shape) == (4, 12, 16) and tuple(p.nmask.shape) == (4, 12, 16)
        assert p.mask_for_overlay.size == (64, 48)  # 1.9.3+: resized to the source size
        assert processed.images[0].size == (128, 96)


def test_mode_3_inpaint_with_a_differently_sized_source_fails_on_1_6_like_the_real_paste():
    with fake_webui_context("1.6.0") as host:
        from PIL import Image

        mask = Image.new("L", (128, 96), 255)
        p = host.new_img2img(
            png_image(64, 48),
            mask=mask,
            width=128,
            height=96,
            resize_mode=3,
            steps=4,
            inpaint_full_res=False,
            inpainting_fill=1,
        )
        with pytest.raises(ValueError, match="images do not match"):
            host.process_images(p)


# --- steps --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fix", "denoise", "launch", "schedule_steps"),
    [(False, 0.5, 3, 4), (True, 0.5, 4, 8), (False, 0.3, 4, 10), (True, 0.3, 10, 33)],
)
def test_img2img_fix_steps_off_runs_denoise_times_steps_and_on_runs_the_slider_count(
    webui_flavor, fix, denoise, launch, schedule_steps
):
    steps = 4 if denoise == 0.5 else 10
    with fake_webui_context(webui_flavor) as host:
        host.opts.data["img2img_fix_steps"] = fix
        host.process_images(host.new_img2img(width=64, height=64, steps=steps, denoising_strength=denoise))
        run = host.runs[-1]
        assert run.launch_steps == launch and run.model_evaluations == launch
        assert run.steps == schedule_steps and len(run.schedule) == launch + 1


def test_setup_img2img_steps_is_the_real_formula():
    with fake_webui_context("1.10.1") as host:
        setup = host.sd_samplers_common.setup_img2img_steps

        class P:
            steps, denoising_strength = 20, 0.4

        assert setup(P()) == (20, 8)
        assert setup(P(), 20) == (50, 19)  # an explicit steps= behaves like img2img_fix_steps
        P.denoising_strength = 1.0
        assert setup(P(), 20) == (20, 19)
        P.denoising_strength = 0.0
        assert setup(P(), 20) == (0, 19)


# --- interrupts and exceptions ------------------------------------------------------------------------------
def test_interrupted_exception_is_a_base_exception_caught_in_the_sampler(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        exc = host.sd_samplers_common.InterruptedException
        assert issubclass(exc, BaseException) and not issubclass(exc, Exception)
        host.interrupt_at(1)
        p = host.new_img2img(
            width=64,
            height=64,
            steps=10,
            denoising_strength=1.0,
            override_settings={"img2img_fix_steps": True},
        )
        processed = host.process_images(p)
        run = host.runs[-1]
        assert run.interrupted and run.model_evaluations == 2 and len(processed.images) == 1
        assert host.opts.img2img_fix_steps is False  # the job ended normally: overrides restored


def test_interrupt_in_the_first_pass_skips_the_hires_pass():
    with fake_webui_context("1.10.1") as host:
        host.interrupt_at(1)
        processed = host.process_images(
            host.new_txt2img(width=64, height=64, steps=6, enable_hr=True, denoising_strength=0.5)
        )
        assert len(host.runs) == 1 and host.runs[0].interrupted and processed.images[0].size == (64, 64)


def test_process_images_propagates_other_exceptions_and_still_restores_overrides(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        host.raise_at(2, RuntimeError("CUDA out of memory (fake)"))
        p = host.new_img2img(width=64, height=64, steps=10, override_settings={"img2img_fix_steps": True})
        with pytest.raises(RuntimeError, match="out of memory"):
            host.process_images(p)
        assert host.opts.img2img_fix_steps is False


def test_a_ui_job_begins_with_interrupted_cleared(tmp_path):
    with fake_webui_context("1.10.1") as host:
        host.start(ui_values={})
        host.state.interrupted = True  # a previous job was interrupted
        processed = host.img2img(width=64, height=64, steps=4)
        assert len(processed.images) == 1 and not host.runs[-1].interrupted


# --- infotext -----------------------------------------------------------------------------------------------
def test_infotext_writes_extra_params_and_resolves_callables_and_lists_from_1_9(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        p = host.new_img2img(width=64, height=64, steps=4, batch_size=2)
        p.extra_generation_params.update(
            {
                "Latent upscale method": "bislerp",
                "Per image": ["a", "b"],
                "Computed": lambda p, index, **kwargs: f"{p.steps}-{index}",
                "Quoted": "x, y: z",
            }
        )
        processed = host.process_images(p)
        first, second = (host.parse_infotext(t) for t in processed.infotexts)
        assert first["Latent upscale method"] == "bislerp" and first["Quoted"] == "x, y: z"
        if webui_flavor == "1.6.0":
            assert '"Per image": ["a", "b"]' not in processed.infotexts[0]
            assert (
                'Per image: ["a", "b"]' in processed.infotexts[0]
            )  # 1.6 writes the list itself (json.dumps)
            assert first["Computed"].startswith("<function")
        else:
            assert (first["Per image"], second["Per image"]) == ("a", "b")
            assert (first["Computed"], second["Computed"]) == ("4-0", "4-1")
        assert ("Schedule type" in host.parse_infotext(processed.info)) == (webui_flavor != "1.6.0")
        assert "Schedule type: Automatic" in processed.info or webui_flavor == "1.6.0"


def test_processed_js_is_the_json_the_api_returns():
    import json

    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(width=64, height=64, steps=4)
        p.extra_generation_params["Latent upscale method"] = "lanczos"
        info = json.loads(host.process_images(p).js())
        assert info["extra_generation_params"]["Latent upscale method"] == "lanczos"
        assert info["steps"] == 4 and info["infotexts"][0].startswith("Steps: 4, Sampler: Euler")


def test_parse_generation_parameters_reads_back_sizes_quotes_and_defaults():
    with fake_webui_context("1.10.1") as host:
        params = host.parse_infotext(
            "a cat\nNegative prompt: dog\nSteps: 4, Size: 64x32, Latent upscale method: "
            '"lanczos, a=3", Latent upscale steps fixed: True'
        )
        assert params["Prompt"] == "a cat" and params["Negative prompt"] == "dog"
        assert (params["Size-1"], params["Size-2"]) == ("64", "32")
        assert params["Latent upscale method"] == "lanczos, a=3" and params["Schedule type"] == "Automatic"


def test_infotext_module_names_per_flavor(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        old = host.module("modules.generation_parameters_copypaste")
        if webui_flavor == "1.6.0":
            with pytest.raises(ImportError):
                host.module("modules.infotext_utils")
            assert not hasattr(old, "PasteField")
        else:
            assert old is host.module("modules.infotext_utils") and hasattr(old, "PasteField")


def test_extension_preload_adds_command_line_flags_before_they_are_parsed(tmp_path):
    ext = make_extension(tmp_path, "ext", {
        "preload.py": """
            def preload(parser):
                parser.add_argument("--latent-upscale-models-path", type=str, default=None)
        """,
    })  # fmt: skip
    with fake_webui_context("1.10.1", extensions=(ext,), args=["--latent-upscale-models-path", "/x"]) as host:
        assert host.cmd_opts.latent_upscale_models_path == "/x"
