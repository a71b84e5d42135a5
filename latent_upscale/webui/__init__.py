"""Host glue: the only part of the package that imports the WebUI (``modules.*``).

``scripts/latent_upscale.py`` is a thin door into :mod:`latent_upscale.webui.runtime`; the other
modules here are ``host`` (the compatibility block), ``job`` (options and their field table),
``model`` (the loaded model's latent convention), ``patches`` (self-restoring changes), ``settings``,
``ui`` and ``xyz``. ``job``, ``model`` and ``patches`` import no host code.
"""

from __future__ import annotations

__all__ = ["register"]


def register() -> None:
    """Everything the script file does at import; safe to run again on Reload UI."""
    from latent_upscale.webui import host, runtime, settings, xyz

    added = runtime.register_hires_upscalers()
    if added:
        host.log.info(
            "[Latent Upscale] on %s: hires fix upscalers added: %s", host.HOST_NAME, ", ".join(added)
        )
    # load_scripts() clears every callback before re-importing scripts, so these are added once.
    host.script_callbacks.on_ui_settings(settings.register_settings)
    host.script_callbacks.on_before_ui(xyz.register_axes)
    host.script_callbacks.on_script_unloaded(runtime.unregister_hires_upscalers)
