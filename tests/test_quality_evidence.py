"""The default method and the advice follow the committed quality benchmark, not the other way round."""

from __future__ import annotations

import json
from pathlib import Path

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.lab.bench.quality import best_interpolation

RESULTS = Path(__file__).resolve().parents[1] / "assets" / "quality-results.json"


def test_default_method_is_the_best_interpolation_at_2x_in_the_committed_quality_results():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert best_interpolation(results, scale=2.0) == DEFAULT_METHOD


def test_committed_quality_results_cover_every_interpolation_at_both_scales():
    from latent_upscale.resize_methods import registered_methods

    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    measured = {(row["method"], row["scale"]) for row in results["rows"]}
    for method in registered_methods():
        if method.resize is not None:
            assert {(method.id, 1.5), (method.id, 2.0)} <= measured, method.id


def test_every_interpolation_advice_quotes_its_committed_measurements():
    import re

    from latent_upscale.resize_methods import registered_methods

    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    rows = {(row["method"], row["scale"]): row for row in results["rows"]}
    for method in registered_methods():
        if method.resize is None:
            continue
        found = re.search(
            r"Real photos 1\.5×/2×: ([\d.]+)/([\d.]+) dB, HaarPSI ([\d.]+)/([\d.]+)\.", method.advice
        )
        assert found, method.id
        psnr_15, psnr_2, haar_15, haar_2 = (float(g) for g in found.groups())
        assert psnr_15 == round(rows[(method.id, 1.5)]["psnr"], 1), method.id
        assert psnr_2 == round(rows[(method.id, 2.0)]["psnr"], 1), method.id
        assert haar_15 == round(rows[(method.id, 1.5)]["perceptual"], 2), method.id
        assert haar_2 == round(rows[(method.id, 2.0)]["perceptual"], 2), method.id
