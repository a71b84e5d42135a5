"""The learned-upscaler peer rows: peer files are loaded from the peers folder (never from the
repository), given stand-ins only for what is not installed, fed the bench's weights strictly,
compared first and timed; a peer that does not load says so in its own row.

The peer files here are small fakes written by the tests: the node's entry points around our own
networks, with a known offset so the comparison must see it."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from latent_upscale.lab.bench import quick_plan
from latent_upscale.lab.bench import row_neural_peers as rows_module
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.models import bench_models
from latent_upscale.lab.bench.report import summarise
from latent_upscale.lab.bench.report_tables import _interpolation_section
from latent_upscale.lab.bench.row_neural_peers import (
    _rearrange,
    load_peer_module,
    run_neural_peer_comparisons,
)

#: SesquiLSR's entry point (``LatentUpscaler(in_channels)``, strict ``load_state_dict``,
#: ``model(z, size)``) around our network, plus an offset the row must measure.
FAKE_SESQUI = """
from torch import nn
from latent_upscale.neural.archs import sesqui


class LatentUpscaler(nn.Module):
    def __init__(self, in_channels=4):
        super().__init__()
        self.in_channels = in_channels

    def load_state_dict(self, state, strict=True):
        assert strict
        self.inner = sesqui.load(state).model

    def forward(self, x, size):
        return self.inner(x, size) + 0.5
"""

#: city96's node layout written out (conv 4→64, ReLU, nearest ×fac, ReLU, 16 × conv+ReLU, conv 64→4).
FAKE_CITY96 = """
from torch import nn


class Upscaler(nn.Module):
    def __init__(self, fac, depth=16):
        super().__init__()
        layers = [nn.Conv2d(4, 64, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=float(fac)), nn.ReLU()]
        for _ in range(depth):
            layers += [nn.Conv2d(64, 64, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(64, 4, 3, padding=1))
        self.sequential = nn.Sequential(*layers)

    def forward(self, x):
        return self.sequential(x)
"""

#: Ttl's ``LatentResizer.load_model(filename, device, dtype)`` and ``model(x, scale=s)``.
FAKE_TTL = """
import torch
from torch import nn
from latent_upscale.neural.archs import ttl


class LatentResizer(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    @classmethod
    def load_model(cls, filename, device="cpu", dtype=torch.float32):
        return cls(ttl.load(torch.load(filename, weights_only=True)).model).to(device, dtype=dtype)

    def forward(self, x, scale=None):
        size = tuple(int(round(d * scale)) for d in x.shape[-2:])
        return self.inner(x, size, scale=scale)
"""

#: city96's class with the wrong width: strict loading must fail.
BROKEN_CITY96 = FAKE_CITY96.replace("64", "32")


def _plan(folder: Path, jobs: tuple[tuple[str, int, float], ...]):
    return replace(
        quick_plan(),
        neural_peer_jobs=jobs,
        neural_peer_rounds=1,
        min_run_time=0.001,
        peers=str(folder),
    )


@pytest.fixture(scope="module")
def models():
    with bench_models(torch.device("cpu")) as models:
        yield models


def _run(folder: Path, models, jobs) -> list[dict]:
    context = BenchContext(_plan(folder, jobs), torch.device("cpu"), 1, models, False)
    return run_neural_peer_comparisons(context)


def test_each_loaded_peer_is_compared_then_timed_on_the_same_weights(tmp_path, models):
    (tmp_path / "sesqui_upscaler.py").write_text(FAKE_SESQUI, encoding="utf-8")
    (tmp_path / "city96_comfy_latent_upscaler.py").write_text(FAKE_CITY96, encoding="utf-8")
    (tmp_path / "ttl_latent_resizer.py").write_text(FAKE_TTL, encoding="utf-8")
    rows = _run(tmp_path, models, (("sesqui", 8, 1.5), ("city96", 8, 2.0), ("ttl", 8, 1.5)))
    by_model = {row["ours"]: row for row in rows}
    assert set(by_model) == {"neural (sesqui)", "neural (city96)", "neural (ttl)"}
    assert all(row["kind"] == "peer" and row["rounds"] == 1 for row in rows)
    # The offset of the fake SesquiLSR is seen; the faithful fakes agree with ours.
    assert by_model["neural (sesqui)"]["max_abs_diff"] == pytest.approx(0.5, abs=1e-5)
    assert by_model["neural (city96)"]["max_abs_diff"] < 1e-4
    assert by_model["neural (ttl)"]["max_abs_diff"] < 1e-3
    assert by_model["neural (sesqui)"]["output"] == [12, 12]
    assert by_model["neural (city96)"]["output"] == [16, 16]
    for row in rows:
        assert row["ratio"] > 0 and row["ours_median_s"] > 0 and row["theirs_median_s"] > 0
        assert row["notes"]
    # The report's summary lists them with the other peers.
    ratios = summarise({"rows": {"reference": rows}})["peer_ratios"]
    assert "neural (city96) vs city96 node 1×4×8×8→16×16" in ratios


def test_a_peer_file_that_is_absent_is_skipped(tmp_path, models):
    (tmp_path / "city96_comfy_latent_upscaler.py").write_text(FAKE_CITY96, encoding="utf-8")
    rows = _run(tmp_path, models, (("sesqui", 8, 2.0), ("city96", 8, 2.0)))
    assert [row["theirs"] for row in rows] == ["city96 node"]
    assert load_peer_module(tmp_path, "sesqui_upscaler.py") is None


def test_a_peer_that_cannot_load_the_weights_strictly_gets_an_error_row(tmp_path, models, caplog):
    (tmp_path / "city96_comfy_latent_upscaler.py").write_text(BROKEN_CITY96, encoding="utf-8")
    (tmp_path / "sesqui_upscaler.py").write_text(FAKE_SESQUI, encoding="utf-8")
    rows = _run(tmp_path, models, (("city96", 8, 2.0), ("sesqui", 8, 2.0)))
    assert [row["kind"] for row in rows] == ["peer error", "peer"]
    assert "size mismatch" in rows[0]["error"]
    assert "did not load" in caplog.text
    # The report says which peer did not run and why, under the comparison table.
    markdown = "\n".join(_interpolation_section(rows))
    assert "Peer not run: city96 node at 1×4×8×8→16×16: " in markdown and "size mismatch" in markdown


def test_a_missing_import_gets_the_stand_in_only_while_the_file_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(rows_module, "_installed", lambda name: False)  # as if einops were absent
    monkeypatch.delitem(sys.modules, "einops", raising=False)
    (tmp_path / "peer.py").write_text("import einops\nrearrange = einops.rearrange\n", encoding="utf-8")
    loaded = load_peer_module(tmp_path, "peer.py")
    assert loaded is not None
    module, stand_ins = loaded
    assert stand_ins == ["einops"]
    assert module.rearrange is _rearrange
    assert "einops" not in sys.modules


def test_an_installed_module_is_never_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(rows_module, "_installed", lambda name: True)
    (tmp_path / "peer.py").write_text("VALUE = 1\n", encoding="utf-8")
    loaded = load_peer_module(tmp_path, "peer.py")
    assert loaded is not None and loaded[1] == [] and loaded[0].VALUE == 1


def test_the_einops_stand_in_does_the_two_reshapes_of_ttls_attention():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    tokens = _rearrange(x, "b c h w -> b 1 (h w) c")
    assert tokens.shape == (2, 1, 20, 3)
    assert torch.equal(tokens[1, 0, 4 * 5 - 1], x[1, :, 3, 4])  # token (h=3, w=4) holds every channel
    back = _rearrange(tokens, "b 1 (h w) c -> b c h w", h=4, w=5, c=3, b=2)
    assert torch.equal(back, x)
    with pytest.raises(NotImplementedError, match="pattern"):
        _rearrange(x, "b c h w -> b h w c")


def test_the_summary_judges_each_learned_upscaler_against_its_nodes_goal():
    def peer(theirs: str, ratio: float) -> dict:
        return {
            "kind": "peer",
            "ours": "neural",
            "theirs": theirs,
            "input": [1, 4, 8, 8],
            "output": [16, 16],
            "ratio": ratio,
        }

    rows = [
        peer("SesquiLSR node", 0.85),
        peer("SesquiLSR node", 0.93),
        peer("city96 node", 0.6),
        peer("Ttl NNLatentUpscale node", 1.0),
    ]
    goals = summarise({"rows": {"reference": rows}})["goals"]
    assert goals["sesqui_vs_node_max"]["value"] == 0.93 and not goals["sesqui_vs_node_max"]["met"]
    assert goals["city96_vs_node_max"]["met"]
    assert not goals["ttl_vs_node_max"]["met"]  # level with the node is not a lead
