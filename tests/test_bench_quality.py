"""``bench quality``: metrics, the protocol on tiny random autoencoders, the CLI, and real TAEF2 weights."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

pytest.importorskip("skimage")
pytest.importorskip("scipy")

from latent_upscale.cli import main
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.bench.quality import (
    QualityPlan,
    best_interpolation,
    load_autoencoder,
    run_quality,
)
from latent_upscale.lab.evaluation import metrics
from latent_upscale.lab.fixtures.tae_random import save_tae_pair
from tests.helpers.probe_method import register_probe_method
from tests.helpers.real_weights import photograph, require_taef2


def _photo_array(side: int = 96) -> np.ndarray:
    return photograph("astronaut", side=side)[0].permute(1, 2, 0).double().numpy()


# --- metrics ---------------------------------------------------------------------------------------


def test_haarpsi_is_one_for_identical_images_colour_and_grey():
    image = _photo_array()
    assert metrics.haarpsi(image, image) == pytest.approx(1.0, abs=1e-12)
    assert metrics.haarpsi(image[..., 0], image[..., 0]) == pytest.approx(1.0, abs=1e-12)


def test_haarpsi_matches_the_authors_reference_values():
    # Values from the authors' reference implementation (rgcda/haarpsi, haarPsi.py, numpy path) on the
    # same inputs: a 128 px crop of scikit-image's astronaut blurred (5 × 5 box) or shifted by 2 px, and
    # a crop of its camera image blurred (3 × 3 box).
    from scipy.ndimage import uniform_filter
    from skimage import data

    colour = data.astronaut()[:128, 160:288].astype(np.float64) / 255.0
    grey = data.camera()[100:228, 200:328].astype(np.float64) / 255.0
    assert metrics.haarpsi(colour, uniform_filter(colour, size=(5, 5, 1))) == pytest.approx(
        0.8530816873504082
    )
    assert metrics.haarpsi(colour, np.roll(colour, 2, axis=1)) == pytest.approx(0.6792792047466899)
    assert metrics.haarpsi(grey, uniform_filter(grey, 3)) == pytest.approx(0.8740156563850833)


def test_haarpsi_falls_monotonically_as_noise_grows_and_is_symmetric():
    image = _photo_array()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(image.shape)
    scores = [
        metrics.haarpsi(image, np.clip(image + sigma * noise, 0, 1)) for sigma in (0.01, 0.03, 0.1, 0.3)
    ]
    assert all(a > b for a, b in itertools.pairwise(scores))
    assert 0.0 < scores[-1] < 0.5 < scores[0] < 1.0
    noisy = np.clip(image + 0.05 * noise, 0, 1)
    assert metrics.haarpsi(image, noisy) == pytest.approx(metrics.haarpsi(noisy, image), rel=1e-12)


def test_haarpsi_sees_blur_and_colour_loss():
    from scipy.ndimage import uniform_filter

    image = _photo_array()
    blurred = uniform_filter(image, size=(5, 5, 1))
    grey = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    assert metrics.haarpsi(image, blurred) < 0.8
    assert metrics.haarpsi(image, grey) < metrics.haarpsi(image, image) - 0.05


def test_psnr_and_ssim_known_values():
    image = _photo_array()
    shifted = np.clip(image + 0.1, 0, 1)
    mse = float(((shifted - image) ** 2).mean())
    assert metrics.psnr(image, shifted) == pytest.approx(10 * np.log10(1 / mse))
    assert metrics.psnr(image, image) == float("inf")
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same"):
        metrics.ssim(image, image[:10])


# --- the protocol on tiny random weights ---------------------------------------------------------


@pytest.fixture
def random_taef2(tmp_path):
    save_tae_pair(tmp_path / "taef2", "taef2")
    return tmp_path / "taef2"


def _write_images(folder, names):
    from PIL import Image

    folder.mkdir()
    for seed, name in enumerate(names):
        pixels = np.random.default_rng(seed).integers(0, 256, (66, 75, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
    return folder


@pytest.fixture
def images_dir(tmp_path):
    return _write_images(tmp_path / "images", ("one", "two"))


def test_quality_rows_cover_every_method_scale_and_reference(random_taef2, images_dir, tmp_path):
    autoencoder = load_autoencoder([random_taef2])
    plan = QualityPlan(images_dir=images_dir, methods=("bilinear", "nearest-exact", "neural"))
    outcome = run_quality(plan, autoencoder, tmp_path / "out", progress=False)
    results = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert results["autoencoder"]["name"] == "taef2"
    assert results["images"] == ["one", "two"]
    assert results["image_sizes"]["one"] == [64, 64]  # cropped to multiples of 16
    assert results["perceptual_metric"] == "haarpsi"
    keys = {(row["method"], row["scale"]) for row in results["rows"]}
    for method in ("ceiling", "roundtrip", "bilinear", "nearest-exact"):
        assert {(method, 1.5), (method, 2.0)} <= keys
    assert not any(row["method"] == "neural" for row in results["rows"])
    assert results["skipped"][0]["method"] == "neural"  # no flux2 weights anywhere here
    for row in results["rows"]:
        assert set(row) == {"method", "scale", "psnr", "ssim", "perceptual", "higher_is_better", "per_image"}
        assert set(row["per_image"]) == {"one", "two"}
        assert row["psnr"] == pytest.approx(np.mean([v["psnr"] for v in row["per_image"].values()]))
    # different methods give different decoded images (the numbers are measured, not copied)
    by_key = {(row["method"], row["scale"]): row for row in results["rows"]}
    assert by_key[("bilinear", 2.0)]["psnr"] != by_key[("nearest-exact", 2.0)]["psnr"]
    assert len(results["latent_stats"]["channel_std"]) == 32
    assert (tmp_path / "out" / "quality.png").stat().st_size > 10_000
    table = (tmp_path / "out" / "quality.md").read_text()
    assert "| `roundtrip` |" in table and "HaarPSI 1.5×" in table
    assert outcome.files["figure"].name == "quality.png"
    # FLUX.2 packed as the hosts hold it: each interpolation resized packed vs ours, measured apart.
    packed = {(row["method"], row["scale"]): row for row in results["packed_flux2"]["rows"]}
    assert set(packed) == {(m, s) for m in ("bilinear", "nearest-exact") for s in (1.5, 2.0)}
    row = packed[("bilinear", 2.0)]
    assert row["psnr_packed"] != row["psnr_ours"]
    assert row["gain_db"] == pytest.approx(row["psnr_ours"] - row["psnr_packed"])
    assert "## Packed FLUX.2 latents" in table and "| bilinear | 2× |" in table


def test_a_newly_registered_method_is_measured_without_touching_the_bench(
    random_taef2, tmp_path, monkeypatch
):
    from latent_upscale import resize_methods

    seen = register_probe_method(monkeypatch)
    plan = QualityPlan(images_dir=_write_images(tmp_path / "one", ["one"]), scales=(2.0,))
    results = run_quality(
        plan, load_autoencoder([random_taef2]), tmp_path / "out", progress=False, figure=False
    )
    assert {row["method"] for row in results.results["rows"]} >= {"probe", "bislerp", "lanczos", "area"}
    assert seen and set(seen) == {"flux2"}
    assert best_interpolation(results.results) in resize_methods.method_ids()


def test_cli_bench_quality_quick_writes_the_three_files(random_taef2, tmp_path, capsys):
    out = tmp_path / "quick"
    images = _write_images(tmp_path / "single", ["only"])
    args = ["--quick", "--autoencoder", str(random_taef2), "--images", str(images), "--out", str(out)]
    code = main(["bench", "quality", *args])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Best interpolation by mean HaarPSI at 2×" in printed
    results = json.loads((out / "quality.json").read_text())
    assert results["quick"] and {row["scale"] for row in results["rows"]} == {2.0}
    assert (out / "quality.md").is_file() and (out / "quality.png").is_file()


def test_cli_bench_quality_explains_a_missing_or_wrong_autoencoder(tmp_path, capsys):
    assert main(["bench", "quality", "--out", str(tmp_path)]) == 2
    assert "needs --autoencoder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["bench", "quality", "--autoencoder", str(tmp_path / "empty"), "--out", str(tmp_path)]) == 2
    assert "holds no encoder file" in capsys.readouterr().err


def test_load_autoencoder_accepts_the_two_files_in_either_order(random_taef2):
    encoder, decoder = random_taef2 / "taef2_encoder.pth", random_taef2 / "taef2_decoder.pth"
    for pair in ([encoder, decoder], [decoder, encoder]):
        assert load_autoencoder(pair).family == "flux2"
    with pytest.raises(LatentUpscaleError, match="not found"):
        load_autoencoder([random_taef2 / "missing.pth"])


def test_a_diffusers_vae_folder_works_in_model_space(tmp_path):
    diffusers = pytest.importorskip("diffusers")
    vae = diffusers.AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        latent_channels=4,
        scaling_factor=0.13025,
    )
    vae.save_pretrained(tmp_path / "vae")
    autoencoder = load_autoencoder([tmp_path / "vae"])
    assert autoencoder.family == "sdxl"
    image = torch.rand(1, 3, 32, 32)
    latent = autoencoder.encode(image)
    with torch.inference_mode():
        raw = autoencoder.vae.encode(image * 2 - 1).latent_dist.mode()
    torch.testing.assert_close(latent, raw * 0.13025)
    assert autoencoder.decode(latent).shape == (1, 3, 32, 32)


# --- real weights ----------------------------------------------------------------------------------


def test_real_taef2_ranks_the_references_above_every_interpolation(tmp_path):
    folder = require_taef2()
    plan = QualityPlan(
        scales=(2.0,), crop=128, builtin_images=("astronaut",), methods=("bilinear", "nearest")
    )
    results = run_quality(plan, load_autoencoder([folder]), tmp_path, progress=False, figure=False).results
    by_method = {row["method"]: row for row in results["rows"]}
    assert by_method["ceiling"]["psnr"] > 25.0
    assert by_method["ceiling"]["perceptual"] > by_method["roundtrip"]["perceptual"]
    for method in ("bilinear", "nearest"):
        assert by_method["roundtrip"]["perceptual"] > by_method[method]["perceptual"] + 0.1
        assert by_method["roundtrip"]["psnr"] > by_method[method]["psnr"]


def test_best_interpolation_breaks_rounding_ties_by_registry_order():
    rows = [
        {"method": "bilinear-antialiased", "scale": 2.0, "perceptual": 0.4958393885},
        {"method": "bilinear", "scale": 2.0, "perceptual": 0.4958393771},
        {"method": "lanczos", "scale": 2.0, "perceptual": 0.41},
        {"method": "roundtrip", "scale": 2.0, "perceptual": 0.8},
        {"method": "lanczos", "scale": 1.5, "perceptual": 0.9},
    ]
    assert best_interpolation({"rows": rows}) == "bilinear"
    assert best_interpolation({"rows": rows}, scale=1.5) == "lanczos"
    rows[2]["perceptual"] = 0.5
    assert best_interpolation({"rows": rows}) == "lanczos"


def _rows_with_photographs(scores: dict[str, list[float]]) -> dict:
    names = [f"photo{i}" for i in range(len(next(iter(scores.values()))))]
    rows = [
        {
            "method": method,
            "scale": 2.0,
            "perceptual": sum(values) / len(values),
            "per_image": {name: {"perceptual": value} for name, value in zip(names, values, strict=True)},
        }
        for method, values in scores.items()
    ]
    return {"rows": rows, "images": names}


def test_methods_within_the_spread_across_photographs_are_reported_as_tied():
    from latent_upscale.lab.bench.quality_report import best_sentence, tied_with_best

    results = _rows_with_photographs(
        {
            "bilinear": [0.50, 0.52, 0.48],
            "bicubic": [0.49, 0.53, 0.47],  # 0.003 behind on average, but ahead on one photograph
            "lanczos": [0.45, 0.47, 0.43],  # 0.05 behind on every photograph: no spread, no tie
        }
    )
    tied, noise = tied_with_best(results)
    assert tied == ["bilinear", "bicubic"] and noise > 0.01
    sentence = best_sentence(results)
    assert "`bilinear`, tied with `bicubic`" in sentence and "call it a tie" in sentence
    assert "lanczos" not in sentence


def test_a_lead_larger_than_the_spread_is_a_lead():
    from latent_upscale.lab.bench.quality_report import best_sentence, tied_with_best

    results = _rows_with_photographs({"bilinear": [0.50, 0.52], "bicubic": [0.49, 0.51]})
    assert tied_with_best(results)[0] == ["bilinear"]  # 0.01 behind on both photographs
    assert "ahead of every other" in best_sentence(results)
    one_photograph = _rows_with_photographs({"bilinear": [0.504], "bicubic": [0.500], "lanczos": [0.48]})
    # No spread on one photograph: the committed runs' spread stands in for it.
    assert tied_with_best(one_photograph)[0] == ["bilinear", "bicubic"]


def test_committed_quality_results_follow_the_documented_format():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "assets" / "quality-results.json"
    results = json.loads(path.read_text())
    assert {"autoencoder", "images", "perceptual_metric", "rows"} <= set(results)
    assert results["autoencoder"]["name"] == "taef2" and not results["quick"]
    methods = {(row["method"], row["scale"]) for row in results["rows"]}
    assert {("ceiling", 2.0), ("roundtrip", 1.5), ("bilinear", 2.0), ("bislerp", 1.5)} <= methods
    by_key = {(row["method"], row["scale"]): row for row in results["rows"]}
    assert (
        by_key[("ceiling", 2.0)]["psnr"]
        > by_key[("roundtrip", 2.0)]["psnr"]
        > by_key[("bilinear", 2.0)]["psnr"]
    )
