"""A fake AUTOMATIC1111-family WebUI for tests: ``fake_webui(flavor)`` and the ``FakeWebUI`` handle.

The fake host tree lives in ``tests/fake_webui`` (``modules``, ``launch.py``, ``webui.py``, ``k_diffusion``,
``scripts/xyz_grid.py``); see its README for every seam and the real code it mirrors. It is importable only
while a ``fake_webui(...)`` context is open: entering puts ``tests/fake_webui`` first on ``sys.path`` and
imports a FRESH copy of the tree configured for the flavor; leaving removes it from ``sys.path`` and every
module of the tree (and every repository module first imported inside the context, e.g. the glue) from
``sys.modules``, restores ``torch.load`` (A1111's ``modules.safe`` replaces it) and the environment.

Typical use (see tests/test_fake_webui_*.py)::

    with fake_webui("forge", model="sdxl") as host:      # or the ``fake_webui`` pytest fixture
        host.start()                                      # load_scripts + build the UI (real gradio)
        processed = host.img2img(image, script="Latent Upscale", script_args=[...], width=128, height=128,
                                 resize_mode=3, denoising_strength=0.5, steps=10)
        run = host.runs[-1]                               # what the sampler really ran
        host.parse_infotext(processed.infotexts[0])
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_ROOT = REPO_ROOT / "tests" / "fake_webui"
FLAVORS = ("1.6.0", "1.10.1", "forge", "forge-neo", "reforge")
_TOP_LEVEL = frozenset({"modules", "launch", "webui", "k_diffusion"})
_active = False  # a host is open (they cannot nest)
_ENV_KEYS = (
    "FAKE_WEBUI_FLAVOR",
    "FAKE_WEBUI_MODEL",
    "FAKE_WEBUI_DEVICE",
    "COMMANDLINE_ARGS",
    "FAKE_WEBUI_PIP_LOG",
    "FAKE_WEBUI_MISSING",
    "FAKE_WEBUI_INSTALLED",
    "FAKE_WEBUI_DOWNLOADS",
    "FAKE_WEBUI_EXTENSIONS",
)


def each_flavor_once(values: Any) -> list[tuple[Any, ...]]:
    """``(*value, flavor)`` rows in which every value and every flavor appears at least once.

    For a glue test swept over values that go through host-independent code (resize methods, schedules,
    step counts): the flavor picks the host seams that differ (tests/fake_webui/README.md), so each seam
    still meets every flavor, without running every value on every host. Use as
    ``@pytest.mark.parametrize(("method", "webui_flavor"), each_flavor_once(METHODS))``.
    """
    values = list(values)
    count = max(len(values), len(FLAVORS))
    rows = []
    for index in range(count):
        value = values[index % len(values)]
        rows.append((*(value if isinstance(value, tuple) else (value,)), FLAVORS[index % len(FLAVORS)]))
    return rows


def _is_fake_module(name: str) -> bool:
    """Every module of the fake tree is named modules.*, launch, webui or k_diffusion.* (scripts are not in
    sys.modules: the loader executes them by path)."""
    return name.partition(".")[0] in _TOP_LEVEL


class _CachedSourceLoader(importlib.machinery.SourceFileLoader):
    """Keeps the fake tree's compiled code in memory (with PYTHONDONTWRITEBYTECODE each import recompiles)."""

    code_cache: ClassVar[dict[str, tuple[int, Any]]] = {}

    def get_code(self, fullname: str) -> Any:
        path = self.get_filename(fullname)
        mtime = Path(path).stat().st_mtime_ns
        hit = self.code_cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        code = super().get_code(fullname)
        self.code_cache[path] = (mtime, code)
        return code


def _install_finders() -> list[str]:
    """Use the caching loader for every directory of the fake tree; returns the path keys to drop later."""
    keys = []
    for directory in [
        FAKE_ROOT,
        *[p for p in FAKE_ROOT.rglob("*") if p.is_dir() and p.name != "__pycache__"],
    ]:
        key = str(directory)
        sys.path_importer_cache[key] = importlib.machinery.FileFinder(key, (_CachedSourceLoader, [".py"]))
        keys.append(key)
    return keys


def _is_repo_source(module: Any) -> bool:
    """A module of this repository's own code (not tests, not a virtualenv inside the checkout)."""
    file = getattr(module, "__file__", None) or ""
    if not file:
        return False
    path = Path(file).resolve()
    if not path.is_relative_to(REPO_ROOT):
        return False
    first = path.relative_to(REPO_ROOT).parts[0]
    return (
        not first.startswith(".")
        and first not in {"tests", "build", "dist"}
        and "site-packages" not in path.parts
    )


def _purge_fake_modules(names: Any = None) -> None:
    if names is None:
        if not any(top in sys.modules for top in _TOP_LEVEL):
            return
        names = list(sys.modules)
    for name in [name for name in names if _is_fake_module(name)]:
        sys.modules.pop(name, None)


def require_webui_gradio() -> Any:
    """Import real gradio for a UI/API test, or skip it: the hosts ship gradio 3.41.2 (A1111, reForge) and
    4.40.0 (Forge); other majors are skipped (gradio 5/6 also rebuild a FastAPI app on every ``gr.Blocks()``
    exit, which makes each UI build take seconds)."""
    import importlib.metadata

    import pytest

    try:
        version = importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("gradio is not installed")
    if int(version.split(".")[0]) not in (3, 4):
        pytest.skip(f"gradio {version} installed; the WebUI hosts use gradio 3.41.2 / 4.40.0")
    return pytest.importorskip("gradio")


def png_image(width: int = 64, height: int = 64, seed: int = 0) -> Any:
    """A deterministic RGB test image (smooth gradients, so every resize method differs)."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127.5 + 127.5 * np.sin(x / max(width, 1) * 3.1 + seed)
    g = 127.5 + 127.5 * np.cos(y / max(height, 1) * 2.3 + seed)
    b = 255.0 * (x + y) / max(width + height, 1)
    return Image.fromarray(np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8), "RGB")


def b64_png(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def decode_b64_png(data: str) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(data)))


class FakeWebUI:
    """Handle on one fresh fake host: module accessors, start/reload, jobs (UI path and API), records."""

    def __init__(self, flavor: str, data_dir: Path) -> None:
        self.flavor_name = flavor
        self.data_dir = data_dir
        self.root = FAKE_ROOT
        self.repo_root = REPO_ROOT
        self._start_kwargs: dict[str, Any] = {}
        self._api = None
        self._installer_runs = 0

    # --- modules --------------------------------------------------------------------------------------------
    def module(self, name: str) -> Any:
        """Import a module of the fake tree (e.g. ``host.module("modules.sd_schedulers")``)."""
        return importlib.import_module(name)

    @property
    def flavor(self) -> Any:
        return self.module("modules.fake_host").FLAVOR

    @property
    def record(self) -> Any:
        return self.module("modules.fake_host").RECORD

    shared = property(lambda self: self.module("modules.shared"))
    opts = property(lambda self: self.module("modules.shared").opts)
    cmd_opts = property(lambda self: self.module("modules.shared").cmd_opts)
    state = property(lambda self: self.module("modules.shared").state)
    scripts = property(lambda self: self.module("modules.scripts"))
    script_callbacks = property(lambda self: self.module("modules.script_callbacks"))
    processing = property(lambda self: self.module("modules.processing"))
    sd_samplers = property(lambda self: self.module("modules.sd_samplers"))
    sd_samplers_common = property(lambda self: self.module("modules.sd_samplers_common"))
    sd_samplers_kdiffusion = property(lambda self: self.module("modules.sd_samplers_kdiffusion"))
    sd_samplers_timesteps = property(lambda self: self.module("modules.sd_samplers_timesteps"))
    sd_models = property(lambda self: self.module("modules.sd_models"))
    devices = property(lambda self: self.module("modules.devices"))
    paths = property(lambda self: self.module("modules.paths"))
    errors = property(lambda self: self.module("modules.errors"))
    launch = property(lambda self: self.module("launch"))

    @property
    def sd_schedulers(self) -> Any:
        """``modules.sd_schedulers`` (1.9+), None where the real host has no such module."""
        return self.module("modules.sd_schedulers") if self.flavor.has_schedulers else None

    @property
    def infotext(self) -> Any:
        """``modules.infotext_utils`` (1.8+) or ``modules.generation_parameters_copypaste`` (1.6)."""
        name = (
            "modules.infotext_utils"
            if self.flavor.has_infotext_utils
            else "modules.generation_parameters_copypaste"
        )
        return self.module(name)

    @property
    def sd_model(self) -> Any:
        return self.shared.sd_model

    @property
    def latent_upscale_modes(self) -> dict:
        return self.shared.latent_upscale_modes

    # --- lifecycle ------------------------------------------------------------------------------------------
    def add_extension(self, path: str | os.PathLike, name: str | None = None) -> Any:
        """Install an extension (a folder with ``scripts/*.py``) for the next ``start``/``reload_ui``."""
        return self.module("modules.extensions").add_extension(str(path), name=name)

    def start(self, *, ui_values: dict | None = None) -> None:
        """Load the scripts and build the UI, like a WebUI start.

        ``ui_values=None``: the UI is built with real gradio (every script's ``ui()`` runs). A dict builds the
        same args layout WITHOUT gradio: ``{"<title>": [values...]}`` (or ``"img2img:<title>"``) gives a
        script's ``ui()`` values; scripts not listed have ``ui()`` called (it must then not need gradio).
        """
        if ui_values is None and importlib.util.find_spec("gradio") is None:
            raise RuntimeError(
                "gradio is not installed: pass ui_values={...} or pytest.importorskip('gradio')"
            )
        self._start_kwargs = {"with_gradio": ui_values is None, "ui_values": ui_values}
        self._api = None
        self.module("webui").start(**self._start_kwargs)

    def reload_ui(self) -> None:
        """A "Reload UI" click: script_unloaded callbacks, then every script file executed again."""
        self._api = None
        self.module("webui").reload_ui(**self._start_kwargs)

    def load_model(self, kind: str) -> Any:
        """Switch ``shared.sd_model`` to a fake model of ``kind`` and fire ``on_model_loaded`` callbacks."""
        model = self.sd_models.load_fake_model(kind)
        self.shared.sd_model = model
        self.script_callbacks.model_loaded_callback(model)
        return model

    # --- scripts --------------------------------------------------------------------------------------------
    def runner(self, tab: str) -> Any:
        return self.scripts.scripts_img2img if tab == "img2img" else self.scripts.scripts_txt2img

    def script(self, title: str, tab: str = "img2img") -> Any:
        """The script instance titled ``title`` in the tab's runner (case-insensitive), or None."""
        for script in self.runner(tab).scripts:
            try:
                if script.title().lower() == title.lower():
                    return script
            except Exception:
                continue
        return None

    def default_args(self, tab: str) -> list:
        """The UI's script inputs at their defaults: [dropdown index 0, every script's control values...]."""
        inputs = self.runner(tab).inputs
        return [0] + [getattr(component, "value", None) for component in inputs[1:]]

    def script_args(
        self,
        tab: str,
        script: str | None = None,
        script_args: list | None = None,
        alwayson: dict | None = None,
        sampler: dict | None = None,
    ) -> list:
        """The UI's ``*args`` list: defaults, the selected dropdown script and its args, alwayson args."""
        runner = self.runner(tab)
        args = self.default_args(tab)
        if script is not None:
            selected = self.script(script, tab)
            if selected is None or selected not in runner.selectable_scripts:
                raise ValueError(f"no dropdown script titled {script!r} in {tab}")
            args[0] = runner.selectable_scripts.index(selected) + 1
            if script_args is not None:
                args[selected.args_from : selected.args_to] = list(script_args)
        for title, values in (alwayson or {}).items():
            target = self.script(title, tab)
            if target is None:
                raise ValueError(f"no script titled {title!r} in {tab}")
            args[target.args_from : target.args_to] = list(values)
        sampler_script = self.script("Sampler", tab) if self.flavor.has_builtin_sampler_script else None
        if sampler_script is not None and sampler:
            slot = args[sampler_script.args_from : sampler_script.args_to]
            steps, name, scheduler = slot if len(slot) == 3 else (20, "Euler a", "Automatic")
            args[sampler_script.args_from : sampler_script.args_to] = [
                sampler.get("steps", steps),
                sampler.get("sampler_name", name),
                sampler.get("scheduler", scheduler),
            ]
        return args

    # --- jobs -----------------------------------------------------------------------------------------------
    def img2img(
        self,
        image: Any = None,
        *,
        script: str | None = None,
        script_args: list | None = None,
        alwayson: dict | None = None,
        steps: int = 20,
        sampler_name: str = "Euler",
        scheduler: str = "Automatic",
        seed: int = 1,
        **kwargs: Any,
    ) -> Any:
        """An img2img job through the UI path (modules/img2img.py): returns the ``Processed``."""
        if image is None:
            image = png_image()
        args = self.script_args(
            "img2img",
            script,
            script_args,
            alwayson,
            {"steps": steps, "sampler_name": sampler_name, "scheduler": scheduler},
        )
        return self.module("modules.img2img").img2img(
            *args, init_img=image, steps=steps, sampler_name=sampler_name, seed=seed, **kwargs
        )

    def txt2img(
        self,
        *,
        script: str | None = None,
        script_args: list | None = None,
        alwayson: dict | None = None,
        steps: int = 20,
        sampler_name: str = "Euler",
        scheduler: str = "Automatic",
        seed: int = 1,
        **kwargs: Any,
    ) -> Any:
        """A txt2img job through the UI path (modules/txt2img.py): returns the ``Processed``."""
        args = self.script_args(
            "txt2img",
            script,
            script_args,
            alwayson,
            {"steps": steps, "sampler_name": sampler_name, "scheduler": scheduler},
        )
        return self.module("modules.txt2img").txt2img(
            *args, steps=steps, sampler_name=sampler_name, seed=seed, **kwargs
        )

    @property
    def api(self) -> Any:
        """The fake ``modules.api.api.Api`` (real gradio: defaults come from ``ui()`` in ``gr.Blocks()``)."""
        if self._api is None:
            self._api = self.module("modules.api.api").Api()
        return self._api

    def api_img2img(self, payload: dict) -> dict:
        """POST /sdapi/v1/img2img: ``payload`` as the JSON body; PIL images in ``init_images`` are encoded."""
        payload = dict(payload)
        payload["init_images"] = [
            b64_png(x) if not isinstance(x, str) else x for x in payload.get("init_images", [png_image()])
        ]
        models = self.module("modules.api.models")
        response = self.api.img2imgapi(models.StableDiffusionImg2ImgProcessingAPI(**payload))
        return {
            "images": [decode_b64_png(x) for x in response.images],
            "info": json.loads(response.info),
            "parameters": response.parameters,
        }

    def api_txt2img(self, payload: dict) -> dict:
        """POST /sdapi/v1/txt2img."""
        models = self.module("modules.api.models")
        response = self.api.text2imgapi(models.StableDiffusionTxt2ImgProcessingAPI(**payload))
        return {
            "images": [decode_b64_png(x) for x in response.images],
            "info": json.loads(response.info),
            "parameters": response.parameters,
        }

    def new_img2img(self, image: Any = None, **kwargs: Any) -> Any:
        """A bare ``StableDiffusionProcessingImg2Img`` (no scripts) for ``process_images``."""
        kwargs.setdefault("sampler_name", "Euler")
        kwargs.setdefault("seed", 1)
        kwargs.setdefault("do_not_save_samples", True)
        return self.processing.StableDiffusionProcessingImg2Img(
            sd_model=self.sd_model, init_images=[image if image is not None else png_image()], **kwargs
        )

    def new_txt2img(self, **kwargs: Any) -> Any:
        """A bare ``StableDiffusionProcessingTxt2Img`` (no scripts) for ``process_images``."""
        kwargs.setdefault("sampler_name", "Euler")
        kwargs.setdefault("seed", 1)
        kwargs.setdefault("do_not_save_samples", True)
        return self.processing.StableDiffusionProcessingTxt2Img(sd_model=self.sd_model, **kwargs)

    def process_images(self, p: Any) -> Any:
        return self.processing.process_images(p)

    # --- what ran -------------------------------------------------------------------------------------------
    @property
    def runs(self) -> list:
        """Every ``SamplingRun`` so far (modules/fake_host.py): sigmas, steps, start latent, override use."""
        return self.record.runs

    def on_step(self, hook: Any) -> None:
        """Call ``hook(step, sigma, x, run)`` at every denoising step (before the fake model output)."""
        self.record.step_hooks.append(hook)

    def interrupt_at(self, step: int, *, run_index: int | None = None) -> None:
        """Press "Interrupt" when the sampler reaches ``step`` (of run ``run_index``, default: any run)."""

        def hook(current_step: int, sigma: Any, x: Any, run: Any) -> None:
            if current_step == step and (run_index is None or self.runs.index(run) == run_index):
                self.state.interrupt()

        self.on_step(hook)

    def raise_at(self, step: int, exc: BaseException) -> None:
        """Raise ``exc`` from inside the sampler at ``step``."""

        def hook(current_step: int, sigma: Any, x: Any, run: Any) -> None:
            if current_step == step:
                raise exc

        self.on_step(hook)

    @property
    def reported_errors(self) -> list:
        """(message, traceback) pairs the host reported and swallowed (errors.report)."""
        return self.errors.reported

    def assert_no_errors(self) -> None:
        if self.reported_errors:
            raise AssertionError(
                "the fake host reported errors:\n"
                + "\n".join(m + "\n" + (t or "") for m, t in self.reported_errors)
            )

    def parse_infotext(self, text: str) -> dict:
        return self.infotext.parse_generation_parameters(text)

    def paste(self, tab: str, text: str) -> list:
        """PNG Info -> "Send to <tab>": [(component, value or None)] for every paste field of the tab."""
        fields = self.infotext.paste_fields[tab]["fields"]
        return self.infotext.paste(fields, text)

    @property
    def xyz_grid(self) -> Any:
        """The loaded xyz_grid module, found the way extensions find it (hypertile_script.py :107)."""
        found = [x for x in self.scripts.scripts_data if x.script_class.__module__ == "xyz_grid.py"]
        return found[0].module if found else None

    def snapshot(self) -> dict:
        """Identities/values of the host objects an extension might patch; compare two snapshots for leaks."""
        import torch

        processing = self.processing
        kd = self.sd_samplers_kdiffusion
        return {
            "torch.nn.functional.interpolate": torch.nn.functional.interpolate,
            "processing.torch": processing.torch,
            "Img2Img.init": processing.StableDiffusionProcessingImg2Img.init,
            "Img2Img.sample": processing.StableDiffusionProcessingImg2Img.sample,
            "Txt2Img.sample": processing.StableDiffusionProcessingTxt2Img.sample,
            "Txt2Img.sample_hr_pass": processing.StableDiffusionProcessingTxt2Img.sample_hr_pass,
            "process_images": processing.process_images,
            "KDiffusionSampler.get_sigmas": kd.KDiffusionSampler.get_sigmas,
            "KDiffusionSampler.sample_img2img": kd.KDiffusionSampler.sample_img2img,
            "KDiffusionSampler.sample": kd.KDiffusionSampler.sample,
            "CompVisSampler.sample_img2img": self.sd_samplers_timesteps.CompVisSampler.sample_img2img,
            "setup_img2img_steps": self.sd_samplers_common.setup_img2img_steps,
            "images_tensor_to_samples": processing.images_tensor_to_samples,
            "opts.data": dict(self.opts.data),
            "latent_upscale_modes": {k: dict(v) for k, v in self.latent_upscale_modes.items()},
        }

    # --- install.py -----------------------------------------------------------------------------------------
    def run_installer(
        self,
        extension_dir: str | os.PathLike = REPO_ROOT,
        *,
        in_process: bool = False,
        missing: tuple[str, ...] = (),
        installed: tuple[str, ...] = (),
        skip_install: bool = False,
    ) -> dict:
        """Run ``<extension>/install.py`` the way the launcher does and report its pip calls.

        Subprocess (default): ``launch_utils.run_extension_installer`` (PYTHONPATH = the fake root, the
        flavor's env), pip calls collected through ``FAKE_WEBUI_PIP_LOG``. ``in_process=True`` executes the
        file with ``runpy`` inside this fake host. ``missing``/``installed`` force ``launch.is_installed``
        answers; ``skip_install`` adds ``--skip-install`` (then run_pip does nothing).
        """
        import runpy

        path = Path(extension_dir) / "install.py"
        self._installer_runs += 1
        log = self.data_dir / f"pip-calls-{self._installer_runs}.jsonl"
        env_backup = {k: os.environ.get(k) for k in _ENV_KEYS}
        os.environ["FAKE_WEBUI_MISSING"] = ",".join(missing)
        os.environ["FAKE_WEBUI_INSTALLED"] = ",".join(installed)
        os.environ["FAKE_WEBUI_PIP_LOG"] = str(log)
        if skip_install:
            os.environ["COMMANDLINE_ARGS"] = os.environ.get("COMMANDLINE_ARGS", "") + " --skip-install"
        try:
            if in_process:
                launch_utils = self.module("modules.launch_utils")
                before = launch_utils.args.skip_install
                launch_utils.args.skip_install = before or skip_install
                start = len(self.record.pip_calls)
                try:
                    stdout = io.StringIO()
                    with contextlib.redirect_stdout(stdout):
                        runpy.run_path(str(path), run_name="__main__")
                finally:
                    launch_utils.args.skip_install = before
                calls = self.record.pip_calls[start:]
                return {"pip_calls": [tuple(c) for c in calls], "stdout": stdout.getvalue(), "returncode": 0}
            result = subprocess.run(
                [sys.executable, str(path)],
                env={
                    **os.environ,
                    "PYTHONPATH": f"{FAKE_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                },
                capture_output=True,
                text=True,
                check=False,
                cwd=str(Path(extension_dir)),
            )
            calls = []
            if log.exists():
                calls = [(d["command"], d["desc"]) for d in map(json.loads, log.read_text().splitlines())]
            return {
                "pip_calls": calls,
                "stdout": result.stdout,
                "stderr": result.stderr,
                "returncode": result.returncode,
            }
        finally:
            for k, v in env_backup.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@contextlib.contextmanager
def fake_webui(
    flavor: str = "1.10.1",
    *,
    model: str = "sd1",
    args: tuple[str, ...] | list[str] = (),
    half: bool = False,
    config: str | dict = "defaults",
    data_dir: str | os.PathLike | None = None,
    extensions: tuple[str | os.PathLike, ...] = (REPO_ROOT,),
    device: str | None = None,
) -> Iterator[FakeWebUI]:
    """Open a fresh fake WebUI of ``flavor`` ("1.6.0", "1.10.1", "forge", "forge-neo", "reforge").

    ``model``: "sd1", "sd2", "sdxl", "sd3" (1.10.1/Forge/reForge), "flux" (Forge, Forge Neo); Forge Neo has
    only "sd1", "sdxl" and "flux" (no SD2/SD3 engine). ``args``: extra
    command-line flags (``--freeze-settings``, ``--skip-install``...); ``--no-half`` is added unless
    ``half=True``. ``config``: "defaults" = a config.json holding every default (a host whose settings were
    saved once), "missing" = no config.json (1.8+: ``opts.data`` starts EMPTY), or a dict = the config.json
    contents. ``extensions``: extension roots installed before ``start`` (default: this repository).
    One host at a time: the tree's modules live in ``sys.modules`` under the real names, so hosts cannot nest.
    """
    global _active
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}; expected one of {FLAVORS}")
    if _active:
        raise RuntimeError("a fake WebUI host is already open: close it before opening another")
    import torch

    saved_path = list(sys.path)
    saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
    saved_torch_load = torch.load
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="fake-webui-")
        data_dir = tmp.name
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    _purge_fake_modules()
    modules_before = set(sys.modules)
    _active = True
    finder_keys: list[str] = []
    try:
        cmd = ["--data-dir", str(data_dir), *([] if half else ["--no-half"]), *args]
        os.environ["COMMANDLINE_ARGS"] = shlex.join(cmd)
        os.environ["FAKE_WEBUI_FLAVOR"] = flavor
        os.environ["FAKE_WEBUI_MODEL"] = model
        for key in ("FAKE_WEBUI_PIP_LOG", "FAKE_WEBUI_MISSING", "FAKE_WEBUI_INSTALLED"):
            os.environ.pop(key, None)
        if device:
            os.environ["FAKE_WEBUI_DEVICE"] = device
        os.environ["FAKE_WEBUI_EXTENSIONS"] = os.pathsep.join(
            str(ext) for ext in extensions
        )  # their preload.py
        if isinstance(config, dict):
            (data_dir / "config.json").write_text(json.dumps(config))
        sys.path.insert(0, str(FAKE_ROOT))
        finder_keys = _install_finders()

        host = FakeWebUI(flavor, data_dir)
        shared = host.module("modules.shared")
        if config == "defaults":
            shared.opts.data = {k: v.default for k, v in shared.opts.data_labels.items() if not v.do_not_save}
            (data_dir / "config.json").write_text(json.dumps(shared.opts.data))
        elif config != "missing" and not isinstance(config, dict):
            raise ValueError(f"config must be 'defaults', 'missing' or a dict, not {config!r}")
        shared.sd_model = host.sd_models.load_fake_model(model)
        host.module("modules.processing")
        host.module("modules.safe")
        for ext in extensions:
            host.add_extension(ext)
        yield host
    finally:
        torch.load = saved_torch_load
        sys.path[:] = saved_path
        for key in finder_keys:
            sys.path_importer_cache.pop(key, None)
        new_modules = set(sys.modules) - modules_before  # the fake tree was purged on entry: all of it is new
        _purge_fake_modules(new_modules)
        for name in new_modules:
            if name in sys.modules and _is_repo_source(sys.modules[name]):
                module = sys.modules.pop(name)  # e.g. the glue: it must bind to the next fresh fake host
                # `from package import child` reads the package attribute before sys.modules: drop it too.
                parent_name, _, child = name.rpartition(".")
                parent = sys.modules.get(parent_name)
                if parent is not None and getattr(parent, child, None) is module:
                    delattr(parent, child)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if tmp is not None:
            tmp.cleanup()
        _active = False
