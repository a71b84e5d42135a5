"""``python -m latent_upscale bench quality``: how each method looks on real photographs (issue 9 §2).

Protocol (SesquiLSR's published one): a high-resolution photograph (cropped to multiples of 16) is
Lanczos-downsampled by 1.5 and 2, encoded with a real autoencoder, the latent is enlarged with each
registered method to the high-resolution latent size, decoded and compared with the original. Two
reference rows on the same images: ``ceiling`` (the original encoded and decoded: the best any latent
upscaler can reach through this autoencoder) and ``roundtrip`` (decode the low-resolution latent,
Lanczos in pixels, encode: what an image upscaler does). Metrics: PSNR, SSIM, HaarPSI (see
:mod:`latent_upscale.bench.metrics`). Methods are the method registry's: interpolations directly,
any other method (``neural``, a round-trip method) through its ``run`` with the autoencoder's family;
a method that has no weights for the family, or falls back, is listed as skipped.

Latents are handed to the methods in the host's *model space* (what the WebUI holds): the TAE latent
as it is (see :mod:`latent_upscale.neural.archs.tae`), a diffusers VAE's raw latent times its
``scaling_factor`` after its ``shift_factor``.

Lanczos resampling of images is Pillow's (``Image.LANCZOS`` on 32-bit float planes: no 8-bit rounding).
Outputs: ``quality.json``, ``quality.md`` and ``quality.png`` in the output folder.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from latent_upscale.errors import LatentUpscaleError

if TYPE_CHECKING:
    from latent_upscale.neural.options import NeuralOptions

__all__ = [
    "BUILTIN_IMAGES",
    "PERCEPTUAL_METRIC",
    "Decoded",
    "QualityOutcome",
    "QualityPlan",
    "as_array",
    "decode_protocol",
    "lanczos_image",
    "load_autoencoder",
    "load_images",
    "method_runners",
    "run_quality",
    "score_decoded",
]

logger = logging.getLogger(__name__)

#: scikit-image's colour photographs (``skimage.data``), in report order.
BUILTIN_IMAGES = ("astronaut", "coffee", "chelsea", "rocket")
QUICK_IMAGES = ("astronaut", "coffee")
QUICK_CROP = 256
PERCEPTUAL_METRIC = "haarpsi"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: The figure: a crop of the first image around this relative centre (row, column), this many pixels.
_FIGURE_CROP = 160


@dataclass(frozen=True)
class QualityPlan:
    """What one run measures."""

    quick: bool = False
    scales: tuple[float, ...] = (1.5, 2.0)
    #: Centre crop side for every image (``None``: the whole photograph, cropped to multiples of 16).
    crop: int | None = None
    builtin_images: tuple[str, ...] = BUILTIN_IMAGES
    images_dir: Path | None = None
    #: Method ids to run (``None``: every registered method).
    methods: tuple[str, ...] | None = None

    @classmethod
    def quick_plan(cls, images_dir: Path | None = None) -> QualityPlan:
        """Two images, 2× only, 256 px centre crops: about a minute on two cores (CI runs it)."""
        return cls(
            quick=True, scales=(2.0,), crop=QUICK_CROP, builtin_images=QUICK_IMAGES, images_dir=images_dir
        )


@dataclass
class QualityOutcome:
    """The results dictionary and the files written."""

    results: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


# --- images ----------------------------------------------------------------------------------------


def _to_tensor(array: np.ndarray) -> Tensor:
    """``[H, W]`` or ``[H, W, C]`` uint8/float → ``[1, 3, H, W]`` float32 in [0, 1]."""
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = array[..., :3]
    if array.dtype == np.uint8:
        data = array.astype(np.float32) / 255.0
    else:
        data = np.clip(array.astype(np.float32), 0.0, 1.0)
    return torch.from_numpy(np.ascontiguousarray(data)).permute(2, 0, 1)[None]


def _crop(image: Tensor, side: int | None) -> Tensor:
    """Crop to multiples of 16 (top-left), or a centred ``side`` square (also a multiple of 16)."""
    height, width = image.shape[2] // 16 * 16, image.shape[3] // 16 * 16
    if side is not None:
        side = min(side // 16 * 16, height, width)
        top, left = (image.shape[2] - side) // 2, (image.shape[3] - side) // 2
        return image[:, :, top : top + side, left : left + side]
    return image[:, :, :height, :width]


def load_images(plan: QualityPlan) -> dict[str, Tensor]:
    """``{name: [1, 3, H, W] float32 in [0, 1]}``: the user's folder or scikit-image's photographs.

    Raises :class:`LatentUpscaleError` for an empty or missing folder, images smaller than 64 px, or a
    missing scikit-image (the ``bench`` extra).
    """
    images: dict[str, Tensor] = {}
    if plan.images_dir is not None:
        from PIL import Image

        folder = Path(plan.images_dir)
        if not folder.is_dir():
            raise LatentUpscaleError(f"--images: not a folder: {folder}")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        if plan.quick:
            paths = paths[:2]
        if not paths:
            raise LatentUpscaleError(f"--images: {folder} holds no {'/'.join(_IMAGE_SUFFIXES)} images")
        for path in paths:
            with Image.open(path) as opened:
                images[path.stem] = _crop(_to_tensor(np.asarray(opened.convert("RGB"))), plan.crop)
    else:
        try:
            from skimage import data
        except ImportError as error:
            raise LatentUpscaleError(
                "the built-in photographs come from scikit-image: pip install 'latent-upscale[bench]' "
                "(or pass --images DIR)"
            ) from error
        for name in plan.builtin_images:
            images[name] = _crop(_to_tensor(getattr(data, name)()), plan.crop)
    for name, image in images.items():
        if min(image.shape[2:]) < 64:
            raise LatentUpscaleError(f"image {name!r} is too small ({tuple(image.shape[2:])}); need ≥ 64 px")
    return images


def lanczos_image(image: Tensor, size: tuple[int, int]) -> Tensor:
    """Resize ``[1, 3, H, W]`` to ``size = (height, width)`` with Pillow's Lanczos on float planes."""
    from PIL import Image

    if tuple(image.shape[2:]) == tuple(size):
        return image.clone()
    planes = []
    for plane in image[0].cpu().numpy():
        resized = Image.fromarray(plane.astype(np.float32), mode="F").resize(
            (size[1], size[0]), Image.LANCZOS
        )
        planes.append(np.asarray(resized, dtype=np.float32))
    return torch.from_numpy(np.stack(planes))[None]


# --- autoencoders ----------------------------------------------------------------------------------


class BenchAutoencoder:
    """What the benchmark needs from an autoencoder: model-space latents at 1/8 resolution."""

    #: A folder holding this autoencoder's files, searched first by methods with weights (``tae``
    #: runs its round trip through the same tiny autoencoder); ``None`` for a full VAE.
    models_dir: Path | None = None

    family: str
    description: dict[str, Any]

    def encode(self, image: Tensor) -> Tensor:
        """``[1, 3, H, W]`` in [0, 1] → model-space latent ``[1, C, H/8, W/8]`` (float32, CPU)."""
        raise NotImplementedError

    def decode(self, latent: Tensor) -> Tensor:
        """Model-space latent → ``[1, 3, 8h, 8w]`` in [0, 1] (float32, CPU)."""
        raise NotImplementedError


class _TinyAutoencoder(BenchAutoencoder):
    def __init__(self, encoder: Path, decoder: Path, device: torch.device) -> None:
        from latent_upscale.neural.archs.tae import load_tiny_autoencoder

        self.model = load_tiny_autoencoder(encoder, decoder).to(device)
        self.device = device
        self.models_dir = encoder.parent
        variant = self.model.variant
        self.family = variant.families[0]
        self.description = {
            "name": variant.id,
            "label": variant.label,
            "kind": "tiny autoencoder (TAESD family, madebyollin/taesd, MIT)",
            "family": self.family,
            "latent_channels": variant.latent_channels,
            "files": [encoder.name, decoder.name],
        }

    def encode(self, image: Tensor) -> Tensor:
        return self.model.encode(image.to(self.device)).float().cpu()

    def decode(self, latent: Tensor) -> Tensor:
        return self.model.decode(latent.to(self.device)).float().cpu()


#: diffusers ``scaling_factor`` → family (the VAE's config says its model space, not its family).
_SCALE_FAMILIES = {0.18215: "sd1", 0.13025: "sdxl", 1.5305: "sd3", 0.3611: "flux"}


class _DiffusersVae(BenchAutoencoder):
    def __init__(self, path: Path, device: torch.device, family: str | None) -> None:
        try:
            from diffusers import AutoencoderKL
        except ImportError as error:
            raise LatentUpscaleError(
                f"{path} is not a tiny autoencoder; a full SD VAE needs diffusers: pip install diffusers"
            ) from error
        try:
            if path.is_dir():
                vae = AutoencoderKL.from_pretrained(str(path))
            else:
                vae = AutoencoderKL.from_single_file(str(path))
        except Exception as error:  # diffusers raises many types (OSError, ValueError, HTTP errors)
            raise LatentUpscaleError(
                f"cannot load {path} as a VAE with diffusers ({type(error).__name__}: {error})"
            ) from error
        self.vae = vae.to(device).eval().requires_grad_(False)
        self.device = device
        config = vae.config
        self.scale = float(getattr(config, "scaling_factor", 1.0) or 1.0)
        self.shift = float(getattr(config, "shift_factor", 0.0) or 0.0)
        channels = int(config.latent_channels)
        guessed = _SCALE_FAMILIES.get(round(self.scale, 5), "flux2" if channels == 32 else None)
        self.family = family or guessed or "sd1"
        self.description = {
            "name": path.name,
            "kind": "diffusers AutoencoderKL",
            "family": self.family,
            "latent_channels": channels,
            "scaling_factor": self.scale,
            "shift_factor": self.shift,
            "files": [path.name],
        }

    def encode(self, image: Tensor) -> Tensor:
        with torch.inference_mode():
            raw = self.vae.encode(image.to(self.device) * 2.0 - 1.0).latent_dist.mode()
        return ((raw - self.shift) * self.scale).float().cpu()

    def decode(self, latent: Tensor) -> Tensor:
        with torch.inference_mode():
            image = self.vae.decode(latent.to(self.device) / self.scale + self.shift).sample
        return ((image.float().cpu() + 1.0) / 2.0).clamp(0.0, 1.0)


def load_autoencoder(
    paths: Sequence[str | Path], device: torch.device | str = "cpu", family: str | None = None
) -> BenchAutoencoder:
    """A folder with a TAESD encoder/decoder pair, the two files, or a full VAE (diffusers folder or
    single file, when diffusers is installed).

    Raises :class:`LatentUpscaleError` naming what was given and what is accepted.
    """
    from latent_upscale.neural.archs.tae import find_pair

    device = torch.device(device)
    resolved = [Path(p) for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise LatentUpscaleError(f"--autoencoder: not found: {', '.join(missing)}")
    if len(resolved) == 2:
        return _TinyAutoencoder(resolved[0], resolved[1], device)
    if len(resolved) != 1:
        raise LatentUpscaleError(
            "--autoencoder takes a folder, an encoder and a decoder file, or one VAE file; got "
            f"{len(resolved)} paths"
        )
    path = resolved[0]
    if path.is_dir() and not (path / "config.json").is_file():
        return _TinyAutoencoder(*find_pair(path), device)
    return _DiffusersVae(path, device, family)


# --- the measurement -------------------------------------------------------------------------------


def as_array(image: Tensor) -> np.ndarray:
    """``[1, 3, H, W]`` tensor → ``[H, W, 3]`` float64 array in [0, 1] (what the metrics take)."""
    return image[0].permute(1, 2, 0).clamp(0.0, 1.0).double().numpy()


def score_decoded(reference: np.ndarray, decoded: Tensor) -> dict[str, float]:
    """``{"psnr", "ssim", "perceptual"}`` of ``decoded`` against ``reference`` (:func:`as_array` of the
    original); PSNR in dB, the perceptual score is HaarPSI."""
    from latent_upscale.bench.metrics import haarpsi, psnr, ssim

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


def _summaries(
    per_image: dict[tuple[str, float], dict[str, dict[str, float]]], images: Iterable[str]
) -> list[dict[str, Any]]:
    rows = []
    names = list(images)
    for (method, scale), scores in per_image.items():
        measured = [name for name in names if name in scores]
        if not measured:
            continue
        row: dict[str, Any] = {"method": method, "scale": scale}
        for metric in ("psnr", "ssim", "perceptual"):
            row[metric] = float(np.mean([scores[name][metric] for name in measured]))
        row["higher_is_better"] = True
        row["per_image"] = {name: scores[name] for name in measured}
        rows.append(row)
    return rows


def run_quality(
    plan: QualityPlan,
    autoencoder: BenchAutoencoder,
    out: Path,
    *,
    progress: bool = True,
    figure: bool = True,
) -> QualityOutcome:
    """Measure every method on every image and scale; write ``quality.json``, ``.md`` and ``.png``.

    A method that raises (no weights for the family, a fallback) is recorded under ``skipped`` with
    its reason, and the others still run.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    images = load_images(plan)
    runners = method_runners(autoencoder.family, plan.methods, autoencoder_dir=autoencoder.models_dir)
    per_image: dict[tuple[str, float], dict[str, dict[str, float]]] = {}
    skipped: dict[str, str] = {}
    logged: set[str] = set()
    figure_crops: dict[str, Tensor] = {}
    latent_values: list[Tensor] = []
    total = len(images) * (1 + len(plan.scales) * (1 + len(runners)))
    first = next(iter(images))
    with tqdm(total=total, desc="bench quality", unit="decode", disable=not progress) as bar:
        for name, image in images.items():
            reference = as_array(image)

            def announce(label: str, name: str = name) -> None:
                bar.set_postfix_str(f"{name} {label}")

            for step in decode_protocol(image, autoencoder, runners, plan.scales, skipped, announce):
                if step.method == "input":
                    continue
                if step.image is None:
                    if step.method not in logged:
                        logged.add(step.method)
                        logger.info("bench quality: %s skipped: %s", step.method, step.note)
                    bar.update()
                    continue
                scores = score_decoded(reference, step.image)
                per_image.setdefault((step.method, step.scale), {})[name] = scores
                if step.method == "ceiling" and step.latent is not None:
                    latent_values.append(step.latent[0].flatten(1))
                if name == first and step.method == "ceiling":
                    figure_crops["original"] = image
                    figure_crops["ceiling"] = step.image
                elif name == first and step.scale == 2.0:
                    figure_crops[step.method] = step.image
                bar.update()
    rows = _summaries(per_image, images)
    for row in rows:  # the ceiling does not depend on the scale: one row per scale, same numbers
        if row["method"] == "ceiling":
            rows.remove(row)
            rows[0:0] = [{**row, "scale": scale} for scale in plan.scales]
            break
    stacked = torch.cat(latent_values, dim=1)
    results: dict[str, Any] = {
        "autoencoder": autoencoder.description,
        "images": list(images),
        "perceptual_metric": PERCEPTUAL_METRIC,
        "rows": rows,
        "skipped": [{"method": m, "reason": r} for m, r in skipped.items()],
        "image_sizes": {name: list(image.shape[2:]) for name, image in images.items()},
        "scales": list(plan.scales),
        "quick": plan.quick,
        "latent_stats": {
            "space": "model space (what the WebUI holds) of the autoencoder's family",
            "channel_mean": [round(float(v), 4) for v in stacked.mean(dim=1)],
            "channel_std": [round(float(v), 4) for v in stacked.std(dim=1)],
            "overall_std": round(float(stacked.std()), 4),
        },
        "environment": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "duration_s": round(time.perf_counter() - started, 1),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "quality.json", "markdown": out / "quality.md"}
    files["json"].write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    files["markdown"].write_text(render_markdown(results))
    if figure and figure_crops:
        files["figure"] = out / "quality.png"
        draw_figure(figure_crops, results, first, files["figure"])
    return QualityOutcome(results, files)


# --- report ----------------------------------------------------------------------------------------


def _cell(row: dict[str, Any] | None) -> list[str]:
    if row is None:
        return ["–", "–", "–"]
    return [f"{row['psnr']:.2f}", f"{row['ssim']:.3f}", f"{row['perceptual']:.3f}"]


def render_markdown(results: dict[str, Any]) -> str:
    """The table: one line per method, PSNR / SSIM / HaarPSI at each scale, best interpolation marked."""
    scales = results["scales"]
    by_key = {(row["method"], row["scale"]): row for row in results["rows"]}
    methods = list(dict.fromkeys(row["method"] for row in results["rows"]))
    ae = results["autoencoder"]
    crops = "quick run: centre crops" if results["quick"] else "whole photographs, cropped to multiples of 16"
    lines = [
        f"# Latent upscaling on real photographs ({ae.get('label', ae.get('name'))})",
        "",
        f"Images: {', '.join(results['images'])} ({crops}). "
        "Each is Lanczos-downsampled by the scale, encoded, its latent enlarged back to the full-size latent "
        "by each method, decoded and compared with the original. `ceiling`: the original encoded and "
        "decoded; "
        "`roundtrip`: the small latent decoded, Lanczos-enlarged in pixels and encoded again. "
        "Higher is better for every column (HaarPSI: Reisenhofer et al. 2018).",
        "",
    ]
    header = ["method"]
    for scale in scales:
        header += [f"PSNR dB {scale:g}×", f"SSIM {scale:g}×", f"HaarPSI {scale:g}×"]
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for method in methods:
        cells = [f"`{method}`"]
        for scale in scales:
            cells += _cell(by_key.get((method, scale)))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    best = best_interpolation(results)
    if best is not None:
        lines.append(f"Best interpolation by mean HaarPSI at 2×: `{best}`.")
    for entry in results.get("skipped", []):
        lines.append(f"Skipped `{entry['method']}`: {entry['reason']}")
    lines += [
        "",
        "These numbers measure the enlarged latent decoded directly, not the image after a denoising "
        f"pass; the latent space is {ae.get('family')}'s, not every model's.",
        "",
    ]
    return "\n".join(lines)


def best_interpolation(results: dict[str, Any], scale: float = 2.0, decimals: int = 4) -> str | None:
    """The interpolation method with the highest mean perceptual score at ``scale``.

    Scores are compared at ``decimals`` places (what the reports show), so methods that compute the
    same thing (``bilinear`` and ``bilinear-antialiased`` when enlarging differ by float rounding) tie,
    and a tie goes to the method listed first in the registry.
    """
    from latent_upscale.resize_methods import registered_methods

    order = [m.id for m in registered_methods() if m.resize is not None]
    scores = {
        r["method"]: r["perceptual"] for r in results["rows"] if r["method"] in order and r["scale"] == scale
    }
    if not scores:
        return None
    ranked = sorted(scores, key=lambda method: (-round(scores[method], decimals), order.index(method)))
    return ranked[0]


def draw_figure(crops: dict[str, Tensor], results: dict[str, Any], image_name: str, path: Path) -> None:
    """One photograph's crop after each method at 2×, beside the original, ceiling and round trip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = {
        row["method"]: row["per_image"].get(image_name)
        for row in results["rows"]
        if row["scale"] == 2.0 and image_name in row["per_image"]
    }
    order = ["original", "ceiling", "roundtrip"] + [
        k for k in crops if k not in ("original", "ceiling", "roundtrip")
    ]
    panels = [k for k in order if k in crops]
    columns = min(4, len(panels))
    rows = math.ceil(len(panels) / columns)
    height, width = crops["original"].shape[2:]
    side = min(_FIGURE_CROP, height, width)
    # A detailed region: the first image's upper-middle area (the astronaut's face for the default set).
    top, left = max(0, min(height - side, height // 5)), max(0, min(width - side, (width - side) // 2))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.set_axis_off()
    for axis, key in zip(axes.flat, panels, strict=False):
        crop = crops[key][0, :, top : top + side, left : left + side].permute(1, 2, 0).clamp(0, 1).numpy()
        axis.imshow(crop, interpolation="nearest")
        score = scores.get(key)
        title = key if score is None else f"{key}\n{score['psnr']:.1f} dB, HaarPSI {score['perceptual']:.2f}"
        axis.set_title(title, fontsize=9)
    ae = results["autoencoder"]
    fig.suptitle(f"{image_name}, 2× latent upscale through {ae.get('name')} ({side} px crop)", fontsize=10)
    fig.tight_layout(h_pad=1.2)
    fig.savefig(path, dpi=100)
    plt.close(fig)
