"""The default method and the advice follow the committed quality benchmark, not the other way round."""

from __future__ import annotations

import json
from pathlib import Path

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.bench.quality import best_interpolation

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
