"""The weight search: where weights are looked for, in order, and the one plan that resolving, the
status line and the ``models`` listing all read, so a change of search order is made here once.

:func:`plan_weights` walks the family's weight sets (:data:`~latent_upscale.neural.catalog.PREFERENCES`,
or its tiny autoencoder) over the folders and the Hugging Face cache and says what is present and,
when nothing is, which set would be downloaded. :mod:`~latent_upscale.neural.resolution` acts on
the plan (downloads, errors); :mod:`~latent_upscale.neural.status` describes it. Neither walks again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from latent_upscale.neural import catalog
from latent_upscale.neural.catalog import CatalogEntry, WeightSet
from latent_upscale.neural.downloads import discard_hf_file, file_sha256, hf_repo, hf_revision
from latent_upscale.neural.options import MODELS_DIR_ENV, NeuralOptions
from latent_upscale.neural.state_dict import WEIGHT_SUFFIXES

__all__ = [
    "ResolvedWeights",
    "Search",
    "WeightPlan",
    "download_dir",
    "find_in_dirs",
    "parts_resolved",
    "plan_weights",
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


def _names(filename: str) -> list[str]:
    """The published name, then the same stem under every other extension we read."""
    path = Path(filename)
    return [filename] + [path.stem + other for other in WEIGHT_SUFFIXES if other != path.suffix.lower()]


def find_in_dirs(
    filename: str,
    dirs: Sequence[tuple[Path, str]],
    *,
    any_suffix: bool = False,
    subfolders: Sequence[str] = (),
) -> tuple[Path, str] | None:
    """The first ``folder/filename`` that is a file (each folder, then its ``subfolders``), with its
    folder's label, or ``None``; with ``any_suffix``, also under the same stem with any extension of
    :data:`~latent_upscale.neural.state_dict.WEIGHT_SUFFIXES`."""
    names = _names(filename) if any_suffix else [filename]
    for folder, label in dirs:
        for where, how in [(folder, label)] + [(folder / sub, f"{label}, {sub}") for sub in subfolders]:
            for name in names:
                candidate = where / name
                if candidate.is_file():  # False (not an error) for a symlink loop or an unreadable entry
                    return candidate, how
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
    repo = hf_repo(entry, options)
    if not (_hf_cache_root(options) / f"models--{repo.replace('/', '--')}").is_dir():
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
            found = lookup(repo, entry.filename, cache_dir=cache_dir, revision=revision)
            return Path(found) if isinstance(found, str) and Path(found).is_file() else None
        # huggingface-hub < 0.11 has no cache lookup: ask hf_hub_download not to touch the network.
        found = huggingface_hub.hf_hub_download(
            repo_id=repo,
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
        # a tiny autoencoder under any extension the hosts read (ComfyUI's VAELoader takes any); the
        # one-file upscalers keep their exact published names
        found = find_in_dirs(
            entry.filename, self.dirs, any_suffix=bool(entry.host_folders), subfolders=entry.host_folders
        )
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
            return parts_resolved(weight_set, found_parts)  # type: ignore[arg-type]
        files: dict[float | None, Path] = {}
        sources: dict[float | None, str] = {}
        for entry in weight_set.entries:
            found = self.local(entry)
            if found is not None:
                files[entry.factor], sources[entry.factor] = found
        if not files:
            return None
        return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set)

    def places(self, hf_repos: Sequence[str] = ()) -> list[str]:
        """Every place this walk looks, for messages (with the HF cache of each repo named)."""
        places = [f"{folder} ({label})" for folder, label in self.dirs]
        if hf_repos:
            cache = self.options.hf_cache_dir or "the default Hugging Face cache"
            places.append(f"{cache} (HF cache of {', '.join(dict.fromkeys(hf_repos))})")
        return places


def parts_resolved(
    weight_set: WeightSet, found: Sequence[tuple[Path, str]], places: tuple[str, ...] = ()
) -> ResolvedWeights:
    """The files of a multi-part set (decoder, encoder), found or fetched, as one result."""
    paths = tuple(path for path, _ in found)
    source = ", ".join(dict.fromkeys(label for _, label in found))
    return ResolvedWeights(
        weight_set.label, weight_set.arch, {None: paths[0]}, {None: source}, weight_set, places, paths
    )


@dataclass(frozen=True)
class WeightPlan:
    """What the weight search found for one family and role, and what would happen next.

    ``sets``: the preference-ordered weight sets (empty: nothing serves the family). ``found``: the
    first set with a file present (models folders, then the HF cache), or ``None``. ``download``:
    the first set we may fetch ourselves (pinned SHA-256), used only when nothing was found.
    ``places``: every place looked, for messages.
    """

    family: str
    role: str
    options: NeuralOptions
    sets: tuple[WeightSet, ...]
    found: ResolvedWeights | None
    download: WeightSet | None
    places: tuple[str, ...]

    @property
    def will_download(self) -> bool:
        """Nothing is present, a set is downloadable and the options allow downloads now."""
        return self.found is None and self.download is not None and self.options.may_download


def plan_weights(
    family: str, options: NeuralOptions, role: str = "upscaler", search: Search | None = None
) -> WeightPlan:
    """Walk ``family``'s weight sets for ``role`` (``"upscaler"`` or ``"autoencoder"``) once: the
    first set with any file present wins (a lower-preference file you have beats a download), else
    the first downloadable set is planned. Touches no network. Raises ``ValueError`` for an
    unknown role."""
    search = search or Search.of(options)
    sets = catalog.weight_sets_for(family, role)
    found = None
    for weight_set in sets:
        found = search.local_set(weight_set)
        if found is not None:
            break
    repos = [hf_repo(entry, options) for s in sets for entry in s.entries if entry.source == "hf"]
    return WeightPlan(
        family,
        role,
        options,
        sets,
        found,
        next((s for s in sets if s.downloadable), None),
        tuple(search.places(repos)),
    )
