"""The fake WebUI host itself: install.py and launch, the API, the UI, X/Y/Z and the rest of the plumbing.

Each seam behaves like the real host code the glue relies on, and every test names the behaviour it
proves. ``webui_flavor`` parametrises over 1.6.0, 1.10.1, Forge, Forge Neo and reForge where the real
hosts agree, and the expectations branch where they differ. Tests that build a gradio UI or call the
API import real gradio (skipped when it is not installed).
"""

from pathlib import Path

import pytest
import torch

from tests.helpers.fake_webui_seams import fake_webui_context, loaded_script, make_extension
from tests.helpers.webui import require_webui_gradio

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
        # copy(p) is shallow (xyz_grid.py :711): an axis writing into extra_generation_params writes
        # into the dict every cell shares; "Script" goes only into the grid's copy, after the cell ran.
        assert seen == [(4, "bilinear"), (4, "lanczos")]
        assert p.extra_generation_params["Latent upscale method"] == "lanczos"
        assert ["Script" in host.parse_infotext(t) for t in result.infotexts] == [False, False]
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
