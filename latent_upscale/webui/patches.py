"""Temporary, self-restoring changes to host objects (adetailer's context-manager style).

Three kinds, each undone in ``finally`` so exceptions and interrupts (``InterruptedException`` is a
``BaseException``) never leave anything behind:

- :class:`InterpolateInterceptor` serves one ``torch.nn.functional.interpolate`` call of one host call;
  every other call reaches torch untouched. The WebUI's latent resizes are
  ``torch.nn.functional.interpolate(...)`` looked up at call time in ``modules/processing.py`` (img2img
  mode 3 in ``StableDiffusionProcessingImg2Img.init``, hires fix in
  ``StableDiffusionProcessingTxt2Img.sample_hr_pass``), so this replaces exactly those calls without
  copying any host function. Interceptors of concurrent jobs (two threads, the API and the UI) share one
  installed dispatcher, so entering and leaving them in any order restores the original function.
- :func:`instance_patch` shadows a method on one object (one job's ``p`` or sampler), never on a class.
- :func:`temporary_attribute` sets a plain attribute of one object and puts the old value back.

Nothing here imports ``modules.*``: it is tested without a WebUI.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "InterpolateInterceptor",
    "Replacement",
    "instance_patch",
    "is_interceptor",
    "temporary_attribute",
]

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


class _Dispatcher:
    """The one function installed as ``F.interpolate`` while any interceptor is active.

    One dispatcher per installation: it remembers the function it replaced and, once its last
    interceptor has left, puts that function back if it is still the installed one. If other code wrapped
    over it meanwhile, it stays in their chain as a pure pass-through (never unpatching their wrapper) and a
    later interceptor installs a fresh dispatcher on top.
    """

    def __init__(self, original: Callable[..., Tensor]) -> None:
        self.original = original
        self.active: list[InterpolateInterceptor] = []
        self.function = functools.wraps(original)(functools.partial(_dispatch, self))
        setattr(self.function, _MARK, True)


_lock = threading.RLock()
_current: _Dispatcher | None = None


def _dispatch(dispatcher: _Dispatcher, *args: Any, **kwargs: Any) -> Tensor:
    with _lock:
        chosen = next((i for i in dispatcher.active if i._matches(args, kwargs)), None)
        if chosen is not None:
            chosen.served = True
            _leave(chosen)  # the window closes at the call it exists for
    if chosen is None:
        return dispatcher.original(*args, **kwargs)
    latent = args[0] if args else kwargs["input"]
    original = functools.partial(dispatcher.original, *args, **kwargs)
    return chosen._replacement(latent, chosen._expected_size(), original)


def _join(interceptor: InterpolateInterceptor) -> _Dispatcher:
    global _current
    with _lock:
        if _current is None:
            _current = _Dispatcher(F.interpolate)
            F.interpolate = _current.function
        _current.active.append(interceptor)
        return _current


def _leave(interceptor: InterpolateInterceptor) -> None:
    global _current
    with _lock:
        dispatcher = interceptor._dispatcher
        if dispatcher is None:
            return
        interceptor._dispatcher = None
        dispatcher.active.remove(interceptor)
        if dispatcher.active:
            return
        if _current is dispatcher:
            _current = None
        if F.interpolate is dispatcher.function:
            F.interpolate = dispatcher.original
        else:  # someone wrapped over us and has not unwrapped yet: we stay inert in their chain
            log.warning("torch.nn.functional.interpolate was re-patched by other code during a job")


class InterpolateInterceptor:
    """Serve the one ``F.interpolate`` call whose input ``is`` the expected tensor at the expected size.

    ``expected_input`` and ``expected_size`` are read when the call happens (the host assigns the
    tensor just before resizing it). After serving, the interceptor leaves, so the patch window ends at
    the call it exists for; ``F.interpolate`` is the original again once no interceptor is active.
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
        self._dispatcher: _Dispatcher | None = None
        self.served = False

    def _matches(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if self.served:
            return False
        latent = args[0] if args else kwargs.get("input")
        return latent is self._expected_input() and _call_size(args, kwargs) == tuple(self._expected_size())

    def __enter__(self) -> InterpolateInterceptor:
        self._dispatcher = _join(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _leave(self)


@contextmanager
def instance_patch(obj: object, name: str, wrapper: Callable[..., Any], *bound: object) -> Iterator[None]:
    """Shadow ``obj.name`` on this one object with ``wrapper(original, *bound, *args, **kwargs)``.

    ``original`` is the method as it was (bound); exactly what was there is restored on exit.
    """
    had_own = name in vars(obj)
    previous = vars(obj).get(name)
    setattr(obj, name, functools.partial(wrapper, getattr(obj, name), *bound))
    try:
        yield
    finally:
        if had_own:
            setattr(obj, name, previous)
        else:
            vars(obj).pop(name, None)


@contextmanager
def temporary_attribute(obj: object, name: str, value: object) -> Iterator[object]:
    """Set ``obj.name = value`` for the block; yields the previous value, which is restored on exit."""
    previous = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield previous
    finally:
        setattr(obj, name, previous)
