"""Settings, the neural hint, the hires table, the X/Y/Z axes and the resize fallbacks, tested against a
small stub of the host façade (tests/helpers/host_stub.py); the end-to-end seams stay on the fake WebUI."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from latent_upscale import methods
from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.webui.job import JobOptions
from tests.helpers.host_stub import StubImg2Img, StubTxt2Img, host_stub

HOST_PY = Path(__file__).resolve().parents[1] / "latent_upscale" / "webui" / "host.py"
BAD_SETTINGS = [
    ("latent_upscale_tile_size", "abc", "Neural tile size"),
    ("latent_upscale_tile_size", -16, "Neural tile size"),
    ("latent_upscale_tile_size", 12.5, "Neural tile size"),
    ("latent_upscale_precision", "fp64", "Neural precision"),
    ("latent_upscale_device", "quantum", "Neural device"),
    ("latent_upscale_models_dir", "~nouser-latent-upscale-test/x", "Neural weights folder"),
]


def _sd1_model():
    return SimpleNamespace(is_sd1=True, scale_factor=0.18215, latent_channels=4)


def test_the_stub_offers_every_name_of_the_real_host_facade():
    tree = ast.parse(HOST_PY.read_text())
    names = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "__all__"
    )
    with host_stub() as host:
        missing = [name for name in names if not hasattr(host, name)]
    assert names and not missing, missing


def test_host_stub_restores_the_glue_it_replaced():
    import sys

    before = {n: m for n, m in sys.modules.items() if n.startswith("latent_upscale.webui.")}
    with host_stub() as host:
        settings = host.glue("settings")
        assert settings.host is host
    after = {n: m for n, m in sys.modules.items() if n.startswith("latent_upscale.webui.")}
    assert after == before


# --- a bad saved setting never crashes the hint or a job ---------------------------------------------------


@pytest.mark.parametrize(("key", "value", "label"), BAD_SETTINGS)
def test_a_bad_saved_setting_is_named_in_one_clear_error(key, value, label):
    with host_stub(opts={key: value}, model=_sd1_model()) as host:
        with pytest.raises(LatentUpscaleError, match=label) as caught:
            host.glue("settings").neural_options()
        assert repr(value) in str(caught.value)


@pytest.mark.parametrize(("key", "value", "label"), BAD_SETTINGS)
def test_a_bad_saved_setting_shows_a_message_in_the_neural_hint(key, value, label):
    with host_stub(opts={key: value}, model=_sd1_model()) as host:
        hint = host.glue("ui").neural_hint("neural")
    assert "cannot tell which weights" in hint and label in hint
    assert f"falls back to {DEFAULT_METHOD}" in hint


def test_a_model_the_hint_cannot_read_shows_a_message():
    odd_model = SimpleNamespace(latent_channels="many")  # int("many") fails inside the model read
    with host_stub(model=odd_model) as host:
        hint = host.glue("ui").neural_hint("neural")
    assert hint.startswith("**Neural**: cannot tell")


def test_good_settings_still_give_the_usual_hint(tmp_path):
    with host_stub(opts={"latent_upscale_models_dir": str(tmp_path)}, model=_sd1_model()) as host:
        assert host.glue("ui").neural_hint("lanczos") == ""
        hint = host.glue("ui").neural_hint("Neural (learned upscaler)")
        assert hint.startswith("**Neural** for this sd1 model:")
        host.model = None
        assert "once one is loaded" in host.glue("ui").neural_hint("neural")


@pytest.mark.parametrize(("key", "value", "label"), BAD_SETTINGS)
def test_a_bad_saved_setting_makes_a_neural_resize_fall_back_and_say_so(key, value, label):
    with host_stub(opts={key: value}) as host:
        p = StubImg2Img(sd_model=_sd1_model())
        latent = torch.randn(1, 4, 8, 8)
        result = host.glue("resize").resize_host_latent(p, "neural", latent, (12, 12), lambda: None)
    assert result.shape == (1, 4, 12, 12)
    assert p.extra_generation_params["Latent upscale fallback"].startswith(f"{DEFAULT_METHOD} (")
    assert label in p.extra_generation_params["Latent upscale fallback"]


def test_the_model_info_read_sits_inside_the_fallback():
    # An odd model object (here a channel count that is not a number) must not fail the job: the host's
    # own resize runs instead, and the infotext says why.
    host_result = torch.zeros(1, 4, 12, 12)
    with host_stub() as host:
        p = StubImg2Img(sd_model=SimpleNamespace(latent_channels="many", scale_factor=0.18215))
        result = host.glue("resize").resize_host_latent(
            p, "lanczos", torch.randn(1, 4, 8, 8), (12, 12), lambda: host_result
        )
    assert result is host_result
    assert p.extra_generation_params["Latent upscale fallback"].startswith("WebUI resize (")


def test_the_schedule_reads_the_model_inside_its_fallback():
    from latent_upscale.schedules import sd_sigma_table

    table = sd_sigma_table("sd1")
    default = torch.linspace(10.0, 0.0, 5)
    model_wrap = SimpleNamespace(
        sigmas=table.sigmas, log_sigmas=table.sigmas.log(), get_sigmas=lambda steps: default
    )
    with host_stub() as host:
        img2img, state = host.glue("img2img"), host.glue("state")
        p = StubImg2Img(sd_model=SimpleNamespace(latent_channels="many"))
        p.sampler = SimpleNamespace(model_wrap=model_wrap)
        job_state = state.begin_job(p)
        img2img.install(p, job_state, JobOptions(schedule="karras"))
        sigmas = p.sampler_noise_scheduler_override(4)
        state.end_job(p)
    assert sigmas is default
    assert p.extra_generation_params["Latent upscale fallback"].startswith("default schedule (")
    assert p.sampler_noise_scheduler_override is None  # restored when the job ended


# --- settings ---------------------------------------------------------------------------------------------


def test_unknown_or_stale_settings_fall_back_to_our_defaults():
    with host_stub() as host:
        settings = host.glue("settings")
        assert settings.default_job_options() == JobOptions()
        host.opts["latent_upscale_default_method"] = "removed-method"
        assert settings.default_job_options() == JobOptions()
        options = settings.neural_options()
    assert options.allow_download is True and options.tile_size is None
    # Ours first (downloads land there), then the hosts' tiny-autoencoder folders.
    names = [folder.name for folder in options.caller_models_dirs]
    assert names == ["LatentUpscaler", "VAE-taesd", "VAE-approx"]


def test_the_settings_defaults_feed_the_script():
    opts = {"latent_upscale_default_method": "area", "latent_upscale_exact_steps": False}
    with host_stub(opts=opts) as host:
        assert host.glue("settings").default_job_options() == JobOptions(method="area", exact_steps=False)


def test_tile_size_zero_means_automatic_and_a_number_is_kept():
    with host_stub(opts={"latent_upscale_tile_size": 0}) as host:
        settings = host.glue("settings")
        assert settings.neural_options().tile_size is None
        host.opts["latent_upscale_tile_size"] = 96.0  # gradio sliders hand floats
        assert settings.neural_options().tile_size == 96


# --- hires table and X/Y/Z on the façade --------------------------------------------------------------------


def test_hires_entries_are_added_once_and_removed_on_unload():
    with host_stub() as host:
        hires = host.glue("hires")
        added = hires.register_hires_upscalers()
        assert hires.register_hires_upscalers() == []  # Reload UI adds nothing
        assert sorted(added) == sorted(hires.hires_key(m) for m in methods() if m not in hires.HIRES_BUILTINS)
        assert all(hires.hires_method(key) for key in added)
        assert hires.hires_method("Latent") is None  # the host's own entry stays the host's
        hires.unregister_hires_upscalers()
        assert list(host.modes) == ["Latent"]


def test_hires_key_maps_every_method_to_an_entry():
    with host_stub() as host:
        hires = host.glue("hires")
        hires.register_hires_upscalers()
        for method in methods():
            assert hires.hires_key(method) in host.modes or method in hires.HIRES_BUILTINS
    assert hires.hires_key("bilinear") == "Latent"


def test_xyz_axes_are_appended_once_and_apply_per_tab():
    with host_stub() as host:
        xyz = host.glue("xyz")
        xyz.register_axes()
        xyz.register_axes()
        labels = [o.label for o in host.xyz.axis_options]
        assert labels == ["Seed", xyz.METHOD_AXIS, xyz.SCHEDULE_AXIS, xyz.SCALE_AXIS]
        method_axis, schedule_axis, scale_axis = host.xyz.axis_options[1:]
        assert scale_axis.is_img2img and scale_axis.type is float
        p = StubImg2Img()
        method_axis.apply(p, "lanczos", None)
        scale_axis.apply(p, 1.5, None)
        schedule_axis.apply(p, "karras", None)
        assert host.glue("state").attached_options(p) == JobOptions("lanczos", "karras", scale=1.5)
        with pytest.raises(ValueError, match="Upscale by must lie in"):
            scale_axis.confirm(None, [1.5, 9])
        t = StubTxt2Img()
        method_axis.apply(t, "area", None)
        assert t.hr_upscaler == "Latent (area)"
        with pytest.raises(ValueError, match="unknown schedule 'karas'"):
            schedule_axis.confirm(None, ["karras", "karas"])


def test_a_job_that_is_not_ours_gets_no_change():
    with host_stub() as host:
        entry = host.glue("entry")
        p, t = StubImg2Img(), StubTxt2Img(hr_upscaler="Latent")
        entry.before_job(p)
        entry.before_job(t)
    assert "close" not in vars(p) and "init" not in vars(p) and "sample_hr_pass" not in vars(t)


# --- the glue's layout ------------------------------------------------------------------------------------


def _glue_imports():
    folder = HOST_PY.parent
    graph, host_importers = {}, []
    for path in folder.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "latent_upscale.webui":
                    deps |= {alias.name for alias in node.names}
                elif node.module.startswith("latent_upscale.webui."):
                    deps.add(node.module.split(".")[2])
                elif node.module.split(".")[0] == "modules":
                    host_importers.append(path.stem)
            elif isinstance(node, ast.Import):
                host_importers += [path.stem for a in node.names if a.name.split(".")[0] == "modules"]
        graph[path.stem] = deps
    return graph, host_importers


def test_only_host_imports_the_webui_and_the_glue_has_no_import_cycle():
    graph, host_importers = _glue_imports()
    assert set(host_importers) == {"host"}

    def visit(name, path):
        assert name not in path, f"import cycle: {' -> '.join([*path, name])}"
        for dep in graph.get(name, ()):
            visit(dep, [*path, name])

    for name in graph:
        visit(name, [])


def test_no_glue_module_is_over_400_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in HOST_PY.parent.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes
