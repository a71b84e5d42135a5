"""Fault injection for the command line: exit 2 with one line for bad input, checked before the
work; a finished run never fails on printing."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch

import latent_upscale.api as api
from latent_upscale.latent_formats import family_format
from latent_upscale.latent_io import read_latent, write_latent
from tests.helpers.cli import run_cli, run_cli_process
from tests.helpers.latents import random_latent

FORMATS = [".latent", ".safetensors", ".pt", ".pth", ".npy"]


def _one_line_error(run, code: int = 2) -> str:
    assert run.code == code, (run.out, run.err)
    assert run.err.count("\n") == 1 and "Traceback" not in run.err, run.err
    return run.err


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if the upscale itself runs: proves a check came before the work."""

    def must_not_run(*args, **kwargs):
        raise AssertionError("the work ran before the check")

    monkeypatch.setattr(api, "upscale_detailed", must_not_run)


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_empty_input_file_exits_2_with_one_line(tmp_path, capsys, suffix):
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    run = run_cli(capsys, "upscale", str(tmp_path / f"empty{suffix}"), str(tmp_path / "o.pt"), "--scale", "2")
    assert f"empty{suffix}" in _one_line_error(run)
    assert not (tmp_path / "o.pt").exists()


@pytest.mark.parametrize("device", ["meta", "cuda:7", "xpu"])
def test_an_unusable_device_exits_2_before_the_work(tmp_path, capsys, monkeypatch, no_work, device):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: device.startswith("cuda"))
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--device", device
    )
    assert "--device" in _one_line_error(run)
    assert not (tmp_path / "o.pt").exists()


def test_an_output_that_is_a_folder_exits_2_before_the_work(tmp_path, capsys, no_work):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    (tmp_path / "out.pt").mkdir()
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "out.pt"), "--scale", "2")
    assert "is a folder" in _one_line_error(run)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("out.txt", "unsupported latent file type"),
        ("in.pt/out.pt", "not a folder"),
        ("out.latent", "--family"),  # model-space input to a raw ComfyUI file
    ],
)
def test_outputs_that_cannot_be_written_exit_2_before_the_work(tmp_path, capsys, no_work, output, message):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / output), "--scale", "2")
    assert message in _one_line_error(run)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_folder_without_write_permission_exits_2_before_the_work(tmp_path, capsys, no_work):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(locked / "o.pt"), "--scale", "2")
    assert "permission" in _one_line_error(run)


@pytest.mark.parametrize("command", [["demo"], ["bench", "--quick"]])
def test_out_naming_an_existing_file_exits_2_before_the_work(tmp_path, capsys, command):
    (tmp_path / "taken").write_text("keep me")
    run = run_cli(capsys, *command, "--out", str(tmp_path / "taken"))
    assert "--out" in _one_line_error(run)
    assert (tmp_path / "taken").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_console_that_cannot_show_an_arrow_does_not_fail_a_finished_run(tmp_path):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 8, 8))
    done = run_cli_process(
        "upscale", "in.pt", "out.pt", "--scale", "2", "--method", "lanczos",
        cwd=tmp_path, env={"PYTHONIOENCODING": "cp1252"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = done.stdout.decode("cp1252")
    assert "wrote out.pt" in printed and "lanczos \\u2192 16x16" in printed
    assert read_latent(tmp_path / "out.pt").latent.shape == (1, 4, 16, 16)


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux")
def test_a_file_name_that_is_not_utf8_does_not_fail_a_finished_run(tmp_path):
    source = os.fsencode(tmp_path) + b"/in\xff.pt"
    target = os.fsencode(tmp_path) + b"/out\xfe.npy"
    torch.save(random_latent(1, 4, 8, 8), os.fsdecode(source))
    # A UTF-8 console outside the C locale: Python's stdout is strict there (no surrogateescape).
    done = run_cli_process("upscale", source, target, "--scale", "2", env={"PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr
    assert b"wrote " in done.stdout
    assert np.load(os.fsdecode(target)).shape == (1, 4, 16, 16)


# --- 5-D latent files ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".pt", ".npy", ".safetensors"])
def test_a_video_latent_file_is_resized_frame_by_frame(tmp_path, capsys, suffix):
    video = torch.randn(1, 16, 2, 6, 6)
    write_latent(tmp_path / f"in{suffix}", video)
    run = run_cli(
        capsys, "upscale", str(tmp_path / f"in{suffix}"), str(tmp_path / f"out{suffix}"), "--scale", "2"
    )
    assert run.code == 0, run.err
    out = read_latent(tmp_path / f"out{suffix}").latent
    assert out.shape == (1, 16, 2, 12, 12)
    for frame in range(2):
        torch.testing.assert_close(
            out[:, :, frame], api.upscale(video[:, :, frame], scale=2), atol=1e-6, rtol=0
        )


def test_a_video_latent_written_as_comfyui_latent_is_converted_per_channel(tmp_path, capsys):
    video = torch.randn(1, 16, 1, 6, 6)
    write_latent(tmp_path / "in.pt", video)
    run = run_cli(
        capsys,
        "upscale",
        str(tmp_path / "in.pt"),
        str(tmp_path / "out.latent"),
        "--scale",
        "1",
        "--family",
        "wan",
    )
    assert run.code == 0, run.err
    raw = read_latent(tmp_path / "out.latent").latent
    assert raw.shape == (1, 16, 1, 6, 6)
    torch.testing.assert_close(raw[:, :, 0], family_format("wan").to_raw(video[:, :, 0]))


# --- neural messages and listings ----------------------------------------------------------------


def test_downloads_off_message_names_the_cli_option(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("LATENT_UPSCALE_MODELS", raising=False)
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 8, 8))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2",
        "--method", "neural", "--family", "sdxl", "--models-dir", str(tmp_path / "empty"),
    )  # fmt: skip
    assert run.code == 2
    assert "--allow-download" in run.err
    assert "extension's setting" not in run.err


def test_models_family_lists_only_that_familys_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("LATENT_UPSCALE_MODELS", raising=False)
    models = tmp_path / "models"
    models.mkdir()
    for name in ("custom_sdxl.safetensors", "custom_sd15.safetensors", "mystery.safetensors"):
        (models / name).write_bytes(b"x")
    run = run_cli(capsys, "models", "--family", "sdxl", "--models-dir", str(models))
    assert run.code == 0, run.err
    known = run.out.split("Known weights")[1].split("\n\n")[0]
    assert "upscaler_SDXL.safetensors" in known and "SDxl-x2.0" in known
    assert "SDv1" not in known and "upscaler_Flux.safetensors" not in known
    assert "custom_sdxl" in run.out and "mystery" in run.out and "custom_sd15" not in run.out
    everything = run_cli(capsys, "models", "--models-dir", str(models)).out
    assert "SDv1" in everything and "upscaler_Flux.safetensors" in everything and "custom_sd15" in everything
