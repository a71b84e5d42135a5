"""The `python -m latent_upscale` command line: every file format, every error path."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from latent_upscale import methods, upscale
from latent_upscale.latent_formats import family_format
from latent_upscale.latent_io import read_latent, write_latent
from tests.helpers.cli import run_cli
from tests.helpers.latents import random_latent

REPO = Path(__file__).resolve().parents[1]
FORMATS = [".latent", ".safetensors", ".pt", ".pth", ".npy"]


def test_methods_prints_one_id_a_line(capsys):
    run = run_cli(capsys, "methods")
    assert run.code == 0
    assert run.out.splitlines() == methods()


def test_methods_long_shows_labels_and_advice(capsys):
    run = run_cli(capsys, "methods", "--long")
    assert "Lanczos-3" in run.out and "Bislerp" in run.out


@pytest.mark.parametrize("source_suffix", FORMATS)
@pytest.mark.parametrize("target_suffix", FORMATS)
def test_upscale_round_trips_every_file_format(tmp_path, capsys, source_suffix, target_suffix):
    latent = random_latent(2, 4, 12, 10, seed=1)
    source = tmp_path / f"in{source_suffix}"
    write_latent(source, latent)
    target = tmp_path / f"out{target_suffix}"
    run = run_cli(
        capsys,
        "upscale",
        str(source),
        str(target),
        "--size",
        "18x15",
        "--method",
        "lanczos",
        "--family",
        "sdxl",
    )
    assert run.code == 0, run.err
    assert f"wrote {target}" in run.out
    written = read_latent(target).latent
    expected = upscale(latent, (18, 15), method="lanczos")
    if target_suffix == ".latent" and source_suffix != ".latent":
        # A model-space latent written as a ComfyUI .latent is converted to raw VAE space.
        expected = family_format("sdxl").to_raw(expected)
    assert written.shape == (2, 4, 18, 15)
    assert torch.allclose(written, expected, atol=1e-5)


def test_scale_option_rounds_to_latent_pixels(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 13, 7))
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "out.pt"), "--scale", "1.5")
    assert run.code == 0, run.err
    assert read_latent(tmp_path / "out.pt").latent.shape == (1, 4, 20, 10)


def test_comfyui_latent_keeps_metadata_and_format_marker(tmp_path, capsys):
    latent = random_latent(1, 4, 8, 8)
    source = tmp_path / "in.latent"
    save_file(
        {"latent_tensor": latent, "latent_format_version_0": torch.tensor([])},
        str(source),
        metadata={"prompt": '{"1": {}}', "workflow": "w"},
    )
    target = tmp_path / "out.latent"
    assert run_cli(capsys, "upscale", str(source), str(target), "--scale", "2").code == 0
    tensors = load_file(str(target))
    assert set(tensors) == {"latent_tensor", "latent_format_version_0"}
    with safe_open(str(target), framework="pt") as handle:
        assert handle.metadata() == {"prompt": '{"1": {}}', "workflow": "w"}
    # The data stays raw: no space conversion between two raw files.
    assert torch.allclose(tensors["latent_tensor"], upscale(latent, scale=2), atol=1e-6)


def test_legacy_comfyui_latent_without_marker_is_read_as_sd1_model_space(tmp_path, capsys):
    latent = random_latent(1, 4, 8, 8)
    save_file({"latent_tensor": latent}, str(tmp_path / "old.latent"))
    loaded = read_latent(tmp_path / "old.latent")
    assert loaded.latent_space == "scaled"
    target = tmp_path / "new.latent"
    assert run_cli(capsys, "upscale", str(tmp_path / "old.latent"), str(target), "--scale", "1").code == 0
    raw = load_file(str(target))["latent_tensor"]
    assert torch.allclose(raw, latent / 0.18215, atol=1e-4)


def test_writing_a_comfyui_latent_from_a_model_space_file_needs_a_family(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 8, 8))
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "out.latent"), "--scale", "2")
    assert run.code == 2
    assert "--family" in run.err
    assert not (tmp_path / "out.latent").exists()


def test_three_dimensional_latents_are_written_back_unbatched(tmp_path, capsys):
    torch.save(random_latent(1, 4, 6, 6)[0], tmp_path / "in.pt")
    assert (
        run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "out.pt"), "--scale", "2").code
        == 0
    )
    assert torch.load(tmp_path / "out.pt", weights_only=True).shape == (4, 12, 12)


def test_safetensors_with_several_tensors_picks_the_named_latent(tmp_path, capsys):
    save_file(
        {"latent": random_latent(1, 4, 6, 6), "other": torch.zeros(3)}, str(tmp_path / "in.safetensors")
    )
    code = run_cli(
        capsys, "upscale", str(tmp_path / "in.safetensors"), str(tmp_path / "o.npy"), "--scale", "2"
    ).code
    assert code == 0
    assert np.load(tmp_path / "o.npy").shape == (1, 4, 12, 12)


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch should-not-exist",))


def test_pt_files_carrying_pickled_code_are_refused_without_running_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with (tmp_path / "evil.pt").open("wb") as handle:
        pickle.dump({"latent": _Payload()}, handle)
    run = run_cli(capsys, "upscale", "evil.pt", "out.pt", "--scale", "2")
    assert run.code == 2
    assert "weights_only" in run.err
    assert not (tmp_path / "should-not-exist").exists()
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["upscale", "missing.pt", "out.pt", "--scale", "2"], "no such file"),
        (["upscale", "in.pt", "out.txt", "--scale", "2"], "unsupported latent file type"),
        (["upscale", "in.pt", "out.pt", "--size", "96by128"], "ROWSxCOLUMNS"),
        (["upscale", "in.pt", "out.pt", "--size", "0x4"], "positive"),
        (["upscale", "in.pt", "out.pt", "--scale", "-1"], "positive"),
        (["upscale", "in.pt", "out.pt", "--scale", "2", "--size", "4x4"], "not allowed with"),
        (["upscale", "in.pt", "out.pt"], "one of the arguments --scale --size is required"),
        (["upscale", "in.pt", "out.pt", "--scale", "2", "--method", "trilinear"], "invalid choice"),
        (["upscale", "in.pt", "out.pt", "--scale", "2", "--family", "sd15"], "invalid choice"),
        (["upscale", "in.pt", "out.pt", "--scale", "2", "--device", "nonsense"], "unknown device"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_message(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(capsys, *args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err


def test_a_nan_latent_file_is_refused_with_exit_2(tmp_path, capsys):
    latent = random_latent(1, 4, 4, 4)
    latent[0, 0, 0, 0] = float("nan")
    torch.save(latent, tmp_path / "nan.pt")
    run = run_cli(capsys, "upscale", str(tmp_path / "nan.pt"), str(tmp_path / "o.pt"), "--scale", "2")
    assert run.code == 2 and "NaN" in run.err


def test_an_integer_npy_file_is_refused(tmp_path, capsys):
    np.save(tmp_path / "ints.npy", np.zeros((1, 4, 4, 4), dtype=np.int32))
    run = run_cli(capsys, "upscale", str(tmp_path / "ints.npy"), str(tmp_path / "o.npy"), "--scale", "2")
    assert run.code == 2 and "floating point" in run.err


def test_debug_shows_the_traceback(tmp_path, capsys):
    run = run_cli(
        capsys, "upscale", str(tmp_path / "missing.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--debug"
    )
    assert run.code == 2
    assert "Traceback" in run.err


def test_cuda_device_without_cuda_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--device", "cuda"
    )
    assert run.code == 2 and "no CUDA device" in run.err


@pytest.mark.parametrize("command", [[], ["methods"], ["upscale"], ["demo"]])
def test_help_works_for_every_subcommand(capsys, command):
    run = run_cli(capsys, *command, "--help")
    assert run.code == 0
    assert "usage:" in run.out


def test_module_entry_point_runs_as_a_subprocess():
    done = subprocess.run(
        [sys.executable, "-m", "latent_upscale", "methods"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == methods()
