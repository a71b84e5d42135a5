"""Image quality metrics for the quality benchmark: PSNR, SSIM (scikit-image) and HaarPSI.

Images are ``numpy`` arrays ``[H, W, 3]`` (or ``[H, W]``), float, in [0, 1]. PSNR and SSIM come from
scikit-image (the ``bench`` extra); HaarPSI is a short implementation of

    R. Reisenhofer, S. Bosse, G. Kutyniok, T. Wiegand, "A Haar wavelet-based perceptual similarity
    index for image quality assessment", Signal Processing: Image Communication 61 (2018) 33-43,

written from the paper's definitions (section 3) and checked against the authors' published values
(``tests/test_bench_quality.py``): images in the 0-255 range, converted to YIQ for
colour, smoothed by a 2 × 2 mean and subsampled by 2; Haar filters of size 2^j × 2^j (values ±2^-j)
for scales j = 1, 2, 3 in both orientations; the local similarity of each orientation is the mean over
scales 1 and 2 of ``(2|a||b| + C) / (|a|² + |b|² + C)``; the weight map is the larger magnitude at scale 3;
for colour a third "orientation" compares the 2 × 2-averaged magnitudes of I and Q, weighted by the mean
of the other two weight maps; the score is ``(logit(Σ σ(α·S)·W / Σ W) / α)²`` with the logistic σ, and
the paper's constants C = 30, α = 4.2. It is 1 for identical images and falls towards 0 as they differ.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["HAARPSI_ALPHA", "HAARPSI_C", "haarpsi", "psnr", "ssim"]

HAARPSI_C = 30.0
HAARPSI_ALPHA = 4.2
_SCALES = 3

Image = NDArray[np.floating]


def _check_pair(reference: Image, distorted: Image) -> tuple[Image, Image]:
    reference = np.asarray(reference, dtype=np.float64)
    distorted = np.asarray(distorted, dtype=np.float64)
    if reference.shape != distorted.shape or reference.ndim not in (2, 3):
        raise ValueError(
            f"expected two images of the same [H, W] or [H, W, 3] shape, got {reference.shape} and "
            f"{distorted.shape}"
        )
    return reference, distorted


def psnr(reference: Image, distorted: Image) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1] (scikit-image); ``inf`` when identical."""
    from skimage.metrics import peak_signal_noise_ratio

    reference, distorted = _check_pair(reference, distorted)
    if np.array_equal(reference, distorted):
        return float("inf")
    return float(peak_signal_noise_ratio(reference, distorted, data_range=1.0))


def ssim(reference: Image, distorted: Image) -> float:
    """Structural similarity (Wang et al. 2004) as scikit-image computes it: 7 × 7 uniform windows,
    colour channels averaged, data range 1."""
    from skimage.metrics import structural_similarity

    reference, distorted = _check_pair(reference, distorted)
    channel_axis = -1 if reference.ndim == 3 else None
    return float(structural_similarity(reference, distorted, data_range=1.0, channel_axis=channel_axis))


def _convolve(image: Image, kernel: Image) -> Image:
    """2-D convolution with zero padding, output the size of ``image``, aligned as MATLAB's
    ``conv2(…, 'same')`` (the paper's reference implementation): for even kernels the central part of the
    full convolution starts at ``kernel_size // 2``, one sample later than SciPy's ``mode="same"``."""
    from scipy.signal import convolve2d

    full = convolve2d(image, kernel, mode="full")
    top, left = kernel.shape[0] // 2, kernel.shape[1] // 2
    return full[top : top + image.shape[0], left : left + image.shape[1]]


def _subsample(image: Image) -> Image:
    return _convolve(image, np.full((2, 2), 0.25))[::2, ::2]


def _haar_coefficients(image: Image) -> list[Image]:
    """Scales 1..3 of one orientation, then scales 1..3 of the other."""
    filters = []
    for scale in range(1, _SCALES + 1):
        size = 2**scale
        haar = np.full((size, size), 2.0**-scale)
        haar[: size // 2] *= -1.0
        filters.append(haar)
    return [_convolve(image, haar) for haar in filters] + [_convolve(image, haar.T) for haar in filters]


def _similarity(a: Image, b: Image) -> Image:
    return (2.0 * a * b + HAARPSI_C) / (a**2 + b**2 + HAARPSI_C)


def haarpsi(reference: Image, distorted: Image) -> float:
    """HaarPSI (Reisenhofer et al. 2018) of two images in [0, 1]; 1 for identical images, higher is better."""
    reference, distorted = _check_pair(reference, distorted)
    colour = reference.ndim == 3
    reference, distorted = reference * 255.0, distorted * 255.0

    def yiq(image: Image) -> tuple[Image, Image | None, Image | None]:
        if not colour:
            return image, None, None
        r, g, b = image[..., 0], image[..., 1], image[..., 2]
        y = 0.299 * r + 0.587 * g + 0.114 * b
        i = 0.596 * r - 0.274 * g - 0.322 * b
        q = 0.211 * r - 0.523 * g + 0.312 * b
        return y, i, q

    y1, i1, q1 = (None if c is None else _subsample(c) for c in yiq(reference))
    y2, i2, q2 = (None if c is None else _subsample(c) for c in yiq(distorted))
    coeffs1 = [np.abs(c) for c in _haar_coefficients(y1)]
    coeffs2 = [np.abs(c) for c in _haar_coefficients(y2)]
    similarities, weights = [], []
    for orientation in range(2):
        first = orientation * _SCALES
        weights.append(np.maximum(coeffs1[first + 2], coeffs2[first + 2]))
        per_scale = [_similarity(coeffs1[first + s], coeffs2[first + s]) for s in range(2)]
        similarities.append((per_scale[0] + per_scale[1]) / 2.0)
    if colour:
        mean = np.full((2, 2), 0.25)
        sim_i = _similarity(np.abs(_convolve(i1, mean)), np.abs(_convolve(i2, mean)))
        sim_q = _similarity(np.abs(_convolve(q1, mean)), np.abs(_convolve(q2, mean)))
        similarities.append((sim_i + sim_q) / 2.0)
        weights.append((weights[0] + weights[1]) / 2.0)
    similarity = np.stack(similarities)
    weight = np.stack(weights)
    total = weight.sum()
    if total == 0.0:  # flat images: no structure to compare
        return 1.0 if np.array_equal(reference, distorted) else 0.0
    pooled = float((_logistic(similarity) * weight).sum() / total)
    pooled = min(pooled, 1.0 - 1e-15)
    return (np.log(pooled / (1.0 - pooled)) / HAARPSI_ALPHA) ** 2


def _logistic(value: Image) -> Image:
    return 1.0 / (1.0 + np.exp(-HAARPSI_ALPHA * value))
