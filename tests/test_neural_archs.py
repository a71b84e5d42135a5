"""Architectures: detection from key layouts, strict loading, hyperparameter inference, safe reading."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.lab.fixtures.random_weights import (
    city96_filename,
    city96_state_dict,
    parameter_count,
    save_safetensors,
    save_torch,
    sesqui_state_dict,
    ttl_state_dict,
)
from latent_upscale.lab.fixtures.tae_random import tae_state_dict
from latent_upscale.lab.fixtures.taehv_random import taehv_state_dict
from latent_upscale.neural import NeuralOptions, unload
from latent_upscale.neural.archs import (
    ARCHITECTURES,
    city96,
    detect_architecture,
    load_descriptor,
    order_by_before,
    sesqui,
    tae,
    taehv,
    ttl,
)
from latent_upscale.neural.runner import load_model
from latent_upscale.neural.state_dict import canonicalize_state_dict, read_state_dict
from tests.helpers.neural_arch_contract import ArchitectureContract

SMALL_LAYOUTS = {
    "city96 v1.0": lambda: city96_state_dict("1.0"),
    "city96 v2.1": lambda: city96_state_dict("2.1", width=16, depth=3),
    "sesqui 4ch": lambda: sesqui_state_dict(4, width=16, in_depth=2, out_depth=1),
    "sesqui 16ch": lambda: sesqui_state_dict(16, width=32, in_depth=1, out_depth=2),
    "sesqui 32ch": lambda: sesqui_state_dict(32, width=32, in_depth=1, out_depth=1),
    "ttl": lambda: ttl_state_dict(2, 2, channels=32),
    "ttl no attention": lambda: ttl_state_dict(1, 2, channels=64, attention=False),
}
ARCH_OF = {name: name.split()[0] for name in SMALL_LAYOUTS}


# --- real default sizes: the published files' layouts load strictly ---------------------------------


def test_city96_v2_1_real_size_file_loads_strictly_at_every_factor(tmp_path: Path):
    state = city96_state_dict("2.1")
    assert len(state) == 36 and parameter_count(state) == 595_524  # the published v2.1 totals
    for factor in (1.25, 1.5, 2.0):
        path = save_safetensors(state, tmp_path / city96_filename("2.1", "xl", factor))
        descriptor = load_descriptor(read_state_dict(path))
        assert (descriptor.arch, descriptor.version) == ("city96", "2.x")
        out = descriptor.model(torch.randn(1, 4, 13, 17), factor)
        assert tuple(out.shape[-2:]) == (int(13 * factor), int(17 * factor))
    # The runner completes the description from the published file name.
    named, _ = load_model(path, NeuralOptions(), torch.device("cpu"))
    assert (named.version, named.family, named.factors) == ("2.1", "sdxl", (2.0,))
    assert named.label == "city96 v2.1 sdxl x2"
    unload()


def test_city96_v1_0_real_size_file_is_detected_as_version_1(tmp_path: Path):
    state = city96_state_dict("1.0")
    assert len(state) == 10 and parameter_count(state) == 511_588
    path = save_safetensors(state, tmp_path / city96_filename("1.0", "v1", 1.5))
    descriptor = load_descriptor(read_state_dict(path))
    assert descriptor.version == "1.0"
    assert [k for _, _, k in descriptor.hyperparameters["layers"]] == [5, 7, 7, 7, 5]


@pytest.mark.parametrize(
    ("channels", "file"), [(4, "upscaler_SDXL"), (16, "upscaler_Flux"), (32, "upscaler_Flux2")]
)
def test_sesqui_real_size_files_load_strictly_with_any_channel_count(
    tmp_path: Path, channels: int, file: str
):
    state = sesqui_state_dict(channels)
    assert len(state) == 80
    if channels == 4:  # "3.07M" parameters in SesquiLSR's README; pe.freqs is a buffer
        assert parameter_count(state, skip=("upsample.pe.freqs",)) == 3_071_542
    descriptor = load_descriptor(read_state_dict(save_safetensors(state, tmp_path / f"{file}.safetensors")))
    assert descriptor.arch == "sesqui"
    assert dict(descriptor.hyperparameters) == {
        "in_channels": channels,
        "width": 128,
        "in_depth": 8,
        "out_depth": 6,
        "rank": 2,
        "lift_channels": 64,
        "filter_hidden": 64,
    }
    out = descriptor.model(torch.randn(1, channels, 8, 8), (12, 13))
    assert out.shape == (1, channels, 12, 13) and torch.isfinite(out).all()


def test_ttl_real_size_pt_file_loads_strictly(tmp_path: Path):
    state = ttl_state_dict()
    assert len(state) == 250 and parameter_count(state) == 6_274_020
    descriptor = load_descriptor(read_state_dict(save_torch(state, tmp_path / "sdxl_resizer.pt")))
    assert descriptor.arch == "ttl"
    assert descriptor.hyperparameters["in_blocks"] == 10 and descriptor.hyperparameters["in_attention"] == 2
    assert descriptor.convention.scale == pytest.approx(0.13025)
    out = descriptor.model(torch.randn(1, 4, 6, 6), (9, 9))
    assert out.shape == (1, 4, 9, 9) and torch.isfinite(out).all()


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", list(SMALL_LAYOUTS))
def test_each_detector_accepts_only_its_own_layout(layout: str):
    state = SMALL_LAYOUTS[layout]()
    claims = [arch.ARCH_ID for arch in ARCHITECTURES if arch.detect(state)]
    assert claims == [ARCH_OF[layout]]


@pytest.mark.parametrize("layout", list(SMALL_LAYOUTS))
def test_small_layouts_survive_a_safetensors_round_trip_and_load_strictly(tmp_path: Path, layout: str):
    state = SMALL_LAYOUTS[layout]()
    loaded = read_state_dict(save_safetensors(state, tmp_path / "w.safetensors"))
    descriptor = load_descriptor(loaded)
    assert descriptor.arch == ARCH_OF[layout]
    assert set(descriptor.model.state_dict()) == set(state)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"in_blocks": 1, "out_blocks": 1, "channels": 32}, (1, 1, 1, 1)),
        ({"in_blocks": 3, "out_blocks": 2, "channels": 64}, (3, 2, 2, 1)),
        ({"in_blocks": 2, "out_blocks": 4, "channels": 32, "attention": False}, (2, 4, 0, 0)),
    ],
)
def test_ttl_block_counts_attention_and_width_are_inferred_from_keys(kwargs: dict, expected: tuple):
    descriptor = load_descriptor(ttl_state_dict(**kwargs))
    h = descriptor.hyperparameters
    assert (h["in_blocks"], h["out_blocks"], h["in_attention"], h["out_attention"]) == expected
    assert h["channels"] == kwargs["channels"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_channels": 4, "width": 16, "in_depth": 1, "out_depth": 3},
        {"in_channels": 16, "width": 48, "in_depth": 3, "out_depth": 1, "in_expand": 2.0, "out_expand": 1.5},
        {"in_channels": 8, "width": 32, "in_depth": 2, "out_depth": 2, "rank": 3},
    ],
)
def test_sesqui_widths_depths_and_rank_are_inferred_from_shapes(kwargs: dict):
    descriptor = load_descriptor(sesqui_state_dict(**kwargs))
    h = descriptor.hyperparameters
    assert (h["in_channels"], h["width"], h["in_depth"], h["out_depth"]) == (
        kwargs["in_channels"],
        kwargs["width"],
        kwargs["in_depth"],
        kwargs["out_depth"],
    )
    assert h["rank"] == kwargs.get("rank", 2)


def test_city96_custom_depth_and_width_are_inferred():
    descriptor = load_descriptor(city96_state_dict("2.1", width=24, depth=5))
    assert descriptor.hyperparameters["layers"] == ((4, 24, 3), *[(24, 24, 3)] * 5, (24, 4, 3))
    assert descriptor.version == "custom"


def test_unknown_state_dict_error_names_expected_layouts_found_keys_and_closest():
    state = {"encoder.weight": torch.zeros(2, 2), "conv_in.weight": torch.zeros(8, 4, 3, 3)}
    with pytest.raises(LatentUpscaleError) as caught:
        detect_architecture(state)
    message = str(caught.value)
    assert "not a known latent upscaler" in message
    assert "encoder.weight" in message  # what was found
    assert "SesquiLSR" in message and "city96" in message  # what was expected
    assert "most resembles NNLatentUpscale" in message and "embed.0.weight" in message


def test_mismatched_layout_names_the_architecture_and_the_bad_keys():
    state = sesqui_state_dict(4, width=16, in_depth=1, out_depth=1)
    state["extra.weight"] = torch.zeros(3)
    with pytest.raises(LatentUpscaleError, match=r"looks like SesquiLSR .*extra\.weight"):
        load_descriptor(state)
    broken = city96_state_dict("2.1", width=8, depth=2)
    broken["sequential.6.bias"] = torch.zeros(5)
    with pytest.raises(LatentUpscaleError, match=r"looks like city96 .*sequential\.6\.bias"):
        load_descriptor(broken)


def test_city96_with_gaps_in_its_indices_is_refused():
    state = city96_state_dict("2.1", width=8, depth=2)
    state["sequential.12.weight"] = state.pop("sequential.8.weight")
    state["sequential.12.bias"] = state.pop("sequential.8.bias")
    with pytest.raises(LatentUpscaleError, match="do not follow the layout"):
        load_descriptor(state)


# --- reading files --------------------------------------------------------------------------------


def test_training_wrappers_and_module_prefix_are_canonicalized():
    state = city96_state_dict("2.1", width=8, depth=1)
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}
    assert canonicalize_state_dict(wrapped).keys() == state.keys()
    assert (
        canonicalize_state_dict({"params_ema": state, "params": {"x": torch.zeros(1)}}).keys() == state.keys()
    )
    with pytest.raises(LatentUpscaleError, match="holds no tensors"):
        canonicalize_state_dict({"epoch": 3})


def test_pt_with_wrapper_loads_through_weights_only(tmp_path: Path):
    state = ttl_state_dict(1, 1, channels=32)
    path = tmp_path / "wrapped.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "step": 10}, path)
    assert load_descriptor(read_state_dict(path)).arch == "ttl"


class _Payload:
    """Unpickling this would create a file: the classic pickle code-execution probe."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def test_pickle_that_would_run_code_is_refused_and_never_executed(tmp_path: Path):
    marker = tmp_path / "created-by-unpickling.txt"
    path = tmp_path / "sd15_resizer.pt"
    with path.open("wb") as handle:
        pickle.dump({"conv_in.weight": torch.zeros(1), "payload": _Payload(marker)}, handle, protocol=2)
    with pytest.raises(LatentUpscaleError, match=r"refusing to load sd15_resizer\.pt"):
        read_state_dict(path)
    assert not marker.exists()
    # The probe works: plain unpickling does create the file (so the test above can fail).
    with path.open("rb") as handle:
        pickle.load(handle)
    assert marker.read_text() == "pwned"


def test_unknown_suffix_and_missing_file_are_clear_errors(tmp_path: Path):
    with pytest.raises(LatentUpscaleError, match="not found"):
        read_state_dict(tmp_path / "absent.safetensors")
    (tmp_path / "weights.onnx").write_bytes(b"x")
    with pytest.raises(LatentUpscaleError, match=r"unknown weights format '\.onnx'"):
        read_state_dict(tmp_path / "weights.onnx")
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(LatentUpscaleError, match=r"cannot read bad\.safetensors"):
        read_state_dict(tmp_path / "bad.safetensors")


def test_architecture_modules_name_their_origin_and_licence():
    for module, licence in ((city96, "Apache-2.0"), (sesqui, "MIT"), (ttl, "GPL-3.0"), (taehv, "MIT")):
        assert licence in module.__doc__ and "https://github.com/" in module.__doc__


# --- the architecture contract: one test class per registered architecture ------------------------


class TestCity96Contract(ArchitectureContract):
    arch = city96
    factor = 1.5
    target = (91, 67)  # floor(61 × 1.5), floor(45 × 1.5)

    def random_weights(self):
        return city96_state_dict("2.1", width=8, depth=2)


class TestSesquiContract(ArchitectureContract):
    arch = sesqui

    def random_weights(self):
        return sesqui_state_dict(4, width=16, in_depth=1, out_depth=1)


class TestTtlContract(ArchitectureContract):
    arch = ttl

    def random_weights(self):
        return ttl_state_dict(1, 1, channels=32)


class TestTaeContract(ArchitectureContract):
    """The tiny autoencoder (``tae``): a decoder + encoder pair in TAEF2's real layout (the GroupNorm
    side branch makes its tiles inexact)."""

    arch = tae
    # Long and thin: two tiles along the height (tiles are at least 40 latent pixels), cheap on a CPU.
    source = (42, 5)
    target = (63, 8)

    def random_weights(self):
        return {part: tae_state_dict("taef2", part, seed=i) for i, part in enumerate(tae.PARTS)}


class TestTaeqiContract(ArchitectureContract):
    """TAEQI2.1 through the same ``tae`` architecture: the 16× layout, 64 channels, RGBA images."""

    arch = tae
    source = (42, 5)
    target = (63, 8)

    def random_weights(self):
        return {part: tae_state_dict("taeqi2_1", part, seed=i) for i, part in enumerate(tae.PARTS)}


class TestTaehvContract(ArchitectureContract):
    """TAEW2.1 (``taehv``): one file, a still image through the temporal blocks."""

    arch = taehv
    source = (42, 5)
    target = (63, 8)

    def random_weights(self):
        return taehv_state_dict(seed=0)


def test_every_registered_architecture_has_a_contract_test_class():
    tested = {cls.arch.ARCH_ID for cls in ArchitectureContract.__subclasses__() if hasattr(cls, "arch")}
    assert {arch.ARCH_ID for arch in ARCHITECTURES} <= tested


def test_detection_order_follows_before_declarations_and_refuses_cycles_and_duplicates():
    assert [arch.ARCH_ID for arch in ARCHITECTURES] == ["sesqui", "ttl", "city96", "tae", "taehv"]
    assert order_by_before((city96, ttl, sesqui, tae, taehv)) == ARCHITECTURES
    first = SimpleNamespace(ARCH_ID="a", BEFORE=("b",))
    second = SimpleNamespace(ARCH_ID="b", BEFORE=("a",))
    with pytest.raises(LatentUpscaleError, match="cycle"):
        order_by_before((first, second))
    with pytest.raises(LatentUpscaleError, match="registered twice"):
        order_by_before((city96, city96))
    with pytest.raises(LatentUpscaleError, match="unknown architecture 'nope'"):
        order_by_before((SimpleNamespace(ARCH_ID="x", BEFORE=("nope",)),))
