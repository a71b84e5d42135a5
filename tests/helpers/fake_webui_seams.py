"""Shared by the tests of the fake WebUI host itself (``tests/test_fake_webui_*.py``)."""

import textwrap

import torch

from tests.helpers.webui import fake_webui as _fake_webui


def fake_webui_context(*args, **kwargs):
    """A fake host WITHOUT this repository's extension (these tests are about the host, not the glue)."""
    kwargs.setdefault("extensions", ())
    return _fake_webui(*args, **kwargs)


def make_extension(tmp_path, name, files):
    root = tmp_path / name
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def loaded_script(host, filename):
    """The module object the fake loader created for an extension's ``scripts/<filename>``."""
    return next(d.module for d in host.scripts.scripts_data if d.path.endswith(filename))


def interpolate_spy(monkeypatch):
    """Record every torch.nn.functional.interpolate call (the glue's interception point)."""
    calls = []
    real = torch.nn.functional.interpolate

    def spy(
        input,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
        antialias=False,
    ):
        calls.append(
            {"shape": tuple(input.shape), "size": size, "mode": mode, "antialias": antialias, "input": input}
        )
        return real(
            input,
            size=size,
            scale_factor=scale_factor,
            mode=mode,
            align_corners=align_corners,
            recompute_scale_factor=recompute_scale_factor,
            antialias=antialias,
        )

    monkeypatch.setattr(torch.nn.functional, "interpolate", spy)
    return calls
