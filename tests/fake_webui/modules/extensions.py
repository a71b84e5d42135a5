"""Mirrors modules/extensions.py (v1.10.1): the list of installed extensions.

Simplified: the real ``list_extensions()`` scans ``<data_path>/extensions``; here the fixture registers an
extension by path (usually this repository's root) with ``add_extension``, so nothing is copied. Canonical
name = lower-cased directory name (:55, ``Name=`` in metadata.ini is ignored); metadata.ini ordering is not
read.
"""

import os

extensions = []


class Extension:
    def __init__(self, name, path, enabled=True, is_builtin=False):
        self.name = name
        self.path = path
        self.enabled = enabled
        self.is_builtin = is_builtin
        self.canonical_name = name.lower().strip()

    def list_files(self, subdir, extension):
        """mirrors Extension.list_files (v1.10.1 :179): top-level files of ``subdir`` only, sorted."""
        from modules import scripts

        dirpath = os.path.join(self.path, subdir)
        if not os.path.isdir(dirpath):
            return []
        res = [
            scripts.ScriptFile(self.path, filename, os.path.join(dirpath, filename))
            for filename in sorted(os.listdir(dirpath))
        ]
        return [x for x in res if os.path.splitext(x.path)[1].lower() == extension and os.path.isfile(x.path)]


def active():
    return [x for x in extensions if x.enabled]


def find_extension(filename):
    parentdir = os.path.dirname(os.path.realpath(filename))
    for ext in extensions:
        if os.path.realpath(ext.path) == parentdir or parentdir.startswith(
            os.path.realpath(ext.path) + os.sep
        ):
            return ext
    return None


def add_extension(path, name=None, enabled=True):
    """Fake-only: install the extension found at ``path`` (its root: the folder holding ``scripts/``)."""
    ext = Extension(name or os.path.basename(os.path.normpath(path)), path, enabled=enabled)
    extensions.append(ext)
    return ext
