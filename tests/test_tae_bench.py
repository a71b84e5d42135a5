"""The bench knows ``tae``: the quality bench runs it through the autoencoder's own folder, and the
cost row (tae vs the SD VAE round trip) reports its ratios against the benchmark's goals."""

from __future__ import annotations

from latent_upscale.lab.bench import report, row_tae
from latent_upscale.lab.bench.plan import ROWS
from latent_upscale.lab.evaluation import method_runners


def _row(family: str, vae_s: float, tae_s: float, vae_peak: int, tae_peak: int) -> dict:
    return {
        "vae": family, "input": [1, 4, 64, 64], "output": [128, 128], "decoded_px": 512, "encoded_px": 1024,
        "vae_median_s": vae_s, "vae_peak_bytes": vae_peak, "tae_median_s": tae_s, "tae_peak_bytes": tae_peak,
        "tae_tiles": 4, "tae_untiled_peak_bytes": 2 * tae_peak, "tile_relative_error": 0.003,
        "time_ratio": vae_s / tae_s, "peak_ratio": vae_peak / tae_peak,
        "city96_median_s": 0.01, "sesqui_median_s": 0.05,
    }  # fmt: skip


def test_the_cost_row_is_planned_and_its_goals_are_judged_from_the_worst_job():
    assert "tae_round_trip" in ROWS
    rows = [_row("sd1", 10.0, 1.0, 8 << 30, 1 << 30), _row("sdxl", 40.0, 10.0, 16 << 30, 8 << 30)]
    summary = row_tae.tae_summary(rows)
    assert summary["tae_vae_time_ratio_min"] == 4.0 and summary["tae_vae_peak_ratio_min"] == 2.0
    markdown = "\n".join(row_tae.tae_section(rows))
    assert "| SDXL | 1024 → 2048 px |" not in markdown  # sizes come from the row, not the family
    assert "| SD1 | 512 → 1024 px | 10.00 s | 1.00 s (4 tiles) | 10.0× |" in markdown
    results = {"rows": {"tae_round_trip": rows}}
    merged = report.summarise(results)
    assert merged["tae_vae_peak_ratio_min"] == 2.0
    assert set(row_tae.GOALS) <= set(report.GOALS)


def test_the_quality_bench_runs_tae_from_the_autoencoders_own_folder(tmp_path):
    runners = dict(method_runners("flux2", ("tae", "neural", "lanczos"), autoencoder_dir=tmp_path))
    assert set(runners) == {"tae", "neural", "lanczos"}
    request = runners["tae"].__defaults__[1]
    assert request.neural.caller_models_dirs == (tmp_path,) and request.family == "flux2"
    # Only round-trip methods look there: neural's messages must not point at the autoencoder's folder.
    assert runners["neural"].__defaults__[1].neural is None
