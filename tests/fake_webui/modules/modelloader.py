"""Mirrors modules/modelloader.py ``load_file_from_url`` (v1.10.1 :20; 1.6.0 without ``hash_prefix``;
Forge/reForge in modules/util.py :216 with ``re_download``).

Keyword-only ``model_dir``, ``progress``, ``file_name``; returns the path; an existing file is used as is. No
network: a missing file is "downloaded" by copying it from the directory named by ``FAKE_WEBUI_DOWNLOADS``
(file name = URL basename, or ``file_name``); without it, the fake raises ``OSError`` (as a failed download
does), and every attempted URL is appended to ``download_attempts``.
"""

import os
import shutil
from urllib.parse import urlparse

from modules.fake_host import FLAVOR

download_attempts = []


def _fetch(url, cached_file):
    download_attempts.append(url)
    source_dir = os.environ.get("FAKE_WEBUI_DOWNLOADS")
    source = os.path.join(source_dir, os.path.basename(urlparse(url).path)) if source_dir else None
    if source is None or not os.path.isfile(source):
        raise OSError(f"fake WebUI has no network: cannot download {url}")
    shutil.copyfile(source, cached_file)


def _target(url, model_dir, file_name):
    os.makedirs(model_dir, exist_ok=True)
    if not file_name:
        file_name = os.path.basename(urlparse(url).path)
    return os.path.abspath(os.path.join(model_dir, file_name))


if FLAVOR.at_least(1, 10) and FLAVOR.is_a1111:

    def load_file_from_url(url, *, model_dir, progress=True, file_name=None, hash_prefix=None):
        cached_file = _target(url, model_dir, file_name)
        if not os.path.exists(cached_file):
            _fetch(url, cached_file)
        return cached_file

elif FLAVOR.is_a1111:

    def load_file_from_url(url, *, model_dir, progress=True, file_name=None):
        cached_file = _target(url, model_dir, file_name)
        if not os.path.exists(cached_file):
            _fetch(url, cached_file)
        return cached_file


def _load_file_from_url_forge(
    url, *, model_dir, progress=True, file_name=None, hash_prefix=None, re_download=False
):
    cached_file = _target(url, model_dir, file_name)
    if re_download or not os.path.exists(cached_file):
        _fetch(url, cached_file)
    return cached_file


if not FLAVOR.is_a1111:
    load_file_from_url = _load_file_from_url_forge
