"""Figures of the noise schedules for the demo and the README (matplotlib, imported only when drawing).

Drawing uses an Agg canvas on a private :class:`~matplotlib.figure.Figure`, never ``pyplot``, so it
changes no global backend and works without a display.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from latent_upscale.schedules import (
    AUTOMATIC,
    build_sigmas,
    get_schedule,
    img2img_sigmas,
    img2img_steps,
    registered_schedules,
    sd_sigma_table,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_fixed_steps", "plot_schedules"]


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: str | PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target)
    return target


def plot_schedules(path: str | PathLike[str], *, steps: int = 30, family: str = "sd1") -> Path:
    """Draw every schedule's sigmas against the step index on a log axis, to compare their shapes."""
    table = sd_sigma_table(family)
    figure = _new_figure(9.0, 5.5)
    axes = figure.add_subplot()
    schedules = [schedule for schedule in registered_schedules() if schedule.id != AUTOMATIC]
    colours = [f"C{i % 10}" for i in range(len(schedules))]
    for index, (schedule, colour) in enumerate(zip(schedules, colours, strict=True)):
        sigmas = build_sigmas(schedule.id, steps, table, family=family)
        # The trailing 0 has no place on a log axis; the positive levels carry the shape.
        positive = sigmas[:-1].tolist()
        axes.plot(
            range(len(positive)),
            positive,
            color=colour,
            linestyle="-" if index < 10 else "--",
            marker=".",
            markersize=3,
            linewidth=1.2,
            label=f"{schedule.label} ({schedule.id})",
        )
    axes.set_yscale("log")
    axes.set_xlabel("step index")
    axes.set_ylabel("sigma (log scale)")
    axes.set_title(f"Noise schedules at {steps} steps ({family} sigma table; the final sigma 0 is not drawn)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, ncols=2)
    return _save(figure, path)


def plot_fixed_steps(
    path: str | PathLike[str],
    *,
    schedule: str = "karras",
    steps: int = 30,
    denoise: float = 0.4,
    family: str = "sd1",
) -> Path:
    """Draw the sigmas img2img samples with and without ``img2img_fix_steps``, to show the lost steps."""
    label = get_schedule(schedule).label
    table = sd_sigma_table(family)
    figure = _new_figure(9.0, 5.0)
    axes = figure.add_subplot()
    for fix_steps, colour, marker in ((True, "C0", "o"), (False, "C3", "s")):
        used = img2img_sigmas(schedule, steps, denoise, table, fix_steps=fix_steps, family=family)
        total, _ = img2img_steps(steps, denoise, fix_steps=fix_steps)
        positive = used[:-1].tolist()
        state = "on" if fix_steps else "off"
        axes.plot(
            range(len(positive)),
            positive,
            color=colour,
            marker=marker,
            markersize=4,
            linewidth=1.2,
            label=(
                f"fix steps {state}: {len(used) - 1} sampler steps "
                f"(the last {len(used)} sigmas of a {total}-step schedule)"
            ),
        )
    axes.set_yscale("log")
    axes.set_xlabel("sampler step")
    axes.set_ylabel("sigma (log scale)")
    axes.set_title(
        f"img2img, {label}, {steps} steps at denoising {denoise:g}: sigmas sampled with and without "
        "img2img_fix_steps",
        fontsize=10,
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=9)
    return _save(figure, path)
