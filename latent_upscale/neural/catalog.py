"""Which published weights exist, where each comes from, and which serve which model family.

:data:`PREFERENCES` is the one table of preference: for each family, weight sets in order. The
resolver uses the first set with a file on disk (or in the Hugging Face cache) and downloads only
the first downloadable set, and only when nothing usable is present: a lower-preference file you
already have beats a download (no surprise downloads). Ttl's files are GPL-3.0 and found only
locally. File names also tell the family, version and factor of a file given explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latent_upscale.families import FAMILY_LIST

__all__ = [
    "CATALOG",
    "CITY96_FACTORS",
    "PREFERENCES",
    "WEIGHT_SETS",
    "CatalogEntry",
    "FileHints",
    "WeightSet",
    "hints_from_filename",
    "weight_sets_for",
]

CITY96_FACTORS = (1.25, 1.5, 2.0)
CITY96_REPO_URL = "https://huggingface.co/city96/SD-Latent-Upscaler"
SESQUI_REPO_URL = "https://github.com/LoganBooker/SesquiLSR"
TTL_REPO_URL = "https://github.com/Ttl/ComfyUi_NNLatentUpscale"


@dataclass(frozen=True)
class CatalogEntry:
    """One published weights file."""

    key: str
    arch: str
    filename: str
    family: str
    version: str
    #: Fixed scale factor (city96) or ``None`` for any-scale networks.
    factor: float | None
    #: ``"hf"`` (Hugging Face repo from the options), ``"url"`` (SesquiLSR on GitHub) or ``"local"``.
    source: str
    approx_bytes: int
    licence: str
    homepage: str


@dataclass(frozen=True)
class WeightSet:
    """Files that serve a family together (city96: one per factor; others: one file)."""

    label: str
    arch: str
    entries: tuple[CatalogEntry, ...]
    #: The id the family registry names (``sesqui-sdxl``, ``city96-2.1-sdv1``, …).
    id: str = ""

    @property
    def downloadable(self) -> bool:
        """True when we may fetch these files ourselves (not the GPL-3.0 Ttl weights)."""
        return all(entry.source != "local" for entry in self.entries)

    @property
    def factors(self) -> tuple[float, ...]:
        """The fixed factors its files serve (empty for any-scale sets)."""
        return tuple(entry.factor for entry in self.entries if entry.factor is not None)

    @property
    def fixed_factor(self) -> bool:
        """True when each file enlarges by one set factor."""
        return any(entry.factor is not None for entry in self.entries)


def _city96(version: str, vae: str, family: str, factor: float, approx_bytes: int) -> CatalogEntry:
    return CatalogEntry(
        key=f"city96-v{version}-sd{vae}-x{factor}",
        arch="city96",
        filename=f"latent-upscaler-v{version}_SD{vae}-x{factor}.safetensors",
        family=family,
        version=version,
        factor=factor,
        source="hf",
        approx_bytes=approx_bytes,
        licence="Apache-2.0",
        homepage=CITY96_REPO_URL,
    )


def _sesqui(name: str, family: str) -> CatalogEntry:
    return CatalogEntry(
        key=f"sesqui-{name.lower()}",
        arch="sesqui",
        filename=f"upscaler_{name}.safetensors",
        family=family,
        version="",
        factor=None,
        source="url",
        approx_bytes=12_400_000,
        licence="MIT",
        homepage=SESQUI_REPO_URL,
    )


def _ttl(filename: str, family: str) -> CatalogEntry:
    return CatalogEntry(
        key=f"ttl-{family}",
        arch="ttl",
        filename=filename,
        family=family,
        version="",
        factor=None,
        source="local",
        approx_bytes=25_100_000,
        licence="GPL-3.0",
        homepage=TTL_REPO_URL,
    )


#: v2.x: 595,524 float32 weights ≈ 2.4 MB; v1.0: 511,588 ≈ 2.0 MB.
_V2_BYTES = 2_383_000
_V1_BYTES = 2_047_000


def _city96_set(version: str, vae: str, family: str, approx_bytes: int) -> WeightSet:
    entries = tuple(_city96(version, vae, family, factor, approx_bytes) for factor in CITY96_FACTORS)
    return WeightSet(
        label=f"city96 v{version} SD{vae}", arch="city96", entries=entries, id=f"city96-{version}-sd{vae}"
    )


def _weight_sets() -> dict[str, WeightSet]:
    sets = [
        WeightSet("SesquiLSR SDXL", "sesqui", (_sesqui("SDXL", "sdxl"),), id="sesqui-sdxl"),
        WeightSet("SesquiLSR Flux", "sesqui", (_sesqui("Flux", "flux"),), id="sesqui-flux"),
        WeightSet("SesquiLSR Wan 2.1", "sesqui", (_sesqui("Wan21", "wan"),), id="sesqui-wan"),
        WeightSet("SesquiLSR Flux.2", "sesqui", (_sesqui("Flux2", "flux2"),), id="sesqui-flux2"),
        WeightSet("NNLatentUpscale SDXL", "ttl", (_ttl("sdxl_resizer.pt", "sdxl"),), id="ttl-sdxl"),
        WeightSet("NNLatentUpscale SD 1.5", "ttl", (_ttl("sd15_resizer.pt", "sd1"),), id="ttl-sd1"),
    ]
    for version, approx_bytes in (("2.1", _V2_BYTES), ("2.0", _V2_BYTES), ("1.0", _V1_BYTES)):
        sets.append(_city96_set(version, "v1", "sd1", approx_bytes))
        sets.append(_city96_set(version, "xl", "sdxl", approx_bytes))
    return {weight_set.id: weight_set for weight_set in sets}


#: Every published weight set by id (the ids the family registry names).
WEIGHT_SETS: dict[str, WeightSet] = _weight_sets()

#: Family → weight sets, best first, from :data:`latent_upscale.families.FAMILY_LIST` (the one place
#: that says which weights serve which family). SD 2.x uses SD 1.x's VAE, so SD 1.x weights serve it.
PREFERENCES: dict[str, tuple[WeightSet, ...]] = {
    family.id: tuple(WEIGHT_SETS[set_id] for set_id in family.weights) for family in FAMILY_LIST
}

#: Every known file once, in a stable order (for ``list_models``).
CATALOG: tuple[CatalogEntry, ...] = tuple(
    dict.fromkeys(
        entry for sets in PREFERENCES.values() for weight_set in sets for entry in weight_set.entries
    )
)

#: What would serve a family that has no weights, for error messages.
UNSERVED_HINTS: dict[str, str] = {
    "sd3": "no published latent upscaler fits SD3's 16-channel VAE (SesquiLSR's 16-channel weights are "
    "for the Flux and Wan VAEs, whose latents differ)",
}


def weight_sets_for(family: str) -> tuple[WeightSet, ...]:
    """The preference-ordered weight sets of a family (empty for families nothing serves)."""
    return PREFERENCES.get(family, ())


@dataclass(frozen=True)
class FileHints:
    """What a file name says about its weights (each part ``None`` when it does not say)."""

    family: str | None = None
    version: str | None = None
    factor: float | None = None
    entry: CatalogEntry | None = None


_CITY96_NAME = re.compile(r"SD(?P<vae>v1|xl)-x(?P<factor>\d+(?:\.\d+)?)", re.IGNORECASE)
_CITY96_VERSION = re.compile(r"latent-upscaler-v(?P<version>\d+(?:\.\d+)?)", re.IGNORECASE)
_FAMILY_WORDS = (  # checked in order: the more specific words first
    ("flux2", "flux2"),
    ("flux.2", "flux2"),
    ("flux", "flux"),
    ("wan", "wan"),
    ("qwen", "wan"),
    ("sdxl", "sdxl"),
    ("sd15", "sd1"),
    ("sd1", "sd1"),
    ("sdv1", "sd1"),
    ("sd2", "sd2"),
)


def hints_from_filename(filename: str) -> FileHints:
    """Family, version and factor from a weights file name (catalog names and city96's patterns)."""
    by_name = {entry.filename.lower(): entry for entry in CATALOG}
    entry = by_name.get(filename.lower())
    if entry is not None:
        return FileHints(family=entry.family, version=entry.version, factor=entry.factor, entry=entry)
    city = _CITY96_NAME.search(filename)
    if city is not None:
        version = _CITY96_VERSION.search(filename)
        return FileHints(
            family="sdxl" if city.group("vae").lower() == "xl" else "sd1",
            version=version.group("version") if version else None,
            factor=float(city.group("factor")),
        )
    lowered = filename.lower()
    for word, family in _FAMILY_WORDS:
        if word in lowered:
            return FileHints(family=family)
    return FileHints()
