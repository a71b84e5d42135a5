"""Fault injection for every file the package writes: a failed write loses nothing.

A full disk is simulated with ``RLIMIT_FSIZE`` in a child process (``ulimit -f 100``): the write
fails with EFBIG part-way through, as it would on a full disk. Every CLI case runs in ONE child
(``_CHILD``: a fresh interpreter, each case with its own stderr, limit and writer), not one child
per case: the child's start-up (torch) was nearly all of these tests' time.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.latent_io import atomic_write, read_latent, write_latent
from tests.helpers.cli import run_cli_process
from tests.helpers.latents import random_latent

FORMATS = [".latent", ".safetensors", ".pt", ".pth", ".npy"]
#: ``ulimit -f 100``: 100 blocks of 1024 bytes. A 1x4x64x64 float32 latent (65 KB) fits; its 2x
#: upscale (262 KB) does not.
ULIMIT_F_100 = 100 * 1024
OUT_OF_SPACE = [(suffix, "installed") for suffix in FORMATS] + [
    (".latent", "0.4.x in place"),
    (".safetensors", "0.4.x in place"),
]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")

# Runs ``python -m latent_upscale upscale F F --scale 2 --family sd1`` once per case of the JSON file
# named by argv[1], in the case's folder, with the case's RLIMIT_FSIZE (Python ignores SIGXFSZ, so a
# write past it fails with EFBIG) and the case's stderr on fd 2 (what a user's console would show,
# warnings included: "always", so a warning is shown in every case it occurs in). An exception that
# escapes main() is printed with its traceback and counts as exit code 1, as the interpreter would.
# safetensors 0.4.x (the version the WebUI hosts pin) writes straight into the named file, so a
# failed write leaves it truncated; newer versions write beside it and rename. ``in_place`` reproduces
# the old behaviour with the installed version, so the test holds whichever one CI has.
_CHILD = """
import json, os, resource, sys, traceback, warnings
warnings.simplefilter("always")
import safetensors.torch
import latent_upscale.latent_io as latent_io
from latent_upscale.cli import main

def save_file_in_place(tensors, filename, metadata=None):
    data = safetensors.torch.save(tensors, metadata=metadata)
    with open(filename, "wb") as handle:
        for start in range(0, len(data), 4096):
            handle.write(data[start : start + 4096])

installed = latent_io.save_file
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
cases = json.loads(open(sys.argv[1]).read())
codes = []
for case in cases:
    latent_io.save_file = save_file_in_place if case["in_place"] else installed
    os.chdir(case["cwd"])
    sys.stderr.flush()
    saved = os.dup(2)
    with open(case["stderr"], "wb") as err:
        os.dup2(err.fileno(), 2)
    if case["limit"] is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (case["limit"], hard))
    try:
        code = main(case["args"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    os.dup2(saved, 2)
    os.close(saved)
    codes.append(code)
print(json.dumps(codes))
"""


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".tmp" in path.name)


def _write_source(path: Path) -> bytes:
    write_latent(path, random_latent(1, 4, 64, 64, seed=3))
    return path.read_bytes()


@pytest.fixture(scope="module")
def cli_writes(tmp_path_factory):
    """Each case's folder, source bytes, exit code and stderr: every in-place 2x upscale of a
    64x64 latent file, under ``ulimit -f 100`` (``OUT_OF_SPACE``) and with room (each format)."""
    cases = [(suffix, writer, ULIMIT_F_100) for suffix, writer in OUT_OF_SPACE]
    cases += [(suffix, "installed", None) for suffix in FORMATS]
    spec, runs = [], {}
    for suffix, writer, limit in cases:
        folder = tmp_path_factory.mktemp("write")
        target = folder / f"f{suffix}"
        runs[suffix, writer, limit] = {"folder": folder, "target": target, "before": _write_source(target)}
        spec.append(
            {
                "args": ["upscale", str(target), str(target), "--scale", "2", "--family", "sd1"],
                "cwd": str(folder),
                "stderr": str(folder.parent / f"{folder.name}.stderr"),
                "limit": limit,
                "in_place": writer != "installed",
            }
        )
    spec_file = tmp_path_factory.mktemp("spec") / "cases.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    done = run_cli_process(str(spec_file), python_code=_CHILD, cwd=spec_file.parent)
    assert done.returncode == 0, done.stderr.decode()
    codes = json.loads(done.stdout.decode().strip().splitlines()[-1])
    for run, case, code in zip(runs.values(), spec, codes, strict=True):
        run["code"], run["err"] = code, Path(case["stderr"]).read_text(encoding="utf-8", errors="replace")
    return runs


@pytest.mark.parametrize(("suffix", "safetensors_writer"), OUT_OF_SPACE)
def test_a_write_that_runs_out_of_space_keeps_the_original_file(cli_writes, suffix, safetensors_writer):
    run = cli_writes[suffix, safetensors_writer, ULIMIT_F_100]
    err, target = run["err"], run["target"]
    assert run["code"] == 1, err
    assert err.count("\n") == 1 and "could not be written" in err and "Traceback" not in err
    assert target.read_bytes() == run["before"]  # untouched, still readable
    assert read_latent(target).latent.shape == (1, 4, 64, 64)
    assert _leftovers(run["folder"]) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_write_with_room_replaces_the_file_in_place(cli_writes, suffix):
    run = cli_writes[suffix, "installed", None]
    assert run["code"] == 0, run["err"]
    assert read_latent(run["target"]).latent.shape == (1, 4, 128, 128)
    assert _leftovers(run["folder"]) == []


class PanicException(BaseException):
    """Stands in for pyo3's PanicException: safetensors' Rust core raises it, not an Exception."""


@pytest.mark.parametrize(
    "failure", [OSError(28, "No space left on device"), PanicException("rust panicked"), ValueError("x")]
)
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure):
    import latent_upscale.latent_io as latent_io

    target = tmp_path / "f.safetensors"
    before = _write_source(target)

    def half_then_fail(tensors: dict, filename: str, metadata: dict | None = None) -> None:
        Path(filename).write_bytes(b"\0" * 100)
        raise failure

    monkeypatch.setattr(latent_io, "save_file", half_then_fail)
    with pytest.raises(OSError, match=r"could not be written.*nothing was replaced"):
        write_latent(target, random_latent(1, 4, 8, 8))
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_an_interrupt_during_a_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as temporary:
        temporary.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_the_temporary_file_is_beside_the_target_and_keeps_its_suffix(tmp_path):
    # np.save appends ".npy" and Pillow picks a format by suffix: the temporary keeps the suffix.
    with atomic_write(tmp_path / "sub" / "x.npy") as temporary:
        assert temporary.parent == tmp_path / "sub"
        assert temporary.suffix == ".npy" and temporary.name.startswith(".x.")
        np.save(temporary, np.zeros(3))
    assert np.load(tmp_path / "sub" / "x.npy").shape == (3,)
    assert _leftovers(tmp_path / "sub") == []


def test_concurrent_writes_of_one_file_never_share_a_temporary(tmp_path):
    target = tmp_path / "f.pt"
    names: list[Path] = []
    barrier = threading.Barrier(8)

    def write(value: float) -> None:
        with atomic_write(target) as temporary:
            names.append(temporary)
            barrier.wait(timeout=30)  # all eight temporaries exist at once
            torch.save(torch.full((1, 4, 8, 8), value), temporary)

    threads = [threading.Thread(target=write, args=(float(i),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(names)) == 8
    result = torch.load(target, weights_only=True)
    assert result.unique().numel() == 1  # one whole write won, never a mix
    assert _leftovers(tmp_path) == []


def test_an_existing_file_keeps_its_permissions_and_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.pt"
    write_latent(real, random_latent(1, 4, 4, 4))
    real.chmod(0o640)
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    write_latent(link, random_latent(1, 4, 8, 8))
    assert link.is_symlink()
    assert read_latent(real).latent.shape == (1, 4, 8, 8)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_new_file_gets_the_permissions_of_an_ordinary_write(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    write_latent(tmp_path / "new.pt", random_latent(1, 4, 4, 4))
    assert stat.S_IMODE((tmp_path / "new.pt").stat().st_mode) == 0o666 & ~umask


def test_writing_a_latent_over_a_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "out.pt").mkdir()
    with pytest.raises(LatentUpscaleError, match="is a folder"):
        write_latent(tmp_path / "out.pt", random_latent(1, 4, 4, 4))
    assert list((tmp_path / "out.pt").iterdir()) == []
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_empty_and_damaged_latent_files_are_refused_with_our_error(tmp_path, suffix):
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    garbage = tmp_path / f"garbage{suffix}"
    garbage.write_bytes(b"\x93NUMPY\x01\x00garbage" * 3)
    for path in (empty, garbage):
        with pytest.raises(LatentUpscaleError, match=path.name):
            read_latent(path)


def test_npy_archives_and_exotic_dtypes_are_refused(tmp_path):
    np.savez(tmp_path / "a.npz", np.zeros((1, 4, 4, 4), dtype=np.float32))
    (tmp_path / "a.npz").rename(tmp_path / "archive.npy")
    with pytest.raises(LatentUpscaleError, match="archive"):
        read_latent(tmp_path / "archive.npy")
    np.save(tmp_path / "long.npy", np.zeros((1, 4, 4, 4), dtype=np.longdouble))
    with pytest.raises(LatentUpscaleError, match="floating point"):
        read_latent(tmp_path / "long.npy")


def test_five_d_latent_files_round_trip(tmp_path):
    video = torch.randn(1, 16, 3, 6, 5)
    for suffix in (".safetensors", ".pt", ".npy"):
        write_latent(tmp_path / f"v{suffix}", video)
        assert torch.equal(read_latent(tmp_path / f"v{suffix}").latent, video)
    save_file({"latent": torch.zeros(1, 1, 1, 1, 4, 4)}, str(tmp_path / "six.safetensors"))
    with pytest.raises(LatentUpscaleError, match=r"\[B, C, T, H, W\]"):
        read_latent(tmp_path / "six.safetensors")
