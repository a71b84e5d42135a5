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
    measured = [r for r in rows or [] if "median_s" in r and r["batch"] == 1]
    if not measured:
        _empty(axis, title, "not measured")
        return
    # The largest 2× job every method ran at batch 1: where neural and interpolation differ most.
    jobs = {}
    for row in measured:
        if row["scale"] == 2.0:
            jobs.setdefault((row["input"][2], tuple(row["output"])), []).append(row)
    complete = [key for key, group in jobs.items() if len(group) == max(len(g) for g in jobs.values())]
    side, output = max(complete)
    chosen = sorted(jobs[(side, output)], key=lambda r: r["median_s"])
    labels = [r["label"] for r in chosen]
    values = [r["median_s"] * 1e3 for r in chosen]
    colours = [_NEURAL_COLOUR if r["model"] else _PLAIN_COLOUR for r in chosen]
    axis.barh(labels, values, color=colours)
    axis.set_xscale("log")
    axis.set_xlabel("median time per call (ms, log)")
    axis.set_title(f"{title}: {side}×{side} → {output[0]}×{output[1]}, batch 1")
    axis.tick_params(axis="y", labelsize=7)


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
    axis.set_xticks(positions, names, fontsize=7)
    axis.set_yscale("log")
    axis.set_ylabel("median time per call (s, log)")
    axis.set_title(title)


def _reference_panel(axis: Any, rows: list[dict[str, Any]] | None) -> None:
    title = "3. Our runner vs plain reference (city96)"
    if not rows:
        _empty(axis, title, "not measured")
        return
    names = [f"{r['input'][2]}² ×{r['batch']}\n{r['precision']}" for r in rows]
    axis.bar(range(len(rows)), [r["speedup"] for r in rows], color=_NEURAL_COLOUR)
    axis.axhline(1.5, color="black", linestyle="--", linewidth=1, label="goal 1.5×")
    axis.axhline(1.0, color="grey", linewidth=0.8)
    axis.set_xticks(range(len(rows)), names, fontsize=7)
    axis.set_ylabel("speed-up over reference (×)")
    axis.set_title(title)
    axis.legend(fontsize=7)


def _growth_panel(axis: Any, growth: dict[str, Any] | None, field: str) -> None:
    title = "4. Growth: " + ("time" if field == "median_s" else "peak memory")
    if not growth:
        _empty(axis, title, "not measured")
        return
    slopes = {f["series"]: f["time_slope" if field == "median_s" else "memory_slope"] for f in growth["fits"]}
    for series in dict.fromkeys(p["series"] for p in growth["points"]):
        points = [p for p in growth["points"] if p["series"] == series and p.get(field)]
        if not points:
            continue
        xs = [p["output_pixels"] / 1e6 for p in points]
        scale = 1.0 if field == "median_s" else 1 / 2**20
        ys = [p[field] * scale for p in points]
        slope = slopes.get(series)
        label = series + (f" (slope {slope:.2f})" if slope is not None else "")
        axis.plot(xs, ys, marker="o", linestyle="--" if points[0]["tiled"] else "-", label=label)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("output megapixels (latent, log)")
    axis.set_ylabel("median time (s, log)" if field == "median_s" else "peak extra memory (MiB, log)")
    axis.set_title(title)
    axis.legend(fontsize=6)


def _overhead_panel(axis: Any, rows: list[dict[str, Any]] | None) -> None:
    title = "5. Interceptor overhead on calls it does not own"
    if not rows:
        _empty(axis, title, "not measured")
        return
    names = ["×".join(str(d) for d in r["input"]) for r in rows]
    axis.bar(names, [r["overhead_percent"] for r in rows], color=_PLAIN_COLOUR)
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
