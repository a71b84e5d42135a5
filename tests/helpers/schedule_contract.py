"""The tests every registered schedule inherits (as diffusers' schedulers inherit ``SchedulerCommonTest``).

A schedule's test class sets ``schedule_id`` and implements ``reference`` from an independent formula in
:mod:`tests.helpers.schedules`; the base class then checks the output contract (length n + 1, strictly
decreasing to exactly 0, float32, the device asked for), the parameter bounds and slider ranges of its
registry entry, and agreement with the reference. The ``table`` (SD sigma table) and ``ldm_table`` fixtures
its tests take are the session-scoped ones of ``tests/conftest.py``.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import (
    SigmaTable,
    build_sigmas,
    build_sigmas_detailed,
    get_schedule,
    schedule_ids,
    sd_sigma_table,
)

#: Step counts a WebUI user reaches: the steps slider (1-150), and the longer schedules img2img asks for
#: with img2img_fix_steps at denoising strengths down to 0.3.
UI_STEP_COUNTS = (*range(1, 151), 200, 300, 500)
#: Past the 1000-level table (schedules must not repeat table entries there).
LONG_STEP_COUNTS = (999, 1000, 1001, 1500, 2500)
#: Step counts for the comparison with the reference formulas.
EXACT_STEP_COUNTS = (1, 2, 7, 10, 33)


def as_array(sigmas: torch.Tensor) -> np.ndarray:
    return sigmas.double().numpy()


def assert_strictly_decreasing_to_zero(sigmas: torch.Tensor, context: object) -> None:
    """The contract that keeps DPM++ samplers finite: positive, strictly decreasing levels, then 0."""
    assert sigmas.dtype == torch.float32, context
    assert bool(torch.isfinite(sigmas).all()), context
    assert sigmas[-1].item() == 0.0, context
    positive = sigmas[:-1]
    assert bool((positive > 0).all()), context
    assert bool((positive[1:] < positive[:-1]).all()), (context, sigmas.tolist()[:6])


class DeviceSpy(TorchFunctionMode):
    """Records every torch function called, the device of every tensor returned and every device asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.devices: set[str] = set()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self.calls.append(getattr(func, "__name__", repr(func)))
        if kwargs.get("device") is not None:
            self.devices.add(torch.device(kwargs["device"]).type)
        if func is torch.Tensor.cuda:
            self.devices.add("cuda")
        result = func(*args, **kwargs)
        for value in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(value, torch.Tensor):
                self.devices.add(value.device.type)
        return result


class ScheduleContract:
    """Base class: subclasses set ``schedule_id`` and implement :meth:`reference`."""

    schedule_id: ClassVar[str]
    #: Parameter sets compared with the reference (the defaults, plus any the subclass adds).
    reference_params: ClassVar[Sequence[dict[str, float]]] = ({},)
    exact_step_counts: ClassVar[Sequence[int]] = EXACT_STEP_COUNTS
    rtol: ClassVar[float] = 2e-6
    atol: ClassVar[float] = 0.0

    def reference(self, n: int, table: SigmaTable, ldm_table: np.ndarray, **params: float) -> np.ndarray:
        """The n + 1 sigmas by an independent float64 formula."""
        raise NotImplementedError

    def expected_first_sigma(self, n: int, table: SigmaTable) -> float:
        """Where the schedule starts: sigma_max unless the subclass says otherwise."""
        return table.sigma_max

    # --- the output contract ----------------------------------------------------------------------

    def test_is_registered_with_a_source_advice_and_a_citing_docstring(self):
        schedule = get_schedule(self.schedule_id)
        assert self.schedule_id in schedule_ids()
        assert schedule.source and schedule.advice
        doc = schedule.fn.__doc__ or ""
        sources = ("arXiv", "k-diffusion", "ComfyUI", "Mochi", "A1111", "diffusers")
        assert any(word in doc for word in sources), f"the docstring must name its source (one of {sources})"

    def test_every_ui_step_count_gives_n_plus_1_float32_cpu_sigmas_strictly_decreasing_to_0(self, table):
        for n in UI_STEP_COUNTS:
            sigmas = build_sigmas(self.schedule_id, n, table)
            context = f"{self.schedule_id} n={n}"
            assert sigmas.shape == (n + 1,) and sigmas.device.type == "cpu", context
            assert_strictly_decreasing_to_zero(sigmas, context)
            assert sigmas[0].item() == pytest.approx(self.expected_first_sigma(n, table), rel=1e-5), context

    def test_step_counts_beyond_the_table_length_never_repeat_a_sigma(self, table):
        for n in LONG_STEP_COUNTS:
            result = build_sigmas_detailed(self.schedule_id, n, table)
            assert result.dropped == 0 and result.sigmas.shape == (n + 1,), n
            assert_strictly_decreasing_to_zero(result.sigmas, n)

    def test_a_requested_device_gets_the_float32_result(self, table):
        sigmas = build_sigmas(self.schedule_id, 12, table, device="meta")
        assert sigmas.device.type == "meta" and sigmas.dtype == torch.float32 and sigmas.shape == (13,)

    def test_is_deterministic(self):
        assert torch.equal(
            build_sigmas(self.schedule_id, 23, sd_sigma_table()),
            build_sigmas(self.schedule_id, 23, sd_sigma_table()),
        )

    # --- parameters ---------------------------------------------------------------------------------

    def test_function_defaults_equal_the_registry_defaults(self):
        schedule = get_schedule(self.schedule_id)
        signature = inspect.signature(schedule.fn)
        for spec in schedule.params:
            assert signature.parameters[spec.name].default == spec.default, spec.name

    def test_each_parameter_is_accepted_at_its_bounds_and_refused_beyond_them(self, table):
        for spec in get_schedule(self.schedule_id).params:
            for value in (spec.minimum, spec.maximum):
                assert_strictly_decreasing_to_zero(
                    build_sigmas(self.schedule_id, 20, table, **{spec.name: value}), (spec.name, value)
                )
            for value in (spec.minimum - spec.step, spec.maximum + spec.step):
                with pytest.raises(LatentUpscaleError, match=rf"{spec.name} must lie in \["):
                    build_sigmas(self.schedule_id, 20, table, **{spec.name: value})

    def test_slider_metadata_is_complete_and_inside_the_accepted_range(self):
        for spec in get_schedule(self.schedule_id).params:
            assert spec.label and spec.advice and spec.step > 0, spec
            assert spec.minimum <= spec.slider_minimum <= spec.default <= spec.slider_maximum <= spec.maximum
            # A usable track: the slider has at most 500 positions and the default is not squeezed
            # into the first 2 % of it.
            positions = (spec.slider_maximum - spec.slider_minimum) / spec.step
            assert 10 <= positions <= 500, spec
            assert (spec.default - spec.slider_minimum) / (spec.slider_maximum - spec.slider_minimum) >= 0.02

    def test_no_level_is_dropped_anywhere_on_the_sliders_at_ui_step_counts(self, table):
        specs = get_schedule(self.schedule_id).params
        corners = [
            dict(zip([s.name for s in specs], values, strict=True))
            for values in itertools.product(*[(s.slider_minimum, s.default, s.slider_maximum) for s in specs])
        ]
        for params in corners:
            for n in (*range(1, 41), 75, 150, 151, 300, 500):
                result = build_sigmas_detailed(self.schedule_id, n, table, **params)
                assert result.dropped == 0 and result.note is None, (params, n)

    # --- agreement with the reference -------------------------------------------------------------

    def test_equals_its_reference_formula(self, table, ldm_table):
        for params in self.reference_params:
            for n in self.exact_step_counts:
                actual = as_array(build_sigmas(self.schedule_id, n, table, **params))
                expected = self.reference(n, table, ldm_table, **params)
                np.testing.assert_allclose(
                    actual, expected, rtol=self.rtol, atol=self.atol, err_msg=f"{params} n={n}"
                )
