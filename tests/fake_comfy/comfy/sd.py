"""Fake ``comfy.sd``: the ``VAE`` attributes that describe its latent."""


class VAE:
    def __init__(self, latent_channels=4, latent_dim=2, downscale_ratio=8):
        self.latent_channels = latent_channels
        self.latent_dim = latent_dim
        self.downscale_ratio = downscale_ratio

    def spacial_compression_encode(self):
        try:
            return self.downscale_ratio[-1]
        except TypeError:
            return self.downscale_ratio
