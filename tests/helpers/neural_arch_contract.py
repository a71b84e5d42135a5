"""The contract every registered architecture's test class inherits (diffusers' scheduler-test style).

A subclass sets ``arch`` (the architecture module) and implements :meth:`random_weights` (small
random weights in the real layout: one state dict, or ``{part: state dict}`` for a weight set of
several files) and optionally ``target`` (an output size the network serves). The base class then
proves: strict loading from those weights, detection by exactly this architecture among all
registered ones, a forward pass that keeps batch, channels and dtype and lands on the target size,
and tiling that agrees with the untiled run within the tolerance the descriptor declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import ClassVar

import pytest
import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.neural import archs
from latent_upscale.neural.archs import load_descriptor, load_weight_set
from latent_upscale.neural.descriptor import ModelDescriptor
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.runner import run_step

StateDict = Mapping[str, Tensor]


class ArchitectureContract:
    """Inherit and set ``arch``; pytest collects the ``test_*`` methods for each subclass."""

    arch: ClassVar[ModuleType]
    #: ``(source, target)`` latent sizes for the forward and tiling checks.
    source: ClassVar[tuple[int, int]] = (61, 45)
    target: ClassVar[tuple[int, int]] = (91, 67)
    #: The fixed factor to run a fixed-factor network at.
    factor: ClassVar[float | None] = None

    def random_weights(self) -> StateDict | dict[str, StateDict]:
        raise NotImplementedError

    def file_names(self) -> dict[str, str] | None:
        """``{part: file name}`` for a weight set whose variants only their published names tell
        apart (TAESD/TAESDXL); ``None`` when the layout says everything."""
        return None

    # --- helpers -----------------------------------------------------------------------------------

    def _files(self) -> list[StateDict]:
        weights = self.random_weights()
        parts = getattr(self.arch, "PARTS", ())
        return [weights[part] for part in parts] if parts else [weights]  # type: ignore[index]

    def _names(self) -> list[str | None] | None:
        names = self.file_names()
        return [names.get(part) for part in self.arch.PARTS] if names else None

    def descriptor(self) -> ModelDescriptor:
        files = self._files()
        descriptor = load_weight_set(files, self._names()) if len(files) > 1 else load_descriptor(files[0])
        if self.factor is not None:
            from dataclasses import replace

            descriptor = replace(descriptor, factors=(self.factor,))
        return descriptor

    def latent(self, descriptor: ModelDescriptor, dtype: torch.dtype = torch.float32) -> Tensor:
        generator = torch.Generator().manual_seed(0)
        return torch.randn(2, descriptor.in_channels, *self.source, generator=generator).to(dtype)

    # --- the contract ------------------------------------------------------------------------------

    def test_loads_strictly_from_random_weights_in_its_layout(self):
        descriptor = self.descriptor()
        assert descriptor.arch == self.arch.ARCH_ID and descriptor.model is not None
        assert descriptor.forward is not None, "the descriptor must carry the architecture's call"
        files = [dict(state) for state in self._files()]
        files[0]["stray.weight"] = torch.zeros(1)  # strict loading refuses a key the layout lacks
        with pytest.raises(LatentUpscaleError):  # refused by detection or by strict loading
            load_weight_set(files, self._names()) if len(files) > 1 else load_descriptor(files[0])

    def test_detection_is_unique_among_registered_architectures(self):
        assert self.arch in archs.ARCHITECTURES, f"{self.arch.ARCH_ID} is not registered"
        for state in self._files():
            claims = [arch.ARCH_ID for arch in archs.ARCHITECTURES if arch.detect(state)]
            assert claims == [self.arch.ARCH_ID]

    def test_forward_keeps_batch_channels_and_dtype_and_lands_on_the_target(self):
        descriptor = self.descriptor()
        for dtype in (torch.float32, torch.bfloat16) if descriptor.supports_bf16 else (torch.float32,):
            model = descriptor.model.to(dtype)  # type: ignore[union-attr]
            with torch.inference_mode():
                out = descriptor(self.latent(descriptor, dtype), self.target)
            model.float()
            assert out.shape == (2, descriptor.out_channels, *self.target) and out.dtype == dtype
            assert torch.isfinite(out).all()

    def test_tiling_agrees_with_the_untiled_run_within_the_declared_tolerance(self):
        descriptor = self.descriptor()
        latent = self.latent(descriptor)
        with torch.inference_mode():  # the runner's own tiling path, tiles of 32 latent pixels
            whole, _ = run_step(descriptor, latent, self.factor, self.target, NeuralOptions(tile_size=0))
            tiled, count = run_step(descriptor, latent, self.factor, self.target, NeuralOptions(tile_size=32))
        assert count > 1, "the check must actually tile"
        relative = float((tiled - whole).norm() / whole.norm())
        assert relative <= max(descriptor.tile_tolerance, 1e-6), (relative, descriptor.tile_tolerance)
