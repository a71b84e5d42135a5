"""The demo on a real photograph: tiny autoencoders given, found in the models folders, refused."""

from __future__ import annotations

import json
import logging
import sys

import pytest
import torch
from PIL import Image

pytest.importorskip("skimage")
pytest.importorskip("scipy")

from latent_upscale import methods
from latent_upscale.lab.demo import photo
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from latent_upscale.neural.options import NeuralOptions
from tests.helpers.cli import run_cli
from tests.helpers.probe_method import register_probe_method
from tests.helpers.real_weights import require_taef2


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty models folders (no TAESD pair, no neural weights) and a 64 px photograph (fast)."""
    monkeypatch.setenv("LATENT_UPSCALE_MODELS", str(tmp_path / "env-models"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(photo, "PHOTO_SIDE", 64)


def _results(out):
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _interpolations():
    from latent_upscale.resize_methods import registered_methods

    return [method.id for method in registered_methods() if method.resize is not None]


def test_random_tae_weights_run_every_registered_method_end_to_end(
    tmp_path, capsys, caplog, isolated, monkeypatch
):
    # A method registered later (the coming `tae` round trip, say) is measured with no change to the demo.
    families = register_probe_method(monkeypatch)
    encoder, decoder = save_tae_pair(tmp_path / "tae", "taef2")
    caplog.set_level(logging.INFO, logger="latent_upscale.lab.demo")
    out = tmp_path / "out"
    run = run_cli(capsys, "demo", "--autoencoder", str(decoder), str(encoder), "--out", str(out))
    assert run.code == 0, run.err
    results = _results(out)
    assert results["source"] == "photograph" and results["image"]["size"] == [64, 64]
    assert results["autoencoder"]["name"] == "taef2" and results["autoencoder"]["family"] == "flux2"
    measured = {(row["method"], row["scale"]) for row in results["rows"]}
    for scale in (1.5, 2.0):
        for method_id in ["ceiling", "roundtrip", "probe", *_interpolations()]:
            assert (method_id, scale) in measured
    assert set(families) == {"flux2"}
    # neural has no flux2 weights here: skipped, said once in the log and once in the report
    assert [entry["method"] for entry in results["skipped"]] == ["neural"]
    assert not any(row["method"] == "neural" for row in results["rows"])
    skip_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("demo: neural skipped")]
    assert len(skip_lines) == 1
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.count("Skipped `neural`") == 1
    for method_id in _interpolations():
        assert report.count(f"| `{method_id}` |") == 2  # one line per scale
    # measured, not copied: different methods decode to different pictures
    by_key = {(row["method"], row["scale"]): row for row in results["rows"]}
    assert by_key["nearest", 1.5]["psnr"] != by_key["bilinear", 1.5]["psnr"]
    assert all(row["time_ms"] is not None for row in results["rows"] if row["method"] in _interpolations())
    grid = Image.open(out / "methods-comparison.png")
    assert grid.width > 6 * 64 and grid.height > 5 * 64  # references + two wrapped rows per scale


def test_a_tae_pair_in_the_models_folders_is_found_without_autoencoder(
    tmp_path, capsys, isolated, monkeypatch
):
    save_tae_pair(tmp_path / "models", "taesdxl")
    run = run_cli(capsys, "demo", "--models-dir", str(tmp_path / "models"), "--out", str(tmp_path / "a"))
    assert run.code == 0, run.err
    assert _results(tmp_path / "a")["autoencoder"]["name"] == "taesdxl"
    assert _results(tmp_path / "a")["autoencoder"]["family"] == "sdxl"
    # $LATENT_UPSCALE_MODELS is searched too, after the folders given
    encoder, decoder = save_tae_pair(tmp_path / "env-models", "taef2")
    assert photo.find_tae_pair(NeuralOptions()) == (encoder, decoder)
    found = photo.find_tae_pair(NeuralOptions(models_dir=tmp_path / "models"))
    assert found is not None and found[0].name == "taesdxl_encoder.pth"


@pytest.mark.parametrize("host_folder", ["vae_approx", "VAE-taesd", "VAE-approx"])
def test_the_demo_finds_a_pair_in_a_hosts_tiny_vae_subfolder_as_the_tae_method_does(tmp_path, host_folder):
    encoder, decoder = save_tae_pair(tmp_path / "models" / host_folder, "taef2", suffix=".safetensors")
    assert photo.find_tae_pair(NeuralOptions(models_dir=tmp_path / "models")) == (encoder, decoder)


@pytest.mark.parametrize(
    "given, message",
    [
        ("missing", "--autoencoder: not found"),
        ("empty", "holds no encoder file"),
        ("wrong-layout", "is not a TAESD encoder or decoder"),
        ("one-file", "expected a folder with a TAESD encoder/decoder pair"),
    ],
)
def test_a_bad_autoencoder_exits_2_with_one_line_before_any_work(tmp_path, capsys, given, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "wrong-layout").mkdir()
    for half in ("encoder", "decoder"):
        torch.save({"weight": torch.zeros(2)}, tmp_path / "wrong-layout" / f"x_{half}.pth")
    encoder, _ = save_tae_pair(tmp_path / "tae", "taef2")
    path = {"one-file": encoder}.get(given, tmp_path / given)
    out = tmp_path / "out"
    run = run_cli(capsys, "demo", "--autoencoder", str(path), "--out", str(out))
    assert run.code == 2
    assert message in run.err and len(run.err.strip().splitlines()) == 1
    assert not out.exists()  # refused before any work


def test_an_autoencoder_without_scikit_image_exits_2_saying_what_to_install(tmp_path, capsys, monkeypatch):
    save_tae_pair(tmp_path / "tae", "taef2")
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    run = run_cli(capsys, "demo", "--autoencoder", str(tmp_path / "tae"), "--out", str(tmp_path / "out"))
    assert run.code == 2 and "latent-upscale[demo]" in run.err
    assert not (tmp_path / "out").exists()


def test_real_taef2_demo_shows_the_round_trip_beating_every_interpolation(tmp_path, capsys, monkeypatch):
    folder = require_taef2()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(photo, "PHOTO_SIDE", 128)  # a quarter of the default's work, same ranking
    out = tmp_path / "out"
    run = run_cli(capsys, "demo", "--autoencoder", str(folder), "--out", str(out))
    assert run.code == 0, run.err
    assert Image.open(out / "methods-comparison.png").width > 6 * 128  # six tiles per line
    results = _results(out)
    assert results["autoencoder"]["label"] == "TAEF2 (FLUX.2)"
    rows = {(row["method"], row["scale"]): row for row in results["rows"]}
    for scale in (1.5, 2.0):
        roundtrip = rows["roundtrip", scale]
        assert rows["ceiling", scale]["psnr"] > roundtrip["psnr"]
        for method_id in _interpolations():
            assert roundtrip["psnr"] > rows[method_id, scale]["psnr"] + 2.0
            assert roundtrip["perceptual"] > rows[method_id, scale]["perceptual"]
    assert set(methods()) <= {row["method"] for row in results["rows"]} | {
        entry["method"] for entry in results["skipped"]
    }


TAE_PATH = "/madebyollin/taesd/raw/pinned/"


def test_without_a_tiny_autoencoder_the_demo_downloads_the_pinned_taef2_pair_and_shows_the_photograph(
    tmp_path, caplog, isolated
):
    from latent_upscale.lab.demo import run_demo
    from tests.helpers.hub_server import LocalHub

    folder = require_taef2()
    caplog.set_level(logging.INFO, logger="latent_upscale.lab.demo")
    with LocalHub() as hub:
        for name in ("taef2_decoder.pth", "taef2_encoder.pth"):
            hub.add_file(TAE_PATH + name, (folder / name).read_bytes())
        options = NeuralOptions(tae_base_url=hub.url + TAE_PATH, progress=False)
        written = run_demo(tmp_path / "out", download=True, neural=options)
        assert hub.count("GET", ".pth") == 2
    results = _results(tmp_path / "out")
    assert results["source"] == "photograph" and results["autoencoder"]["name"] == "taef2"
    assert sorted(path.name for path in (tmp_path / "env-models").iterdir()) == [
        "taef2_decoder.pth",
        "taef2_encoder.pth",
    ]
    said = [
        record.getMessage()
        for record in caplog.records
        if "downloading the TAEF2 pair" in record.getMessage()
    ]
    assert len(said) == 1 and str(tmp_path / "env-models") in said[0]
    assert written["comparison"].exists() and written["hero"].exists()


def test_a_failed_download_falls_back_to_the_scene_and_says_what_to_fetch(tmp_path, caplog, isolated):
    from latent_upscale.lab.demo import run_demo
    from tests.helpers.hub_server import LocalHub

    caplog.set_level(logging.INFO, logger="latent_upscale.lab.demo")
    with LocalHub() as hub:  # serves nothing: every file answers 404
        options = NeuralOptions(tae_base_url=hub.url + TAE_PATH, progress=False)
        run_demo(tmp_path / "out", download=True, neural=options)
    results = _results(tmp_path / "out")
    assert results["source"] == "scene" and "the download failed" in results["hint"]
    assert hub.url + TAE_PATH + "taef2_encoder.pth" in results["hint"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not download" in warnings[0]
