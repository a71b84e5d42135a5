"""The measurement of ``bench quality`` on one photograph: the methods as runners, the protocol's
pictures one at a time, and their scores (see :mod:`latent_upscale.lab.bench.quality`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.evaluation.autoencoders import BenchAutoencoder
from latent_upscale.lab.evaluation.photographs import lanczos_image

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = ["Decoded", "Resize", "as_array", "decode_protocol", "method_runners", "score_decoded"]


def as_array(image: Tensor) -> np.ndarray:
    """``[1, 3, H, W]`` tensor → ``[H, W, 3]`` float64 array in [0, 1] (what the metrics take)."""
    return image[0].permute(1, 2, 0).clamp(0.0, 1.0).double().numpy()


def score_decoded(reference: np.ndarray, decoded: Tensor) -> dict[str, float]:
    """``{"psnr", "ssim", "perceptual"}`` of ``decoded`` against ``reference`` (:func:`as_array` of the
    original); PSNR in dB, the perceptual score is HaarPSI."""
    from latent_upscale.lab.evaluation.metrics import haarpsi, psnr, ssim

    candidate = as_array(decoded)
    return {
        "psnr": psnr(reference, candidate),
        "ssim": ssim(reference, candidate),
        "perceptual": haarpsi(reference, candidate),
    }


Resize = Callable[[Tensor, tuple[int, int]], Tensor]


def method_runners(
    family: str,
    method_ids: Sequence[str] | None = None,
    neural: NeuralOptions | None = None,
    autoencoder_dir: Path | None = None,
) -> list[tuple[str, Resize]]:
    """``(id, resize)`` for the registered methods ``method_ids`` (default: every one), in registry order.

    ``resize(latent, (height, width))`` takes and returns model-space latents ``[1, C, h, w]``.
    Interpolations are their pure ``resize``; any other method (``neural``, a round-trip method) runs
    through its ``run`` with ``family`` and ``neural`` (``None``: the defaults, no downloads) and raises
    :class:`LatentUpscaleError` when it cannot run or falls back. ``autoencoder_dir`` (the folder of the
    autoencoder under test) is searched first by round-trip methods only, so they use the same files,
    and the other methods' messages do not point at it.
    """
    from dataclasses import replace

    from latent_upscale.core import UpscaleRequest
    from latent_upscale.neural.options import NeuralOptions
    from latent_upscale.resize_methods import get_method, registered_methods

    methods = [get_method(m) for m in method_ids] if method_ids else registered_methods()
    runners: list[tuple[str, Resize]] = []
    for method in methods:
        if method.resize is not None:
            runners.append((method.id, method.resize))
            continue
        options = neural
        if autoencoder_dir is not None and method.weights_role == "autoencoder":
            options = replace(neural or NeuralOptions(), models_dir=autoencoder_dir)
        request = UpscaleRequest(family=family, latent_space="scaled", neural=options)

        def run(
            latent: Tensor, size: tuple[int, int], method: Any = method, request: Any = request
        ) -> Tensor:
            result = method.run(latent, size, request)
            if result.fallback:
                raise LatentUpscaleError(result.fallback)
            return result.latent

        runners.append((method.id, run))
    return runners


def _latent_size(image: Tensor) -> tuple[int, int]:
    return image.shape[2] // 8, image.shape[3] // 8


def _low_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] / scale)), max(1, round(size[1] / scale))


@dataclass(frozen=True)
class Decoded:
    """One picture of the protocol for one photograph (what :func:`decode_protocol` yields).

    ``method``: ``"ceiling"`` (``scale`` 0.0), ``"input"`` (the Lanczos-downsampled photograph the
    methods start from: not decoded, not scored, at its own smaller size), ``"roundtrip"``, or a
    method id. ``image``: ``[1, 3, H, W]`` float32 in [0, 1], or ``None`` when the method was skipped
    (``note`` says why). ``latent``: the model-space latent that was decoded.
    """

    method: str
    scale: float
    image: Tensor | None
    latent: Tensor | None = None
    note: str = ""


def decode_protocol(
    image: Tensor,
    autoencoder: BenchAutoencoder,
    runners: Sequence[tuple[str, Resize]],
    scales: Sequence[float],
    skipped: dict[str, str],
    announce: Callable[[str], None] | None = None,
) -> Iterator[Decoded]:
    """The protocol on one photograph ``[1, 3, H, W]`` (H, W multiples of 16), one picture at a time.

    Yields the ceiling, then for each scale the input, the round trip and each runner's result, in
    that order. A runner that raises :class:`LatentUpscaleError` is recorded in ``skipped``
    (``{id: reason}``, shared across photographs so it is not retried) and yielded with no image.
    ``announce(label)`` is called before each costly step (for a progress bar).
    """
    say = announce or (lambda label: None)
    size = _latent_size(image)
    say("ceiling")
    high = autoencoder.encode(image)
    yield Decoded("ceiling", 0.0, autoencoder.decode(high), high)
    for scale in scales:
        low_size = _low_size(size, scale)
        low_image = lanczos_image(image, (low_size[0] * 8, low_size[1] * 8)).clamp(0.0, 1.0)
        yield Decoded("input", scale, low_image)
        say(f"{scale:g}x roundtrip")
        low = autoencoder.encode(low_image)
        upscaled_pixels = lanczos_image(autoencoder.decode(low), tuple(image.shape[2:])).clamp(0.0, 1.0)
        again = autoencoder.encode(upscaled_pixels)
        yield Decoded("roundtrip", scale, autoencoder.decode(again), again)
        decoded: list[tuple[Tensor, Tensor]] = []  # (latent, picture) of this scale
        for method_id, resize in runners:
            if method_id in skipped:
                yield Decoded(method_id, scale, None, note=skipped[method_id])
                continue
            say(f"{scale:g}x {method_id}")
            try:
                latent = resize(low, size)
            except LatentUpscaleError as error:
                # Results get shared: the home folder is written as "~" (as the WebUI's infotext does).
                skipped[method_id] = error.summary.replace(str(Path.home()), "~")
                yield Decoded(method_id, scale, None, note=skipped[method_id])
                continue
            # Methods that compute the same latent (nearest, nearest-exact and area at 2×) share one
            # decode: the decoder is deterministic, so the picture is the same, at a fraction of the time.
            picture = next(
                (seen for done, seen in decoded if done.dtype == latent.dtype and torch.equal(done, latent)),
                None,
            )
            if picture is None:
                picture = autoencoder.decode(latent.float())
                decoded.append((latent, picture))
            yield Decoded(method_id, scale, picture, latent)
