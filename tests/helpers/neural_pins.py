"""Pin test bytes in the catalog: the loopback hub serves random weights, whose SHA-256 is not the
published files', so download tests pin their own bytes and sizes (and SesquiLSR's, which has no real
pin)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from latent_upscale.neural import catalog


def pin_files(setter: Callable[[object, str, object], None], files: dict[str, bytes]) -> None:
    """Make the catalog entries named in ``files`` expect exactly those bytes. ``setter`` is
    ``monkeypatch.setattr`` in a test (undone after it), plain ``setattr`` in a subprocess."""
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}

    def repin(entry: catalog.CatalogEntry) -> catalog.CatalogEntry:
        if entry.filename not in digests:
            return entry
        return replace(entry, sha256=digests[entry.filename], size=len(files[entry.filename]))

    sets = {
        set_id: replace(weight_set, entries=tuple(repin(entry) for entry in weight_set.entries))
        for set_id, weight_set in catalog.WEIGHT_SETS.items()
    }
    preferences = {
        family: tuple(sets[s.id] for s in chosen) for family, chosen in catalog.PREFERENCES.items()
    }
    entries = tuple(
        dict.fromkeys(entry for chosen in preferences.values() for s in chosen for entry in s.entries)
    )
    setter(catalog, "WEIGHT_SETS", sets)
    setter(catalog, "PREFERENCES", preferences)
    setter(catalog, "CATALOG", entries)
