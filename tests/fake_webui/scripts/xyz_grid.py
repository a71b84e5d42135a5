"""Mirrors scripts/xyz_grid.py (v1.10.1; 1.6.0 differences noted): the X/Y/Z plot script and its axis
registry.

Loaded by the fake loader from ``<webui root>/scripts`` like the real one, so its module is named
``"xyz_grid.py"`` and is found the way extensions do it (hypertile_script.py :107)::

    xyz = [x for x in scripts.scripts_data if x.script_class.__module__ == "xyz_grid.py"][0].module

Reproduced: ``AxisOption(label, type, apply, format_value=, confirm=, cost=, choices=, prepare=)`` (no
``prepare`` on 1.6), ``AxisOptionImg2Img``/``AxisOptionTxt2Img`` (``is_img2img``), ``apply_field``,
``apply_override``, ``boolean_choice``, ``confirm_range``, the built-in ``axis_options`` list (subset, real
labels and order at the start) and the ``Script`` whose ``ui()`` filters the axes for its tab (:420) and whose
``run`` applies the chosen axis to a copy of ``p`` per value and calls ``process_images``. Simplified: one
axis (X) instead of three, no grid image (``Processed.images`` = the cells); the fake ``ui()`` returns
(x_type, x_values, x_values_dropdown) and needs real gradio.
"""

import csv
from copy import copy
from io import StringIO
from itertools import chain

import modules.scripts as scripts
import modules.shared as shared
from modules import processing, sd_samplers
from modules.fake_host import FLAVOR
from modules.processing import Processed, process_images


def apply_field(field):
    def fun(p, x, xs):
        setattr(p, field, x)

    return fun


def confirm_samplers(p, xs):
    for x in xs:
        if x.lower() not in sd_samplers.samplers_map:
            raise RuntimeError(f"Unknown sampler: {x}")


def confirm_range(min_val, max_val, axis_label):
    """Generates a AxisOption.confirm() function that checks all values are within the specified range."""

    def confirm_range_fun(p, xs):
        for x in xs:
            if not (max_val >= x >= min_val):
                raise ValueError(f'{axis_label} value "{x}" out of range [{min_val}, {max_val}]')

    return confirm_range_fun


def apply_override(field, boolean: bool = False):
    def fun(p, x, xs):
        if boolean:
            x = True if x.lower() == "true" else False  # noqa: SIM210 (mirrors the real line)
        p.override_settings[field] = x

    return fun


def boolean_choice(reverse: bool = False):
    def choice():
        return ["False", "True"] if reverse else ["True", "False"]

    return choice


def format_value_add_label(p, opt, x):
    if type(x) is float:
        x = round(x, 8)
    return f"{opt.label}: {x}"


def format_value(p, opt, x):
    if type(x) is float:
        x = round(x, 8)
    return x


def do_nothing(p, x, xs):
    pass


def format_nothing(p, opt, x):
    return ""


def csv_string_to_list_strip(data_str):
    return list(map(str.strip, chain.from_iterable(csv.reader(StringIO(data_str), skipinitialspace=True))))


if FLAVOR.xyz_has_prepare:

    class AxisOption:
        def __init__(
            self,
            label,
            type,
            apply,
            format_value=format_value_add_label,
            confirm=None,
            cost=0.0,
            choices=None,
            prepare=None,
        ):
            self.label = label
            self.type = type
            self.apply = apply
            self.format_value = format_value
            self.confirm = confirm
            self.cost = cost
            self.prepare = prepare
            self.choices = choices

else:

    class AxisOption:  # scripts/xyz_grid.py v1.6.0 :207: no `prepare`
        def __init__(
            self,
            label,
            type,
            apply,
            format_value=format_value_add_label,
            confirm=None,
            cost=0.0,
            choices=None,
        ):
            self.label = label
            self.type = type
            self.apply = apply
            self.format_value = format_value
            self.confirm = confirm
            self.cost = cost
            self.choices = choices


class AxisOptionImg2Img(AxisOption):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_img2img = True


class AxisOptionTxt2Img(AxisOption):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_img2img = False


axis_options = [
    AxisOption("Nothing", str, do_nothing, format_value=format_nothing),
    AxisOption("Seed", int, apply_field("seed")),
    AxisOption("Var. seed", int, apply_field("subseed")),
    AxisOption("Var. strength", float, apply_field("subseed_strength")),
    AxisOption("Steps", int, apply_field("steps")),
    AxisOptionTxt2Img("Hires steps", int, apply_field("hr_second_pass_steps")),
    AxisOption("CFG Scale", float, apply_field("cfg_scale")),
    AxisOptionTxt2Img(
        "Sampler",
        str,
        apply_field("sampler_name"),
        format_value=format_value,
        confirm=confirm_samplers,
        choices=lambda: [x.name for x in sd_samplers.samplers],
    ),
    AxisOptionImg2Img(
        "Sampler",
        str,
        apply_field("sampler_name"),
        format_value=format_value,
        confirm=confirm_samplers,
        choices=lambda: [x.name for x in sd_samplers.samplers_for_img2img],
    ),
    AxisOption("Denoising", float, apply_field("denoising_strength")),
    AxisOptionTxt2Img(
        "Hires upscaler",
        str,
        apply_field("hr_upscaler"),
        choices=lambda: [*shared.latent_upscale_modes, *[x.name for x in shared.sd_upscalers]],
    ),
    AxisOption(
        "Always discard next-to-last sigma",
        str,
        apply_override("always_discard_next_to_last_sigma", boolean=True),
        choices=boolean_choice(reverse=True),
    ),
]
if FLAVOR.has_schedulers:
    from modules import sd_schedulers

    axis_options.insert(
        9,
        AxisOption(
            "Schedule type",
            str,
            apply_field("scheduler"),
            choices=lambda: [x.label for x in sd_schedulers.schedulers],
        ),
    )


class Script(scripts.Script):
    fake_ui_values = (
        1,
        "",
        [],
    )  # fake-only: (x_type, x_values, x_values_dropdown) when laid out without gradio

    def title(self):
        return "X/Y/Z plot"

    def filter_axis_options(self, is_img2img):
        """mirrors ui() :420: the tab's axes, frozen when the UI is built (dropdowns use type="index")."""
        self.current_axis_options = [
            x for x in axis_options if type(x) is AxisOption or x.is_img2img == is_img2img
        ]

    def ui(self, is_img2img):
        import gradio as gr

        self.filter_axis_options(is_img2img)
        x_type = gr.Dropdown(
            label="X type",
            choices=[x.label for x in self.current_axis_options],
            value=self.current_axis_options[1].label,
            type="index",
            elem_id=self.elem_id("x_type"),
        )
        x_values = gr.Textbox(label="X values", lines=1, elem_id=self.elem_id("x_values"))
        x_values_dropdown = gr.Dropdown(
            label="X values", multiselect=True, elem_id=self.elem_id("x_values_dropdown")
        )
        return [x_type, x_values, x_values_dropdown]

    def run(self, p, x_type, x_values, x_values_dropdown, csv_mode=False):
        if getattr(self, "current_axis_options", None) is None:
            self.filter_axis_options(self.is_img2img)
        opt = self.current_axis_options[x_type or 0]
        return run_axis(p, opt, x_values, x_values_dropdown, csv_mode=csv_mode, title=self.title())


def run_axis(p, opt, vals, vals_dropdown=None, *, csv_mode=True, title="X/Y/Z plot"):
    """The real run()'s per-axis path (:549-616), one axis: parse, confirm, apply to a copy of p, process."""
    processing.fix_seed(p)
    if opt.choices is not None and not csv_mode:
        valslist = list(vals_dropdown or [])
    elif getattr(opt, "prepare", None) is not None:
        valslist = opt.prepare(vals)
    else:
        valslist = csv_string_to_list_strip(vals)
    if opt.type is int:
        valslist = [int(x) for x in valslist]
    elif opt.type is float:
        valslist = [float(x) for x in valslist]
    if opt.confirm:
        opt.confirm(p, valslist)

    results = []
    for x in valslist:
        pc = copy(p)  # shallow (:711): every cell shares p's extra_generation_params while it runs
        pc.override_settings = dict(p.override_settings)
        opt.apply(pc, x, valslist)
        results.append(process_images(pc))
        pc.extra_generation_params = copy(pc.extra_generation_params)  # only after it ran (:737)
        pc.extra_generation_params["Script"] = title
    images_ = [img for r in results for img in r.images]
    infotexts = [t for r in results for t in r.infotexts]
    res = Processed(p, images_, p.seed, infotexts[0] if infotexts else "", infotexts=infotexts)
    res.fake_cells = results
    return res
