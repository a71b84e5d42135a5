"""Fake k_diffusion.external: the sigma table a sampler exposes as ``p.sampler.model_wrap``.

``DiscreteSchedule`` keeps ``sigmas`` ascending (1000 values for SD) with ``log_sigmas``, ``sigma_min``,
``sigma_max``, ``get_sigmas(n)`` (n descending values + a trailing 0), ``sigma_to_t`` (interpolating in
log-sigma, or quantized) and ``t_to_sigma``: the interface of k-diffusion's class of the same name.
``ForgeScheduleLinker`` mirrors Forge's k_diffusion/external.py :41-74, including its
``sigma_min``/``sigma_max`` properties that CALL ``predictor.sigma_min`` (a tensor property there), which
raises TypeError in real Forge.
"""

import torch
from torch import nn

from k_diffusion import sampling


class DiscreteSchedule(nn.Module):
    def __init__(self, sigmas, quantize):
        super().__init__()
        self.register_buffer("sigmas", sigmas)
        self.register_buffer("log_sigmas", sigmas.log())
        self.quantize = quantize

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def get_sigmas(self, n=None):
        if n is None:
            return sampling.append_zero(self.sigmas.flip(0))
        t_max = len(self.sigmas) - 1
        t = torch.linspace(t_max, 0, n, device=self.sigmas.device)
        return sampling.append_zero(self.t_to_sigma(t))

    def sigma_to_t(self, sigma, quantize=None):
        quantize = self.quantize if quantize is None else quantize
        log_sigma = sigma.log()
        dists = log_sigma - self.log_sigmas[:, None]
        if quantize:
            return dists.abs().argmin(dim=0).view(sigma.shape)
        low_idx = dists.ge(0).cumsum(dim=0).argmax(dim=0).clamp(max=self.log_sigmas.shape[0] - 2)
        high_idx = low_idx + 1
        low, high = self.log_sigmas[low_idx], self.log_sigmas[high_idx]
        w = ((low - log_sigma) / (low - high)).clamp(0, 1)
        t = (1 - w) * low_idx + w * high_idx
        return t.view(sigma.shape)

    def t_to_sigma(self, t):
        t = t.float()
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
        log_sigma = (1 - w) * self.log_sigmas[low_idx] + w * self.log_sigmas[high_idx]
        return log_sigma.exp()


class CompVisDenoiser(DiscreteSchedule):
    """Sigmas from ``model.alphas_cumprod``: sigma = sqrt((1 - a) / a)."""

    def __init__(self, model, quantize=False):
        super().__init__(((1 - model.alphas_cumprod) / model.alphas_cumprod) ** 0.5, quantize)
        self.inner_model = model
        self.sigma_data = 1.0

    def forward(self, input, sigma, **kwargs):
        return input


class CompVisVDenoiser(CompVisDenoiser):
    """v-prediction wrapper (SD2 768-v); same sigma table."""


class ForgeScheduleLinker(nn.Module):
    """mirrors Forge k_diffusion/external.py ForgeScheduleLinker (:41-74)."""

    def __init__(self, predictor):
        super().__init__()
        self.predictor = predictor

    @property
    def sigmas(self):
        return self.predictor.sigmas

    @property
    def log_sigmas(self):
        return self.predictor.sigmas.log()

    @property
    def sigma_min(self):
        return self.predictor.sigma_min()  # real Forge: TypeError, predictor.sigma_min is a tensor property

    @property
    def sigma_max(self):
        return self.predictor.sigma_max()  # idem

    def get_sigmas(self, n=None):
        if n is None:
            return sampling.append_zero(self.sigmas.flip(0))
        t_max = len(self.sigmas) - 1
        t = torch.linspace(t_max, 0, n, device=self.sigmas.device)
        return sampling.append_zero(self.t_to_sigma(t))

    def sigma_to_t(self, sigma, quantize=None):
        return self.predictor.timestep(sigma)

    def t_to_sigma(self, t):
        return self.predictor.sigma(t)
