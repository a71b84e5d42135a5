"""Hires fix on the fake host: our "Latent (…)" upscalers, applied per job, registered once."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from latent_upscale import methods, upscale
from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.webui.patches import is_interceptor
from tests.helpers.glue import (
    OUR_HIRES_KEYS,
    capture_jobs,
    patched_names,
    put_city96_weights,
    spy_resizes,
    start,
    use_models_dir,
)
from tests.helpers.webui import each_flavor_once

BUILTIN_KEYS = {
    "Latent": "bilinear",
    "Latent (antialiased)": "bilinear-antialiased",
    "Latent (bicubic)": "bicubic",
    "Latent (bicubic antialiased)": "bicubic-antialiased",
    "Latent (nearest)": "nearest",
    "Latent (nearest-exact)": "nearest-exact",
}


def _hires(host, upscaler, **kwargs):
    kwargs.setdefault("width", 64)
    kwargs.setdefault("height", 48)
    kwargs.setdefault("hr_scale", 1.75)
    kwargs.setdefault("denoising_strength", 0.5)
    kwargs.setdefault("steps", 4)
    return host.txt2img(enable_hr=True, hr_upscaler=upscaler, **kwargs)


def _first_and_hires_runs(host):
    first = [r for r in host.runs if not r.is_hr_pass][-1]
    hires = [r for r in host.runs if r.is_hr_pass][-1]
    return first, hires


def test_an_entry_is_registered_for_every_method_the_host_lacks(fake_webui, webui_flavor):
    host = fake_webui(webui_flavor)
    start(host)
    modes = host.latent_upscale_modes
    assert list(modes)[:6] == list(BUILTIN_KEYS)  # the host's own, untouched and first
    for key in OUR_HIRES_KEYS:
        assert key in modes
        # A valid torch mode, in case the hook were ever absent (the host passes "mode" to torch).
        assert modes[key]["mode"] in ("bicubic", "bilinear", "nearest", "nearest-exact", "area")
    assert len(modes) == 6 + len([m for m in methods() if m not in BUILTIN_KEYS.values()])


@pytest.mark.parametrize(("key", "webui_flavor"), each_flavor_once(OUR_HIRES_KEYS[:3]))
def test_our_upscaler_resizes_the_first_pass_latent_to_the_exact_target(fake_webui, webui_flavor, key):
    host = fake_webui(webui_flavor)
    start(host)
    processed = _hires(host, key)
    first, hires = _first_and_hires_runs(host)
    method = key.removeprefix("Latent (").removesuffix(")")
    # 64x48 at 1.75x -> 112x84 px -> a 14x10 latent (the host's target_height // opt_f).
    expected = upscale(first.result, (84 // 8, 112 // 8), method=method)
    assert hires.x.shape == (1, 4, 10, 14)
    assert torch.allclose(hires.x.float(), expected.float(), atol=1e-5)
    assert host.parse_infotext(processed.infotexts[0])["Hires upscaler"] == key
    host.assert_no_errors()


def test_the_hosts_own_entries_are_left_to_the_host(fake_webui, monkeypatch):
    host = fake_webui()
    start(host)
    spy = spy_resizes(monkeypatch)
    jobs = capture_jobs(monkeypatch)
    seen = []
    host.on_step(lambda step, sigma, x, run: seen.append(is_interceptor(F.interpolate)))
    _hires(host, "Latent (nearest-exact)")
    first, hires = _first_and_hires_runs(host)
    assert spy.calls == []
    assert not any(seen) and not patched_names(jobs[0])
    assert torch.equal(hires.x, F.interpolate(first.result, size=(10, 14), mode="nearest-exact"))


def test_the_save_before_highres_intermediate_still_gets_the_low_res_latent(fake_webui, monkeypatch):
    # We intercept the host's interpolate instead of pre-resizing: everything before it sees the original.
    host = fake_webui()
    start(host)
    spy = spy_resizes(monkeypatch)
    _hires(host, "Latent (lanczos)")
    first, _ = _first_and_hires_runs(host)
    assert torch.equal(spy.calls[0][0], first.result)


def test_neural_hires_converts_the_scaled_latent_and_records_the_weights(fake_webui, monkeypatch, tmp_path):
    host = fake_webui("1.10.1", model="sdxl")
    start(host)
    put_city96_weights(tmp_path, vae="xl")
    use_models_dir(host, tmp_path)
    processed = _hires(host, "Latent (neural)", hr_scale=2.0, width=64, height=64)
    first, hires = _first_and_hires_runs(host)
    from latent_upscale.neural import NeuralOptions

    by_hand = (
        upscale(
            first.result / 0.13025,
            (16, 16),
            method="neural",
            family="sdxl",
            latent_space="raw",
            neural=NeuralOptions(models_dir=tmp_path),
        )
        * 0.13025
    )
    assert torch.allclose(hires.x.float(), by_hand, atol=1e-4)
    info = host.parse_infotext(processed.infotexts[0])
    assert info["Hires upscaler"] == "Latent (neural)"
    assert "SDxl-x2.0" in info["Latent upscale weights"]


def test_neural_hires_without_weights_falls_back_to_the_default_method(fake_webui, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    host = fake_webui()
    start(host)
    use_models_dir(host, tmp_path / "empty")
    processed = _hires(host, "Latent (neural)")
    first, hires = _first_and_hires_runs(host)
    assert torch.allclose(
        hires.x.float(), upscale(first.result, (10, 14), method=DEFAULT_METHOD).float(), atol=1e-5
    )
    fallback = host.parse_infotext(processed.infotexts[0])["Latent upscale fallback"]
    assert fallback.startswith(f"{DEFAULT_METHOD} (")


@pytest.mark.parametrize("n_iter", [1, 3])
def test_every_batch_of_a_job_is_resized(fake_webui, monkeypatch, n_iter):
    host = fake_webui()
    start(host)
    spy = spy_resizes(monkeypatch)
    _hires(host, "Latent (lanczos)", n_iter=n_iter)
    assert len(spy.calls) == n_iter


def test_nothing_stays_patched_after_a_hires_job_an_exception_or_an_interrupt(
    fake_webui, webui_flavor, monkeypatch
):
    host = fake_webui(webui_flavor)
    start(host)
    before = host.snapshot()
    jobs = capture_jobs(monkeypatch)
    _hires(host, "Latent (bislerp)")
    hires_run = len(host.runs)  # the next job's first pass is run index hires_run
    host.interrupt_at(1, run_index=hires_run + 1)  # during the hires pass of the next job
    _hires(host, "Latent (bislerp)")
    assert host.runs[-1].interrupted
    host.raise_at(2, RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        _hires(host, "Latent (bislerp)")
    assert host.snapshot() == before
    assert not is_interceptor(F.interpolate)
    assert len(jobs) == 3
    for p in jobs:
        assert not patched_names(p)


def test_an_unknown_upscaler_name_still_gets_the_hosts_message(fake_webui):
    host = fake_webui()
    start(host)
    with pytest.raises(Exception, match="could not find upscaler named Latent \\(bilnear\\)"):
        _hires(host, "Latent (bilnear)")


def test_reload_ui_twice_keeps_one_entry_and_one_wrapper(fake_webui, webui_flavor, monkeypatch):
    host = fake_webui(webui_flavor)
    start(host)
    host.reload_ui()
    host.reload_ui()
    modes = host.latent_upscale_modes
    assert [k for k in modes if k in OUR_HIRES_KEYS] == list(OUR_HIRES_KEYS)
    # load_scripts() clears every callback before the script files run again: ours are there once each.
    ours = [
        (category, getattr(c.callback, "__qualname__", ""))
        for category, callbacks in host.script_callbacks.callback_map.items()
        for c in callbacks
        if getattr(c.callback, "__module__", "").startswith("latent_upscale")
    ]
    assert sorted(ours) == [
        ("callbacks_after_component", "after_component"),
        ("callbacks_before_ui", "register_axes"),
        ("callbacks_script_unloaded", "forget_components"),
        ("callbacks_script_unloaded", "unregister_hires_upscalers"),
        ("callbacks_ui_settings", "register_settings"),
    ]
    spy = spy_resizes(monkeypatch)
    _hires(host, "Latent (lanczos)")
    first, hires = _first_and_hires_runs(host)
    assert len(spy.calls) == 1  # wrapped once, not once per reload
    assert torch.allclose(
        hires.x.float(), upscale(first.result, (10, 14), method="lanczos").float(), atol=1e-5
    )


def test_unloading_the_script_removes_our_entries_and_loading_adds_them_back(fake_webui):
    host = fake_webui()
    start(host)
    host.script_callbacks.script_unloaded_callback()
    assert not any(k in host.latent_upscale_modes for k in OUR_HIRES_KEYS)
    assert "Latent (nearest-exact)" in host.latent_upscale_modes
    host.reload_ui()
    assert all(k in host.latent_upscale_modes for k in OUR_HIRES_KEYS)
