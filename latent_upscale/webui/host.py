"""The one compatibility block: every ``modules.*`` import of the extension, with the version gaps
between A1111 1.6.0–1.10.1, Forge and reForge resolved once (``webui/HOST_SEAMS.md`` §0).

Importing this module needs a running WebUI (or the test host under ``tests/fake_webui``).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from pathlib import Path

from modules import processing, script_callbacks, scripts, shared

__all__ = [
    "HOST_NAME",
    "TITLE",
    "add_option",
    "downloader",
    "is_img2img",
    "is_loaded_checkpoint",
    "is_txt2img",
    "latent_upscale_modes",
    "loaded_model",
    "models_path",
    "option",
    "option_info",
    "process_images",
    "processing",
    "refuse_job",
    "resizes_mask_for_overlay",
    "script_args_sent",
    "script_callbacks",
    "scripts",
    "shared",
    "sigma_device",
    "xyz_grid_module",
]

log = logging.getLogger("latent_upscale")

TITLE = "Latent Upscale"


def process_images(p: object) -> object:
    """``modules.processing.process_images``, looked up per call so other extensions' wrappers apply."""
    return processing.process_images(p)


def refuse_job(p: object, message: str) -> object:
    """A job refused before it ran, as the host shows its own input errors.

    HTTP API jobs (``p.is_api``, set by ``modules/api/api.py`` in 1.6–1.10, Forge and reForge) raise
    the API module's ``HTTPException`` (FastAPI's) with status 422 and ``message`` as its ``detail``,
    as the host's own request checks do (``script_name_to_index``): its middleware answers with
    that status and prints no traceback. A UI job returns a ``Processed`` without images whose
    ``info`` and ``comments`` (``p.comment``) carry ``message`` (``modules/img2img.py`` shows both
    under the gallery; a raised error would print a traceback there, ``call_queue.wrap_gradio_call``).
    """
    log.warning("[Latent Upscale] job refused: %s", message)
    if getattr(p, "is_api", False):
        try:
            from modules.api import api as host_api

            error_class = host_api.HTTPException
        except (ImportError, AttributeError):
            error_class = None
        if error_class is not None:
            raise error_class(status_code=422, detail=f"Latent Upscale: {message}")
    comment = getattr(p, "comment", None)  # Processed copies p.comments (its comments= is unused)
    if callable(comment):
        comment(message)
    seed = getattr(p, "seed", -1)
    return processing.Processed(p, [], seed if isinstance(seed, int) else -1, message)


def script_args_sent(p: object, count: int) -> int | None:
    """How many of our ``count`` script args the HTTP client sent, or None when it cannot be told.

    The API slice-assigns the request's ``script_args`` into its default list
    (``init_script_args``: ``script_args[args_from:args_to] = request.script_args``), so a shorter
    list shifts the scripts after ours into our slice and a longer one shifts ours into theirs; the
    full list (``p.script_args``) is then shorter or longer than the runner's
    ``max(script.args_to)`` by exactly the difference.
    """
    runner, given = getattr(p, "scripts", None), getattr(p, "script_args", None)
    listed = getattr(runner, "scripts", None)
    if not getattr(p, "is_api", False) or not isinstance(given, (list, tuple)) or not listed:
        return None
    ends = [end for end in (getattr(script, "args_to", None) for script in listed) if isinstance(end, int)]
    if not ends:
        return None
    return count + len(given) - max(ends)


def _host_name() -> str:
    # reForge ships `ldm_patched/` and `modules_forge/`, Forge and Forge Neo only `modules_forge/` (and
    # `backend/`); their `launch_utils.git_tag()` returns `modules_forge.forge_version.version`, which
    # tells them apart ("neo" on Forge Neo).
    if importlib.util.find_spec("ldm_patched") is not None:
        return "reForge"
    if importlib.util.find_spec("modules_forge") is not None:
        try:
            from modules_forge import forge_version

            return f"Forge {forge_version.version}"
        except Exception:  # an older Forge without the module, or an odd version object
            return "Forge"
    return "A1111"


#: For log lines and bug reports only: behaviour never branches on the name, only on what exists.
HOST_NAME = _host_name()


def option(key: str, default: object) -> object:
    """A setting's value; unknown keys (an older config, a setting not yet registered) give ``default``.

    ``opts.<key>`` raises AttributeError for unknown keys, so read ``opts.data``.
    """
    data = getattr(shared.opts, "data", None) or {}
    return data.get(key, default)


def option_info(
    default: object, label: str, component: object = None, component_args: object = None
) -> object:
    """``shared.OptionInfo`` (all versions export it from ``modules.shared``)."""
    return shared.OptionInfo(default, label, component, component_args)


def add_option(key: str, info: object, section: tuple[str, str]) -> None:
    """Register a setting in our section; ``section`` is the 2-tuple every version accepts."""
    info.section = section  # type: ignore[attr-defined]
    shared.opts.add_option(key, info)


def latent_upscale_modes() -> dict[str, dict[str, object]]:
    """The host's hires-fix latent upscaler table (``modules/shared.py``, every version)."""
    return shared.latent_upscale_modes


def models_path() -> Path:
    """``<data_dir>/models`` (``--models-dir`` on 1.10/Forge/reForge)."""
    try:
        from modules import paths

        return Path(paths.models_path)
    except (ImportError, AttributeError):
        return Path(shared.models_path)


def downloader() -> object:
    """``(url, folder, file_name) → path`` through the WebUI's own ``modelloader.load_file_from_url``
    (keyword-only ``model_dir``/``file_name`` in 1.6.0–1.10.1, Forge and reForge), so downloads show
    the host's progress bar and honour its settings. The neural room checks the SHA-256 afterwards."""

    def download(url: str, folder: Path, file_name: str) -> str:
        from modules import modelloader

        return modelloader.load_file_from_url(url, model_dir=str(folder), file_name=file_name)

    return download


def loaded_model() -> object | None:
    """The loaded checkpoint, or None, without loading one.

    From 1.6, reading ``shared.sd_model`` *loads* a model when none is loaded yet
    (``shared_items.Shared.sd_model`` → ``sd_models.model_data.get_sd_model``), which must not happen
    while the UI is built or a hint is drawn; ``model_data.sd_model`` is the plain attribute.
    """
    try:
        from modules import sd_models

        data = getattr(sd_models, "model_data", None)
    except ImportError:
        data = None
    if data is not None and hasattr(data, "sd_model"):
        return data.sd_model
    return getattr(shared, "sd_model", None)


def is_loaded_checkpoint(title: object) -> bool:
    """Whether the loaded model is the checkpoint a dropdown names (its title, name or file name)."""
    info = getattr(loaded_model(), "sd_checkpoint_info", None)
    names = {getattr(info, key, None) for key in ("title", "name", "name_for_extra", "model_name")}
    return info is not None and title in names - {None}


def is_img2img(p: object) -> bool:
    """True for an img2img job."""
    return isinstance(p, processing.StableDiffusionProcessingImg2Img)


def is_txt2img(p: object) -> bool:
    """True for a txt2img job."""
    return isinstance(p, processing.StableDiffusionProcessingTxt2Img)


def sigma_device() -> object:
    """Where custom sigmas go: 1.6–1.9 use the override's result as returned, on ``shared.device`` like
    their own schedules; 1.10/Forge/reForge move it themselves (``.cpu()``, then ``x.device``)."""
    return shared.device


def _a1111_version() -> tuple[int, ...] | None:
    """The A1111 release the host is (or tracks), from ``launch_utils.git_tag()`` ("v1.10.1",
    "f2.0.1v1.10.1-previous-669" on Forge), or None when the tag says nothing (a zip install)."""
    try:
        from modules import launch_utils

        tag = str(launch_utils.git_tag())
    except Exception:  # no git, no CHANGELOG: the host's own fallback is "<none>"
        return None
    found = re.search(r"v(\d+)\.(\d+)(?:\.(\d+))?", tag)
    return tuple(int(part or 0) for part in found.groups()) if found else None


@functools.cache
def resizes_mask_for_overlay() -> bool:
    """True where img2img resizes ``mask_for_overlay`` to the source image (A1111 1.9.1+, Forge, reForge):
    there a masked job with masked content "original" can stay in latent space (``HOST_SEAMS.md`` §1)."""
    if HOST_NAME != "A1111":
        return True
    version = _a1111_version()
    if version is not None:
        return version >= (1, 9, 1)
    # No version to read: 1.10's hook is a safe sign of a release that has the fix.
    return hasattr(scripts.Script, "process_before_every_sampling")


def xyz_grid_module() -> object | None:
    """The built-in X/Y/Z plot script's module, found as the hypertile extension finds it."""
    for data in getattr(scripts, "scripts_data", []):
        if getattr(data.script_class, "__module__", None) == "xyz_grid.py":
            return data.module
    return None
