"""The report of ``bench quality``: the Markdown table, the best interpolation, the figure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from torch import Tensor

__all__ = ["best_interpolation", "best_sentence", "draw_figure", "render_markdown", "tied_with_best"]

#: Differences below this are display rounding, whatever the photographs say (reports show 3 places).
_ROUNDING = 1e-3
#: One photograph has no spread: this stands in for it, the spread of the HaarPSI gaps between the
#: interpolations across the four photographs of the committed runs (0.008–0.022, 2026-11-29 and
#: 2026-12-07, ``assets/quality-results*.json``).
SINGLE_PHOTOGRAPH_NOISE = 0.01

#: The figure: a crop of the first image around this relative centre (row, column), this many pixels.
_FIGURE_CROP = 160


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
    if results.get("crop"):
        crops = f"centre crops of {results['crop']} px"
    else:
        crops = (
            "quick run: centre crops" if results["quick"] else "whole photographs, cropped to multiples of 16"
        )
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
    for scale in scales:
        sentence = best_sentence(results, scale)
        if sentence:
            lines.append(sentence + "\n")
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


def _per_image(results: dict[str, Any], method: str, scale: float) -> dict[str, float]:
    for row in results["rows"]:
        if row["method"] == method and row["scale"] == scale:
            return {name: scores["perceptual"] for name, scores in row.get("per_image", {}).items()}
    return {}


def tied_with_best(results: dict[str, Any], scale: float = 2.0) -> tuple[list[str], float]:
    """The interpolations level with the best one at ``scale`` (best first), and the noise used.

    Two methods tie when the mean over the photographs of their HaarPSI difference is not larger
    than the spread of that difference across the photographs (its sample standard deviation: how
    much the verdict changes from one photograph to the next), nor than the reports' rounding
    (0.001). The spread is the metric's noise here: with the photographs disagreeing by that much, a
    smaller mean gap says nothing about the next photograph. One photograph has no spread:
    :data:`SINGLE_PHOTOGRAPH_NOISE` stands in for it. Returns ``([best, tied…], largest noise
    compared)``; ``([], 0.0)`` when no interpolation was measured.
    """
    best = best_interpolation(results, scale)
    if best is None:
        return [], 0.0
    from latent_upscale.resize_methods import registered_methods

    reference = _per_image(results, best, scale)
    tied, noise = [best], 0.0
    for method in (m.id for m in registered_methods() if m.resize is not None and m.id != best):
        scores = _per_image(results, method, scale)
        common = [name for name in reference if name in scores]
        if not common:
            continue
        gaps = [reference[name] - scores[name] for name in common]
        mean = sum(gaps) / len(gaps)
        if len(gaps) > 1:
            spread = (sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1)) ** 0.5
        else:
            spread = SINGLE_PHOTOGRAPH_NOISE
        if mean <= max(spread, _ROUNDING):
            tied.append(method)
            noise = max(noise, spread)
    return tied, noise


def best_sentence(results: dict[str, Any], scale: float = 2.0) -> str | None:
    """ "Best interpolation … at 2×: `x`", naming the methods tied with it (see :func:`tied_with_best`)."""
    tied, noise = tied_with_best(results, scale)
    if not tied:
        return None
    images = len(results.get("images", [])) or 1
    across = (
        f"the spread across the {images} photographs"
        if images > 1
        else "the noise assumed for one photograph"
    )
    sentence = f"Best interpolation by mean HaarPSI at {scale:g}×: `{tied[0]}`"
    if len(tied) == 1:
        return sentence + f" (ahead of every other by more than {across})."
    others = ", ".join(f"`{m}`" for m in tied[1:])
    return (
        sentence + f", tied with {others} (mean gaps within {across}, up to {max(noise, _ROUNDING):.3f} "
        "HaarPSI): call it a tie."
    )


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
