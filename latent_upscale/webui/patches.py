"""Temporary, self-restoring changes to host objects (adetailer's context-manager style).

Two kinds, both undone in ``finally`` so exceptions and interrupts (``InterruptedException`` is a
``BaseException``) never leave anything behind:

- :class:`InterpolateInterceptor` replaces ``torch.nn.functional.interpolate`` for the duration of one
  host call and serves exactly the one call it recognises; every other call reaches torch untouched.
  The WebUI's latent resizes are ``torch.nn.functional.interpolate(...)`` looked up at call time in
  ``modules/processing.py`` (img2img mode 3 in ``StableDiffusionProcessingImg2Img.init``, hires fix in
  ``StableDiffusionProcessingTxt2Img.sample_hr_pass``), so this replaces exactly those calls without
  copying any host function.
- :func:`instance_patch` shadows a method on one object (one job's ``p`` or sampler), never on a class.

Nothing here imports ``modules.*``: it is tested without a WebUI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["InterpolateInterceptor", "Replacement", "instance_patch", "is_interceptor"]

log = logging.getLogger(__name__)

#: ``(input, size, call_host) -> result``; ``call_host()`` runs the host's own interpolate call.
Replacement = Callable[[Tensor, tuple[int, int], Callable[[], Tensor]], Tensor]
_MARK = "__latent_upscale_interceptor__"


def is_interceptor(fn: object) -> bool:
    """True for a function installed by :class:`InterpolateInterceptor` (to prove nothing stayed patched)."""
    return bool(getattr(fn, _MARK, False))


def _call_size(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, int] | None:
    size = args[1] if len(args) > 1 else kwargs.get("size")
    if isinstance(size, (tuple, list, torch.Size)) and len(size) == 2:
        try:
            return (int(size[0]), int(size[1]))
        except (TypeError, ValueError):
            return None
    return None


class InterpolateInterceptor:
    """Serve the one ``F.interpolate`` call whose input ``is`` the expected tensor at the expected size.

    ``expected_input`` and ``expected_size`` are read when the call happens (the host assigns the
    tensor just before resizing it). After serving, the interceptor removes itself if it is still the
    installed function, so the patch window ends at the call it exists for.
    """

    def __init__(
        self,
        expected_input: Callable[[], object],
        expected_size: Callable[[], tuple[int, int]],
        replacement: Replacement,
    ) -> None:
        self._expected_input = expected_input
        self._expected_size = expected_size
        self._replacement = replacement
        self._original: Callable[..., Tensor] | None = None
        self._active = False
        self.served = False

    def _matches(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        latent = args[0] if args else kwargs.get("input")
        return latent is self._expected_input() and _call_size(args, kwargs) == tuple(self._expected_size())

    def _wrapper(self, *args: Any, **kwargs: Any) -> Tensor:
        original = self._original
        assert original is not None
        if not self._active or self.served or not self._matches(args, kwargs):
            return original(*args, **kwargs)
        self.served = True
        latent = args[0] if args else kwargs["input"]
        try:
            return self._replacement(latent, self._expected_size(), lambda: original(*args, **kwargs))
        finally:
            self._uninstall()

    setattr(_wrapper, _MARK, True)

    def _uninstall(self) -> None:
        if not self._active:
            return
        self._active = False  # from now on a pure pass-through, wherever it sits
        if F.interpolate is self._installed:
            F.interpolate = self._original
        else:  # someone wrapped over us and has not unwrapped yet: we stay inert in their chain
            log.warning("torch.nn.functional.interpolate was re-patched by other code during a job")

    def __enter__(self) -> InterpolateInterceptor:
        self._original = F.interpolate
        self._installed = self._wrapper  # one bound-method object, so "is" finds it again
        self._active = True
        F.interpolate = self._installed
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._uninstall()


@contextmanager
def instance_patch(
    obj: object, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> Iterator[None]:
    """Shadow ``obj.name`` with ``make(original)`` on this one object, restoring exactly what was there."""
    had_own = name in vars(obj)
    previous = vars(obj).get(name)
    setattr(obj, name, make(getattr(obj, name)))
    try:
        yield
    finally:
        if had_own:
            setattr(obj, name, previous)
        else:
            vars(obj).pop(name, None)
