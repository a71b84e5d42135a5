"""The demo (the README's main job) and the linear latent preview it draws with."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from PIL import Image

from latent_upscale import methods
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.demo import demo_latent, render_scene, run_demo, score_methods
from latent_upscale.preview import latent_to_rgb, rgb_to_latent
from tests.helpers.cli import run_cli


@pytest.mark.parametrize("family", ["sd1", "sdxl"])
def test_preview_inverse_reproduces_the_image(family):
    rgb = render_scene(24, 32)
    detail = torch.linspace(-1, 1, 24 * 32).view(24, 32)
    latent = rgb_to_latent(rgb, family, detail=detail)
    assert latent.shape == (4, 24, 32)
    assert torch.allclose(latent_to_rgb(latent, family), rgb, atol=1e-5)


def test_preview_detail_lives_in_the_invisible_direction():
    rgb = render_scene(8, 8)
    plain = rgb_to_latent(rgb, "sd1")
    detailed = rgb_to_latent(rgb, "sd1", detail=torch.ones(8, 8))
    assert not torch.allclose(plain, detailed)
    assert torch.allclose(latent_to_rgb(plain, "sd1"), latent_to_rgb(detailed, "sd1"), atol=1e-5)


def test_preview_refuses_families_without_coefficients():
    with pytest.raises(LatentUpscaleError, match="no linear preview"):
        latent_to_rgb(torch.zeros(16, 4, 4), "flux")


def test_test_latent_is_deterministic_and_model_space_sized():
    first, second = demo_latent(64, 48, "sdxl"), demo_latent(64, 48, "sdxl")
    assert torch.equal(first, second)
    assert first.shape == (1, 4, 64, 48)
    # Real model-space latents have a per-pixel vector length of a few units.
    assert 0.5 < float(first.norm(dim=1).mean()) < 6


def test_interpolation_scores_rank_sharp_filters_above_bilinear():
    scores = {s.method: s for s in score_methods("sd1", 2.0)[0]}
    assert scores["lanczos"].psnr_db > scores["bilinear"].psnr_db
    assert scores["bilinear"].sharpness < scores["lanczos"].sharpness
    # Bilinear averages differently-pointing vectors, so the latent comes out shorter (washed out).
    assert scores["bilinear"].vector_length < scores["bislerp"].vector_length


@pytest.fixture
def no_models(tmp_path, monkeypatch):
    """No models folder holds a tiny autoencoder: the demo falls back to the built-in scene."""
    monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(tmp_path / "no-models"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_demo_without_an_autoencoder_shows_the_scene_and_says_how_to_get_a_photograph(
    tmp_path, capsys, caplog, no_models
):
    caplog.set_level(logging.INFO, logger="latent_upscale.lab.demo")
    run = run_cli(capsys, "demo", "--offline", "--out", str(tmp_path / "out"))
    assert run.code == 0, run.err
    out = tmp_path / "out"
    image = Image.open(out / "methods-comparison.png")
    assert image.width > 1000 and image.height > 300
    report = (out / "report.md").read_text(encoding="utf-8")
    results = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for method_id in methods():
        assert f"| {method_id} |" in report
    assert results["source"] == "scene"
    assert {(r["family"], r["scale"]) for r in results["scores"]} == {
        ("sd1", 1.5),
        ("sd1", 2.0),
        ("sdxl", 1.5),
        ("sdxl", 2.0),
    }
    assert all(r["psnr_db"] is not None or r["note"] for r in results["scores"])
    # The way to the real photograph, in one line: what to fetch and where to put it; once on the
    # console (the log), once in each report.
    hint = results["hint"]
    hints = [record.getMessage() for record in caplog.records if hint in record.getMessage()]
    assert len(hints) == 1 and "\n" not in hint
    assert "--autoencoder DIR" in hint and "taef2_encoder.pth" in hint and "taef2_decoder.pth" in hint
    assert f"into {tmp_path / 'no-models'}" in hint  # the first models folder the environment names
    assert hint in report


def test_run_demo_returns_the_paths_it_wrote(tmp_path, no_models):
    written = run_demo(tmp_path / "nested")
    assert {"comparison", "report", "report_json", "schedules", "fixed_steps"} <= set(written)
    assert all(path.exists() for path in written.values())


def test_hf_hub_offline_keeps_the_demo_from_downloading(tmp_path, no_models, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    written = run_demo(tmp_path / "out", download=True)
    results = json.loads(written["report_json"].read_text(encoding="utf-8"))
    assert results["source"] == "scene" and "downloads are off" in results["hint"]
    assert not (tmp_path / "no-models").exists()  # nothing fetched, no folder made
