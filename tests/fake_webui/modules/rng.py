"""Mirrors modules/rng.py ImageRNG (v1.10.1): one deterministic noise tensor per seed.

``ImageRNG(shape, seeds, ...)``: ``next()`` returns ``(len(seeds), *shape)`` standard normal noise on
``shared.device``, seeded per image (CPU generator). Simplified: variation seeds and seed resizing are
ignored.
"""

import torch

from modules import devices


def randn(seed, shape, generator=None):
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    return torch.randn(shape, generator=g, dtype=torch.float32).to(devices.device)


def randn_local(seed, shape):
    return randn(seed, shape)


class ImageRNG:
    def __init__(
        self, shape, seeds, subseeds=None, subseed_strength=0.0, seed_resize_from_h=0, seed_resize_from_w=0
    ):
        self.shape = tuple(int(x) for x in shape)
        self.seeds = seeds
        self.subseeds = subseeds
        self.subseed_strength = subseed_strength
        self.is_first = True
        self.calls = 0

    def first(self):
        return torch.stack([randn(seed, self.shape) for seed in self.seeds])

    def next(self):
        if self.is_first:
            self.is_first = False
            return self.first()
        self.calls += 1
        return torch.stack([randn(seed + 1000 * self.calls, self.shape) for seed in self.seeds])
