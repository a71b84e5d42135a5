"""Helpers for testing the WebUI glue on the fake host (tests/helpers/webui.py).

The glue's modules are imported fresh inside each fake host (the fixture purges them on exit), so
these helpers look them up in ``sys.modules`` after ``host.start()`` instead of importing them at the
top of a test module.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latent_upscale.webui.job import JobOptions

TITLE = "Latent Upscale"
HOOKS_TITLE = "Latent Upscale hooks"
OUR_HIRES_KEYS = ("Latent (bislerp)", "Latent (lanczos)", "Latent (area)", "Latent (neural)")


def job_args(
    method: str = "bislerp", schedule: str = "automatic", exact_steps: bool = True, **params: float
) -> list:
    """The script's ``script_args`` (UI values, labels for the dropdowns) for these choices."""
    return JobOptions(
        method=method, schedule=schedule, exact_steps=exact_steps, schedule_params=params
    ).ui_values()


def start(host: Any, args: list | None = None) -> None:
    """``host.start()`` without gradio: our script's UI values stand in for its components."""
    host.start(ui_values={TITLE: args if args is not None else job_args()})


def glue(name: str) -> Any:
    """A glue module as the running fake host imported it (``latent_upscale.webui.<name>``)."""
    return sys.modules[f"latent_upscale.webui.{name}"]


def source_latent(host: Any, image: Any) -> torch.Tensor:
    """The host's own model-space encode of ``image`` at its size, as img2img ``init()`` makes it."""
    pixels = torch.from_numpy(np.moveaxis(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0, 2, 0))[
        None
    ]
    return host.sd_samplers_common.images_tensor_to_samples(pixels, 0, host.sd_model)


@dataclass
class ResizeSpy:
    """Every latent our glue resized during a job: (input, size, method) and what it returned."""

    calls: list[tuple[torch.Tensor, tuple[int, int], str]] = field(default_factory=list)
    results: list[torch.Tensor] = field(default_factory=list)


def spy_resizes(monkeypatch: Any) -> ResizeSpy:
    """Record the glue's resizes (after ``start``): proves which latent it saw and what it produced."""
    resize = glue("resize")
    spy = ResizeSpy()
    original = resize.resize_host_latent

    def recording(p, method, latent, size, call_host, **kwargs):
        spy.calls.append((latent.detach().clone(), tuple(size), method))
        result = original(p, method, latent, size, call_host, **kwargs)
        spy.results.append(result.detach().clone())
        return result

    monkeypatch.setattr(resize, "resize_host_latent", recording)
    return spy


def capture_jobs(monkeypatch: Any) -> list[Any]:
    """Every ``p`` our always-on hook saw (to inspect it after the job)."""
    entry = glue("entry")
    seen: list[Any] = []
    original = entry.before_job

    def recording(p):
        seen.append(p)
        return original(p)

    monkeypatch.setattr(entry, "before_job", recording)
    return seen


def patched_names(obj: Any) -> set[str]:
    """Instance attributes that shadow a method of the object's class (what our patches would leave)."""
    return {name for name in vars(obj) if callable(getattr(type(obj), name, None))}


def put_city96_weights(folder: Path, vae: str = "v1", factors: tuple[float, ...] = (1.25, 1.5, 2.0)) -> Path:
    """Small random city96 v2.1 files in the real layout and names."""
    from latent_upscale.lab.fixtures.random_weights import (
        city96_filename,
        city96_state_dict,
        save_safetensors,
    )

    folder.mkdir(parents=True, exist_ok=True)
    for factor in factors:
        save_safetensors(
            city96_state_dict("2.1", width=8, depth=2, seed=int(factor * 100)),
            folder / city96_filename("2.1", vae, factor),
        )
    return folder


def put_sesqui_weights(folder: Path, name: str, channels: int) -> Path:
    """A small random SesquiLSR file in the real layout."""
    from latent_upscale.lab.fixtures.random_weights import save_safetensors, sesqui_state_dict

    folder.mkdir(parents=True, exist_ok=True)
    return save_safetensors(
        sesqui_state_dict(in_channels=channels, width=16, in_depth=1, out_depth=1), folder / name
    )


def use_models_dir(host: Any, folder: Path, *, allow_download: bool = False) -> None:
    """Point the extension's settings at ``folder`` (what a user does in Settings → Latent Upscale)."""
    host.opts.data["latent_upscale_models_dir"] = str(folder)
    host.opts.data["latent_upscale_allow_download"] = allow_download
