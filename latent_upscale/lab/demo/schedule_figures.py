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
    """Draw every schedule's sigmas against the step index, one small panel each (log axis, shared
    scales), every other schedule in light grey behind it: each curve can be found by its name, and
    compared with the rest. Schedules that coincide (Uniform, Simple, Normal, DDIM Uniform at 30
    steps) stay readable because each has its own panel."""
    table = sd_sigma_table(family)
    schedules = [schedule for schedule in registered_schedules() if schedule.id != AUTOMATIC]
    curves = {
        schedule.id: build_sigmas(schedule.id, steps, table, family=family)[:-1].tolist()  # no final 0
        for schedule in schedules
    }
    columns = 4
    rows = -(-len(schedules) // columns)
    figure = _new_figure(2.6 * columns, 2.1 * rows + 0.5)
    grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    for index, axes in enumerate(grid.flat):
        if index >= len(schedules):
            axes.set_visible(False)
            continue
        schedule = schedules[index]
        for other, values in curves.items():
            if other != schedule.id:
                axes.plot(range(len(values)), values, color="0.82", linewidth=0.8)
        values = curves[schedule.id]
        axes.plot(range(len(values)), values, color="C0", marker=".", markersize=3, linewidth=1.6)
        axes.set_title(f"{schedule.label} ({schedule.id})", fontsize=9)
        axes.set_yscale("log")
        axes.grid(True, which="major", alpha=0.3)
        if index % columns == 0:
            axes.set_ylabel("sigma (log)", fontsize=8)
        if index >= len(schedules) - columns:
            axes.set_xlabel("step index", fontsize=8)
        axes.tick_params(labelsize=7)
    figure.suptitle(
        f"Noise schedules at {steps} steps ({family} sigma table; the others in grey; the final sigma 0 is "
        "not drawn)",
        fontsize=10,
    )
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
