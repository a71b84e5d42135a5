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
    goals_section,
    growth_section,
    methods_section,
    overhead_section,
    reference_section,
    row_kind,
    shape_text,
    size_text,
    vae_section,
)
from latent_upscale.lab.bench.row_neural_peers import NEURAL_PEERS
from latent_upscale.latent_io import atomic_write

__all__ = ["GOALS", "render_markdown", "summarise", "write_report"]

logger = logging.getLogger(__name__)

#: The benchmark's goals (what latent upscaling must save; what the dispatcher may cost): (summary
#: key, comparison, threshold, wording).
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
    "sesqui_vs_node_max": ("<=", 0.9, "SesquiLSR at most 0.9× its published node's time"),
    "city96_vs_node_max": ("<", 1.0, "city96 faster than its published ComfyUI node"),
    "ttl_vs_node_max": ("<", 1.0, "NNLatentUpscale (Ttl) faster than its published node"),
    **row_tae.GOALS,
}

#: Learned upscalers' peer rows: summary key → the node's name, as the rows carry it in ``theirs``.
_NODE_GOALS = {f"{peer.model_id}_vs_node_max": peer.name for peer in NEURAL_PEERS}


def _rows(results: dict[str, Any], name: str) -> Any:
    row = results.get("rows", {}).get(name)
    if isinstance(row, dict) and "error" in row:
        return None
    return row


# --- summary ------------------------------------------------------------------------------------


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The headline figures and whether each goal of the benchmark (:data:`GOALS`) was met in this run."""
    summary: dict[str, Any] = {}
    vae = [r for r in _rows(results, "vae_round_trip") or [] if "ratio" in r]
    if vae:
        summary["vae_ratios"] = {
            f"{r['vae']} {size_text(r['input'])} vs {r['model']}": r["ratio"] for r in vae
        }
        summary["vae_ratio_min"] = min(r["ratio"] for r in vae)
    summary.update(row_tae.tae_summary(_rows(results, row_tae.ROW) or []))
    reference_rows = _rows(results, "reference") or []
    reference = [r for r in reference_rows if row_kind(r, "neural runner") == "neural runner"]
    yardsticks = [r for r in reference_rows if row_kind(r, "") == "yardstick"]
    if yardsticks:
        summary["bislerp_vs_bilinear"] = {shape_text(r): r["ratio"] for r in yardsticks}
    peers = [r for r in reference_rows if row_kind(r, "") == "peer"]
    if peers:
        summary["peer_ratios"] = {f"{r['ours']} vs {r['theirs']} {shape_text(r)}": r["ratio"] for r in peers}
        comfy = [r["ratio"] for r in peers if r["ours"] == "bislerp" and "ComfyUI" in r["theirs"]]
        if comfy:
            summary["bislerp_vs_comfy_max"] = max(comfy)
        for key, node in _NODE_GOALS.items():
            ratios = [r["ratio"] for r in peers if r["theirs"] == node]
            if ratios:
                summary[key] = max(ratios)
    if reference:
        summary["reference_speedups"] = {
            f"{size_text(r['input'])} batch {r['batch']} {r['contender']}": r["speedup"] for r in reference
        }
        summary["reference_speedup_min"] = min(r["speedup"] for r in reference if r["precision"] == "float32")
        summary["reference_max_abs_diff_fp32"] = max(
            r["max_abs_diff_raw"] for r in reference if r["precision"] == "float32"
        )
    growth = _rows(results, "growth")
    if growth:
        neural_fits = [fit for fit in growth["fits"] if row_kind(fit, "neural") != "interpolation"]
        summary["growth_time_slopes"] = {fit["series"]: fit["time_slope"] for fit in neural_fits}
        _interpolation_growth_summary(
            summary, [f for f in growth["fits"] if row_kind(f, "") == "interpolation"]
        )
    overhead_rows = _rows(results, "overhead") or []
    overhead = [r for r in overhead_rows if row_kind(r, "interceptor") == "interceptor"]
    wrapped = [r for r in overhead_rows if row_kind(r, "") == "upscale"]
    if wrapped:
        summary["upscale_overhead_percent"] = {
            f"{r['method']} {shape_text(r)}": r["overhead_percent"] for r in wrapped
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
            met = {">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[comparison]
            goals[key] = {"goal": f"{comparison} {threshold:g}", "value": value, "met": met, "what": wording}
    summary["goals"] = goals
    return summary


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
