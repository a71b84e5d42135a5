"""Mirrors modules/launch_utils.py (v1.10.1): the helpers an extension's install.py uses through ``launch``.

- ``is_installed(package)``: 1.7+ asks ``importlib.metadata.distribution`` first, then ``find_spec`` (:121);
  1.6 only ``find_spec``. ``FAKE_WEBUI_MISSING`` / ``FAKE_WEBUI_INSTALLED`` (comma-separated names) force the
  answer, to simulate a host without / with a package.
- ``run_pip(command, desc)`` (:139): a no-op under ``--skip-install``; otherwise RECORDED (never runs pip):
  appended to ``fake_host.RECORD.pip_calls`` and, when ``FAKE_WEBUI_PIP_LOG`` names a file, written there as
  JSON lines (that is how a subprocess-run install.py reports back).
- ``run``/``git_clone``: recorded, not executed.
- ``run_extension_installer(extension_dir)`` (:228): runs ``<ext>/install.py`` in a subprocess with
  ``PYTHONPATH`` = the webui root (+ the previous value), reporting errors instead of raising.
"""

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys

from modules import cmd_args, errors
from modules.fake_host import FLAVOR, RECORD
from modules.paths_internal import script_path

args, _ = cmd_args.parser.parse_known_args(cmd_args.argv())

python = sys.executable
git = os.environ.get("GIT", "git")
index_url = os.environ.get("INDEX_URL", "")
dir_repos = "repositories"
commands_run = []

_GIT_TAGS = {
    "1.6.0": "v1.6.0",
    "1.10.1": "v1.10.1",
    "forge": "f2.0.1v1.10.1-previous-669",
    "forge-neo": "neo",  # Neo: launch_utils.git_tag() returns modules_forge.forge_version.version
    "reforge": "v1.10.1-reForge",
}


def commit_hash():
    return "0123456789abcdef0123456789abcdef01234567"


def git_tag():
    return _GIT_TAGS[FLAVOR.name]


def _names(var):
    return {x.strip() for x in os.environ.get(var, "").split(",") if x.strip()}


def run(command, desc=None, errdesc=None, custom_env=None, live=False) -> str:
    if desc is not None:
        print(desc)
    commands_run.append(command)
    return ""


def is_installed(package):
    if package in _names("FAKE_WEBUI_MISSING"):
        return False
    if package in _names("FAKE_WEBUI_INSTALLED"):
        return True
    if FLAVOR.is_installed_uses_metadata:
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            try:
                spec = importlib.util.find_spec(package)
            except ModuleNotFoundError:
                return False
            return spec is not None
        return dist is not None
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        return False
    return spec is not None


def repo_dir(name):
    return os.path.join(script_path, dir_repos, name)


def run_pip(command, desc=None, live=False):
    if args.skip_install:
        return None
    RECORD.pip_calls.append((command, desc))
    log = os.environ.get("FAKE_WEBUI_PIP_LOG")
    if log:
        with open(log, "a", encoding="utf8") as f:
            f.write(json.dumps({"command": command, "desc": desc}) + "\n")
    print(f"Installing {desc}")
    return ""


def check_run_python(code: str) -> bool:
    return True


def git_clone(url, dir, name, commithash=None):
    if FLAVOR.is_neo:  # Neo launch_utils.py: git_clone, run_git and git_fix_workspace raise
        raise NotImplementedError()
    commands_run.append(f'git clone "{url}" "{dir}"')
    os.makedirs(dir, exist_ok=True)


def run_extension_installer(extension_dir):
    """mirrors run_extension_installer (v1.10.1 :228)."""
    path_installer = os.path.join(extension_dir, "install.py")
    if not os.path.isfile(path_installer):
        return None
    try:
        env = os.environ.copy()
        env["PYTHONPATH"] = f"{script_path}{os.pathsep}{env.get('PYTHONPATH', '')}"
        result = subprocess.run(
            [python, path_installer], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"Error running install.py for extension {extension_dir}.\n"
                f"Command: {python} {path_installer}\n"
                f"Error code: {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
            )
        if result.stdout.strip():
            print(result.stdout.strip())
        return result
    except Exception as e:
        errors.report(str(e))
        return None
