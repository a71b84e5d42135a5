"""The tables of ``results.md``: one Markdown section per bench row, and the cell formats they share.

Each section takes its row exactly as ``results.json`` stores it; :func:`latent_upscale.lab.bench.report.
render_markdown` puts them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "growth_section",
    "mebibytes",
    "methods_section",
    "overhead_section",
    "reference_section",
    "row_kind",
    "seconds",
    "shape_text",
    "size_text",
    "table",
    "vae_section",
]


def row_kind(row: dict[str, Any], default: str) -> str:
    return str(row.get("kind", default))


# --- formatting ---------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def mebibytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f} MiB"


def size_text(shape: Sequence[int]) -> str:
    return f"{shape[-2]}×{shape[-1]}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def shape_text(row: dict[str, Any]) -> str:
    """``B×C×H×W→H'×W'`` of a row with an input shape and an output size."""
    return "×".join(str(d) for d in row["input"]) + "→" + "×".join(str(d) for d in row["output"])


# --- markdown -----------------------------------------------------------------------------------


def methods_section(rows: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys((tuple(r["input"]), tuple(r["output"])) for r in rows))
    columns.sort(key=lambda c: (c[0][2], c[1][0], c[0][0]))
    header = ["method", *(f"{size_text(i)}→{size_text(o)} ×{i[0]}" for i, o in columns)]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    by_key = {(r["label"], tuple(r["input"]), tuple(r["output"])): r for r in rows}

    def cell(label: str, column: tuple[tuple[int, ...], tuple[int, ...]], field: str) -> str:
        row = by_key.get((label, *column))
        if row is None:
            return ""
        if "skipped" in row:
            return "skipped¹"
        text = seconds(row["median_s"]) if field == "time" else mebibytes(row.get("peak_bytes"))
        tiles = row.get("tiles", 1)
        return text + (f" ({tiles} tiles)" if field == "time" and tiles > 1 else "")

    lines = ["## 1. Every method: median time per call", ""]
    lines += table(header, ([label, *(cell(label, c, "time") for c in columns)] for label in labels))
    lines += ["Peak memory added by one call:", ""]
    lines += table(header, ([label, *(cell(label, c, "memory") for c in columns)] for label in labels))
    skipped = [r for r in rows if "skipped" in r]
    if skipped:
        notes = "; ".join(
            f"{r['label']} {size_text(r['input'])}→{size_text(r['output'])} ×{r['batch']}: {r['skipped']}"
            for r in skipped
        )
        lines += [f"¹ Not run: {notes}.", ""]
    return lines


def vae_section(rows: list[dict[str, Any]]) -> list[str]:
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
    lines += table(
        header,
        (
            [
                r["vae"].upper(),
                f"{size_text(r['input'])}→{size_text(r['output'])}",
                f"{r['decoded_px']} px → {r['encoded_px']} px",
                seconds(r["vae_median_s"]),
                r["model"],
                seconds(r["neural_median_s"])
                + (f" ({r['neural_tiles']} tiles)" if r["neural_tiles"] > 1 else ""),
                f"{r['ratio']:.0f}×"
                + (
                    f" ({r['ratio_spread'][0]:.0f}–{r['ratio_spread'][1]:.0f}×)"
                    if r.get("ratio_spread")
                    else ""
                ),
                mebibytes(r["vae_peak_bytes"]),
                mebibytes(r["neural_peak_bytes"]),
            ]
            for r in rows
        ),
    )
    if rows and rows[0].get("vae_samples", 1) > 1:
        lines += [
            f"Interleaved: {rows[0]['vae_samples']} rounds of one round trip and each model's median; "
            "the ratio is the median of the per-round ratios (their range in brackets).",
            "",
        ]
    return lines


def reference_section(all_rows: list[dict[str, Any]]) -> list[str]:
    rows = [r for r in all_rows if row_kind(r, "neural runner") == "neural runner"]
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
    lines += table(
        header,
        (
            [
                f"{size_text(r['input'])}→{size_text(r['output'])}",
                r["batch"],
                r["contender"],
                r["precision"],
                seconds(r["reference_median_s"]),
                seconds(r["runner_median_s"]),
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


def _percent_cell(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _interpolation_section(rows: list[dict[str, Any]]) -> list[str]:
    compared = [r for r in rows if row_kind(r, "") in ("yardstick", "peer")]
    if not compared:
        return []
    lines = ["### 3b. Interpolations and learned upscalers vs the yardstick and published peers", ""]
    lines += table(
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
            "conv throughput, ours",
            "theirs",
        ],
        (
            [
                r["ours"],
                r["theirs"],
                shape_text(r),
                seconds(r["ours_median_s"]),
                seconds(r["theirs_median_s"]),
                f"{r['ratio']:.3f}",
                "—" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}",
                _ratio_cell(r.get("ours_peak_ratio")),
                _ratio_cell(r.get("theirs_peak_ratio")),
                _percent_cell(r.get("ours_throughput_fraction")),
                _percent_cell(r.get("theirs_throughput_fraction")),
            ]
            for r in compared
        ),
    )
    peers = [r for r in compared if r["kind"] == "peer"]
    lines += [
        "Yardstick: bislerp's time as a multiple of bilinear's (both through `upscale`). Peers: "
        + (
            "published implementations loaded from the `--peers` folder (never in this repository); "
            "bislerp's output differs from ComfyUI's by design (half-pixel centres, linear lengths); "
            "the learned upscalers run the same random weights in both (ours: the whole `upscale` "
            "call; theirs: the node's loaded network)."
            if peers
            else "none loaded (give a folder of peer implementations to compare against them)."
        )
        + " Ratios: medians of per-round ratios, interleaved. Conv throughput: the time the network's"
        " convolutions (and attention products) take as bare loops of the same shapes (the fastest of"
        " `F.conv2d`, `matmul` and oneDNN's own), as a share of the call's median time.",
        "",
    ]
    errors = [r for r in rows if row_kind(r, "") == "peer error"]
    lines += [f"Peer not run: {r['theirs']} at {shape_text(r)}: {r['error']}" for r in errors]
    return lines + ([""] if errors else [])


def growth_section(growth: dict[str, Any]) -> list[str]:
    points = [p for p in growth["points"] if row_kind(p, "neural") != "interpolation"]
    sides = sorted({p["input"][2] for p in points})
    lines = ["## 4. Growth with the latent size (2× jobs)", ""]
    fits = [f for f in growth["fits"] if row_kind(f, "neural") != "interpolation"]
    lines += table(
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
        return f"{seconds(point['median_s'])}, {mebibytes(point.get('peak_bytes'))}" + (
            f", {tiles} tiles" if tiles > 1 else ""
        )

    header = ["series", *(f"{s}²→{2 * s}²" for s in sides)]
    lines += table(
        header, ([series, *(cell(cells.get(s)) for s in sides)] for series, cells in by_series.items())
    )
    skipped = [p for p in points if "skipped" in p]
    if skipped:
        reasons = "; ".join(f"{p['series']} {p['input'][2]}²: {p['skipped']}" for p in skipped)
        lines += [f"² Not run: {reasons}.", ""]
    return lines + _interpolation_growth_section(growth)


def _interpolation_growth_section(growth: dict[str, Any]) -> list[str]:
    points = [p for p in growth["points"] if row_kind(p, "") == "interpolation"]
    fits = {f["series"]: f for f in growth["fits"] if row_kind(f, "") == "interpolation"}
    if not points:
        return []
    sides = sorted({p["input"][2] for p in points})
    by_key = {(p["series"], p["input"][2]): p for p in points}

    def slope(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    lines = ["### 4b. Interpolations: growth and peak memory (batch 1, 4 channels, 2×)", ""]
    lines += table(
        ["method", "time slope", "memory slope", "max peak / (in+out)", *(f"{s}²→{2 * s}²" for s in sides)],
        (
            [
                series,
                slope(fit["time_slope"]),
                slope(fit["memory_slope"]),
                _ratio_cell(fit.get("peak_ratio_max")),
                *(seconds(by_key[(series, s)]["median_s"]) if (series, s) in by_key else "" for s in sides),
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


def _overhead_range(row: dict[str, Any]) -> str:
    plain, patched = row.get("plain_round_medians_s") or [], row.get("patched_round_medians_s") or []
    if not plain or len(plain) != len(patched):
        return "n/a"
    percents = [(b / a - 1.0) * 100.0 for a, b in zip(plain, patched, strict=True)]
    return f"{min(percents):+.1f} … {max(percents):+.1f} %"


def _signed_seconds(value: float) -> str:
    return ("−" if value < 0 else "+") + seconds(abs(value))


def overhead_section(all_rows: list[dict[str, Any]]) -> list[str]:
    """The glue's pass-through cost and ``upscale``'s cost over ``F.interpolate``. Every figure but
    the plain call's median comes from the per-round ratios (so no two columns can disagree)."""
    rows = [r for r in all_rows if row_kind(r, "interceptor") == "interceptor"]
    lines = ["## 5. Overhead of the WebUI glue on interpolate calls it does not own", ""]
    lines += table(
        ["input", "call", "torch alone", "overhead (median)", "per-round range", "extra per call"],
        (
            [
                "×".join(str(d) for d in r["input"]),
                f"`{r['call']}`",
                seconds(r["plain_median_s"]),
                f"{r['overhead_percent']:+.2f} %",
                _overhead_range(r),
                _signed_seconds(r["extra_per_call_s"]),
            ]
            for r in rows
        ),
    )
    if rows:
        lines += [
            f"Overhead: the median over {rows[0]['rounds']} interleaved rounds of (time with the interceptor "
            "/ time of torch alone − 1); extra per call: that median times the plain call's time.",
            "",
        ]
    wrapped = [r for r in all_rows if row_kind(r, "") == "upscale"]
    if wrapped:
        lines += ["### 5b. `upscale` on torch modes vs a direct `F.interpolate`", ""]
        lines += table(
            [
                "method",
                "input → output",
                "F.interpolate",
                "overhead (median)",
                "per-round range",
                "extra per call",
            ],
            (
                [
                    r["method"],
                    shape_text(r),
                    seconds(r["plain_median_s"]),
                    f"{r['overhead_percent']:+.1f} %",
                    _overhead_range(r),
                    _signed_seconds(r["extra_per_call_s"]),
                ]
                for r in wrapped
            ),
        )
        lines += [
            "`upscale` checks the latent and the size, dispatches and records the result; outputs are "
            f"identical. Median of per-round ratios over {wrapped[0]['rounds']} interleaved rounds, on "
            f"{wrapped[0].get('threads', 1)} thread(s).",
            "",
        ]
    return lines
