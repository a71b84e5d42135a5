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
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_formats import family_format
from latent_upscale.latent_io import file_space_converter, read_latent, write_latent
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
    assert loaded.latent_space == "scaled" and loaded.family == "sd1"  # the file format says so
    target = tmp_path / "new.latent"
    assert run_cli(capsys, "upscale", str(tmp_path / "old.latent"), str(target), "--scale", "1").code == 0
    raw = load_file(str(target))["latent_tensor"]
    assert torch.allclose(raw, latent / 0.18215, atol=1e-4)


def test_the_latent_file_rules_say_what_a_comfyui_latent_needs_before_the_work():
    assert file_space_converter("out.pt", "scaled", None) is None  # other formats hold either space
    assert file_space_converter("out.latent", "raw", None) is None  # already what the file holds
    with pytest.raises(LatentUpscaleError, match="model family"):
        file_space_converter("out.latent", "scaled", None)
    to_raw = file_space_converter("out.LATENT", "scaled", "sdxl")
    latent = random_latent(1, 4, 8, 8).half()
    converted = to_raw(latent)
    assert converted.dtype == torch.float16
    torch.testing.assert_close(converted, family_format("sdxl").to_raw(latent.float()).half())


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
        (["upscale", "in.pt", "out.pt"], "one of the arguments --scale --size --megapixels is required"),
        (["upscale", "in.pt", "out.pt", "--scale", "2", "--method", "trilinear"], "is not a method"),
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
    # --debug after the subcommand or before it (merged from test_faults_cli.py); never without it.
    args = ["upscale", str(tmp_path / "missing.pt"), str(tmp_path / "o.pt"), "--scale", "2"]
    for command in ([*args, "--debug"], ["--debug", *args]):
        run = run_cli(capsys, *command)
        assert run.code == 2 and "Traceback" in run.err, command
    quiet = run_cli(capsys, *args)
    assert quiet.code == 2 and "Traceback" not in quiet.err


def test_cuda_device_without_cuda_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--device", "cuda"
    )
    assert run.code == 2 and "no CUDA device" in run.err


def _subcommands() -> list[str]:
    import argparse

    from latent_upscale.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


def test_every_documented_subcommand_exists():
    commands = {"methods", "upscale", "sigmas", "schedules", "models", "demo", "bench"}
    assert set(_subcommands()) == commands | {"schedulers"}  # the old name, an alias


@pytest.mark.parametrize("command", [[], *([name] for name in _subcommands())])
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


# --- schedules -----------------------------------------------------------------------------------


def test_schedules_lists_every_schedule_id(capsys):
    from latent_upscale.schedules import schedule_ids

    run = run_cli(capsys, "schedules")
    assert run.code == 0
    assert run.out.split() == schedule_ids()
    assert run_cli(capsys, "schedules", "--long").out.count("\n") == len(schedule_ids())


def test_the_old_spellings_are_aliases_that_give_the_same_output_and_say_they_are(capsys):
    assert run_cli(capsys, "schedulers", "--long").out == run_cli(capsys, "schedules", "--long").out
    # Align Your Steps has one table per family: the family option is really read.
    new = run_cli(capsys, "sigmas", "--schedule", "align_your_steps", "--steps", "6", "--family", "sdxl")
    old = run_cli(capsys, "sigmas", "--scheduler", "align_your_steps", "--steps", "6", "--model", "sdxl")
    assert old.code == new.code == 0 and old.out == new.out
    assert new.out != run_cli(capsys, "sigmas", "--schedule", "align_your_steps", "--steps", "6").out
    listing = " ".join(run_cli(capsys, "--help").out.split())  # the wrapping follows the terminal
    assert "schedules (schedulers)" in listing and "schedulers: an alias" in listing
    sigmas_help = " ".join(run_cli(capsys, "sigmas", "--help").out.split())
    assert "--scheduler: an alias" in sigmas_help and "--model: an alias" in sigmas_help


@pytest.mark.parametrize("scheduler", ["karras", "simple", "align_your_steps", "beta"])
def test_sigmas_prints_the_full_schedule_as_json(capsys, scheduler):
    import json

    from latent_upscale.schedules import build_sigmas, sd_sigma_table

    run = run_cli(capsys, "sigmas", "--schedule", scheduler, "--steps", "12", "--family", "sdxl")
    assert run.code == 0, run.err
    printed = json.loads(run.out)
    expected = build_sigmas(scheduler, 12, sd_sigma_table("sdxl"), family="sdxl")
    assert len(printed) == 13 and printed[-1] == 0
    assert printed == pytest.approx(expected.tolist(), abs=1e-6)


def test_sigmas_with_denoise_prints_only_the_sampled_part(capsys):
    import json

    fixed = json.loads(
        run_cli(capsys, "sigmas", "--schedule", "karras", "--steps", "30", "--denoise", "0.4").out
    )
    unfixed = json.loads(
        run_cli(
            capsys, "sigmas", "--schedule", "karras", "--steps", "30", "--denoise", "0.4", "--no-fix-steps"
        ).out
    )
    assert len(fixed) - 1 == 30  # every step on the slider
    assert len(unfixed) - 1 == 13  # int(0.4 * 30) + 1 sampler steps: what the WebUI runs by default


def test_sigmas_passes_schedule_parameters(capsys):
    import json

    default = json.loads(run_cli(capsys, "sigmas", "--schedule", "karras", "--steps", "8").out)
    bent = json.loads(
        run_cli(capsys, "sigmas", "--schedule", "karras", "--steps", "8", "--param", "rho=3").out
    )
    assert default[0] == pytest.approx(bent[0], rel=1e-6)
    assert default[1:-2] != pytest.approx(bent[1:-2], rel=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schedule", "karras", "--steps", "8", "--param", "alpha=1"], "no parameter"),
        (["--schedule", "karras", "--steps", "8", "--param", "rho"], "NAME=VALUE"),
        (["--schedule", "karras", "--steps", "8", "--param", "rho=99"], "must lie in"),
        (["--schedule", "karras", "--steps", "0"], "at least 1"),
        (["--schedule", "karras", "--steps", "8", "--denoise", "1.5"], "(0, 1]"),
        (["--schedule", "karras", "--steps", "8", "--no-fix-steps"], "only makes sense with --denoise"),
        (["--schedule", "karas", "--steps", "8"], "invalid choice"),
        (["--schedule", "karras", "--steps", "8", "--family", "flux"], "invalid choice"),
    ],
)
def test_sigmas_bad_arguments_exit_2(capsys, args, message):
    run = run_cli(capsys, "sigmas", *args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err


# --- neural ----------------------------------------------------------------------------------------


def _city96_weights(folder: Path, factor: float = 2.0) -> Path:
    from latent_upscale.lab.fixtures.random_weights import (
        city96_filename,
        city96_state_dict,
        save_safetensors,
    )

    folder.mkdir(parents=True, exist_ok=True)
    return save_safetensors(
        city96_state_dict("2.1", width=8, depth=2), folder / city96_filename("2.1", "v1", factor)
    )


def test_upscale_with_neural_weights_found_in_models_dir(tmp_path, capsys):
    _city96_weights(tmp_path / "models")
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 8, 8))
    run = run_cli(
        capsys,
        "upscale",
        str(tmp_path / "in.pt"),
        str(tmp_path / "out.pt"),
        "--scale",
        "2",
        "--method",
        "neural",
        "--family",
        "sd1",
        "--models-dir",
        str(tmp_path / "models"),
    )
    assert run.code == 0, run.err
    assert "latent-upscaler-v2.1_SDv1-x2.0.safetensors" in run.out
    assert read_latent(tmp_path / "out.pt").latent.shape == (1, 4, 16, 16)


def test_upscale_with_an_explicit_weights_file(tmp_path, capsys):
    weights = _city96_weights(tmp_path / "w", factor=1.5)
    write_latent(tmp_path / "in.npy", random_latent(1, 4, 10, 10))
    run = run_cli(
        capsys,
        "upscale",
        str(tmp_path / "in.npy"),
        str(tmp_path / "out.npy"),
        "--size",
        "15x15",
        "--method",
        "neural",
        "--family",
        "sd1",
        "--weights",
        str(weights),
    )
    assert run.code == 0, run.err
    assert np.load(tmp_path / "out.npy").shape == (1, 4, 15, 15)


def test_neural_without_weights_and_downloads_off_exits_2_naming_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path))
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 8, 8))
    run = run_cli(
        capsys,
        "upscale",
        str(tmp_path / "in.pt"),
        str(tmp_path / "out.pt"),
        "--scale",
        "2",
        "--method",
        "neural",
        "--family",
        "sdxl",
        "--models-dir",
        str(tmp_path / "empty"),
    )
    assert run.code == 2
    assert "upscaler_SDXL.safetensors" in run.err
    assert "Traceback" not in run.err
    assert not (tmp_path / "out.pt").exists()


def test_models_lists_what_is_present_and_what_neural_would_use(tmp_path, capsys):
    _city96_weights(tmp_path / "models")
    (tmp_path / "models" / "my-renamed.safetensors").write_bytes(b"x")
    run = run_cli(capsys, "models", "--models-dir", str(tmp_path / "models"), "--family", "sd1")
    assert run.code == 0, run.err
    assert (
        f"latent-upscaler-v2.1_SDv1-x2.0.safetensors [sd1, sd2; Apache-2.0] present: {tmp_path / 'models'}"
        in run.out
    )
    assert "my-renamed.safetensors" in run.out
    assert "sd1" in run.out.split("What --method neural would use:")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "neural", "--precision", "fp8"], "invalid choice"),
        (["--method", "neural", "--tile-size", "-3"], "tile_size"),
        (["--method", "neural", "--factor", "0"], "positive"),
    ],
)
def test_bad_neural_arguments_exit_2(tmp_path, capsys, args, message):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", *args)
    assert run.code == 2
    assert message in run.err


#: Runs the CLI in this process once per JSON step of argv[1] (a step may first create a folder), and
#: prints, per step, its exit code and whether ``huggingface_hub`` has been imported so far.
_IMPORTS_HF = """
import json, pathlib, sys
from latent_upscale.cli import main
seen = []
for step in json.loads(sys.argv[1]):
    if step.get("mkdir"):
        pathlib.Path(step["mkdir"]).mkdir(parents=True)
    code = main(step["args"])
    seen.append([code, "huggingface_hub" in sys.modules])
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def hub_imports(tmp_path_factory) -> dict[str, list]:
    """Exit code and "hub imported so far" after ``upscale``, ``models``, then ``models`` with a cache entry,
    in ONE fresh interpreter with no reachable HF cache: imports only add up, so the hub absent after the
    second step is absent after either command alone; the third step (the premise) comes last."""
    import json

    from tests.helpers.cli import run_cli_process

    tmp_path = tmp_path_factory.mktemp("hub-imports")
    write_latent(tmp_path / "in.safetensors", random_latent(1, 4, 8, 8))
    upscale_args = ["upscale", str(tmp_path / "in.safetensors"), str(tmp_path / "out.safetensors")]
    upscale_args += ["--scale", "2", "--method", "bilinear"]
    entry = tmp_path / "hf-home" / "hub" / "models--city96--SD-Latent-Upscaler"
    steps = [{"args": upscale_args}, {"args": ["models"]}, {"args": ["models"], "mkdir": str(entry)}]
    env = {"HF_HOME": str(tmp_path / "hf-home"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.update({"HF_HUB_CACHE": "", "HUGGINGFACE_HUB_CACHE": "", "LATENT_UPSCALE_MODELS": ""})
    done = run_cli_process(json.dumps(steps), cwd=tmp_path, env=env, python_code=_IMPORTS_HF)
    assert done.returncode == 0, done.stderr.decode()
    upscaled, listed, listed_with_cache = json.loads(done.stdout.decode().splitlines()[-1])
    return {"upscale": upscaled, "models": listed, "models with a cache entry": listed_with_cache}


@pytest.mark.parametrize("command", ["models", "upscale"])
def test_the_cli_does_not_import_huggingface_hub_when_no_cache_entry_can_exist(hub_imports, command):
    assert hub_imports[command] == [0, False]
    if command == "models":  # the premise: with a cache entry the hub is asked
        assert hub_imports["models with a cache entry"] == [0, True]


# --- behaving like the tools users know -------------------------------------------------------------


def test_a_misspelt_method_gets_one_line_that_starts_with_did_you_mean(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys,
        "upscale",
        str(tmp_path / "in.pt"),
        str(tmp_path / "o.pt"),
        "--scale",
        "2",
        "--method",
        "bilnear",
    )
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1
    assert run.err.split("error: ", 1)[1].startswith("did you mean --method bilinear")
    assert "usage:" not in run.err and not (tmp_path / "o.pt").exists()


@pytest.mark.parametrize(
    ("given", "method"),
    [("Lanczos-3", "lanczos"), ("BILINEAR", "bilinear"), ("bislerp (spherical)", "bislerp")],
)
def test_ui_labels_and_any_case_are_accepted_as_methods(tmp_path, capsys, given, method):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--method", given
    )
    assert run.code == 0, run.err
    assert f"({method} " in run.out


def test_a_missing_output_folder_is_an_error_unless_parents_is_given(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    target = tmp_path / "new" / "deeper" / "o.pt"
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(target), "--scale", "2")
    assert run.code == 2 and "--parents" in run.err and "no such folder" in run.err
    assert not (tmp_path / "new").exists()  # nothing created
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(target), "--scale", "2", "--parents")
    assert run.code == 0, run.err
    assert target.is_file()


def test_an_output_over_1_gib_needs_force(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 16, 64, 64))  # x100: 16 x 6400 x 6400 float32 = 2.4 GiB
    run = run_cli(capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "100")
    assert run.code == 2 and "--force" in run.err and "2.4 GiB" in run.err
    assert not (tmp_path / "o.pt").exists()


def test_messages_name_cli_options_not_library_arguments(tmp_path, capsys):
    write_latent(tmp_path / "in.pt", random_latent(1, 4, 4, 4))
    run = run_cli(
        capsys, "upscale", str(tmp_path / "in.pt"), str(tmp_path / "o.pt"), "--scale", "2", "--method", "tae"
    )
    assert run.code == 2 and "--family" in run.err and "family=" not in run.err


def test_bench_quality_help_describes_the_quality_bench(capsys):
    run = run_cli(capsys, "bench", "quality", "--help")
    assert run.code == 0
    assert "bench quality --autoencoder PATH" in run.out and "real photographs" in run.out
    speed = run_cli(capsys, "bench", "--help")
    assert "Benchmark every resize method" in speed.out and "bench quality --help" in speed.out


def test_the_top_level_help_promises_nothing_the_measurements_deny(capsys):
    run = run_cli(capsys, "--help")
    assert run.code == 0 and "better methods than bilinear" not in run.out
