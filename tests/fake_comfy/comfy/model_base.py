"""Fake ``comfy.model_base``: a model with its latent format and sampling (no network)."""

import torch

from comfy.model_sampling import ModelSamplingDiscrete


class BaseModel(torch.nn.Module):
    def __init__(self, latent_format):
        super().__init__()
        self.latent_format = latent_format
        self.model_sampling = ModelSamplingDiscrete()
