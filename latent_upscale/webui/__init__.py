"""Host glue: the only part of the package that imports the WebUI (``modules.*``).

``scripts/latent_upscale.py`` is a thin door into :mod:`latent_upscale.webui.entry`. By job kind:
``img2img`` (the script's latent resize, exact steps, schedule), ``hires`` (our hires-fix upscaler
entries), ``xyz`` (the X/Y/Z axes); shared by them: ``resize`` (our method in place of one host
resize, with its fallbacks), ``state`` (one job's options, changes and notes), ``patches``
(self-restoring changes); around them: ``host`` (the one compatibility block, the only importer of
``modules.*``), ``job`` (options and their field table), ``model`` (the loaded model's latent
convention), ``settings``, ``ui`` and ``hint``. ``job``, ``model``, ``patches`` and ``state`` import no
host code.
"""

from __future__ import annotations

__all__ = ["register"]


def register() -> None:
    """Everything the script file does at import; safe to run again on Reload UI."""
    from latent_upscale.webui import hires, host, settings, ui, xyz

    added = hires.register_hires_upscalers()
    if added:
        host.log.info(
            "[Latent Upscale] on %s: hires fix upscalers added: %s", host.HOST_NAME, ", ".join(added)
        )
    # load_scripts() clears every callback before re-importing scripts, so these are added once.
    host.script_callbacks.on_ui_settings(settings.register_settings)
    host.script_callbacks.on_before_ui(xyz.register_axes)
    host.script_callbacks.on_after_component(ui.after_component)
    host.script_callbacks.on_script_unloaded(hires.unregister_hires_upscalers)
    host.script_callbacks.on_script_unloaded(ui.forget_components)
