"""Row 3, learned upscalers: our runner against the published ComfyUI nodes users would otherwise run.

The peers are the nodes of SesquiLSR (LoganBooker/SesquiLSR), city96's latent upscaler
(city96/SD-Latent-Upscaler) and Ttl's NNLatentUpscale (Ttl/ComfyUi_NNLatentUpscale). Their code is
never part of this repository: the bench loads it from the plan's ``peers`` folder when the file is
there (see :data:`NEURAL_PEERS` for the file names) and skips a peer whose file is absent.

Both sides get the same random weights in the published layout (the bench's models folder,
:mod:`latent_upscale.lab.fixtures.random_weights`), loaded strictly by each side's own loader. Each
row compares the outputs first (max abs difference, raw latent units), then times the two calls
interleaved round by round (:func:`latent_upscale.lab.bench.row_peers._compare`, rows of ``kind``
``"peer"``). Ours is the whole public call ``upscale_detailed(..., method="neural")`` in float32 on a
raw latent, as the nodes receive ComfyUI's ``LATENT`` (checks and conversions included); theirs is
the node's model call with the model already loaded (what a node pays from its second use on),
under ``torch.inference_mode()`` as ComfyUI runs nodes. Each row also carries the conv throughput
figure (:mod:`latent_upscale.lab.bench.conv_throughput`): the node's layer shapes timed bare, and
the share of that speed each side's median reaches.

Peer files that import what the bench does not have get a stand-in, never the real module replaced:
Ttl's ``latent_resizer.py`` uses ``einops.rearrange`` for two reshapes, supplied by
:func:`_einops_stand_in` when einops is not installed. Node files that import ComfyUI are not
loaded; the network's own file is (Ttl's node imports ``comfy.model_management``; the bench repeats
its arithmetic ``model(0.13025 * z, scale=s) / 0.13025``).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.conv_throughput import achievable_seconds, watch_layers
from latent_upscale.lab.bench.row_peers import _compare, load_peer_file

__all__ = ["NEURAL_PEERS", "NeuralPeer", "load_peer_module", "run_neural_peer_comparisons"]

logger = logging.getLogger(__name__)

#: The node's call with the model loaded: ``(latent, (height, width)) → latent`` (raw units).
PeerCall = Callable[[Tensor, tuple[int, int]], Tensor]


@dataclass(frozen=True)
class NeuralPeer:
    """A published node: ``build(module, weights, factor, device)`` loads its network from ``file``."""

    name: str
    #: Our bench model id (``latent_upscale.lab.bench.models.NEURAL_MODELS``).
    model_id: str
    file: str
    build: Callable[[types.ModuleType, Path, float, torch.device], PeerCall]
    #: How the node's code was loaded and called (kept in the row).
    notes: str


def _ready(model: nn.Module, device: torch.device) -> nn.Module:
    return model.to(device=device, dtype=torch.float32).eval().requires_grad_(False)


def _sesqui(module: types.ModuleType, weights: Path, factor: float, device: torch.device) -> PeerCall:
    # nodes.py: LatentUpscaler(in_channels=…), load_state_dict (strict), float32 on CPU, no_grad.
    model = module.LatentUpscaler(in_channels=4)
    model.load_state_dict(load_file(str(weights)), strict=True)
    model = _ready(model, device)

    def call(latent: Tensor, size: tuple[int, int]) -> Tensor:
        with torch.inference_mode(), torch.no_grad():
            return model(latent.to(torch.float32), size)

    return call


def _city96(module: types.ModuleType, weights: Path, factor: float, device: torch.device) -> PeerCall:
    # comfy_latent_upscaler.py: Upscaler(scale_factor), load_state_dict (strict), model(samples).
    model = module.Upscaler(factor)
    model.load_state_dict(load_file(str(weights)), strict=True)
    model = _ready(model, device)

    def call(latent: Tensor, size: tuple[int, int]) -> Tensor:
        with torch.inference_mode():
            return model(latent)

    return call


#: Ttl's node multiplies ComfyUI's raw latent by SDXL's scaling factor, and divides the result.
_TTL_SCALE = 0.13025


def _ttl(module: types.ModuleType, weights: Path, factor: float, device: torch.device) -> PeerCall:
    # latent_resizer.py's own loader (torch.load, block counts from the keys, strict load).
    model = _ready(module.LatentResizer.load_model(str(weights), device, torch.float32), device)

    def call(latent: Tensor, size: tuple[int, int]) -> Tensor:
        with torch.inference_mode():
            return model(_TTL_SCALE * latent.to(torch.float32), scale=factor) / _TTL_SCALE

    return call


NEURAL_PEERS = (
    NeuralPeer(
        name="SesquiLSR node",
        model_id="sesqui",
        file="sesqui_upscaler.py",
        build=_sesqui,
        notes="sesqui_lsr/upscaler.py's LatentUpscaler as nodes.py calls it (float32, no_grad); no stand-ins",
    ),
    NeuralPeer(
        name="city96 node",
        model_id="city96",
        file="city96_comfy_latent_upscaler.py",
        build=_city96,
        notes="comfy_latent_upscaler.py's Upscaler, loaded once (the node reloads the file every call); "
        "no stand-ins",
    ),
    NeuralPeer(
        name="Ttl NNLatentUpscale node",
        model_id="ttl",
        file="ttl_latent_resizer.py",
        build=_ttl,
        notes="latent_resizer.py's LatentResizer.load_model, called as nn_upscale.py does (×0.13025, "
        "÷0.13025, float32); nn_upscale.py imports comfy, so it is not loaded",
    ),
)


# --- loading peer files ---------------------------------------------------------------------------


def _rearrange(tensor: Tensor, pattern: str, **sizes: int) -> Tensor:
    """The two ``einops.rearrange`` patterns of Ttl's attention block, as the same reshapes."""
    pattern = " ".join(pattern.split())
    if pattern == "b c h w -> b 1 (h w) c":
        b, c, h, w = tensor.shape
        return tensor.permute(0, 2, 3, 1).reshape(b, 1, h * w, c)
    if pattern == "b 1 (h w) c -> b c h w":
        b, _, _, c = tensor.shape
        return tensor.reshape(b, sizes["h"], sizes["w"], c).permute(0, 3, 1, 2)
    raise NotImplementedError(f"the bench's einops stand-in does not know the pattern {pattern!r}")


def _einops_stand_in() -> types.ModuleType:
    module = types.ModuleType("einops")
    module.__doc__ = "latent_upscale.lab.bench stand-in for einops (two rearrange patterns only)"
    module.rearrange = _rearrange  # type: ignore[attr-defined]
    return module


#: Stand-ins for modules a peer file imports, used only when the real one is not installed.
STAND_INS: dict[str, Callable[[], types.ModuleType]] = {"einops": _einops_stand_in}


def _installed(name: str) -> bool:
    return name in sys.modules or importlib.util.find_spec(name) is not None


@contextmanager
def _stand_ins_for_missing() -> Iterator[list[str]]:
    added = [name for name in STAND_INS if not _installed(name)]
    for name in added:
        sys.modules[name] = STAND_INS[name]()
    try:
        yield added
    finally:
        for name in added:  # the peer module keeps its reference; nothing else sees the stand-in
            sys.modules.pop(name, None)


def load_peer_module(folder: str | Path, file: str) -> tuple[types.ModuleType, list[str]] | None:
    """Execute ``folder/file`` as a private module; None when the file is absent. Also returns the
    names of the stand-in modules it was given (empty when every import was the real one)."""
    return load_peer_file(folder, file, _stand_ins_for_missing)


# --- the rows ---------------------------------------------------------------------------------------


def _target(side: int, factor: float) -> tuple[int, int]:
    """The nodes' output size: ``round(side × factor)`` (city96's nearest upsample floors, equal here)."""
    out = round(side * factor)
    return (out, out)


def _throughput(context: BenchContext, theirs: Callable[[], Tensor], row: dict[str, Any]) -> dict[str, Any]:
    """The conv throughput figures (:mod:`latent_upscale.lab.bench.conv_throughput`): the node's layer
    shapes (the network's work, whatever kernels ours runs it with) timed bare, and the fraction of
    that speed each contender's median and rounds reach."""
    achievable, layers = achievable_seconds(
        watch_layers(theirs), threads=context.threads, min_run_time=context.plan.min_run_time
    )
    return {
        "achievable_s": achievable,
        "ours_throughput_fraction": achievable / row["ours_median_s"],
        "ours_throughput_round_fractions": [achievable / t for t in row["ours_round_medians_s"]],
        "theirs_throughput_fraction": achievable / row["theirs_median_s"],
        "layers": [layer.as_dict() for layer in layers],
    }


def run_neural_peer_comparisons(context: BenchContext) -> list[dict[str, Any]]:
    """One ``"peer"`` row per planned (model, side, factor) whose peer file is in the peers folder;
    a peer that does not load gives a ``"peer error"`` row (and a logged error) instead."""
    if not context.plan.peers or not context.plan.neural_peer_jobs:
        return []
    peers = {peer.model_id: peer for peer in NEURAL_PEERS}
    modules: dict[str, tuple[types.ModuleType, list[str]] | None] = {}
    rows: list[dict[str, Any]] = []
    jobs = context.plan.neural_peer_jobs
    for model_id, side, factor in context.steps(jobs, "neural peers", total=len(jobs)):
        peer = peers[model_id]
        if model_id not in modules:
            modules[model_id] = load_peer_module(context.plan.peers, peer.file)
            if modules[model_id] is None:
                logger.info("peer %s: no %s in %s", peer.name, peer.file, context.plan.peers)
        loaded = modules[model_id]
        if loaded is None:
            continue
        module, stand_ins = loaded
        latent = context.latent(1, side)
        size = _target(side, factor)
        job = context.models.job(model_id, latent, size, precision="fp32", latent_space="raw")
        try:
            theirs_call = peer.build(module, job.weights, factor, context.device)
        except Exception as error:  # a peer that cannot load our weights strictly: say so, go on
            logger.error("peer %s did not load the %s weights: %s", peer.name, model_id, error)
            rows.append(
                {
                    "kind": "peer error",
                    "theirs": peer.name,
                    "input": list(latent.shape),
                    "output": list(size),
                    "error": f"{type(error).__name__}: {error}",
                }
            )
            continue

        def ours(job: Any = job) -> Tensor:
            return job().latent

        def theirs(
            call: PeerCall = theirs_call, latent: Tensor = latent, size: tuple[int, int] = size
        ) -> Tensor:
            return call(latent, size)

        row = _compare(
            context,
            latent,
            size,
            f"neural ({model_id})",
            ours,
            peer.name,
            theirs,
            kind="peer",
            rounds=context.plan.neural_peer_rounds,
        )
        row["factor"] = factor
        row["notes"] = peer.notes + (f"; stand-ins: {', '.join(stand_ins)}" if stand_ins else "")
        row.update(_throughput(context, theirs, row))
        rows.append(row)
    return rows
