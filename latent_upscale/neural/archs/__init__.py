"""The architecture registry: detect a latent network from its state dict and load it.

An architecture is one module (see ``ADDING_AN_ARCHITECTURE.md`` beside this file) with

* ``ARCH_ID``, ``NAME``, ``SIGNATURE_KEYS`` (for "most resembles" messages);
* ``BEFORE``: ids of architectures it must be detected before (spandrel's ``before=``), because
  their detectors would also accept its files;
* ``detect(state_dict) -> bool``: may give false positives, never false negatives; key names and
  shapes only;
* ``load(state_dict) -> ModelDescriptor``: strict; the descriptor carries the one uniform call;
* for a weight set of several files (a tiny autoencoder's decoder + encoder): ``PARTS`` (e.g.
  ``("decoder", "encoder")``), ``part_of(state_dict) -> str`` and ``load_parts({part: state_dict},
  names)`` instead of ``load``; ``names`` maps each part to its file name (or ``None``), for
  variants that only their published names tell apart (TAESD and TAESDXL share one layout);
* ``NAMED_LOAD = True`` on a one-file architecture whose ``load`` also takes ``filename=`` (the
  file's name), for checkpoints that only their published names tell apart (TAEHV).

Adding one is one module and one line in :data:`REGISTERED`. Detection order is computed from
``BEFORE`` (a stable topological order of :data:`REGISTERED`); a duplicate id, an unknown id in
``BEFORE`` or a cycle is an error at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from torch import Tensor

from latent_upscale.errors import LatentUpscaleError
from latent_upscale.neural.archs import city96, sesqui, tae, taehv, ttl
from latent_upscale.neural.descriptor import ModelDescriptor

__all__ = [
    "ARCHITECTURES",
    "REGISTERED",
    "architecture_ids",
    "detect_architecture",
    "load_descriptor",
    "load_weight_set",
    "order_by_before",
]

#: Every architecture, one line each (order here only breaks ties; ``BEFORE`` decides).
REGISTERED: tuple[ModuleType, ...] = (city96, sesqui, ttl, tae, taehv)


def order_by_before(modules: Sequence[ModuleType]) -> tuple[ModuleType, ...]:
    """Detection order: each module after none it must precede; otherwise registration order."""
    by_id: dict[str, ModuleType] = {}
    for module in modules:
        if module.ARCH_ID in by_id:
            raise LatentUpscaleError(f"architecture id {module.ARCH_ID!r} is registered twice")
        by_id[module.ARCH_ID] = module
    must_follow: dict[str, set[str]] = {arch_id: set() for arch_id in by_id}
    for module in modules:
        for later in getattr(module, "BEFORE", ()):
            if later not in by_id:
                raise LatentUpscaleError(f"{module.ARCH_ID}.BEFORE names unknown architecture {later!r}")
            must_follow[later].add(module.ARCH_ID)
    ordered: list[ModuleType] = []
    placed: set[str] = set()
    while len(ordered) < len(modules):
        ready = [m for m in modules if m.ARCH_ID not in placed and must_follow[m.ARCH_ID] <= placed]
        if not ready:
            cycle = sorted(set(by_id) - placed)
            raise LatentUpscaleError(f"architectures {cycle} have a cycle in their BEFORE declarations")
        ordered.append(ready[0])
        placed.add(ready[0].ARCH_ID)
    return tuple(ordered)


#: Detected in this order; the first whose ``detect`` accepts the state dict loads it.
ARCHITECTURES: tuple[ModuleType, ...] = order_by_before(REGISTERED)


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


def load_descriptor(state_dict: Mapping[str, Tensor], name: str | None = None) -> ModelDescriptor:
    """Detect, build and strictly load; a layout mismatch names the architecture and the bad keys.
    ``name`` (the file's name) reaches architectures that declare ``NAMED_LOAD``."""
    arch = detect_architecture(state_dict)
    if getattr(arch, "PARTS", ()):
        part = arch.part_of(state_dict)
        raise LatentUpscaleError(
            f"this file is the {part} of a {arch.NAME} weight set; it needs its "
            f"{' and '.join(p for p in arch.PARTS if p != part)} too"
        )
    if name is not None and getattr(arch, "NAMED_LOAD", False):
        return _loading(arch, lambda: arch.load(state_dict, filename=name))
    return _loading(arch, lambda: arch.load(state_dict))


def load_weight_set(
    state_dicts: Sequence[Mapping[str, Tensor]], names: Sequence[str | None] | None = None
) -> ModelDescriptor:
    """Load a weight set of several files (e.g. a decoder and an encoder) as one descriptor.

    Every file must be detected as the same multi-part architecture, each part exactly once.
    ``names`` (the files' names, in the same order) are passed on to ``load_parts`` by part.
    """
    if len(state_dicts) == 1:
        return load_descriptor(state_dicts[0], names[0] if names else None)
    arches = {detect_architecture(state).ARCH_ID: detect_architecture(state) for state in state_dicts}
    if len(arches) != 1:
        raise LatentUpscaleError(
            f"the files of one weight set are of several architectures: {sorted(arches)}"
        )
    arch = next(iter(arches.values()))
    if not getattr(arch, "PARTS", ()):
        raise LatentUpscaleError(f"{arch.NAME} weights are one file each, got a set of {len(state_dicts)}")
    parts: dict[str, Mapping[str, Tensor]] = {}
    part_names: dict[str, str | None] = {}
    for index, state in enumerate(state_dicts):
        part = arch.part_of(state)
        if part in parts:
            raise LatentUpscaleError(f"two files are the {part} of {arch.NAME}")
        parts[part] = state
        part_names[part] = names[index] if names is not None else None
    missing = [part for part in arch.PARTS if part not in parts]
    if missing:
        raise LatentUpscaleError(f"{arch.NAME} needs its {', '.join(missing)} as well")
    return _loading(arch, lambda: arch.load_parts(parts, part_names))


def _loading(arch: ModuleType, load: Callable[[], ModelDescriptor]) -> ModelDescriptor:
    try:
        return load()
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
