"""The ComfyUI bench row: skipped without a ComfyUI checkout; with one, every core method on every job is
checked (shapes, difference) before it is timed, and a ratio is ours / core."""

import pytest
import torch

from latent_upscale.lab.bench import row_comfy_nodes
from latent_upscale.lab.bench.row_comfy_nodes import (
    CORE_METHODS,
    JOBS,
    load_comfy,
    run_comfy_node_comparisons,
)


def test_without_a_comfyui_checkout_the_row_is_skipped(tmp_path, caplog):
    assert load_comfy(tmp_path) is None
    assert row_comfy_nodes.main(["--comfy", str(tmp_path)]) == 0
    assert "skipped" in caplog.text


def _node(scale_to=None):
    def call(samples, method, scale_by):
        latent = samples["samples"]
        side = scale_to or round(latent.shape[-1] * scale_by)
        return {"samples": torch.nn.functional.interpolate(latent, size=(side, side), mode="nearest")}

    return call


def test_every_method_and_job_gives_a_row_with_its_ratio_and_difference(monkeypatch):
    monkeypatch.setattr(row_comfy_nodes, "JOBS", ((1, 4, 8, 1.5),))
    rows = run_comfy_node_comparisons(_node(), _node(), rounds=1, threads=1, min_run_time=0.001)
    assert [row["method"] for row in rows] == list(CORE_METHODS)
    assert all(
        row["max_abs_diff"] == 0 and row["ratio"] > 0 and row["output"] == [1, 4, 12, 12] for row in rows
    )
    assert {row["method"]: row["goal"] for row in rows if row["goal"]} == {"bilinear": 1.05, "bislerp": 1.0}
    assert len(JOBS) >= 3


def test_a_shape_mismatch_between_the_nodes_is_an_error_not_a_timing(monkeypatch):
    monkeypatch.setattr(row_comfy_nodes, "JOBS", ((1, 4, 8, 1.5),))
    with pytest.raises(RuntimeError, match="core gives"):
        run_comfy_node_comparisons(_node(), _node(scale_to=13), rounds=1, threads=1, min_run_time=0.001)
