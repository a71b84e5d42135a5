"""The kernels behind the resize methods that torch does not have: Pillow-rule filters (lanczos and
the triangle filter, applied band by band) and bislerp. The registry that names them for users is
:mod:`latent_upscale.resize_methods`.

- :mod:`latent_upscale.resize_kernels.filters`: separable resampling with Pillow's filter rule.
- :mod:`latent_upscale.resize_kernels.spherical`: spherical interpolation of channel vectors.
"""

from __future__ import annotations

from latent_upscale.resize_kernels.filters import lanczos, resample_axis
from latent_upscale.resize_kernels.spherical import bislerp

__all__ = ["bislerp", "lanczos", "resample_axis"]
