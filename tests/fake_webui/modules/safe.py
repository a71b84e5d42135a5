"""Mirrors modules/safe.py (v1.10.1): A1111 replaces ``torch.load`` with ``safe.load`` at import (:195).

``load`` runs a safety check and returns None (after reporting) when it fails; ``unsafe_torch_load`` is the
original ``torch.load``; ``load_with_extra``. Forge/reForge keep ``unsafe_torch_load`` but do NOT patch
``torch.load`` (Forge safe.py: "# torch.load = load  <- Forge do not need it!").
Simplified: the real RestrictedUnpickler allow-list is approximated by ``torch.load(weights_only=True)``
succeeding. The fixture restores the real ``torch.load`` when the fake host is torn down.
"""

import torch

from modules import errors, shared
from modules.fake_host import FLAVOR


def check_pt(filename, extra_handler):
    torch_load = unsafe_torch_load
    torch_load(filename, map_location="cpu", weights_only=True)


def load(filename, *args, **kwargs):
    return load_with_extra(filename, *args, extra_handler=global_extra_handler, **kwargs)


def load_with_extra(filename, extra_handler=None, *args, **kwargs):
    try:
        if not shared.cmd_opts.disable_safe_unpickle:
            check_pt(filename, extra_handler)
    except Exception:
        errors.report(
            f"Error verifying pickled file from {filename}\n"
            "The file may be malicious, so the program is not going to read it.\n"
            "You can skip this check with --disable-safe-unpickle commandline argument.\n\n",
            exc_info=True,
        )
        return None
    return unsafe_torch_load(filename, *args, **kwargs)


class Extra:
    def __init__(self, handler):
        self.handler = handler

    def __enter__(self):
        global global_extra_handler
        assert global_extra_handler is None, "already inside an Extra() block"
        global_extra_handler = self.handler

    def __exit__(self, exc_type, exc_val, exc_tb):
        global global_extra_handler
        global_extra_handler = None


unsafe_torch_load = getattr(torch.load, "fake_webui_original", torch.load)
if FLAVOR.safe_patches_torch_load:
    load.fake_webui_original = unsafe_torch_load
    torch.load = load
global_extra_handler = None
