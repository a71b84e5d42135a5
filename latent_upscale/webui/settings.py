"""The "Latent Upscale" settings section, and what the rest of the glue reads from it.

Every read goes through :func:`latent_upscale.webui.host.option` with our default, so an old
``config.json``, an unknown key or a setting not yet registered never breaks a job.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.resize_methods import get_method, registered_methods
from latent_upscale.schedules import AUTOMATIC, get_schedule, registered_schedules
from latent_upscale.webui import host
from latent_upscale.webui.job import JobOptions, method_id, schedule_id

__all__ = ["SECTION", "SETTINGS", "Setting", "default_job_options", "neural_options", "register_settings"]

SECTION = ("latent_upscale", "Latent Upscale")


@dataclass(frozen=True)
class Setting:
    """One entry of our settings section."""

    key: str
    default: object
    label: str
    kind: str = "text"  # "text" | "checkbox" | "dropdown" | "slider"
    choices: tuple[str, ...] = ()
    slider: tuple[float, float, float] = (0, 1, 1)


SETTINGS: tuple[Setting, ...] = (
    # Labels, as the script shows them (gradio 3.41 has no value/label pairs); ids are read too.
    Setting(
        "latent_upscale_default_method",
        get_method(DEFAULT_METHOD).label,
        "Default upscale method (img2img script)",
        "dropdown",
        tuple(m.label for m in registered_methods()),
    ),
    Setting(
        "latent_upscale_default_schedule",
        get_schedule(AUTOMATIC).label,
        "Default noise schedule (img2img script)",
        "dropdown",
        tuple(s.label for s in registered_schedules()),
    ),
    Setting(
        "latent_upscale_exact_steps", True, "Exact step count on by default (img2img script)", "checkbox"
    ),
    Setting(
        "latent_upscale_models_dir",
        "",
        "Neural weights folder (empty: models/LatentUpscaler under the WebUI models folder)",
    ),
    Setting("latent_upscale_allow_download", True, "Allow downloading missing neural weights", "checkbox"),
    Setting(
        "latent_upscale_hf_repo",
        "",
        "Hugging Face mirror of the city96 weights (owner/name; empty: city96/SD-Latent-Upscaler)",
    ),
    Setting(
        "latent_upscale_hf_revision",
        "",
        "Hugging Face revision (branch, tag or commit) of the city96 weights or their mirror; empty: the "
        "pinned commit",
    ),
    Setting(
        "latent_upscale_precision",
        "auto",
        "Neural precision (auto: float32 on CPU, half on GPU)",
        "dropdown",
        ("auto", "fp32", "fp16", "bf16"),
    ),
    Setting(
        "latent_upscale_device",
        "auto",
        "Neural device (auto: where the latent is)",
        "dropdown",
        ("auto", "cpu"),
    ),
    Setting(
        "latent_upscale_tile_size",
        0,
        "Neural tile size in latent pixels (0: automatic)",
        "slider",
        slider=(0, 512, 16),
    ),
)
_DEFAULTS = {s.key: s.default for s in SETTINGS}


def _get(key: str) -> object:
    return host.option(key, _DEFAULTS[key])


_AS_LABEL = {
    "latent_upscale_default_method": lambda value: get_method(method_id(value)).label,
    "latent_upscale_default_schedule": lambda value: get_schedule(schedule_id(value)).label,
}


def _show_saved_ids_as_labels() -> None:
    # A config saved before the settings showed labels holds ids: show them as the labels they are.
    data = getattr(host.shared.opts, "data", None)
    for key, as_label in _AS_LABEL.items():
        if data is not None and key in data:
            # An unknown value stays: default_job_options() falls back, the dropdown shows it.
            with contextlib.suppress(ValueError):
                data[key] = as_label(data[key])


def register_settings() -> None:
    """``on_ui_settings`` callback: add our section (called while the settings UI is built)."""
    import gradio as gr

    _show_saved_ids_as_labels()
    for setting in SETTINGS:
        if setting.kind == "checkbox":
            component, args = gr.Checkbox, None
        elif setting.kind == "dropdown":
            component, args = gr.Dropdown, {"choices": list(setting.choices)}
        elif setting.kind == "slider":
            low, high, step = setting.slider
            component, args = gr.Slider, {"minimum": low, "maximum": high, "step": step}
        else:
            component, args = gr.Textbox, None
        host.add_option(
            setting.key, host.option_info(setting.default, setting.label, component, args), SECTION
        )


def default_job_options() -> JobOptions:
    """The script's defaults from settings; a stale or invalid saved value falls back to ours."""
    try:
        return JobOptions(
            method=str(_get("latent_upscale_default_method")),
            schedule=str(_get("latent_upscale_default_schedule")),
            exact_steps=bool(_get("latent_upscale_exact_steps")),
        )
    except ValueError:
        return JobOptions()


def _setting_error(key: str, value: object, expected: str) -> LatentUpscaleError:
    label = next(s.label for s in SETTINGS if s.key == key)
    return LatentUpscaleError(
        f"the setting '{label}' (Settings → Latent Upscale) holds {value!r}; expected {expected}",
        summary=f"setting '{label}' holds {value!r}; expected {expected}",
    )


def models_dir() -> Path:
    """Where neural weights are looked for first and downloaded to: the setting, else the WebUI's
    ``models/LatentUpscaler`` (the runner also searches ``models/`` inside the extension).

    Raises LatentUpscaleError naming the setting when the saved folder cannot be read as a path
    (``~nouser/x``: an unknown user's home).
    """
    value = _get("latent_upscale_models_dir")
    configured = str(value or "").strip()
    if not configured:
        return host.models_path() / "LatentUpscaler"
    try:
        return Path(configured).expanduser()
    except (RuntimeError, ValueError, OSError):
        raise _setting_error("latent_upscale_models_dir", value, "a folder") from None


def _tile_size() -> int | None:
    value = _get("latent_upscale_tile_size")
    try:
        number: float | None = float(value or 0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = None
    if number is None or not number.is_integer() or number < 0:
        raise _setting_error(
            "latent_upscale_tile_size", value, "a whole number of latent pixels (0: automatic)"
        )
    return int(number) or None  # 0 in the settings means automatic


def _choice(key: str, choices: tuple[str, ...]) -> str:
    value = _get(key)
    if value not in choices:
        raise _setting_error(key, value, f"one of {', '.join(choices)}")
    return str(value)


def neural_options() -> NeuralOptions:
    """Neural runner options from settings.

    Raises LatentUpscaleError naming the setting when a saved value is unusable (tile size "abc",
    precision "fp64"): the hint shows it, a job falls back and says so.
    """
    setting = {s.key: s for s in SETTINGS}
    device = _choice("latent_upscale_device", setting["latent_upscale_device"].choices)
    return NeuralOptions(
        # Ours first (downloads go there), then the hosts' tiny-autoencoder folders: A1111 1.6-1.10,
        # Forge, reForge and Forge Neo keep taesd*/taef*_{encoder,decoder}.pth in models/VAE-taesd
        # (modules/sd_vae_taesd.py); people also put them beside the "approx" network in VAE-approx.
        models_dir=[models_dir(), host.models_path() / "VAE-taesd", host.models_path() / "VAE-approx"],
        downloader=host.downloader(),  # type: ignore[arg-type]
        allow_download=bool(_get("latent_upscale_allow_download")),
        # Empty: every file from its catalog entry's own place; a mirror serves city96's files only.
        hf_repo_id=str(_get("latent_upscale_hf_repo") or "") or None,
        hf_revision=str(_get("latent_upscale_hf_revision") or ""),
        # 1.9+ read HF_ENDPOINT into shared.hf_endpoint; huggingface-hub reads the variable itself too.
        hf_endpoint=getattr(host.shared, "hf_endpoint", None),
        precision=_choice("latent_upscale_precision", setting["latent_upscale_precision"].choices),
        device=None if device == "auto" else device,
        tile_size=_tile_size(),
    )
