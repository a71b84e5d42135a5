"""The ComfyUI door (root ``__init__.py``) and the glue room's borders: ComfyUI loads the nodes, nothing else
changes (importing the package, the WebUI extension, ``install.py``), and only ``host.py`` imports ComfyUI."""

import ast
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import tomllib

from tests.helpers.comfy import FAKE_COMFY, REPO_ROOT, fake_comfy

PACKAGE = REPO_ROOT / "latent_upscale"
#: The top-level names ComfyUI's modules import from the host (its root modules and packages).
HOST_MODULES = {
    "comfy",
    "comfy_extras",
    "comfy_api",
    "comfy_execution",
    "folder_paths",
    "nodes",
    "node_helpers",
    "latent_preview",
    "execution",
    "server",
}
#: What the root of Comfy-Org/ComfyUI v0.3.64 (a125cd84) holds: nothing of ours may shadow one of them.
COMFY_ROOT_NAMES = (
    "alembic_db", "api_server", "app", "comfy", "comfy_api", "comfy_api_nodes", "comfy_config",
    "comfy_execution", "comfy_extras", "comfyui_version", "cuda_malloc", "custom_nodes", "execution",
    "folder_paths", "hook_breaker_ac10a0", "latent_preview", "main", "middleware", "new_updater",
    "node_helpers", "nodes", "protocol", "server", "tests", "tests-unit", "utils", "script_examples",
)  # fmt: skip


#: Run first in every subprocess: no copy of the package is importable but the one a test puts on sys.path
#: (an editable install of another checkout hooks sys.meta_path).
_ISOLATE = f"""
import sys
sys.meta_path[:] = [finder for finder in sys.meta_path if "__editable__" not in repr(finder)]
sys.path[:] = [p for p in sys.path if p not in ("", {str(REPO_ROOT)!r})]
"""


def _run(code, *, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(env_extra or {})
    script = _ISOLATE + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_comfyui_loads_both_nodes_through_the_door_in_the_classic_api(tmp_path):
    with fake_comfy(tmp_path) as host:
        mappings, names = host.door.NODE_CLASS_MAPPINGS, host.door.NODE_DISPLAY_NAME_MAPPINGS
        assert set(mappings) == {"LatentUpscaleAdvanced", "LatentUpscaleNoiseSchedule"} == set(names)
        for cls in mappings.values():
            assert cls.CATEGORY == "latent/upscaling" and callable(getattr(cls(), cls.FUNCTION))
            assert isinstance(cls.INPUT_TYPES()["required"], dict)
        assert mappings["LatentUpscaleAdvanced"].RETURN_TYPES == ("LATENT",)
        assert mappings["LatentUpscaleNoiseSchedule"].RETURN_TYPES == ("SIGMAS",)
        assert host.folder_paths.get_folder_paths("latent_upscale_models") == [
            str(tmp_path / "models" / "latent_upscale_models")
        ]


def test_the_door_appends_the_folder_only_when_the_package_is_not_importable(tmp_path):
    code = f"""
        sys.path.insert(0, {str(FAKE_COMFY)!r})
        sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        from helpers.comfy import load_door
        sys.path.pop(0)
        before = list(sys.path)
        door = load_door()
        added = [p for p in sys.path if p not in before]
        assert added == [{str(REPO_ROOT)!r}] and sys.path[-1] == {str(REPO_ROOT)!r}, added
        print(sorted(door.NODE_CLASS_MAPPINGS))
    """
    result = _run(code, cwd=tmp_path, env_extra={"LATENT_UPSCALE_FAKE_COMFY_BASE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "LatentUpscaleAdvanced" in result.stdout
    # importable already (here, pytest puts the repository root on sys.path): sys.path is left alone
    before = list(sys.path)
    with fake_comfy(tmp_path):
        assert sys.path == [str(FAKE_COMFY), *before]


def test_another_latent_upscale_package_in_the_way_is_named_in_the_import_error(tmp_path):
    other = tmp_path / "other"
    (other / "latent_upscale").mkdir(parents=True)
    (other / "latent_upscale" / "__init__.py").write_text("")
    code = f"""
        sys.path[:0] = [{str(other)!r}, {str(FAKE_COMFY)!r}]
        sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        from helpers.comfy import load_door
        sys.path.pop(0)
        load_door()
    """
    result = _run(code, cwd=tmp_path, env_extra={"LATENT_UPSCALE_FAKE_COMFY_BASE": str(tmp_path)})
    assert result.returncode != 0
    assert "another latent_upscale package" in result.stderr and str(other) in result.stderr


def test_nothing_at_the_repository_root_shadows_a_comfyui_module():
    for name in COMFY_ROOT_NAMES:
        spec = importlib.machinery.PathFinder.find_spec(name, [str(REPO_ROOT)])
        assert spec is None or spec.origin in (None, "namespace"), (
            f"{name} importable from the repository root"
        )


def test_importing_the_package_and_its_comfy_room_imports_nothing_of_comfyui(tmp_path):
    code = f"""
        sys.path.append({str(REPO_ROOT)!r})
        import latent_upscale, latent_upscale.comfy, latent_upscale.comfy.sizing, latent_upscale.comfy.detect
        assert latent_upscale.__file__.startswith({str(REPO_ROOT)!r})
        host = ("comfy", "folder_paths", "nodes")
        print(sorted(name for name in sys.modules if name.split(".")[0] in host))
    """
    result = _run(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _host_importers():
    importers = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(name.split(".")[0] in HOST_MODULES for name in names):
                importers.setdefault(str(path.relative_to(PACKAGE)), set()).update(names)
    return importers


def test_only_the_comfy_host_module_imports_comfyui():
    importers = _host_importers()
    assert set(importers) == {str(Path("comfy") / "host.py")}, importers


def test_the_comfy_glue_imports_no_webui_and_the_webui_glue_no_comfy_room():
    for path in (PACKAGE / "comfy").glob("*.py"):
        text = path.read_text()
        assert "latent_upscale.webui" not in text and "import modules" not in text, path
    for path in (PACKAGE / "webui").glob("*.py"):
        assert "latent_upscale.comfy" not in path.read_text(), path


def test_the_webui_extension_loads_its_scripts_and_never_opens_the_comfy_door(fake_webui):
    door = str(REPO_ROOT / "__init__.py")

    def doors():  # pytest itself imports the root __init__.py as a package: count only new ones
        return {name for name, m in list(sys.modules.items()) if getattr(m, "__file__", None) == door}

    host = fake_webui("1.10.1")
    before = doors()
    host.start()
    assert any(data.path.startswith(str(REPO_ROOT / "scripts")) for data in host.scripts.scripts_data)
    assert doors() == before
    assert "latent_upscale.comfy.nodes" not in sys.modules and "folder_paths" not in sys.modules


def test_install_py_outside_the_webui_installs_nothing_and_exits_cleanly(tmp_path):
    env = {"PYTHONPATH": "", "PIP_NO_INDEX": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "install.py")],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr
    assert result.stdout == "" or "not run by the WebUI" in result.stdout


def test_pyproject_carries_the_comfy_registry_metadata():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    comfy = config["tool"]["comfy"]
    assert comfy["PublisherId"] and comfy["DisplayName"] == "Latent Upscale"
    assert config["project"]["name"] and config["project"]["version"]


def test_outside_comfyui_the_door_registers_nothing_and_leaves_sys_path_alone(tmp_path):
    code = f"""
        before = list(sys.path)
        sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        from helpers.comfy import load_door
        sys.path.pop(0)
        door = load_door()
        assert door.NODE_CLASS_MAPPINGS == {{}} == door.NODE_DISPLAY_NAME_MAPPINGS
        assert sys.path == before and "latent_upscale" not in sys.modules
    """
    result = _run(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_registering_the_weights_folder_twice_changes_nothing_and_keeps_extra_model_paths_first(tmp_path):
    with fake_comfy(tmp_path) as host:
        host_module = sys.modules["latent_upscale.comfy.host"]
        ours = str(tmp_path / "models" / "latent_upscale_models")
        host_module.register_model_folders()
        assert host.folder_paths.get_folder_paths("latent_upscale_models") == [ours]
        # a folder extra_model_paths.yaml named first (ComfyUI loads it before custom nodes) stays first
        del host.folder_paths.folder_names_and_paths["latent_upscale_models"]
        host.folder_paths.add_model_folder_path("latent_upscale_models", "/data/upscalers")
        host_module.register_model_folders()
        assert host.folder_paths.get_folder_paths("latent_upscale_models") == ["/data/upscalers", ours]
