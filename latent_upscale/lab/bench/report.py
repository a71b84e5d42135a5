"""Turn the measured rows into ``results.json``, markdown tables and a matplotlib figure.

The tables themselves (one section per row) are in :mod:`latent_upscale.lab.bench.report_tables`; this
module computes the summary and its goals, assembles ``results.md`` and writes the files.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import latent_upscale.lab.bench.row_tae as row_tae
from latent_upscale.lab.bench.environment import environment_line
from latent_upscale.lab.bench.report_tables import (
    growth_section,
    methods_section,
    overhead_section,
    reference_section,
    row_kind,
    shape_text,
    size_text,
    table,
    vae_section,
)
from latent_upscale.lab.bench.row_neural_peers import NEURAL_PEERS
from latent_upscale.latent_io import atomic_write

__all__ = ["GOALS", "render_markdown", "summarise", "write_report"]

logger = logging.getLogger(__name__)

#: The goals: (summary key, comparison, threshold, wording).
GOALS = {
    "vae_ratio_min": (">=", 50.0, "neural at least 50× cheaper than the VAE round trip"),
    "reference_speedup_min": (">=", 1.5, "runner at least 1.5× faster than the plain reference"),
    "reference_max_abs_diff_fp32": ("<=", 1e-4, "float32 max abs difference at most 1e-4"),
    "overhead_percent_max": ("<=", 1.0, "interceptor overhead on calls it does not own at most 1 %"),
    "upscale_overhead_percent_max": ("<=", 5.0, "upscale on torch modes within 5 % of F.interpolate"),
    "bislerp_vs_comfy_max": ("<=", 0.35, "bislerp at most 0.35× ComfyUI/Forge's time"),
    "interpolation_peak_ratio_max": ("<=", 3.0, "interpolation peak memory at most 3× input + output"),
    "interpolation_time_slope_min": (">=", 0.9, "interpolation time slope vs output pixels at least 0.9"),
    "interpolation_time_slope_max": ("<=", 1.1, "interpolation time slope vs output pixels at most 1.1"),
    "bislerp_time_slope_max": ("<=", 1.05, "bislerp time slope vs output pixels at most 1.05 (to 4096²)"),
    "interpolation_memory_slope_max": ("<=", 1.1, "interpolation memory slope at most 1.1"),
    "sesqui_vs_node_max": ("<=", 0.6, "SesquiLSR at most 0.6× its published node's time"),
    "city96_vs_node_max": ("<", 1.0, "city96 faster than its published ComfyUI node"),
    "ttl_vs_node_max": ("<=", 0.85, "NNLatentUpscale (Ttl) at most 0.85× its published node's time"),
    "neural_conv_throughput_min": (
        ">=",
        0.4,
        "SesquiLSR and NNLatentUpscale at least 40 % of the conv throughput their layer shapes reach",
    ),
    **row_tae.GOALS,
}

#: Memory is judged from above only (slope ≤ 1.1, peak ≤ 3× input + output at every size): a method
#: whose temporaries are capped by a block (bislerp) grows slower than its output, which is the point.
#: Goals a quick run reports but does not judge: slopes fitted over 24–48 pixel sides measure fixed
#: per-call costs, not growth, and a peak of a few hundred KiB is mostly the heap's own growth; the
#: round-trip goals are stated at SD1/SDXL sizes, and at the quick run's 8²/12² latents an SD VAE
#: call is mostly its fixed cost (84 M weights read per call).
_NOT_JUDGED_WHEN_QUICK = {
    "vae_ratio_min",
    "tae_vae_time_ratio_min",
    "tae_vae_peak_ratio_min",
    "tae_tiled_vs_untiled_max",
    "interpolation_time_slope_min",
    "interpolation_time_slope_max",
    "bislerp_time_slope_max",
    "interpolation_memory_slope_max",
    "interpolation_peak_ratio_max",
}

#: Learned upscalers' peer rows: summary key → the node's name, as the rows carry it in ``theirs``.
_NODE_GOALS = {f"{peer.model_id}_vs_node_max": peer.name for peer in NEURAL_PEERS}
#: The nodes whose networks the conv-throughput goal covers.
_THROUGHPUT_NODES = {peer.name for peer in NEURAL_PEERS if peer.model_id in ("sesqui", "ttl")}


def _rows(results: dict[str, Any], name: str) -> Any:
    row = results.get("rows", {}).get(name)
    if isinstance(row, dict) and "error" in row:
        return None
    return row


# --- summary ------------------------------------------------------------------------------------


def round_spread(row: dict[str, Any], numerators: str, denominators: str) -> tuple[float, float] | None:
    """Lowest and highest per-round ratio ``row[numerators][i] / row[denominators][i]``, or None
    when the row holds no per-round figures."""
    top, bottom = row.get(numerators), row.get(denominators)
    if not top or not bottom or len(top) != len(bottom):
        return None
    ratios = [a / b for a, b in zip(top, bottom, strict=True)]
    return min(ratios), max(ratios)


def _put(
    summary: dict[str, Any], key: str, values: list[float], spreads: list[Any], *, worst: Any = max
) -> None:
    """``summary[key]``: the worst row's median (``max`` for at-most goals, ``min`` for at-least
    ones); ``summary[key + "_spread"]``: the same worst of the rows' lowest and of their highest
    per-round figures, when every row has them (so a goal is judged over the whole spread)."""
    summary[key] = worst(values)
    if spreads and all(spread is not None for spread in spreads):
        summary[key + "_spread"] = [worst(low for low, _ in spreads), worst(high for _, high in spreads)]


def _percent(spread: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if spread is None else ((spread[0] - 1.0) * 100.0, (spread[1] - 1.0) * 100.0)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, and each goal judged over the spread of its interleaved rounds."""
    summary: dict[str, Any] = {}
    vae = [r for r in _rows(results, "vae_round_trip") or [] if "ratio" in r]
    if vae:
        summary["vae_ratios"] = {
            f"{r['vae']} {size_text(r['input'])} vs {r['model']}": r["ratio"] for r in vae
        }
        _put(
            summary,
            "vae_ratio_min",
            [r["ratio"] for r in vae],
            [r.get("ratio_spread") for r in vae],
            worst=min,
        )
    summary.update(row_tae.tae_summary(_rows(results, row_tae.ROW) or []))
    reference_rows = _rows(results, "reference") or []
    reference = [r for r in reference_rows if row_kind(r, "neural runner") == "neural runner"]
    yardsticks = [r for r in reference_rows if row_kind(r, "") == "yardstick"]
    if yardsticks:
        summary["bislerp_vs_bilinear"] = {shape_text(r): r["ratio"] for r in yardsticks}
    peers = [r for r in reference_rows if row_kind(r, "") == "peer"]
    if peers:
        summary["peer_ratios"] = {f"{r['ours']} vs {r['theirs']} {shape_text(r)}": r["ratio"] for r in peers}
        goal_rows = {
            "bislerp_vs_comfy_max": [r for r in peers if r["ours"] == "bislerp" and "ComfyUI" in r["theirs"]]
        }
        goal_rows.update(
            {key: [r for r in peers if r["theirs"] == node] for key, node in _NODE_GOALS.items()}
        )
        for key, chosen in goal_rows.items():
            if chosen:
                spreads = [round_spread(r, "ours_round_medians_s", "theirs_round_medians_s") for r in chosen]
                _put(summary, key, [r["ratio"] for r in chosen], spreads)
        throughput = [r for r in peers if r["theirs"] in _THROUGHPUT_NODES and "achievable_s" in r]
        if throughput:
            fractions = [r["ours_throughput_round_fractions"] for r in throughput]
            spreads = [(min(f), max(f)) if f else None for f in fractions]
            values = [r["ours_throughput_fraction"] for r in throughput]
            _put(summary, "neural_conv_throughput_min", values, spreads, worst=min)
    if reference:
        summary["reference_speedups"] = {
            f"{size_text(r['input'])} batch {r['batch']} {r['contender']}": r["speedup"] for r in reference
        }
        fp32 = [r for r in reference if r["precision"] == "float32"]
        spreads = [round_spread(r, "reference_round_medians_s", "runner_round_medians_s") for r in fp32]
        _put(summary, "reference_speedup_min", [r["speedup"] for r in fp32], spreads, worst=min)
        summary["reference_max_abs_diff_fp32"] = max(r["max_abs_diff_raw"] for r in fp32)
    growth = _rows(results, "growth")
    if growth:
        neural_fits = [fit for fit in growth["fits"] if row_kind(fit, "neural") != "interpolation"]
        summary["growth_time_slopes"] = {fit["series"]: fit["time_slope"] for fit in neural_fits}
        _interpolation_growth_summary(
            summary, [f for f in growth["fits"] if row_kind(f, "") == "interpolation"]
        )
    overhead_rows = _rows(results, "overhead") or []
    for key, kind in (("upscale_overhead_percent", "upscale"), ("overhead_percent", "interceptor")):
        chosen = [r for r in overhead_rows if row_kind(r, "interceptor") == kind]
        if not chosen:
            continue
        label = (
            (lambda r: f"{r['method']} {shape_text(r)}")
            if kind == "upscale"
            else (lambda r: size_text(r["input"]))
        )
        summary[key] = {label(r): r["overhead_percent"] for r in chosen}
        spreads = [
            _percent(round_spread(r, "patched_round_medians_s", "plain_round_medians_s")) for r in chosen
        ]
        _put(summary, key + "_max", [r["overhead_percent"] for r in chosen], spreads)
    quick = bool(results.get("plan", {}).get("quick", False))
    summary["goals"] = {
        key: _judge(summary[key], summary.get(key + "_spread"), goal, quick and key in _NOT_JUDGED_WHEN_QUICK)
        for key, goal in GOALS.items()
        if key in summary
    }
    return summary


def _judge(
    value: float, spread: list[float] | None, goal: tuple[str, float, str], skip: bool
) -> dict[str, Any]:
    """``met`` True/False when the whole spread of per-round figures is on one side of the line
    (the median alone where there are no rounds), None when the spread straddles it or the goal is
    not judged at these sizes; ``verdict`` says which in words."""
    comparison, threshold, wording = goal

    def good(figure: float) -> bool:
        return {">=": figure >= threshold, "<=": figure <= threshold, "<": figure < threshold}[comparison]

    judged: dict[str, Any] = {"goal": f"{comparison} {threshold:g}", "value": value, "what": wording}
    if spread is not None:
        judged["spread"] = list(spread)
    if skip:
        return {**judged, "met": None, "verdict": "not judged at quick sizes"}
    figures = [value] if spread is None else list(spread)
    if all(good(figure) for figure in figures):
        return {**judged, "met": True, "verdict": "met"}
    if not any(good(figure) for figure in figures):
        return {**judged, "met": False, "verdict": "missed"}
    return {**judged, "met": None, "verdict": "spread straddles the line"}


def _interpolation_growth_summary(summary: dict[str, Any], fits: list[dict[str, Any]]) -> None:
    if not fits:
        return
    time_slopes = {f["series"]: f["time_slope"] for f in fits if f["time_slope"] is not None}
    memory_slopes = {f["series"]: f["memory_slope"] for f in fits if f["memory_slope"] is not None}
    peaks = {f["series"]: f["peak_ratio_max"] for f in fits if f.get("peak_ratio_max") is not None}
    summary["interpolation_time_slopes"] = time_slopes
    summary["interpolation_memory_slopes"] = memory_slopes
    summary["interpolation_peak_ratios"] = peaks
    if time_slopes.get("bislerp") is not None:
        summary["bislerp_time_slope_max"] = time_slopes["bislerp"]
    if time_slopes:
        summary["interpolation_time_slope_min"] = min(time_slopes.values())
        summary["interpolation_time_slope_max"] = max(time_slopes.values())
    if memory_slopes:
        summary["interpolation_memory_slope_min"] = min(memory_slopes.values())
        summary["interpolation_memory_slope_max"] = max(memory_slopes.values())
    if peaks:
        summary["interpolation_peak_ratio_max"] = max(peaks.values())


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
        "methods": methods_section,
        "vae_round_trip": vae_section,
        row_tae.ROW: row_tae.tae_section,
        "reference": reference_section,
        "growth": growth_section,
        "overhead": overhead_section,
    }
    for name, section in sections.items():
        row = results["rows"].get(name)
        if row is None:
            continue
        if isinstance(row, dict) and "error" in row:
            lines += [f"## {name}", "", f"Failed: {row['error']}", ""]
            continue
        lines += section(row)
    lines += goals_section(results.get("summary", {}))
    return "\n".join(lines).rstrip() + "\n"


def goals_section(summary: dict[str, Any]) -> list[str]:
    """Each goal with this run's figure (the worst job's median), the spread of its per-round
    figures, and the verdict: met or missed only when the whole spread is on one side of the line."""
    goals = summary.get("goals", {})
    if not goals:
        return []
    lines = ["## Goals", ""]

    def spread(goal: dict[str, Any]) -> str:
        low_high = goal.get("spread")
        return f"{low_high[0]:.3g} … {low_high[1]:.3g}" if low_high else "one figure"

    lines += table(
        ["goal", "target", "this run", "per-round spread", "verdict"],
        (
            [
                g["what"],
                g["goal"],
                f"{g['value']:.3g}",
                spread(g),
                g.get("verdict") or ("met" if g["met"] else "missed"),
            ]
            for g in goals.values()
        ),
    )
    met = sum(1 for g in goals.values() if g["met"] is True)
    missed = sum(1 for g in goals.values() if g["met"] is False)
    lines += [
        "",
        f"{met} met, {missed} missed, {len(goals) - met - missed} straddling the line or not judged "
        "at these sizes (met or missed only when every round agrees).",
        "",
    ]
    return lines


# --- figure -------------------------------------------------------------------------------------


def _plot(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no results.png (pip install 'latent-upscale[bench]')")
        return None
    from latent_upscale.lab.bench.plot import draw_panels

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
