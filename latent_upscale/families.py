"""The one registry of model families: every place that lists families reads it from here.

A family is the set of models that share one VAE latent convention. Each :class:`Family` says:

* ``id`` and ``label`` (CLI choices, messages, infotext);
* ``latent_channels`` of the VAE's latent;
* the VAE's ``scale`` and ``shift``: model space = ``(raw - shift) * scale`` (scalars or per channel);
* ``vae_group``: families that share one VAE (and so one raw latent space) have one group, so a
  neural network trained on one serves the others (SD 2.x kept SD 1.x's autoencoder);
* ``weights``: the ids of the neural weight sets that serve it, best first (defined in
  :mod:`latent_upscale.neural.catalog`; ids only, so this module imports nothing of ours);
* ``autoencoder``: the id of the tiny-autoencoder weight set (TAESD family) whose decoder and
  encoder serve the ``tae`` round-trip method (``None``: no published tiny autoencoder fits);
* ``ays``: the id of its Align-Your-Steps noise-level table (``None``: no published table);
* ``preview``: the 4×3 "Approx cheap" latent → RGB coefficients (``None``: no linear preview);
* ``no_weights_note``: why nothing serves it, when no weights do.

Sources: scale factors from the models' configs (ldm ``v1-inference.yaml`` 0.18215, sgm SDXL 0.13025,
SD3 1.5305/0.0609, Flux 0.3611/0.1159); Wan 2.1's per-channel statistics from ComfyUI
``comfy/latent_formats.py`` class ``Wan21`` (Comfy-Org/ComfyUI, commit 75399d78), identical to diffusers'
``AutoencoderKLWan`` config ``latents_mean``/``latents_std``; preview coefficients from the WebUI's
``modules/sd_vae_approx.py`` ``cheap_approximation``. ``flux2`` is the raw 32-channel Flux.2 VAE
latent (the 128-channel patchified, batch-normalised form its transformer sees is not supported).

Adding a family is one :class:`Family` line in :data:`FAMILY_LIST`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FAMILY_IDS",
    "FAMILY_LIST",
    "WAN21_LATENTS_MEAN",
    "WAN21_LATENTS_STD",
    "Family",
    "get_family",
    "vae_group",
]

#: ``((r, g, b), …)`` per latent channel.
Coefficients = tuple[tuple[float, float, float], ...]

WAN21_LATENTS_MEAN = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)  # fmt: skip
WAN21_LATENTS_STD = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)  # fmt: skip

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

    def __post_init__(self) -> None:
        if not self.vae_group:
            object.__setattr__(self, "vae_group", self.id)


_SD1_WEIGHTS = ("city96-2.1-sdv1", "ttl-sd1", "city96-2.0-sdv1", "city96-1.0-sdv1")

#: Every family, in display order. SesquiLSR leads where it exists (best published LPIPS); city96
#: v2.1 next; Ttl (local only) before city96's older versions. No published upscaler fits SD3; the
#: tiny autoencoders (madebyollin/taesd) cover every family but Wan.
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
    ),
    Family("flux", "FLUX.1", 16, scale=0.3611, shift=0.1159, weights=("sesqui-flux",), autoencoder="taef1"),
    Family(
        "wan",
        "Wan 2.1 / Qwen-Image",
        16,
        scale=tuple(1.0 / std for std in WAN21_LATENTS_STD),
        shift=WAN21_LATENTS_MEAN,
        weights=("sesqui-wan",),
    ),
    Family("flux2", "FLUX.2", 32, weights=("sesqui-flux2",), autoencoder="taef2"),
)

#: Family ids in display order.
FAMILY_IDS: tuple[str, ...] = tuple(family.id for family in FAMILY_LIST)
_BY_ID = {family.id: family for family in FAMILY_LIST}


def get_family(family_id: str) -> Family:
    """The family with this id; ``KeyError`` (callers turn it into their own message) otherwise."""
    return _BY_ID[family_id]


def vae_group(family_id: str) -> str:
    """The VAE group of a family (the id itself for an unknown family)."""
    family = _BY_ID.get(family_id)
    return family.vae_group if family is not None else family_id
