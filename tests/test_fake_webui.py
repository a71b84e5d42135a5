"""Tests of the fake WebUI host itself: each seam behaves like the real host code the glue relies on.

Every test names the behaviour it proves. ``webui_flavor`` parametrises over 1.6.0, 1.10.1, Forge and reForge
where the real hosts agree, and the expectations branch where they differ. Tests that build a gradio UI or
call the API import real gradio (skipped when it is not installed).
"""

import importlib.machinery
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tests.helpers.webui import FAKE_ROOT, REPO_ROOT, png_image, require_webui_gradio
from tests.helpers.webui import fake_webui as _fake_webui


def fake_webui_context(*args, **kwargs):
    """A fake host WITHOUT this repository's extension (these tests are about the host, not the glue)."""
    kwargs.setdefault("extensions", ())
    return _fake_webui(*args, **kwargs)


@pytest.fixture
def neo_allowed(monkeypatch):
    """Let ``fake_webui("forge-neo")`` open while ``tests/helpers/webui.py`` does not list it yet."""
    import tests.helpers.webui as helpers

    if "forge-neo" not in helpers.FLAVORS:
        monkeypatch.setattr(helpers, "FLAVORS", (*helpers.FLAVORS, "forge-neo"))


# names a WebUI (A1111, Forge, reForge, and the repositories it puts on sys.path) imports from its own root
HOST_TOP_LEVEL_NAMES = (
    "modules",
    "launch",
    "webui",
    "k_diffusion",
    "k_diff",
    "backend",
    "modules_forge",
    "ldm_patched",
    "packages_3rdparty",
    "spaces",
    "ldm",
    "sgm",
    "repositories",
    "test",
    "extensions_builtin",
    "configs",
    "html",
    "javascript",
    "localizations",
    "embeddings",
    "textual_inversion_templates",
    "download_supported_configs",
)
HOST_SCRIPT_NAMES = (
    "xyz_grid",
    "outpainting_mk_2",
    "poor_mans_outpainting",
    "postprocessing_upscale",
    "prompt_matrix",
    "prompts_from_file",
    "sd_upscale",
    "img2imgalt",
    "loopback",
    "custom_code",
)


def make_extension(tmp_path, name, files):
    root = tmp_path / name
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def loaded_script(host, filename):
    """The module object the fake loader created for an extension's ``scripts/<filename>``."""
    return next(d.module for d in host.scripts.scripts_data if d.path.endswith(filename))


def interpolate_spy(monkeypatch):
    """Record every torch.nn.functional.interpolate call (the glue's interception point)."""
    calls = []
    real = torch.nn.functional.interpolate

    def spy(
        input,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        calls.append(
            {"shape": tuple(input.shape), "size": size, "mode": mode, "antialias": antialias, "input": input}
        )
        return real(
            input,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
            antialias=antialias,
        )

    monkeypatch.setattr(torch.nn.functional, "interpolate", spy)
    return calls


# --- the fake must never shadow the real host ---------------------------------------------------------------
def test_repository_root_holds_no_package_or_module_named_like_a_webui_one():
    for name in ("modules", "launch.py", "webui.py", "modules.py", "k_diffusion"):
        assert not (REPO_ROOT / name).exists(), f"{name} at the repository root would shadow the WebUI's"
    for name in HOST_TOP_LEVEL_NAMES:
        spec = importlib.machinery.PathFinder.find_spec(name, [str(REPO_ROOT)])
        # a namespace portion (a plain folder, e.g. models/) merges with the host's; a package would shadow it
        assert spec is None or spec.origin in (None, "namespace"), (
            f"{name} importable from the repository root"
        )
    scripts_spec = importlib.machinery.PathFinder.find_spec("scripts", [str(REPO_ROOT)])
    if scripts_spec is not None:
        assert scripts_spec.origin in (None, "namespace"), (
            "scripts/ must not be a regular package (no __init__.py)"
        )
        for name in HOST_SCRIPT_NAMES:
            locations = list(scripts_spec.submodule_search_locations)
            assert importlib.machinery.PathFinder.find_spec(f"scripts.{name}", locations) is None


def test_fake_host_is_importable_only_inside_the_fixture_and_leaves_nothing_behind():
    load_before, path_before = torch.load, list(sys.path)
    assert importlib.util.find_spec("modules") is None
    with fake_webui_context("1.10.1") as host:
        import modules.shared

        assert modules.shared.__file__.startswith(str(FAKE_ROOT))
        assert host.opts is modules.shared.opts
        assert torch.load is not load_before  # A1111 replaces torch.load with modules.safe.load
    assert "modules" not in sys.modules and "launch" not in sys.modules and "k_diffusion" not in sys.modules
    assert torch.load is load_before and sys.path == path_before
    assert importlib.util.find_spec("modules") is None


def test_each_host_is_a_fresh_copy_configured_for_its_flavor(fake_webui):
    with fake_webui_context("1.6.0") as first:
        first_shared = first.shared
        assert first.flavor.name == "1.6.0" and not hasattr(first_shared, "hf_endpoint")
    host = fake_webui("forge", extensions=())  # the fixture: closed after the test
    assert host.flavor.is_forge and host.shared is not first_shared and hasattr(host.shared, "hf_endpoint")
    with pytest.raises(RuntimeError, match="already open"), fake_webui_context("1.10.1"):
        pass


# --- script loader ------------------------------------------------------------------------------------------
def test_loader_registers_every_script_subclass_in_the_namespace_including_an_imported_base_class(tmp_path):
    ext = make_extension(
        tmp_path,
        "my-ext",
        {
            "scripts/pitfall.py": """
            from modules.scripts import Script, AlwaysVisible

            class Dropdown(Script):
                def title(self): return "Pitfall Dropdown"

            class Always(Script):
                def title(self): return "Pitfall Always"
                def show(self, is_img2img): return AlwaysVisible
        """,
            "scripts/sub/ignored.py": "raise RuntimeError('only top-level scripts load')",
        },
    )
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start(ui_values={})
        data = [d for d in host.scripts.scripts_data if d.path.endswith("pitfall.py")]
        classes = {d.script_class for d in data}
        assert host.scripts.Script in classes  # importing Script by name registers it (scripts.py :498-503)
        assert {c.__name__ for c in classes} == {"Script", "Dropdown", "Always"}
        assert all(d.module.__name__ == "pitfall.py" and d.basedir == str(ext) for d in data)
        assert "pitfall.py" not in sys.modules
        # the registered base class becomes a broken dropdown entry, reported by the host
        assert any("title" in message for message, _ in host.reported_errors)
        assert not any("ignored.py" in message for message, _ in host.reported_errors)


def test_extension_root_is_on_sys_path_only_while_its_script_file_runs(tmp_path):
    ext = make_extension(
        tmp_path,
        "ext",
        {
            "helper_pkg_fake/__init__.py": "VALUE = 42\n",
            "scripts/probe.py": """
            import sys
            import modules.scripts as scripts
            import helper_pkg_fake

            SEEN_PATH0 = sys.path[0]
            SEEN_BASEDIR = scripts.basedir()
        """,
        },
    )
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start(ui_values={})
        module = host.scripts.script_loading.loaded_scripts[str(ext / "scripts" / "probe.py")]
        assert str(ext) == module.SEEN_PATH0 and str(ext) == module.SEEN_BASEDIR
        assert str(ext) not in sys.path and host.scripts.basedir() == host.paths.script_path
        assert (
            "helper_pkg_fake" in sys.modules
        )  # imported packages stay (that is why Reload UI does not re-run them)
    sys.modules.pop("helper_pkg_fake", None)


def test_reload_ui_fires_script_unloaded_then_reexecutes_scripts_but_not_imported_packages(tmp_path):
    ext = make_extension(
        tmp_path,
        "ext",
        {
            "counter_pkg_fake/__init__.py": "IMPORTS = 0\nEVENTS = []\nIMPORTS += 1\n",
            "scripts/reloadable.py": """
            import counter_pkg_fake
            from modules import script_callbacks

            counter_pkg_fake.EVENTS.append("executed")
            script_callbacks.on_script_unloaded(lambda: counter_pkg_fake.EVENTS.append("unloaded"))
            script_callbacks.on_before_ui(lambda: counter_pkg_fake.EVENTS.append("before_ui"))
        """,
        },
    )
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start(ui_values={})
        import counter_pkg_fake

        host.reload_ui()
        host.reload_ui()
        assert counter_pkg_fake.EVENTS == [
            "executed",
            "before_ui",
            "unloaded",
            "executed",
            "before_ui",
            "unloaded",
            "executed",
            "before_ui",
        ]
        assert counter_pkg_fake.IMPORTS == 1
        # load_scripts cleared the callbacks before re-executing: one registration each, not three
        assert len(host.script_callbacks.callback_map["callbacks_script_unloaded"]) == 1
    sys.modules.pop("counter_pkg_fake", None)


def test_script_callbacks_accept_a_name_keyword_only_from_1_9(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        cb = host.script_callbacks
        if webui_flavor == "1.6.0":
            with pytest.raises(TypeError):
                cb.on_script_unloaded(lambda: None, name="x")
        else:
            cb.on_script_unloaded(lambda: None, name="x")
            assert cb.callback_map["callbacks_script_unloaded"][0].name.endswith("/x")


def test_callbacks_are_reported_not_raised_and_before_ui_runs_in_reverse_order():
    with fake_webui_context("1.10.1") as host:
        cb, order = host.script_callbacks, []
        cb.on_before_ui(lambda: order.append("first"))
        cb.on_before_ui(lambda: order.append("second"))
        cb.on_ui_settings(lambda: 1 / 0)
        cb.before_ui_callback()
        cb.ui_settings_callback()
        assert order == ["second", "first"]
        assert any("ui_settings" in message for message, _ in host.reported_errors)


# --- script runner ------------------------------------------------------------------------------------------
RUNNER_EXT = {
    "scripts/runner_probe.py": """
        import modules.scripts as scripts
        from modules import processing

        CALLS = []

        class Drop(scripts.Script):
            def title(self): return "Probe Dropdown"
            def show(self, is_img2img): return True
            def run(self, p, a, b):
                CALLS.append(("run", a, b))
                return None if a == "none" else processing.process_images(p)
            def process(self, p, *args): CALLS.append(("dropdown-process",))

        class Always(scripts.Script):
            def title(self): return "Probe Always"
            def show(self, is_img2img): return scripts.AlwaysVisible
            def setup(self, p, x): CALLS.append(("setup", x))
            def before_process(self, p, x): CALLS.append(("before_process", x))
            def process(self, p, x): CALLS.append(("process", x))
            def before_hr(self, p, x): CALLS.append(("before_hr", x, p.is_hr_pass))
            def postprocess(self, p, processed, x): CALLS.append(("postprocess", x, len(processed.images)))
            def process_batch(self, p, x, **kwargs):
                if x == "boom":
                    raise RuntimeError("hook failure")
    """,
}
RUNNER_UI = {"Probe Dropdown": ["a0", "b0"], "Probe Always": ["x0"]}


def test_dropdown_run_gets_its_args_slice_and_hooks_run_for_alwayson_scripts_only(tmp_path, webui_flavor):
    ext = make_extension(tmp_path, "ext", RUNNER_EXT)
    with fake_webui_context(webui_flavor, extensions=(ext,)) as host:
        host.start(ui_values=RUNNER_UI)
        calls = loaded_script(host, "runner_probe.py").CALLS
        processed = host.img2img(
            script="Probe Dropdown",
            script_args=["A", "B"],
            alwayson={"Probe Always": ["X"]},
            width=64,
            height=64,
            steps=4,
        )
        assert len(processed.images) == 1
        assert calls == [
            ("setup", "X"),
            ("run", "A", "B"),
            ("before_process", "X"),
            ("process", "X"),
            ("postprocess", "X", 1),
        ]  # never "dropdown-process"
        runner = host.runner("img2img")
        drop = host.script("Probe Dropdown")
        assert host.default_args("img2img")[drop.args_from : drop.args_to] == ["a0", "b0"]
        assert drop in runner.selectable_scripts and host.script("Probe Always") in runner.alwayson_scripts


def test_ui_job_falls_back_to_process_images_when_run_returns_none(tmp_path):
    ext = make_extension(tmp_path, "ext", RUNNER_EXT)
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start(ui_values=RUNNER_UI)
        processed = host.img2img(
            script="Probe Dropdown", script_args=["none", "B"], width=64, height=64, steps=4
        )
        assert len(processed.images) == 1 and len(host.runs) == 1


def test_script_hook_exceptions_are_reported_and_the_job_goes_on(tmp_path):
    ext = make_extension(tmp_path, "ext", RUNNER_EXT)
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start(ui_values=RUNNER_UI)
        processed = host.img2img(alwayson={"Probe Always": ["boom"]}, width=64, height=64, steps=4)
        assert len(processed.images) == 1
        assert any(message.startswith("Error running process_batch") for message, _ in host.reported_errors)


def test_before_hr_runs_for_alwayson_scripts_during_the_hires_pass(tmp_path):
    ext = make_extension(tmp_path, "ext", RUNNER_EXT)
    with fake_webui_context("1.6.0", extensions=(ext,)) as host:
        host.start(ui_values=RUNNER_UI)
        calls = loaded_script(host, "runner_probe.py").CALLS
        host.txt2img(
            alwayson={"Probe Always": ["X"]},
            width=64,
            height=64,
            steps=4,
            enable_hr=True,
            hr_upscaler="Latent",
            denoising_strength=0.5,
        )
        assert ("before_hr", "X", True) in calls


def test_process_before_every_sampling_exists_from_1_10_and_forge_calls_it_twice_in_hires(
    tmp_path, webui_flavor
):
    ext = make_extension(
        tmp_path,
        "ext",
        {
            "scripts/pbes.py": """
            import modules.scripts as scripts
            CALLS = []
            class Always(scripts.Script):
                def title(self): return "PBES"
                def show(self, is_img2img): return scripts.AlwaysVisible
                def process_before_every_sampling(self, p, *args, **kwargs):
                    CALLS.append((p.is_hr_pass, tuple(kwargs["x"].shape)))
        """,
        },
    )
    with fake_webui_context(webui_flavor, extensions=(ext,)) as host:
        host.start(ui_values={"PBES": []})
        calls = loaded_script(host, "pbes.py").CALLS
        host.txt2img(width=64, height=64, steps=4, enable_hr=True, denoising_strength=0.5)
        has_hook = webui_flavor != "1.6.0"
        assert hasattr(host.scripts.Script, "process_before_every_sampling") == has_hook
        expected = {
            "1.6.0": [],
            "1.10.1": [(False, (1, 4, 8, 8)), (True, (1, 4, 16, 16))],
            "reforge": [(False, (1, 4, 8, 8)), (True, (1, 4, 16, 16))],
            "forge": [(False, (1, 4, 8, 8)), (True, (1, 4, 16, 16)), (True, (1, 4, 16, 16))],
            # Neo processing.py sample_hr_pass also calls it twice (after before_hr, then again)
            "forge-neo": [(False, (1, 4, 8, 8)), (True, (1, 4, 16, 16)), (True, (1, 4, 16, 16))],
        }
        assert calls == expected[webui_flavor]


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
def test_override_settings_fail_under_freeze_settings_even_unchanged_except_on_forge(neo_allowed, flavor):
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


# --- schedules and the override -----------------------------------------------------------------------------
def _karras(n, sigma_min=0.1, sigma_max=10.0):
    ramp = torch.linspace(0, 1, n)
    sigmas = (sigma_max ** (1 / 7) + ramp * (sigma_min ** (1 / 7) - sigma_max ** (1 / 7))) ** 7
    return torch.cat([sigmas, torch.zeros(1)])


def test_kdiffusion_samplers_call_the_override_first_and_walk_its_tail(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        asked = []

        def override(steps):
            asked.append((steps, host.runs[-1].is_hr_pass))
            assert p.sampler.model_wrap.sigmas.shape == (1000,)  # p.sampler is the calling sampler
            return _karras(steps)

        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5)
        p.sampler_noise_scheduler_override = override
        host.process_images(p)
        run = host.runs[-1]
        assert asked == [(10, False)] and run.override_used
        assert torch.allclose(run.schedule, _karras(10)[10 - 5 - 1 :])


def test_discarding_samplers_ask_the_override_for_one_more_step_and_drop_the_penultimate(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        asked = []
        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0, sampler_name="DPM2")
        p.sampler_noise_scheduler_override = lambda steps: asked.append(steps) or _karras(steps)
        host.process_images(p)
        full = _karras(int(10 / 0.999) + 1)
        assert asked == [11] and torch.allclose(host.runs[-1].sigmas, torch.cat([full[:-2], full[-1:]]))


@pytest.mark.parametrize("sampler", ["DDIM", "PLMS", "UniPC"])
def test_timestep_samplers_ignore_the_override(sampler):
    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5, sampler_name=sampler)
        p.sampler_noise_scheduler_override = lambda steps: pytest.fail(
            "timestep samplers never call the override"
        )
        host.process_images(p)
        run = host.runs[-1]
        assert run.kind == "timesteps" and not run.override_used and run.launch_steps == 6
        assert not hasattr(host.sd_samplers.create_sampler(sampler, host.sd_model).model_wrap, "sigmas")


def test_scheduler_choice_is_p_scheduler_from_1_9_and_the_k_sched_type_setting_before(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        if webui_flavor == "1.6.0":
            host.opts.data["k_sched_type"] = "karras"
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0)
        else:
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0, scheduler="Karras")
        processed = host.process_images(p)
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        n = int(10 / 0.999)
        expected = _karras(n, mw.sigmas[0].item(), mw.sigmas[-1].item())
        assert torch.allclose(host.runs[-1].sigmas, expected, atol=1e-4)
        info = host.parse_infotext(processed.info)
        assert info["Schedule type"] == ("karras" if webui_flavor == "1.6.0" else "Karras")
        assert (host.sd_schedulers is None) == (webui_flavor == "1.6.0")


def test_schedule_type_infotext_shows_p_scheduler_even_when_the_override_is_active():
    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(width=64, height=64, steps=10, scheduler="Karras")
        p.sampler_noise_scheduler_override = _karras
        info = host.parse_infotext(host.process_images(p).info)
        assert info["Schedule type"] == "Karras"


def test_sd_schedulers_module_is_absent_on_1_6():
    with fake_webui_context("1.6.0") as host:
        with pytest.raises(ImportError):
            host.module("modules.sd_schedulers")
        assert "modules.sd_schedulers" not in sys.modules
        assert not hasattr(host.new_txt2img(), "scheduler")


@pytest.mark.parametrize("flavor", ["1.6.0", "1.10.1", "reforge"])
def test_model_wrap_exposes_the_scaled_linear_sigma_table(flavor):
    with fake_webui_context(flavor) as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        ac = host.sd_models.scaled_linear_alphas_cumprod()
        assert torch.allclose(mw.sigmas, ((1 - ac) / ac) ** 0.5) and bool(
            (mw.sigmas[1:] > mw.sigmas[:-1]).all()
        )
        assert torch.allclose(mw.log_sigmas, mw.sigmas.log())
        assert mw.sigma_min == mw.sigmas[0] and mw.sigma_max == mw.sigmas[-1]
        t = mw.sigma_to_t(torch.tensor(1.0))
        assert torch.allclose(mw.t_to_sigma(t), torch.tensor(1.0), atol=1e-4)
        sig = mw.get_sigmas(5)
        assert sig.shape == (6,) and sig[-1] == 0 and torch.isclose(sig[0], mw.sigmas[-1])


def test_forge_schedule_linker_has_the_names_but_sigma_min_raises_like_real_forge():
    with fake_webui_context("forge") as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(mw).__name__ == "ForgeScheduleLinker" and mw.inner_model is host.sd_model
        assert mw.sigmas.shape == (1000,) and torch.allclose(mw.log_sigmas, mw.sigmas.log())
        assert mw.sigma_to_t(mw.sigmas[10:11]).item() == 10  # predictor.timestep quantizes
        with pytest.raises(TypeError):
            _ = mw.sigma_min  # real Forge: property calls predictor.sigma_min(), a tensor


def test_sd3_on_1_10_uses_its_own_flow_denoiser_and_adds_noise_its_way():
    with fake_webui_context("1.10.1", model="sd3") as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(mw).__name__ == "DiscreteSchedule" and float(mw.sigmas[-1]) == pytest.approx(1.0)
        p = host.new_img2img(width=64, height=64, steps=4, denoising_strength=0.5)
        processed = host.process_images(p)
        assert host.runs[-1].x.shape[1] == 16 and processed.images[0].size == (64, 64)


# --- hires fix ----------------------------------------------------------------------------------------------
def test_hires_latent_upscaler_resizes_with_its_mode_to_the_target_latent_size(monkeypatch, webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        calls = interpolate_spy(monkeypatch)
        p = host.new_txt2img(
            width=64,
            height=48,
            steps=6,
            enable_hr=True,
            hr_scale=2.0,
            denoising_strength=0.5,
            hr_upscaler="Latent (nearest-exact)",
            hr_second_pass_steps=4,
        )
        processed = host.process_images(p)
        first, hires = host.runs
        resize = [c for c in calls if c["shape"] == (1, 4, 6, 8)]
        assert len(resize) == 1 and resize[0]["size"] == (12, 16)
        assert resize[0]["mode"] == "nearest-exact" and resize[0]["antialias"] is False
        assert torch.equal(
            hires.x, torch.nn.functional.interpolate(first.result, size=(12, 16), mode="nearest-exact")
        )
        assert hires.is_hr_pass and not first.is_hr_pass and hires.requested_steps == 4
        assert hires.launch_steps == 4 and hires.steps == 8  # the hires pass always behaves as fixed steps
        assert processed.images[0].size == (128, 96)
        info = host.parse_infotext(processed.info)
        assert info["Hires upscaler"] == "Latent (nearest-exact)" and info["Hires upscale"] == "2.0"


def test_hires_upscaler_none_uses_the_default_latent_mode_bilinear(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(width=64, height=64, steps=4, enable_hr=True, denoising_strength=0.5)
        )
        assert [c["mode"] for c in calls if c["size"] == (16, 16)] == ["bilinear"]


def test_unknown_hr_upscaler_raises_the_real_message(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        p = host.new_txt2img(width=64, height=64, steps=4, enable_hr=True, hr_upscaler="Latent (bislerp)")
        with pytest.raises(Exception, match="could not find upscaler named Latent \\(bislerp\\)"):
            host.process_images(p)


def test_a_new_latent_upscale_modes_entry_is_passed_straight_to_torch(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        host.latent_upscale_modes["Latent (area)"] = {"mode": "area", "antialias": False}
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(
                width=64,
                height=64,
                steps=4,
                enable_hr=True,
                hr_upscaler="Latent (area)",
                denoising_strength=0.5,
            )
        )
        assert [c["mode"] for c in calls if c["size"] == (16, 16)] == ["area"]
        host.latent_upscale_modes["Latent (bislerp)"] = {"mode": "bislerp", "antialias": False}
        with pytest.raises(NotImplementedError):
            host.process_images(
                host.new_txt2img(
                    width=64,
                    height=64,
                    steps=4,
                    enable_hr=True,
                    hr_upscaler="Latent (bislerp)",
                    denoising_strength=0.5,
                )
            )


def test_non_latent_hires_upscaler_decodes_resizes_and_reencodes_without_interpolating(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(
                width=64, height=64, steps=4, enable_hr=True, hr_upscaler="Lanczos", denoising_strength=0.5
            )
        )
        assert not [c for c in calls if c["size"] == (16, 16)]
        assert tuple(host.record.encoded[-1].shape) == (1, 3, 128, 128) and host.runs[-1].x.shape == (
            1,
            4,
            16,
            16,
        )


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


# --- install.py / launch ------------------------------------------------------------------------------------
INSTALL_PY = """
    import launch

    for dist in ("safetensors", "huggingface-hub"):
        if not launch.is_installed(dist):
            launch.run_pip(f"install {dist}", f"{dist} for the test extension")
"""


def test_install_py_runs_in_a_subprocess_with_the_fake_launch_and_reports_pip_calls(tmp_path):
    ext = make_extension(tmp_path, "ext", {"install.py": INSTALL_PY})
    with fake_webui_context("1.10.1") as host:
        result = host.run_installer(ext, missing=("huggingface-hub",), installed=("safetensors",))
        assert result["returncode"] == 0, result["stderr"]
        assert result["pip_calls"] == [("install huggingface-hub", "huggingface-hub for the test extension")]
        assert host.run_installer(ext, missing=("safetensors",), skip_install=True)["pip_calls"] == []
        assert host.module("modules.launch_utils").run_extension_installer(str(ext)) is not None


def test_install_py_can_run_in_process_and_is_installed_follows_the_flavor(tmp_path):
    ext = make_extension(tmp_path, "ext", {"install.py": INSTALL_PY})
    with fake_webui_context("1.6.0") as host:
        result = host.run_installer(ext, in_process=True, missing=("safetensors", "huggingface-hub"))
        assert [c[0] for c in result["pip_calls"]] == ["install safetensors", "install huggingface-hub"]
        assert host.launch.is_installed("torch") and not host.launch.is_installed("no_such_dist_xyz")


# --- API ----------------------------------------------------------------------------------------------------
API_EXT = {
    "scripts/api_probe.py": """
        import gradio as gr
        import modules.scripts as scripts
        from modules import processing

        UI_CALLS = []

        class Returns(scripts.Script):
            def title(self): return "Probe Returns"
            def ui(self, is_img2img):
                UI_CALLS.append(is_img2img)
                a = gr.Slider(label="A", value=3, minimum=0, maximum=10)
                return [a, gr.Textbox(label="B", value="b0")]
            def run(self, p, a, b):
                p.extra_generation_params["Probe"] = f"{a}/{b}"
                return processing.process_images(p)

        class ReturnsNone(scripts.Script):
            def title(self): return "Probe None"
            def ui(self, is_img2img): return [gr.Checkbox(label="C", value=False)]
            def run(self, p, c):
                processing.process_images(p)

        class Always(scripts.Script):
            def title(self): return "Probe Always"
            def show(self, is_img2img): return scripts.AlwaysVisible
            def ui(self, is_img2img): return [gr.Checkbox(label="on", value=False)]
            def process(self, p, on):
                p.extra_generation_params["Always"] = str(on)
    """,
}


@pytest.fixture
def api_host(tmp_path):
    require_webui_gradio()
    ext = make_extension(tmp_path, "ext", API_EXT)
    with fake_webui_context("1.10.1", extensions=(ext,)) as host:
        host.start()
        yield host


def test_api_script_name_is_a_case_insensitive_title_and_args_land_in_the_scripts_slice(api_host):
    module = loaded_script(api_host, "api_probe.py")
    ui_calls_after_start = len(module.UI_CALLS)
    out = api_host.api_img2img(
        {
            "script_name": "PROBE returns",
            "script_args": [7, "x"],
            "steps": 4,
            "width": 64,
            "height": 64,
            "alwayson_scripts": {"probe always": {"args": [True]}},
        }
    )
    info = api_host.parse_infotext(out["info"]["infotexts"][0])
    assert info["Probe"] == "7/x" and info["Always"] == "True" and out["images"][0].size == (64, 64)
    assert (
        len(module.UI_CALLS) == ui_calls_after_start + 4
    )  # Api() called ui() twice per tab for the defaults


def test_api_defaults_alwayson_args_from_ui_values_and_rejects_a_selectable_alwayson(api_host):
    out = api_host.api_img2img({"steps": 4, "width": 64, "height": 64})
    assert api_host.parse_infotext(out["info"]["infotexts"][0])["Always"] == "False"
    http = api_host.module("modules.api.api").HTTPException
    with pytest.raises(http) as excinfo:
        api_host.api_img2img({"steps": 4, "alwayson_scripts": {"Probe Returns": {"args": [1, "a"]}}})
    assert excinfo.value.status_code == 422
    with pytest.raises(http) as excinfo:
        api_host.api_img2img({"script_name": "no such script"})
    assert excinfo.value.status_code == 422


def test_api_selectable_script_returning_none_raises_attribute_error_like_the_real_api(api_host):
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'images'"):
        api_host.api_img2img(
            {"script_name": "probe none", "script_args": [True], "steps": 4, "width": 64, "height": 64}
        )
    assert len(api_host.runs) == 1  # the job itself ran


def test_api_short_script_args_shift_every_later_argument(api_host):
    returns, none = api_host.script("Probe Returns"), api_host.script("Probe None")
    assert returns.args_to <= none.args_from
    args = api_host.api.init_script_args(
        type("Req", (), {"script_args": [9], "alwayson_scripts": {}})(),
        api_host.api.default_script_arg_img2img,
        returns,
        api_host.runner("img2img").selectable_scripts.index(returns),
        api_host.runner("img2img"),
    )
    assert args[returns.args_from : returns.args_to] == [9, False]  # "b0" is gone, None's arg moved left
    assert len(args) == len(api_host.api.default_script_arg_img2img) - 1


def test_api_txt2img_lists_latent_modes_per_request_and_rejects_unknown_hr_upscalers(api_host):
    api_host.latent_upscale_modes["Latent (lanczos)"] = {"mode": "bicubic", "antialias": True}
    assert {"name": "Latent (lanczos)"} in api_host.api.get_latent_upscale_modes()
    out = api_host.api_txt2img(
        {
            "steps": 4,
            "width": 64,
            "height": 64,
            "enable_hr": True,
            "hr_upscaler": "Latent (lanczos)",
            "denoising_strength": 0.5,
        }
    )
    assert out["images"][0].size == (128, 128)
    with pytest.raises(Exception, match="could not find upscaler named Nope"):
        api_host.api_txt2img(
            {"steps": 4, "width": 64, "height": 64, "enable_hr": True, "hr_upscaler": "Nope"}
        )


# --- UI with real gradio ------------------------------------------------------------------------------------
@pytest.mark.parametrize("flavor", ["1.10.1", "forge"])
def test_ui_builds_with_real_gradio_and_paste_back_restores_script_fields(tmp_path, flavor):
    gr = require_webui_gradio()
    ext = make_extension(
        tmp_path,
        "ext",
        {
            "scripts/paste_probe.py": """
            import gradio as gr
            import modules.scripts as scripts
            from modules.ui_components import FormRow, ToolButton

            class Drop(scripts.Script):
                def title(self): return "Paste Probe"
                def ui(self, is_img2img):
                    with FormRow():
                        choices = ["bilinear", "lanczos"]
                        method = gr.Dropdown(label="Method", choices=choices, value="bilinear")
                        ToolButton(value="x")
                    fixed = gr.Checkbox(label="Fixed", value=True)
                    self.infotext_fields = [
                        (method, "Latent upscale method"),
                        (fixed, "Latent upscale steps fixed"),
                    ]
                    self.paste_field_names = ["Latent upscale method"]
                    return [method, fixed]
        """,
        },
    )
    with fake_webui_context(flavor, extensions=(ext,)) as host:
        host.start()
        script = host.script("Paste Probe")
        assert isinstance(script.controls[0], gr.Dropdown) and script.api_info.args[0].choices == [
            "bilinear",
            "lanczos",
        ]
        pasted = dict(
            (id(c), v)
            for c, v in host.paste(
                "img2img",
                "x\nSteps: 4, Sampler: Euler, Script: Paste Probe, "
                "Latent upscale method: lanczos, Latent upscale steps fixed: False",
            )
        )
        assert pasted[id(script.controls[0])] == "lanczos" and pasted[id(script.controls[1])] is False
        assert "Latent upscale method" in host.runner("img2img").paste_field_names
        assert host.default_args("img2img")[script.args_from : script.args_to] == ["bilinear", True]


# --- xyz_grid -----------------------------------------------------------------------------------------------
def test_xyz_grid_is_found_by_the_real_idiom_and_appended_axes_apply_to_copies_of_p(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        host.start(ui_values={})
        xyz = host.xyz_grid
        assert xyz is not None and xyz.__name__ == "xyz_grid.py"
        seen = []
        axis = xyz.AxisOption(
            "[Latent Upscale] Method",
            str,
            lambda p, x, xs: (
                seen.append((p.steps, x)) or p.extra_generation_params.update({"Latent upscale method": x})
            ),
            choices=lambda: ["bilinear", "lanczos"],
        )
        xyz.axis_options.extend([axis])
        assert isinstance(xyz.AxisOptionImg2Img("x", int, xyz.apply_field("steps")), xyz.AxisOption)
        assert xyz.boolean_choice(reverse=True)() == ["False", "True"]
        with pytest.raises(ValueError):
            xyz.confirm_range(0, 3, "Depth")(None, [4])
        p = host.new_img2img(width=64, height=64, steps=4)
        result = xyz.run_axis(p, axis, "bilinear, lanczos")
        assert (
            seen == [(4, "bilinear"), (4, "lanczos")]
            and "Latent upscale method" not in p.extra_generation_params
        )
        assert [host.parse_infotext(t)["Script"] for t in result.infotexts] == ["X/Y/Z plot", "X/Y/Z plot"]
        if webui_flavor == "1.6.0":
            with pytest.raises(TypeError):
                xyz.AxisOption("y", str, xyz.apply_field("steps"), prepare=lambda v: v)
        else:
            assert xyz.AxisOption("y", str, xyz.apply_field("steps"), prepare=list).prepare is list


# --- the rest of the plumbing -------------------------------------------------------------------------------
def test_paths_and_shared_attributes_per_flavor(webui_flavor, tmp_path):
    with fake_webui_context(webui_flavor, data_dir=tmp_path / "data") as host:
        shared = host.shared
        assert shared.models_path == str(tmp_path / "data" / "models") == host.paths.models_path
        assert shared.extensions_dir == str(tmp_path / "data" / "extensions")
        assert hasattr(shared, "hf_endpoint") == (webui_flavor != "1.6.0")
        assert hasattr(shared.state, "stopping_generation") == (webui_flavor != "1.6.0")
        assert shared.latent_upscale_default_mode == "Latent" and len(shared.latent_upscale_modes) == 6
        assert shared.device == host.devices.device and host.devices.dtype == torch.float32
    with fake_webui_context("1.10.1", args=["--models-dir", str(tmp_path / "m")], half=True) as host:
        assert host.shared.models_path == str(tmp_path / "m") and host.devices.dtype_vae == torch.float16


def test_safe_load_replaces_torch_load_on_a1111_only_and_returns_none_for_unsafe_pickles(
    tmp_path, webui_flavor
):
    path = tmp_path / "w.pt"
    torch.save({"w": torch.ones(2)}, path)
    bad = tmp_path / "bad.pt"
    torch.save({"f": print}, bad)
    with fake_webui_context(webui_flavor) as host:
        safe = host.module("modules.safe")
        assert (torch.load is safe.load) == (webui_flavor in ("1.6.0", "1.10.1"))
        assert torch.equal(safe.load(str(path))["w"], torch.ones(2))
        assert safe.load(str(bad)) is None and host.reported_errors


def test_load_file_from_url_uses_the_local_file_or_a_download_dir_never_the_network(
    tmp_path, webui_flavor, monkeypatch
):
    with fake_webui_context(webui_flavor) as host:
        modelloader = host.module("modules.modelloader")
        url = "https://huggingface.co/x/y/resolve/main/w.safetensors"
        with pytest.raises(OSError, match="no network"):
            modelloader.load_file_from_url(url, model_dir=str(tmp_path / "models"))
        (tmp_path / "dl").mkdir()
        (tmp_path / "dl" / "w.safetensors").write_bytes(b"123")
        monkeypatch.setenv("FAKE_WEBUI_DOWNLOADS", str(tmp_path / "dl"))
        path = modelloader.load_file_from_url(url, model_dir=str(tmp_path / "models"))
        assert Path(path).read_bytes() == b"123" and modelloader.download_attempts == [url, url]
        if webui_flavor != "1.6.0":
            modelloader.load_file_from_url(url, model_dir=str(tmp_path / "models"), hash_prefix=None)
        if webui_flavor in ("forge", "reforge"):
            assert host.module("modules.util").load_file_from_url is modelloader.load_file_from_url


def test_a_plain_job_changes_none_of_the_host_objects_an_extension_might_patch():
    with fake_webui_context("1.10.1") as host:
        host.start(ui_values={})
        before = host.snapshot()
        host.img2img(width=64, height=64, steps=4, resize_mode=3)
        host.txt2img(width=64, height=64, steps=4, enable_hr=True, denoising_strength=0.5)
        assert host.snapshot() == before


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device to tell devices apart")
def test_get_sigmas_device_follows_each_host_with_a_gpu(webui_flavor):
    with fake_webui_context(webui_flavor, device="cuda") as host:
        p = host.new_img2img(width=64, height=64, steps=4, denoising_strength=1.0)
        p.sampler_noise_scheduler_override = lambda steps: _karras(steps).to("cuda")
        host.process_images(p)
        run = host.runs[-1]
        # 1.6 uses the override's tensor as returned; 1.10/Forge/reForge `.cpu()` it; Forge/reForge then
        # move it
        # to the latent's device for sampling
        assert run.sigmas_device.type == ("cuda" if webui_flavor == "1.6.0" else "cpu")
        assert run.schedule.device.type == ("cpu" if webui_flavor == "1.10.1" else "cuda")
        assert run.x_device.type == "cuda" and run.result.device.type == "cuda"


# --- timestep samplers (DDIM, PLMS, UniPC): how many model calls img2img really makes ---------------------


ALL_FLAVORS = ("1.6.0", "1.10.1", "forge", "forge-neo", "reforge")


def _real_timestep_calls(sampler, steps, denoise, fixed):
    """Model calls of one img2img job, derived from the real code (identical in every host):
    ``setup_img2img_steps`` (sd_samplers_common.py), ``get_timesteps`` + ``timesteps[:t_enc]``
    (sd_samplers_timesteps.py), and the walks of sd_samplers_timesteps_impl.py: ``ddim`` calls the model
    ``len(timesteps) - 1`` times; ``plms`` once more (its first step evaluates ``t_next`` too); ``unipc``
    ``len(timesteps)`` times (one at the start, one corrector call per step but the last)."""
    denoise = min(denoise, 0.999)
    total, t_enc = (int(steps / denoise), steps - 1) if fixed else (steps, int(denoise * steps))
    n = len(range(0, 1000, 1000 // total)[:t_enc])
    return n - 1 if sampler == "DDIM" else n


def _count_img2img_calls(host, sampler, steps, denoise, *, fixed, explicit_steps=None):
    host.opts.data["img2img_fix_steps"] = fixed
    p = host.new_img2img(width=64, height=64, steps=steps, denoising_strength=denoise, sampler_name=sampler)
    if explicit_steps is not None:
        # as an extension would: pass steps= to this job's sampler once the host's init() created it
        original_init = p.init

        def init(*args, **kwargs):
            result = original_init(*args, **kwargs)
            sample = p.sampler.sample_img2img
            p.sampler.sample_img2img = lambda *a, **kw: sample(*a, **{**kw, "steps": explicit_steps})
            return result

        p.init = init
    host.process_images(p)
    run = host.runs[-1]
    assert run.kind == "timesteps" and run.is_img2img
    return run.model_evaluations


@pytest.mark.parametrize("sampler", ["DDIM", "PLMS", "UniPC"])
@pytest.mark.parametrize("flavor", ALL_FLAVORS)
def test_timestep_samplers_make_as_many_model_calls_as_the_real_walks(neo_allowed, flavor, sampler):
    cases = [
        (6, 0.5, True),
        (30, 0.4, True),
        (20, 0.75, True),
        (6, 0.5, False),
        (30, 0.4, False),
        (7, 1.0, True),
    ]
    with fake_webui_context(flavor) as host:
        for steps, denoise, fixed in cases:
            calls = _count_img2img_calls(host, sampler, steps, denoise, fixed=fixed)
            assert calls == _real_timestep_calls(sampler, steps, denoise, fixed), (steps, denoise, fixed)
    # seen on real A1111 1.6/1.10, Forge and reForge (shared/docs/host-api.md §11): DDIM, 6 fixed steps -> 4
    assert _real_timestep_calls("DDIM", 6, 0.5, True) == 4


@pytest.mark.parametrize("flavor", ["1.10.1", "forge-neo"])
def test_fixed_steps_run_s_minus_2_calls_with_ddim_and_s_minus_1_with_plms_and_unipc(neo_allowed, flavor):
    with fake_webui_context(flavor) as host:
        for steps in (4, 6, 13, 30):
            assert _count_img2img_calls(host, "DDIM", steps, 0.4, fixed=True) == steps - 2
            assert _count_img2img_calls(host, "PLMS", steps, 0.4, fixed=True) == steps - 1
            assert _count_img2img_calls(host, "UniPC", steps, 0.4, fixed=True) == steps - 1


@pytest.mark.parametrize("flavor", ["1.6.0", "forge", "forge-neo"])
def test_asking_for_two_more_steps_makes_ddim_exact_and_one_more_plms_and_unipc(neo_allowed, flavor):
    # The glue fix proposed in neo-notes.md: pass steps = S + 2 (DDIM) or S + 1 (PLMS, UniPC) explicitly.
    with fake_webui_context(flavor) as host:
        for steps, denoise in ((6, 0.5), (30, 0.4), (10, 1.0), (4, 0.2)):
            for sampler, extra in (("DDIM", 2), ("PLMS", 1), ("UniPC", 1)):
                calls = _count_img2img_calls(
                    host, sampler, steps, denoise, fixed=False, explicit_steps=steps + extra
                )
                assert calls == steps, (sampler, steps, denoise)


def test_unipc_refuses_fewer_img2img_steps_than_its_order():
    # uni_pc.py UniPC.sample: `assert steps >= order` with steps = t_enc (default order 3)
    with fake_webui_context("1.10.1") as host:
        assert _count_img2img_calls(host, "UniPC", 10, 0.3, fixed=False) == 3
        with pytest.raises(AssertionError, match="UniPC order"):
            _count_img2img_calls(host, "UniPC", 10, 0.2, fixed=False)


# --- Forge Neo (Haoming02/sd-webui-forge-classic, neo branch): where it differs from Forge ------------------


def test_neo_is_a_forge_family_flavor_with_its_own_switches(neo_allowed):
    with fake_webui_context("forge-neo") as host:
        flavor = host.module("modules.fake_host").FLAVOR
        assert flavor.is_forge and flavor.is_neo and not flavor.is_reforge
        assert flavor.kdiffusion_uses_compvis_denoiser and not flavor.scheduler_device_is_cpu
    with fake_webui_context("forge") as host:
        flavor = host.module("modules.fake_host").FLAVOR
        assert not flavor.is_neo and not flavor.kdiffusion_uses_compvis_denoiser
        assert flavor.scheduler_device_is_cpu


def test_neo_kdiffusion_model_wrap_is_a_compvis_denoiser_over_the_engines_alphas_cumprod(neo_allowed):
    # Neo sd_samplers_kdiffusion.py CFGDenoiserKDiffusion.inner_model:
    # CompVisDenoiser(sd_model, quantize=True);
    # Forge: ForgeScheduleLinker(unet.model.predictor)
    with fake_webui_context("forge-neo") as host:
        wrap = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(wrap).__name__ == "CompVisDenoiser" and not hasattr(wrap, "predictor")
        a = host.sd_model.alphas_cumprod
        assert torch.allclose(wrap.sigmas, ((1 - a) / a) ** 0.5)
        assert wrap.log_sigmas.shape == wrap.sigmas.shape
    with fake_webui_context("forge") as host:
        wrap = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(wrap).__name__ == "ForgeScheduleLinker"


def test_neo_custom_sigmas_reach_the_sampler_like_on_forge(neo_allowed):
    for flavor in ("forge", "forge-neo"):
        with fake_webui_context(flavor) as host:
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5)
            p.sampler_noise_scheduler_override = _karras
            host.process_images(p)
            run = host.runs[-1]
            n = int(10 / 0.999)
            assert (
                run.override_used and run.t_enc == 5 and torch.allclose(run.schedule, _karras(n)[n - 5 - 1 :])
            )


def test_neo_models_have_is_flux_and_no_sd2_or_sd3(neo_allowed):
    # backend/diffusion_engine/base.py fix_for_webui_backward_compatibility; no sd20/sd35 engine in Neo
    with fake_webui_context("forge-neo", model="flux") as host:
        model = host.sd_model
        assert model.is_flux and not model.is_sd1 and not model.is_sdxl and not model.is_wan
        assert not hasattr(model, "is_sd2") and not hasattr(model, "is_sd3")
        assert model.forge_objects.vae.latent_channels == 16
        assert model.forge_objects.vae.first_stage_model.scaling_factor == pytest.approx(0.3611)
        for kind in ("sd2", "sd3"):
            with pytest.raises(ValueError, match="does not exist on forge-neo"):
                host.sd_models.load_fake_model(kind)
    with fake_webui_context("forge", model="flux") as host:
        assert not getattr(host.sd_model, "is_flux", False) and hasattr(host.sd_model, "is_sd3")


def test_neo_timestep_samplers_read_the_engines_alphas_cumprod_where_forge_rebuilds_it(neo_allowed):
    with fake_webui_context("forge-neo") as host:
        own = host.sd_model.alphas_cumprod
        host.sd_samplers.create_sampler("DDIM", host.sd_model)
        assert host.sd_model.alphas_cumprod is own
    with fake_webui_context("forge") as host:
        assert not hasattr(host.sd_model, "alphas_cumprod")
        host.sd_samplers.create_sampler("DDIM", host.sd_model)
        assert hasattr(host.sd_model, "alphas_cumprod")  # Forge sd_samplers_timesteps.py :31


def test_neo_launch_git_clone_is_not_implemented(neo_allowed):
    with fake_webui_context("forge-neo") as host:
        launch = host.module("launch")
        with pytest.raises(NotImplementedError):
            launch.git_clone("https://example.invalid/x.git", "/tmp/x", "x")
        assert launch.is_installed("torch") and callable(launch.run_pip)
