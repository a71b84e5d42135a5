"""Mirrors modules/util.py: Forge/reForge define ``load_file_from_url`` here (modelloader re-exports it).

See modelloader.py for the behaviour. A1111's util.py has no ``load_file_from_url``.
"""

from modules.fake_host import FLAVOR

if not FLAVOR.is_a1111:
    from modules.modelloader import _load_file_from_url_forge as load_file_from_url  # noqa: F401
