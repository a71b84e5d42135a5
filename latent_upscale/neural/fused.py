"""oneDNN's fused convolution + ReLU for float32 inference on CPUs.

``torch.ops.mkldnn._convolution_pointwise`` is the kernel ``torch.compile`` emits for a convolution
followed by an activation on x86 CPUs: one pass over the output instead of two, and one parallel
region instead of two (which matters most for small latents and on busy machines). It computes the
same convolution as ``F.conv2d`` (same oneDNN kernel, the ReLU applied in its epilogue).

The op is private to torch, so it is used only when a one-time self-check in this process shows it
exists and agrees with the eager convolution; otherwise (or with ``LATENT_UPSCALE_FUSED_CONV=0``)
callers fall back to the eager path. Only inference without autograd uses it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["DISABLE_ENV", "can_fuse", "conv2d", "disabled", "fused_conv_available"]

logger = logging.getLogger(__name__)

#: Set to ``0`` to never use the fused kernel (a switch for diagnosing numerical questions).
DISABLE_ENV = "LATENT_UPSCALE_FUSED_CONV"
_SELF_CHECK_TOLERANCE = 1e-5
_suspended = 0


def _operator() -> Callable[..., Tensor] | None:
    try:
        return torch.ops.mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):
        return None


def _call(op: Callable[..., Tensor], conv: nn.Conv2d, x: Tensor, activation: str) -> Tensor:
    return op(
        x,
        conv.weight,
        conv.bias,
        list(conv.padding),
        list(conv.stride),
        list(conv.dilation),
        conv.groups,
        activation,
        [],
        "",
    )


@cache
def fused_conv_available() -> bool:
    """True when the fused kernel exists and matches ``relu(conv(x))`` on a small probe (once per process)."""
    if os.environ.get(DISABLE_ENV, "").strip() == "0":
        return False
    op = _operator()
    if op is None or not torch.backends.mkldnn.is_available():
        return False
    generator = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(8, 8, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 0.2)
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)
    probe = torch.randn(2, 8, 7, 9, generator=generator).contiguous(memory_format=torch.channels_last)
    try:
        with torch.inference_mode():
            expected = F.relu(conv(probe))
            fused = _call(op, conv, probe, "relu")
            plain = _call(op, conv, probe, "none")
        agrees = (
            fused.shape == expected.shape
            and torch.allclose(fused, expected, atol=_SELF_CHECK_TOLERANCE, rtol=_SELF_CHECK_TOLERANCE)
            and torch.allclose(
                F.relu(plain), expected, atol=_SELF_CHECK_TOLERANCE, rtol=_SELF_CHECK_TOLERANCE
            )
        )
    except Exception as error:  # any failure of a private op means: use the eager path
        logger.debug("fused oneDNN convolution unavailable: %s", error)
        return False
    if not agrees:
        logger.warning("fused oneDNN convolution disagrees with the eager one here; using the eager path")
    return agrees


def can_fuse(x: Tensor, conv: nn.Conv2d) -> bool:
    """Whether :func:`conv2d` may use the fused kernel for ``conv`` on ``x``."""
    return (
        _suspended == 0
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and conv.weight.dtype == torch.float32
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and not torch.is_grad_enabled()
        and fused_conv_available()
    )


def conv2d(conv: nn.Conv2d, x: Tensor, *, relu: bool) -> Tensor:
    """``relu(conv(x))`` (or ``conv(x)``) as one oneDNN kernel; call only when :func:`can_fuse` says so."""
    op = _operator()
    assert op is not None
    return _call(op, conv, x, "relu" if relu else "none")


@contextmanager
def disabled() -> Iterator[None]:
    """Use the eager path inside the block (the benchmark's "before" measurement)."""
    global _suspended
    _suspended += 1
    try:
        yield
    finally:
        _suspended -= 1
