"""The job options and their field table: one source for UI, script_args, infotext, paste and XYZ."""

from __future__ import annotations

import dataclasses

import pytest

from latent_upscale import methods
from latent_upscale.errors import LatentUpscaleError
from latent_upscale.schedules import get_schedule, registered_schedules, schedule_ids
from latent_upscale.schedules import registry as schedule_registry
from latent_upscale.webui.job import POSITIONAL_ORDER, JobOptions, method_id, schedule_id, script_fields

#: Every positional script_args index ever published (the README's HTTP API table). Append-only:
#: these never change; a new input gets the next index.
PUBLISHED_INDICES = {
    0: "method",
    1: "schedule",
    2: "exact_steps",
    3: "karras_rho",
    4: "polyexponential_rho",
    5: "beta_alpha",
    6: "beta_beta",
    7: "linear_quadratic_threshold_noise",
    8: "scale",
}
#: The README's nine documented values, with "Upscale by" 2.
DOCUMENTED = ["lanczos", "karras", True, 7, 1, 0.6, 0.6, 0.025, 2]


def test_every_published_positional_index_keeps_its_input():
    names = [f.name for f in script_fields()]
    assert {index: names[index] for index in PUBLISHED_INDICES} == PUBLISHED_INDICES
    assert list(POSITIONAL_ORDER[: len(PUBLISHED_INDICES)]) == list(PUBLISHED_INDICES.values())
    assert len(set(names)) == len(names)
    parameters = {f"{s.id}_{p.name}" for s in registered_schedules() for p in s.params}
    assert parameters <= set(names)  # every registered parameter has a slot


def test_a_new_one_parameter_schedule_is_appended_and_upscale_by_keeps_its_index(
    monkeypatch: pytest.MonkeyPatch,
):
    assert JobOptions.from_script_args(DOCUMENTED).scale == 2.0
    base = get_schedule("karras")
    made_up = dataclasses.replace(base, id="made_up", label="Made up", params=(base.params[0],))
    # A new registry dict (the old one comes back as it was, order included, when the test ends).
    monkeypatch.setattr(schedule_registry, "_REGISTRY", {**schedule_registry._REGISTRY, "made_up": made_up})
    script_fields.cache_clear()
    try:
        names = [f.name for f in script_fields()]
        assert names[: len(PUBLISHED_INDICES)] == list(PUBLISHED_INDICES.values())
        assert names[-1] == "made_up_rho"  # after every listed index, "Upscale by" included
        options = JobOptions.from_script_args(DOCUMENTED)
        assert options.scale == 2.0 and options.schedule_params == {"rho": 7.0}
        args: list[object] = [None] * len(names)
        args[1], args[-1] = "made_up", 3.5
        assert JobOptions.from_script_args(args).schedule_params == {"rho": 3.5}
    finally:
        monkeypatch.undo()
        script_fields.cache_clear()


def test_a_listed_positional_input_that_is_no_longer_registered_is_refused_not_shifted(
    monkeypatch: pytest.MonkeyPatch,
):
    order = schedule_ids()
    kept = {key: value for key, value in schedule_registry._REGISTRY.items() if key != "polyexponential"}
    monkeypatch.setattr(schedule_registry, "_REGISTRY", kept)
    script_fields.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"polyexponential_rho.*keep their slots"):
            script_fields()
    finally:
        monkeypatch.undo()
        script_fields.cache_clear()
    assert schedule_ids() == order  # the registry's order is untouched for the tests that follow


def test_dropdown_choices_list_every_registered_method_and_schedule():
    method_field, schedule_field = script_fields()[:2]
    assert len(method_field.choices) == len(methods())
    assert len(schedule_field.choices) == len(schedule_ids())
    assert [method_id(c) for c in method_field.choices] == methods()
    assert [schedule_id(c) for c in schedule_field.choices] == schedule_ids()


def test_parameter_fields_carry_their_schedules_slider_range_step_and_default():
    for f in (f for f in script_fields() if f.schedule is not None):
        spec = {p.name: p for p in get_schedule(f.schedule).params}[f.param]
        assert (f.default, f.minimum, f.maximum, f.step) == (
            spec.default,
            spec.slider_minimum,
            spec.slider_maximum,
            spec.step,
        )
        assert spec.minimum <= f.minimum and f.maximum <= spec.maximum  # the API accepts at least as much
        assert f.infotext_key == f"Latent upscale {spec.name}"
    by_name = {f.name: f for f in script_fields()}
    assert (by_name["beta_alpha"].minimum, by_name["beta_alpha"].maximum) == (0.3, 2.0)  # not 0.05-50
    assert (by_name["beta_beta"].minimum, by_name["beta_beta"].maximum) == (0.4, 2.0)
    assert JobOptions(schedule="beta", schedule_params={"alpha": 40}).schedule_params == {"alpha": 40.0}


@pytest.mark.parametrize(
    "options",
    [
        JobOptions(),
        JobOptions("lanczos", "karras", True, {"rho": 3.5}),
        JobOptions("neural", "beta", False, {"alpha": 0.4, "beta": 0.9}),
        JobOptions("nearest-exact", "linear_quadratic", True, {"threshold_noise": 0.05}),
        JobOptions("lanczos", scale=1.5),
        JobOptions("area", "karras", False, {"rho": 2.0}, scale=0.5),
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


# --- "Upscale by" -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "scale", "expected"),
    [
        ((512, 512), 1.5, (768, 768)),
        ((512, 768), 1.1, (560, 840)),  # int(563.2) = 563 → 560, int(844.8) = 844 → 840
        ((100, 100), 1.15, (112, 112)),  # int(114.99999999999999) = 114: truncated as the WebUI does
        ((640, 480), 0.5, (320, 240)),
        ((77, 33), 2.0, (152, 64)),
    ],
)
def test_upscale_by_rounds_as_the_webui_does(source, scale, expected):
    from latent_upscale.webui.guide import scaled_size

    assert scaled_size(source, scale) == expected
    width, height = (int(side * scale) for side in source)  # hires fix: int(width * hr_scale)
    assert expected == (width - width % 8, height - height % 8)  # then the latent's // 8, as Forge


def test_upscale_by_zero_or_one_means_width_and_height():
    assert not JobOptions(scale=0).uses_scale and not JobOptions(scale=1).uses_scale
    assert JobOptions(scale=2).uses_scale
    assert "Latent upscale by" not in JobOptions(scale=1).infotext()
    assert JobOptions(scale=1.5).infotext()["Latent upscale by"] == "1.5"


@pytest.mark.parametrize("scale", [-1, 8.5, "x", float("nan")])
def test_upscale_by_out_of_range_is_refused(scale):
    with pytest.raises(LatentUpscaleError, match="Upscale by"):
        JobOptions(scale=scale)


def test_upscale_by_below_eight_pixels_is_refused():
    from latent_upscale.webui.guide import scaled_size

    with pytest.raises(LatentUpscaleError, match="smaller than 8 pixels"):
        scaled_size((20, 20), 0.1)


def test_the_readout_shows_the_size_the_factor_gives():
    from latent_upscale.webui.guide import scale_readout

    assert scale_readout(512, 768, 1.5) == "→ 768 × 1152 px"
    assert scale_readout(512, 512, 1) == scale_readout(512, 512, 0) == "→ Width × Height from the sliders"
    assert "no image yet" in scale_readout(0, 0, 2)


def test_positional_script_args_from_before_upscale_by_keep_their_meaning():
    old = ["lanczos", "karras", True, 7, 1, 0.6, 0.6, 0.025]  # the README's example before "scale" existed
    assert JobOptions.from_script_args(old) == JobOptions("lanczos", "karras", True, {"rho": 7.0})
    assert JobOptions.from_script_args([*old, 1.5]).scale == 1.5


# --- named script_args (the stable form) ---------------------------------------------------------


def test_named_script_args_give_the_same_options_as_positional_ones():
    named = {"method": "lanczos", "schedule": "karras", "scale": 1.5, "karras_rho": 5, "exact_steps": False}
    expected = JobOptions("lanczos", "karras", False, {"rho": 5.0}, scale=1.5)
    assert JobOptions.from_script_args([named]) == expected
    assert JobOptions.from_script_args(expected.ui_values()) == expected


def test_named_script_args_refuse_values_after_the_dict_and_accept_nulls():
    # The glue first cuts our slice to what the client sent (the WebUI shifts the next scripts'
    # arguments into a short list's slice): what is left after the dict was sent, and is refused.
    with pytest.raises(LatentUpscaleError, match=r"nothing after it, got 1 more value\(s\) \('karras'"):
        JobOptions.from_script_args([{"method": "lanczos"}, "karras"])
    assert JobOptions.from_script_args([{"method": "area"}, None, None]) == JobOptions("area")


def test_named_script_args_missing_names_take_the_defaults():
    defaults = JobOptions("area", "karras", False, {"rho": 5.0})
    assert JobOptions.from_script_args([{}], defaults) == defaults
    assert JobOptions.from_script_args([{"method": "lanczos"}], defaults) == JobOptions(
        "lanczos", "karras", False, {"rho": 5.0}
    )


def test_unknown_script_args_names_are_refused_with_the_known_ones():
    with pytest.raises(LatentUpscaleError, match=r"unknown .* name\(s\) 'methd'; known: method, schedule"):
        JobOptions.from_script_args([{"methd": "lanczos"}])


def test_a_named_parameter_of_another_schedule_is_refused():
    with pytest.raises(LatentUpscaleError, match="beta_alpha belong"):
        JobOptions.from_script_args([{"schedule": "karras", "beta_alpha": 0.5}])


# --- nulls mean the default, for every field ----------------------------------------------------------


def test_null_method_and_null_schedule_both_take_the_default():
    defaults = JobOptions("area", "karras", False, {"rho": 5.0}, scale=2.0)
    nulls = [None] * len(script_fields())
    assert JobOptions.from_script_args(nulls, defaults) == defaults
    assert JobOptions.from_script_args([None, None], defaults) == defaults
    named_nulls = {f.name: None for f in script_fields()}
    assert JobOptions.from_script_args([named_nulls], defaults) == defaults
    assert JobOptions.from_script_args(["lanczos", None, None]) == JobOptions("lanczos")


# --- advice from the registries and the "Which method?" guide -----------------------------------------------


def test_every_field_has_advice_from_its_registry():
    from latent_upscale.webui.guide import param_meta

    for f in script_fields():
        if f.param is not None:
            meta = param_meta(f.schedule, f.param)
            assert meta.advice and (meta.minimum, meta.maximum) == (f.minimum, f.maximum)
    for method in methods():
        from latent_upscale.webui.guide import method_advice

        assert method_advice(method)


def test_which_method_comes_from_the_quality_results_when_present(tmp_path):
    import json

    from latent_upscale.webui.guide import QUALITY_RESULTS, which_method_markdown

    def row(method, scale, psnr, haar):
        return {"method": method, "scale": scale, "psnr": psnr, "perceptual": haar}

    results = tmp_path / "quality-results.json"
    rows = [row("roundtrip", 2.0, 26.8, 0.79), row("lanczos", 2.0, 19.0, 0.40), row("area", 2.0, 18.0, 0.45)]
    rows += [row("lanczos", 1.5, 21.0, 0.55), row("area", 1.5, 20.0, 0.50), row("neural", 2.0, 24.0, 0.70)]
    results.write_text(json.dumps({"autoencoder": {"family": "flux2"}, "rows": rows}))
    text = which_method_markdown(results)
    assert "| enlarge about 2× with an interpolation | **Area** | 18.0 dB, HaarPSI 0.45 |" in text
    assert "| **Lanczos-3** | 1.5×: 21.0 dB, HaarPSI 0.55 |" in text
    assert "**Neural (learned upscaler)** | 24.0 dB, HaarPSI 0.70 |" in text
    assert "26.8 dB, HaarPSI 0.79" in text and "flux2 latent space" in text
    assert "30 sampler steps instead of 13" in text
    fallback = which_method_markdown(tmp_path / "missing.json")
    assert "(the default)" in fallback and "instead of 13 at denoising 0.4" in fallback
    results.write_text("{not json")
    assert which_method_markdown(results) == fallback
    committed = which_method_markdown(QUALITY_RESULTS)  # the shipped file is in the format read here
    assert committed != fallback and "Bilinear" in committed
