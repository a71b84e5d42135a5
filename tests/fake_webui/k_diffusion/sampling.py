"""Fake k_diffusion.sampling: schedule builders (closed forms) and deterministic sampler loops.

Schedules follow Karras et al. 2022 (karras), log-linear (exponential) and polyexponential, each returning n
descending sigmas and a trailing 0. Every ``sample_*`` is the same Euler walk over the sigmas it is given:
``x += (x - denoised) / sigma * (sigma_next - sigma)``; the ancestral/SDE variants add no noise.
With the fake denoiser (which returns the run's start latent) the walk ends exactly on that latent.
"""

import math

import torch


def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def get_sigmas_karras(n, sigma_min, sigma_max, rho=7.0, device="cpu"):
    ramp = torch.linspace(0, 1, n, device=device)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return append_zero(sigmas).to(device)


def get_sigmas_exponential(n, sigma_min, sigma_max, device="cpu"):
    sigmas = torch.linspace(math.log(sigma_max), math.log(sigma_min), n, device=device).exp()
    return append_zero(sigmas)


def get_sigmas_polyexponential(n, sigma_min, sigma_max, rho=1.0, device="cpu"):
    ramp = torch.linspace(1, 0, n, device=device) ** rho
    sigmas = torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min))
    return append_zero(sigmas)


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def _euler_walk(model, x, sigmas, extra_args=None, callback=None, disable=None):
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        sigma = sigmas[i].to(x.device) if torch.is_tensor(sigmas[i]) else torch.tensor(sigmas[i])
        sigma_next = (
            sigmas[i + 1].to(x.device) if torch.is_tensor(sigmas[i + 1]) else torch.tensor(sigmas[i + 1])
        )
        denoised = model(x, sigma * s_in, **extra_args)
        if callback is not None:
            callback({"x": x, "i": i, "sigma": sigma, "sigma_hat": sigma, "denoised": denoised})
        x = x + to_d(x, sigma, denoised) * (sigma_next - sigma)
    return x


def sample_euler(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    disable=None,
    s_churn=0.0,
    s_tmin=0.0,
    s_tmax=float("inf"),
    s_noise=1.0,
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_euler_ancestral(
    model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0, noise_sampler=None
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_heun(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    disable=None,
    s_churn=0.0,
    s_tmin=0.0,
    s_tmax=float("inf"),
    s_noise=1.0,
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpm_2(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    disable=None,
    s_churn=0.0,
    s_tmin=0.0,
    s_tmax=float("inf"),
    s_noise=1.0,
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpm_2_ancestral(
    model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0, noise_sampler=None
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_lms(model, x, sigmas, extra_args=None, callback=None, disable=None, order=4):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpmpp_2m(model, x, sigmas, extra_args=None, callback=None, disable=None):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpmpp_2s_ancestral(
    model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0, noise_sampler=None
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpmpp_sde(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    disable=None,
    eta=1.0,
    s_noise=1.0,
    noise_sampler=None,
    r=1 / 2,
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpmpp_2m_sde(
    model,
    x,
    sigmas,
    extra_args=None,
    callback=None,
    disable=None,
    eta=1.0,
    s_noise=1.0,
    noise_sampler=None,
    solver_type="midpoint",
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpmpp_3m_sde(
    model, x, sigmas, extra_args=None, callback=None, disable=None, eta=1.0, s_noise=1.0, noise_sampler=None
):
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)


def sample_dpm_fast(
    model,
    x,
    sigma_min,
    sigma_max,
    n,
    extra_args=None,
    callback=None,
    disable=None,
    eta=0.0,
    s_noise=1.0,
    noise_sampler=None,
):
    """Like the real one, builds its own schedule from (sigma_min, sigma_max, n): the host passes
    ``sigma_min = sigma_sched[-2]`` (the last non-zero sigma)."""
    if sigma_min <= 0 or sigma_max <= 0:
        raise ValueError("sigma_min and sigma_max must not be 0")
    sigmas = get_sigmas_exponential(int(n), float(sigma_min), float(sigma_max), device=x.device)
    return _euler_walk(model, x, sigmas, extra_args, callback, disable)
