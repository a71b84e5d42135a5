"""The job options and their field table: one source for UI, script_args, infotext, paste and XYZ."""

from __future__ import annotations

import pytest

from latent_upscale import methods
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import get_schedule, registered_schedules, schedule_ids
from latent_upscale.webui.job import JobOptions, method_id, schedule_id, script_fields


def test_fields_start_with_method_schedule_and_exact_steps_then_every_schedule_parameter():
    fields = script_fields()
    assert [f.name for f in fields[:3]] == ["method", "schedule", "exact_steps"]
    expected = [f"{s.id}_{p.name}" for s in registered_schedules() for p in s.params]
    assert [f.name for f in fields[3:]] == expected
    assert len({f.name for f in fields}) == len(fields)


def test_dropdown_choices_list_every_registered_method_and_schedule():
    method_field, schedule_field = script_fields()[:2]
    assert len(method_field.choices) == len(methods())
    assert len(schedule_field.choices) == len(schedule_ids())
    assert [method_id(c) for c in method_field.choices] == methods()
    assert [schedule_id(c) for c in schedule_field.choices] == schedule_ids()


def test_parameter_fields_carry_their_schedules_range_and_default():
    for f in script_fields()[3:]:
        spec = {p.name: p for p in get_schedule(f.schedule).params}[f.param]
        assert (f.default, f.minimum, f.maximum) == (spec.default, spec.minimum, spec.maximum)
        assert f.infotext_key == f"Latent upscale {spec.name}"


@pytest.mark.parametrize(
    "options",
    [
        JobOptions(),
        JobOptions("lanczos", "karras", True, {"rho": 3.5}),
        JobOptions("neural", "beta", False, {"alpha": 0.4, "beta": 0.9}),
        JobOptions("nearest-exact", "linear_quadratic", True, {"threshold_noise": 0.05}),
    ],
)
def test_ui_values_infotext_and_script_args_round_trip(options):
    assert JobOptions.from_script_args(options.ui_values()) == options
    infotext = options.infotext()
    assert JobOptions.from_infotext(infotext) == options


def test_labels_and_ids_are_both_accepted_case_insensitively():
    assert JobOptions.from_script_args(["Lanczos-3", "align your steps"]) == JobOptions(
        "lanczos", "align_your_steps"
    )
    assert method_id("BISLERP") == "bislerp"


def test_missing_trailing_script_args_take_the_defaults():
    defaults = JobOptions("area", "karras", False, {"rho": 5.0})
    assert JobOptions.from_script_args([], defaults) == defaults
    assert JobOptions.from_script_args(["lanczos"], defaults) == JobOptions(
        "lanczos", "karras", False, {"rho": 5.0}
    )
    assert JobOptions.from_script_args(["lanczos", "exponential"], defaults).schedule_params == {}


def test_too_many_script_args_are_refused_naming_the_order():
    with pytest.raises(LatentUpscaleError, match=r"takes .* script_args \(method, schedule, exact_steps"):
        JobOptions.from_script_args([None] * (len(script_fields()) + 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "trilinear"}, "unknown upscale method 'trilinear'"),
        ({"schedule": "karas"}, "unknown schedule 'karas'"),
        ({"schedule": "karras", "schedule_params": {"alpha": 1}}, "has no parameter 'alpha'; accepted: rho"),
        ({"schedule": "karras", "schedule_params": {"rho": 99}}, r"rho must lie in \[0.5, 20\], got 99"),
        ({"schedule": "karras", "schedule_params": {"rho": "x"}}, "rho must be a finite number, got 'x'"),
        ({"schedule": "karras", "schedule_params": {"rho": float("nan")}}, "rho must be a finite number"),
        ({"schedule": "beta", "schedule_params": {"alpha": True}}, "alpha must be a finite number"),
    ],
)
def test_bad_values_get_one_clear_message(kwargs, message):
    with pytest.raises(LatentUpscaleError, match=message):
        JobOptions(**kwargs)


def test_exact_steps_accepts_api_style_strings():
    assert JobOptions.from_script_args(["bislerp", "automatic", "false"]).exact_steps is False
    with pytest.raises(LatentUpscaleError, match="expected true or false"):
        JobOptions.from_script_args(["bislerp", "automatic", "maybe"])


def test_infotext_writes_only_non_default_parameters():
    entries = JobOptions("lanczos", "beta", True, {"alpha": 0.6, "beta": 2.0}).infotext()
    assert "Latent upscale alpha" not in entries and entries["Latent upscale beta"] == "2"


def test_an_infotext_note_on_the_schedule_still_pastes_back():
    options = JobOptions.from_infotext(
        {"Latent upscale method": "lanczos", "Latent upscale schedule": "karras (not used: DDIM ignores it)"}
    )
    assert options == JobOptions("lanczos", "karras")


def test_an_infotext_without_our_keys_is_none():
    assert JobOptions.from_infotext({"Steps": "20"}) is None
