"""The default method and the advice follow the committed quality benchmark, not the other way round.

A method the committed results do not cover yet (a new one) is skipped with the way to measure it
(``latent_upscale/ADDING_A_RESIZE_METHOD.md``, step 4); every measured method is checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.lab.bench.quality import best_interpolation
from latent_upscale.resize_methods import registered_methods

RESULTS = Path(__file__).resolve().parents[1] / "assets" / "quality-results.json"
COMMITTED = json.loads(RESULTS.read_text(encoding="utf-8"))
ROWS = {(row["method"], row["scale"]): row for row in COMMITTED["rows"]}
INTERPOLATIONS = [method for method in registered_methods() if method.resize is not None]
#: How a contributor produces the numbers (the same words as the guide's step 4).
HOW_TO_MEASURE = (
    "no committed quality numbers yet: run `python -m latent_upscale bench quality --autoencoder "
    "<folder with taef2_encoder.pth and taef2_decoder.pth>` (pip install '.[bench]'; about 3 minutes on "
    "2 CPU cores), copy its quality.json/.md/.png over assets/quality-results.*, quote the numbers in "
    "the method's advice and the README's methods table (latent_upscale/ADDING_A_RESIZE_METHOD.md, step 4)"
)


def _measured_or_skip(method_id: str) -> None:
    if not any(method == method_id for method, _ in ROWS):
        pytest.skip(f"{method_id}: {HOW_TO_MEASURE}")


def test_default_method_is_the_best_interpolation_at_2x_in_the_committed_quality_results():
    assert best_interpolation(COMMITTED, scale=2.0) == DEFAULT_METHOD


def test_the_committed_results_measure_the_builtin_methods():
    """The skip below is for new methods only: every method of the committed run stays registered
    and measured (a renamed or dropped method is a failure, not a skip)."""
    measured = {method for method, _ in ROWS} - {"ceiling", "roundtrip"}
    assert measured <= {method.id for method in registered_methods()}
    assert DEFAULT_METHOD in measured and len(measured) >= 10


@pytest.mark.parametrize("method", [m.id for m in INTERPOLATIONS])
def test_committed_quality_results_cover_every_interpolation_at_both_scales(method: str):
    _measured_or_skip(method)
    assert {(method, 1.5), (method, 2.0)} <= ROWS.keys(), method


@pytest.mark.parametrize("method", INTERPOLATIONS, ids=lambda m: m.id)
def test_every_interpolation_advice_quotes_its_committed_measurements(method):
    _measured_or_skip(method.id)
    found = re.search(
        r"Real photos 1\.5×/2×: ([\d.]+)/([\d.]+) dB, HaarPSI ([\d.]+)/([\d.]+)\.", method.advice
    )
    assert found, f"{method.id}: its advice must end with 'Real photos 1.5×/2×: … dB, HaarPSI …/….'"
    psnr_15, psnr_2, haar_15, haar_2 = (float(g) for g in found.groups())
    assert psnr_15 == round(ROWS[(method.id, 1.5)]["psnr"], 1), method.id
    assert psnr_2 == round(ROWS[(method.id, 2.0)]["psnr"], 1), method.id
    assert haar_15 == round(ROWS[(method.id, 1.5)]["perceptual"], 2), method.id
    assert haar_2 == round(ROWS[(method.id, 2.0)]["perceptual"], 2), method.id
