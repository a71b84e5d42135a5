"""Mirrors modules/devices.py (+ shared_init.initialize, v1.10.1 :28-30): devices and dtypes, read at use
time.

``dtype``/``dtype_vae`` follow the real rule: float16 unless ``--no-half`` / ``--no-half-vae`` (the fixture
passes ``--no-half`` unless a test asks for half precision, as a CPU WebUI must). ``device`` is the CPU unless
``FAKE_WEBUI_DEVICE`` names another (e.g. ``cuda`` on a machine that has one). Simplified: no autocast, no NaN
checks, no memory management.
"""

import contextlib
import os

import torch

from modules.shared_cmd_options import cmd_opts

cpu = torch.device("cpu")
device = torch.device(os.environ.get("FAKE_WEBUI_DEVICE", "cpu"))
device_interrogate = device_gfpgan = device_esrgan = device_codeformer = device

dtype = torch.float32 if cmd_opts.no_half else torch.float16
dtype_vae = torch.float32 if cmd_opts.no_half or cmd_opts.no_half_vae else torch.float16
dtype_unet = dtype
dtype_inference = dtype
unet_needs_upcast = False
fp8 = False


class NansException(Exception):
    pass


def torch_gc():
    pass


def torch_npu_set_device():
    pass


def autocast(disable=False):
    return contextlib.nullcontext()


def without_autocast(disable=False):
    return contextlib.nullcontext()


def test_for_nans(x, where):
    pass


def cond_cast_float(x):
    return x


def cond_cast_unet(x):
    return x


def first_time_calculation():
    pass
