"""One test class per registered schedule, each inheriting the shared contract
(:class:`tests.helpers.schedule_contract.ScheduleContract`) and adding its exact published values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import build_sigmas, schedule_ids
from tests.helpers import schedules as ref
from tests.helpers.schedule_contract import ScheduleContract, as_array


def test_every_registered_schedule_has_a_contract_test_class():
    tested = [cls.schedule_id for cls in ScheduleContract.__subclasses__()]
    untested = sorted(set(schedule_ids()) - set(tested))
    assert not untested, (
        f"schedules without a contract test class: {untested}; add a ScheduleContract subclass here "
        "(latent_upscale/schedules/ADDING_A_SCHEDULE.md, step 3)"
    )
    assert sorted(tested) == sorted(schedule_ids())
    assert len(set(tested)) == len(tested)


class TestAutomatic(ScheduleContract):
    schedule_id = "automatic"

    def reference(self, n, table, ldm_table):
        return ref.normal(n, ldm_table)


class TestUniform(ScheduleContract):
    schedule_id = "uniform"

    def reference(self, n, table, ldm_table):
        return ref.normal(n, ldm_table)


class TestKarras(ScheduleContract):
    schedule_id = "karras"
    reference_params = ({}, {"rho": 3.0})
    rtol = 2e-5

    def reference(self, n, table, ldm_table, rho=7.0):
        return ref.karras(n, table.sigma_min, table.sigma_max, rho)


class TestExponential(ScheduleContract):
    schedule_id = "exponential"
    rtol = 2e-5

    def reference(self, n, table, ldm_table):
        return ref.exponential(n, table.sigma_min, table.sigma_max)


class TestPolyexponential(ScheduleContract):
    schedule_id = "polyexponential"
    reference_params = ({}, {"rho": 2.0})
    rtol = 2e-5

    def reference(self, n, table, ldm_table, rho=1.0):
        if rho == 1.0:  # rho 1 is the exponential schedule
            return ref.exponential(n, table.sigma_min, table.sigma_max)
        return ref.polyexponential(n, table.sigma_min, table.sigma_max, rho)


class TestKlOptimal(ScheduleContract):
    schedule_id = "kl_optimal"
    rtol = 2e-5

    def reference(self, n, table, ldm_table):
        return ref.kl_optimal(n, table.sigma_min, table.sigma_max)


class TestSimple(ScheduleContract):
    schedule_id = "simple"

    def reference(self, n, table, ldm_table):
        return ref.simple(n, ldm_table)

    def test_ten_steps_take_table_entries_999_899_and_so_on_exactly(self, table):
        simple = build_sigmas("simple", 10, table)
        assert simple.tolist() == [*table.sigmas[[999 - 100 * i for i in range(10)]].tolist(), 0.0]

    def test_beyond_the_table_length_walks_the_same_span_without_repeats(self, table):
        sigmas = build_sigmas("simple", 1500, table)
        assert sigmas[0].item() == pytest.approx(table.sigma_max, rel=1e-6)
        assert sigmas[-2].item() == pytest.approx(table.sigma_min, rel=1e-6)
        assert torch.equal(build_sigmas("simple", 1000, table)[:-1], table.sigmas.flip(0))


class TestNormal(ScheduleContract):
    schedule_id = "normal"

    def reference(self, n, table, ldm_table):
        return ref.normal(n, ldm_table)

    def test_ten_steps_are_timesteps_999_888_and_so_on(self, table):
        normal = build_sigmas("normal", 10, table)
        torch.testing.assert_close(
            normal[:-1], table.t_to_sigma(torch.tensor([999 - 111.0 * i for i in range(10)]))
        )


class TestSgmUniform(ScheduleContract):
    schedule_id = "sgm_uniform"

    def reference(self, n, table, ldm_table):
        return ref.sgm_uniform(n, ldm_table)

    def test_ten_steps_are_timesteps_999_899_1_and_so_on(self, table):
        sgm = build_sigmas("sgm_uniform", 10, table)
        torch.testing.assert_close(
            sgm[:-1], table.t_to_sigma(torch.tensor([999 - 99.9 * i for i in range(10)]))
        )


class TestDdimUniform(ScheduleContract):
    schedule_id = "ddim_uniform"

    def expected_first_sigma(self, n, table):
        return float(table.sigmas[ref.ddim_stride_indices(n, len(table))[-1]])

    exact_step_counts = (1, 2, 10, 20, 50, 100)  # where the reference's stride gives exactly n levels

    def reference(self, n, table, ldm_table):
        picks = ref.ddim_stride_indices(n, len(table))
        assert len(picks) == n
        return ref.with_zero(ldm_table[picks[::-1]])

    def test_ten_steps_take_every_hundredth_entry_from_index_1_exactly(self, table):
        expected = [*table.sigmas[[901 - 100 * i for i in range(10)]].tolist(), 0.0]
        assert build_sigmas("ddim_uniform", 10, table).tolist() == expected

    def test_is_the_reference_whenever_its_stride_gives_n_levels_else_a_subset_with_its_ends(self, table):
        exact, adjusted = 0, 0
        for n in range(1, 151):
            picks = ref.ddim_stride_indices(n, len(table))
            sigmas = build_sigmas("ddim_uniform", n, table)[:-1]
            if len(picks) == n:
                exact += 1
                assert sigmas.tolist() == table.sigmas[picks[::-1]].tolist(), n
            else:
                adjusted += 1
                assert len(picks) > n
                assert set(sigmas.tolist()) <= set(table.sigmas[picks].tolist()), n
                assert sigmas[0].item() == table.sigmas[picks[-1]].item()
                assert sigmas[-1].item() == table.sigmas[picks[0]].item()
        assert exact > 0 and adjusted > 0  # both branches are exercised (n = 10 exact, n = 7 adjusted)


class TestBeta(ScheduleContract):
    schedule_id = "beta"
    reference_params = ({}, {"alpha": 2.0, "beta": 0.5})

    def reference(self, n, table, ldm_table, alpha=0.6, beta=0.6):
        stats = pytest.importorskip("scipy.stats")
        quantiles = 1 - np.arange(n) / n  # 1, 1 - 1/n, …, 1/n (ComfyUI beta_scheduler)
        return ref.with_zero(ref.sigma_at(ldm_table, stats.beta.ppf(quantiles, alpha, beta) * 999))

    @pytest.mark.parametrize("n", [150])
    def test_maps_the_papers_quantiles_to_table_timesteps_at_150_steps(self, n, table, ldm_table):
        np.testing.assert_allclose(
            as_array(build_sigmas("beta", n, table)), self.reference(n, table, ldm_table), rtol=2e-6
        )


class TestAlignYourSteps(ScheduleContract):
    schedule_id = "align_your_steps"
    rtol = 1e-6

    def expected_first_sigma(self, n, table):
        return ref.PUBLISHED_AYS["sd1"][0]

    def reference(self, n, table, ldm_table):
        return ref.align_your_steps(n, ref.PUBLISHED_AYS["sd1"])

    @pytest.mark.parametrize("family", ["sd1", "sdxl"])
    def test_ten_steps_are_the_published_table_with_its_last_level_replaced_by_0(self, family, table):
        sigmas = build_sigmas("align_your_steps", 10, table, family=family)
        assert torch.equal(sigmas, torch.tensor([*ref.PUBLISHED_AYS[family][:-1], 0.0], dtype=torch.float32))

    @pytest.mark.parametrize("family", ["sd1", "sdxl"])
    def test_resamples_log_linearly_to_n_plus_1_levels(self, family, table):
        for n in (1, 2, 5, 9, 11, 20, 47, 150):
            np.testing.assert_allclose(
                as_array(build_sigmas("align_your_steps", n, table, family=family)),
                ref.align_your_steps(n, ref.PUBLISHED_AYS[family]),
                rtol=1e-6,
            )

    def test_uses_sd1_levels_for_sd2_and_no_family_and_refuses_others(self, table):
        sd1 = build_sigmas("align_your_steps", 10, table, family="sd1")
        assert torch.equal(build_sigmas("align_your_steps", 10, table, family="sd2"), sd1)
        assert torch.equal(build_sigmas("align_your_steps", 10, table), sd1)
        with pytest.raises(LatentUpscaleError, match=r"'flux'.*sd1, sd2, sdxl"):
            build_sigmas("align_your_steps", 10, table, family="flux")


class TestLinearQuadratic(ScheduleContract):
    schedule_id = "linear_quadratic"
    reference_params = ({}, {"threshold_noise": 0.2})
    rtol = 1e-5
    atol = 1e-6

    def reference(self, n, table, ldm_table, threshold_noise=0.025):
        return ref.linear_quadratic(n, table.sigma_max, threshold_noise)

    def test_follows_mochis_shape_at_more_step_counts(self, table):
        for n in (3, 4, 11, 30, 77, 150):
            np.testing.assert_allclose(
                as_array(build_sigmas("linear_quadratic", n, table)),
                ref.linear_quadratic(n, table.sigma_max),
                rtol=1e-5,
                atol=1e-6,
            )
