"""Mirrors modules/generation_parameters_copypaste.py: the 1.6/1.7 name of infotext_utils.

On 1.8+ the real file no longer exists; ``modules.generation_parameters_copypaste`` is an alias that
infotext_utils installs in sys.modules (infotext_utils.py 1.10.1 :13). Here: 1.8+ -> the same module object as
``modules.infotext_utils``; 1.6 -> this module with the same functions and no ``PasteField``.
"""

import sys

from modules.fake_host import FLAVOR

if FLAVOR.has_infotext_utils:
    from modules import infotext_utils

    sys.modules[__name__] = infotext_utils
else:
    import importlib.util as _util
    import os as _os

    _spec = _util.spec_from_file_location(
        __name__ + "._impl", _os.path.join(_os.path.dirname(__file__), "infotext_utils.py")
    )
    _impl = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_impl)
    globals().update({k: v for k, v in vars(_impl).items() if not k.startswith("__")})
