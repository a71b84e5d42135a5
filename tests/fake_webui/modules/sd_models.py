"""Mirrors the model object the host hands around as ``shared.sd_model`` (per family and flavor).

The fake VAE is deterministic: encode = 8x8 average pooling of the [-1, 1] image, then a fixed 3 -> C linear
map (C = 4, or 16 for SD3/Flux); decode = the pseudo-inverse, then 8x nearest upsampling. Its "raw" latents
are then put in model space exactly where each real host does it:
- A1111 SD1/SD2 (ldm): ``get_first_stage_encoding`` multiplies by ``scale_factor`` 0.18215;
- A1111 SDXL (sgm): ``encode_first_stage`` multiplies by ``scale_factor`` 0.13025,
  ``get_first_stage_encoding`` is an identity (sd_models_xl.py 1.10.1 :46);
- A1111 1.10 SD3: no ``scale_factor``; ``latent_format`` (scale 1.5305, shift 0.0609) in
  ``encode_first_stage`` (sd3_model.py :59-68), ``create_denoiser()`` (flow sigmas, shift 3),
  ``add_noise_to_latent``, 16 channels;
- Forge: ``forge_objects.vae.first_stage_model.process_in`` = ``(z - shift_factor) * scaling_factor``
  (backend/nn/vae.py :312-316) in ``encode_first_stage``; identity ``get_first_stage_encoding``; no
  ``scale_factor``/``alphas_cumprod`` on the model; Flux: every ``is_*`` False, 16 channels (0.3611/0.1159);
- reForge: ``forge_objects.unet.model.latent_format.process_in`` (forge_loader.py :535-549; also reachable as
  ``.model_config.latent_format``), ldm ``scale_factor`` still present on SD1/SDXL objects.
- Forge Neo: Forge's engine objects (same ``process_in``; backend/nn/vae.py ``IntegratedAutoencoderKL``), but
  no SD2/SD3 engines; ``ForgeDiffusionEngine.fix_for_webui_backward_compatibility`` (backend/diffusion_engine/
  base.py) sets ``is_sd1``, ``is_sdxl``, ``is_flux`` (True on Flux: flux.py), ``is_wan``, ``is_llm`` and
  ``use_distilled_cfg_scale``/``use_shift`` (no ``is_sd2``/``is_sd3``); the k-diffusion and timestep
  samplers read ``sd_model.alphas_cumprod`` (the fake derives it from the predictor; where Neo sets it:
  not verified). Neo "qwen" (Qwen-Image, ``backend/diffusion_engine/qwen.py``): ``is_wan`` True, a WanVAE
  whose ``first_stage_model`` has no ``scaling_factor`` but a ``latent_format`` (class ``Wan21``, per-channel
  mean/std), and 5-D latents (B, 16, 1, H // 8, W // 8): only its model object is emulated (img2img on it is
  not; the real mode-3 ``interpolate(..., size=(h, w), mode="bilinear")`` fails on 5-D latents too).
  Neo "flux2" (FLUX.2 Klein, ``backend/diffusion_engine/flux2.py``): ``VAE(is_flux2=True)`` holds the
  32-channel latent packed 2x2 (128 channels at 1/16, ``backend/patcher/vae.py``), its VAE model carries a
  ``Flux2`` latent format (identity) and the engine a ``Flux2K4B`` ``model_config``; no ``is_*`` flag set.
Flags per flavor: 1.6 ``is_sd1/is_sd2/is_sdxl``; 1.10 + ``is_ssd``, ``is_sd3``, ``latent_channels``,
``is_sdxl_inpaint``; Forge ``is_sd1/2/sdxl/sd3``, ``is_inpaint`` (no ``is_ssd``, no ``latent_channels``);
Neo ``is_sd1/sdxl/flux/wan/llm``, ``is_inpaint``; reForge ``is_sd1/2/sdxl/sd3/ssd``, ``is_sdxl_inpaint``,
``latent_channels``.
"""

import contextlib
from types import SimpleNamespace

import torch

from modules import devices
from modules.fake_host import FLAVOR, MODEL_KIND, RECORD

checkpoint_aliases = {}
checkpoints_list = {}


class CheckpointInfo:
    def __init__(self, name):
        self.filename = f"/fake/models/Stable-diffusion/{name}.safetensors"
        self.name = f"{name}.safetensors"
        self.name_for_extra = name
        self.model_name = name
        self.title = f"{name}.safetensors [0123456789]"
        self.short_title = f"{name} [0123456789]"
        self.hash = "0123456789"
        self.shorthash = "0123456789"


def _basis(channels):
    rows = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]]
    return torch.tensor([[v * (1 + 0.1 * (c // 4)) for v in rows[c % 4]] for c in range(channels)])


def fake_vae_encode(image, channels):
    """image (B, 3, H, W) in [-1, 1] -> raw latent (B, C, H // 8, W // 8), same dtype."""
    RECORD.encoded.append(image.detach().clone())
    pooled = torch.nn.functional.avg_pool2d(image.float(), 8)
    latent = torch.einsum("ck,bkhw->bchw", _basis(channels).to(pooled.device), pooled)
    return latent.to(image.dtype)


def fake_vae_decode(latent, channels):
    """raw latent (B, C, h, w) -> image (B, 3, 8h, 8w) in [-1, 1], same dtype."""
    RECORD.decoded.append(latent.detach().clone())
    inverse = torch.linalg.pinv(_basis(channels)).to(latent.device)
    rgb = torch.einsum("kc,bchw->bkhw", inverse, latent.float())
    image = torch.nn.functional.interpolate(rgb, scale_factor=8, mode="nearest").clamp(-1, 1)
    return image.to(latent.dtype)


def scaled_linear_alphas_cumprod(timesteps=1000, linear_start=0.00085, linear_end=0.012):
    """ldm "linear" schedule (really scaled-linear): betas = linspace(sqrt(start), sqrt(end)) ** 2."""
    betas = torch.linspace(linear_start**0.5, linear_end**0.5, timesteps, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


def flow_sigmas(shift=3.0, timesteps=1000):
    """SD3 ModelSamplingDiscreteFlow sigmas: shift * t / (1 + (shift - 1) * t), t = 1..1000 / 1000."""
    t = torch.arange(1, timesteps + 1, 1) / timesteps
    return shift * t / (1 + (shift - 1) * t)


class _FirstStage(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dtype = devices.dtype_vae


class _FakeModelBase:
    """Attributes every host model has for processing.py."""

    sd_model_hash = "0123456789"
    cond_stage_key = "txt"
    parameterization = "eps"

    def __init__(self, kind):
        self.fake_kind = kind
        self.sd_checkpoint_info = CheckpointInfo(f"fake-{kind}")
        self.sd_model_checkpoint = self.sd_checkpoint_info.filename
        self.model = SimpleNamespace(conditioning_key="crossattn")
        self.first_stage_model = _FirstStage()
        self.cond_stage_model = SimpleNamespace()

    def ema_scope(self, *args, **kwargs):
        return contextlib.nullcontext()

    def fake_channels(self):
        return 4


class A1111LatentDiffusion(_FakeModelBase):
    """ldm LatentDiffusion (SD1/SD2)."""

    def __init__(self, kind):
        super().__init__(kind)
        self.scale_factor = 0.18215
        self.alphas_cumprod = scaled_linear_alphas_cumprod().to(devices.device)
        if kind == "sd2":
            self.parameterization = "v"
            self.cond_stage_model = SimpleNamespace(model=object())

    def encode_first_stage(self, x):
        return fake_vae_encode(x, 4)

    def get_first_stage_encoding(self, encoder_posterior):
        return self.scale_factor * encoder_posterior

    def decode_first_stage(self, z):
        return fake_vae_decode(z / self.scale_factor, 4)


class A1111SDXL(_FakeModelBase):
    """sgm DiffusionEngine (SDXL), after sd_models_xl.extend_sdxl."""

    def __init__(self, kind):
        super().__init__(kind)
        self.scale_factor = 0.13025
        self.conditioner = SimpleNamespace()
        self.alphas_cumprod = scaled_linear_alphas_cumprod().to(devices.device)

    def encode_first_stage(self, x):
        return self.scale_factor * fake_vae_encode(x, 4)

    def get_first_stage_encoding(self, x):
        return x

    def decode_first_stage(self, z):
        return fake_vae_decode(z / self.scale_factor, 4)


class SD3LatentFormat:
    """modules/models/sd3/sd3_impls.py SD3LatentFormat (:100-110)."""

    def __init__(self):
        self.scale_factor = 1.5305
        self.shift_factor = 0.0609

    def process_in(self, latent):
        return (latent - self.shift_factor) * self.scale_factor

    def process_out(self, latent):
        return (latent / self.scale_factor) + self.shift_factor


class A1111SD3(_FakeModelBase):
    """modules/models/sd3/sd3_model.py SD3Inferencer (1.10)."""

    def __init__(self, kind):
        super().__init__(kind)
        self.latent_format = SD3LatentFormat()
        self.latent_channels = 16
        self.fake_sigmas = flow_sigmas(shift=3.0)
        self.alphas_cumprod = 1 / (self.fake_sigmas**2 + 1)

    def fake_channels(self):
        return 16

    def encode_first_stage(self, image):
        return self.latent_format.process_in(fake_vae_encode(image, 16))

    def get_first_stage_encoding(self, x):
        return x

    def decode_first_stage(self, latent):
        return fake_vae_decode(self.latent_format.process_out(latent), 16)

    def create_denoiser(self):
        import k_diffusion.external

        denoiser = k_diffusion.external.DiscreteSchedule(self.fake_sigmas.clone(), quantize=False)
        denoiser.inner_model = self
        return denoiser

    def add_noise_to_latent(self, x, noise, amount):
        return x * (1 - amount) + noise * amount

    def fix_dimensions(self, width, height):
        return width // 16 * 16, height // 16 * 16


# --- Forge (backend/) ---------------------------------------------------------------------------------------
class ForgePrediction(torch.nn.Module):
    """backend/modules/k_prediction.py Prediction (eps): sigmas from the scaled-linear betas."""

    def __init__(self):
        super().__init__()
        alphas_cumprod = scaled_linear_alphas_cumprod()
        sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        self.prediction_type = "epsilon"
        self.register_buffer("alphas_cumprod", alphas_cumprod.float())
        self.register_buffer("sigmas", sigmas.float())
        self.register_buffer("log_sigmas", sigmas.log().float())

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def timestep(self, sigma):
        log_sigma = sigma.log()
        dists = log_sigma.to(self.log_sigmas.device) - self.log_sigmas[:, None]
        return dists.abs().argmin(dim=0).view(sigma.shape).to(sigma.device)

    def sigma(self, timestep):
        t = torch.clamp(timestep.float().to(self.log_sigmas.device), min=0, max=(len(self.sigmas) - 1))
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
        log_sigma = (1 - w) * self.log_sigmas[low_idx] + w * self.log_sigmas[high_idx]
        return log_sigma.exp().to(timestep.device)

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        noise = noise * torch.sqrt(1.0 + sigma**2.0) if max_denoise else noise * sigma
        return noise + latent_image


class ForgePredictionFlow(torch.nn.Module):
    """backend/modules/k_prediction.py PredictionDiscreteFlow (SD3, shift 3) / PredictionFlux ('const')."""

    def __init__(self, sigmas, timestep_multiplier):
        super().__init__()
        self.prediction_type = "const"
        self.multiplier = timestep_multiplier
        self.register_buffer("sigmas", sigmas.float())

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def timestep(self, sigma):
        return sigma * self.multiplier

    def sigma(self, timestep):
        return timestep / self.multiplier

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        return sigma * noise + (1.0 - sigma) * latent_image


class ForgeVAEModel(torch.nn.Module):
    """backend/nn/vae.py: process_in/process_out with scaling_factor/shift_factor."""

    def __init__(self, scaling_factor, shift_factor):
        super().__init__()
        self.scaling_factor = scaling_factor
        self.shift_factor = shift_factor

    def process_in(self, latent):
        return (latent - self.shift_factor) * self.scaling_factor

    def process_out(self, latent):
        return (latent / self.scaling_factor) + self.shift_factor


class ForgeVAE:
    """backend/patcher/vae.py VAE: encode/decode take/return channel-last images in [0, 1]."""

    def __init__(self, channels, scaling_factor, shift_factor):
        self.latent_channels = channels
        self.first_stage_model = ForgeVAEModel(scaling_factor, shift_factor)

    def encode(self, pixel_samples):
        return fake_vae_encode(pixel_samples.movedim(-1, 1) * 2.0 - 1.0, self.latent_channels)

    def decode(self, samples):
        return (fake_vae_decode(samples, self.latent_channels).movedim(1, -1) + 1.0) / 2.0


class ForgeObjects:
    def __init__(self, unet, clip, vae, clipvision):
        self.unet = unet
        self.clip = clip
        self.vae = vae
        self.clipvision = clipvision

    def shallow_copy(self):
        return ForgeObjects(self.unet, self.clip, self.vae, self.clipvision)


_FORGE_VAE = {
    "sd1": (4, 0.18215, 0.0),
    "sd2": (4, 0.18215, 0.0),
    "sdxl": (4, 0.13025, 0.0),
    "sd3": (16, 1.5305, 0.0609),
    "flux": (16, 0.3611, 0.1159),
}


class Wan21:
    """huggingface_guess/ComfyUI ``latent_formats.Wan21`` (Neo sets it as ``WanVAE.latent_format``): 16
    channels, ``process_in = (latent - mean) * scale_factor / std`` with per-channel mean/std of shape
    (1, 16, 1, 1, 1) (video latents). Fake-only: the class name is what the glue reads, the numbers are
    the real ones' first digits (the glue reads whatever the object holds)."""

    scale_factor = 1.0
    latent_channels = 16

    def __init__(self):
        self.latents_mean = torch.linspace(-0.9, 1.5, 16).view(1, 16, 1, 1, 1)
        self.latents_std = torch.linspace(1.6, 3.2, 16).view(1, 16, 1, 1, 1)

    def _stats(self, latent):
        shape = (1, 16) + (1,) * (latent.dim() - 2)
        return self.latents_mean.view(shape).to(latent), self.latents_std.view(shape).to(latent)

    def process_in(self, latent):
        mean, std = self._stats(latent)
        return (latent - mean) * self.scale_factor / std

    def process_out(self, latent):
        mean, std = self._stats(latent)
        return latent * std / self.scale_factor + mean


class NeoWanVAEModel(torch.nn.Module):
    """backend/nn/wan_vae.py WanVAE: no scaling_factor; process_in/out delegate to ``latent_format``, which
    ForgeDiffusionEngine.__init__ sets from the estimated config (backend/diffusion_engine/base.py)."""

    def __init__(self):
        super().__init__()
        self.latent_format = Wan21()

    def process_in(self, latent):
        return self.latent_format.process_in(latent)

    def process_out(self, latent):
        return self.latent_format.process_out(latent)


class NeoWanVAE:
    """backend/patcher/vae.py VAE(is_wan=True): a 4-D pixel batch is encoded as ONE video (frames = batch),
    so the engine encodes image by image; latents are (B, 16, T, H // 8, W // 8)."""

    latent_channels = 16
    is_wan = True

    def __init__(self):
        self.first_stage_model = NeoWanVAEModel()

    def encode(self, pixel_samples):
        raw = fake_vae_encode(pixel_samples.movedim(-1, 1) * 2.0 - 1.0, 16)  # (T, 16, h, w)
        return raw.movedim(0, 1).unsqueeze(0)  # (1, 16, T, h, w)

    def decode(self, samples):
        b, c, t, h, w = samples.shape
        frames = fake_vae_decode(samples.movedim(2, 1).reshape(b * t, c, h, w), 16)
        return (frames.reshape(b, t, 3, h * 8, w * 8).movedim(2, -1) + 1.0) / 2.0  # (B, T, H, W, 3)


def _unpack_2x2(latent):
    """(B, 4C, h, w) -> (B, C, 2h, 2w), ComfyUI's ``Flux2.latent_rgb_factors_reshape`` order."""
    b, c, h, w = latent.shape
    return latent.reshape(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c // 4, 2 * h, 2 * w)


def _pack_2x2(latent):
    """(B, C, H, W) -> (B, 4C, H/2, W/2), ComfyUI ``comfy/taesd/taesd.py`` ``TAESD.encode`` order."""
    b, c, h, w = latent.shape
    return (
        latent.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)
    )


class Flux2:
    """huggingface_guess ``latent.Flux2`` (Neo hangs it on the VAE): 128 channels at 1/16 (the 32-channel
    FLUX.2 latent packed 2x2), identity ``process_in``/``process_out``, base ``scale_factor`` 1.0."""

    scale_factor = 1.0
    latent_channels = 128
    spacial_downscale_ratio = 16

    def process_in(self, latent):
        return latent

    def process_out(self, latent):
        return latent


class Flux2K4B:
    """huggingface_guess ``model_list.Flux2K4B``: the engine keeps it as ``sd_model.model_config``."""

    def __init__(self):
        self.latent_format = Flux2()


class NeoFlux2VAEModel(torch.nn.Module):
    """The FLUX.2 VAE under Neo: ``latent_format`` set by ForgeDiffusionEngine.__init__ (base.py)."""

    def __init__(self):
        super().__init__()
        self.latent_format = Flux2()

    def process_in(self, latent):
        return self.latent_format.process_in(latent)

    def process_out(self, latent):
        return self.latent_format.process_out(latent)


class NeoFlux2VAE:
    """backend/patcher/vae.py ``VAE(is_flux2=True)``: ``latent_channels`` 128, up/downscale ratio 16: the
    32-channel latent at 1/8, packed 2x2. Images must be multiples of 16 pixels."""

    latent_channels = 128

    def __init__(self):
        self.first_stage_model = NeoFlux2VAEModel()

    def encode(self, pixel_samples):
        return _pack_2x2(fake_vae_encode(pixel_samples.movedim(-1, 1) * 2.0 - 1.0, 32))

    def decode(self, samples):
        return (fake_vae_decode(_unpack_2x2(samples), 32).movedim(1, -1) + 1.0) / 2.0


class ForgeEngine(_FakeModelBase):
    """backend/diffusion_engine/{sd15,sd20,sdxl,sd35,flux}.py ForgeDiffusionEngine."""

    def __init__(self, kind):
        super().__init__(kind)
        del self.model  # ForgeDiffusionEngine has no .model
        self.is_inpaint = False
        channels, scaling, shift = _FORGE_VAE.get(kind, (16, None, None))
        if kind in ("sd3", "flux", "qwen", "flux2"):
            sigmas = flow_sigmas(shift=3.0) if kind == "sd3" else torch.linspace(1e-4, 1.0, 1000)
            predictor = ForgePredictionFlow(sigmas, 1000 if kind == "sd3" else 1)
        else:
            predictor = ForgePrediction()
        unet = SimpleNamespace(model=SimpleNamespace(predictor=predictor, diffusion_model=SimpleNamespace()))
        if kind == "flux2":  # Neo flux2.py: VAE(is_flux2=True), model_config Flux2K4B
            vae = NeoFlux2VAE()
            self.model_config = Flux2K4B()
        else:
            vae = NeoWanVAE() if kind == "qwen" else ForgeVAE(channels, scaling, shift)
        self.forge_objects = ForgeObjects(unet, SimpleNamespace(), vae, None)
        self.forge_objects_original = self.forge_objects.shallow_copy()
        self.forge_objects_after_applying_lora = self.forge_objects.shallow_copy()
        if FLAVOR.is_neo:
            self.use_distilled_cfg_scale = kind == "flux"
            self.use_shift = False
            self.alphas_cumprod = 1.0 / (predictor.sigmas**2.0 + 1.0)

    def fake_channels(self):
        return self.forge_objects.vae.latent_channels

    def get_first_stage_encoding(self, x):
        return x

    def encode_first_stage(self, x):
        if getattr(self, "is_wan", False):  # Neo base.py: image by image, else the batch becomes a video
            samples = [
                self.forge_objects.vae.encode(x[i : i + 1].movedim(1, -1) * 0.5 + 0.5) for i in range(len(x))
            ]
            return self.forge_objects.vae.first_stage_model.process_in(torch.cat(samples)).to(x)
        sample = self.forge_objects.vae.encode(x.movedim(1, -1) * 0.5 + 0.5)
        sample = self.forge_objects.vae.first_stage_model.process_in(sample)
        return sample.to(x)

    def decode_first_stage(self, x):
        sample = self.forge_objects.vae.first_stage_model.process_out(x)
        wan = getattr(self, "is_wan", False)  # Neo base.py: movedim(-1, 2 if is_wan else 1)
        sample = self.forge_objects.vae.decode(sample).movedim(-1, 2 if wan else 1) * 2.0 - 1.0
        return sample.to(x)


# --- reForge (ldm_patched latent formats) -------------------------------------------------------------------
class ReForgeLatentFormat:
    """ldm_patched/modules/latent_formats.py SD15 (:17) / SDXL (:29) / SD3 (:113)."""

    def __init__(self, scale_factor, shift_factor=None, channels=4):
        self.scale_factor = scale_factor
        self.latent_channels = channels
        if shift_factor is not None:
            self.shift_factor = shift_factor

    def process_in(self, latent):
        if hasattr(self, "shift_factor"):
            return (latent - self.shift_factor) * self.scale_factor
        return latent * self.scale_factor

    def process_out(self, latent):
        if hasattr(self, "shift_factor"):
            return (latent / self.scale_factor) + self.shift_factor
        return latent / self.scale_factor


_REFORGE_FORMAT = {
    "sd1": (0.18215, None, 4),
    "sd2": (0.18215, None, 4),
    "sdxl": (0.13025, None, 4),
    "sd3": (1.5305, 0.0609, 16),
}


class ReForgeModel(_FakeModelBase):
    """An ldm/sgm model patched by modules_forge/forge_loader.py (:515-549)."""

    def __init__(self, kind):
        super().__init__(kind)
        scale, shift, channels = _REFORGE_FORMAT[kind]
        latent_format = ReForgeLatentFormat(scale, shift, channels)
        unet_model = SimpleNamespace(
            latent_format=latent_format,
            model_config=SimpleNamespace(latent_format=latent_format),
            latent_channels=channels,
            diffusion_model=SimpleNamespace(in_channels=channels),
        )
        self.forge_objects = ForgeObjects(SimpleNamespace(model=unet_model), SimpleNamespace(), None, None)
        self.forge_objects_original = self.forge_objects.shallow_copy()
        self.forge_objects_after_applying_lora = self.forge_objects.shallow_copy()
        self.latent_channels = channels
        if kind == "sd3":
            self.alphas_cumprod = 1 / (flow_sigmas(shift=3.0) ** 2 + 1)  # not verified against real reForge
        else:
            self.scale_factor = scale  # the ldm/sgm object keeps its config's scale_factor
            self.alphas_cumprod = scaled_linear_alphas_cumprod().to(devices.device)
        if kind == "sdxl":
            self.conditioner = SimpleNamespace()
        if kind == "sd2":
            self.parameterization = "v"
            self.cond_stage_model = SimpleNamespace(model=object())

    def fake_channels(self):
        return self.latent_channels

    def get_first_stage_encoding(self, x):
        return x

    def encode_first_stage(self, x):
        raw = fake_vae_encode(x, self.latent_channels)
        return self.forge_objects.unet.model.model_config.latent_format.process_in(raw).to(x)

    def decode_first_stage(self, x):
        raw = self.forge_objects.unet.model.model_config.latent_format.process_out(x)
        return fake_vae_decode(raw, self.latent_channels).to(x)


def _set_flags(model, kind):
    is_sd3 = kind == "sd3"
    if FLAVOR.is_neo:  # backend/diffusion_engine/base.py fix_for_webui_backward_compatibility
        model.is_sd1, model.is_sdxl, model.is_flux = kind == "sd1", kind == "sdxl", kind == "flux"
        model.is_wan = kind == "qwen"  # qwen.py (Qwen-Image) and wan.py set it: WanVAE, 5-D latents
        model.is_llm = False
        return
    model.is_sdxl = kind == "sdxl"
    model.is_sd2 = kind == "sd2"
    model.is_sd1 = kind == "sd1"
    if FLAVOR.is_forge:
        model.is_sd3 = is_sd3  # Flux: all four False (backend/diffusion_engine/base.py :57-66)
        return
    if FLAVOR.at_least(1, 7):
        model.is_ssd = False
    if FLAVOR.at_least(1, 10):
        model.is_sd3 = is_sd3
        if not hasattr(model, "latent_channels"):
            model.latent_channels = 4  # set_model_fields (sd_models.py 1.10.1 :406)
        model.is_sdxl_inpaint = False


def supported_kinds():
    if FLAVOR.is_neo:  # no sd20/sd35 engine in Neo's backend/diffusion_engine; qwen = Qwen-Image (WanVAE)
        return ("sd1", "sdxl", "flux", "qwen", "flux2")
    if FLAVOR.is_forge:
        return ("sd1", "sd2", "sdxl", "sd3", "flux")
    if FLAVOR.is_reforge or FLAVOR.at_least(1, 10):
        return ("sd1", "sd2", "sdxl", "sd3")
    return ("sd1", "sd2", "sdxl")


def load_fake_model(kind=None):
    """Fake-only: build the model object of ``kind`` ("sd1", "sd2", "sdxl", "sd3", "flux"; Neo: "qwen",
    "flux2")."""
    kind = kind or MODEL_KIND
    if kind not in supported_kinds():
        raise ValueError(
            f"model kind {kind!r} does not exist on {FLAVOR.name}; expected one of {supported_kinds()}"
        )
    if FLAVOR.is_forge:
        model = ForgeEngine(kind)
    elif FLAVOR.is_reforge:
        model = ReForgeModel(kind)
    elif kind == "sd3":
        model = A1111SD3(kind)
    elif kind == "sdxl":
        model = A1111SDXL(kind)
    else:
        model = A1111LatentDiffusion(kind)
    _set_flags(model, kind)
    info = model.sd_checkpoint_info
    checkpoint_aliases[info.title] = info
    checkpoint_aliases[info.name] = info
    checkpoints_list[info.title] = info
    return model


def reload_model_weights(sd_model=None, info=None, forced_reload=False):
    pass


def apply_token_merging(sd_model, token_merging_ratio):
    pass


def apply_alpha_schedule_override(sd_model, p=None):
    pass


def get_closet_checkpoint_match(search_string):
    return checkpoint_aliases.get(search_string)


class SkipWritingToConfig(contextlib.ContextDecorator):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
