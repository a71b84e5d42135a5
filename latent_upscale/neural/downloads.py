"""Downloading published weights: pinned SHA-256, verified before anything is moved into place.

* Hugging Face files (city96) go through ``huggingface_hub.hf_hub_download`` (its cache, its
  progress bar, ``HF_ENDPOINT`` mirrors) from the entry's own repo at its pinned commit (or the
  mirror repo and revision a user set for it); the cached file is then checked against the pin
  and removed from the cache if it differs.
* URL files go through a downloader: :func:`url_downloader` by default (the standard library's
  ``urllib`` with a stall timeout, so a server that stops sending fails the download instead of
  hanging the job; ``torch.hub.download_url_to_file`` has no timeout), or the hook in
  ``NeuralOptions.downloader`` (the WebUI passes its ``modelloader.load_file_from_url``). Each
  download lands in a private temporary folder inside the target folder (unique per call, so two
  threads fetching one file never share a name), is checked against the pin, and only then is
  moved into place with ``os.replace`` (atomic on one file system). A short, truncated or altered
  download never lands; nothing is trusted on first use.

A catalog entry without a pinned SHA-256 is never downloaded (see :mod:`~latent_upscale.neural.catalog`).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from latent_upscale.errors import LatentUpscaleError, WeightsUnavailableError
from latent_upscale.neural.catalog import CatalogEntry
from latent_upscale.neural.options import NeuralOptions

__all__ = [
    "UNPINNED_CEILING_BYTES",
    "DownloadTooLarge",
    "Downloader",
    "download_entry",
    "file_sha256",
    "hf_repo",
    "hf_revision",
    "manual_url",
    "origin",
    "size_limit",
    "url_downloader",
]

logger = logging.getLogger(__name__)

#: ``downloader(url, folder, file_name) → path``: fetch ``url`` into ``folder/file_name`` (the
#: signature of the WebUI's ``modelloader.load_file_from_url(url, model_dir=…, file_name=…)``).
Downloader = Callable[[str, Path, str], "str | os.PathLike[str] | None"]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, in lower-case hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mirror(entry: CatalogEntry, options: NeuralOptions) -> str | None:
    """The mirror a user set for ``entry`` (the options field its ``mirror_option`` names), or None."""
    return getattr(options, entry.mirror_option, None) if entry.mirror_option else None


def hf_repo(entry: CatalogEntry, options: NeuralOptions) -> str:
    """The Hub repo to fetch ``entry`` from: the mirror set for it, else the entry's own repo."""
    return _mirror(entry, options) or entry.hf_repo or ""


def hf_revision(entry: CatalogEntry, options: NeuralOptions) -> str:
    """The revision to fetch: the options' (a branch of a mirror) for the entries that follow the
    ``hf_repo_id`` mirror, else the entry's pinned commit."""
    override = options.hf_revision if entry.mirror_option == "hf_repo_id" else None
    return override or entry.hf_revision or "main"


def manual_url(entry: CatalogEntry, options: NeuralOptions) -> str:
    """The address ``entry`` is downloaded from (and a person can fetch it from by hand)."""
    if entry.source == "hf":
        endpoint = options.hf_endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        repo, revision = hf_repo(entry, options), hf_revision(entry, options)
        return f"{endpoint.rstrip('/')}/{repo}/resolve/{revision}/{entry.filename}"
    if entry.source == "url":
        base = _mirror(entry, options)
        return base.rstrip("/") + "/" + entry.filename if base else (entry.url or entry.homepage)
    return f"{entry.homepage} (download it yourself: {entry.licence}; we do not fetch it)"


def origin(entry: CatalogEntry, options: NeuralOptions) -> str:
    """Where a download of ``entry`` goes, in a few words for a status line: ``HF owner/name`` for a
    Hub file, the host of the URL (``github.com``) for a URL file."""
    if entry.source == "hf":
        return f"HF {hf_repo(entry, options)}"
    return urllib.parse.urlsplit(manual_url(entry, options)).netloc or manual_url(entry, options)


#: Seconds a download may go without receiving a byte (connecting included) before it fails.
DOWNLOAD_STALL_TIMEOUT_S = 60.0
#: The most bytes a file without a pinned size may take, whatever its ``Content-Length`` says: 40x
#: the largest file in the catalog (Ttl's 25 MB), far below a disk.
UNPINNED_CEILING_BYTES = 1 << 30
#: How often (seconds) a downloader hook's folder is measured.
WATCH_INTERVAL_S = 0.05
_CHUNK = 1 << 20


class DownloadTooLarge(OSError):
    """A download passed its size bound (reported by :func:`download_entry` as unavailable weights)."""


def size_limit(entry: CatalogEntry) -> int:
    """The most bytes a download of ``entry`` may take: its pinned size, else the ceiling."""
    return entry.size if entry.size is not None else UNPINNED_CEILING_BYTES


def _too_large(file_name: str, got: str, limit: int) -> DownloadTooLarge:
    return DownloadTooLarge(f"{got} for {file_name}, more than the {limit:,} bytes allowed (stopped there)")


def url_downloader(
    progress: bool, timeout: float = DOWNLOAD_STALL_TIMEOUT_S, *, max_bytes: int | None = None
) -> Downloader:
    """The default downloader: ``urllib.request.urlopen(url, timeout=timeout)`` streamed into
    ``folder/file_name``. ``timeout`` (seconds) bounds every wait for the server, so a stalled
    transfer raises ``TimeoutError``/``URLError`` (reported by :func:`download_entry` as
    :class:`WeightsUnavailableError`) instead of hanging. ``max_bytes`` (default: the server's
    ``Content-Length``, at most :data:`UNPINNED_CEILING_BYTES`) bounds the bytes written: an
    announced length above it is refused before reading, and reading stops once it is passed
    (:class:`DownloadTooLarge`). ``progress`` shows a ``tqdm`` bar (huggingface-hub's own
    dependency) when tqdm is importable. The caller checks the hash."""

    def download(url: str, folder: Path, file_name: str) -> Path:
        target = folder / file_name
        request = urllib.request.Request(url, headers={"User-Agent": "latent-upscale"})
        with urllib.request.urlopen(request, timeout=timeout) as response, target.open("wb") as out:
            total = response.headers.get("Content-Length")
            announced = int(total) if total and total.isdigit() else None
            limit = (
                max_bytes
                if max_bytes is not None
                else min(announced or UNPINNED_CEILING_BYTES, UNPINNED_CEILING_BYTES)
            )
            if announced is not None and announced > limit:
                raise _too_large(file_name, f"the server announces {announced:,} bytes", limit)
            bar = _progress_bar(progress, announced, file_name)
            written = 0
            try:
                while chunk := response.read(min(_CHUNK, limit + 1 - written)):
                    written += len(chunk)
                    if written > limit:
                        raise _too_large(file_name, f"the server sent over {limit:,} bytes", limit)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        return target

    return download


def _folder_bytes(folder: Path) -> int:
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        return sum(entry.stat().st_size for entry in entries if entry.is_file())
    return 0


def _watched(hook: Downloader, limit: int) -> Downloader:
    """``hook`` stopped once its folder holds more than ``limit`` bytes (see the module docstring)."""

    def download(url: str, folder: Path, file_name: str) -> str | os.PathLike[str] | None:
        caller, done, lock = threading.get_ident(), threading.Event(), threading.Lock()

        def watch() -> None:
            while not done.wait(WATCH_INTERVAL_S):
                if _folder_bytes(folder) > limit:
                    with lock:  # never after the hook has returned (done is set under the lock)
                        if not done.is_set():
                            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                                ctypes.c_ulong(caller), ctypes.py_object(DownloadTooLarge)
                            )
                    return

        watcher = threading.Thread(target=watch, name="latent-upscale-download-watch", daemon=True)
        watcher.start()
        try:
            result = hook(url, folder, file_name)
        except DownloadTooLarge:
            raise _too_large(file_name, "the download grew", limit) from None
        finally:
            with lock:
                done.set()
        watcher.join()
        return result

    return download


def _progress_bar(progress: bool, total: int | None, name: str):  # noqa: ANN202 - tqdm is optional
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name)


def _check(path: Path, entry: CatalogEntry, source: str) -> None:
    size, limit = path.stat().st_size, size_limit(entry)
    if size > limit:
        raise WeightsUnavailableError(
            f"refusing {entry.filename} from {source}: {size:,} bytes, more than the {limit:,} allowed; "
            "nothing was kept. Try again later, or fetch the file by hand and check its hash."
        )
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise WeightsUnavailableError(
            f"refusing {entry.filename} from {source}: its SHA-256 is {actual}, but the published file's is "
            f"{entry.sha256} (a truncated or altered download, or a mirror serving another file); "
            "nothing was kept. Try again later, or fetch the file by hand and check its hash."
        )


def download_entry(
    entry: CatalogEntry, options: NeuralOptions, folder: Path, places: str = ""
) -> tuple[Path, str]:
    """Fetch ``entry`` (pinned SHA-256 checked); returns the path and how it was found
    (``"downloaded"``). Raises :class:`WeightsUnavailableError` with the manual URL on any failure."""
    if not entry.downloadable:
        raise WeightsUnavailableError(
            f"{entry.filename} is not downloaded automatically (no pinned SHA-256 is known for it): fetch "
            f"{manual_url(entry, options)} by hand into {folder}"
        )
    if entry.source == "hf":
        return _download_hf(entry, options, folder, places), "downloaded"
    return _download_url(entry, options, folder, places), "downloaded"


def _download_hf(entry: CatalogEntry, options: NeuralOptions, folder: Path, places: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as error:
        raise WeightsUnavailableError(
            f"cannot download {entry.filename}: huggingface-hub is not installed (pip install "
            f"huggingface-hub), or fetch {manual_url(entry, options)} by hand into {folder}"
        ) from error
    kwargs: dict[str, object] = {"revision": hf_revision(entry, options)}
    if options.hf_cache_dir is not None:
        kwargs["cache_dir"] = str(options.hf_cache_dir)
    if options.hf_endpoint is not None:
        kwargs["endpoint"] = options.hf_endpoint  # else huggingface-hub reads HF_ENDPOINT itself
    repo = hf_repo(entry, options)
    _check_hf_size(entry, options, repo, kwargs)
    logger.info("downloading %s from Hugging Face %s@%s", entry.filename, repo, kwargs["revision"])
    try:
        path = Path(hf_hub_download(repo_id=repo, filename=entry.filename, **kwargs))
    except Exception as error:  # network, HTTP and hub errors all mean "could not get it"
        raise WeightsUnavailableError(
            f"could not download {entry.filename} from {manual_url(entry, options)}: "
            f"{type(error).__name__}: {error}\nFetch it by hand into {folder}; places tried: {places}. "
            "Behind a firewall, set HF_ENDPOINT to a mirror; to stay offline, set HF_HUB_OFFLINE=1."
        ) from error
    try:
        _check(path, entry, manual_url(entry, options))
    except WeightsUnavailableError:
        discard_hf_file(path)
        raise
    return path


def _check_hf_size(entry: CatalogEntry, options: NeuralOptions, repo: str, kwargs: dict) -> None:
    """Refuse a pinned file whose size the Hub announces as different, before anything is fetched."""
    if entry.size is None:
        return
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        url = hf_hub_url(repo, entry.filename, revision=str(kwargs["revision"]), endpoint=options.hf_endpoint)
        announced = get_hf_file_metadata(url).size
    except Exception:  # offline, a mirror without HEAD: hf_hub_download reports it (or uses its cache)
        return
    if announced is not None and announced != entry.size:
        raise WeightsUnavailableError(
            f"refusing {entry.filename} from {manual_url(entry, options)}: the server announces "
            f"{announced:,} bytes, but the published file has {entry.size:,}; nothing was fetched. "
            "Try again later, or fetch the file by hand and check its hash."
        )


def discard_hf_file(path: Path) -> None:
    """Remove a refused file from the Hugging Face cache (the snapshot link and its blob)."""
    blob = path.resolve()
    for each in (path, blob):
        with contextlib.suppress(OSError):
            each.unlink()


def _download_url(entry: CatalogEntry, options: NeuralOptions, folder: Path, places: str) -> Path:
    url = manual_url(entry, options)
    target = folder / entry.filename
    try:
        folder.mkdir(parents=True, exist_ok=True)
        private = Path(tempfile.mkdtemp(prefix=f".{entry.filename}.", suffix=".download", dir=folder))
    except OSError as error:
        raise WeightsUnavailableError(f"cannot write to the models folder {folder}: {error}") from error
    limit = size_limit(entry)
    if options.downloader is None:
        downloader = url_downloader(options.progress, max_bytes=entry.size)
    else:
        downloader = _watched(options.downloader, limit)
    logger.info("downloading %s from %s into %s", entry.filename, url, folder)
    try:
        fetched = downloader(url, private, entry.filename)
        fetched_path = Path(fetched) if fetched is not None else private / entry.filename
        if not fetched_path.is_file():
            raise OSError(f"the downloader left no file at {fetched_path}")
        _check(fetched_path, entry, url)
        fetched_path.replace(target)  # os.replace: atomic on one file system
        return target
    except LatentUpscaleError:
        raise
    except Exception as error:  # URLError, HTTPError, OSError, the hook's own errors
        raise WeightsUnavailableError(
            f"could not download {entry.filename} from {url}: {type(error).__name__}: {error}\n"
            f"Fetch it by hand into {folder}; places tried: {places}"
        ) from error
    finally:
        shutil.rmtree(private, ignore_errors=True)
