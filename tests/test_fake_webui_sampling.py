"""The fake WebUI host itself: schedules and the override, hires fix, timestep samplers, Forge Neo.

Each seam behaves like the real host code the glue relies on, and every test names the behaviour it
proves. ``webui_flavor`` parametrises over 1.6.0, 1.10.1, Forge, Forge Neo and reForge where the real
hosts agree, and the expectations branch where they differ.
"""

import sys

import pytest
import torch

from tests.helpers.fake_webui_seams import fake_webui_context, interpolate_spy
from tests.helpers.webui import FLAVORS


# --- schedules and the override -----------------------------------------------------------------------------
def _karras(n, sigma_min=0.1, sigma_max=10.0):
    ramp = torch.linspace(0, 1, n)
    sigmas = (sigma_max ** (1 / 7) + ramp * (sigma_min ** (1 / 7) - sigma_max ** (1 / 7))) ** 7
    return torch.cat([sigmas, torch.zeros(1)])


def test_kdiffusion_samplers_call_the_override_first_and_walk_its_tail(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        asked = []

        def override(steps):
            asked.append((steps, host.runs[-1].is_hr_pass))
            assert p.sampler.model_wrap.sigmas.shape == (1000,)  # p.sampler is the calling sampler
            return _karras(steps)

        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5)
        p.sampler_noise_scheduler_override = override
        host.process_images(p)
        run = host.runs[-1]
        assert asked == [(10, False)] and run.override_used
        assert torch.allclose(run.schedule, _karras(10)[10 - 5 - 1 :])


def test_discarding_samplers_ask_the_override_for_one_more_step_and_drop_the_penultimate(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        asked = []
        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0, sampler_name="DPM2")
        p.sampler_noise_scheduler_override = lambda steps: asked.append(steps) or _karras(steps)
        host.process_images(p)
        full = _karras(int(10 / 0.999) + 1)
        assert asked == [11] and torch.allclose(host.runs[-1].sigmas, torch.cat([full[:-2], full[-1:]]))


@pytest.mark.parametrize("sampler", ["DDIM", "PLMS", "UniPC"])
def test_timestep_samplers_ignore_the_override(sampler):
    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5, sampler_name=sampler)
        p.sampler_noise_scheduler_override = lambda steps: pytest.fail(
            "timestep samplers never call the override"
        )
        host.process_images(p)
        run = host.runs[-1]
        assert run.kind == "timesteps" and not run.override_used and run.launch_steps == 6
        assert not hasattr(host.sd_samplers.create_sampler(sampler, host.sd_model).model_wrap, "sigmas")


def test_scheduler_choice_is_p_scheduler_from_1_9_and_the_k_sched_type_setting_before(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        if webui_flavor == "1.6.0":
            host.opts.data["k_sched_type"] = "karras"
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0)
        else:
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=1.0, scheduler="Karras")
        processed = host.process_images(p)
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        n = int(10 / 0.999)
        expected = _karras(n, mw.sigmas[0].item(), mw.sigmas[-1].item())
        assert torch.allclose(host.runs[-1].sigmas, expected, atol=1e-4)
        info = host.parse_infotext(processed.info)
        assert info["Schedule type"] == ("karras" if webui_flavor == "1.6.0" else "Karras")
        assert (host.sd_schedulers is None) == (webui_flavor == "1.6.0")


def test_schedule_type_infotext_shows_p_scheduler_even_when_the_override_is_active():
    with fake_webui_context("1.10.1") as host:
        p = host.new_img2img(width=64, height=64, steps=10, scheduler="Karras")
        p.sampler_noise_scheduler_override = _karras
        info = host.parse_infotext(host.process_images(p).info)
        assert info["Schedule type"] == "Karras"


def test_sd_schedulers_module_is_absent_on_1_6():
    with fake_webui_context("1.6.0") as host:
        with pytest.raises(ImportError):
            host.module("modules.sd_schedulers")
        assert "modules.sd_schedulers" not in sys.modules
        assert not hasattr(host.new_txt2img(), "scheduler")


@pytest.mark.parametrize("flavor", ["1.6.0", "1.10.1", "reforge"])
def test_model_wrap_exposes_the_scaled_linear_sigma_table(flavor):
    with fake_webui_context(flavor) as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        ac = host.sd_models.scaled_linear_alphas_cumprod()
        assert torch.allclose(mw.sigmas, ((1 - ac) / ac) ** 0.5) and bool(
            (mw.sigmas[1:] > mw.sigmas[:-1]).all()
        )
        assert torch.allclose(mw.log_sigmas, mw.sigmas.log())
        assert mw.sigma_min == mw.sigmas[0] and mw.sigma_max == mw.sigmas[-1]
        t = mw.sigma_to_t(torch.tensor(1.0))
        assert torch.allclose(mw.t_to_sigma(t), torch.tensor(1.0), atol=1e-4)
        sig = mw.get_sigmas(5)
        assert sig.shape == (6,) and sig[-1] == 0 and torch.isclose(sig[0], mw.sigmas[-1])


def test_forge_schedule_linker_has_the_names_but_sigma_min_raises_like_real_forge():
    with fake_webui_context("forge") as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(mw).__name__ == "ForgeScheduleLinker" and mw.inner_model is host.sd_model
        assert mw.sigmas.shape == (1000,) and torch.allclose(mw.log_sigmas, mw.sigmas.log())
        assert mw.sigma_to_t(mw.sigmas[10:11]).item() == 10  # predictor.timestep quantizes
        with pytest.raises(TypeError):
            _ = mw.sigma_min  # real Forge: property calls predictor.sigma_min(), a tensor


def test_sd3_on_1_10_uses_its_own_flow_denoiser_and_adds_noise_its_way():
    with fake_webui_context("1.10.1", model="sd3") as host:
        mw = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(mw).__name__ == "DiscreteSchedule" and float(mw.sigmas[-1]) == pytest.approx(1.0)
        p = host.new_img2img(width=64, height=64, steps=4, denoising_strength=0.5)
        processed = host.process_images(p)
        assert host.runs[-1].x.shape[1] == 16 and processed.images[0].size == (64, 64)


# --- hires fix ----------------------------------------------------------------------------------------------
def test_hires_latent_upscaler_resizes_with_its_mode_to_the_target_latent_size(monkeypatch, webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        calls = interpolate_spy(monkeypatch)
        p = host.new_txt2img(
            width=64,
            height=48,
            steps=6,
            enable_hr=True,
            hr_scale=2.0,
            denoising_strength=0.5,
            hr_upscaler="Latent (nearest-exact)",
            hr_second_pass_steps=4,
        )
        processed = host.process_images(p)
        first, hires = host.runs
        resize = [c for c in calls if c["shape"] == (1, 4, 6, 8)]
        assert len(resize) == 1 and resize[0]["size"] == (12, 16)
        assert resize[0]["mode"] == "nearest-exact" and resize[0]["antialias"] is False
        assert torch.equal(
            hires.x, torch.nn.functional.interpolate(first.result, size=(12, 16), mode="nearest-exact")
        )
        assert hires.is_hr_pass and not first.is_hr_pass and hires.requested_steps == 4
        assert hires.launch_steps == 4 and hires.steps == 8  # the hires pass always behaves as fixed steps
        assert processed.images[0].size == (128, 96)
        info = host.parse_infotext(processed.info)
        assert info["Hires upscaler"] == "Latent (nearest-exact)" and info["Hires upscale"] == "2.0"


def test_hires_upscaler_none_uses_the_default_latent_mode_bilinear(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(width=64, height=64, steps=4, enable_hr=True, denoising_strength=0.5)
        )
        assert [c["mode"] for c in calls if c["size"] == (16, 16)] == ["bilinear"]


def test_unknown_hr_upscaler_raises_the_real_message(webui_flavor):
    with fake_webui_context(webui_flavor) as host:
        p = host.new_txt2img(width=64, height=64, steps=4, enable_hr=True, hr_upscaler="Latent (bislerp)")
        with pytest.raises(Exception, match="could not find upscaler named Latent \\(bislerp\\)"):
            host.process_images(p)


def test_a_new_latent_upscale_modes_entry_is_passed_straight_to_torch(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        host.latent_upscale_modes["Latent (area)"] = {"mode": "area", "antialias": False}
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(
                width=64,
                height=64,
                steps=4,
                enable_hr=True,
                hr_upscaler="Latent (area)",
                denoising_strength=0.5,
            )
        )
        assert [c["mode"] for c in calls if c["size"] == (16, 16)] == ["area"]
        host.latent_upscale_modes["Latent (bislerp)"] = {"mode": "bislerp", "antialias": False}
        with pytest.raises(NotImplementedError):
            host.process_images(
                host.new_txt2img(
                    width=64,
                    height=64,
                    steps=4,
                    enable_hr=True,
                    hr_upscaler="Latent (bislerp)",
                    denoising_strength=0.5,
                )
            )


def test_non_latent_hires_upscaler_decodes_resizes_and_reencodes_without_interpolating(monkeypatch):
    with fake_webui_context("1.10.1") as host:
        calls = interpolate_spy(monkeypatch)
        host.process_images(
            host.new_txt2img(
                width=64, height=64, steps=4, enable_hr=True, hr_upscaler="Lanczos", denoising_strength=0.5
            )
        )
        assert not [c for c in calls if c["size"] == (16, 16)]
        assert tuple(host.record.encoded[-1].shape) == (1, 3, 128, 128) and host.runs[-1].x.shape == (
            1,
            4,
            16,
            16,
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device to tell devices apart")
def test_get_sigmas_device_follows_each_host_with_a_gpu(webui_flavor):
    with fake_webui_context(webui_flavor, device="cuda") as host:
        p = host.new_img2img(width=64, height=64, steps=4, denoising_strength=1.0)
        p.sampler_noise_scheduler_override = lambda steps: _karras(steps).to("cuda")
        host.process_images(p)
        run = host.runs[-1]
        # 1.6 uses the override's tensor as returned; 1.10/Forge/reForge `.cpu()` it; Forge/reForge then
        # move it
        # to the latent's device for sampling
        assert run.sigmas_device.type == ("cuda" if webui_flavor == "1.6.0" else "cpu")
        assert run.schedule.device.type == ("cpu" if webui_flavor == "1.10.1" else "cuda")
        assert run.x_device.type == "cuda" and run.result.device.type == "cuda"


# --- timestep samplers (DDIM, PLMS, UniPC): how many model calls img2img really makes ---------------------


def _real_timestep_calls(sampler, steps, denoise, fixed):
    """Model calls of one img2img job, derived from the real code (identical in every host):
    ``setup_img2img_steps`` (sd_samplers_common.py), ``get_timesteps`` + ``timesteps[:t_enc]``
    (sd_samplers_timesteps.py), and the walks of sd_samplers_timesteps_impl.py: ``ddim`` calls the model
    ``len(timesteps) - 1`` times; ``plms`` once more (its first step evaluates ``t_next`` too); ``unipc``
    ``len(timesteps)`` times (one at the start, one corrector call per step but the last)."""
    denoise = min(denoise, 0.999)
    total, t_enc = (int(steps / denoise), steps - 1) if fixed else (steps, int(denoise * steps))
    n = len(range(0, 1000, 1000 // total)[:t_enc])
    return n - 1 if sampler == "DDIM" else n


def _count_img2img_calls(host, sampler, steps, denoise, *, fixed, explicit_steps=None):
    host.opts.data["img2img_fix_steps"] = fixed
    p = host.new_img2img(width=64, height=64, steps=steps, denoising_strength=denoise, sampler_name=sampler)
    if explicit_steps is not None:
        # as an extension would: pass steps= to this job's sampler once the host's init() created it
        original_init = p.init

        def init(*args, **kwargs):
            result = original_init(*args, **kwargs)
            sample = p.sampler.sample_img2img
            p.sampler.sample_img2img = lambda *a, **kw: sample(*a, **{**kw, "steps": explicit_steps})
            return result

        p.init = init
    host.process_images(p)
    run = host.runs[-1]
    assert run.kind == "timesteps" and run.is_img2img
    return run.model_evaluations


@pytest.mark.parametrize("sampler", ["DDIM", "PLMS", "UniPC"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_timestep_samplers_make_as_many_model_calls_as_the_real_walks(flavor, sampler):
    cases = [
        (6, 0.5, True),
        (30, 0.4, True),
        (20, 0.75, True),
        (6, 0.5, False),
        (30, 0.4, False),
        (7, 1.0, True),
    ]
    with fake_webui_context(flavor) as host:
        for steps, denoise, fixed in cases:
            calls = _count_img2img_calls(host, sampler, steps, denoise, fixed=fixed)
            assert calls == _real_timestep_calls(sampler, steps, denoise, fixed), (steps, denoise, fixed)
    # Seen on real A1111 1.6/1.10, Forge and reForge (latent_upscale/webui/HOST_SEAMS.md §11):
    # DDIM, 6 fixed steps -> 4
    assert _real_timestep_calls("DDIM", 6, 0.5, True) == 4


@pytest.mark.parametrize("flavor", ["1.10.1", "forge-neo"])
def test_fixed_steps_run_s_minus_2_calls_with_ddim_and_s_minus_1_with_plms_and_unipc(flavor):
    with fake_webui_context(flavor) as host:
        for steps in (4, 6, 13, 30):
            assert _count_img2img_calls(host, "DDIM", steps, 0.4, fixed=True) == steps - 2
            assert _count_img2img_calls(host, "PLMS", steps, 0.4, fixed=True) == steps - 1
            assert _count_img2img_calls(host, "UniPC", steps, 0.4, fixed=True) == steps - 1


@pytest.mark.parametrize("flavor", ["1.6.0", "forge", "forge-neo"])
def test_asking_for_two_more_steps_makes_ddim_exact_and_one_more_plms_and_unipc(flavor):
    # The glue fix proposed in neo-notes.md: pass steps = S + 2 (DDIM) or S + 1 (PLMS, UniPC) explicitly.
    with fake_webui_context(flavor) as host:
        for steps, denoise in ((6, 0.5), (30, 0.4), (10, 1.0), (4, 0.2)):
            for sampler, extra in (("DDIM", 2), ("PLMS", 1), ("UniPC", 1)):
                calls = _count_img2img_calls(
                    host, sampler, steps, denoise, fixed=False, explicit_steps=steps + extra
                )
                assert calls == steps, (sampler, steps, denoise)


def test_unipc_refuses_fewer_img2img_steps_than_its_order():
    # uni_pc.py UniPC.sample: `assert steps >= order` with steps = t_enc (default order 3)
    with fake_webui_context("1.10.1") as host:
        assert _count_img2img_calls(host, "UniPC", 10, 0.3, fixed=False) == 3
        with pytest.raises(AssertionError, match="UniPC order"):
            _count_img2img_calls(host, "UniPC", 10, 0.2, fixed=False)


# --- Forge Neo (Haoming02/sd-webui-forge-classic, neo branch): where it differs from Forge ------------------


def test_neo_is_a_forge_family_flavor_with_its_own_switches():
    with fake_webui_context("forge-neo") as host:
        flavor = host.module("modules.fake_host").FLAVOR
        assert flavor.is_forge and flavor.is_neo and not flavor.is_reforge
        assert flavor.kdiffusion_uses_compvis_denoiser and not flavor.scheduler_device_is_cpu
    with fake_webui_context("forge") as host:
        flavor = host.module("modules.fake_host").FLAVOR
        assert not flavor.is_neo and not flavor.kdiffusion_uses_compvis_denoiser
        assert flavor.scheduler_device_is_cpu


def test_neo_kdiffusion_model_wrap_is_a_compvis_denoiser_over_the_engines_alphas_cumprod():
    # Neo sd_samplers_kdiffusion.py CFGDenoiserKDiffusion.inner_model:
    # CompVisDenoiser(sd_model, quantize=True);
    # Forge: ForgeScheduleLinker(unet.model.predictor)
    with fake_webui_context("forge-neo") as host:
        wrap = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(wrap).__name__ == "CompVisDenoiser" and not hasattr(wrap, "predictor")
        a = host.sd_model.alphas_cumprod
        assert torch.allclose(wrap.sigmas, ((1 - a) / a) ** 0.5)
        assert wrap.log_sigmas.shape == wrap.sigmas.shape
    with fake_webui_context("forge") as host:
        wrap = host.sd_samplers.create_sampler("Euler", host.sd_model).model_wrap
        assert type(wrap).__name__ == "ForgeScheduleLinker"


def test_neo_custom_sigmas_reach_the_sampler_like_on_forge():
    for flavor in ("forge", "forge-neo"):
        with fake_webui_context(flavor) as host:
            p = host.new_img2img(width=64, height=64, steps=10, denoising_strength=0.5)
            p.sampler_noise_scheduler_override = _karras
            host.process_images(p)
            run = host.runs[-1]
            n = int(10 / 0.999)
            assert (
                run.override_used and run.t_enc == 5 and torch.allclose(run.schedule, _karras(n)[n - 5 - 1 :])
            )


def test_neo_models_have_is_flux_and_no_sd2_or_sd3():
    # backend/diffusion_engine/base.py fix_for_webui_backward_compatibility; no sd20/sd35 engine in Neo
    with fake_webui_context("forge-neo", model="flux") as host:
        model = host.sd_model
        assert model.is_flux and not model.is_sd1 and not model.is_sdxl and not model.is_wan
        assert not hasattr(model, "is_sd2") and not hasattr(model, "is_sd3")
        assert model.forge_objects.vae.latent_channels == 16
        assert model.forge_objects.vae.first_stage_model.scaling_factor == pytest.approx(0.3611)
        for kind in ("sd2", "sd3"):
            with pytest.raises(ValueError, match="does not exist on forge-neo"):
                host.sd_models.load_fake_model(kind)
    with fake_webui_context("forge", model="flux") as host:
        assert not getattr(host.sd_model, "is_flux", False) and hasattr(host.sd_model, "is_sd3")


def test_neo_timestep_samplers_read_the_engines_alphas_cumprod_where_forge_rebuilds_it():
    with fake_webui_context("forge-neo") as host:
        own = host.sd_model.alphas_cumprod
        host.sd_samplers.create_sampler("DDIM", host.sd_model)
        assert host.sd_model.alphas_cumprod is own
    with fake_webui_context("forge") as host:
        assert not hasattr(host.sd_model, "alphas_cumprod")
        host.sd_samplers.create_sampler("DDIM", host.sd_model)
        assert hasattr(host.sd_model, "alphas_cumprod")  # Forge sd_samplers_timesteps.py :31


def test_neo_launch_git_clone_is_not_implemented():
    with fake_webui_context("forge-neo") as host:
        launch = host.module("launch")
        with pytest.raises(NotImplementedError):
            launch.git_clone("https://example.invalid/x.git", "/tmp/x", "x")
        assert launch.is_installed("torch") and callable(launch.run_pip)
