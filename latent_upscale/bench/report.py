"""Turn the measured rows into ``results.json``, markdown tables and a matplotlib figure."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from latent_upscale.bench import row_tae
from latent_upscale.bench.environment import environment_line
from latent_upscale.latent_io import atomic_write

__all__ = ["GOALS", "render_markdown", "summarise", "write_report"]

logger = logging.getLogger(__name__)

#: Issues 6 and 12's goals: (summary key, comparison, threshold, wording).
GOALS = {
    "vae_ratio_min": (">=", 50.0, "neural at least 50× cheaper than the VAE round trip"),
    "reference_speedup_min": (">=", 1.5, "runner at least 1.5× faster than the plain reference"),
    "reference_max_abs_diff_fp32": ("<=", 1e-4, "float32 max abs difference at most 1e-4"),
    "overhead_percent_max": ("<=", 1.0, "interceptor overhead on calls it does not own at most 1 %"),
    "upscale_overhead_percent_max": ("<=", 10.0, "upscale on torch modes within 10 % of F.interpolate"),
    "bislerp_vs_comfy_max": ("<=", 1 / 3, "bislerp at least 3× faster than ComfyUI/Forge's (time ratio)"),
    "interpolation_peak_ratio_max": ("<=", 3.0, "interpolation peak memory at most 3× input + output"),
    "interpolation_time_slope_min": (">=", 0.9, "interpolation time slope vs output pixels at least 0.9"),
    "interpolation_time_slope_max": ("<=", 1.1, "interpolation time slope vs output pixels at most 1.1"),
    "interpolation_memory_slope_min": (">=", 0.9, "interpolation memory slope at least 0.9"),
    "interpolation_memory_slope_max": ("<=", 1.1, "interpolation memory slope at most 1.1"),
    **row_tae.GOALS,
}


def _kind(row: dict[str, Any], default: str) -> str:
    return str(row.get("kind", default))


# --- formatting ---------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _mebibytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f} MiB"


def _size(shape: Sequence[int]) -> str:
    return f"{shape[-2]}×{shape[-1]}"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _rows(results: dict[str, Any], name: str) -> Any:
    row = results.get("rows", {}).get(name)
    if isinstance(row, dict) and "error" in row:
        return None
    return row


# --- summary ------------------------------------------------------------------------------------


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures and whether each of issue 6's goals was met in this run."""
    summary: dict[str, Any] = {}
    vae = [r for r in _rows(results, "vae_round_trip") or [] if "ratio" in r]
    if vae:
        summary["vae_ratios"] = {f"{r['vae']} {_size(r['input'])} vs {r['model']}": r["ratio"] for r in vae}
        summary["vae_ratio_min"] = min(r["ratio"] for r in vae)
    summary.update(row_tae.tae_summary(_rows(results, row_tae.ROW) or []))
    reference_rows = _rows(results, "reference") or []
    reference = [r for r in reference_rows if _kind(r, "neural runner") == "neural runner"]
    yardsticks = [r for r in reference_rows if _kind(r, "") == "yardstick"]
    if yardsticks:
        summary["bislerp_vs_bilinear"] = {_shape(r): r["ratio"] for r in yardsticks}
    peers = [r for r in reference_rows if _kind(r, "") == "peer"]
    if peers:
        summary["peer_ratios"] = {f"{r['ours']} vs {r['theirs']} {_shape(r)}": r["ratio"] for r in peers}
        comfy = [r["ratio"] for r in peers if r["ours"] == "bislerp" and "ComfyUI" in r["theirs"]]
        if comfy:
            summary["bislerp_vs_comfy_max"] = max(comfy)
    if reference:
        summary["reference_speedups"] = {
            f"{_size(r['input'])} batch {r['batch']} {r['contender']}": r["speedup"] for r in reference
        }
        summary["reference_speedup_min"] = min(r["speedup"] for r in reference if r["precision"] == "float32")
        summary["reference_max_abs_diff_fp32"] = max(
            r["max_abs_diff_raw"] for r in reference if r["precision"] == "float32"
        )
    growth = _rows(results, "growth")
    if growth:
        neural_fits = [fit for fit in growth["fits"] if _kind(fit, "neural") != "interpolation"]
        summary["growth_time_slopes"] = {fit["series"]: fit["time_slope"] for fit in neural_fits}
        _interpolation_growth_summary(summary, [f for f in growth["fits"] if _kind(f, "") == "interpolation"])
    overhead_rows = _rows(results, "overhead") or []
    overhead = [r for r in overhead_rows if _kind(r, "interceptor") == "interceptor"]
    wrapped = [r for r in overhead_rows if _kind(r, "") == "upscale"]
    if wrapped:
        summary["upscale_overhead_percent"] = {
            f"{r['method']} {_shape(r)}": r["overhead_percent"] for r in wrapped
        }
        summary["upscale_overhead_percent_max"] = max(r["overhead_percent"] for r in wrapped)
    if overhead:
        summary["overhead_percent"] = {
            "×".join(str(d) for d in r["input"]): r["overhead_percent"] for r in overhead
        }
        summary["overhead_percent_max"] = max(r["overhead_percent"] for r in overhead)
    goals = {}
    for key, (comparison, threshold, wording) in GOALS.items():
        if key in summary:
            value = summary[key]
            met = value >= threshold if comparison == ">=" else value <= threshold
            goals[key] = {"goal": f"{comparison} {threshold:g}", "value": value, "met": met, "what": wording}
    summary["goals"] = goals
    return summary


def _shape(row: dict[str, Any]) -> str:
    """``B×C×H×W→H'×W'`` of a row with an input shape and an output size."""
    return "×".join(str(d) for d in row["input"]) + "→" + "×".join(str(d) for d in row["output"])


def _interpolation_growth_summary(summary: dict[str, Any], fits: list[dict[str, Any]]) -> None:
    if not fits:
        return
    time_slopes = {f["series"]: f["time_slope"] for f in fits if f["time_slope"] is not None}
    memory_slopes = {f["series"]: f["memory_slope"] for f in fits if f["memory_slope"] is not None}
    peaks = {f["series"]: f["peak_ratio_max"] for f in fits if f.get("peak_ratio_max") is not None}
    summary["interpolation_time_slopes"] = time_slopes
    summary["interpolation_memory_slopes"] = memory_slopes
    summary["interpolation_peak_ratios"] = peaks
    if time_slopes:
        summary["interpolation_time_slope_min"] = min(time_slopes.values())
        summary["interpolation_time_slope_max"] = max(time_slopes.values())
    if memory_slopes:
        summary["interpolation_memory_slope_min"] = min(memory_slopes.values())
        summary["interpolation_memory_slope_max"] = max(memory_slopes.values())
    if peaks:
        summary["interpolation_peak_ratio_max"] = max(peaks.values())


# --- markdown -----------------------------------------------------------------------------------


def _methods_section(rows: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys((tuple(r["input"]), tuple(r["output"])) for r in rows))
    columns.sort(key=lambda c: (c[0][2], c[1][0], c[0][0]))
    header = ["method", *(f"{_size(i)}→{_size(o)} ×{i[0]}" for i, o in columns)]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    by_key = {(r["label"], tuple(r["input"]), tuple(r["output"])): r for r in rows}

    def cell(label: str, column: tuple[tuple[int, ...], tuple[int, ...]], field: str) -> str:
        row = by_key.get((label, *column))
        if row is None:
            return ""
        if "skipped" in row:
            return "skipped¹"
        text = _seconds(row["median_s"]) if field == "time" else _mebibytes(row.get("peak_bytes"))
        tiles = row.get("tiles", 1)
        return text + (f" ({tiles} tiles)" if field == "time" and tiles > 1 else "")

    lines = ["## 1. Every method: median time per call", ""]
    lines += _table(header, ([label, *(cell(label, c, "time") for c in columns)] for label in labels))
    lines += ["Peak memory added by one call:", ""]
    lines += _table(header, ([label, *(cell(label, c, "memory") for c in columns)] for label in labels))
    skipped = [r for r in rows if "skipped" in r]
    if skipped:
        notes = "; ".join(
            f"{r['label']} {_size(r['input'])}→{_size(r['output'])} ×{r['batch']}: {r['skipped']}"
            for r in skipped
        )
        lines += [f"¹ Not run: {notes}.", ""]
    return lines


def _vae_section(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["## 2. Neural vs VAE round trip (the same 2× job)", ""]
    if rows and "skipped" in rows[0]:
        return [*lines, f"Not run: {rows[0]['skipped']}", ""]
    header = [
        "VAE",
        "latent",
        "decode → encode",
        "round trip",
        "neural model",
        "neural",
        "neural is cheaper by",
        "VAE peak memory",
        "neural peak memory",
    ]
    lines += _table(
        header,
        (
            [
                r["vae"].upper(),
                f"{_size(r['input'])}→{_size(r['output'])}",
                f"{r['decoded_px']} px → {r['encoded_px']} px",
                _seconds(r["vae_median_s"]),
                r["model"],
                _seconds(r["neural_median_s"])
                + (f" ({r['neural_tiles']} tiles)" if r["neural_tiles"] > 1 else ""),
                f"{r['ratio']:.0f}×",
                _mebibytes(r["vae_peak_bytes"]),
                _mebibytes(r["neural_peak_bytes"]),
            ]
            for r in rows
        ),
    )
    return lines


def _reference_section(all_rows: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in all_rows if _kind(r, "neural runner") == "neural runner"]
    lines = ["## 3. Our runner vs the plain reference (city96 v2.1, 2×)", ""]
    if not rows:
        return [*lines, "Not run.", "", *_interpolation_section(all_rows)]
    header = [
        "latent",
        "batch",
        "ours",
        "precision",
        "reference",
        "ours (upscale call)",
        "speed-up",
        "max abs diff (raw)",
        "tolerance",
    ]
    lines += _table(
        header,
        (
            [
                f"{_size(r['input'])}→{_size(r['output'])}",
                r["batch"],
                r["contender"],
                r["precision"],
                _seconds(r["reference_median_s"]),
                _seconds(r["runner_median_s"]),
                f"{r['speedup']:.2f}×",
                f"{r['max_abs_diff_raw']:.1e}",
                f"{r['tolerance_raw']:.0e} {'✓' if r['within_tolerance'] else '✗'}",
            ]
            for r in rows
        ),
    )
    lines += [
        "Speed-up: median of per-round ratios, reference and runner interleaved round by round. "
        "Differences in raw latent units "
        f"(|reference| up to {max(r['max_abs_reference_raw'] for r in rows):.1f}).",
        "",
    ]
    return lines + _interpolation_section(all_rows)


def _ratio_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _interpolation_section(rows: list[dict[str, Any]]) -> list[str]:
    compared = [r for r in rows if _kind(r, "") in ("yardstick", "peer")]
    if not compared:
        return []
    lines = ["### 3b. Interpolations vs the yardstick and published peers", ""]
    lines += _table(
        [
            "ours",
            "vs",
            "input → output",
            "ours",
            "theirs",
            "time ratio (ours / theirs)",
            "max abs diff",
            "peak / (in+out), ours",
            "theirs",
        ],
        (
            [
                r["ours"],
                r["theirs"],
                _shape(r),
                _seconds(r["ours_median_s"]),
                _seconds(r["theirs_median_s"]),
                f"{r['ratio']:.3f}",
                "—" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}",
                _ratio_cell(r.get("ours_peak_ratio")),
                _ratio_cell(r.get("theirs_peak_ratio")),
            ]
            for r in compared
        ),
    )
    peers = [r for r in compared if r["kind"] == "peer"]
    lines += [
        "Yardstick: bislerp's time as a multiple of bilinear's (both through `upscale`). Peers: "
        + (
            "published implementations loaded from the `--peers` folder (never in this repository); "
            "bislerp's output differs from ComfyUI's by design (half-pixel centres, linear lengths)."
            if peers
            else "none loaded (give a folder of peer implementations to compare against them)."
        )
        + " Ratios: medians of per-round ratios, interleaved.",
        "",
    ]
    return lines


def _growth_section(growth: dict[str, Any]) -> list[str]:
    points = [p for p in growth["points"] if _kind(p, "neural") != "interpolation"]
    sides = sorted({p["input"][2] for p in points})
    lines = ["## 4. Growth with the latent size (2× jobs)", ""]
    fits = [f for f in growth["fits"] if _kind(f, "neural") != "interpolation"]
    lines += _table(
        ["series", "sizes measured", "largest input", "time slope", "memory slope"],
        (
            [
                f["series"],
                f["points"],
                f"{f['largest_side']}²" if f["largest_side"] else "—",
                "—" if f["time_slope"] is None else f"{f['time_slope']:.2f}",
                "—" if f["memory_slope"] is None else f"{f['memory_slope']:.2f}",
            ]
            for f in fits
        ),
    )
    tiles = {str(p["tile_size"]) for p in points if p["tiled"]}
    tiling = "the runner's automatic tiling" if tiles == {"automatic"} else f"tiles of {', '.join(tiles)} px"
    lines += [
        f"Slopes: log-log against output pixels (1 = proportional to the image). Tiled: {tiling}; "
        "untiled: tile_size=0. Each cell: median time, peak extra memory, tiles.",
        "",
    ]
    by_series = {}
    for point in points:
        by_series.setdefault(point["series"], {})[point["input"][2]] = point

    def cell(point: dict[str, Any] | None) -> str:
        if point is None:
            return ""
        if "skipped" in point:
            return "—²"
        tiles = point.get("tiles", 1)
        return f"{_seconds(point['median_s'])}, {_mebibytes(point.get('peak_bytes'))}" + (
            f", {tiles} tiles" if tiles > 1 else ""
        )

    header = ["series", *(f"{s}²→{2 * s}²" for s in sides)]
    lines += _table(
        header, ([series, *(cell(cells.get(s)) for s in sides)] for series, cells in by_series.items())
    )
    skipped = [p for p in points if "skipped" in p]
    if skipped:
        reasons = "; ".join(f"{p['series']} {p['input'][2]}²: {p['skipped']}" for p in skipped)
        lines += [f"² Not run: {reasons}.", ""]
    return lines + _interpolation_growth_section(growth)


def _interpolation_growth_section(growth: dict[str, Any]) -> list[str]:
    points = [p for p in growth["points"] if _kind(p, "") == "interpolation"]
    fits = {f["series"]: f for f in growth["fits"] if _kind(f, "") == "interpolation"}
    if not points:
        return []
    sides = sorted({p["input"][2] for p in points})
    by_key = {(p["series"], p["input"][2]): p for p in points}

    def slope(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    lines = ["### 4b. Interpolations: growth and peak memory (batch 1, 4 channels, 2×)", ""]
    lines += _table(
        ["method", "time slope", "memory slope", "max peak / (in+out)", *(f"{s}²→{2 * s}²" for s in sides)],
        (
            [
                series,
                slope(fit["time_slope"]),
                slope(fit["memory_slope"]),
                _ratio_cell(fit.get("peak_ratio_max")),
                *(_seconds(by_key[(series, s)]["median_s"]) if (series, s) in by_key else "" for s in sides),
            ]
            for series, fit in fits.items()
        ),
    )
    lines += [
        "Sizes include non-powers of two. Peak: extra resident memory during one call, as a multiple of "
        "the input plus output bytes.",
        "",
    ]
    return lines


def _overhead_section(all_rows: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in all_rows if _kind(r, "interceptor") == "interceptor"]
    lines = ["## 5. Overhead of the WebUI glue on interpolate calls it does not own", ""]
    lines += _table(
        ["input", "call", "torch alone", "with interceptor", "extra per call", "overhead"],
        (
            [
                "×".join(str(d) for d in r["input"]),
                f"`{r['call']}`",
                _seconds(r["plain_median_s"]),
                _seconds(r["patched_median_s"]),
                _seconds(abs(r["extra_per_call_s"])) if r["extra_per_call_s"] >= 0 else "< noise",
                f"{r['overhead_percent']:+.2f} %",
            ]
            for r in rows
        ),
    )
    lines += [f"Median of per-round ratios over {rows[0]['rounds']} interleaved rounds.", ""] if rows else []
    wrapped = [r for r in all_rows if _kind(r, "") == "upscale"]
    if wrapped:
        lines += ["### 5b. `upscale` on torch modes vs a direct `F.interpolate`", ""]
        lines += _table(
            ["method", "input → output", "F.interpolate", "upscale", "extra per call", "overhead"],
            (
                [
                    r["method"],
                    _shape(r),
                    _seconds(r["plain_median_s"]),
                    _seconds(r["patched_median_s"]),
                    _seconds(abs(r["extra_per_call_s"])) if r["extra_per_call_s"] >= 0 else "< noise",
                    f"{r['overhead_percent']:+.1f} %",
                ]
                for r in wrapped
            ),
        )
        lines += [
            "`upscale` checks the latent and the size, dispatches and records the result; outputs are "
            f"identical. Median of per-round ratios over {wrapped[0]['rounds']} interleaved rounds.",
            "",
        ]
    return lines


def _goals_section(summary: dict[str, Any]) -> list[str]:
    goals = summary.get("goals", {})
    if not goals:
        return []
    lines = ["## Goals (issues 6 and 12)", ""]
    lines += _table(
        ["goal", "target", "this run", "met"],
        ([g["what"], g["goal"], f"{g['value']:.3g}", "yes" if g["met"] else "no"] for g in goals.values()),
    )
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    """``results.md``: the environment line, then one table per row."""
    environment = results["environment"]
    lines = ["# Latent Upscale benchmark", "", f"Measured: {environment_line(environment)}.", ""]
    lines += [
        "Times are medians (`torch.utils.benchmark` blocked_autorange; calls of seconds: single calls, "
        "the number of samples is in results.json); memory is "
        f"{environment['memory_measure']}. Absolute times hold for this machine only; the ratios "
        "were measured within one run.",
        "",
    ]
    sections = {
        "methods": _methods_section,
        "vae_round_trip": _vae_section,
        row_tae.ROW: row_tae.tae_section,
        "reference": _reference_section,
        "growth": _growth_section,
        "overhead": _overhead_section,
    }
    for name, section in sections.items():
        row = results["rows"].get(name)
        if row is None:
            continue
        if isinstance(row, dict) and "error" in row:
            lines += [f"## {name}", "", f"Failed: {row['error']}", ""]
            continue
        lines += section(row)
    lines += _goals_section(results.get("summary", {}))
    return "\n".join(lines).rstrip() + "\n"


# --- figure -------------------------------------------------------------------------------------


def _plot(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no results.png (pip install 'latent-upscale[bench]')")
        return None
    from latent_upscale.bench.plot import draw_panels

    figure = draw_panels(plt, results)
    try:
        with atomic_write(path) as temporary:
            figure.savefig(temporary, dpi=110)  # the format from the suffix, which the temporary keeps
    finally:
        plt.close(figure)
    return path


def write_report(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and (with matplotlib) ``results.png`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "results.json", "markdown": out / "results.md"}
    # All or nothing: a full disk or an interrupt never leaves a truncated report beside good ones.
    with atomic_write(files["json"]) as temporary:
        temporary.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_write(files["markdown"]) as temporary:
        temporary.write_text(render_markdown(results), encoding="utf-8")
    png = _plot(results, out / "results.png")
    if png is not None:
        files["png"] = png
    return files
