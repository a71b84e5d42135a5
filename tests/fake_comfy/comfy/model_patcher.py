"""Fake ``comfy.model_patcher``: the ``MODEL`` nodes pass around."""

from comfy.model_base import BaseModel


class ModelPatcher:
    def __init__(self, model):
        self.model = model
        self.object_patches = {}

    def get_model_object(self, name):
        if name in self.object_patches:
            return self.object_patches[name]
        return getattr(self.model, name)


def model_for(latent_format):
    """A ``MODEL`` whose latent format is ``latent_format`` (an instance of a comfy.latent_formats class)."""
    return ModelPatcher(BaseModel(latent_format))
