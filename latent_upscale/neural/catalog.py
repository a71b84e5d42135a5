"""Which published weights exist, where each comes from, and which serve which model family.

:data:`PREFERENCES` is the one table of preference: for each family, weight sets in order. The
resolver uses the first set with a file on disk (or in the Hugging Face cache) and downloads only
the first downloadable set, and only when nothing usable is present: a lower-preference file you
already have beats a download (no surprise downloads). Ttl's files are GPL-3.0 and found only
locally. File names also tell the family, version and factor of a file given explicitly.

Every downloadable file carries where it lives (Hugging Face repo + pinned commit, or a URL) and its
SHA-256, checked before a download is moved into place. The hashes are the files' Git LFS object
ids as the Hub publishes them (city96: the ``oid sha256:`` lines of the upload commits ddbd9b1 v1.0,
214ab44 v2.0, 99c6502 v2.1, seen on 2026-11-29). SesquiLSR's files are plain Git blobs on GitHub
whose SHA-256 we could not obtain, so they are not downloaded: the message says how to fetch them
by hand. A pin is never guessed.

The tiny autoencoders (madebyollin/taesd and madebyollin/taehv, MIT) serve the ``tae`` round-trip
method, named per family by ``Family.autoencoder`` (:data:`AUTOENCODERS`): the TAESD layouts as two
files (decoder + encoder), TAEW2.1 (the TAEHV layout) as one file holding both. Their files are plain
Git blobs fetched from GitHub's raw URL at pinned commits (taesd 5cccb12, TAEQI2.1 at taesd 401ce45,
taehv 1f14a56); only the TAEF2 pair's SHA-256 is established (computed from the blobs of that commit,
and matching the copy in ``shared/weights/taef2``), so only TAEF2 downloads. The others are found
locally (our models folders, the hosts' ``models/VAE-taesd``, ``models/VAE-approx`` and ComfyUI's
``models/vae_approx``, under any extension the hosts read) or fetched by hand: TAEW2.1's and
TAEQI2.1's blobs (over 4 MiB) were not in the snapshots we could read, so their SHA-256 is unknown
here (Git blob ids: taew2_1.pth d6ffa27, safetensors/taew2_1.safetensors ec1a2be at taehv 1f14a56).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latent_upscale.families import FAMILY_LIST

__all__ = [
    "AUTOENCODERS",
    "CATALOG",
    "CITY96_FACTORS",
    "PREFERENCES",
    "ROLES",
    "TINY_VAE_FOLDERS",
    "WEIGHT_SETS",
    "CatalogEntry",
    "FileHints",
    "WeightSet",
    "hints_from_filename",
    "weight_sets_for",
]

CITY96_FACTORS = (1.25, 1.5, 2.0)
CITY96_HF_REPO = "city96/SD-Latent-Upscaler"
CITY96_REPO_URL = f"https://huggingface.co/{CITY96_HF_REPO}"
SESQUI_MODELS_URL = "https://github.com/LoganBooker/SesquiLSR/raw/main/models/"
#: The Hub commit that uploaded each city96 version (the revision downloads are pinned to).
CITY96_COMMITS = {
    "1.0": "ddbd9b10ec25dd38c77a39f89e3ad707dd6ef035",
    "2.0": "214ab44ee4fc348fedf7af433ddd91002f6f23d1",
    "2.1": "99c65021fa947dfe3d71ec4e24793fe7533a3322",
}
#: SHA-256 of each published city96 file by (version, VAE, factor), from the Hub's Git LFS
#: pointers (``oid sha256:``); sizes 2,385,200 (v2.x) and 2,047,192 bytes (v1.0).
CITY96_SHA256: dict[tuple[str, str, float], str] = {
    ("1.0", "v1", 1.25): "431cd4a0ab7f493a629e31141985964df82e4b6e49f594d799c492ebf8e0e8fc",
    ("1.0", "v1", 1.5): "7ea7c46885186963b53ff953e6ac689ece20060dc5272d18ca43561931ceaea0",
    ("1.0", "v1", 2.0): "73ba3a477dedc3e025886024c39e2688c5dd75e38fd028446f203eeb35d53465",
    ("1.0", "xl", 1.25): "953f34b93d1f659559109f09bb823039fab5f00530cbd335f6a93f7f6a501055",
    ("1.0", "xl", 1.5): "24cf080065001f18501b39b806af08259f2f1a22f9faf5747aa507b4f163a3ef",
    ("1.0", "xl", 2.0): "1b887aa94cd32fd5e2fbcdfdce92c6df8e17c60431d21c228fe98586f35f9ebd",
    ("2.0", "v1", 1.25): "1221ef78ffa90ec9efc02fcabe065898bc74c3769e5d99c43e6cd56cd2a390de",
    ("2.0", "v1", 1.5): "ecf6b483c4160942880ed8088a6c841136365c419b524f45027653d4b3be57ad",
    ("2.0", "v1", 2.0): "5edbde0c5d684815c9a881c6565bf3e6fc436df2623ca5c8005803efc2b5f602",
    ("2.0", "xl", 1.25): "d195fa1ebfb7839219d539a82f0f7409231e98a53cd987161fa51cec1364195e",
    ("2.0", "xl", 1.5): "46e958d6b6d2e945c2dff0258f4356ed498d3cfd7418bddf70e85e5833a7373b",
    ("2.0", "xl", 2.0): "45546a470d682f25c6122a28def7d86d974531092ee6855d6414822480dae05e",
    ("2.1", "v1", 1.25): "13d41af7abb2b39b0c35742ac6d9e68137de933b188192bed9e00ff0f5dc6143",
    ("2.1", "v1", 1.5): "5681a6263c97a7b0b3c5051229d4438b270cff5ed95891a984e98cd193896a57",
    ("2.1", "v1", 2.0): "57ab5fe3429cafafe21aafe80c661ab2739ad837f58012a44e1f656670cd35f8",
    ("2.1", "xl", 1.25): "331db5b11494d4a3dd66f569d8c9531eca2302f4de4d03688665a62cc6a327de",
    ("2.1", "xl", 1.5): "af84a4cc658069c46115bb28bd156a798289dd42f3dc72f1da6cf8bb0760aef2",
    ("2.1", "xl", 2.0): "cedf7806b0b27f883ae3c0d0466d63594d431fa5468d7ef41e55a1bffe38fe1e",
}
SESQUI_REPO_URL = "https://github.com/LoganBooker/SesquiLSR"
TAESD_REPO_URL = "https://github.com/madebyollin/taesd"
#: The madebyollin/taesd commit downloads are pinned to (2025-12-27, "Add support for FLUX.2 VAE").
TAESD_COMMIT = "5cccb12dc72074a4be35680c3b108548a7c69978"
TAESD_BASE_URL = f"{TAESD_REPO_URL}/raw/{TAESD_COMMIT}/"
#: SHA-256 of the tiny-autoencoder files at :data:`TAESD_COMMIT`, computed from the Git blobs of that
#: commit (``git cat-file -p <blob> | sha256sum``). Only the TAEF2 blobs could be read; the others'
#: SHA-256 is unknown here (their Git blob ids at that commit: taesd 5915a42/65f85af, taesdxl
#: 477bc7e/56dfb7e, taesd3 7943be7/9678667, taef1 b772c9c/d8ee13f, decoder/encoder), so they stay
#: local-only until someone pins them.
TAESD_SHA256: dict[str, str] = {
    "taef2_decoder.pth": "0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5",
    "taef2_encoder.pth": "10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6",
}
TAEQI_COMMIT = "401ce45e5c1451c41ccdb92feea99609015822fc"  # added TAEQI2.1 (Qwen-Image 2.1)
#: Variants added to madebyollin/taesd after :data:`TAESD_COMMIT`, pinned to the commit that added them.
_LATER_COMMITS = {"taeqi2_1": TAEQI_COMMIT}
TAEHV_REPO_URL = "https://github.com/madebyollin/taehv"
#: The madebyollin/taehv commit TAEW2.1 is pinned to (2026-08-18; its taew2_1.pth dates from
#: 1a88a7d, 2025-11-03, the "Fruit Tiramisu" decoder).
TAEHV_COMMIT = "1f14a568f24bf8811e0a0ac601613e04fc1581e8"
#: Exact sizes in bytes of the pinned tiny-autoencoder files (the same blobs as their SHA-256); a
#: download stops as soon as it passes this size.
TAESD_BYTES: dict[str, int] = {"taef2_decoder.pth": 2_704_756, "taef2_encoder.pth": 2_704_692}
#: Exact sizes in bytes of the city96 files by version (the Hub's Git LFS pointers, ``size`` lines).
CITY96_BYTES = {"1.0": 2_047_192, "2.0": 2_385_200, "2.1": 2_385_200}
#: Each tiny autoencoder: (weight-set id = variant, label, family it is listed under, bytes per file).
_TAESD_VARIANTS = (
    # float32 state dicts of about 1.22 M parameters (sizes not read from the files: estimates).
    ("taesd", "TAESD (SD 1.x/2.x)", "sd1", 4_900_000),
    ("taesdxl", "TAESDXL (SDXL)", "sdxl", 4_900_000),
    ("taesd3", "TAESD3 (SD 3.x)", "sd3", 4_950_000),
    ("taef1", "TAEF1 (FLUX.1)", "flux", 4_950_000),
    ("taef2", "TAEF2 (FLUX.2)", "flux2", 2_704_756),
    # float16, 7.64 M parameters per half (15.3 MB; a decoder of 15,314,938 bytes is reported).
    ("taeqi2_1", "TAEQI2.1 (Qwen-Image 2.1)", "", 15_314_938),
)
TTL_REPO_URL = "https://github.com/Ttl/ComfyUi_NNLatentUpscale"
#: Hosts' tiny-autoencoder folders, searched inside every models folder: A1111 1.6-1.10, Forge, reForge,
#: Neo ``VAE-taesd`` (``modules/sd_vae_taesd.py``), ``VAE-approx``, ComfyUI ``vae_approx`` (``folder_paths``).
TINY_VAE_FOLDERS = ("VAE-taesd", "VAE-approx", "vae_approx")


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
    #: ``"hf"`` (Hugging Face repo), ``"url"`` (SesquiLSR on GitHub) or ``"local"`` (never fetched).
    source: str
    approx_bytes: int
    licence: str
    homepage: str
    #: SHA-256 of the published file (lower-case hex); ``None``: unknown, so never downloaded.
    sha256: str | None = None
    #: Exact size of the published file in bytes (pinned with the SHA-256); a download stops as soon
    #: as it passes it. ``None``: unknown (the server's ``Content-Length`` bounds it, under a ceiling).
    size: int | None = None
    #: Hugging Face repo and pinned revision (``source == "hf"``): where this file comes from.
    hf_repo: str | None = None
    hf_revision: str | None = None
    #: Where a ``url`` file lives.
    url: str | None = None
    #: The :class:`~latent_upscale.neural.options.NeuralOptions` field a user may set to fetch this
    #: file from a mirror instead (``"hf_repo_id"``: a Hub repo of the same layout, with the
    #: ``hf_revision`` option; a base-URL field such as ``"sesqui_base_url"``: a folder the file name
    #: is appended to), or ``None``: only its own place. A mirror applies only to the entries that
    #: name its field, and only when set (every such field defaults to ``None``), so a new entry
    #: always resolves to its own ``hf_repo`` or ``url``.
    mirror_option: str | None = None
    #: Which part of a multi-file weight set this file is (``"decoder"``/``"encoder"``), else ``None``.
    part: str | None = None
    #: Subfolders of each models folder also searched for this file (:data:`TINY_VAE_FOLDERS`).
    host_folders: tuple[str, ...] = ()

    @property
    def downloadable(self) -> bool:
        """True when we may fetch this file ourselves: not local-only, and its SHA-256 is pinned."""
        return self.source != "local" and self.sha256 is not None


@dataclass(frozen=True)
class WeightSet:
    """Files that serve a family together (city96: one per factor; others: one file)."""

    label: str
    arch: str
    entries: tuple[CatalogEntry, ...]
    #: The id the family registry names (``sesqui-sdxl``, ``city96-2.1-sdv1``, …).
    id: str = ""
    #: What it serves (:data:`ROLES`): ``"upscaler"`` (the ``neural`` method) or ``"autoencoder"``
    #: (a tiny autoencoder for the ``tae`` round trip).
    role: str = "upscaler"

    @property
    def downloadable(self) -> bool:
        """True when we may fetch every file ourselves (pinned, and not the GPL-3.0 Ttl weights)."""
        return all(entry.downloadable for entry in self.entries)

    @property
    def factors(self) -> tuple[float, ...]:
        """The fixed factors its files serve (empty for any-scale sets)."""
        return tuple(entry.factor for entry in self.entries if entry.factor is not None)

    @property
    def fixed_factor(self) -> bool:
        """True when each file enlarges by one set factor."""
        return any(entry.factor is not None for entry in self.entries)

    @property
    def multi_part(self) -> bool:
        """True when the files are parts loaded together (a decoder and an encoder): all or none."""
        return any(entry.part is not None for entry in self.entries)


def _city96(version: str, vae: str, family: str, factor: float, approx_bytes: int) -> CatalogEntry:
    filename = f"latent-upscaler-v{version}_SD{vae}-x{factor}.safetensors"
    return CatalogEntry(
        key=f"city96-v{version}-sd{vae}-x{factor}",
        arch="city96",
        filename=filename,
        family=family,
        version=version,
        factor=factor,
        source="hf",
        approx_bytes=approx_bytes,
        licence="Apache-2.0",
        homepage=CITY96_REPO_URL,
        sha256=CITY96_SHA256[(version, vae, factor)],
        size=CITY96_BYTES[version],
        hf_repo=CITY96_HF_REPO,
        hf_revision=CITY96_COMMITS[version],
        mirror_option="hf_repo_id",
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
        sha256=None,  # not published as a Git LFS pointer: unknown here, so not downloaded
        url=SESQUI_MODELS_URL + f"upscaler_{name}.safetensors",
        mirror_option="sesqui_base_url",
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


def _served(variant: str, default: str = "") -> str:
    """The first family whose ``Family.autoencoder`` names ``variant`` (registry order), else ``default``."""
    return next((family.id for family in FAMILY_LIST if family.autoencoder == variant), default)


def _taesd(variant: str, part: str, family: str, approx_bytes: int) -> CatalogEntry:
    filename = f"{variant}_{part}.pth"
    base = f"{TAESD_REPO_URL}/raw/{_LATER_COMMITS.get(variant, TAESD_COMMIT)}/"
    return CatalogEntry(
        key=f"{variant}-{part}",
        arch="tae",
        filename=filename,
        family=family,
        version="",
        factor=None,
        source="url",
        approx_bytes=approx_bytes,
        licence="MIT",
        homepage=TAESD_REPO_URL,
        sha256=TAESD_SHA256.get(filename),
        size=TAESD_BYTES.get(filename),
        url=base + filename,
        # The mirror option names the base of TAESD_COMMIT's files; a later commit's file has none.
        mirror_option="tae_base_url" if base == TAESD_BASE_URL else None,
        part=part,
        host_folders=TINY_VAE_FOLDERS,
    )


def _taesd_sets() -> list[WeightSet]:
    sets = [
        WeightSet(
            label,
            "tae",
            tuple(_taesd(variant, part, family or _served(variant), size) for part in ("decoder", "encoder")),
            id=variant,
            role="autoencoder",
        )
        for variant, label, family, size in _TAESD_VARIANTS
    ]
    # float16, 11.3 M parameters (an estimate, not read from the file); no SHA-256: never downloaded
    url = f"{TAEHV_REPO_URL}/raw/{TAEHV_COMMIT}/taew2_1.pth"
    taew = CatalogEntry(
        "taew2_1", "taehv", "taew2_1.pth", _served("taew2_1", "wan"), "", None, "url", 22_700_000, "MIT",
        TAEHV_REPO_URL, url=url, host_folders=TINY_VAE_FOLDERS,
    )  # fmt: skip
    label = "TAEW2.1 (Wan 2.1/2.2-14B, Qwen-Image, Anima)"
    return [*sets, WeightSet(label, "taehv", (taew,), id="taew2_1", role="autoencoder")]


#: File sizes on the Hub (v2.x: 595,524 float32 weights; v1.0: 511,588).
_V2_BYTES = 2_385_200
_V1_BYTES = 2_047_192


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
    sets += _taesd_sets()
    return {weight_set.id: weight_set for weight_set in sets}


#: Every published weight set by id (the ids the family registry names).
WEIGHT_SETS: dict[str, WeightSet] = _weight_sets()

#: Family → weight sets, best first, from :data:`latent_upscale.families.FAMILY_LIST` (the one place
#: that says which weights serve which family). SD 2.x uses SD 1.x's VAE, so SD 1.x weights serve it.
PREFERENCES: dict[str, tuple[WeightSet, ...]] = {
    family.id: tuple(WEIGHT_SETS[set_id] for set_id in family.weights) for family in FAMILY_LIST
}

#: Family → its tiny autoencoder (the weight set of the ``tae`` round-trip method), from
#: ``Family.autoencoder``; empty for families no published tiny autoencoder fits, or whose variant
#: has no weight set here yet (then ``tae`` reports that nothing serves it).
AUTOENCODERS: dict[str, tuple[WeightSet, ...]] = {
    family.id: (WEIGHT_SETS[family.autoencoder],) if family.autoencoder in WEIGHT_SETS else ()
    for family in FAMILY_LIST
}

#: What a method asks weights for: ``"upscaler"`` (the ``neural`` method: :data:`PREFERENCES`) or
#: ``"autoencoder"`` (the ``tae`` round trip: :data:`AUTOENCODERS`).
ROLES = ("upscaler", "autoencoder")

#: Every known file once, in a stable order (for ``list_models``).
CATALOG: tuple[CatalogEntry, ...] = tuple(
    dict.fromkeys(
        entry
        for table in (PREFERENCES, AUTOENCODERS)
        for sets in table.values()
        for weight_set in sets
        for entry in weight_set.entries
    )
)

#: What would serve a family that has no weights, for error messages.
UNSERVED_HINTS: dict[str, str] = {f.id: f.no_weights_note for f in FAMILY_LIST if f.no_weights_note}


def weight_sets_for(family: str, role: str = "upscaler") -> tuple[WeightSet, ...]:
    """The preference-ordered weight sets of a family for ``role`` (empty when nothing serves it)."""
    if role not in ROLES:
        raise ValueError(f"unknown weights role {role!r}; expected one of {ROLES}")
    return (AUTOENCODERS if role == "autoencoder" else PREFERENCES).get(family, ())


@dataclass(frozen=True)
class FileHints:
    """What a file name says about its weights (each part ``None`` when it does not say)."""

    family: str | None = None
    version: str | None = None
    factor: float | None = None
    entry: CatalogEntry | None = None


_CITY96_NAME = re.compile(r"SD(?P<vae>v1|xl)-x(?P<factor>\d+(?:\.\d+)?)", re.IGNORECASE)
_CITY96_VERSION = re.compile(r"latent-upscaler-v(?P<version>\d+(?:\.\d+)?)", re.IGNORECASE)
#: Words in a file name that name a family without being its id (the ids come from the registry).
_FAMILY_NAME_ALIASES = (("flux.2", "flux2"), ("qwen", "wan"), ("sd15", "sd1"), ("sdv1", "sd1"))
#: Every served family's id and the aliases above, checked longest first (``flux2`` before ``flux``).
_FAMILY_WORDS = tuple(
    sorted(
        [(family.id, family.id) for family in FAMILY_LIST if family.weights] + list(_FAMILY_NAME_ALIASES),
        key=lambda pair: -len(pair[0]),
    )
)


def hints_from_filename(filename: str) -> FileHints:
    """Family, version and factor from a weights file name (catalog names and city96's patterns)."""
    by_name = {entry.filename.lower(): entry for entry in CATALOG}
    entry = by_name.get(filename.lower())
    if entry is not None:
        family = entry.family or None  # a set no family names yet
        return FileHints(family=family, version=entry.version, factor=entry.factor, entry=entry)
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
