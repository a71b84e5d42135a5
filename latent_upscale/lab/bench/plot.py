"""``results.png``: six panels, one or two per benchmark row (matplotlib, drawn off-screen)."""

from __future__ import annotations

from typing import Any

__all__ = ["draw_panels"]

_NEURAL_COLOUR = "#d95f02"
_PLAIN_COLOUR = "#1b9e77"
_VAE_COLOUR = "#7570b3"


def _valid(results: dict[str, Any], name: str) -> Any:
    row = results["rows"].get(name)
    return None if row is None or (isinstance(row, dict) and "error" in row) else row


def _empty(axis: Any, title: str, reason: str) -> None:
    axis.set_title(title)
    axis.text(0.5, 0.5, reason, ha="center", va="center", transform=axis.transAxes, wrap=True)
    axis.set_axis_off()


def _methods_panel(axis: Any, rows: list[dict[str, Any]] | None) -> None:
    title = "1. Every method"
    batch_one = [r for r in rows or [] if r["batch"] == 1 and r["scale"] == 2.0]
    if not any("median_s" in r for r in batch_one):
        _empty(axis, title, "not measured")
        return
    # The SDXL-sized 2× job when there is one (where the choice matters most), else the largest.
    sides = sorted({r["input"][2] for r in batch_one if "median_s" in r})
    sdxl = sorted({r["input"][2] for r in batch_one if "SDXL" in r["job"] and "median_s" in r})
    side = sdxl[-1] if sdxl else sides[-1]
    chosen = [r for r in batch_one if r["input"][2] == side]
    chosen.sort(key=lambda r: r.get("median_s", float("inf")))
    measured = [r for r in chosen if "median_s" in r]
    axis.barh(
        [r["label"] for r in measured],
        [r["median_s"] * 1e3 for r in measured],
        color=[_NEURAL_COLOUR if r["model"] else _PLAIN_COLOUR for r in measured],
    )
    for row in measured:
        axis.annotate(
            _short_time(row["median_s"]),
            (row["median_s"] * 1e3, row["label"]),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=6,
        )
    skipped = [r["label"] for r in chosen if "median_s" not in r]
    if skipped:
        axis.text(
            0.98,
            0.02,
            "not run (over budget): " + ", ".join(skipped),
            transform=axis.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
        )
    output = chosen[0]["output"]
    axis.set_xscale("log")
    axis.set_xlabel("median time per call (ms, log)")
    axis.set_title(f"{title}: {side}×{side} → {output[0]}×{output[1]}, batch 1")
    axis.tick_params(axis="y", labelsize=7)


def _short_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _vae_panel(axis: Any, rows: list[dict[str, Any]] | None) -> None:
    title = "2. Neural vs VAE round trip (2×)"
    measured = [r for r in rows or [] if "ratio" in r]
    if not measured:
        _empty(axis, title, (rows or [{}])[0].get("skipped", "not measured"))
        return
    groups = list(dict.fromkeys((r["vae"], r["input"][2]) for r in measured))
    positions, values, colours, names = [], [], [], []
    for index, (vae, side) in enumerate(groups):
        group = [r for r in measured if (r["vae"], r["input"][2]) == (vae, side)]
        base = index * (len(group) + 2)
        positions.append(base)
        values.append(group[0]["vae_median_s"])
        colours.append(_VAE_COLOUR)
        names.append(f"{vae.upper()} VAE\n{side}²")
        for offset, row in enumerate(group, start=1):
            positions.append(base + offset)
            values.append(row["neural_median_s"])
            colours.append(_NEURAL_COLOUR)
            names.append(f"{row['model']}\n{row['ratio']:.0f}× less")
    axis.bar(positions, values, color=colours)
    for position, value in zip(positions, values, strict=True):
        axis.annotate(
            _short_time(value),
            (position, value),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=6,
        )
    axis.set_xticks(positions, names, fontsize=7)
    axis.set_yscale("log")
    axis.set_ylabel("median time per call (s, log)")
    axis.set_title(title)


def _reference_panel(axis: Any, all_rows: list[dict[str, Any]] | None) -> None:
    title = "3. Our runner vs plain reference (city96)"
    rows = [r for r in all_rows or [] if r.get("kind", "neural runner") == "neural runner"]
    if not rows:
        _empty(axis, title, "not measured")
        return
    names = [f"{r['input'][2]}² ×{r['batch']}\n{r['precision']}" for r in rows]
    axis.bar(range(len(rows)), [r["speedup"] for r in rows], color=_NEURAL_COLOUR)
    for index, row in enumerate(rows):
        axis.annotate(
            f"{row['speedup']:.2f}×",
            (index, row["speedup"]),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    axis.axhline(1.5, color="black", linestyle="--", linewidth=1, label="goal 1.5×")
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set_xticks(range(len(rows)), names, fontsize=7)
    axis.set_ylabel("speed-up over reference (×)")
    axis.set_title(title)
    axis.legend(fontsize=7)


def _growth_panel(axis: Any, growth: dict[str, Any] | None, field: str) -> None:
    title = "4. Growth: " + ("time" if field == "median_s" else "peak memory") + " (2× jobs)"
    if not growth:
        _empty(axis, title, "not measured")
        return
    slopes = {f["series"]: f["time_slope" if field == "median_s" else "memory_slope"] for f in growth["fits"]}
    scale = 1.0 if field == "median_s" else 1 / 2**20
    # Neural series, and of the interpolations bislerp (the one with work of its own per pixel).
    shown = [p for p in growth["points"] if p.get("kind") != "interpolation" or p["series"] == "bislerp"]
    for series in dict.fromkeys(p["series"] for p in shown):
        points = [p for p in shown if p["series"] == series and p.get(field)]
        if not points:
            continue
        slope = slopes.get(series)
        axis.plot(
            [p["output_pixels"] for p in points],
            [p[field] * scale for p in points],
            marker="o",
            linestyle="--" if points[0]["tiled"] else "-",
            label=series + (f" (slope {slope:.2f})" if slope is not None else ""),
        )
    outputs = sorted({(p["output_pixels"], p["output"][0]) for p in shown})
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xticks([pixels for pixels, _ in outputs], [f"{side}²" for _, side in outputs])
    axis.minorticks_off()
    axis.set_xlabel("output latent size (log)")
    axis.set_ylabel("median time (s, log)" if field == "median_s" else "peak extra memory (MiB, log)")
    axis.set_title(title)
    axis.legend(fontsize=6)


def _overhead_panel(axis: Any, all_rows: list[dict[str, Any]] | None) -> None:
    title = "5. Interceptor overhead on calls it does not own"
    rows = [r for r in all_rows or [] if r.get("kind", "interceptor") == "interceptor"]
    if not rows:
        _empty(axis, title, "not measured")
        return
    names = ["×".join(str(d) for d in r["input"]) for r in rows]
    values = [r["overhead_percent"] for r in rows]
    axis.bar(names, values, color=_PLAIN_COLOUR)
    for name, value, row in zip(names, values, rows, strict=True):
        extra = row["extra_per_call_s"] * 1e6
        axis.annotate(
            f"{value:+.2f} % ({extra:+.2f} µs)",
            (name, value),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=7,
        )
    axis.axhline(1.0, color="black", linestyle="--", linewidth=1, label="goal ≤ 1 %")
    axis.axhline(0.0, color="grey", linewidth=0.8)
    axis.set_ylabel("overhead (%)")
    axis.set_title(title)
    axis.legend(fontsize=7)


def draw_panels(plt: Any, results: dict[str, Any]) -> Any:
    """A 2×3 figure of every row (``plt`` is ``matplotlib.pyplot`` with a non-interactive backend)."""
    figure, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    _methods_panel(axes[0][0], _valid(results, "methods"))
    _vae_panel(axes[0][1], _valid(results, "vae_round_trip"))
    _reference_panel(axes[0][2], _valid(results, "reference"))
    growth = _valid(results, "growth")
    _growth_panel(axes[1][0], growth, "median_s")
    _growth_panel(axes[1][1], growth, "peak_bytes")
    _overhead_panel(axes[1][2], _valid(results, "overhead"))
    environment = results["environment"]
    figure.suptitle(
        f"Latent Upscale benchmark — {environment['device_name']} ({environment['device']}, "
        f"{environment['threads']} threads), torch {environment['torch']}, {environment['mode']} run, "
        f"{environment['date']}",
        fontsize=10,
    )
    figure.tight_layout()
    return figure
