"""What the CLI and the WebUI are told: known files and where they are, one-line status, and the
message that says how to get weights when none can be had. Reads the weight search's plan
(:func:`~latent_upscale.neural.search.plan_weights`), the one :func:`resolve_weights` acts on, so every
surface agrees with what ``neural`` would do and where its download would come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from latent_upscale.neural import catalog
from latent_upscale.neural.catalog import CatalogEntry, WeightSet
from latent_upscale.neural.downloads import manual_url, origin
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.search import Search, download_dir, plan_weights, search_dirs
from latent_upscale.neural.state_dict import WEIGHT_SUFFIXES as _WEIGHT_SUFFIXES

__all__ = [
    "ModelInfo",
    "NeuralStatus",
    "describe",
    "find_local_weights",
    "list_models",
    "unavailable_message",
    "unavailable_summary",
]


def _home(sets: Sequence[WeightSet], options: NeuralOptions) -> str:
    """Where to put missing files: for a tiny autoencoder the first host tiny-VAE folder the caller
    names (the WebUI's ``models/VAE-taesd``), else the download folder; then the hosts' folders."""
    if sets[0].role != "autoencoder":
        return str(download_dir(options))
    named = [f for f in options.caller_models_dirs if f.name in catalog.TINY_VAE_FOLDERS]
    first = named[0] if named else download_dir(options)
    return f"{first} (or a host's models/VAE-taesd, or ComfyUI's models/vae_approx)"


def unavailable_summary(family: str, sets: Sequence[WeightSet], options: NeuralOptions) -> str:
    """One line for the infotext: the best file, where it belongs, and why it was not fetched."""
    if sets[0].multi_part:
        names = " + ".join(entry.filename for entry in sets[0].entries)
    else:
        names = (sets[0].entries[-1] if sets[0].fixed_factor else sets[0].entries[0]).filename
    if not any(s.downloadable for s in sets):
        why = "no pinned SHA-256: fetch by hand"
    elif options.is_offline:
        why = "offline"
    elif not options.allow_download:
        why = "downloads off"
    else:
        why = "not downloadable"
    # folder names, not paths: the line goes into infotexts, which must not carry a user's paths
    if sets[0].role == "autoencoder":
        named = [f for f in options.caller_models_dirs if f.name in catalog.TINY_VAE_FOLDERS]
        folder = _folder_label(named[0] if named else download_dir(options))
        where = folder if folder.endswith("VAE-taesd") else f"{folder} or VAE-taesd"
        return f"no {family} tiny autoencoder: put {names} in {where} ({why})"
    return f"no {family} weights: put {names} in {_folder_label(download_dir(options))} ({why})"


def _folder_label(folder: Path) -> str:
    """A folder as a host's user knows it without their path: ``models/LatentUpscaler`` (WebUI),
    ``models/latent_upscale_models`` (ComfyUI) for a host's models subfolder, ``~/…`` under the home
    folder (our download cache: ``~/.cache/latent_upscale``), else its name."""
    if folder.parent.name == "models":
        return f"models/{folder.name}"
    try:
        return "~/" + folder.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):  # not under the home folder, or no home folder
        return folder.name


def unavailable_message(
    family: str, sets: Sequence[WeightSet], options: NeuralOptions, places: Sequence[str]
) -> str:
    autoencoder = sets[0].role == "autoencoder"
    what = "tiny autoencoder (tiny VAE)" if autoencoder else "neural weights"
    lines = [f"no {what} for {family!r} latents were found. Any one of these would serve (best first):"]
    seen_arches: set[str] = set()
    for weight_set in sets:
        licence = weight_set.entries[0].licence
        if weight_set.arch in seen_arches:  # older versions of a set listed above: one line
            names = ", ".join(entry.filename for entry in weight_set.entries)
            lines.append(f"  - {weight_set.label} ({licence}, older): {names}, from the same place")
            continue
        seen_arches.add(weight_set.arch)
        if weight_set.multi_part:
            lines.append(f"  - {weight_set.label} ({licence}), all of:")
            lines += [
                f"      {entry.filename} from {manual_url(entry, options)}"
                + ("" if entry.downloadable else " (no pinned SHA-256: fetch it by hand)")
                for entry in weight_set.entries
            ]
        elif weight_set.fixed_factor:
            lines.append(f"  - {weight_set.label} ({licence}), one file per scale factor, any subset:")
            lines += [
                f"      {entry.filename} from {manual_url(entry, options)}" for entry in weight_set.entries
            ]
        else:
            entry = weight_set.entries[0]
            lines.append(
                f"  - {weight_set.label} ({licence}): {entry.filename} from {manual_url(entry, options)}"
            )
    files = "the files" if autoencoder or sets[0].multi_part else "the file"
    lines.append(f"Put {files} in {_home(sets, options)} (or any folder listed below).")
    if autoencoder:
        lines.append(
            "Any extension the hosts read works under the same name (.pth, .safetensors, .sft, .pt, .ckpt, "
            ".bin); the hosts' VAE-taesd, VAE-approx and vae_approx subfolders of each folder are searched."
        )
    lines.append("Places tried: " + "; ".join(places))
    downloadable = any(s.downloadable for s in sets)
    if not downloadable:
        lines.append("None of these has a pinned SHA-256, so none is downloaded for you: fetch by hand.")
    elif options.is_offline:
        lines.append(
            "Offline mode is on (HF_HUB_OFFLINE or the offline option), so nothing was downloaded; "
            "copy the file in by hand, or unset HF_HUB_OFFLINE."
        )
    elif not options.allow_download:
        lines.append("Downloads are off: allow downloads (the extension's setting) to fetch the first one.")
    if downloadable and any(e.source == "hf" for s in sets for e in s.entries):
        lines.append("Behind a firewall, point HF_ENDPOINT at a Hugging Face mirror, or download by hand.")
    return "\n".join(lines)


@dataclass(frozen=True)
class ModelInfo:
    """One known file for ``python -m latent_upscale models``: where it is, or where it would come from."""

    entry: CatalogEntry
    families: tuple[str, ...]
    local_path: Path | None
    found_in: str | None
    download_from: str | None
    #: Where to fetch a file we do not download ourselves (no pinned SHA-256), by hand.
    by_hand_from: str | None = None

    def summary(self) -> str:
        """One line: file, families, licence and presence."""
        where = f"present: {self.local_path} ({self.found_in})" if self.local_path else "absent"
        if self.download_from:
            fetch = f"; download: {self.download_from}"
        elif self.by_hand_from:
            fetch = f"; by hand (no pinned SHA-256): {self.by_hand_from}"
        else:
            fetch = "; local only"
        return f"{self.entry.filename} [{', '.join(self.families)}; {self.entry.licence}] {where}{fetch}"


def _families_of(entry: CatalogEntry) -> tuple[str, ...]:
    return tuple(
        family
        for family in catalog.PREFERENCES
        if any(entry in s.entries for role in catalog.ROLES for s in catalog.weight_sets_for(family, role))
    )


def list_models(options: NeuralOptions | None = None) -> list[ModelInfo]:
    """Every known weights file: families served, local copy (and where), download source."""
    options = options or NeuralOptions()
    search = Search.of(options)
    infos = []
    for entry in catalog.CATALOG:
        found = search.local(entry)
        infos.append(
            ModelInfo(
                entry=entry,
                families=_families_of(entry),
                local_path=found[0] if found else None,
                found_in=found[1] if found else None,
                download_from=manual_url(entry, options) if entry.downloadable else None,
                by_hand_from=None
                if entry.downloadable or entry.source == "local"
                else manual_url(entry, options),
            )
        )
    return infos


def find_local_weights(options: NeuralOptions | None = None) -> list[tuple[Path, str]]:
    """Every weights file in the searched folders (known or not), with the folder's label, so the
    CLI can also show files the catalog does not name (renamed or custom weights)."""
    options = options or NeuralOptions()
    found: list[tuple[Path, str]] = []
    for folder, label in search_dirs(options):
        if folder.is_dir():
            found += [
                (path, label)
                for path in sorted(folder.iterdir())
                if path.is_file() and path.suffix.lower() in _WEIGHT_SUFFIXES
            ]
    return found


@dataclass(frozen=True)
class NeuralStatus:
    """What the neural method would use for a family, in one line (``str(status)``)."""

    family: str | None
    text: str
    #: Weights are on disk (or in the HF cache): ``neural`` will run without the network.
    ready: bool
    #: Nothing is on disk but a download is allowed and would be attempted.
    will_download: bool

    def __str__(self) -> str:
        return self.text

    @property
    def available(self) -> bool:
        """True when ``neural`` can run (now or after a download)."""
        return self.ready or self.will_download


def _format_mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


def describe(
    family: str | None, options: NeuralOptions | None = None, role: str = "upscaler"
) -> NeuralStatus:
    """One line for the WebUI: e.g. ``SesquiLSR SDXL (…/upscaler_SDXL.safetensors)`` or
    ``city96 v2.1 SDv1 (will download 2.4 MB per factor from HF city96/SD-Latent-Upscaler)``.
    ``role`` as in :func:`~latent_upscale.neural.resolution.resolve_weights`."""
    options = options or NeuralOptions()
    if family is None:
        return NeuralStatus(None, "needs the model family", ready=False, will_download=False)
    sets = catalog.weight_sets_for(family, role)
    if not sets:
        return NeuralStatus(family, f"unavailable for {family}: no published weights", False, False)
    plan = plan_weights(family, options, role)
    found = plan.found
    if found is not None:
        weight_set = found.weight_set
        assert weight_set is not None  # a plan's find is always a catalog set
        if weight_set.multi_part:
            where = ", ".join(str(path) for path in found.parts)
        elif weight_set.fixed_factor:
            factors = ", ".join(f"x{f:g}" for f in sorted(k for k in found.files if k is not None))
            where = f"{factors} in {found.path.parent}"
        else:
            where = str(found.path)
        return NeuralStatus(family, f"{weight_set.label} ({where})", ready=True, will_download=False)
    top = plan.download
    if top is None:
        first = sets[0].entries[0]
        if sets[0].multi_part:
            names = " + ".join(entry.filename for entry in sets[0].entries)
            where = f"fetch them by hand from {manual_url(first, options).rsplit('/', 1)[0]}/"
        else:
            names, where = first.filename, f"fetch it by hand from {manual_url(first, options)}"
        text = f"missing: put {names} in a models folder ({where})"
        return NeuralStatus(family, text, ready=False, will_download=False)
    entry = top.entries[0]
    size = _format_mb(sum(e.approx_bytes for e in top.entries) if top.multi_part else entry.approx_bytes)
    size += " per factor" if top.fixed_factor else ""
    source = origin(entry, options)  # the place download_entry would fetch from
    if plan.will_download:
        return NeuralStatus(family, f"{top.label} (will download {size} from {source})", False, True)
    reason = "offline" if options.is_offline else "downloads off"
    return NeuralStatus(family, f"missing: {top.label} ({size} from {source}; {reason})", False, False)
