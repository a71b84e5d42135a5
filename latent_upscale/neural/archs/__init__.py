"""The architecture registry: detect a latent upscaler from its state dict and load it.

Each architecture is one module with ``ARCH_ID``, ``NAME``, ``SIGNATURE_KEYS``,
``detect(state_dict) -> bool`` (may give false positives, never false negatives) and
``load(state_dict) -> ModelDescriptor`` (strict). Adding a fourth format is one module and one line
in :data:`ARCHITECTURES`. Detection looks only at key names and shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.neural.archs import city96, sesqui, ttl
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = ["ARCHITECTURES", "architecture_ids", "detect_architecture", "load_descriptor"]

#: Detected in this order; the first whose ``detect`` accepts the state dict loads it.
ARCHITECTURES: tuple[ModuleType, ...] = (sesqui, ttl, city96)


def architecture_ids() -> list[str]:
    """Ids of the supported architectures, in detection order."""
    return [arch.ARCH_ID for arch in ARCHITECTURES]


def _resemblance(state_dict: Mapping[str, Tensor]) -> tuple[ModuleType, int]:
    scores = [(arch, sum(key in state_dict for key in arch.SIGNATURE_KEYS)) for arch in ARCHITECTURES]
    return max(scores, key=lambda pair: pair[1])


def _describe_keys(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", … ({len(keys)} in all)" if len(keys) > limit else "")


def detect_architecture(state_dict: Mapping[str, Tensor]) -> ModuleType:
    """The architecture module that claims ``state_dict``, or an error saying what was expected."""
    for arch in ARCHITECTURES:
        if arch.detect(state_dict):
            return arch
    expected = "; ".join(f"{arch.NAME} ({', '.join(arch.SIGNATURE_KEYS[:3])}, …)" for arch in ARCHITECTURES)
    closest, score = _resemblance(state_dict)
    hint = (
        f"; it most resembles {closest.NAME} ({score} of its {len(closest.SIGNATURE_KEYS)} signature "
        f"keys present, missing: {', '.join(k for k in closest.SIGNATURE_KEYS if k not in state_dict)})"
        if score
        else ""
    )
    raise LatentUpscaleError(
        f"not a known latent upscaler: found {len(state_dict)} tensors with keys "
        f"{_describe_keys(sorted(state_dict))}; expected one of: {expected}{hint}"
    )


def load_descriptor(state_dict: Mapping[str, Tensor]) -> ModelDescriptor:
    """Detect, build and strictly load; a layout mismatch names the architecture and the bad keys."""
    arch = detect_architecture(state_dict)
    try:
        return arch.load(state_dict)
    except LatentUpscaleError as error:
        raise LatentUpscaleError(f"looks like {arch.NAME} but does not match its layout: {error}") from error
    except (RuntimeError, KeyError, ValueError) as error:
        # load_state_dict(strict=True) lists missing/unexpected keys and size mismatches.
        message = str(error).replace("\n", " ").replace("\t", "")
        if len(message) > 600:
            message = message[:600] + " …"
        raise LatentUpscaleError(
            f"looks like {arch.NAME} but does not match its layout: {message}"
        ) from error
