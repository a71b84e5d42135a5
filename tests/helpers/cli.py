"""Run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from latent_upscale.cli import main


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    """``python -m latent_upscale ARGS`` in-process; argparse exits become return codes."""
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


REPO = Path(__file__).resolve().parents[2]


def run_cli_process(
    *args: str | bytes | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    file_size_limit: int | None = None,
    python_code: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m latent_upscale ARGS`` in a child process, output kept as bytes.

    ``file_size_limit`` (bytes) sets ``RLIMIT_FSIZE`` in the child, as ``ulimit -f`` does: a write
    past it fails with EFBIG, the way a full disk fails (Python ignores SIGXFSZ). ``python_code``
    runs instead of ``-m latent_upscale`` (it receives ARGS as ``sys.argv[1:]``). The child imports
    this checkout's ``latent_upscale`` whatever ``cwd`` is; ``env`` entries are added to the
    current environment.
    """

    def limit() -> None:  # pragma: no cover - runs in the child
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), child_env.get("PYTHONPATH")]))
    child_env.update(env or {})
    command: list[str | bytes | os.PathLike[str]] = [sys.executable]
    command += ["-c", python_code, *args] if python_code else ["-m", "latent_upscale", *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=child_env,
        capture_output=True,
        timeout=300,
        check=False,
        preexec_fn=limit if file_size_limit is not None else None,  # the child sets its own limit
    )
