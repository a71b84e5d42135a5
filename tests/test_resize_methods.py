"""Behaviour of every registered resize method, and the checks `upscale()` makes on its input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from latent_upscale import LatentTypeError, LatentUpscaleError, methods, upscale, upscale_detailed
from latent_upscale.core import Method, UpscaleResult
from latent_upscale.resize_methods import bislerp, get_method, lanczos, register
from tests.helpers.latents import random_latent

INTERPOLATIONS = [m for m in methods() if not get_method(m).neural]
REQUIRED_IDS = [
    "nearest",
    "nearest-exact",
    "bilinear",
    "bilinear-antialiased",
    "bicubic",
    "bicubic-antialiased",
    "area",
    "bislerp",
    "lanczos",
]
TORCH_MODES = {
    "nearest": dict(mode="nearest"),
    "nearest-exact": dict(mode="nearest-exact"),
    "bilinear": dict(mode="bilinear", align_corners=False, antialias=False),
    "bilinear-antialiased": dict(mode="bilinear", align_corners=False, antialias=True),
    "bicubic": dict(mode="bicubic", align_corners=False, antialias=False),
    "bicubic-antialiased": dict(mode="bicubic", align_corners=False, antialias=True),
    "area": dict(mode="area"),
}
SIZES = [(32, 32), (24, 20), (27, 41), (9, 7), (16, 48), (5, 5), (1, 3)]


def test_registry_holds_every_required_method_id():
    assert set(REQUIRED_IDS) <= set(methods())
    assert "linear" not in methods() and "trilinear" not in methods()


def test_methods_returns_a_fresh_list_each_call():
    listed = methods()
    listed.append("bogus")
    assert "bogus" not in methods()


def test_registering_a_duplicate_id_fails():
    existing = get_method("bislerp")
    with pytest.raises(LatentUpscaleError, match="already registered"):
        register(Method(id="bislerp", label="x", advice="x", run=existing.run))


@pytest.mark.parametrize("method", INTERPOLATIONS)
@pytest.mark.parametrize("size", SIZES)
def test_output_has_exactly_the_requested_size(method, size):
    latent = random_latent(2, 4, 16, 16)
    assert upscale(latent, size, method=method).shape == (2, 4, *size)


@pytest.mark.parametrize("method", INTERPOLATIONS)
@pytest.mark.parametrize("channels", [4, 16, 3])
def test_any_channel_count_is_kept(method, channels):
    latent = random_latent(1, channels, 10, 12)
    assert upscale(latent, scale=1.7, method=method).shape == (1, channels, 17, 20)


@pytest.mark.parametrize("method", INTERPOLATIONS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_dtype_is_kept_and_half_precision_works_on_cpu(method, dtype):
    latent = random_latent(1, 4, 12, 12, dtype=dtype)
    out = upscale(latent, (18, 20), method=method)
    assert out.dtype == dtype
    reference = upscale(latent.float(), (18, 20), method=method)
    tolerance = {torch.float16: 1e-2, torch.bfloat16: 6e-2}.get(dtype, 1e-5)
    assert torch.allclose(out.float(), reference, atol=tolerance * 4, rtol=tolerance)


@pytest.mark.parametrize("method", INTERPOLATIONS)
def test_device_is_kept(method):
    latent = random_latent(1, 4, 8, 8)
    assert upscale(latent, (12, 12), method=method).device == latent.device
    if torch.cuda.is_available():  # pragma: no cover - CI has no GPU
        on_gpu = latent.cuda()
        assert upscale(on_gpu, (12, 12), method=method).device == on_gpu.device


@pytest.mark.parametrize("method", INTERPOLATIONS)
def test_same_size_returns_an_equal_tensor_that_is_a_copy(method):
    latent = random_latent(1, 4, 9, 13)
    out = upscale(latent, (9, 13), method=method)
    assert torch.equal(out, latent)
    out.add_(1)
    assert not torch.equal(out, latent)


@pytest.mark.parametrize("method", sorted(TORCH_MODES))
@pytest.mark.parametrize("size", SIZES)
def test_torch_modes_match_torch_interpolate(method, size):
    latent = random_latent(2, 4, 16, 16, seed=3)
    expected = F.interpolate(latent, size=size, **TORCH_MODES[method])
    assert torch.equal(upscale(latent, size, method=method), expected)


def test_webui_default_bilinear_is_bit_identical_to_the_host_call():
    # The host: torch.nn.functional.interpolate(init_latent, size=..., mode="bilinear")
    latent = random_latent(1, 4, 64, 48, seed=7)
    host = F.interpolate(latent, size=(96, 72), mode="bilinear")
    assert torch.equal(upscale(latent, (96, 72), method="bilinear"), host)


def _pillow_lanczos(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    image = Image.fromarray(plane.astype(np.float32), mode="F")
    return np.asarray(image.resize((size[1], size[0]), Image.Resampling.LANCZOS), dtype=np.float64)


@pytest.mark.parametrize("size", [(32, 32), (24, 20), (27, 41), (9, 7), (16, 48), (5, 5), (40, 11)])
def test_lanczos_matches_pillow_float_lanczos_including_borders(size):
    latent = random_latent(1, 4, 16, 16, seed=11) * 3
    ours = lanczos(latent.double(), size).numpy()
    for channel in range(4):
        reference = _pillow_lanczos(latent[0, channel].numpy(), size)
        value_range = float(latent[0, channel].max() - latent[0, channel].min())
        assert np.abs(ours[0, channel] - reference).max() <= 1e-3 * value_range


def _dense_pillow_matrix(n_in: int, n_out: int, kernel: str) -> torch.Tensor:
    """``[n_out, n_in]`` float64 weights by Pillow's ``precompute_coeffs`` rule, one dense row per
    output: the lanczos implementation before the banded one (commit 4bc6ab3), kept as the reference."""

    def lanczos3(x):
        return torch.where(x.abs() < 3.0, torch.sinc(x) * torch.sinc(x / 3.0), torch.zeros_like(x))

    fn, support = {"lanczos3": (lanczos3, 3.0), "triangle": (lambda x: (1.0 - x.abs()).clamp_min(0.0), 1.0)}[
        kernel
    ]
    scale = n_in / n_out
    filter_scale = max(scale, 1.0)
    support *= filter_scale
    centers = (torch.arange(n_out, dtype=torch.float64) + 0.5) * scale
    first = torch.trunc(centers - support + 0.5).clamp_min(0)
    last = torch.trunc(centers + support + 0.5).clamp_max(n_in)
    sources = torch.arange(n_in, dtype=torch.float64)
    inside = (sources[None, :] >= first[:, None]) & (sources[None, :] < last[:, None])
    weights = fn((sources[None, :] - centers[:, None] + 0.5) / filter_scale) * inside
    totals = weights.sum(dim=1, keepdim=True)
    return torch.where(totals != 0, weights / torch.where(totals != 0, totals, 1.0), weights)


def _dense_lanczos(latent: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    out = latent
    if size[1] != latent.shape[3]:
        out = out @ _dense_pillow_matrix(latent.shape[3], size[1], "lanczos3").to(latent).T
    if size[0] != latent.shape[2]:
        out = _dense_pillow_matrix(latent.shape[2], size[0], "lanczos3").to(latent) @ out
    return out


# Shapes whose axes span many blocks of the banded application, up and down, odd sizes and ratios.
_BANDED_CASES = [
    ((1, 4, 64, 64), (128, 128)),
    ((2, 4, 97, 131), (203, 75)),
    ((1, 3, 150, 41), (37, 300)),
    ((1, 16, 40, 200), (41, 33)),
    ((1, 1, 1, 257), (3, 512)),
    ((1, 2, 333, 5), (111, 17)),
]


@pytest.mark.parametrize(("shape", "size"), _BANDED_CASES)
def test_lanczos_banded_equals_the_dense_matrix_lanczos(shape, size):
    latent = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape))) * 2
    assert (lanczos(latent, size) - _dense_lanczos(latent, size)).abs().max() <= 1e-6
    double = latent.double()
    assert (lanczos(double, size) - _dense_lanczos(double, size)).abs().max() <= 1e-12


@pytest.mark.parametrize("kernel", ["lanczos3", "triangle"])
@pytest.mark.parametrize(
    ("n_in", "n_out"), [(64, 128), (131, 75), (41, 300), (300, 7), (1, 9), (9, 1), (5, 5)]
)
def test_filter_taps_are_the_dense_pillow_weights(kernel, n_in, n_out):
    from latent_upscale.resize_kernels.filters import filter_matrix

    dense = _dense_pillow_matrix(n_in, n_out, kernel)
    assert torch.allclose(filter_matrix(n_in, n_out, kernel), dense, rtol=0, atol=1e-15)


@pytest.mark.parametrize("resize", [lanczos, bislerp])
def test_kernels_give_strided_latents_the_same_result_as_contiguous_ones(resize):
    base = torch.randn(2, 6, 90, 80, generator=torch.Generator().manual_seed(5))
    strided = base.transpose(2, 3)[:, 1:5, 3:70, ::2]  # channels, rows and a step: not contiguous
    assert not strided.is_contiguous()
    for size in [(150, 91), (20, 13)]:
        assert torch.equal(resize(strided, size), resize(strided.contiguous(), size))


def test_lanczos_matches_pillow_float_lanczos_across_many_blocks():
    latent = random_latent(1, 2, 70, 90, seed=12) * 3
    size = (151, 41)
    ours = lanczos(latent.double(), size).numpy()
    for channel in range(2):
        reference = _pillow_lanczos(latent[0, channel].numpy(), size)
        value_range = float(latent[0, channel].max() - latent[0, channel].min())
        assert np.abs(ours[0, channel] - reference).max() <= 1e-3 * value_range


def test_lanczos_keeps_values_outside_the_input_range_no_clipping():
    # A step edge rings: a real float Lanczos overshoots, an 8-bit or clipped one cannot.
    latent = torch.zeros(1, 1, 1, 16)
    latent[..., 8:] = 1.0
    out = lanczos(latent, (1, 64))
    assert out.max() > 1.02 and out.min() < -0.02


def test_lanczos_shrinking_is_antialiased():
    # A pattern at the Nyquist limit averages out when shrunk by 4 instead of aliasing.
    checker = (torch.arange(64).view(1, -1) + torch.arange(64).view(-1, 1)) % 2
    latent = checker.float().view(1, 1, 64, 64) * 2 - 1
    out = lanczos(latent, (16, 16))
    assert out[..., 3:-3, 3:-3].abs().max() < 0.05


def test_bislerp_vector_lengths_are_the_bilinear_interpolation_of_source_lengths():
    latent = random_latent(2, 4, 11, 13, seed=5)
    out = bislerp(latent, (29, 31))
    expected = F.interpolate(latent.norm(dim=1, keepdim=True), size=(29, 31), mode="bilinear")
    assert torch.allclose(out.norm(dim=1, keepdim=True), expected, atol=1e-5)


def test_bislerp_keeps_lengths_where_bilinear_shrinks_them():
    latent = random_latent(1, 4, 16, 16, seed=9)
    source_length = float(latent.norm(dim=1).mean())
    bilinear_length = float(upscale(latent, (32, 32), method="bilinear").norm(dim=1).mean())
    bislerp_length = float(upscale(latent, (32, 32), method="bislerp").norm(dim=1).mean())
    assert bilinear_length < 0.9 * source_length
    assert abs(bislerp_length - source_length) < 0.05 * source_length


def test_bislerp_equals_bilinear_when_all_vectors_point_the_same_way():
    direction = torch.tensor([0.3, -1.2, 0.5, 0.8]).view(1, 4, 1, 1)
    magnitudes = torch.rand(1, 1, 10, 12, generator=torch.Generator().manual_seed(1)) + 0.5
    latent = direction * magnitudes
    expected = F.interpolate(latent, size=(23, 17), mode="bilinear")
    assert torch.allclose(bislerp(latent, (23, 17)), expected, atol=1e-5)


def test_bislerp_direction_moves_by_equal_angles_between_two_samples():
    # Two columns 90° apart; 4x enlarging puts samples at t = 0.125, 0.375, 0.625, 0.875 between them.
    latent = torch.zeros(1, 4, 1, 2)
    latent[0, 0, 0, 0] = 1.0
    latent[0, 1, 0, 1] = 1.0
    out = bislerp(latent, (1, 8))[0, :, 0, 2:6]
    angles = torch.atan2(out[1], out[0])
    expected = torch.tensor([0.125, 0.375, 0.625, 0.875]) * math.pi / 2
    assert torch.allclose(angles, expected, atol=1e-5)
    assert torch.allclose(out.norm(dim=0), torch.ones(4), atol=1e-6)


def test_bislerp_reproduces_source_samples_where_the_grid_aligns():
    # At 3x, output pixel 3k+1 sits exactly on source pixel k (half-pixel-centre convention).
    latent = random_latent(1, 4, 6, 5, seed=2)
    out = bislerp(latent, (18, 15))
    assert torch.allclose(out[..., 1::3, 1::3], latent, atol=1e-5)


def test_bislerp_opposite_vectors_fall_back_to_a_linear_blend_without_nan():
    latent = torch.zeros(1, 4, 1, 2)
    latent[0, 0, 0, 0], latent[0, 0, 0, 1] = 1.0, -1.0
    out = bislerp(latent, (1, 4))
    assert torch.isfinite(out).all()
    assert torch.allclose(out, F.interpolate(latent, size=(1, 4), mode="bilinear"), atol=1e-6)


def test_bislerp_zero_vectors_stay_finite():
    latent = torch.zeros(1, 4, 4, 4)
    latent[0, :, 0, 0] = 1.0
    out = bislerp(latent, (8, 8))
    assert torch.isfinite(out).all()


def test_bislerp_shrinking_keeps_lengths_of_the_triangle_filtered_source():
    latent = random_latent(1, 4, 24, 24, seed=4)
    out = bislerp(latent, (10, 10))
    expected = F.interpolate(latent.norm(dim=1, keepdim=True), size=(10, 10), mode="bilinear", antialias=True)
    assert torch.allclose(out.norm(dim=1, keepdim=True), expected, atol=1e-4)


# --- bislerp against its previous, per-channel implementation ----------------------------------
#
# The reference below is bislerp as it was at commit 9f698cf (unit vectors, norms and angles all
# computed on full [B, C, H, W] tensors). The scalar-weight rewrite must give the same latents.


def _reference_slerp(a, b, t, eps=1e-8):
    norm_a = a.norm(dim=1, keepdim=True)
    norm_b = b.norm(dim=1, keepdim=True)
    unit_a = a / norm_a.clamp_min(eps)
    unit_b = b / norm_b.clamp_min(eps)
    dot = (unit_a * unit_b).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = 2.0 * torch.atan2(
        (unit_a - unit_b).norm(dim=1, keepdim=True), (unit_a + unit_b).norm(dim=1, keepdim=True)
    )
    sin_omega = torch.sin(omega)
    safe_sin = sin_omega.clamp_min(1e-12)
    direction = (torch.sin((1.0 - t) * omega) * unit_a + torch.sin(t * omega) * unit_b) / safe_sin
    nlerp = (1.0 - t) * unit_a + t * unit_b
    direction = torch.where(sin_omega < 1e-4, nlerp, direction)
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(eps)
    result = direction * ((1.0 - t) * norm_a + t * norm_b)
    undefined = (dot < -1.0 + 1e-6) | (norm_a < eps) | (norm_b < eps)
    return torch.where(undefined, (1.0 - t) * a + t * b, result)


def _reference_axis(latent, n_out, dim):
    n_in = latent.shape[dim]
    if n_out == n_in:
        return latent
    if n_out < n_in:
        weights = _dense_pillow_matrix(n_in, n_out, "triangle").to(latent)
        moved = latent.movedim(dim, -1)
        norms = moved.norm(dim=1, keepdim=True)
        mean_dir = (moved / norms.clamp_min(1e-8)) @ weights.T
        mean_dir = mean_dir / mean_dir.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return (mean_dir * (norms @ weights.T)).movedim(-1, dim)
    pos = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp_min(0.0)
    low = pos.floor().long().clamp_max(n_in - 1)
    high = (low + 1).clamp_max(n_in - 1)
    shape = [1, 1, 1, 1]
    shape[dim] = n_out
    t = (pos - low).to(latent.dtype).view(shape)
    return _reference_slerp(latent.index_select(dim, low), latent.index_select(dim, high), t)


def reference_bislerp(latent, size):
    return _reference_axis(_reference_axis(latent, size[0], dim=2), size[1], dim=3)


def _near_parallel_latent(dtype):
    """Every pixel a small perturbation of one direction: angles of 1e-7 to 1e-2 radians."""
    generator = torch.Generator().manual_seed(21)
    direction = torch.tensor([0.6, -0.3, 0.9, 0.2], dtype=torch.float64).view(1, 4, 1, 1)
    lengths = torch.rand(2, 1, 9, 11, generator=generator, dtype=torch.float64) * 3 + 0.1
    wobble = torch.randn(2, 4, 9, 11, generator=generator, dtype=torch.float64)
    spread = 10.0 ** torch.empty(2, 1, 9, 11, dtype=torch.float64).uniform_(-7, -2, generator=generator)
    return ((direction + spread * wobble) * lengths).to(dtype)


def _opposite_latent(dtype):
    """Neighbours of unequal lengths exactly opposite, within 1e-5 rad of it (both a plain lerp)
    and 3e-3 to 1e-1 rad from it (spherical), column by column and row by row."""
    generator = torch.Generator().manual_seed(22)
    direction = torch.randn(1, 4, 1, 1, generator=generator, dtype=torch.float64)
    direction /= direction.norm()
    signs = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(6)[None, None, None, :]
    signs = signs * torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(4)[None, None, :7, None]
    lengths = torch.rand(1, 1, 7, 12, generator=generator, dtype=torch.float64) + 0.5
    gaps = torch.tensor([0.0, 1e-5, 3e-3, 1e-2, 3e-2, 1e-1], dtype=torch.float64).repeat(2)
    wobble = torch.randn(1, 4, 7, 12, generator=generator, dtype=torch.float64)
    wobble -= (wobble * direction).sum(dim=1, keepdim=True) * direction  # perpendicular
    wobble /= wobble.norm(dim=1, keepdim=True)
    latent = (direction * signs + gaps * wobble) * lengths
    return latent.to(dtype)


def _zero_latent(dtype):
    """Random vectors with zero vectors scattered among them (and a whole zero row)."""
    latent = random_latent(1, 4, 8, 9, seed=23).to(dtype)
    latent[:, :, 2, :] = 0
    latent[:, :, ::3, 1::4] = 0
    return latent


BISLERP_CASES = {
    "random": lambda dtype: random_latent(2, 4, 13, 17, seed=24).to(dtype) * 2,
    "random 16 channels": lambda dtype: random_latent(1, 16, 10, 9, seed=25).to(dtype),
    "near parallel": _near_parallel_latent,
    "opposite": _opposite_latent,
    "zero vectors": _zero_latent,
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", sorted(BISLERP_CASES))
@pytest.mark.parametrize("size", [(31, 40), (20, 24), (5, 6), (16, 33), (40, 7)])
def test_bislerp_matches_its_previous_per_channel_implementation(case, dtype, size):
    latent = BISLERP_CASES[case](dtype)
    ours = bislerp(latent, size)
    expected = reference_bislerp(latent, size)
    assert ours.dtype == dtype and ours.shape == expected.shape
    assert torch.isfinite(ours).all()
    tolerance = 1e-4 if dtype == torch.float32 else 1e-10
    assert (ours - expected).abs().max() <= tolerance * max(1.0, float(expected.abs().max()))


# Shapes for bislerp's row blocks: many blocks (over 3 × 2**18 output pixels), blocks whose rows
# all sit on the clamped bottom border, a batch, rows kept or shrunk while the columns grow.
_BISLERP_BLOCK_CASES = [
    ((1, 4, 20, 30), (1030, 800)),
    ((2, 4, 3, 5), (50, 9)),
    ((1, 4, 1, 6), (7, 11)),
    ((3, 16, 5, 6), (7, 6)),
    ((1, 4, 9, 9), (9, 20)),
    ((1, 4, 30, 9), (12, 20)),
]


@pytest.mark.parametrize(("shape", "size"), _BISLERP_BLOCK_CASES)
def test_bislerp_in_row_blocks_equals_the_whole_image_reference(shape, size):
    latent = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=torch.float64)
    ours = bislerp(latent, size)
    expected = reference_bislerp(latent, size)
    assert ours.shape == expected.shape
    assert (ours - expected).abs().max() <= 1e-10 * max(1.0, float(expected.abs().max()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gap", [3e-3, 1e-2, 1e-1])
def test_bislerp_nearly_opposite_vectors_turn_by_equal_angles_with_linear_lengths(gap, dtype):
    # Two columns at π - gap, lengths 2 and 0.5; 4x enlarging samples t = 1/8, 3/8, 5/8, 7/8.
    # Angles taken from a dot product lose this precision; the output must not.
    omega = math.pi - gap
    latent = torch.zeros(1, 4, 1, 2, dtype=dtype)
    latent[0, 0, 0, 0] = 2.0
    latent[0, 0, 0, 1], latent[0, 1, 0, 1] = 0.5 * math.cos(omega), 0.5 * math.sin(omega)
    out = bislerp(latent, (1, 8))[0, :, 0, 2:6].double()
    t = torch.tensor([0.125, 0.375, 0.625, 0.875], dtype=torch.float64)
    tolerance = 5e-5 if dtype == torch.float32 else 1e-12  # float32 rounds the input angle to ~3e-5
    assert torch.allclose(torch.atan2(out[1], out[0]), t * omega, atol=tolerance, rtol=0)
    assert torch.allclose(out.norm(dim=0), 2.0 * (1 - t) + 0.5 * t, atol=tolerance, rtol=0)
    assert torch.all(out[2:] == 0)


# --- property tests -----------------------------------------------------------------------------

dims = st.integers(min_value=1, max_value=24)
dtypes = st.sampled_from([torch.float32, torch.float16, torch.bfloat16])


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(INTERPOLATIONS),
    batch=st.integers(1, 3),
    channels=st.sampled_from([1, 4, 16]),
    height=dims,
    width=dims,
    out_height=st.integers(1, 40),
    out_width=st.integers(1, 40),
    dtype=dtypes,
)
def test_any_shape_ratio_dtype_gives_a_finite_latent_of_the_exact_size(
    method, batch, channels, height, width, out_height, out_width, dtype
):
    latent = random_latent(batch, channels, height, width, dtype=dtype, seed=height * 31 + width)
    out = upscale(latent, (out_height, out_width), method=method)
    assert out.shape == (batch, channels, out_height, out_width)
    assert out.dtype == dtype
    assert torch.isfinite(out).all()


@settings(max_examples=40, deadline=None)
@given(height=dims, width=dims, scale_h=st.floats(0.3, 3.0), scale_w=st.floats(0.3, 3.0))
def test_scale_rounds_each_axis_to_the_nearest_pixel(height, width, scale_h, scale_w):
    latent = random_latent(1, 4, height, width)
    out = upscale(latent, scale=(scale_h, scale_w), method="nearest-exact")
    assert out.shape[-2:] == (max(1, round(height * scale_h)), max(1, round(width * scale_w)))


@settings(max_examples=40, deadline=None)
@given(height=st.integers(2, 16), width=st.integers(2, 16), factor=st.floats(1.0, 3.0))
def test_bislerp_lengths_property_holds_for_any_enlargement(height, width, factor):
    latent = random_latent(1, 4, height, width, seed=height + 100 * width)
    size = (max(height, round(height * factor)), max(width, round(width * factor)))
    expected = F.interpolate(latent.norm(dim=1, keepdim=True), size=size, mode="bilinear")
    assert torch.allclose(bislerp(latent, size).norm(dim=1, keepdim=True), expected, atol=2e-5)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 8, 8), (1, 1, 1, 4, 8, 8), (8,)])
def test_rejects_latents_that_are_neither_4d_nor_5d(shape):
    with pytest.raises(LatentUpscaleError, match=r"4-D \[batch, channels, height, width\]"):
        upscale(torch.zeros(shape), (4, 4))


def test_rejects_integer_latents_with_a_type_error():
    with pytest.raises(TypeError, match="floating point"):
        upscale(torch.zeros(1, 4, 8, 8, dtype=torch.int64), (4, 4))


def test_rejects_non_tensors_with_a_type_error():
    with pytest.raises(LatentTypeError, match=r"torch\.Tensor"):
        upscale(np.zeros((1, 4, 8, 8)), (4, 4))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_rejects_nan_and_inf_saying_so(bad):
    latent = torch.zeros(1, 4, 8, 8)
    latent[0, 2, 3, 3] = bad
    with pytest.raises(LatentUpscaleError, match="NaN or infinite"):
        upscale(latent, (16, 16))


@pytest.mark.parametrize("size", [(0, 8), (8, -1), (8.5, 8), ("8", 8), (8,), 8])
def test_rejects_zero_negative_and_malformed_sizes(size):
    with pytest.raises(LatentUpscaleError, match="size"):
        upscale(torch.zeros(1, 4, 8, 8), size)


@pytest.mark.parametrize("scale", [0, -1.5, float("nan"), float("inf"), "2"])
def test_rejects_bad_scales(scale):
    with pytest.raises(LatentUpscaleError, match="scale"):
        upscale(torch.zeros(1, 4, 8, 8), scale=scale)


def test_requires_exactly_one_of_size_and_scale():
    latent = torch.zeros(1, 4, 8, 8)
    with pytest.raises(LatentUpscaleError, match="exactly one"):
        upscale(latent)
    with pytest.raises(LatentUpscaleError, match="exactly one"):
        upscale(latent, (16, 16), scale=2.0)


def test_unknown_method_error_lists_the_known_ids():
    with pytest.raises(LatentUpscaleError) as caught:
        upscale(torch.zeros(1, 4, 8, 8), (16, 16), method="bilnear")
    message = str(caught.value)
    assert "'bilnear'" in message
    assert all(method_id in message for method_id in methods())


@pytest.mark.parametrize("name", ["linear", "trilinear"])
def test_linear_and_trilinear_are_refused_with_the_reason(name):
    with pytest.raises(LatentUpscaleError, match="3-D/5-D"):
        upscale(torch.zeros(1, 4, 8, 8), (16, 16), method=name)


def test_unknown_family_and_latent_space_are_refused_even_for_interpolation():
    latent = torch.zeros(1, 4, 8, 8)
    with pytest.raises(LatentUpscaleError, match="family"):
        upscale(latent, (16, 16), method="bicubic", family="sd15")
    with pytest.raises(LatentUpscaleError, match="latent space"):
        upscale(latent, (16, 16), method="bicubic", latent_space="model")


def test_a_method_returning_the_wrong_shape_is_caught(monkeypatch):
    import latent_upscale.api as api

    broken = Method(
        id="broken",
        label="b",
        advice="b",
        run=lambda latent, size, request: UpscaleResult(latent=latent, method="broken"),
    )
    monkeypatch.setattr(api, "get_method", lambda method_id: broken)
    with pytest.raises(RuntimeError, match="returned shape"):
        upscale(torch.zeros(1, 4, 8, 8), (16, 16), method="broken")


def test_detailed_result_names_the_method_and_the_target():
    result = upscale_detailed(torch.zeros(1, 4, 8, 8), (12, 16), method="lanczos")
    assert result.method == "lanczos"
    assert result.steps == ("lanczos → 12x16",)
    assert result.fallback is None
