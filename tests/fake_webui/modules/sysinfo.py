"""Mirrors Forge's modules/sysinfo.py ``set_config`` (Forge :218): how Forge applies/restores
override_settings.

Unchanged values are skipped (``if v == shared.opts.data.get(k): continue``), so restoring an unchanged value
does not trip the ``--freeze-settings`` assert the way A1111's ``setattr(opts, k, v)`` does.
"""

from modules import shared


def set_config(req, is_api=False, run_callbacks=True, save_config=True):
    for k, v in req.items():
        if v == shared.opts.data.get(k):
            continue
        shared.opts.set(k, v, is_api=is_api, run_callbacks=run_callbacks)
    if save_config:
        shared.opts.save(shared.config_filename)
