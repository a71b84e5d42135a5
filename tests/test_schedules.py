"""Noise schedules: the sigma table, the registry, the beta distribution's inverse CDF, the img2img step
arithmetic and device hygiene. Each schedule's own contract and published values are in
``test_schedule_contract.py``; parameter checks, limits and repeated levels in ``test_schedule_bounds.py``."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import (
    AUTOMATIC,
    SigmaTable,
    beta_ppf,
    build_sigmas,
    get_schedule,
    img2img_sigmas,
    img2img_steps,
    registered_schedules,
    regularized_incomplete_beta,
    schedule_ids,
    sd_sigma_table,
)
from tests.helpers import schedules as ref
from tests.helpers.schedule_contract import DeviceSpy

EXPECTED_IDS = [
    "automatic",
    "karras",
    "exponential",
    "polyexponential",
    "uniform",
    "simple",
    "normal",
    "sgm_uniform",
    "ddim_uniform",
    "beta",
    "kl_optimal",
    "align_your_steps",
    "linear_quadratic",
]


def as_array(sigmas: torch.Tensor) -> np.ndarray:
    return sigmas.double().numpy()


# --- the sigma table -----------------------------------------------------------------------------


def test_sd_table_equals_the_ldm_scaled_linear_table(table, ldm_table):
    assert len(table) == 1000
    np.testing.assert_allclose(as_array(table.sigmas), ldm_table, rtol=1e-6)
    # Independent float64 endpoints; float32 ᾱ (as the hosts keep it) shifts sigma_min by ~1e-5.
    assert table.sigma_max == pytest.approx(ref.SD_SIGMA_MAX_FLOAT64, rel=1e-6)
    assert table.sigma_min == pytest.approx(ref.SD_SIGMA_MIN_FLOAT64, rel=3e-5)


def test_sd_table_is_shared_by_sd1_sd2_and_sdxl_and_other_families_are_refused():
    assert torch.equal(sd_sigma_table("sd1").sigmas, sd_sigma_table("sdxl").sigmas)
    assert torch.equal(sd_sigma_table("sd1").sigmas, sd_sigma_table("sd2").sigmas)
    with pytest.raises(LatentUpscaleError, match=r"'flux'.*sd1, sd2, sdxl"):
        sd_sigma_table("flux")


def test_table_is_a_cpu_float32_copy_that_callers_cannot_modify(table):
    assert table.sigmas.dtype == torch.float32 and table.sigmas.device.type == "cpu"
    copy = table.sigmas
    copy[0] = 123.0
    assert table.sigmas[0] != 123.0


def test_t_to_sigma_interpolates_log_sigma_between_table_entries(table, ldm_table):
    timesteps = np.array([0.0, 0.25, 1.5, 17.3, 500.0, 998.9, 999.0])
    np.testing.assert_allclose(
        as_array(table.t_to_sigma(torch.tensor(timesteps))), ref.sigma_at(ldm_table, timesteps), rtol=2e-6
    )


def test_sigma_to_t_inverts_t_to_sigma_and_hits_the_table_ends_exactly(table):
    timesteps = torch.tensor([0.0, 0.5, 3.25, 250.75, 998.5, 999.0])
    torch.testing.assert_close(table.sigma_to_t(table.t_to_sigma(timesteps)), timesteps, atol=2e-3, rtol=0)
    assert float(table.sigma_to_t(table.sigma_max)) == 999.0
    assert float(table.sigma_to_t(table.sigma_min)) == 0.0


def test_out_of_range_timesteps_and_sigmas_are_clamped_to_the_table(table):
    assert float(table.t_to_sigma(-5.0)) == pytest.approx(table.sigma_min)
    assert float(table.t_to_sigma(5000.0)) == pytest.approx(table.sigma_max)
    assert float(table.sigma_to_t(1e-4)) == 0.0
    assert float(table.sigma_to_t(1e4)) == 999.0


def test_sigma_to_t_keeps_the_input_shape(table):
    assert table.sigma_to_t(torch.ones(2, 3)).shape == (2, 3)
    assert table.sigma_to_t(1.0).shape == ()


def test_get_sigmas_is_k_diffusions_default_discretisation(table, ldm_table):
    for n in (1, 2, 10, 37):
        np.testing.assert_allclose(as_array(table.get_sigmas(n)), ref.normal(n, ldm_table), rtol=2e-6)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0], "at least 2"),
        ([[1.0, 2.0]], "1-D"),
        ([2.0, 1.0], "strictly ascending"),
        ([1.0, 1.0], "strictly ascending"),
        ([0.0, 1.0], "positive"),
        ([1.0, float("nan")], "finite"),
        (["a", "b"], "numbers"),
    ],
)
def test_invalid_tables_are_refused_with_the_reason(values, message):
    with pytest.raises(LatentUpscaleError, match=message):
        SigmaTable(values)


def test_betas_and_alphas_cumprod_outside_zero_one_are_refused():
    with pytest.raises(LatentUpscaleError, match="betas"):
        SigmaTable.from_betas([0.5, 1.5])
    with pytest.raises(LatentUpscaleError, match="alphas_cumprod"):
        SigmaTable.from_alphas_cumprod([1.0, 0.5])


def test_from_model_wrap_reads_an_a1111_compvis_denoiser(table):
    sigmas = table.sigmas.double()  # a float64 host table: read back as CPU float32
    wrap = SimpleNamespace(sigmas=sigmas, log_sigmas=sigmas.log())
    read = SigmaTable.from_model_wrap(wrap)
    assert read.sigmas.dtype == torch.float32 and read.sigmas.device.type == "cpu"
    assert torch.equal(read.sigmas, table.sigmas)
    # The host's own log table is used (here float64 logs rounded to float32: equal to ~1 ulp).
    torch.testing.assert_close(read.log_sigmas, sigmas.log().float(), rtol=0, atol=0)
    torch.testing.assert_close(
        build_sigmas("normal", 20, read), build_sigmas("normal", 20, table), rtol=1e-6, atol=0
    )


def test_from_model_wrap_reads_forge_without_touching_its_broken_sigma_min(table):
    class Predictor:
        def __init__(self, sigmas):
            self.sigmas = sigmas

        @property
        def sigma_min(self):  # a tensor property on Forge's SD predictors ...
            return self.sigmas[0]

    class ForgeScheduleLinker:
        def __init__(self, predictor):
            self.predictor = predictor

        @property
        def sigmas(self):
            return self.predictor.sigmas

        @property
        def log_sigmas(self):
            return self.predictor.sigmas.log()

        @property
        def sigma_min(self):  # ... which the linker calls, so reading it raises TypeError
            return self.predictor.sigma_min()

    linker = ForgeScheduleLinker(Predictor(table.sigmas))
    with pytest.raises(TypeError):
        _ = linker.sigma_min
    assert torch.equal(SigmaTable.from_model_wrap(linker).sigmas, table.sigmas)
    # A bare object holding only the predictor works too.
    assert torch.equal(
        SigmaTable.from_model_wrap(SimpleNamespace(predictor=Predictor(table.sigmas))).sigmas, table.sigmas
    )


def test_from_model_wrap_without_a_table_names_what_it_looked_for():
    with pytest.raises(LatentUpscaleError, match=r"\.sigmas.*predictor\.sigmas"):
        SigmaTable.from_model_wrap(object())


# --- the registry --------------------------------------------------------------------------------


def test_registry_has_exactly_the_expected_ids_in_display_order_automatic_first():
    assert schedule_ids() == EXPECTED_IDS


def test_labels_are_unique():
    labels = [schedule.label for schedule in registered_schedules()]
    assert len(set(labels)) == len(labels)


def test_only_automatic_leaves_the_host_schedule_alone():
    assert [s.id for s in registered_schedules() if not s.overrides_host] == [AUTOMATIC]


def test_unknown_schedule_id_lists_the_known_ids(table):
    with pytest.raises(LatentUpscaleError, match=r"'karas'.*karras.*linear_quadratic"):
        get_schedule("karas")
    with pytest.raises(LatentUpscaleError, match="unknown schedule"):
        build_sigmas("karas", 10, table)


# --- the beta schedule and its inverse CDF --------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "beta", "ppf"),
    [
        (1.0, 1.0, lambda q: q),
        (3.0, 1.0, lambda q: q ** (1 / 3)),
        (1.0, 0.4, lambda q: 1 - (1 - q) ** (1 / 0.4)),
        (0.5, 0.5, lambda q: math.sin(math.pi * q / 2) ** 2),  # arcsine distribution
    ],
)
def test_beta_ppf_matches_closed_form_quantiles(alpha, beta, ppf):
    for q in (1e-9, 1e-4, 0.01, 0.2, 0.5, 0.77, 0.999, 1 - 1e-7):
        assert beta_ppf(q, alpha, beta) == pytest.approx(ppf(q), rel=1e-9, abs=1e-12), q


def test_beta_ppf_inverts_the_beta_2_2_cdf():
    for q in np.linspace(0.001, 0.999, 37):
        x = beta_ppf(float(q), 2.0, 2.0)
        assert 3 * x**2 - 2 * x**3 == pytest.approx(q, abs=1e-12)


def test_incomplete_beta_matches_closed_forms():
    for x in (1e-6, 0.1, 0.5, 0.9, 1 - 1e-6):
        assert regularized_incomplete_beta(x, 2.0, 2.0) == pytest.approx(3 * x**2 - 2 * x**3, abs=1e-14)
        assert regularized_incomplete_beta(x, 0.5, 0.5) == pytest.approx(
            2 / math.pi * math.asin(math.sqrt(x)), abs=1e-13
        )
    assert regularized_incomplete_beta(0.0, 0.6, 0.6) == 0.0
    assert regularized_incomplete_beta(1.0, 0.6, 0.6) == 1.0


def test_beta_ppf_agrees_with_scipy_to_1e_9():
    stats = pytest.importorskip("scipy.stats")
    for alpha in (0.05, 0.3, 0.6, 1.7, 12.0, 50.0):
        for beta in (0.05, 0.6, 2.5, 50.0):
            for q in (1e-6, 0.01, 0.1, 0.35, 0.5, 0.8, 0.99, 1 - 1e-6):
                expected = float(stats.beta.ppf(q, alpha, beta))
                assert beta_ppf(q, alpha, beta) == pytest.approx(expected, rel=1e-9, abs=1e-15), (
                    alpha,
                    beta,
                    q,
                )


def test_beta_ppf_refuses_invalid_inputs():
    with pytest.raises(LatentUpscaleError, match="quantile"):
        beta_ppf(1.5, 0.6, 0.6)
    with pytest.raises(LatentUpscaleError, match="alpha"):
        beta_ppf(0.5, 0.0, 0.6)


# --- img2img -------------------------------------------------------------------------------------

DENOISE_GRID = (0.01, 0.05, 0.1, 0.25, 0.4, 0.5, 0.75, 0.9, 0.999, 1.0)


@pytest.mark.parametrize("schedule_id", ["karras", "ddim_uniform", "align_your_steps"])
def test_with_fix_steps_img2img_samples_exactly_the_requested_steps(schedule_id, table):
    for steps in (1, 2, 3, 7, 20, 30, 61, 150):
        for denoise in DENOISE_GRID:
            used = img2img_sigmas(schedule_id, steps, denoise, table, fix_steps=True)
            assert len(used) == steps + 1, (steps, denoise)
            assert used[-1].item() == 0.0


@pytest.mark.parametrize("schedule_id", ["karras", "ddim_uniform", "align_your_steps"])
def test_without_fix_steps_img2img_runs_int_denoise_times_steps_plus_1_sampler_steps(schedule_id, table):
    for steps in (1, 2, 3, 7, 20, 30, 61, 150):
        for denoise in DENOISE_GRID:
            used = img2img_sigmas(schedule_id, steps, denoise, table, fix_steps=False)
            assert len(used) - 1 == int(min(denoise, 0.999) * steps) + 1, (steps, denoise)


def test_img2img_step_counts_match_what_a_running_webui_showed(table):
    # latent_upscale/webui/HOST_SEAMS.md §10: on A1111 1.10.1, 4 steps at denoising 0.5 without the fix
    # ran 3 sampler steps.
    assert len(img2img_sigmas("karras", 4, 0.5, table, fix_steps=False)) - 1 == 3
    assert len(img2img_sigmas("karras", 30, 0.4, table, fix_steps=False)) - 1 == 13
    assert img2img_steps(30, 0.4, fix_steps=True) == (75, 29)
    assert img2img_steps(30, 0.4, fix_steps=False) == (30, 12)
    assert img2img_steps(20, 1.0, fix_steps=True) == (20, 19)  # int(20 / 0.999) = 20
    assert img2img_steps(1000, 1.0, fix_steps=True) == (1001, 999)


def test_img2img_samples_the_tail_of_the_longer_schedule(table):
    full_fixed = build_sigmas("exponential", 75, table)
    assert torch.equal(img2img_sigmas("exponential", 30, 0.4, table, fix_steps=True), full_fixed[-31:])
    full_plain = build_sigmas("exponential", 30, table)
    assert torch.equal(img2img_sigmas("exponential", 30, 0.4, table, fix_steps=False), full_plain[-14:])


def test_discarding_the_penultimate_sigma_asks_one_step_more_and_keeps_the_length(table):
    with_discard = img2img_sigmas("karras", 30, 0.4, table, fix_steps=True, discard_penultimate=True)
    longer = build_sigmas("karras", 76, table)
    assert len(with_discard) == 31
    assert torch.equal(with_discard, torch.cat([longer[:-2], longer[-1:]])[-31:])
    assert longer[-2].item() not in with_discard.tolist()


def test_img2img_passes_parameters_and_family_through(table):
    plain = img2img_sigmas("karras", 10, 0.5, table, fix_steps=True)
    bent = img2img_sigmas("karras", 10, 0.5, table, fix_steps=True, rho=3)
    assert not torch.equal(plain, bent)
    sd1 = img2img_sigmas("align_your_steps", 10, 0.5, table, fix_steps=True, family="sd1")
    sdxl = img2img_sigmas("align_your_steps", 10, 0.5, table, fix_steps=True, family="sdxl")
    assert not torch.equal(sd1, sdxl)


@pytest.mark.parametrize("denoise", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.5"])
def test_img2img_refuses_denoising_strengths_outside_0_1(denoise, table):
    with pytest.raises(LatentUpscaleError, match="denoising strength"):
        img2img_sigmas("karras", 10, denoise, table, fix_steps=True)


# --- devices -------------------------------------------------------------------------------------


def test_schedules_create_no_tensor_off_the_cpu_unless_asked(table, monkeypatch):
    def no_cuda(*args, **kwargs):
        raise AssertionError("CUDA was initialised")

    monkeypatch.setattr(torch.cuda, "_lazy_init", no_cuda)
    spy = DeviceSpy()
    with spy:
        for schedule_id in schedule_ids():
            build_sigmas(schedule_id, 12, table)
        img2img_sigmas("beta", 12, 0.3, table, fix_steps=True)
    assert spy.devices == {"cpu"}


def test_a_requested_device_gets_the_result_and_nothing_else_leaves_the_cpu(table):
    spy = DeviceSpy()
    with spy:
        for schedule_id in schedule_ids():
            sigmas = build_sigmas(schedule_id, 12, table, device="meta")
            assert sigmas.device.type == "meta" and sigmas.dtype == torch.float32
    assert spy.devices == {"cpu", "meta"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_host_table_is_read_on_the_cpu_and_results_stay_there(table):
    cuda_table = table.sigmas.cuda()
    wrap = SimpleNamespace(sigmas=cuda_table, log_sigmas=cuda_table.log())
    read = SigmaTable.from_model_wrap(wrap)
    for schedule_id in schedule_ids():
        sigmas = build_sigmas(schedule_id, 15, read)
        assert sigmas.device.type == "cpu"
        torch.testing.assert_close(sigmas, build_sigmas(schedule_id, 15, table), rtol=1e-6, atol=0)
        assert build_sigmas(schedule_id, 15, read, device="cuda").device.type == "cuda"


# --- figures -------------------------------------------------------------------------------------


def test_importing_the_schedules_and_figures_modules_does_not_import_matplotlib(fresh_imports):
    loaded = fresh_imports["schedules and figures"]  # tests/conftest.py: a fresh interpreter
    assert "latent_upscale.lab.demo.schedule_figures" in loaded
    assert not any(m.split(".")[0] == "matplotlib" for m in loaded)


def test_figures_are_written_as_png_files(tmp_path):
    pytest.importorskip("matplotlib")
    from latent_upscale.lab.demo.schedule_figures import plot_fixed_steps, plot_schedules

    for path in (
        plot_schedules(tmp_path / "all" / "schedules.png", steps=12),
        plot_fixed_steps(tmp_path / "fixed.png", schedule="beta", steps=12, denoise=0.4),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000


def test_the_demo_draws_both_schedule_figures(tmp_path):
    """The demo writes the README's schedules.png and fixed-steps.png (ADDING_A_SCHEDULE.md uses them)."""
    pytest.importorskip("matplotlib")
    from latent_upscale.lab.demo.grid import extra_figures

    figures = extra_figures(tmp_path)
    assert sorted(figures) == ["fixed_steps", "schedules"]
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in figures.values())
