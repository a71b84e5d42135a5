"""Fault injection for the public API: guarded sizes, finite outputs, 5-D latents and our error for
every bad argument (the checks each call makes, kept cheap)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import latent_upscale.api as api
from latent_upscale import LatentUpscaleError, methods, upscale, upscale_detailed
from latent_upscale.core import MAX_ELEMENTS, MAX_SIDE, Method, UpscaleResult, all_finite
from latent_upscale.neural import NeuralOptions
from latent_upscale.resize_methods import get_method
from tests.helpers.latents import random_latent

INTERPOLATIONS = [m for m in methods() if not get_method(m).neural]
FP16_MAX = torch.finfo(torch.float16).max

# --- non-finite outputs ---------------------------------------------------------------------------


def _checkerboard(size: int, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """``[1, C, size, size]`` alternating between two channel vectors: the worst case for ringing."""
    rows = torch.arange(size)
    odd = ((rows[:, None] + rows[None, :]) % 2).bool()
    return torch.where(odd, high.view(-1, 1, 1), low.view(-1, 1, 1))[None]


def _overshooting_half_latent(method: str) -> torch.Tensor:
    if method == "bislerp":
        # Two vectors 90 degrees apart, each component inside float16: the slerp half-way keeps the
        # length (84852) along one axis, beyond 65504.
        low = torch.tensor([60000.0, 60000.0, 0.0, 0.0])
        high = torch.tensor([60000.0, -60000.0, 0.0, 0.0])
    else:
        low, high = torch.full((4,), -65000.0), torch.full((4,), 65000.0)
    return _checkerboard(16, low, high).half()


@pytest.mark.parametrize("method", ["lanczos", "bicubic", "bicubic-antialiased", "bislerp"])
def test_ringing_beyond_the_half_range_is_clamped_not_returned_as_inf(method):
    latent = _overshooting_half_latent(method)
    # The premise: the float32 result itself overshoots, so a plain cast gives inf.
    unchecked = get_method(method).resize(latent.float(), (37, 37))
    assert not torch.isfinite(unchecked.half()).all()
    result = upscale_detailed(latent, (37, 37), method=method)
    assert result.latent.dtype == torch.float16
    assert torch.isfinite(result.latent).all()
    assert float(result.latent.float().abs().max()) == FP16_MAX
    assert any("clamped" in step for step in result.steps)
    # Everything inside the range is exactly the cast result.
    inside = unchecked.abs() <= FP16_MAX
    assert torch.equal(result.latent[inside], unchecked.half()[inside])


def _broken(value: float, neural: bool = False) -> Method:
    def run(latent, size, request):
        out = torch.zeros(*latent.shape[:2], *size, dtype=latent.dtype, device=latent.device)
        out[..., 0, 0] = value
        return UpscaleResult(latent=out, method="broken")

    return Method(id="broken", label="b", advice="b", run=run, neural=neural)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("neural", [False, True])
def test_a_method_or_network_producing_nan_or_inf_raises_our_error(monkeypatch, value, dtype, neural):
    monkeypatch.setattr(api, "get_method", lambda method_id: _broken(value, neural))
    with pytest.raises(LatentUpscaleError, match="NaN or infinite") as caught:
        upscale(random_latent(1, 4, 8, 8, dtype=dtype), (16, 16), method="broken")
    assert caught.value.summary == "broken produced NaN/inf values"


@pytest.mark.parametrize(
    "tensor",
    [
        torch.full((1000,), FP16_MAX, dtype=torch.float16),  # a float16 sum would overflow
        torch.full((1000,), 3e38, dtype=torch.bfloat16),  # even the float32 sum overflows
        torch.full((1000,), 3e38),
        torch.tensor([1e308, 1e308], dtype=torch.float64),
        torch.randn(4, 4),
    ],
)
def test_the_cheap_finite_check_is_exact_for_large_finite_values(tensor):
    assert all_finite(tensor)
    assert all_finite(torch.cat([-tensor.flatten(), tensor.flatten()]))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_the_cheap_finite_check_finds_one_bad_value(bad, dtype):
    tensor = torch.full((3, 1000), 1.0, dtype=dtype)
    tensor[2, 999] = bad
    assert not all_finite(tensor)
    both = torch.ones(4, dtype=dtype)
    both[0], both[1] = float("inf"), float("-inf")  # inf - inf: a NaN sum, still caught
    assert not all_finite(both)


# --- sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        {"size": (100000, 100000)},
        {"size": (MAX_SIDE + 1, 8)},
        {"size": (8, MAX_SIDE + 1)},
        {"scale": 1e6},
        {"scale": 1e308},
        {"scale": (1.0, 1e300)},
    ],
)
def test_oversized_targets_are_refused_before_allocating(monkeypatch, target):
    def must_not_run(latent, size, request):
        raise AssertionError("the method ran")

    spy = Method(id="spy", label="s", advice="s", run=must_not_run)
    monkeypatch.setattr(api, "get_method", lambda method_id: spy)
    with pytest.raises(LatentUpscaleError, match=f"{MAX_SIDE}"):
        upscale(torch.zeros(1, 4, 64, 64), method="spy", **target)


def test_the_element_limit_counts_batch_channels_and_frames():
    with pytest.raises(LatentUpscaleError, match=str(MAX_ELEMENTS)):
        upscale(torch.zeros(64, 16, 1, 1), (2048, 2048))
    with pytest.raises(LatentUpscaleError, match=str(MAX_ELEMENTS)):
        upscale(torch.zeros(1, 16, 64, 1, 1), (2048, 2048))


def test_the_largest_side_is_accepted():
    assert upscale(torch.zeros(1, 1, 1, 1), (MAX_SIDE, 1), method="nearest").shape == (1, 1, MAX_SIDE, 1)


# --- 5-D latents ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", INTERPOLATIONS)
def test_video_latents_are_resized_frame_by_frame_keeping_their_shape(method):
    video = torch.randn(2, 16, 3, 8, 10, generator=torch.Generator().manual_seed(5))
    out = upscale(video, (12, 15), method=method)
    assert out.shape == (2, 16, 3, 12, 15) and out.is_contiguous()
    for frame in range(3):
        alone = upscale(video[:, :, frame].contiguous(), (12, 15), method=method)
        torch.testing.assert_close(out[:, :, frame], alone, atol=1e-6, rtol=1e-6)  # SIMD tails differ


def test_a_single_frame_video_latent_keeps_its_frame_axis():
    frame = torch.randn(1, 16, 1, 32, 32)
    out = upscale(frame, scale=1.5, method="lanczos")
    assert out.shape == (1, 16, 1, 48, 48)
    assert torch.equal(out[:, :, 0], upscale(frame[:, :, 0], scale=1.5, method="lanczos"))
    same = upscale_detailed(frame, (32, 32))
    assert same.latent.shape == frame.shape and same.steps == ("same size: unchanged",)


def test_a_video_latent_with_nan_in_one_frame_is_refused():
    video = torch.zeros(1, 4, 3, 8, 8)
    video[0, 1, 2, 3, 3] = float("nan")
    with pytest.raises(LatentUpscaleError, match="NaN"):
        upscale(video, (16, 16))


# --- our error for every bad argument ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale": (1.5, None)},
        {"scale": ("a", 1)},
        {"scale": ("2", "2")},
        {"scale": "2"},
        {"scale": b"2"},
        {"scale": True},
        {"scale": (True, 2)},
        {"scale": 2j},
        {"scale": torch.tensor([2.0, 2.0])},
        {"scale": np.bool_(True)},
        {"size": ("2", "2")},
        {"size": (np.float64(2.5), 2)},
        {"size": (torch.tensor(True), 2)},
        {"size": {"h": 2, "w": 2}},
        {"size": (8, 8), "family": ["sd1"]},
        {"size": (8, 8), "family": 1},
        {"size": (8, 8), "latent_space": ["raw"]},
        {"size": (8, 8), "neural": "x"},
        {"size": (8, 8), "neural": {"allow_download": True}},
        {"size": (8, 8), "weights": 5},
        {"size": (8, 8), "method": ["bislerp"]},
        {"size": (8, 8), "method": None},
    ],
)
def test_bad_arguments_raise_our_error_never_a_raw_type_or_value_error(kwargs):
    with pytest.raises(LatentUpscaleError):
        upscale(torch.zeros(1, 4, 4, 4), **kwargs)


@pytest.mark.parametrize(
    "latent",
    [
        torch.zeros(1, 4, 4, 4, device="meta"),
        torch.zeros(1, 4, 4, 4).to(torch.float8_e4m3fn),
        torch.zeros(1, 4, 4, 4).to(torch.float8_e5m2),
        torch.zeros(1, 4, 4, 4, dtype=torch.complex64),
        torch.zeros(1, 4, 4, 4, dtype=torch.bool),
        torch.zeros(1, 4, 4, 4).to_sparse(),
    ],
    ids=["meta", "float8_e4m3fn", "float8_e5m2", "complex", "bool", "sparse"],
)
def test_unusable_tensors_raise_our_error(latent):
    with pytest.raises(LatentUpscaleError):
        upscale(latent, (8, 8))


@pytest.mark.parametrize(
    "scale",
    [np.float32(1.5), np.float64(1.5), torch.tensor(1.5), torch.tensor(1.5, dtype=torch.float16)],
)
def test_numpy_and_torch_scalars_are_accepted_as_numbers(scale):
    latent = random_latent(1, 4, 8, 8)
    expected = upscale(latent, scale=1.5, method="bilinear")
    assert torch.equal(upscale(latent, scale=scale, method="bilinear"), expected)
    assert torch.equal(upscale(latent, scale=(scale, scale), method="bilinear"), expected)
    assert torch.equal(upscale(latent, (np.int64(12), torch.tensor(12)), method="bilinear"), expected)
    assert torch.equal(upscale(latent, torch.Size([12, 12]), method="bilinear"), expected)
    assert upscale(latent, scale=np.int32(2)).shape == (1, 4, 16, 16)


def test_valid_neural_options_and_path_weights_still_pass_for_interpolations(tmp_path):
    out = upscale(
        torch.zeros(1, 4, 4, 4), (8, 8), method="bilinear", neural=NeuralOptions(), weights=tmp_path / "x"
    )
    assert out.shape == (1, 4, 8, 8)


def test_upscale_bilinear_matches_a_direct_interpolate_exactly():
    # The checks add no numerical change: what the overhead row of the bench compares against.
    latent = random_latent(1, 4, 64, 64)
    expected = F.interpolate(latent, size=(128, 128), mode="bilinear", align_corners=False)
    assert torch.equal(upscale(latent, (128, 128), method="bilinear"), expected)


# --- the lean path of torch modes (upscale costs at most 10 % over F.interpolate) ------------------

CONVEX = [m for m in INTERPOLATIONS if get_method(m).convex]


def test_only_the_non_negative_weight_modes_are_marked_convex():
    # A new method may be marked convex too: the range test below then proves it on a checkerboard.
    assert {"nearest-exact", "nearest", "bilinear", "bilinear-antialiased", "area"} <= set(CONVEX)
    assert set(CONVEX).isdisjoint({"bicubic", "bicubic-antialiased", "lanczos", "bislerp"})  # they overshoot


@pytest.mark.parametrize("method", CONVEX)
@pytest.mark.parametrize("target", [(37, 23), (5, 3), (64, 64)])
def test_convex_methods_never_leave_the_input_range(method, target):
    latent = _checkerboard(16, torch.full((4,), -3.0), torch.full((4,), 7.0)) + random_latent(1, 4, 16, 16)
    out = upscale(latent, target, method=method)
    assert float(out.min()) >= float(latent.min()) - 1e-5
    assert float(out.max()) <= float(latent.max()) + 1e-5


#: The methods that are torch's own ``F.interpolate`` modes (the id, less "-antialiased", is the mode).
TORCH_MODE_METHODS = [
    m
    for m in INTERPOLATIONS
    if m.removesuffix("-antialiased") in ("nearest", "nearest-exact", "bilinear", "bicubic", "area")
]


def test_every_torch_mode_of_the_registry_is_compared_with_f_interpolate():
    assert len(TORCH_MODE_METHODS) == 7


@pytest.mark.parametrize("method", TORCH_MODE_METHODS)
@pytest.mark.parametrize("target", [(37, 23), (8, 6), (32, 32)])
def test_torch_modes_give_exactly_what_f_interpolate_gives(method, target):
    mode = method.removesuffix("-antialiased")
    kwargs = (
        {"align_corners": False, "antialias": method.endswith("antialiased")} if mode.startswith("bi") else {}
    )
    latent = random_latent(2, 4, 16, 12)
    assert torch.equal(
        upscale(latent, target, method=method), F.interpolate(latent, size=target, mode=mode, **kwargs)
    )


def test_a_torch_kernel_that_disagrees_with_f_interpolate_is_not_used(monkeypatch):
    import latent_upscale.resize_methods as resize_methods

    monkeypatch.setitem(resize_methods._KERNELS, ("bilinear", False), ("upsample_nearest2d", "nearest"))
    assert resize_methods._direct_call("bilinear", False) is None
    monkeypatch.setitem(resize_methods._KERNELS, ("bilinear", False), ("no_such_kernel", "linear"))
    assert resize_methods._direct_call("bilinear", False) is None
    latent = random_latent(1, 4, 8, 8)
    fallback = resize_methods.torch_mode("bilinear")
    assert torch.equal(fallback(latent, (13, 9)), F.interpolate(latent, size=(13, 9), mode="bilinear"))


def test_convex_methods_skip_the_output_check_only_when_the_input_leaves_headroom(monkeypatch):
    checked = []

    def spy(out, like, method_id):
        checked.append(method_id)
        return out, None

    monkeypatch.setattr(api, "check_output", spy)
    upscale(random_latent(1, 4, 8, 8), (16, 16), method="bilinear")
    upscale((random_latent(1, 4, 8, 8).clamp(-1, 1) * 60000).half(), (16, 16), method="area")
    assert checked == []
    upscale(random_latent(1, 4, 8, 8), (16, 16), method="bicubic")
    upscale(torch.full((1, 4, 8, 8), 1e30), (16, 16), method="bilinear")
    assert checked == ["bicubic", "bilinear"]


def test_area_shrinking_huge_float32_values_raises_instead_of_returning_inf():
    latent = torch.full((1, 1, 64, 64), 3e38)
    try:
        out = upscale(latent, (1, 1), method="area")
    except LatentUpscaleError as error:
        assert "NaN or infinite" in str(error)
    else:
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_max_magnitude_is_the_largest_absolute_value_and_nan_or_inf_when_not_finite(dtype):
    from latent_upscale.core import max_magnitude

    tensor = torch.tensor([[-5.0, 2.0], [3.0, 1.0]], dtype=dtype)
    assert max_magnitude(tensor) == 5.0
    assert max_magnitude(-tensor) == 5.0
    tensor[0, 1] = float("inf")
    assert max_magnitude(tensor) == float("inf")
    tensor[1, 1] = float("nan")
    assert max_magnitude(tensor) != max_magnitude(tensor)  # NaN


@pytest.mark.parametrize("method", [m for m in methods() if get_method(m).run_is_resize])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_the_tensor_only_fast_path_equals_the_detailed_call(method, dtype):
    latent = random_latent(2, 4, 9, 7, dtype=dtype) * 3
    if dtype == torch.float16:
        latent[0, 0, 4, 3] = 60000.0  # ringing near the half limit: the clamp path
    for target in ((13, 11), (9, 7), (5, 4)):
        fast = upscale(latent, target, method=method)
        detailed = upscale_detailed(latent, target, method=method).latent
        assert fast.dtype == dtype and torch.equal(fast, detailed)
    assert upscale(latent, (9, 7), method=method).data_ptr() != latent.data_ptr()  # a copy


def test_the_fast_path_checks_the_shape_a_resize_returns(monkeypatch):
    wrong = Method(
        id="wrong", label="w", advice="w", run=lambda *a: None, resize=lambda x, size: x, run_is_resize=True
    )
    monkeypatch.setattr(api, "get_method", lambda method_id: wrong)
    with pytest.raises(RuntimeError, match="returned shape"):
        upscale(random_latent(1, 4, 8, 8), (16, 16), method="wrong")


# --- the torch-mode fast path of upscale() (within a few per cent of F.interpolate) ---------------


def test_only_the_nearest_modes_are_marked_as_copying_input_values():
    copying = {m for m in INTERPOLATIONS if get_method(m).copies}
    assert copying == {"nearest", "nearest-exact"}
    latent = random_latent(1, 4, 9, 7)
    for method in copying:
        for target in ((13, 11), (4, 3), (9, 20)):
            out = upscale(latent, target, method=method)
            assert set(out.flatten().tolist()) <= set(latent.flatten().tolist())


@pytest.mark.parametrize("method", TORCH_MODE_METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_value_the_resize_would_drop_is_still_refused(method, dtype, bad):
    latent = torch.zeros(1, 4, 8, 8, dtype=dtype)
    latent[0, 1, 7, 7] = bad  # nearest 8 → 2 samples rows and columns 0 and 4 only: the value is dropped
    with pytest.raises(LatentUpscaleError, match="latent contains 1 NaN or infinite"):
        upscale(latent, (2, 2), method=method)


@pytest.mark.parametrize("method", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_values_whose_sum_overflows_are_copied_not_refused(method, dtype):
    big = torch.finfo(dtype).max / 2
    latent = torch.full((1, 4, 8, 8), big, dtype=dtype)  # the sum overflows: the exact check decides
    out = upscale(latent, (16, 16), method=method)
    assert out.dtype == dtype and torch.equal(out, torch.full((1, 4, 16, 16), big, dtype=dtype))


def test_the_fast_path_refuses_in_the_general_order():
    nan = torch.zeros(1, 4, 8, 8)
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(LatentUpscaleError, match="NaN"):  # the latent before the method
        upscale(nan, (16, 16), method="no-such-method")
    with pytest.raises(LatentUpscaleError, match="size"):  # the size before the method
        upscale(torch.zeros(1, 4, 8, 8), (0, 16), method="no-such-method")
    with pytest.raises(LatentUpscaleError, match="whole number"):  # True == 1, yet it is no size
        upscale(torch.zeros(1, 4, 8, 8), (True, 16), method="nearest")
    latent = random_latent(1, 4, 8, 8)  # a whole float is a size: the general path converts it
    by_float = upscale(latent, (16.0, 16), method="nearest")
    assert torch.equal(by_float, upscale(latent, (16, 16), method="nearest"))
    with pytest.raises(LatentUpscaleError, match="unknown method"):
        upscale(torch.zeros(1, 4, 8, 8), (16, 16), method="no-such-method")


@pytest.mark.parametrize("method", TORCH_MODE_METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_modes_on_float32_and_float64_latents_take_the_fast_path(monkeypatch, method, dtype):
    def general(*args, **kwargs):
        raise AssertionError("the general path ran")

    latent = random_latent(1, 4, 16, 12, dtype=dtype)
    expected = upscale_detailed(latent, (24, 30), method=method).latent
    monkeypatch.setattr(api, "_upscale", general)
    out = upscale(latent, (24, 30), method=method)
    assert out.dtype == dtype and torch.equal(out, expected)
    # Anything else is the general path's: a half latent, a scale, a family, the same size, a list.
    for call in (
        lambda: upscale(latent.half(), (24, 30), method=method),
        lambda: upscale(latent, scale=2.0, method=method),
        lambda: upscale(latent, (24, 30), method=method, family="sd1"),
        lambda: upscale(latent, (16, 12), method=method),
        lambda: upscale(latent, [24, 30], method=method),
    ):
        with pytest.raises(AssertionError, match="general path"):
            call()
