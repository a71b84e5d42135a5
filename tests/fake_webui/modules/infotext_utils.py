"""Mirrors modules/infotext_utils.py (1.8+; v1.10.1): infotext parsing and the paste-field registry.

Absent on 1.6/1.7 (their module is generation_parameters_copypaste, which 1.8+ alias to this one, :13).
Reproduced: ``quote``/``unquote``, ``parse_generation_parameters`` (the key/value grammar and the defaults it
fills in), ``PasteField(component, target, api=)`` (a 2-tuple subclass), ``paste_fields``/``add_paste_fields``
and the body of ``connect_paste``'s ``paste_func`` (here ``paste(fields, infotext)``: returns, per component,
the value the UI would set, or None). ``create_override_settings_dict``/``get_override_settings``.
Simplified: no styles extraction, no hypernet/old-hires-fix rewriting, no gradio events.
"""

import json
import re
import sys

from modules import errors, script_callbacks, shared
from modules.fake_host import FLAVOR

if not FLAVOR.has_infotext_utils and __name__ == "modules.infotext_utils":
    raise ModuleNotFoundError("No module named 'modules.infotext_utils'", name="modules.infotext_utils")

if FLAVOR.has_infotext_utils:
    sys.modules["modules.generation_parameters_copypaste"] = sys.modules[__name__]  # alias for old name (:13)

re_param_code = r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)'
re_param = re.compile(re_param_code)
re_imagesize = re.compile(r"^(\d+)x(\d+)$")


class PasteField(tuple):
    def __new__(cls, component, target, *, api=None):
        return super().__new__(cls, (component, target))

    def __init__(self, component, target, *, api=None):
        super().__init__()
        self.api = api
        self.component = component
        self.label = target if isinstance(target, str) else None
        self.function = target if callable(target) else None


if not FLAVOR.has_infotext_utils:
    del PasteField

paste_fields = {}
registered_param_bindings = []


def reset():
    paste_fields.clear()
    registered_param_bindings.clear()


def quote(text):
    if "," not in str(text) and "\n" not in str(text) and ":" not in str(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def unquote(text):
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except Exception:
        return text


def parse_generation_parameters(x: str, skip_fields=None):
    """mirrors parse_generation_parameters (v1.10.1 :234)."""
    if skip_fields is None:
        skip_fields = shared.opts.infotext_skip_pasting

    res = {}
    prompt = ""
    negative_prompt = ""
    done_with_prompt = False

    *lines, lastline = x.strip().split("\n")
    if len(re_param.findall(lastline)) < 3:
        lines.append(lastline)
        lastline = ""

    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative_prompt += ("" if negative_prompt == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line

    for k, v in re_param.findall(lastline):
        try:
            if v[0] == '"' and v[-1] == '"':
                v = unquote(v)
            m = re_imagesize.match(v)
            if m is not None:
                res[f"{k}-1"] = m.group(1)
                res[f"{k}-2"] = m.group(2)
            else:
                res[k] = v
        except Exception:
            print(f'Error parsing "{k}: {v}"')

    res["Prompt"] = prompt
    res["Negative prompt"] = negative_prompt
    if "Clip skip" not in res:
        res["Clip skip"] = "1"
    if "Hires resize-1" not in res:
        res["Hires resize-1"] = 0
        res["Hires resize-2"] = 0
    if "Hires sampler" not in res:
        res["Hires sampler"] = "Use same sampler"
    if FLAVOR.has_schedulers:
        if "Hires schedule type" not in res:
            res["Hires schedule type"] = "Use same scheduler"
        if "Schedule type" not in res:
            res["Schedule type"] = "Automatic"
    if "Hires checkpoint" not in res:
        res["Hires checkpoint"] = "Use same checkpoint"
    if "Hires prompt" not in res:
        res["Hires prompt"] = ""
    if "Hires negative prompt" not in res:
        res["Hires negative prompt"] = ""
    if "RNG" not in res:
        res["RNG"] = "GPU"
    for key in ("Schedule max sigma", "Schedule min sigma", "Schedule rho"):
        if key not in res:
            res[key] = 0
    if "VAE Encoder" not in res:
        res["VAE Encoder"] = "Full"
    if "VAE Decoder" not in res:
        res["VAE Decoder"] = "Full"

    for key in skip_fields:
        res.pop(key, None)

    return res


def add_paste_fields(tabname, init_img, fields, override_settings_component=None):
    """mirrors add_paste_fields (v1.10.1 :102): 1.8+ wraps plain pairs into PasteField."""
    if fields and FLAVOR.has_infotext_utils:
        for i in range(len(fields)):
            if not isinstance(fields[i], PasteField):
                fields[i] = PasteField(*fields[i])
    paste_fields[tabname] = {
        "init_img": init_img,
        "fields": fields,
        "override_settings_component": override_settings_component,
    }


def _is_update(v):
    return isinstance(v, dict) and v.get("__type__") in ("update", "generic_update")


def paste(fields, prompt):
    """Fake-only: the body of connect_paste's ``paste_func`` (v1.10.1 :477-515) without gradio.

    ``fields``: a list of (component, key-or-callable) pairs (e.g. ``paste_fields["img2img"]["fields"]`` or a
    ScriptRunner's ``infotext_fields``). Returns ``[(component, value_or_None), ...]`` where value is what the
    UI would set (a ``gr.update(value=...)`` returned by a callable is unwrapped; ``gr.update()`` means None).
    """
    params = parse_generation_parameters(prompt)
    script_callbacks.infotext_pasted_callback(prompt, params)
    res = []
    for output, key in fields:
        if callable(key):
            try:
                v = key(params)
            except Exception:
                errors.report(f"Error executing {key}", exc_info=True)
                v = None
        else:
            v = params.get(key, None)

        if v is None:
            res.append((output, None))
        elif _is_update(v):
            res.append((output, v.get("value")))
        else:
            try:
                valtype = type(output.value)
                if valtype is bool and v == "False":
                    val = False
                elif valtype is int:
                    val = float(v)
                else:
                    val = valtype(v)
                res.append((output, val))
            except Exception:
                res.append((output, None))
    return res


def create_override_settings_dict(text_pairs):
    res = {}
    params = {}
    for pair in text_pairs or []:
        k, v = pair.split(":", maxsplit=1)
        params[k] = v.strip()
    mapping = [(info.infotext, k) for k, info in shared.opts.data_labels.items() if info.infotext]
    for param_name, setting_name in mapping:
        value = params.get(param_name)
        if value is None:
            continue
        res[setting_name] = shared.opts.cast_value(setting_name, value)
    return res


def get_override_settings(params, *, skip_fields=None):
    res = []
    mapping = [(info.infotext, k) for k, info in shared.opts.data_labels.items() if info.infotext]
    for param_name, setting_name in mapping:
        if param_name in (skip_fields or {}):
            continue
        v = params.get(param_name, None)
        if v is None:
            continue
        v = shared.opts.cast_value(setting_name, v)
        current_value = getattr(shared.opts, setting_name, None)
        if v == current_value:
            continue
        res.append((param_name, setting_name, v))
    return res
