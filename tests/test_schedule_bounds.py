"""Schedule inputs at and beyond their limits: every accepted parameter value gives strictly decreasing
sigmas down to 0 (repeated levels dropped and reported), parameters are checked in one place, step counts
are bounded before anything is allocated, and every bad input gets our error naming the option."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import (
    MAX_STEPS,
    build_sigmas,
    build_sigmas_detailed,
    check_schedule_params,
    get_schedule,
    img2img_sigmas,
    img2img_steps,
    registered_schedules,
    schedule_ids,
    sd_sigma_table,
)
from latent_upscale.schedules.build import drop_repeated_sigmas
from tests.helpers.cli import run_cli
from tests.helpers.schedule_contract import DeviceSpy, assert_strictly_decreasing_to_zero

# --- zero-length steps -------------------------------------------------------------


def test_beta_at_beta_0_05_drops_its_repeated_levels_and_says_so(table, caplog):
    # Before: 21 values starting with 10 equal ones; DPM++ 2M turns the zero-length steps into NaN.
    result = build_sigmas_detailed("beta", 20, table, alpha=0.6, beta=0.05)
    assert_strictly_decreasing_to_zero(result.sigmas, result)
    assert result.requested_steps == 20 and result.dropped > 0
    assert result.steps == 20 - result.dropped == result.sigmas.numel() - 1
    assert (
        result.note
        == f"beta gave {result.steps} distinct steps of 20 ({result.dropped} repeated sigmas dropped)"
    )
    with caplog.at_level(logging.WARNING, logger="latent_upscale.schedules"):
        sigmas = build_sigmas("beta", 20, table, alpha=0.6, beta=0.05)
    assert torch.equal(sigmas, result.sigmas)
    assert [r.levelno for r in caplog.records] == [logging.WARNING] and result.note in caplog.text


def test_the_levels_kept_are_the_schedule_functions_own(table):
    raw = get_schedule("beta").fn(20, table, alpha=0.6, beta=0.05)
    kept = build_sigmas("beta", 20, table, alpha=0.6, beta=0.05)
    assert set(kept.tolist()) == set(raw.tolist())


def test_without_repeats_the_result_is_the_schedule_function_output_unchanged(table):
    for schedule in registered_schedules():
        args = (table,) if schedule.needs_table else (table.sigma_min, table.sigma_max)
        result = build_sigmas_detailed(schedule.id, 30, table)
        assert result.dropped == 0 and result.note is None
        assert torch.equal(result.sigmas, schedule.fn(30, *args)), schedule.id


def test_drop_repeated_sigmas_keeps_each_level_only_below_every_earlier_one():
    sigmas = torch.tensor([3.0, 3.0, 2.0, 2.5, 1.0, 1.0, 0.0, 0.0])
    assert drop_repeated_sigmas(sigmas).tolist() == [3.0, 2.0, 1.0, 0.0]
    clean = torch.tensor([3.0, 2.0, 0.0])
    assert drop_repeated_sigmas(clean) is clean


@pytest.mark.parametrize(
    ("schedule_id", "params", "message"),
    [
        # rho 20 repeated sigma_min 7 times at 20 steps; the range now ends where that starts.
        ("polyexponential", {"rho": 20}, r"rho must lie in \[0.1, 2.5\], got 20"),
        # below ~0.4 the last level cancels to 0 in float32 at every step count.
        ("karras", {"rho": 0.1}, r"rho must lie in \[0.5, 20\], got 0.1"),
    ],
)
def test_parameters_that_repeat_levels_at_ordinary_step_counts_are_refused(
    schedule_id, params, message, table
):
    with pytest.raises(LatentUpscaleError, match=message):
        build_sigmas(schedule_id, 20, table, **params)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # Half the draws go to the schedules with parameters, where repeats can arise.
    choice=st.one_of(
        st.sampled_from([s.id for s in registered_schedules() if s.params]), st.sampled_from(schedule_ids())
    ),
    data=st.data(),
)
def test_every_accepted_parameter_value_and_step_count_gives_strictly_decreasing_sigmas_to_0(choice, data):
    # The beta schedule inverts its CDF in Python per step: cap its step count to keep the test quick.
    cap = 3000 if choice == "beta" else MAX_STEPS
    n = data.draw(st.one_of(st.integers(1, 300), st.integers(1, cap)), label="n")
    params = {
        spec.name: data.draw(st.floats(spec.minimum, spec.maximum), label=spec.name)
        for spec in get_schedule(choice).params
    }
    result = build_sigmas_detailed(choice, n, sd_sigma_table(), **params)
    assert_strictly_decreasing_to_zero(result.sigmas, (choice, n, params))
    assert result.sigmas.numel() == n + 1 - result.dropped
    assert (result.note is None) == (result.dropped == 0)


@pytest.mark.parametrize("schedule_id", [s for s in schedule_ids() if s != "beta"])
def test_the_longest_accepted_schedule_is_strictly_decreasing(schedule_id, table):
    specs = get_schedule(schedule_id).params
    for params in ({}, {s.name: s.minimum for s in specs}, {s.name: s.maximum for s in specs}):
        result = build_sigmas_detailed(schedule_id, MAX_STEPS, table, **params)
        assert_strictly_decreasing_to_zero(result.sigmas, (schedule_id, params))


# --- one parameter check ------------------------------------------------------------------------


def test_check_schedule_params_fills_defaults_and_converts_what_the_cli_api_and_infotext_pass():
    assert check_schedule_params("beta", {"alpha": "0.5"}) == {"alpha": 0.5, "beta": 0.6}
    assert check_schedule_params("beta", {"alpha": np.float32(0.5)}, fill_defaults=False) == {"alpha": 0.5}
    assert check_schedule_params("karras", {"rho": torch.tensor(5)}) == {"rho": 5.0}
    assert check_schedule_params("normal", {}) == {}
    assert type(check_schedule_params("karras", {"rho": np.int64(5)})["rho"]) is float


@pytest.mark.parametrize(
    ("schedule_id", "params", "message"),
    [
        ("karras", {"sigma": 1.0}, r"no parameter 'sigma'; accepted: rho"),
        ("normal", {"rho": 7.0}, r"no parameter 'rho'; accepted: none"),
        ("karras", {"rho": 0.0}, r"rho must lie in \[0.5, 20\], got 0"),
        ("karras", {"rho": 25}, r"rho must lie in \[0.5, 20\], got 25"),
        ("beta", {"alpha": -1}, r"alpha must lie in \[0.05, 50\]"),
        ("linear_quadratic", {"threshold_noise": 0.9}, r"threshold_noise must lie in \[0.001, 0.5\]"),
        ("karras", {"rho": "seven"}, r"finite number, got 'seven'"),
        ("karras", {"rho": True}, r"finite number, got True"),
        ("karras", {"rho": np.bool_(True)}, r"finite number, got "),
        ("karras", {"rho": float("nan")}, r"finite number, got nan"),
        ("karras", {"rho": 10**400}, r"finite number, got "),
        ("karras", {"rho": torch.tensor([5.0, 6.0])}, r"finite number, got "),
        ("karass", {}, r"unknown schedule 'karass'"),
    ],
)
def test_bad_parameters_are_refused_naming_the_value_and_what_is_accepted(
    schedule_id, params, message, table
):
    with pytest.raises(LatentUpscaleError, match=message):
        check_schedule_params(schedule_id, params)
    with pytest.raises(LatentUpscaleError, match=message):
        build_sigmas(schedule_id, 10, table, **params)


# --- numbers of steps, devices and scalars ----------------------------------------------------------


@pytest.mark.parametrize("steps", [0, -3, 2.5, 10.0, True, "10", None, torch.tensor([1, 2])])
def test_step_counts_must_be_whole_numbers_of_at_least_1_and_the_error_says_steps(steps, table):
    with pytest.raises(LatentUpscaleError, match=r"^steps must be (at least 1|a whole number)"):
        build_sigmas("karras", steps, table)


def test_numpy_and_torch_scalars_are_accepted_as_numbers(table):
    plain = build_sigmas("karras", 12, table, rho=5.0)
    for steps in (np.int64(12), np.int32(12), torch.tensor(12)):
        for rho in (np.float32(5.0), np.float64(5.0), torch.tensor(5.0), np.array(5.0)):
            assert torch.equal(build_sigmas("karras", steps, table, rho=rho), plain)
    expected = img2img_sigmas("karras", 20, 0.5, table, fix_steps=True)
    for denoise in (np.float32(0.5), np.float64(0.5), torch.tensor(0.5)):
        assert torch.equal(img2img_sigmas("karras", np.int64(20), denoise, table, fix_steps=True), expected)


def test_step_counts_above_the_documented_limit_are_refused_before_any_tensor_is_made(table):
    assert len(build_sigmas("karras", MAX_STEPS, table)) == MAX_STEPS + 1
    spy = DeviceSpy()
    with spy, pytest.raises(LatentUpscaleError, match=rf"^steps must be at most {MAX_STEPS}"):
        build_sigmas("karras", 1_000_000_000, table)
    assert spy.calls == []


@pytest.mark.parametrize("denoise", [1e-9, 5e-324])
def test_a_tiny_denoising_strength_is_refused_before_any_tensor_is_made(denoise, table):
    # 10 steps at 1e-9 with img2img_fix_steps would be a schedule of 10^10 steps.
    spy = DeviceSpy()
    with spy, pytest.raises(LatentUpscaleError, match=r"over the limit of 100000; use a denoising strength"):
        img2img_sigmas("karras", 10, denoise, table, fix_steps=True)
    assert spy.calls == []
    # Without the fix the schedule has `steps` steps, whatever the strength.
    assert img2img_steps(10, denoise, fix_steps=False) == (10, 0)


def test_the_webuis_longest_legitimate_schedule_is_far_below_the_limit(table):
    # Steps slider maximum 150, denoising strength slider step 0.01, img2img_fix_steps on.
    assert img2img_steps(150, 0.01, fix_steps=True)[0] == 15000 < MAX_STEPS
    assert len(img2img_sigmas("beta", 150, 0.01, table, fix_steps=True)) == 151


def test_discarding_the_penultimate_sigma_cannot_step_over_the_limit(table):
    total, _ = img2img_steps(1000, 0.01, fix_steps=True)
    assert total == MAX_STEPS
    assert len(img2img_sigmas("karras", 1000, 0.01, table, fix_steps=True)) == 1001
    with pytest.raises(LatentUpscaleError, match="over the limit"):
        img2img_sigmas("karras", 1000, 0.01, table, fix_steps=True, discard_penultimate=True)


@pytest.mark.parametrize("device", ["banana", "cuda:x", 2.5, ["cpu"], object()])
def test_a_device_torch_cannot_read_is_our_error_before_any_work(device, table):
    spy = DeviceSpy()
    with spy, pytest.raises(LatentUpscaleError, match=r"device must be a torch device such as 'cpu'"):
        build_sigmas("karras", 10, table, device=device)
    assert set(spy.calls) <= {"device"}  # only the attempt to read it
    with pytest.raises(LatentUpscaleError, match="device must be"):
        img2img_sigmas("karras", 10, 0.5, table, fix_steps=True, device=device)
    with pytest.raises(LatentUpscaleError, match="device must be"):
        get_schedule("karras").fn(10, 0.03, 14.6, device=device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_a_device_this_torch_lacks_is_our_error(table):
    with pytest.raises(LatentUpscaleError, match=r"device 'cuda' is not available here"):
        build_sigmas("karras", 10, table, device="cuda")


def test_devices_given_as_torch_devices_or_names_are_accepted(table):
    assert build_sigmas("karras", 10, table, device=torch.device("meta")).device.type == "meta"
    assert build_sigmas("karras", 10, table, device="cpu").device.type == "cpu"


# --- the CLI names the option -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "steps must be at least 1"),
        (["--steps", "1000000000"], "steps must be at most 100000"),
        (["--steps", "10", "--denoise", "1e-9"], "over the limit of 100000"),
    ],
)
def test_cli_sigmas_refuses_step_counts_naming_the_option_and_the_limit(capsys, args, message):
    run = run_cli(capsys, "sigmas", "--schedule", "karras", *args)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err
    assert "n must" not in run.err
