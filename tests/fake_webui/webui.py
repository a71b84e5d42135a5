"""Mirrors webui.py ``webui()`` (v1.10.1 :45-153): start-up and the "Reload UI" loop, without a server.

``start()``: ``initialize_rest()`` (load_scripts) -> ``before_ui_callback()`` -> ``create_ui()`` ->
``app_started_callback()``. ``reload_ui()`` (a "Reload UI" click): ``app_reload_callback()`` ->
``script_unloaded_callback()`` -> ``initialize_rest(reload_script_modules=True)`` (re-executes every script
file; packages already imported stay in sys.modules) -> the same UI steps again.
"""

from modules import initialize, script_callbacks, shared, ui


def start(*, with_gradio=True, ui_values=None):
    initialize.initialize_rest()
    _create(with_gradio=with_gradio, ui_values=ui_values)


def reload_ui(*, with_gradio=True, ui_values=None):
    script_callbacks.app_reload_callback()
    script_callbacks.script_unloaded_callback()
    initialize.initialize_rest(reload_script_modules=True)
    _create(with_gradio=with_gradio, ui_values=ui_values)


def _create(*, with_gradio, ui_values):
    script_callbacks.before_ui_callback()
    shared.demo = ui.create_ui(with_gradio=with_gradio, ui_values=ui_values)
    script_callbacks.app_started_callback(shared.demo, None)
