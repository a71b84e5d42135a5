"""Our error for every bad neural input: options nonsense, symlink loops, a bad
entry in LATENT_UPSCALE_MODELS, bare names and the working directory, NaN weights. (SesquiLSR's resampling
pass against its published formulations: test_sesqui_in_place.py.)"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from latent_upscale import upscale_detailed
from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.lab.fixtures.random_weights import (
    city96_filename,
    city96_state_dict,
    save_safetensors,
)
from latent_upscale.neural import NeuralOptions
from latent_upscale.neural.resolution import resolve_weights
from tests.helpers.latents import random_latent
from tests.helpers.neural_env import options, put_sesqui

pytestmark = pytest.mark.usefixtures("isolated_neural")  # tests/conftest.py


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"device": "banana"}, "unknown device 'banana'"),
        ({"device": 5}, "device must be a name"),
        ({"device": "meta"}, "holds no data"),
        ({"models_dir": 5}, "models_dir must be a folder path"),
        ({"models_dir": [b"/tmp"]}, "entries must be folder paths"),
        ({"models_dir": "~nouser-latent-upscale/x"}, "models_dir '~nouser-latent-upscale/x'"),
        ({"allow_download": "no"}, "allow_download must be True or False, got 'no'"),
        ({"offline": 1}, "offline must be True or False"),
        ({"tile_size": "32"}, "tile_size must be None"),
        ({"factor": float("nan")}, "factor must be a number above 1"),
        ({"hf_revision": 3}, "hf_revision must be"),
        ({"downloader": "wget"}, "downloader must be callable"),
    ],
)
def test_nonsense_neural_options_are_our_error(changes: dict, message: str):
    with pytest.raises(LatentUpscaleError, match=message.replace("(", r"\(")):
        NeuralOptions(**changes)


def test_numpy_and_torch_scalars_are_numbers_and_booleans():
    opts = NeuralOptions(
        tile_size=np.int64(32), factor=torch.tensor(1.5), allow_download=np.bool_(True), device="cpu"
    )
    assert (opts.tile_size, opts.factor, opts.allow_download) == (32, 1.5, True)
    assert type(opts.tile_size) is int and opts.device == torch.device("cpu")


def test_a_weights_path_that_is_a_symlink_loop_is_our_error(tmp_path: Path):
    loop = tmp_path / "loop.safetensors"
    loop.symlink_to(loop)
    with pytest.raises(WeightsUnavailableError, match="symlink loop"):
        resolve_weights(None, options(tmp_path), explicit=loop)
    with pytest.raises(LatentUpscaleError, match="symlink loop"):
        upscale_detailed(
            random_latent(1, 4, 8, 8), scale=2, method="neural", weights=loop, neural=options(tmp_path)
        )


def test_one_bad_models_folder_entry_is_skipped_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    good = tmp_path / "env-models"
    put_sesqui(good)
    monkeypatch.setenv("LATENT_UPSCALE_MODELS", os.pathsep.join(["~nouser-latent-upscale/x", str(good)]))
    with caplog.at_level(logging.WARNING, logger="latent_upscale.neural.search"):
        for _ in range(2):
            assert resolve_weights("sdxl", options(tmp_path)).path == good / "upscaler_SDXL.safetensors"
    warnings = [r for r in caplog.records if "~nouser-latent-upscale/x" in r.getMessage()]
    assert len(warnings) == 1


def test_a_bare_weights_name_is_never_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cwd = tmp_path / "cwd"
    in_cwd = put_sesqui(cwd)
    monkeypatch.chdir(cwd)
    with pytest.raises(WeightsUnavailableError, match=r"write \./upscaler_SDXL\.safetensors"):
        resolve_weights(None, options(tmp_path), explicit="upscaler_SDXL.safetensors")
    in_models = put_sesqui(tmp_path / "models", seed=1)
    assert resolve_weights(None, options(tmp_path), explicit="upscaler_SDXL.safetensors").path == in_models
    assert resolve_weights(None, options(tmp_path), explicit="./upscaler_SDXL.safetensors").path.samefile(
        in_cwd
    )


def test_a_network_with_a_nan_weight_raises_instead_of_returning_nan(tmp_path: Path):
    state = city96_state_dict("2.1", width=8, depth=2)
    state["sequential.4.weight"][0, 0, 1, 1] = float("nan")
    save_safetensors(state, tmp_path / "models" / city96_filename("2.1", "v1", 2.0))
    with pytest.raises(LatentUpscaleError, match="non-finite values"):
        upscale_detailed(
            random_latent(1, 4, 8, 8), scale=2, method="neural", family="sd1", neural=options(tmp_path)
        )
