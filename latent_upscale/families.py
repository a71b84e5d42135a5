"""The one registry of model families: every place that lists families reads it from here.

A family is the set of models that share one latent as their hosts hold it. Each :class:`Family` says:

* ``id`` and ``label`` (CLI choices, messages, infotext);
* ``latent_channels`` of the VAE's latent (unpacked) and ``ratio``, image pixels per latent pixel;
* ``packing``: how the hosts hold it: ``"none"``, or ``"2x2"`` (FLUX.2: each 2×2 block of the
  32-channel latent packed into 128 channels at 1/16; :mod:`latent_upscale.latent_layouts`);
* ``patch``: the side of the denoiser's square patch on the unpacked latent (1 for UNets, 2 for the
  DiTs that patchify 2×2), so a latent side the next pass accepts is a multiple of it;
* the VAE's ``scale`` and ``shift``: model space = ``(raw - shift) * scale`` (scalars or per channel);
* ``vae_group``: families that share one VAE (and so one raw latent space) have one group, so a
  neural network trained on one serves the others (SD 2.x kept SD 1.x's autoencoder);
* ``weights``: the ids of the neural weight sets that serve it, best first (defined in
  :mod:`latent_upscale.neural.catalog`; ids only, so this module imports nothing of ours but data);
* ``autoencoder``: the id of the tiny-autoencoder weight set (TAESD/TAEHV families) whose decoder and
  encoder serve the ``tae`` round-trip method (``None``: no published tiny autoencoder fits);
* ``ays``: the id of its Align-Your-Steps noise-level table (``None``: no published table);
* ``preview``: the 4×3 "Approx cheap" latent → RGB coefficients (``None``: no linear preview);
* ``no_weights_note``: why nothing serves it, when no weights do;
* ``host_names``: the class names by which the hosts identify it (latent formats, model configs).

Sources: scale factors from the models' configs (ldm ``v1-inference.yaml`` 0.18215, sgm SDXL 0.13025,
SD3 1.5305/0.0609, Flux 0.3611/0.1159); per-channel statistics in :mod:`latent_upscale.family_stats`;
preview coefficients from the WebUI's ``modules/sd_vae_approx.py`` ``cheap_approximation``. Which
latent format, VAE and tiny autoencoder each newer family uses: ComfyUI ``comfy/latent_formats.py``
(``Flux2``: 128 channels, ``spacial_downscale_ratio = 16``, identity ``process_in``, preview unpacking
``reshape(B, 32, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)``; ``QwenImage21``: 64 channels at 1/16;
``Wan22``: 48 channels at 1/16; ``taesd_decoder_name`` ``taew2_1``/``taeqi2_1_decoder``/``taef2_decoder``)
and ``comfy/supported_models.py`` (``Chroma``, ``Lumina2``/``ZImage`` → ``Flux``; ``QwenImage``,
``Anima``, ``Krea2`` → ``Wan21``; ``QwenImage21``; ``WAN22_T2V`` → ``Wan22``); Forge Neo
``modules_forge/packages/huggingface_guess/model_list.py`` (``Flux2K4B``/``Flux2K9B``/``ErnieImage``
→ ``Flux2``; ``Mugen``: SDXL UNet with ``out_channels=32`` → ``SDXL_Flux2``, the unpacked 32-channel
FLUX.2 latent at 1/8; ``ZImage``, ``Chroma`` → ``Flux``; ``Anima``, ``QwenImage`` → ``Wan21``),
``huggingface_guess/latent.py`` and ``backend/patcher/vae.py`` (``is_flux2``: 128 channels, ratio 16).
Patch sides: the DiTs patchify 2×2 (FLUX.1/2, SD3, Qwen-Image, Z-Image/Lumina, Wan, Chroma, Anima);
Neo rounds Qwen-Image 2.1's reference images to 32 px (``backend/diffusion_engine/qwen21.py``, 2
latent px at 1/16) and Krea 2's to 16 px (``krea.py``, 2 at 1/8). Ids stay stable (``sd1 sd2 sdxl
sd3 flux wan flux2``); newer ids are short and lowercase. ``wan`` is Wan 2.1 and Wan 2.2-14B (the
Wan 2.1 VAE); Qwen-Image, Anima and Krea 2 hold the same latent under their own ids.

Adding a family is one :class:`Family` line in :data:`FAMILY_LIST`.
"""

from __future__ import annotations

from dataclasses import dataclass

from latent_upscale.family_stats import (
    QWEN21_LATENTS_MEAN,
    QWEN21_LATENTS_STD,
    WAN21_LATENTS_MEAN,
    WAN21_LATENTS_STD,
    WAN22_LATENTS_MEAN,
    WAN22_LATENTS_STD,
)

__all__ = [
    "FAMILY_IDS",
    "FAMILY_LIST",
    "HOST_NAMES",
    "QWEN21_LATENTS_MEAN",
    "QWEN21_LATENTS_STD",
    "WAN21_LATENTS_MEAN",
    "WAN21_LATENTS_STD",
    "WAN22_LATENTS_MEAN",
    "WAN22_LATENTS_STD",
    "Family",
    "get_family",
    "vae_group",
]

#: ``((r, g, b), …)`` per latent channel.
Coefficients = tuple[tuple[float, float, float], ...]

_SD1_PREVIEW: Coefficients = (
    (0.298, 0.207, 0.208),
    (0.187, 0.286, 0.173),
    (-0.158, 0.189, 0.264),
    (-0.184, -0.271, -0.473),
)
_SDXL_PREVIEW: Coefficients = (
    (0.3448, 0.4168, 0.4395),
    (-0.1953, -0.0290, 0.0250),
    (0.1074, 0.0886, -0.0163),
    (-0.3730, -0.2499, -0.2088),
)


@dataclass(frozen=True)
class Family:
    """One model family's latent convention and what serves it (see the module docstring)."""

    id: str
    label: str
    latent_channels: int
    scale: float | tuple[float, ...] = 1.0
    shift: float | tuple[float, ...] = 0.0
    vae_group: str = ""
    weights: tuple[str, ...] = ()
    ays: str | None = None
    preview: Coefficients | None = None
    #: Why no weights serve it (for the "no weights" message), when ``weights`` is empty.
    no_weights_note: str = ""
    autoencoder: str | None = None
    #: Image pixels per (unpacked) latent pixel of its VAE.
    ratio: int = 8
    #: How the hosts hold the latent: ``"none"`` or ``"2x2"`` (packed into 4× the channels at half the side).
    packing: str = "none"
    #: Side of the denoiser's patch on the unpacked latent: 1 (UNets) or 2 (DiTs patchifying 2×2).
    patch: int = 1
    #: Class names by which the hosts identify it (latent formats, model configs), for the host glue.
    host_names: tuple[str, ...] = ()

    @property
    def channel_counts(self) -> tuple[int, ...]:
        """The channel counts of the layouts it is accepted in: the VAE latent, then the packed one."""
        if self.packing == "2x2":
            return (self.latent_channels, 4 * self.latent_channels)
        return (self.latent_channels,)

    def __post_init__(self) -> None:
        if not self.vae_group:
            object.__setattr__(self, "vae_group", self.id)


_SD1_WEIGHTS = ("city96-2.1-sdv1", "ttl-sd1", "city96-2.0-sdv1", "city96-1.0-sdv1")
_WAN21_SCALE = tuple(1.0 / std for std in WAN21_LATENTS_STD)
_FLUX = {"scale": 0.3611, "shift": 0.1159, "weights": ("sesqui-flux",), "autoencoder": "taef1", "patch": 2}
_WAN21 = {"scale": _WAN21_SCALE, "shift": WAN21_LATENTS_MEAN, "weights": ("sesqui-wan",), "patch": 2}
_FLUX2 = {"weights": ("sesqui-flux2",), "autoencoder": "taef2"}

#: Every family, in display order. SesquiLSR leads where it exists (best published LPIPS); city96
#: v2.1 next; Ttl (local only) before city96's older versions. No published upscaler fits SD3,
#: Qwen-Image 2.1 or Wan 2.2-5B.
FAMILY_LIST: tuple[Family, ...] = (
    Family(
        "sd1",
        "SD 1.x",
        4,
        scale=0.18215,
        weights=_SD1_WEIGHTS,
        ays="sd1",
        preview=_SD1_PREVIEW,
        autoencoder="taesd",
        host_names=("SD15",),
    ),
    # SD 2.x kept SD 1.x's VAE: same group, weights, AYS table, preview and tiny autoencoder.
    Family("sd2", "SD 2.x", 4, 0.18215, 0.0, "sd1", _SD1_WEIGHTS, "sd1", _SD1_PREVIEW, autoencoder="taesd"),
    Family(
        "sdxl",
        "SDXL",
        4,
        scale=0.13025,
        weights=("sesqui-sdxl", "city96-2.1-sdxl", "ttl-sdxl", "city96-2.0-sdxl", "city96-1.0-sdxl"),
        ays="sdxl",
        preview=_SDXL_PREVIEW,
        autoencoder="taesdxl",
        host_names=("SDXL", "SDXL_Playground_2_5"),
    ),
    Family(
        "sd3",
        "SD 3.x",
        16,
        scale=1.5305,
        shift=0.0609,
        no_weights_note="no published latent upscaler fits SD3's 16-channel VAE (SesquiLSR's 16-channel "
        "weights are for the Flux and Wan VAEs, whose latents differ)",
        autoencoder="taesd3",
        patch=2,
        host_names=("SD3",),
    ),
    Family("flux", "FLUX.1", 16, **_FLUX, host_names=("Flux", "FluxSchnell")),
    Family("wan", "Wan 2.1 / 2.2-14B", 16, **_WAN21, autoencoder="taew2_1", host_names=("Wan21",)),
    Family(
        "flux2", "FLUX.2", 32, **_FLUX2, packing="2x2", patch=2, host_names=("Flux2", "Flux2K4B", "Flux2K9B")
    ),
    Family(
        "qwen-image",
        "Qwen-Image",
        16,
        **_WAN21,
        vae_group="wan",
        autoencoder="taew2_1",
        host_names=("QwenImage",),
    ),
    Family(
        "qwen-image-2.1",
        "Qwen-Image 2.1",
        64,
        scale=tuple(1.0 / std for std in QWEN21_LATENTS_STD),
        shift=QWEN21_LATENTS_MEAN,
        no_weights_note="no published latent upscaler fits Qwen-Image 2.1's 64-channel VAE",
        autoencoder="taeqi2_1",
        ratio=16,
        patch=2,
        host_names=("QwenImage21",),
    ),
    Family("anima", "Anima", 16, **_WAN21, vae_group="wan", autoencoder="taew2_1", host_names=("Anima",)),
    Family("krea2", "Krea 2", 16, **_WAN21, vae_group="wan", autoencoder="taew2_1", host_names=("Krea2",)),
    Family("zimage", "Z-Image", 16, **_FLUX, vae_group="flux", host_names=("ZImage",)),
    Family("chroma", "Chroma", 16, **_FLUX, vae_group="flux", host_names=("Chroma",)),
    Family(
        "ernie",
        "ERNIE-Image",
        32,
        **_FLUX2,
        vae_group="flux2",
        packing="2x2",
        patch=2,
        host_names=("ErnieImage",),
    ),
    # Mugen: an SDXL UNet denoising the unpacked 32-channel FLUX.2 latent at 1/8 (no packing, no patches).
    Family(
        "mugen",
        "Mugen (SDXL + FLUX.2 VAE)",
        32,
        **_FLUX2,
        vae_group="flux2",
        host_names=("Mugen", "SDXL_Flux2"),
    ),
    Family(
        "wan22-5b",
        "Wan 2.2-5B",
        48,
        scale=tuple(1.0 / std for std in WAN22_LATENTS_STD),
        shift=WAN22_LATENTS_MEAN,
        no_weights_note="no published latent upscaler fits Wan 2.2-5B's 48-channel VAE",
        ratio=16,
        patch=2,
        host_names=("Wan22", "WAN22_T2V"),
    ),
)

#: Family ids in display order.
FAMILY_IDS: tuple[str, ...] = tuple(family.id for family in FAMILY_LIST)
_BY_ID = {family.id: family for family in FAMILY_LIST}


#: Family ids by the host class names that identify them (``Family.host_names``).
HOST_NAMES: dict[str, str] = {name: family.id for family in FAMILY_LIST for name in family.host_names}


def get_family(family_id: str) -> Family:
    """The family with this id; ``KeyError`` (callers turn it into their own message) otherwise."""
    return _BY_ID[family_id]


def vae_group(family_id: str) -> str:
    """The VAE group of a family (the id itself for an unknown family)."""
    family = _BY_ID.get(family_id)
    return family.vae_group if family is not None else family_id
