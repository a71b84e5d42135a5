"""Fake ``comfy.latent_formats``: class names, channels, dimensions and spatial ratios only."""


class LatentFormat:
    scale_factor = 1.0
    latent_channels = 4
    latent_dimensions = 2
    spacial_downscale_ratio = 8
    temporal_downscale_ratio = 1


class SD15(LatentFormat):
    scale_factor = 0.18215


class SDXL(LatentFormat):
    scale_factor = 0.13025


class SD3(LatentFormat):
    latent_channels = 16
    scale_factor = 1.5305


class Flux(SD3):
    scale_factor = 0.3611


class Flux2(LatentFormat):
    latent_channels = 128
    spacial_downscale_ratio = 16


class Wan21(LatentFormat):
    latent_channels = 16
    latent_dimensions = 3


class Wan22(Wan21):
    latent_channels = 48
    spacial_downscale_ratio = 16


class HunyuanImage21(LatentFormat):
    latent_channels = 64
    spacial_downscale_ratio = 32
