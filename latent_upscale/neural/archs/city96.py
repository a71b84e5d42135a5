"""city96 SD-Latent-Upscaler (v1.0 and v2.x): a plain convolution stack around a nearest upsample.

Original project: https://github.com/city96/SD-Latent-Upscaler (``upscaler.py``,
``comfy_latent_upscaler.py``), Apache-2.0; weights on the Hugging Face Hub in
``city96/SD-Latent-Upscaler`` under the same licence. This module is our own implementation, written
against the published key layout so the original ``.safetensors`` files load with ``strict=True``:

* v2.x: ``sequential.0`` conv 4→64 3×3, ReLU, ``Upsample(factor, "nearest")``, ReLU, then 16 ×
  (conv 64→64 3×3, ReLU) at ``sequential.4, 6, …, 34`` and conv 64→4 3×3 at ``sequential.36``.
* v1.0: ``sequential.0`` conv 4→64 5×5, then 7×7 convs 64→64, 64→64, 64→32 at ``4, 6, 8`` and
  conv 32→4 5×5 at ``10``.

Every conv has "same" zero padding (kernel // 2). The factor is not stored in the weights; it comes
from the file name (``latent-upscaler-v2.1_SDxl-x1.5.safetensors``) or the caller. Trained on raw
(unscaled) VAE latents of SD 1.5 ("v1") or SDXL ("xl") (``preprocess_latents.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch.nn.functional as F
from torch import Tensor, nn

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import LatentFormat
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = ["ARCH_ID", "SIGNATURE_KEYS", "City96Upscaler", "detect", "load"]

ARCH_ID = "city96"
NAME = "city96"
#: Detected after these architectures (its detector is the loosest: any ``sequential.N`` stack).
BEFORE: tuple[str, ...] = ()
#: Keys every city96 file has (used by detection and by "most resembles" error messages).
SIGNATURE_KEYS = ("sequential.0.weight", "sequential.0.bias", "sequential.4.weight", "sequential.4.bias")
#: The ReLU / Upsample / ReLU after the first conv occupy indices 1-3; convs then sit at 4, 6, 8, …
_FIRST_BODY_INDEX = 4
_V1_KERNELS = (5, 7, 7, 7, 5)
_V1_WIDTHS = (64, 64, 64, 32, 4)
_KEY = re.compile(r"^sequential\.(\d+)\.(weight|bias)$")


class City96Upscaler(nn.Module):
    """conv → ReLU → nearest ×factor → [conv → ReLU]* → conv, with city96's ``sequential`` indices.

    The factor is an argument of :meth:`forward`, not a constructor parameter, so one loaded copy
    serves any factor (the real files differ only in their weights). Indices 1-3 of ``sequential``
    hold the ReLU / placeholder / ReLU that the original keeps there, so parameter names match.
    """

    def __init__(self, layers: list[tuple[int, int, int]]) -> None:
        super().__init__()
        if len(layers) < 2:
            raise ValueError("a city96 network has at least a head and a tail convolution")
        modules: list[nn.Module] = []
        for position, (in_channels, out_channels, kernel) in enumerate(layers):
            modules.append(nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2))
            if position == 0:
                # The upsample happens in forward(); Identity keeps index 2 free of parameters.
                modules += [nn.ReLU(), nn.Identity(), nn.ReLU()]
            elif position < len(layers) - 1:
                modules.append(nn.ReLU())
        self.sequential = nn.Sequential(*modules)
        self.convs = [module for module in modules if isinstance(module, nn.Conv2d)]

    def forward(self, x: Tensor, factor: float) -> Tensor:
        """Enlarge ``x`` by ``factor``; the output is ``floor(size × factor)`` like ``nn.Upsample``."""
        head, *body, tail = self.convs
        x = F.relu_(head(x))
        # nn.Upsample(scale_factor=f) maps output pixel i to input floor(i / f); so does this call.
        # The original's second ReLU after the upsample is a no-op on already non-negative values.
        x = F.interpolate(x, scale_factor=factor, mode="nearest")
        for conv in body:
            x = F.relu_(conv(x))  # in place: one activation buffer fewer per layer
        return tail(x)


def forward(model: nn.Module, x: Tensor, size: tuple[int, int], grid: object, factor: float | None) -> Tensor:
    """The descriptor's call: enlarge by ``factor``. Tiles are aligned to the factor's denominator by
    the tiler, so each samples the whole image's grid and ``grid`` is not needed."""
    if factor is None:
        raise LatentUpscaleError("city96: the scale factor is unknown (it is not stored in the weights)")
    return model(x, factor)


def detect(state_dict: Mapping[str, Tensor]) -> bool:
    """True for state dicts made only of ``sequential.N.weight/bias`` 4-D convs (may be a false positive)."""
    if not all(key in state_dict for key in SIGNATURE_KEYS):
        return False
    return state_dict["sequential.0.weight"].dim() == 4 and all(
        key.startswith("sequential.") for key in state_dict
    )


def _conv_layers(state_dict: Mapping[str, Tensor]) -> list[tuple[int, int, int]]:
    indices: set[int] = set()
    for key in state_dict:
        match = _KEY.match(key)
        if match is None:
            raise LatentUpscaleError(f"city96: unexpected key {key!r} (expected sequential.N.weight/bias)")
        indices.add(int(match.group(1)))
    expected = [0, *range(_FIRST_BODY_INDEX, _FIRST_BODY_INDEX + 2 * (len(indices) - 1), 2)]
    if sorted(indices) != expected:
        raise LatentUpscaleError(
            f"city96: convolution indices {sorted(indices)} do not follow the layout 0, 4, 6, 8, … "
            f"(expected {expected})"
        )
    layers = []
    for index in expected:
        weight = state_dict.get(f"sequential.{index}.weight")
        if weight is None or weight.dim() != 4 or weight.shape[2] != weight.shape[3]:
            shape = None if weight is None else tuple(weight.shape)
            raise LatentUpscaleError(
                f"city96: sequential.{index}.weight should be a square conv kernel, found {shape}"
            )
        layers.append((int(weight.shape[1]), int(weight.shape[0]), int(weight.shape[2])))
    return layers


def _version(layers: list[tuple[int, int, int]]) -> str:
    kernels = tuple(kernel for _, _, kernel in layers)
    widths = tuple(out for _, out, _ in layers)
    if kernels == _V1_KERNELS and widths == _V1_WIDTHS:
        return "1.0"
    if len(layers) == 18 and set(kernels) == {3} and widths == (64,) * 17 + (4,):
        return "2.x"  # 2.0 and 2.1 share the architecture; the file name tells them apart
    return "custom"


def load(state_dict: Mapping[str, Tensor]) -> ModelDescriptor:
    """Build the network from the tensor shapes, load the weights strictly and describe it."""
    layers = _conv_layers(state_dict)
    model = City96Upscaler(layers)
    model.load_state_dict(dict(state_dict), strict=True)
    version = _version(layers)
    # Output pixel depends on inputs within: head radius + the rest of the kernels (in output px,
    # which are at most as large as input px for factors ≥ 1).
    radius = sum(kernel // 2 for _, _, kernel in layers)
    return ModelDescriptor(
        arch=ARCH_ID,
        name=NAME,
        version=version,
        family=None,
        in_channels=layers[0][0],
        out_channels=layers[-1][1],
        convention=LatentFormat(),
        factors=(),
        scale_range=None,
        supports_fp16=True,  # trained under fp16 autocast (train.py)
        supports_bf16=True,
        preferred_half="fp16",
        receptive_radius=radius,
        min_input_size=1,
        auto_tile_output_pixels=512 * 512,
        channels_last=True,
        hyperparameters={"layers": tuple(layers)},
        model=model.eval().requires_grad_(False),
        forward=forward,
        tile_tolerance=1e-5,
    )
