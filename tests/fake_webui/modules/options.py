"""Mirrors modules/options.py (v1.10.1): ``OptionInfo``, ``options_section`` and the ``Options`` object.

The attribute protocol is reproduced exactly, because extensions depend on it:
- ``opts.<key>`` reads ``data`` first, then the registered default, else raises AttributeError
  (``Options.__getattr__`` :131);
- ``opts.<key> = v`` asserts under ``--freeze-settings`` (``__setattr__`` :98; the assert, not a
  RuntimeError);
- ``opts.set`` returns early when the value is unchanged and only catches RuntimeError (:144-171).
Simplified: no ``dumpjson``/``reorder``; ``load``/``save`` keep the real JSON semantics.
"""

import json

from modules import errors
from modules.fake_host import FLAVOR
from modules.shared_cmd_options import cmd_opts


class OptionInfo:
    """mirrors options.py OptionInfo (v1.10.1 :13); ``category_id`` exists from 1.7."""

    def __init__(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        comment_before="",
        comment_after="",
        infotext=None,
        restrict_api=False,
        category_id=None,
    ):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.category_id = category_id
        self.refresh = refresh
        self.do_not_save = False
        self.comment_before = comment_before
        self.comment_after = comment_after
        self.infotext = infotext
        self.restrict_api = restrict_api

    def link(self, label, url):
        self.comment_before += f"[<a href='{url}' target='_blank'>{label}</a>]"
        return self

    def js(self, label, js_func):
        self.comment_before += f"[<a onclick='{js_func}(); return false'>{label}</a>]"
        return self

    def info(self, info):
        self.comment_after += f"<span class='info'>({info})</span>"
        return self

    def html(self, html):
        self.comment_after += html
        return self

    def needs_restart(self):
        self.comment_after += " <span class='info'>(requires restart)</span>"
        return self

    def needs_reload_ui(self):
        self.comment_after += " <span class='info'>(requires Reload UI)</span>"
        return self


if not FLAVOR.has_category_id:
    # 1.6.0 OptionInfo has no category_id parameter (options.py v1.6.0 :13)
    _init_with_category = OptionInfo.__init__

    def _init_16(
        self,
        default=None,
        label="",
        component=None,
        component_args=None,
        onchange=None,
        section=None,
        refresh=None,
        comment_before="",
        comment_after="",
        infotext=None,
        restrict_api=False,
    ):
        _init_with_category(
            self,
            default,
            label,
            component,
            component_args,
            onchange,
            section,
            refresh,
            comment_before,
            comment_after,
            infotext,
            restrict_api,
        )
        del self.category_id

    OptionInfo.__init__ = _init_16


class OptionHTML(OptionInfo):
    def __init__(self, text):
        super().__init__(str(text).strip(), label="")
        self.do_not_save = True


def options_section(section_identifier, options_dict):
    """mirrors options.py options_section (v1.10.1 :68); 3-tuples carry a category id from 1.7."""
    for v in options_dict.values():
        if len(section_identifier) == 2:
            v.section = section_identifier
        elif len(section_identifier) == 3 and FLAVOR.has_category_id:
            v.section = section_identifier[0:2]
            v.category_id = section_identifier[2]
        else:
            v.section = section_identifier
    return options_dict


options_builtin_fields = {"data_labels", "data", "restricted_opts", "typemap"}


class Options:
    """mirrors options.py Options (v1.10.1 :82)."""

    typemap = {int: float}  # noqa: RUF012

    def __init__(self, data_labels, restricted_opts):
        self.data_labels = data_labels
        self.data = {k: v.default for k, v in self.data_labels.items() if not v.do_not_save}
        self.restricted_opts = restricted_opts

    def __setattr__(self, key, value):
        # mirrors Options.__setattr__ (v1.10.1 :90-129)
        if key in options_builtin_fields:
            return super().__setattr__(key, value)

        if self.data is not None and (key in self.data or key in self.data_labels):
            assert not cmd_opts.freeze_settings, "changing settings is disabled"

            info = self.data_labels.get(key, None)
            if info.do_not_save:
                return None

            comp_args = info.component_args if info else None
            if isinstance(comp_args, dict) and comp_args.get("visible", True) is False:
                raise RuntimeError(f"not possible to set '{key}' because it is restricted")

            if getattr(cmd_opts, "freeze_settings_in_sections", None) is not None:
                frozen_sections = list(map(str.strip, cmd_opts.freeze_settings_in_sections.split(",")))
                section_key = info.section[0]
                section_name = info.section[1]
                assert section_key not in frozen_sections, (
                    f"not possible to set '{key}' because settings in section '{section_name}' "
                    f"({section_key}) are frozen with --freeze-settings-in-sections"
                )

            if getattr(cmd_opts, "freeze_specific_settings", None) is not None:
                frozen_keys = list(map(str.strip, cmd_opts.freeze_specific_settings.split(",")))
                assert key not in frozen_keys, (
                    f"not possible to set '{key}' because this setting is frozen with "
                    "--freeze-specific-settings"
                )

            if cmd_opts.hide_ui_dir_config and key in self.restricted_opts:
                raise RuntimeError(
                    f"not possible to set '{key}' because it is restricted with --hide_ui_dir_config"
                )

            self.data[key] = value
            return None

        return super().__setattr__(key, value)

    def __getattr__(self, item):
        # mirrors Options.__getattr__ (v1.10.1 :131-142): unknown keys raise AttributeError
        if item in options_builtin_fields:
            return super().__getattribute__(item)

        if self.data is not None and item in self.data:
            return self.data[item]

        if item in self.data_labels:
            return self.data_labels[item].default

        return super().__getattribute__(item)

    def set(self, key, value, is_api=False, run_callbacks=True):
        """mirrors Options.set (v1.10.1 :144): True if the option changed."""
        oldval = self.data.get(key, None)
        if oldval == value:
            return False

        option = self.data_labels[key]
        if option.do_not_save:
            return False

        if is_api and option.restrict_api:
            return False

        try:
            setattr(self, key, value)
        except RuntimeError:
            return False

        if run_callbacks and option.onchange is not None:
            try:
                option.onchange()
            except Exception as e:
                errors.display(e, f"changing setting {key} to {value}")
                setattr(self, key, oldval)
                return False

        return True

    def get_default(self, key):
        data_label = self.data_labels.get(key)
        if data_label is None:
            return None
        return data_label.default

    def save(self, filename):
        assert not cmd_opts.freeze_settings, "saving settings is disabled"
        with open(filename, "w", encoding="utf8") as file:
            json.dump(self.data, file, indent=4, ensure_ascii=False)

    def same_type(self, x, y):
        if x is None or y is None:
            return True
        type_x = self.typemap.get(type(x), type(x))
        type_y = self.typemap.get(type(y), type(y))
        return type_x == type_y

    def load(self, filename):
        """mirrors Options.load (v1.10.1 :197).

        1.8+: a missing config.json leaves ``data`` EMPTY (fresh install), so only keys written later are in
        it. 1.6/1.7: the FileNotFoundError reaches shared_init.initialize, which ignores it: ``data`` keeps
        every default (options.py v1.6.0 :148).
        """
        try:
            with open(filename, encoding="utf8") as file:
                self.data = json.load(file)
        except FileNotFoundError:
            if not FLAVOR.at_least(1, 8):
                raise
            self.data = {}

    def onchange(self, key, func, call=True):
        item = self.data_labels.get(key)
        item.onchange = func
        if call:
            func()

    def add_option(self, key, info):
        """mirrors Options.add_option (v1.10.1 :256): the default enters ``data`` unless already there."""
        self.data_labels[key] = info
        if key not in self.data and not info.do_not_save:
            self.data[key] = info.default

    def cast_value(self, key, value):
        if value is None:
            return None
        default_value = self.data_labels[key].default
        if default_value is None:
            default_value = getattr(self, key, None)
        if default_value is None:
            return None
        expected_type = type(default_value)
        if expected_type is bool and value == "False":
            return False
        return expected_type(value)


class OptionsCategory:
    def __init__(self, id, label):
        self.id = id
        self.label = label


class OptionsCategories:
    def __init__(self):
        self.mapping = {}

    def register_category(self, category_id, label):
        if category_id in self.mapping:
            return category_id
        self.mapping[category_id] = OptionsCategory(category_id, label)
        return category_id


categories = OptionsCategories()

if FLAVOR.has_category_id:  # options.py 1.7+ / shared_options.py categories.register_category
    for _cid, _label in (
        ("saving", "Saving images"),
        ("sd", "Stable Diffusion"),
        ("ui", "User Interface"),
        ("system", "System"),
        ("postprocessing", "Postprocessing"),
        ("training", "Training"),
    ):
        categories.register_category(_cid, _label)
