"""The line under the method dropdown: what the neural method would use for the loaded model.

Drawn while the UI is built and whenever the method (or, from the host's callback, the checkpoint)
changes, so it must never fail: a bad saved setting or an odd model object becomes a message.
"""

from __future__ import annotations

import logging
import time

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.resize_methods import get_method
from latent_upscale.webui import host, settings
from latent_upscale.webui.job import method_id
from latent_upscale.webui.model import read_model_latent_info
from latent_upscale.webui.state import short_reason

__all__ = [
    "describe_neural_for_loaded_model",
    "hint_after_checkpoint_change",
    "neural_hint",
    "neural_hint_applies",
]

log = logging.getLogger("latent_upscale")

_IDLE = ""


def describe_neural_for_loaded_model(method: str = "neural") -> str:
    """What a method with weights (``neural``, ``tae``) would use for the loaded model, or why that
    cannot be said now."""
    from latent_upscale.neural import describe

    chosen = get_method(method)
    name = chosen.label.split(" (")[0]
    try:
        model = host.loaded_model()
        if model is None:
            return f"**{name}**: picks weights for the loaded model once one is loaded."
        info = read_model_latent_info(model)
        status = describe(info.family, settings.neural_options(), role=chosen.weights_role)
    except Exception as error:  # a hint never breaks the UI
        log.warning("[Latent Upscale] %s hint: %s", method, error)
        return (
            f"**{name}**: cannot tell which weights it would use: {short_reason(error)}. "
            f"Until that is fixed img2img falls back to {DEFAULT_METHOD}."
        )
    text = f"**{name}** for this {info.family or 'unknown'} model: {status.text}"
    if not status.ready and not status.will_download:
        # Offer the download switch only where a download would help (a pinned file, downloads off).
        where = " (Settings → Latent Upscale → allow downloads)" if "downloads off" in status.text else ""
        text += f" Until then img2img falls back to {DEFAULT_METHOD}{where}."
    return text


def neural_hint_applies(method_value: object) -> bool:
    """True when the dropdown shows a neural method (an id or a label)."""
    try:
        return get_method(method_id(method_value)).neural
    except ValueError:
        return False


def neural_hint(method_value: object) -> str:
    """The hint for the method the dropdown shows (an id or a label); empty unless it is neural."""
    if not neural_hint_applies(method_value):
        return _IDLE
    return describe_neural_for_loaded_model(method_id(method_value))


#: How long a checkpoint change may take to load before the hint is drawn anyway (A1111 loads in the
#: settings handler that runs beside ours; Forge loads at the next job).
CHECKPOINT_WAIT_S = 20.0


def hint_after_checkpoint_change(
    method_value: object, checkpoint: object, wait_s: float | None = None
) -> str:
    """The hint once the chosen ``checkpoint`` (the dropdown's title) is the loaded one, or after
    :data:`CHECKPOINT_WAIT_S`, saying so when it is not loaded yet."""
    if not neural_hint_applies(method_value):
        return _IDLE
    deadline = time.monotonic() + (CHECKPOINT_WAIT_S if wait_s is None else wait_s)
    while not host.is_loaded_checkpoint(checkpoint) and time.monotonic() < deadline:
        time.sleep(0.25)
    text = describe_neural_for_loaded_model(method_id(method_value))
    if not host.is_loaded_checkpoint(checkpoint):
        text += f" ({checkpoint} is not loaded yet: this hint follows when it is.)"
    return text
