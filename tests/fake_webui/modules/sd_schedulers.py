"""Mirrors modules/sd_schedulers.py (v1.10.1): ``Scheduler`` and ``schedulers_map`` (keyed by name AND label).

Absent before 1.9 (importing it raises ModuleNotFoundError on the 1.6.0 flavor, as on the real host).
Simplified: a subset of the real list (v1.10.1 :130-145): Automatic, Uniform, Karras, Exponential,
Polyexponential, SGM Uniform and (1.10+/Forge/reForge) Simple and Normal. Call form as in the real
``KDiffusionSampler.get_sigmas``: ``f(n=, sigma_min=, sigma_max=, device=, [rho=], [inner_model=])``.
"""

import dataclasses

import torch

from modules.fake_host import FLAVOR

if not FLAVOR.has_schedulers:
    raise ModuleNotFoundError("No module named 'modules.sd_schedulers'", name="modules.sd_schedulers")

import k_diffusion.sampling


@dataclasses.dataclass
class Scheduler:
    name: str
    label: str
    function: any

    default_rho: float = -1
    need_inner_model: bool = False
    aliases: list = None


def uniform(n, sigma_min, sigma_max, inner_model, device):
    sigmas = inner_model.get_sigmas(n)
    return sigmas.to(device) if FLAVOR.at_least(1, 10) else sigmas


def sgm_uniform(n, sigma_min, sigma_max, inner_model, device):
    start = inner_model.sigma_to_t(torch.tensor(sigma_max))
    end = inner_model.sigma_to_t(torch.tensor(sigma_min))
    sigs = [inner_model.t_to_sigma(ts) for ts in torch.linspace(start, end, n + 1)[:-1]]
    sigs += [0.0]
    return torch.FloatTensor(sigs).to(device)


def simple_scheduler(n, sigma_min, sigma_max, inner_model, device):
    sigs = []
    ss = len(inner_model.sigmas) / n
    for x in range(n):
        sigs += [float(inner_model.sigmas[-(1 + int(x * ss))])]
    sigs += [0.0]
    return torch.FloatTensor(sigs).to(device)


def normal_scheduler(n, sigma_min, sigma_max, inner_model, device, sgm=False, floor=False):
    start = inner_model.sigma_to_t(torch.tensor(sigma_max))
    end = inner_model.sigma_to_t(torch.tensor(sigma_min))
    timesteps = torch.linspace(start, end, n + 1)[:-1] if sgm else torch.linspace(start, end, n)
    sigs = [inner_model.t_to_sigma(ts) for ts in timesteps]
    sigs += [0.0]
    return torch.FloatTensor(sigs).to(device)


schedulers = [
    Scheduler("automatic", "Automatic", None),
    Scheduler("uniform", "Uniform", uniform, need_inner_model=True),
    Scheduler("karras", "Karras", k_diffusion.sampling.get_sigmas_karras, default_rho=7.0),
    Scheduler("exponential", "Exponential", k_diffusion.sampling.get_sigmas_exponential),
    Scheduler(
        "polyexponential", "Polyexponential", k_diffusion.sampling.get_sigmas_polyexponential, default_rho=1.0
    ),
    Scheduler("sgm_uniform", "SGM Uniform", sgm_uniform, need_inner_model=True, aliases=["SGMUniform"]),
]
if FLAVOR.at_least(1, 10):
    schedulers += [
        Scheduler("simple", "Simple", simple_scheduler, need_inner_model=True),
        Scheduler("normal", "Normal", normal_scheduler, need_inner_model=True),
    ]

schedulers_map = {**{x.name: x for x in schedulers}, **{x.label: x for x in schedulers}}
