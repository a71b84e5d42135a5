"""A resize method registered for one test only: it records the family each call's request carries."""

from __future__ import annotations

import pytest
import torch

from latent_upscale import resize_methods
from latent_upscale.core import Method, UpscaleResult


def register_probe_method(monkeypatch: pytest.MonkeyPatch, method_id: str = "probe") -> list[str | None]:
    """Register ``method_id`` (nearest resize) until the test ends; returns the list each call's
    ``request.family`` is appended to (proves a newly registered method is run, and with which family)."""
    families: list[str | None] = []

    def run(latent: torch.Tensor, size: tuple[int, int], request) -> UpscaleResult:
        families.append(request.family)
        return UpscaleResult(latent=torch.nn.functional.interpolate(latent, size=size), method=method_id)

    probe = Method(id=method_id, label="Probe", advice="test only", run=run)
    monkeypatch.setitem(resize_methods._REGISTRY, method_id, probe)
    return families
