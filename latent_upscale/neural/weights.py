"""Finding weights: the one resolution function, downloads, and what the CLI and WebUI show.

Resolution order (:func:`resolve_weights`):

1. an explicit file (a path, or a bare file name looked up in the folders below);
2. the models folders: those the caller names (``NeuralOptions.models_dir``: the WebUI's
   ``models/LatentUpscaler`` and settings folder, the CLI's ``--models-dir``), then the folders in
   the ``LATENT_UPSCALE_MODELS`` environment variable (``os.pathsep``-separated);
3. ``models/`` inside the extension (city96's old convention), then our download cache
   (``$XDG_CACHE_HOME/latent_upscale``, used when no folder was named);
4. the Hugging Face cache (city96 files; ``huggingface_hub.try_to_load_from_cache``);
5. a download, only when ``allow_download`` is set and we are not offline (``HF_HUB_OFFLINE``):
   city96 files through ``huggingface_hub.hf_hub_download`` (repo id and revision from the options;
   honours ``HF_ENDPOINT`` mirrors; shows its own progress bar; stored in the HF cache), SesquiLSR
   files from their GitHub URL (progress bar, temp file + atomic rename into the first models
   folder, SHA-256 recorded in a ``<file>.sha256.json`` sidecar on the first download and checked on
   every later download and load). Ttl's GPL-3.0 files are never downloaded.

For a family, the weight sets of :data:`~latent_upscale.neural.catalog.PREFERENCES` are tried in
order at steps 2-4; the first set with a file present wins even if a better set could be downloaded
(no surprise downloads). Only when nothing is present is the first downloadable set fetched. When
nothing can be had, :class:`~latent_upscale.errors.WeightsUnavailableError` names each file, the
folder to put it in, the URL to fetch it from by hand and every place tried.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.families import FAMILY_IDS
from latent_upscale.neural.catalog import (
    CATALOG,
    PREFERENCES,
    UNSERVED_HINTS,
    CatalogEntry,
    WeightSet,
    weight_sets_for,
)
from latent_upscale.neural.options import MODELS_DIR_ENV, NeuralOptions
from latent_upscale.neural.planning import plan_fixed_factors

__all__ = [
    "KNOWN_SHA256",
    "ModelInfo",
    "NeuralStatus",
    "ResolvedWeights",
    "describe",
    "download_url",
    "find_local_weights",
    "list_models",
    "manual_url",
    "resolve_weights",
    "search_dirs",
    "verify_sidecar",
]

logger = logging.getLogger(__name__)

#: SHA-256 of published files we have verified ourselves (none yet: we could not fetch them here).
#: A first download records the hash in a sidecar instead; entries here would override that.
KNOWN_SHA256: dict[str, str] = {}
SIDECAR_SUFFIX = ".sha256.json"
_WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt")
_DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 16
_EXTENSION_MODELS = Path(__file__).resolve().parents[2] / "models"


# --- where to look ------------------------------------------------------------------------------


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latent_upscale"


def _env_dirs() -> tuple[Path, ...]:
    value = os.environ.get(MODELS_DIR_ENV, "")
    return tuple(Path(part).expanduser() for part in value.split(os.pathsep) if part.strip())


def search_dirs(options: NeuralOptions) -> list[tuple[Path, str]]:
    """Folders searched for weight files, in order, each with a short label for messages."""
    dirs: list[tuple[Path, str]] = [(folder, "models folder") for folder in options.caller_models_dirs]
    dirs += [(folder, f"${MODELS_DIR_ENV}") for folder in _env_dirs()]
    if options.search_extension_models:
        dirs.append((_EXTENSION_MODELS, "extension models/"))
    dirs.append((_default_cache_dir(), "download cache"))
    unique: dict[Path, str] = {}
    for folder, label in dirs:
        unique.setdefault(folder, label)
    return list(unique.items())


def download_dir(options: NeuralOptions) -> Path:
    """Where URL downloads go: the first folder the caller or the environment names, else our cache."""
    named = list(options.caller_models_dirs) + list(_env_dirs())
    return named[0] if named else _default_cache_dir()


def manual_url(entry: CatalogEntry, options: NeuralOptions) -> str:
    """The address a person can fetch ``entry`` from by hand."""
    if entry.source == "hf":
        endpoint = (options.hf_endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip(
            "/"
        )
        return f"{endpoint}/{options.hf_repo_id}/resolve/{options.hf_revision}/{entry.filename}"
    if entry.source == "url":
        return download_url(entry, options)
    return f"{entry.homepage} (download it yourself: {entry.licence}; we do not fetch it)"


def download_url(entry: CatalogEntry, options: NeuralOptions) -> str:
    """The URL we download a ``url``-sourced entry from."""
    return options.sesqui_base_url.rstrip("/") + "/" + entry.filename


def _find_in_dirs(filename: str, dirs: Sequence[tuple[Path, str]]) -> tuple[Path, str] | None:
    for folder, label in dirs:
        candidate = folder / filename
        if candidate.is_file():
            return candidate, label
    return None


def _hf_cached(entry: CatalogEntry, options: NeuralOptions) -> Path | None:
    """The file in the Hugging Face cache, without any network access (None if absent or no hub)."""
    try:
        import huggingface_hub
    except ImportError:
        return None
    cache_dir = str(options.hf_cache_dir) if options.hf_cache_dir is not None else None
    lookup = getattr(huggingface_hub, "try_to_load_from_cache", None)
    try:
        if lookup is not None:
            found = lookup(
                options.hf_repo_id, entry.filename, cache_dir=cache_dir, revision=options.hf_revision
            )
            return Path(found) if isinstance(found, str) and Path(found).is_file() else None
        # huggingface-hub < 0.11 has no cache lookup: ask hf_hub_download not to touch the network.
        found = huggingface_hub.hf_hub_download(
            repo_id=options.hf_repo_id,
            filename=entry.filename,
            revision=options.hf_revision,
            cache_dir=cache_dir,
            local_files_only=True,
        )
        return Path(found)
    except Exception:  # any cache miss or oddity means "not in the cache"
        return None


# --- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedWeights:
    """The files chosen for one upscale: one path, or one path per factor for fixed-factor sets."""

    label: str
    arch: str | None
    #: ``{factor: path}`` for city96 sets, ``{None: path}`` otherwise.
    files: dict[float | None, Path]
    #: How each file was found: ``explicit``, ``models folder``, ``HF cache``, ``downloaded`` …
    sources: dict[float | None, str]
    weight_set: WeightSet | None = None
    places_tried: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        """The single file of an any-scale set (or the first file of a fixed-factor set)."""
        return next(iter(self.files.values()))


@dataclass
class _Search:
    options: NeuralOptions
    dirs: list[tuple[Path, str]]
    tried: list[str] = field(default_factory=list)

    def local(self, entry: CatalogEntry) -> tuple[Path, str] | None:
        found = _find_in_dirs(entry.filename, self.dirs)
        if found is not None:
            return found
        if entry.source == "hf":
            cached = _hf_cached(entry, self.options)
            if cached is not None:
                return cached, "HF cache"
        return None

    def local_set(self, weight_set: WeightSet) -> ResolvedWeights | None:
        files: dict[float | None, Path] = {}
        sources: dict[float | None, str] = {}
        for entry in weight_set.entries:
            found = self.local(entry)
            if found is not None:
                files[entry.factor], sources[entry.factor] = found
        if not files:
            return None
        return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set)


def _places(options: NeuralOptions, dirs: Sequence[tuple[Path, str]], hf: bool) -> list[str]:
    places = [f"{folder} ({label})" for folder, label in dirs]
    if hf:
        cache = options.hf_cache_dir or "the default Hugging Face cache"
        places.append(f"{cache} (HF cache of {options.hf_repo_id}@{options.hf_revision})")
    return places


def _resolve_explicit(path: str | os.PathLike[str], dirs: Sequence[tuple[Path, str]]) -> ResolvedWeights:
    candidate = Path(path).expanduser()
    if candidate.is_file():
        return ResolvedWeights(candidate.name, None, {None: candidate}, {None: "explicit"})
    if candidate.name == str(path):  # a bare file name: look in the models folders
        found = _find_in_dirs(candidate.name, dirs)
        if found is not None:
            return ResolvedWeights(candidate.name, None, {None: found[0]}, {None: found[1]})
    tried = [str(candidate.resolve())] + [str(folder / candidate.name) for folder, _ in dirs]
    raise WeightsUnavailableError(f"weights file not found: {path} (looked at: {'; '.join(tried)})")


def resolve_weights(
    family: str | None,
    options: NeuralOptions,
    *,
    explicit: str | os.PathLike[str] | None = None,
    factors_wanted: Sequence[float] = (),
    sizes: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> ResolvedWeights:
    """Find (or, when allowed, download) the weights to upscale latents of ``family``.

    ``explicit`` wins over everything. Otherwise the preference table is walked as described in
    the module docstring. ``factors_wanted`` says which factors to download when a fixed-factor
    set has to be fetched; by default they are planned from ``sizes`` (``(source, target)`` in
    latent pixels) and the set's own factors. Local fixed-factor files are returned whatever their
    factors.
    """
    dirs = search_dirs(options)
    if explicit is not None:
        return _resolve_explicit(explicit, dirs)
    if family is None:
        raise LatentUpscaleError(
            "the neural method needs the model family (sd1, sdxl, flux, wan, …) to choose weights, "
            "or an explicit weights file"
        )
    sets = weight_sets_for(family)
    if not sets:
        hint = UNSERVED_HINTS.get(family, f"no published latent upscaler is known for {family!r}")
        raise WeightsUnavailableError(
            f"no neural weights serve {family!r} latents: {hint}. Served families: "
            f"{', '.join(sorted(f for f in _served_families()))}."
        )
    search = _Search(options, dirs)
    for weight_set in sets:
        found = search.local_set(weight_set)
        if found is not None:
            logger.debug("neural weights for %s: %s (%s)", family, found.label, found.sources)
            return found
    uses_hf = any(entry.source == "hf" for s in sets for entry in s.entries)
    places = tuple(_places(options, dirs, uses_hf))
    top = next((s for s in sets if s.downloadable), None)
    if top is not None and options.may_download:
        if not factors_wanted and sizes is not None and top.fixed_factor:
            factors_wanted = plan_fixed_factors(*sizes, top.factors)
        return _download_set(top, options, factors_wanted, places)
    raise WeightsUnavailableError(
        _unavailable_message(family, sets, options, places),
        summary=_unavailable_summary(family, sets, options),
    )


def _unavailable_summary(family: str, sets: Sequence[WeightSet], options: NeuralOptions) -> str:
    """One line for the infotext: the best file, where it belongs, and why it was not fetched."""
    best = sets[0].entries[-1] if sets[0].fixed_factor else sets[0].entries[0]
    if options.is_offline:
        why = "offline"
    elif not options.allow_download:
        why = "downloads off"
    else:
        why = "not downloadable"
    return f"no {family} weights: put {best.filename} in {download_dir(options)} ({why})"


def _served_families() -> set[str]:
    return {family for family in FAMILY_IDS if weight_sets_for(family)}


def _unavailable_message(
    family: str, sets: Sequence[WeightSet], options: NeuralOptions, places: Sequence[str]
) -> str:
    folder = download_dir(options)
    lines = [
        f"no neural weights for {family!r} latents were found. Any one of these would serve (best first):"
    ]
    seen_arches: set[str] = set()
    for weight_set in sets:
        licence = weight_set.entries[0].licence
        if weight_set.arch in seen_arches:  # older versions of a set listed above: one line
            names = ", ".join(entry.filename for entry in weight_set.entries)
            lines.append(f"  - {weight_set.label} ({licence}, older): {names}, from the same place")
            continue
        seen_arches.add(weight_set.arch)
        if weight_set.fixed_factor:
            lines.append(f"  - {weight_set.label} ({licence}), one file per scale factor, any subset:")
            lines += [
                f"      {entry.filename} from {manual_url(entry, options)}" for entry in weight_set.entries
            ]
        else:
            entry = weight_set.entries[0]
            lines.append(
                f"  - {weight_set.label} ({licence}): {entry.filename} from {manual_url(entry, options)}"
            )
    lines.append(f"Put the file in {folder} (or any folder listed below).")
    lines.append("Places tried: " + "; ".join(places))
    if options.is_offline:
        lines.append(
            "Offline mode is on (HF_HUB_OFFLINE or the offline option), so nothing was downloaded; "
            "copy the file in by hand, or unset HF_HUB_OFFLINE."
        )
    elif not options.allow_download:
        lines.append("Downloads are off: allow downloads (the extension's setting) to fetch the first one.")
    lines.append("Behind a firewall, point HF_ENDPOINT at a Hugging Face mirror, or download by hand.")
    return "\n".join(lines)


# --- downloads ----------------------------------------------------------------------------------


def _download_set(
    weight_set: WeightSet, options: NeuralOptions, factors_wanted: Sequence[float], places: Sequence[str]
) -> ResolvedWeights:
    entries = list(weight_set.entries)
    if weight_set.fixed_factor:
        wanted = set(factors_wanted) or {max(e.factor for e in entries if e.factor is not None)}
        entries = [entry for entry in entries if entry.factor in wanted]
        if not entries:
            raise LatentUpscaleError(f"{weight_set.label}: no file for factors {sorted(wanted)}")
    files: dict[float | None, Path] = {}
    sources: dict[float | None, str] = {}
    for entry in entries:
        if entry.source == "hf":
            files[entry.factor] = _download_hf(entry, options, places)
        else:
            files[entry.factor] = _download_url(entry, options, places)
        sources[entry.factor] = "downloaded"
    return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set, tuple(places))


def _download_hf(entry: CatalogEntry, options: NeuralOptions, places: Sequence[str]) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as error:
        raise WeightsUnavailableError(
            f"cannot download {entry.filename}: huggingface-hub is not installed (pip install "
            f"huggingface-hub), or fetch {manual_url(entry, options)} by hand into {download_dir(options)}"
        ) from error
    kwargs: dict[str, object] = {"revision": options.hf_revision}
    if options.hf_cache_dir is not None:
        kwargs["cache_dir"] = str(options.hf_cache_dir)
    if options.hf_endpoint is not None:
        kwargs["endpoint"] = options.hf_endpoint  # else huggingface-hub reads HF_ENDPOINT itself
    logger.info(
        "downloading %s from Hugging Face %s@%s", entry.filename, options.hf_repo_id, options.hf_revision
    )
    try:
        return Path(hf_hub_download(repo_id=options.hf_repo_id, filename=entry.filename, **kwargs))
    except Exception as error:  # network, HTTP and hub errors all mean "could not get it"
        raise WeightsUnavailableError(
            f"could not download {entry.filename} from {manual_url(entry, options)}: "
            f"{type(error).__name__}: {error}\nFetch it by hand into {download_dir(options)}; places tried: "
            + "; ".join(places)
            + ". Behind a firewall, set HF_ENDPOINT to a mirror; to stay offline, set HF_HUB_OFFLINE=1."
        ) from error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _expected_sha256(path: Path) -> str | None:
    known = KNOWN_SHA256.get(path.name)
    if known is not None:
        return known
    sidecar = _sidecar(path)
    if not sidecar.is_file():
        return None
    try:
        return str(json.loads(sidecar.read_text(encoding="utf-8"))["sha256"]).lower()
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LatentUpscaleError(
            f"unreadable checksum file {sidecar}: {error}; delete it to re-record"
        ) from error


def verify_sidecar(path: Path) -> None:
    """Check ``path`` against the SHA-256 recorded when it was first downloaded (if one was)."""
    expected = _expected_sha256(path)
    if expected is None:
        return
    actual = _sha256(path)
    if actual != expected:
        raise LatentUpscaleError(
            f"{path.name} does not match the SHA-256 recorded when it was first downloaded "
            f"(expected {expected}, found {actual}). The file changed or is corrupt: delete it (and "
            f"{_sidecar(path).name} if you replaced it on purpose) and download it again."
        )


@contextlib.contextmanager
def _progress(total: int | None, name: str, enabled: bool) -> Iterator[object]:
    bar = None
    if enabled:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)
        except ImportError:
            bar = None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()


def _looks_like_safetensors(path: Path) -> bool:
    """A safetensors file starts with a little-endian header length and a JSON object."""
    with path.open("rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return 0 < header_len < 100_000_000 and head[8:9] == b"{"


def _download_url(entry: CatalogEntry, options: NeuralOptions, places: Sequence[str]) -> Path:
    url = download_url(entry, options)
    folder = download_dir(options)
    target = folder / entry.filename
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WeightsUnavailableError(f"cannot create the models folder {folder}: {error}") from error
    temp = folder / f".{entry.filename}.{os.getpid()}.part"
    logger.info("downloading %s from %s into %s", entry.filename, url, folder)
    request = urllib.request.Request(url, headers={"User-Agent": "latent-upscale"})
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with temp.open("wb") as handle, _progress(total, entry.filename, options.progress) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))  # type: ignore[attr-defined]
        if total is not None and temp.stat().st_size != total:
            raise OSError(f"download incomplete: {temp.stat().st_size} of {total} bytes")
        if not _looks_like_safetensors(temp):
            raise OSError("the server did not send a safetensors file (an error page or a Git LFS pointer?)")
        actual = digest.hexdigest()
        expected = _expected_sha256(target)
        if expected is not None and actual != expected:
            raise LatentUpscaleError(
                f"downloaded {entry.filename} has SHA-256 {actual}, but {expected} was recorded for it; "
                f"refusing it. If the published file changed on purpose, delete {_sidecar(target)}."
            )
        temp.replace(target)  # atomic on one file system: no half-written weights are ever seen
        if expected is None:
            record = {"file": entry.filename, "sha256": actual, "size": target.stat().st_size, "url": url}
            record["recorded"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            _sidecar(target).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return target
    except LatentUpscaleError:
        raise
    except (OSError, urllib.error.URLError, ValueError) as error:
        raise WeightsUnavailableError(
            f"could not download {entry.filename} from {url}: {error}\nFetch it by hand into {folder}; "
            "places tried: " + "; ".join(places)
        ) from error
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


# --- listing and describing ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """One known file for ``python -m latent_upscale models``: where it is, or where it would come from."""

    entry: CatalogEntry
    families: tuple[str, ...]
    local_path: Path | None
    found_in: str | None
    download_from: str | None

    def summary(self) -> str:
        """One line: file, families, licence and presence."""
        where = f"present: {self.local_path} ({self.found_in})" if self.local_path else "absent"
        fetch = f"; download: {self.download_from}" if self.download_from else "; local only"
        return f"{self.entry.filename} [{', '.join(self.families)}; {self.entry.licence}] {where}{fetch}"


def _families_of(entry: CatalogEntry) -> tuple[str, ...]:
    return tuple(family for family, sets in PREFERENCES.items() if any(entry in s.entries for s in sets))


def list_models(options: NeuralOptions | None = None) -> list[ModelInfo]:
    """Every known weights file: families served, local copy (and where), download source."""
    options = options or NeuralOptions()
    search = _Search(options, search_dirs(options))
    infos = []
    for entry in CATALOG:
        found = search.local(entry)
        infos.append(
            ModelInfo(
                entry=entry,
                families=_families_of(entry),
                local_path=found[0] if found else None,
                found_in=found[1] if found else None,
                download_from=None if entry.source == "local" else manual_url(entry, options),
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


def describe(family: str | None, options: NeuralOptions | None = None) -> NeuralStatus:
    """One line for the WebUI: e.g. ``SesquiLSR SDXL (…/upscaler_SDXL.safetensors)`` or
    ``city96 v2.1 SDv1 (will download 2.4 MB per factor from HF city96/SD-Latent-Upscaler)``."""
    options = options or NeuralOptions()
    if family is None:
        return NeuralStatus(None, "needs the model family", ready=False, will_download=False)
    sets = weight_sets_for(family)
    if not sets:
        return NeuralStatus(family, f"unavailable for {family}: no published weights", False, False)
    search = _Search(options, search_dirs(options))
    for weight_set in sets:
        found = search.local_set(weight_set)
        if found is not None:
            if weight_set.fixed_factor:
                factors = ", ".join(f"x{f:g}" for f in sorted(k for k in found.files if k is not None))
                where = f"{factors} in {found.path.parent}"
            else:
                where = str(found.path)
            return NeuralStatus(family, f"{weight_set.label} ({where})", ready=True, will_download=False)
    top = next((s for s in sets if s.downloadable), None)
    if top is None:
        return NeuralStatus(
            family, f"missing: put {sets[0].entries[0].filename} in a models folder", False, False
        )
    entry = top.entries[0]
    size = _format_mb(entry.approx_bytes) + (" per factor" if top.fixed_factor else "")
    origin = f"HF {options.hf_repo_id}" if entry.source == "hf" else "GitHub"
    if options.may_download:
        return NeuralStatus(family, f"{top.label} (will download {size} from {origin})", False, True)
    reason = "offline" if options.is_offline else "downloads off"
    return NeuralStatus(family, f"missing: {top.label} ({size} from {origin}; {reason})", False, False)
