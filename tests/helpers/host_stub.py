"""A small stand-in for ``latent_upscale.webui.host`` (the façade over ``modules.*``), for glue tests that
need only the façade; the full fake WebUI (``tests/helpers/webui.py``) stays for the end-to-end seams.

``with host_stub() as host:`` puts a :class:`HostStub` in ``sys.modules`` as ``latent_upscale.webui.host``
and imports the glue fresh on top of it (``host.glue("settings")``); on exit the glue modules bound to the
stub are dropped and whatever was imported before is put back. ``test_webui_host_stub.py`` checks that the
stub offers every name of the real façade's ``__all__``, so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "latent_upscale.webui"
#: Glue modules that import no host code: they survive a stub (and need not be re-imported).
HOST_FREE = frozenset({f"{PACKAGE}.job", f"{PACKAGE}.model", f"{PACKAGE}.patches", f"{PACKAGE}.state"})


class StubImg2Img:
    """Stands in for ``StableDiffusionProcessingImg2Img``: what the glue reads and patches on ``p``."""

    def __init__(self, **attributes: Any) -> None:
        self.extra_generation_params: dict[str, Any] = {}
        self.sampler_noise_scheduler_override = None
        self.resize_mode = 3
        self.width = self.height = 64
        self.steps = 10
        self.init_images: list[Any] = []
        self.image_mask = None
        self.sd_model = None
        vars(self).update(attributes)

    def init(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def img2img_image_conditioning(self, source_image: Any, latent_image: Any, *args: Any) -> Any:
        return source_image


class StubTxt2Img:
    """Stands in for ``StableDiffusionProcessingTxt2Img``."""

    def __init__(self, **attributes: Any) -> None:
        self.extra_generation_params: dict[str, Any] = {}
        self.enable_hr = True
        self.hr_upscaler = "Latent"
        vars(self).update(attributes)

    def sample_hr_pass(self, samples: Any, *args: Any, **kwargs: Any) -> Any:
        return samples

    def close(self) -> None:
        pass


@dataclass
class StubCallbacks:
    """``modules.script_callbacks``: records what was registered."""

    registered: list[tuple[str, Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda callback, **kwargs: self.registered.append((name, callback))


class StubXyzModule(types.ModuleType):
    """The parts of ``scripts/xyz_grid.py`` our axes use."""

    class AxisOption:
        def __init__(self, label: str, type: Any, apply: Any, **kwargs: Any) -> None:
            self.label, self.type, self.apply = label, type, apply
            vars(self).update(kwargs)

    class AxisOptionImg2Img(AxisOption):
        is_img2img = True

    def __init__(self) -> None:
        super().__init__("xyz_grid.py")
        self.axis_options: list[Any] = [self.AxisOption("Seed", int, None)]


class HostStub(types.ModuleType):
    """The façade's names over plain Python state: ``opts`` (a dict), ``model``, ``modes``, ``processed``."""

    def __init__(
        self, *, opts: dict | None = None, model: object = None, models_path: Path | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}.host")
        self.TITLE = "Latent Upscale"
        self.HOST_NAME = "stub"
        self.log = logging.getLogger("latent_upscale")
        self.opts: dict[str, Any] = dict(opts or {})
        self.model = model
        self.modes: dict[str, dict[str, object]] = {"Latent": {"mode": "bilinear", "antialias": False}}
        self.added_options: dict[str, Any] = {}
        self.models_root = models_path or Path("/nonexistent/webui/models")
        self.xyz: StubXyzModule | None = StubXyzModule()
        self.processed: list[Any] = []
        self.refused: list[str] = []
        self.downloads: list[str] = []
        self.overlay_resized = True
        self.shared = types.SimpleNamespace(opts=types.SimpleNamespace(data=self.opts), hf_endpoint=None)
        self.processing = types.SimpleNamespace(
            StableDiffusionProcessingImg2Img=StubImg2Img, StableDiffusionProcessingTxt2Img=StubTxt2Img
        )
        self.script_callbacks = StubCallbacks()
        self.scripts = types.SimpleNamespace(scripts_data=[], AlwaysVisible=object())

    # --- the façade (host.py's __all__) -------------------------------------------------------------------
    def option(self, key: str, default: object) -> object:
        return self.opts.get(key, default)

    def option_info(
        self, default: object, label: str, component: object = None, component_args: object = None
    ) -> object:
        return types.SimpleNamespace(
            default=default, label=label, component=component, component_args=component_args
        )

    def add_option(self, key: str, info: Any, section: tuple[str, str]) -> None:
        info.section = section
        self.added_options[key] = info

    def latent_upscale_modes(self) -> dict[str, dict[str, object]]:
        return self.modes

    def models_path(self) -> Path:
        return self.models_root

    def downloader(self) -> Any:
        def download(url: str, folder: Path, file_name: str) -> str:  # no network: record and fail
            self.downloads.append(url)
            raise OSError(f"stub host has no network: {url}")

        return download

    def loaded_model(self) -> object | None:
        return self.model

    def is_img2img(self, p: object) -> bool:
        return isinstance(p, StubImg2Img)

    def is_loaded_checkpoint(self, title: object) -> bool:
        info = getattr(self.model, "sd_checkpoint_info", None)
        return info is not None and title in (getattr(info, "title", None), getattr(info, "name", None))

    def is_txt2img(self, p: object) -> bool:
        return isinstance(p, StubTxt2Img)

    def resizes_mask_for_overlay(self) -> bool:
        return self.overlay_resized

    def sigma_device(self) -> object:
        return "cpu"

    def xyz_grid_module(self) -> object | None:
        return self.xyz

    def process_images(self, p: Any) -> Any:
        self.processed.append(p)
        return types.SimpleNamespace(images=["image"], p=p)

    def refuse_job(self, p: Any, message: str) -> Any:  # the UI's answer: no images, the message
        self.refused.append(message)
        return types.SimpleNamespace(images=[], info=message, p=p)

    def script_args_sent(self, p: Any, count: int) -> int | None:
        return None

    # --- for tests --------------------------------------------------------------------------------------
    def glue(self, name: str) -> Any:
        """``latent_upscale.webui.<name>`` imported on top of this stub."""
        return importlib.import_module(f"{PACKAGE}.{name}")


def _glue_modules() -> dict[str, Any]:
    return {
        name: module
        for name, module in sys.modules.items()
        if name.startswith(f"{PACKAGE}.") and name not in HOST_FREE
    }


def _drop(names: Any) -> None:
    package = sys.modules.get(PACKAGE)
    for name in names:
        module = sys.modules.pop(name, None)
        child = name.rpartition(".")[2]
        if package is not None and module is not None and getattr(package, child, None) is module:
            delattr(package, child)


@contextlib.contextmanager
def host_stub(**kwargs: Any) -> Iterator[HostStub]:
    """Import the glue on a fresh :class:`HostStub` for the duration of the block."""
    import latent_upscale.webui as package

    saved = _glue_modules()
    _drop(saved)
    stub = HostStub(**kwargs)
    sys.modules[stub.__name__] = stub
    package.host = stub  # `from latent_upscale.webui import host` reads the attribute first
    try:
        yield stub
    finally:
        _drop(_glue_modules())
        for name, module in saved.items():
            sys.modules[name] = module
            setattr(package, name.rpartition(".")[2], module)
