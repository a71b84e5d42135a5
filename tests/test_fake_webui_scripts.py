"""The fake WebUI host itself: never shadowing the real host, the script loader and runner.

Each seam behaves like the real host code the glue relies on, and every test names the behaviour it
proves. ``webui_flavor`` parametrises over 1.6.0, 1.10.1, Forge, Forge Neo and reForge where the real
hosts agree, and the expectations branch where they differ.
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers.fake_webui_seams import fake_webui_context, loaded_script, make_extension
from tests.helpers.webui import FAKE_ROOT, REPO_ROOT

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


def test_a_callback_records_the_file_that_registered_it_and_only_that_file_loses_it_on_removal():
    with fake_webui_context("1.10.1") as host:
        cb = host.script_callbacks
        cb.on_script_unloaded(lambda: None)
        cb.add_callback(cb.callback_map["callbacks_script_unloaded"], print, filename="/ext/other.py")
        ours, other = cb.callback_map["callbacks_script_unloaded"]
        assert ours.script == __file__ and ours.name == f"{Path(__file__).name}/script_unloaded"
        assert other.script == "/ext/other.py" and other.name == "other.py/unknown"
        cb.remove_current_script_callbacks()  # called from this file: removes this file's callbacks
        assert cb.callback_map["callbacks_script_unloaded"] == [other]


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
