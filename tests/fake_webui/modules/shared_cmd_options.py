"""Mirrors modules/shared_cmd_options.py: ``cmd_opts`` parsed once at import."""

from modules import cmd_args

parser = cmd_args.parser
cmd_opts = parser.parse_known_args(cmd_args.argv())[0]
