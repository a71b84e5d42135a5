"""An isolated place for neural weights: no user models folder, HF cache or download cache leaks in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from latent_upscale.lab.fixtures.random_weights import (
    city96_filename,
    city96_state_dict,
    save_safetensors,
    save_torch,
    sesqui_state_dict,
    ttl_state_dict,
)
from latent_upscale.neural import NeuralOptions, unload


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point every default location at ``tmp_path`` and clear the model cache."""
    monkeypatch.delenv("LATENT_UPSCALE_MODELS", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    unload()


def options(tmp_path: Path, **changes: Any) -> NeuralOptions:
    """Options that search ``tmp_path/models`` only and use ``tmp_path/hf`` as the HF cache."""
    settings: dict[str, Any] = {
        "models_dir": tmp_path / "models",
        "hf_cache_dir": tmp_path / "hf",
        "search_extension_models": False,
        "offline": False,
        "progress": False,
    }
    settings.update(changes)
    return NeuralOptions(**settings)


def put_city96(
    folder: Path, vae: str = "v1", factors: tuple[float, ...] = (1.25, 1.5, 2.0), **kw: Any
) -> list[Path]:
    """Small random city96 v2.1 files (width 8, depth 2) under their published names."""
    kw = {"width": 8, "depth": 2} | kw
    return [
        save_safetensors(city96_state_dict("2.1", seed=i, **kw), folder / city96_filename("2.1", vae, factor))
        for i, factor in enumerate(factors)
    ]


def put_sesqui(folder: Path, name: str = "SDXL", channels: int = 4, **kw: Any) -> Path:
    """A small random SesquiLSR file under its published name."""
    kw = {"width": 16, "in_depth": 1, "out_depth": 1} | kw
    return save_safetensors(sesqui_state_dict(channels, **kw), folder / f"upscaler_{name}.safetensors")


def put_ttl(folder: Path, filename: str = "sdxl_resizer.pt", **kw: Any) -> Path:
    """A small random NNLatentUpscale ``.pt`` under its published name."""
    kw = {"in_blocks": 1, "out_blocks": 1, "channels": 32} | kw
    return save_torch(ttl_state_dict(kw.pop("in_blocks"), kw.pop("out_blocks"), **kw), folder / filename)


#: Where SesquiLSR's files live on GitHub (``/{owner}/{repo}/raw/{ref}/models/``), served by the local hub.
SESQUI_PATH = "/LoganBooker/SesquiLSR/raw/main/models/"


def sesqui_bytes(tmp_path: Path, seed: int = 0) -> bytes:
    """A small SesquiLSR file (random weights in the real layout), as bytes to serve or pin."""
    state = sesqui_state_dict(4, width=16, in_depth=1, out_depth=1, seed=seed)
    return save_safetensors(state, tmp_path / "src" / f"s{seed}.safetensors").read_bytes()


def hub_options(tmp_path: Path, hub: Any, **changes: Any) -> NeuralOptions:
    """:func:`options` with downloads on, from ``hub`` (a :class:`tests.helpers.hub_server.LocalHub`)."""
    settings = {"allow_download": True, "hf_endpoint": hub.url, "sesqui_base_url": hub.url + SESQUI_PATH}
    return options(tmp_path, **(settings | changes))


def leftovers(folder: Path) -> list[str]:
    """What a download left in ``folder`` (names, sorted; empty when the folder does not exist)."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []
