"""Help where the choice is made: every control's advice, read from the registries, and the
"Which method?" guide. Host-free (no ``modules.*``, no gradio), so it is tested on its own.

The schedule registry's parameter metadata (label, range, default, step, advice) is read in one place,
:func:`param_meta`, which takes what a :class:`~latent_upscale.schedules.ParamSpec` offers and fills
what an older registry lacks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.core import MAX_SIDE
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.resize_methods import get_method, registered_methods
from latent_upscale.schedules import get_schedule

__all__ = [
    "EXACT_STEPS_ADVICE",
    "QUALITY_RESULTS",
    "SCALE_ADVICE",
    "SCALE_RANGE",
    "SCALE_STEP",
    "ParamMeta",
    "check_job_size",
    "method_advice",
    "param_meta",
    "scale_readout",
    "scaled_size",
    "schedule_advice",
    "which_method_markdown",
]

log = logging.getLogger("latent_upscale")

#: The committed run of ``python -m latent_upscale bench quality``.
QUALITY_RESULTS = Path(__file__).resolve().parents[2] / "assets" / "quality-results.json"

#: "Upscale by": 0 or 1 means "use Width/Height"; anything else multiplies the source image's size.
SCALE_RANGE = (0.0, 8.0)
SCALE_STEP = 0.05
_OPT_F = 8  # image pixels per latent pixel (`opt_f` in every host's modules/processing.py)


def scaled_size(source: tuple[int, int], scale: float, *, multiple: int = _OPT_F) -> tuple[int, int]:
    """``(width, height)`` in image pixels of a ``source`` image ``(width, height)`` times ``scale``.

    Rounded as the WebUI rounds: truncated like hires fix (``int(width * hr_scale)``, ``processing.py``
    ``calculate_target_resolution`` in A1111 1.6–1.10, Forge, reForge) and then down to a multiple of 8
    like Forge's img2img "Resize by" (``modules/img2img.py``): the size the latent (``height // 8``,
    ``width // 8``) really gives in every host. ``multiple`` (a multiple of 8) rounds to the nearest
    multiple instead: 16 for the DiTs that patchify 2×2, whose latent sides must be even. Raises
    LatentUpscaleError below 8 pixels and beyond our limit (:func:`check_job_size`), both checked before
    anything is sized.
    """
    exact = (source[0] * scale, source[1] * scale)
    check_job_size(exact, f"Upscale by {scale:g}")  # before int(): inf and NaN are refused there
    width, height = (int(side) for side in exact)
    if multiple != _OPT_F:
        width, height = (
            max(multiple, (side + multiple // 2) // multiple * multiple) for side in (width, height)
        )
        check_job_size((width, height), f"Upscale by {scale:g}")  # rounding up may cross the limit
    width, height = width - width % _OPT_F, height - height % _OPT_F
    if width < _OPT_F or height < _OPT_F:
        raise LatentUpscaleError(
            f"Upscale by {scale:g} makes the {source[0]}×{source[1]} image smaller than 8 pixels a side "
            f"(at least {_OPT_F / min(source):.3g} for this image, or 0/1 for Width/Height)"
        )
    return check_job_size((width, height), f"Upscale by {scale:g}")


def check_job_size(size: tuple[float, float], what: str = "the job") -> tuple[int, int]:
    """``size`` ``(width, height)`` in image pixels, refused beyond :data:`~latent_upscale.core.MAX_SIDE`
    latent pixels (``MAX_SIDE * 8`` image pixels) a side: the limit our resize keeps, checked before
    the host sizes a job so that no fallback runs a size we refuse. Raises LatentUpscaleError."""
    width, height = size
    limit = MAX_SIDE * _OPT_F
    if not (width <= limit and height <= limit):
        raise LatentUpscaleError(
            f"{what} asks for {width:.0f}×{height:.0f} px, beyond the limit of {limit} px a side "
            f"({MAX_SIDE} latent pixels); use a smaller factor or size"
        )
    return int(width), int(height)


SCALE_ADVICE = "0 or 1: use Width/Height. Otherwise the source image × this, rounded as the WebUI rounds."


def _img2img_steps(steps: int, denoise: float) -> int:
    # What the WebUI runs without fixed steps (sd_samplers_common.setup_img2img_steps): t_enc + 1.
    return int(min(denoise, 0.999) * steps) + 1


EXACT_STEPS_ADVICE = (
    "Run exactly the steps on the slider: img2img runs fewer by default "
    f"(30 steps at denoising 0.4 run {_img2img_steps(30, 0.4)}). Slower, and more detail. "
    "DDIM, PLMS and UniPC are asked for 2 or 1 more so that they too run exactly this many."
)


@dataclass(frozen=True)
class ParamMeta:
    """What the UI needs of one schedule parameter."""

    label: str
    minimum: float
    maximum: float
    default: float
    step: float
    advice: str


def _slider_step(minimum: float, maximum: float) -> float:
    span = maximum - minimum
    return 0.01 if span <= 5 else 0.05 if span <= 50 else 1.0


def param_meta(schedule: str, name: str) -> ParamMeta:
    """One parameter's label, slider range, default, step and advice, from the schedule registry.

    Registries without ``step``/``advice`` on their parameters get a step from the range and advice
    naming the range and default.
    """
    spec = {p.name: p for p in get_schedule(schedule).params}[name]
    # The slider spans where the track is usable (Beta: 0.3-2 of the accepted 0.05-50); the API and
    # paste-back still accept the whole range (check_schedule_params; ui._slider_paste widens the track).
    minimum = float(getattr(spec, "slider_minimum", spec.minimum))
    maximum = float(getattr(spec, "slider_maximum", spec.maximum))
    default = float(spec.default)
    step = getattr(spec, "step", None) or _slider_step(minimum, maximum)
    advice = getattr(spec, "advice", None) or f"{minimum:g}–{maximum:g}; default {default:g}."
    return ParamMeta(str(spec.label), minimum, maximum, default, float(step), str(advice))


def method_advice(method: str) -> str:
    """The method registry's advice for ``method`` (an id)."""
    return get_method(method).advice


def schedule_advice(schedule: str) -> str:
    """The schedule registry's advice for ``schedule`` (an id), or where it comes from."""
    entry = get_schedule(schedule)
    return entry.advice or (f"From {entry.source}." if entry.source else "")


def scale_readout(width: object, height: object, scale: object) -> str:
    """The line under "Upscale by", as hires fix shows its size: "→ W × H px".

    ``width``/``height``: the source image's size (0 when no image is loaded), as the host's
    ``currentImg2imgSourceResolution`` reports it.
    """
    try:
        factor = float(scale)  # type: ignore[arg-type]
        source = (int(float(width)), int(float(height)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if factor in (0.0, 1.0):
        return "→ Width × Height from the sliders"
    if source[0] <= 0 or source[1] <= 0:
        return f"→ the source image × {factor:g} (no image yet)"
    try:
        target = scaled_size(source, factor)
    except ValueError as error:
        return f"→ {error}"
    return f"→ {target[0]} × {target[1]} px"


def _mean_row(data: dict, method: str, scale: float) -> dict | None:
    for row in data["rows"]:
        if row["method"] == method and float(row["scale"]) == scale:
            return row
    return None


def _figures(row: dict | None) -> str:
    return "not measured" if row is None else f"{row['psnr']:.1f} dB, HaarPSI {row['perceptual']:.2f}"


def _from_results(path: Path) -> str | None:
    """Markdown from ``python -m latent_upscale bench quality``'s ``quality.json`` (committed as
    ``assets/quality-results.json``), or None when there is none or it cannot be read.

    Reads ``rows`` (``method``, ``scale``, ``psnr``, ``perceptual``) and ``autoencoder.family``: the best
    interpolation at 2× and 1.5× (the registry's interpolations, ties to registry order), the learned
    methods that were measured (any registered method without a pure ``resize``), and the round trip.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        interpolations = [m for m in registered_methods() if m.resize is not None]
        learned = [m for m in registered_methods() if m.resize is None]

        def best(scale: float) -> tuple[str, dict]:
            scored = [(m, _mean_row(data, m.id, scale)) for m in interpolations]
            scored = [(m, r) for m, r in scored if r is not None]
            method, row = max(scored, key=lambda pair: round(pair[1]["perceptual"], 4))
            return method.label, row

        best_2, row_2 = best(2.0)
        best_15, row_15 = best(1.5)
        roundtrip = _mean_row(data, "roundtrip", 2.0)
        family = (data.get("autoencoder") or {}).get("family") or "one model family"
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("[Latent Upscale] %s is not usable (%s); showing the built-in guide", path.name, error)
        return None
    lines = [
        "| if you | use | measured on real photographs (2×) |",
        "|---|---|---|",
    ]
    for method in learned:
        row = _mean_row(data, method.id, 2.0)
        if row is not None:
            lines.append(f"| have its weights for your model family | **{method.label}** | {_figures(row)} |")
    lines += [
        f"| enlarge about 2× with an interpolation | **{best_2}** | {_figures(row_2)} |",
        f"| enlarge about 1.5× with an interpolation | **{best_15}** | 1.5×: {_figures(row_15)} |",
        "",
        f"Every interpolation is far behind a VAE round trip ({_figures(roundtrip)}): with an "
        "interpolation, keep denoising at 0.5 or more so the sampler can rebuild detail; learned methods "
        "allow 0.3–0.5. Measured in the "
        f"{family} latent space, decoded without a denoising pass.",
        "",
        "**Exact step count** runs the slider's steps: 30 sampler steps instead of "
        f"{_img2img_steps(30, 0.4)} at denoising 0.4 (about {30 / _img2img_steps(30, 0.4):.1f}× the time).",
    ]
    return "\n".join(lines)


def which_method_markdown(path: Path | None = None) -> str:
    """The "Which method?" guide: from the quality benchmark's results when
    ``assets/quality-results.json`` exists, otherwise a short guide from the method registry."""
    from_results = _from_results(path or QUALITY_RESULTS)
    if from_results is not None:
        return from_results
    default = get_method(DEFAULT_METHOD).label
    lines = [
        f"Start with **{default}** (the default) at denoising 0.5 or more; the learned methods need weights "
        f"for your model's family and fall back to {default} without them. "
        "Lower denoising keeps more of the enlarged latent, so the method matters more there.",
        "",
        "| method | advice |",
        "|---|---|",
        *(f"| {m.label} | {m.advice} |" for m in registered_methods()),
        "",
        f"**Exact step count**: 30 sampler steps instead of {_img2img_steps(30, 0.4)} at denoising 0.4.",
    ]
    return "\n".join(lines)
