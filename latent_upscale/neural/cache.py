"""A small LRU of loaded models, keyed by file (path, mtime, size), device and dtype.

Kept apart from the runner so :func:`unload` is importable without torch.nn architectures: the WebUI
can free memory (e.g. before loading a checkpoint) without paying for the neural imports.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = ["CacheStats", "ModelCache", "cache_key", "model_cache", "unload"]

logger = logging.getLogger(__name__)

#: Enough for a chained city96 plan (two factors) plus one model of another family.
DEFAULT_CAPACITY = 4


def cache_key(path: Path, device: torch.device, dtype: torch.dtype, *extra: Hashable) -> tuple[Hashable, ...]:
    """A key that changes when the file on disk changes (mtime or size), so edits are picked up."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size, str(device), str(dtype), *extra)


@dataclass(frozen=True)
class CacheStats:
    """Counters for tests and logs."""

    hits: int
    misses: int
    size: int


class ModelCache:
    """Thread-safe LRU: ``get_or_load(key, loader)`` returns the cached value or loads and stores it."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.RLock()
        self._hits = 0
        self._misses = 0

    def get_or_load(self, key: Hashable, loader: Callable[[], Any]) -> Any:
        """The value for ``key``, loaded on a miss under the lock (no file is loaded twice at once)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self._hits += 1
                return self._items[key]
            self._misses += 1
            value = loader()
            self._items[key] = value
            while len(self._items) > self.capacity:
                evicted, _ = self._items.popitem(last=False)
                logger.debug("neural model cache: evicted %s", evicted)
            return value

    def stats(self) -> CacheStats:
        """Hits, misses and current size."""
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._items))

    def clear(self) -> int:
        """Drop every cached model; returns how many were dropped."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
            self._hits = self._misses = 0
        return count


model_cache = ModelCache()


def unload() -> int:
    """Free every loaded neural model (and cached GPU memory); returns how many were dropped."""
    count = model_cache.clear()
    if count:
        gc.collect()  # drop reference cycles that still hold parameters before emptying the cache
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
        logger.info("unloaded %d neural latent upscaler model(s)", count)
    return count
