"""Where the figures were measured: absolute times mean nothing without the machine beside them."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import torch

from latent_upscale import __version__
from latent_upscale.lab.bench.measure import memory_method

__all__ = [
    "cpu_model",
    "describe_environment",
    "device_name",
    "environment_line",
    "git_commit",
    "load_average",
]

_REPO_ROOT = Path(__file__).resolve().parents[3]


def cpu_model() -> str:
    """The CPU's marketing name from ``/proc/cpuinfo``, else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def device_name(device: torch.device) -> str:
    """A readable name for ``device`` (the GPU's name on CUDA, the CPU model otherwise)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model()


def git_commit() -> str | None:
    """The checked-out commit of this source tree (``+dirty`` with local changes), if it is a git tree."""
    if not (_REPO_ROOT / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=_REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def describe_environment(device: torch.device, threads: int, *, quick: bool, dtype: str) -> dict[str, object]:
    """Everything a reader needs to judge the absolute figures (``results.json`` → ``environment``)."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "device": str(device),
        "device_name": device_name(device),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "dtype": dtype,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "diffusers": _version("diffusers"),
        "latent_upscale": __version__,
        "git_commit": git_commit(),
        "memory_measure": memory_method(device),
        "load_average_start": load_average(),
    }


def environment_line(environment: dict[str, object]) -> str:
    """One line for the top of ``results.md`` and the README."""
    load = environment.get("load_average_start")
    parts = [
        f"{environment['date']}",
        f"{environment['mode']} run",
        f"{environment['device_name']} ({environment['device']}, {environment['threads']} threads)",
        f"torch {environment['torch']}",
        f"Python {environment['python']}",
        f"{environment['dtype']}",
    ]
    if environment.get("git_commit"):
        parts.append(f"commit {environment['git_commit']}")
    if load:
        parts.append(f"load average at start {load[0]:g}")
    end = environment.get("load_average_end")
    if isinstance(end, list) and end:
        parts.append(f"at the end {end[0]:g}")
    if isinstance(environment.get("duration_s"), (int, float)) and isinstance(
        environment.get("cpu_s"), (int, float)
    ):
        parts.append(f"{environment['duration_s']:.0f} s wall, {environment['cpu_s']:.0f} s CPU")
    return " · ".join(parts)
