"""Row 2: what a latent upscaler saves — the same 2× job as a VAE round trip vs the neural runner.

The round trip is what an image upscaler in the WebUI's hires fix does: decode the latent with the
Stable Diffusion VAE, resize the image (bicubic, antialiased), encode it again. The VAE is
diffusers' ``AutoencoderKL`` built from the SD1 and SDXL configurations written out below (random
weights: no layer's cost depends on the values, and nothing is downloaded), run as the WebUI runs
it: eager, float32 on CPU, float16 on CUDA.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from latent_upscale.families import get_family
from latent_upscale.lab.bench.context import BenchContext
from latent_upscale.lab.bench.measure import interleaved_medians, peak_memory, ratio_spread

__all__ = [
    "VAE_CONFIGS",
    "build_vae",
    "cached_vae",
    "diffusers_missing",
    "release_vaes",
    "round_trip",
    "run_vae_row",
]

logger = logging.getLogger(__name__)

_SD_VAE_ARCHITECTURE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
}

#: The published ``vae/config.json`` of SD 1.5 and SDXL 1.0: one architecture, different scaling
#: (SDXL also upcasts to float32 in diffusers because its trained weights overflow in float16).
VAE_CONFIGS: dict[str, dict[str, Any]] = {
    "sd1": {**_SD_VAE_ARCHITECTURE, "sample_size": 512, "scaling_factor": get_family("sd1").scale},
    "sdxl": {
        **_SD_VAE_ARCHITECTURE,
        "sample_size": 1024,
        "scaling_factor": get_family("sdxl").scale,
        "force_upcast": True,
    },
}
#: Pixels per latent pixel of both VAEs.
VAE_STRIDE = 8
#: The neural models compared with each round trip (Ttl's attention makes it the slowest by far).
_NEURAL_CONTENDERS = ("city96", "sesqui")


def diffusers_missing() -> str | None:
    """Why the row cannot run (diffusers is a bench extra), or None when it can."""
    try:
        import diffusers  # noqa: F401
    except ImportError as error:
        return f"diffusers is not installed ({error}); pip install 'latent-upscale[bench]'"
    return None


def build_vae(config_id: str, device: torch.device, dtype: torch.dtype) -> Any:
    """An ``AutoencoderKL`` with the named configuration and random weights, ready for inference."""
    from diffusers import AutoencoderKL

    with torch.random.fork_rng(devices=[]):  # reproducible weights, caller's RNG untouched
        torch.manual_seed(0)
        vae = AutoencoderKL(**VAE_CONFIGS[config_id])
    vae = vae.to(device=device)
    if dtype != torch.float32:  # (diffusers warns about any dtype cast, even a no-op one)
        vae = vae.to(dtype=dtype)
    return vae.eval().requires_grad_(False)


_BUILT: dict[tuple[str, str, torch.dtype], Any] = {}


def cached_vae(config_id: str, device: torch.device, dtype: torch.dtype) -> Any:
    """:func:`build_vae`, built once per run and warmed up at a tiny size (library set-up): the VAE
    row and the ``tae`` row share it (building 84 M random parameters costs seconds of CPU)."""
    key = (config_id, str(device), dtype)
    if key not in _BUILT:
        vae = build_vae(config_id, device, dtype)
        generator = torch.Generator().manual_seed(0)
        round_trip(vae, torch.randn(1, 4, 8, 8, generator=generator).to(device))()
        _BUILT[key] = vae
    return _BUILT[key]


def release_vaes() -> None:
    """Forget the VAEs :func:`cached_vae` built (the end of a run)."""
    _BUILT.clear()


def round_trip(vae: Any, latent: Tensor, scale: float = 2.0) -> Callable[[], Tensor]:
    """Decode → resize the image by ``scale`` → encode, on model-space latents like the WebUI's."""
    scaling = float(vae.config.scaling_factor)
    height, width = latent.shape[2], latent.shape[3]
    image_size = (int(height * scale) * VAE_STRIDE, int(width * scale) * VAE_STRIDE)
    dtype = next(vae.parameters()).dtype

    def run() -> Tensor:
        with torch.inference_mode():
            image = vae.decode(latent.to(dtype) / scaling).sample
            image = F.interpolate(image, size=image_size, mode="bicubic", antialias=True, align_corners=False)
            return vae.encode(image.clamp(-1.0, 1.0)).latent_dist.mode() * scaling

    return run


def _vae_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.float32


def run_vae_row(context: BenchContext) -> list[dict[str, object]]:
    """Each planned round trip and, on the same latent, each neural contender, interleaved round by
    round (the round trip one call per round); the ratio is the median of the per-round ratios."""
    missing = diffusers_missing()
    if missing is not None:
        logger.warning("VAE round trip skipped: %s", missing)
        return [{"skipped": missing}]
    rows: list[dict[str, object]] = []
    dtype = _vae_dtype(context.device)
    jobs = context.plan.vae_jobs
    for config_id, side in context.steps(jobs, "VAE round trip", total=len(jobs)):
        vae = cached_vae(config_id, context.device, dtype)
        latent = context.latent(1, side)
        target = (2 * side, 2 * side)
        calls: dict[str, Callable[[], object]] = {"vae": round_trip(vae, latent)}
        jobs_by_model = {
            model_id: context.models.job(model_id, latent, target) for model_id in _NEURAL_CONTENDERS
        }
        calls.update(jobs_by_model)
        peaks: dict[str, int | None] = {}
        for name, call in calls.items():  # the warm-up call of each, whose peak memory is measured
            with peak_memory(context.device) as probe:
                call()
            peaks[name] = probe.peak_bytes
        seconds = interleaved_medians(
            calls,
            rounds=context.plan.vae_samples,
            threads=context.threads,
            min_run_time=context.plan.min_run_time,
            single_calls=frozenset({"vae"}),
            device=context.device,
            warm_up=False,
        )
        base: dict[str, object] = {
            "vae": config_id,
            "input": [1, 4, side, side],
            "output": list(target),
            "decoded_px": side * VAE_STRIDE,
            "encoded_px": 2 * side * VAE_STRIDE,
            "vae_dtype": str(dtype).removeprefix("torch."),
            "vae_parameters": sum(p.numel() for p in vae.parameters()),
            "vae_median_s": statistics.median(seconds["vae"]),
            "vae_samples": len(seconds["vae"]),
            "vae_peak_bytes": peaks["vae"],
            "vae_round_seconds": seconds["vae"],
        }
        for model_id, call in jobs_by_model.items():
            ratio, low, high = ratio_spread(seconds["vae"], seconds[model_id])
            rows.append(
                {
                    **base,
                    "model": model_id,
                    "neural_median_s": statistics.median(seconds[model_id]),
                    "neural_samples": len(seconds[model_id]),
                    "neural_peak_bytes": peaks[model_id],
                    "neural_tiles": call.tiles,
                    "neural_round_seconds": seconds[model_id],
                    "ratio": ratio,
                    "ratio_spread": [low, high],
                }
            )
            logger.info(
                "VAE %s round trip %dx%d → %dx%d: %.2f s vs %s %.3f s (%.0f× cheaper, %.0f–%.0f)",
                config_id,
                side,
                side,
                *target,
                base["vae_median_s"],
                model_id,
                rows[-1]["neural_median_s"],
                ratio,
                low,
                high,
            )
    return rows
