"""Mirrors modules/shared_cmd_options.py (v1.10.1): extensions' ``preload.py`` extend the parser, then
``cmd_opts`` is parsed once.

``preload(parser)`` runs for every extension the fixture installs (``FAKE_WEBUI_EXTENSIONS``; the real host
uses every folder of ``extensions/``) BEFORE the arguments are parsed, so ``shared.cmd_opts.<dest>`` has the
extension's flags (given through ``COMMANDLINE_ARGS``).
"""

import os

from modules import cmd_args, errors, script_loading

parser = cmd_args.parser

for _root in filter(None, os.environ.get("FAKE_WEBUI_EXTENSIONS", "").split(os.pathsep)):
    _preload = os.path.join(_root, "preload.py")
    if os.path.isfile(_preload):
        try:
            _module = script_loading.load_module(_preload)
            if hasattr(_module, "preload"):
                _module.preload(parser)
        except Exception:
            errors.report(f"Error running preload() for {_preload}", exc_info=True)

cmd_opts = parser.parse_known_args(cmd_args.argv())[0]
