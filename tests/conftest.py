"""Shared fixtures.

- ``fake_webui``: a factory opening fresh fake WebUI hosts, closed after the test; ``webui_flavor``
  parametrises a test over every emulated host.
- ``isolated_neural``: no user models folder, HF cache or download cache leaks in, and the neural model
  cache is empty before and after the test (``pytestmark = pytest.mark.usefixtures("isolated_neural")``).
- ``hub``: a loopback Hugging Face hub / file server (``tests/helpers/hub_server.py``).
- ``table`` / ``ldm_table``: the SD sigma table (a read-only value, built once per session) and the
  independent float64 LDM reference sigmas (``tests/helpers/schedules.py``).
- ``fresh_imports``: what a fresh interpreter has imported after each step of ``IMPORT_STEPS``.

Package imports happen inside the fixtures: importing this file must not import the product's neural
room or the lab (tests that check what an import loads run in this process).
"""

from __future__ import annotations

import contextlib
import gc

import pytest

from tests.helpers.webui import FLAVORS
from tests.helpers.webui import fake_webui as _fake_webui


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move everything imported during collection (torch, gradio, hypothesis, the package) out of the
    collector's reach: every later ``gc.collect()`` (the model cache's ``unload`` runs one) and automatic
    full collection then walks only what the tests themselves create. Nothing is freed or kept that would
    not be otherwise: these objects live for the whole session anyway."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def fake_webui():
    """Call ``fake_webui(flavor="1.10.1", **options)`` for a fresh fake host (tests/helpers/webui.py)."""
    with contextlib.ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(_fake_webui(*args, **kwargs))


@pytest.fixture(params=FLAVORS)
def webui_flavor(request):
    """Parametrises a test over every emulated host: "1.6.0", "1.10.1", "forge", "forge-neo", "reforge"."""
    return request.param


@pytest.fixture
def isolated_neural(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Every default weights location points into ``tmp_path``; no model stays loaded across tests."""
    from latent_upscale.neural import unload
    from tests.helpers.neural_env import isolate

    isolate(monkeypatch, tmp_path)
    yield
    unload()


@pytest.fixture
def hub():
    """A running :class:`tests.helpers.hub_server.LocalHub` (stopped after the test)."""
    from tests.helpers.hub_server import LocalHub

    with LocalHub() as server:
        yield server


@pytest.fixture(scope="session")
def table():
    """``sd_sigma_table("sd1")``: the SD 1.x/2.x/XL discrete sigma table (never mutated by the schedules)."""
    from latent_upscale.schedules import sd_sigma_table

    return sd_sigma_table("sd1")


@pytest.fixture(scope="session")
def ldm_table():
    """The LDM sigmas by an independent float64 formula (``tests/helpers/schedules.py``)."""
    from tests.helpers import schedules as ref

    return ref.ldm_sd_sigmas()


#: Cumulative import steps run in ONE fresh interpreter by ``fresh_imports``. A module absent after a step
#: is absent when that step's imports run alone (each step only adds modules), so one child serves every
#: "importing X does not load Y" test; steps that load more come later.
IMPORT_STEPS = {
    "package": "import latent_upscale, latent_upscale.neural",
    "cli parser": "import latent_upscale.cli; latent_upscale.cli.build_parser()",
    "schedules and figures": "import latent_upscale.schedules, latent_upscale.lab.demo.schedule_figures",
}


@pytest.fixture(scope="session")
def fresh_imports() -> dict[str, frozenset[str]]:
    """``sys.modules`` names of a fresh interpreter (run from the repository root) after each step."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = "import json, sys\nseen = {}\n"
    for step, statement in IMPORT_STEPS.items():
        code += f"{statement}\nseen[{step!r}] = sorted(sys.modules)\n"
    code += "print(json.dumps(seen))\n"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return {step: frozenset(names) for step, names in json.loads(done.stdout.splitlines()[-1]).items()}
