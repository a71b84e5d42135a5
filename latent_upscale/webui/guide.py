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
    "method_advice",
    "param_meta",
    "scale_readout",
    "scaled_size",
    "schedule_advice",
    "which_method_markdown",
]

log = logging.getLogger("latent_upscale")

#: The quality benchmark's summary, written by the lead from ``python -m latent_upscale bench``.
QUALITY_RESULTS = Path(__file__).resolve().parents[2] / "assets" / "quality-results.json"

#: "Upscale by": 0 or 1 means "use Width/Height"; anything else multiplies the source image's size.
SCALE_RANGE = (0.0, 8.0)
SCALE_STEP = 0.05
_OPT_F = 8  # image pixels per latent pixel (`opt_f` in every host's modules/processing.py)


def scaled_size(source: tuple[int, int], scale: float) -> tuple[int, int]:
    """``(width, height)`` in image pixels of a ``source`` image ``(width, height)`` times ``scale``.

    Rounded as the WebUI rounds: truncated like hires fix (``int(width * hr_scale)``, ``processing.py``
    ``calculate_target_resolution`` in A1111 1.6–1.10, Forge, reForge) and then down to a multiple of 8
    like Forge's img2img "Resize by" (``modules/img2img.py``): the size the latent (``height // 8``,
    ``width // 8``) really gives in every host. Raises LatentUpscaleError below 8 pixels.
    """
    width, height = (int(side * scale) for side in source)
    width, height = width - width % _OPT_F, height - height % _OPT_F
    if width < _OPT_F or height < _OPT_F:
        raise LatentUpscaleError(
            f"Upscale by {scale:g} makes the {source[0]}x{source[1]} image smaller than 8 pixels a side"
        )
    return width, height


SCALE_ADVICE = "0 or 1: use Width/Height. Otherwise the source image × this, rounded as the WebUI rounds."


def _img2img_steps(steps: int, denoise: float) -> int:
    # What the WebUI runs without fixed steps (sd_samplers_common.setup_img2img_steps): t_enc + 1.
    return int(min(denoise, 0.999) * steps) + 1


EXACT_STEPS_ADVICE = (
    "Run exactly the steps on the slider: img2img runs fewer by default "
    f"(30 steps at denoising 0.4 run {_img2img_steps(30, 0.4)}). Slower, and more detail."
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
    """One parameter's label, range, default, step and advice, from the schedule registry.

    Registries without ``step``/``advice`` on their parameters get a step from the range and advice
    naming the range and default.
    """
    spec = {p.name: p for p in get_schedule(schedule).params}[name]
    minimum, maximum, default = float(spec.minimum), float(spec.maximum), float(spec.default)
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


def _from_results(path: Path) -> str | None:
    """Markdown from the benchmark's summary, or None when there is none (or it cannot be read).

    Format: ``{"recommendations": [{"family": "sdxl", "denoise": "0.3–0.5", "method": "lanczos",
    "why": "…"}, …], "exact_steps": {"steps": 30, "denoise": 0.4, "without": 13, "cost": "…"},
    "source": "…"}``; every key but ``recommendations`` is optional.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = [
            f"| {r['family']} | {r['denoise']} | {get_method(str(r['method'])).label} | {r.get('why', '')} |"
            for r in data["recommendations"]
        ]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("[Latent Upscale] %s is not usable (%s); showing the built-in guide", path.name, error)
        return None
    lines = ["| model family | denoising | method | why |", "|---|---|---|---|", *rows]
    exact = data.get("exact_steps")
    if isinstance(exact, dict) and {"steps", "denoise", "without"} <= set(exact):
        lines.append(
            f"\n**Exact step count** runs {exact['steps']} sampler steps instead of {exact['without']} "
            f"at denoising {exact['denoise']}. {exact.get('cost', '')}".rstrip()
        )
    if data.get("source"):
        lines.append(f"\n_{data['source']}_")
    return "\n".join(lines)


def which_method_markdown(path: Path | None = None) -> str:
    """The "Which method?" guide: the quality benchmark's recommendations when
    ``assets/quality-results.json`` exists, otherwise a short guide from the method registry."""
    from_results = _from_results(path or QUALITY_RESULTS)
    if from_results is not None:
        return from_results
    lines = [
        "Start with **Bislerp** (the default) at denoising 0.4–0.6; **Lanczos-3** is the sharpest "
        "filter; **Neural** needs weights for your model's family and falls back to Bislerp without them. "
        "Lower denoising keeps more of the enlarged latent, so the method matters more there.",
        "",
        "| method | advice |",
        "|---|---|",
        *(f"| {m.label} | {m.advice} |" for m in registered_methods()),
        "",
        f"**Exact step count**: 30 sampler steps instead of {_img2img_steps(30, 0.4)} at denoising 0.4.",
    ]
    return "\n".join(lines)
