"""Finding weights: the one resolution walk that resolving, listing and status lines all share.

Resolution order (:func:`resolve_weights`):

1. an explicit file: a path, or a bare file name, which is looked up in the models folders only
   (never first in the working directory; write ``./name`` for that);
2. the models folders: those the caller names (``NeuralOptions.models_dir``: the WebUI's
   ``models/LatentUpscaler`` and settings folder, the CLI's ``--models-dir``), then the folders in
   the ``LATENT_UPSCALE_MODELS`` environment variable (``os.pathsep``-separated; an unusable entry
   is skipped with one warning);
3. ``models/`` inside the extension (city96's old convention), then our download cache
   (``$XDG_CACHE_HOME/latent_upscale``, used when no folder was named);
4. the Hugging Face cache (city96 files; ``huggingface_hub.try_to_load_from_cache``), checked
   against the pinned SHA-256;
5. a download (:mod:`~latent_upscale.neural.downloads`), only when ``allow_download`` is set, we
   are not offline (``HF_HUB_OFFLINE``) and the file's SHA-256 is pinned. Ttl's GPL-3.0 files are
   never downloaded.

For a family, the weight sets of :data:`~latent_upscale.neural.catalog.PREFERENCES` are tried in
order at steps 2-4; the first set with a file present wins even if a better set could be downloaded
(no surprise downloads). Only when nothing is present is the first downloadable set fetched. When
nothing can be had, :class:`~latent_upscale.errors.WeightsUnavailableError` names each file, the
folder to put it in, the URL to fetch it from by hand and every place tried.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.families import FAMILY_IDS
from latent_upscale.neural import catalog
from latent_upscale.neural.catalog import UNSERVED_HINTS, CatalogEntry, WeightSet
from latent_upscale.neural.downloads import (
    discard_hf_file,
    download_entry,
    file_sha256,
    hf_revision,
    manual_url,
)
from latent_upscale.neural.options import MODELS_DIR_ENV, NeuralOptions
from latent_upscale.neural.planning import plan_fixed_factors

__all__ = [
    "ResolvedWeights",
    "Search",
    "download_dir",
    "manual_url",
    "resolve_weights",
    "search_dirs",
]

logger = logging.getLogger(__name__)

_EXTENSION_MODELS = Path(__file__).resolve().parents[2] / "models"
_warned_env_entries: set[str] = set()


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latent_upscale"


def _env_dirs() -> tuple[Path, ...]:
    """The folders in ``LATENT_UPSCALE_MODELS``; an entry that cannot be a folder (``~nouser/x``,
    a NUL byte) is skipped with one warning, so the other folders still count."""
    folders = []
    for part in os.environ.get(MODELS_DIR_ENV, "").split(os.pathsep):
        if not part.strip():
            continue
        try:
            folder = Path(part).expanduser()
            folder.is_dir()  # raises ValueError for an embedded NUL byte
        except (RuntimeError, ValueError, OSError) as error:
            if part not in _warned_env_entries:
                _warned_env_entries.add(part)
                logger.warning("skipping %r in $%s: %s", part, MODELS_DIR_ENV, error)
            continue
        folders.append(folder)
    return tuple(folders)


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


#: Other suffixes a tiny autoencoder's part is found under besides its published ``.pth``: ComfyUI's
#: ``VAELoader`` takes ``models/vae_approx/taesd_decoder.*`` with any extension, and safetensors
#: conversions are common. Folders are searched in order; in each, the published name first.
_PART_SUFFIXES = (".safetensors", ".pt", ".bin", ".ckpt")


def _part_suffixes(entry: CatalogEntry) -> tuple[str, ...]:
    return _PART_SUFFIXES if entry.part is not None else ()


def _find_in_dirs(
    filename: str, dirs: Sequence[tuple[Path, str]], other_suffixes: Sequence[str] = ()
) -> tuple[Path, str] | None:
    stem = Path(filename).stem
    names = [filename, *(stem + suffix for suffix in other_suffixes if not filename.endswith(suffix))]
    for folder, label in dirs:
        for name in names:
            candidate = folder / name
            if candidate.is_file():  # False (not an error) for a symlink loop or an unreadable entry
                return candidate, label
    return None


def _hf_cache_root(options: NeuralOptions) -> Path:
    """The Hugging Face hub cache folder, as ``huggingface_hub`` finds it (``constants.py``): the
    options' folder, else ``$HF_HUB_CACHE`` (or its old name ``$HUGGINGFACE_HUB_CACHE``), else
    ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``."""
    if options.hf_cache_dir is not None:
        return Path(options.hf_cache_dir).expanduser()
    hub = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if hub:
        return Path(hub).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    return (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "huggingface" / "hub"
    )


def _hf_cached(entry: CatalogEntry, options: NeuralOptions) -> Path | None:
    """The file in the Hugging Face cache, without any network access (None if absent or no hub).

    ``huggingface_hub`` is imported only when the repository's cache folder exists (importing it
    costs most of a second, and a CLI call without neural weights must not pay for it).
    """
    if not (_hf_cache_root(options) / f"models--{options.hf_repo_id.replace('/', '--')}").is_dir():
        return None
    try:
        import huggingface_hub
    except ImportError:
        return None
    cache_dir = str(options.hf_cache_dir) if options.hf_cache_dir is not None else None
    revision = hf_revision(entry, options)
    lookup = getattr(huggingface_hub, "try_to_load_from_cache", None)
    try:
        if lookup is not None:
            found = lookup(options.hf_repo_id, entry.filename, cache_dir=cache_dir, revision=revision)
            return Path(found) if isinstance(found, str) and Path(found).is_file() else None
        # huggingface-hub < 0.11 has no cache lookup: ask hf_hub_download not to touch the network.
        found = huggingface_hub.hf_hub_download(
            repo_id=options.hf_repo_id,
            filename=entry.filename,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=True,
        )
        return Path(found)
    except Exception:  # any cache miss or oddity means "not in the cache"
        return None


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
    #: Every file of a multi-part set (decoder, encoder), loaded together; empty otherwise.
    parts: tuple[Path, ...] = ()

    def load_paths(self, key: float | None) -> Path | tuple[Path, ...]:
        """What the runner loads for ``key``: the one file, or all parts of a multi-part set."""
        return self.parts if self.parts else self.files[key]

    @property
    def path(self) -> Path:
        """The single file of an any-scale set (or the first file of a fixed-factor set)."""
        return next(iter(self.files.values()))


@dataclass
class Search:
    """One resolution walk over the folders and caches (shared by resolve, list and describe)."""

    options: NeuralOptions
    dirs: list[tuple[Path, str]] = field(default_factory=list)

    @classmethod
    def of(cls, options: NeuralOptions) -> Search:
        """A walk over the folders ``options`` name, in order."""
        return cls(options, search_dirs(options))

    def local(self, entry: CatalogEntry) -> tuple[Path, str] | None:
        """Where ``entry`` is on this machine (models folders, then the HF cache), or ``None``."""
        found = _find_in_dirs(entry.filename, self.dirs, _part_suffixes(entry))
        if found is not None:
            return found
        if entry.source == "hf":
            cached = _hf_cached(entry, self.options)
            if cached is not None and self._cache_hit_is_pinned(cached, entry):
                return cached, "HF cache"
        return None

    @staticmethod
    def _cache_hit_is_pinned(path: Path, entry: CatalogEntry) -> bool:
        if entry.sha256 is None or file_sha256(path) == entry.sha256:
            return True
        logger.warning("removing %s from the Hugging Face cache: its SHA-256 is not the published one", path)
        discard_hf_file(path)
        return False

    def local_set(self, weight_set: WeightSet) -> ResolvedWeights | None:
        """The files of ``weight_set`` present on this machine (any subset; all parts of a
        multi-part set, or ``None`` when one is missing), or ``None``."""
        if weight_set.multi_part:
            found_parts = [self.local(entry) for entry in weight_set.entries]
            if any(found is None for found in found_parts):
                return None
            return _parts_resolved(weight_set, found_parts)  # type: ignore[arg-type]
        files: dict[float | None, Path] = {}
        sources: dict[float | None, str] = {}
        for entry in weight_set.entries:
            found = self.local(entry)
            if found is not None:
                files[entry.factor], sources[entry.factor] = found
        if not files:
            return None
        return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set)

    def places(self, hf: bool) -> list[str]:
        """Every place this walk looks, for messages."""
        places = [f"{folder} ({label})" for folder, label in self.dirs]
        if hf:
            cache = self.options.hf_cache_dir or "the default Hugging Face cache"
            places.append(f"{cache} (HF cache of {self.options.hf_repo_id})")
        return places


def _parts_resolved(
    weight_set: WeightSet, found: Sequence[tuple[Path, str]], places: tuple[str, ...] = ()
) -> ResolvedWeights:
    paths = tuple(path for path, _ in found)
    source = ", ".join(dict.fromkeys(label for _, label in found))
    return ResolvedWeights(
        weight_set.label, weight_set.arch, {None: paths[0]}, {None: source}, weight_set, places, paths
    )


def _resolve_explicit(path: str | os.PathLike[str], dirs: Sequence[tuple[Path, str]]) -> ResolvedWeights:
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise LatentUpscaleError(f"weights must name a file, got {path!r}")
    bare = os.sep not in text and (os.altsep is None or os.altsep not in text) and not text.startswith("~")
    if bare:  # a bare file name: the models folders only, never the working directory
        found = _find_in_dirs(text, dirs)
        if found is not None:
            return ResolvedWeights(text, None, {None: found[0]}, {None: found[1]})
        tried = [str(folder / text) for folder, _ in dirs]
        raise WeightsUnavailableError(
            f"weights file not found: {text} (looked at: {'; '.join(tried)}; write ./{text} for a file in "
            "the working directory)"
        )
    try:
        candidate = Path(text).expanduser()
    except RuntimeError as error:  # ~nouser/…
        raise LatentUpscaleError(f"weights path {text!r}: {error}") from error
    if candidate.is_file():
        return ResolvedWeights(candidate.name, None, {None: candidate}, {None: "explicit"})
    why = "a symlink loop" if _is_symlink_loop(candidate) else "not found"
    raise WeightsUnavailableError(f"weights file {why}: {path} (looked at: {Path.cwd() / candidate})")


def _is_symlink_loop(path: Path) -> bool:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return True  # Python < 3.13 reports a loop as RuntimeError
    except OSError as error:
        return error.errno == 40  # ELOOP
    return False


def resolve_weights(
    family: str | None,
    options: NeuralOptions,
    *,
    explicit: str | os.PathLike[str] | None = None,
    factors_wanted: Sequence[float] = (),
    sizes: tuple[tuple[int, int], tuple[int, int]] | None = None,
    role: str = "upscaler",
) -> ResolvedWeights:
    """Find (or, when allowed, download) the weights to upscale latents of ``family``.

    ``explicit`` wins over everything. Otherwise the preference table is walked as described in
    the module docstring. ``factors_wanted`` says which factors to download when a fixed-factor
    set has to be fetched; by default they are planned from ``sizes`` (``(source, target)`` in
    latent pixels) and the set's own factors. Local fixed-factor files are returned whatever their
    factors. ``role`` picks the table: ``"upscaler"`` (the ``neural`` method) or ``"autoencoder"``
    (the ``tae`` round trip: the family's tiny autoencoder, a decoder + encoder pair). Raises
    :class:`WeightsUnavailableError` (or :class:`LatentUpscaleError` for bad input).
    """
    search = Search.of(options)
    if explicit is not None:
        return _resolve_explicit(explicit, search.dirs)
    if family is None:
        raise LatentUpscaleError(
            "the neural method needs the model family (sd1, sdxl, flux, wan, …) to choose weights, "
            "or an explicit weights file"
        )
    sets = catalog.weight_sets_for(family, role)
    if not sets:
        served = sorted(f for f in FAMILY_IDS if catalog.weight_sets_for(f, role))
        if role == "autoencoder":
            raise WeightsUnavailableError(
                f"no tiny autoencoder serves {family!r} latents (madebyollin/taesd publishes none for it). "
                f"Served families: {', '.join(served)}.",
                summary=f"no tiny autoencoder for {family}",
            )
        hint = UNSERVED_HINTS.get(family, f"no published latent upscaler is known for {family!r}")
        raise WeightsUnavailableError(
            f"no neural weights serve {family!r} latents: {hint}. Served families: {', '.join(served)}."
        )
    for weight_set in sets:
        found = search.local_set(weight_set)
        if found is not None:
            logger.debug("neural weights for %s: %s (%s)", family, found.label, found.sources)
            return found
    places = tuple(search.places(any(entry.source == "hf" for s in sets for entry in s.entries)))
    top = next((s for s in sets if s.downloadable), None)
    if top is not None and options.may_download:
        if not factors_wanted and sizes is not None and top.fixed_factor:
            factors_wanted = plan_fixed_factors(*sizes, top.factors)
        return _download_set(top, options, factors_wanted, places)
    from latent_upscale.neural.status import unavailable_message, unavailable_summary

    raise WeightsUnavailableError(
        unavailable_message(family, sets, options, places),
        summary=unavailable_summary(family, sets, options),
    )


def _download_set(
    weight_set: WeightSet, options: NeuralOptions, factors_wanted: Sequence[float], places: Sequence[str]
) -> ResolvedWeights:
    entries = list(weight_set.entries)
    if weight_set.fixed_factor:
        wanted = set(factors_wanted) or {max(weight_set.factors)}
        entries = [entry for entry in entries if entry.factor in wanted]
        if not entries:
            raise LatentUpscaleError(f"{weight_set.label}: no file for factors {sorted(wanted)}")
    files: dict[float | None, Path] = {}
    sources: dict[float | None, str] = {}
    folder = download_dir(options)
    if weight_set.multi_part:  # every part, each verified before it lands
        search = Search.of(options)
        found = [
            search.local(entry) or download_entry(entry, options, folder, "; ".join(places))
            for entry in entries
        ]
        return _parts_resolved(weight_set, found, tuple(places))
    for entry in entries:
        files[entry.factor], sources[entry.factor] = download_entry(entry, options, folder, "; ".join(places))
    return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set, tuple(places))
