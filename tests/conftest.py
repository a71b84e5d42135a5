"""Shared fixtures. ``fake_webui``: a factory opening fresh fake WebUI hosts, closed after the test."""

import contextlib

import pytest

from tests.helpers.webui import FLAVORS
from tests.helpers.webui import fake_webui as _fake_webui


@pytest.fixture
def fake_webui():
    """Call ``fake_webui(flavor="1.10.1", **options)`` for a fresh fake host (tests/helpers/webui.py)."""
    with contextlib.ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(_fake_webui(*args, **kwargs))


@pytest.fixture(params=FLAVORS)
def webui_flavor(request):
    """Parametrises a test over every emulated host: "1.6.0", "1.10.1", "forge", "forge-neo", "reforge"."""
    return request.param
