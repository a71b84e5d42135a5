"""Resolving weights: an explicit file, else the weight search's plan
(:func:`~latent_upscale.neural.search.plan_weights`, which the status line reads too), acted on.

Resolution order (:func:`resolve_weights`):

1. an explicit file: a path, or a bare file name, which is looked up in the models folders only
   (never first in the working directory; write ``./name`` for that);
2. the models folders: those the caller names (``NeuralOptions.models_dir``: the WebUI's
   ``models/LatentUpscaler`` and settings folder, the CLI's ``--models-dir``), then the folders in
   the ``LATENT_UPSCALE_MODELS`` environment variable (``os.pathsep``-separated; an unusable entry
   is skipped with one warning). A file is found under its published name, then under the same
   stem with any extension the hosts read (``taef2_decoder.safetensors`` for ``taef2_decoder.pth``:
   :data:`~latent_upscale.neural.state_dict.WEIGHT_SUFFIXES`); a tiny autoencoder's file also in the
   hosts' subfolders of each folder (``VAE-taesd``, ``VAE-approx``, ComfyUI's ``vae_approx``);
3. ``models/`` inside the extension (city96's old convention), then our download cache
   (``$XDG_CACHE_HOME/latent_upscale``, used when no folder was named);
4. the Hugging Face cache (city96 files; ``huggingface_hub.try_to_load_from_cache``), checked
   against the pinned SHA-256;
5. a download (:mod:`~latent_upscale.neural.downloads`), only when ``allow_download`` is set, we
   are not offline (``HF_HUB_OFFLINE``) and the file's SHA-256 is pinned. Ttl's GPL-3.0 files are
   never downloaded.

For a family, the weight sets of :data:`~latent_upscale.neural.catalog.PREFERENCES` are tried in
order at steps 2-4 (:mod:`~latent_upscale.neural.search`); the first set with a file present wins
even if a better set could be downloaded (no surprise downloads). Only when nothing is present is
the first downloadable set fetched. When nothing can be had,
:class:`~latent_upscale.errors.WeightsUnavailableError` names each file, the folder to put it in, the
URL to fetch it from by hand and every place tried.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.families import FAMILY_IDS
from latent_upscale.neural import catalog
from latent_upscale.neural.catalog import UNSERVED_HINTS, WeightSet
from latent_upscale.neural.downloads import download_entry, manual_url
from latent_upscale.neural.options import NeuralOptions
from latent_upscale.neural.planning import plan_fixed_factors
from latent_upscale.neural.search import (
    ResolvedWeights,
    Search,
    download_dir,
    find_in_dirs,
    parts_resolved,
    plan_weights,
    search_dirs,
)
from latent_upscale.neural.status import unavailable_message, unavailable_summary

__all__ = [
    "ResolvedWeights",
    "Search",
    "download_dir",
    "manual_url",
    "resolve_weights",
    "search_dirs",
]

logger = logging.getLogger(__name__)


def _resolve_explicit(path: str | os.PathLike[str], dirs: Sequence[tuple[Path, str]]) -> ResolvedWeights:
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise LatentUpscaleError(f"weights must name a file, got {path!r}")
    bare = os.sep not in text and (os.altsep is None or os.altsep not in text) and not text.startswith("~")
    if bare:  # a bare file name: the models folders only, never the working directory
        found = find_in_dirs(text, dirs)
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
                f"no tiny autoencoder serves {family!r} latents (madebyollin/taesd and madebyollin/taehv "
                "publish none for it). "
                f"Served families: {', '.join(served)}.",
                summary=f"no tiny autoencoder for {family}",
            )
        hint = UNSERVED_HINTS.get(family, f"no published latent upscaler is known for {family!r}")
        raise WeightsUnavailableError(
            f"no neural weights serve {family!r} latents: {hint}. Served families: {', '.join(served)}."
        )
    plan = plan_weights(family, options, role, search)
    if plan.found is not None:
        logger.debug("neural weights for %s: %s (%s)", family, plan.found.label, plan.found.sources)
        return plan.found
    if plan.will_download:
        top = plan.download
        assert top is not None  # will_download says so
        if not factors_wanted and sizes is not None and top.fixed_factor:
            factors_wanted = plan_fixed_factors(*sizes, top.factors)
        return _download_set(top, options, factors_wanted, plan.places)
    raise WeightsUnavailableError(
        unavailable_message(family, sets, options, plan.places),
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
        return parts_resolved(weight_set, found, tuple(places))
    for entry in entries:
        files[entry.factor], sources[entry.factor] = download_entry(entry, options, folder, "; ".join(places))
    return ResolvedWeights(weight_set.label, weight_set.arch, files, sources, weight_set, tuple(places))
