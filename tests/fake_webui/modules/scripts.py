"""Mirrors modules/scripts.py (v1.10.1): the Script base class, the loader and the ScriptRunner.

Reproduced faithfully (the glue depends on each):
- ``load_scripts`` (:487): clears ``scripts_data`` and ALL callbacks, loads ``<root>/scripts/*.py``, every
  extension's top-level ``scripts/*.py`` and ``modules/processing_scripts/*.py`` by path (module name = file
  basename), with the extension root prepended to ``sys.path`` only while its file runs, and registers EVERY
  class in the module namespace that subclasses ``Script`` (so ``from modules.scripts import Script``
  registers the base class too). Errors are reported, not raised.
- ``ScriptRunner`` (:542): alwayson vs selectable (dropdown) scripts, ``args_from``/``args_to`` over the
  inputs list (index 0 = the Script dropdown), ``run`` (:768) slicing the selectable script's args, and every
  processing hook iterating the ALWAYSON scripts only (``list_scripts_for_method`` :786), reporting
  exceptions.
- Flavor differences: ``process_before_every_sampling`` (1.10+/Forge/reForge),
  ``post_sample``/``on_mask_blend`` (1.8+), ``process_before_every_step`` (reForge); 1.6.0 ``run`` has no
  ``None`` check and ``initialize_scripts`` does not catch constructor errors; 1.6.0 loads webui scripts
  before extensions.
Simplified: no metadata.ini dependency sort, no postprocessing scripts, no ``reload_sources``; building the UI
needs real gradio (``setup_ui``) unless the fake-only ``setup_ui_without_gradio`` is used.
"""

import inspect
import os
import re
import sys
from collections import namedtuple

from modules import errors, extensions, paths, script_callbacks, script_loading, shared
from modules.fake_host import FLAVOR

AlwaysVisible = object()


class MaskBlendArgs:
    def __init__(self, current_latent, nmask, init_latent, mask, blended_latent, denoiser=None, sigma=None):
        self.current_latent = current_latent
        self.nmask = nmask
        self.init_latent = init_latent
        self.mask = mask
        self.blended_latent = blended_latent
        self.denoiser = denoiser
        self.is_final_blend = denoiser is None
        self.sigma = sigma


class PostSampleArgs:
    def __init__(self, samples):
        self.samples = samples


class PostprocessImageArgs:
    def __init__(self, image):
        self.image = image


class PostprocessBatchListArgs:
    def __init__(self, images):
        self.images = images


class Script:
    """mirrors scripts.Script (v1.10.1 :52)."""

    name = None
    section = None
    filename = None
    args_from = None
    args_to = None
    alwayson = False
    is_txt2img = False
    is_img2img = False
    tabname = None
    group = None
    create_group = True
    infotext_fields = None
    paste_field_names = None
    api_info = None
    on_before_component_elem_id = None
    on_after_component_elem_id = None
    setup_for_ui_only = False
    controls = None

    def title(self):
        raise NotImplementedError()

    def ui(self, is_img2img):
        pass

    def show(self, is_img2img):
        return True

    def run(self, p, *args):
        pass

    def setup(self, p, *args):
        pass

    def before_process(self, p, *args):
        pass

    def process(self, p, *args):
        pass

    def before_process_batch(self, p, *args, **kwargs):
        pass

    def after_extra_networks_activate(self, p, *args, **kwargs):
        pass

    def process_before_every_sampling(self, p, *args, **kwargs):  # 1.10+ (:190)
        pass

    def process_before_every_step(self, p, *args, **kwargs):  # reForge only (:193)
        pass

    def process_batch(self, p, *args, **kwargs):
        pass

    def postprocess_batch(self, p, *args, **kwargs):
        pass

    def postprocess_batch_list(self, p, pp, *args, **kwargs):
        pass

    def on_mask_blend(self, p, mba, *args):  # 1.8+
        pass

    def post_sample(self, p, ps, *args):  # 1.8+
        pass

    def postprocess_image(self, p, pp, *args):
        pass

    def postprocess(self, p, processed, *args):
        pass

    def before_component(self, component, **kwargs):
        pass

    def after_component(self, component, **kwargs):
        pass

    def on_before_component(self, callback, *, elem_id):
        if self.on_before_component_elem_id is None:
            self.on_before_component_elem_id = []
        self.on_before_component_elem_id.append((elem_id, callback))

    def on_after_component(self, callback, *, elem_id):
        if self.on_after_component_elem_id is None:
            self.on_after_component_elem_id = []
        self.on_after_component_elem_id.append((elem_id, callback))

    def describe(self):
        return ""

    def elem_id(self, item_id):
        """mirrors Script.elem_id (v1.10.1 :334)."""
        need_tabname = self.show(True) == self.show(False)
        tabkind = "img2img" if self.is_img2img else "txt2img"
        tabname = f"{tabkind}_" if need_tabname else ""
        title = re.sub(r"[^a-z_0-9]", "", re.sub(r"\s", "_", self.title().lower()))
        return f"script_{tabname}{title}_{item_id}"

    def before_hr(self, p, *args):  # since 1.5 (:344)
        pass


if not FLAVOR.has_process_before_every_sampling:
    del Script.process_before_every_sampling
if not FLAVOR.has_process_before_every_step:
    del Script.process_before_every_step
if not FLAVOR.has_post_sample:
    del Script.post_sample
    del Script.on_mask_blend


class ScriptBuiltinUI(Script):
    """mirrors scripts.ScriptBuiltinUI (v1.10.1 :351): host built-ins like the Sampler section."""

    setup_for_ui_only = True

    def elem_id(self, item_id):
        need_tabname = self.show(True) == self.show(False)
        tabname = ("img2img" if self.is_img2img else "txt2img") + "_" if need_tabname else ""
        return f"{tabname}{item_id}"

    def show(self, is_img2img):
        return AlwaysVisible


current_basedir = paths.script_path


def basedir():
    """mirrors scripts.basedir (v1.10.1 :369): the extension root while its script file is executing."""
    return current_basedir


ScriptFile = namedtuple("ScriptFile", ["basedir", "filename", "path"])
scripts_data = []
postprocessing_scripts_data = []
ScriptClassData = namedtuple("ScriptClassData", ["script_class", "path", "basedir", "module"])


def list_scripts(scriptdirname, extension, *, include_extensions=True):
    """mirrors list_scripts (v1.10.1 :393) without the metadata.ini dependency sort."""
    scripts_list = []
    root_script_basedir = os.path.join(paths.script_path, scriptdirname)
    if os.path.exists(root_script_basedir):
        for filename in sorted(os.listdir(root_script_basedir)):
            path = os.path.join(root_script_basedir, filename)
            if os.path.isfile(path) and os.path.splitext(filename)[1].lower() == extension:
                scripts_list.append(ScriptFile(paths.script_path, filename, path))

    if include_extensions:
        for ext in extensions.active():
            scripts_list += ext.list_files(scriptdirname, extension)

    return [x for x in scripts_list if os.path.isfile(x.path)]


def load_scripts():
    """mirrors load_scripts (v1.10.1 :487)."""
    global current_basedir, scripts_txt2img, scripts_img2img
    scripts_data.clear()
    postprocessing_scripts_data.clear()
    script_callbacks.clear_callbacks()

    scripts_list = list_scripts("scripts", ".py") + list_scripts(
        "modules/processing_scripts", ".py", include_extensions=False
    )
    if not FLAVOR.at_least(1, 7):
        # scripts.py v1.6.0 :368-378: webui's own scripts (priority 0) sort before extensions (9999)
        def orderby(basedir_):
            return 0 if basedir_ == paths.script_path else 9999

        scripts_list = sorted(scripts_list, key=lambda x: [orderby(x.basedir), x])

    syspath = sys.path

    def register_scripts_from_module(module):
        for script_class in module.__dict__.values():
            if not inspect.isclass(script_class):
                continue
            if issubclass(script_class, Script):
                scripts_data.append(
                    ScriptClassData(script_class, scriptfile.path, scriptfile.basedir, module)
                )

    for scriptfile in scripts_list:
        try:
            if scriptfile.basedir != paths.script_path:
                sys.path = [scriptfile.basedir, *sys.path]
            current_basedir = scriptfile.basedir

            script_module = script_loading.load_module(scriptfile.path)
            register_scripts_from_module(script_module)
        except Exception:
            errors.report(f"Error loading script: {scriptfile.filename}", exc_info=True)
        finally:
            sys.path = syspath
            current_basedir = paths.script_path

    scripts_txt2img = ScriptRunner()
    scripts_img2img = ScriptRunner()


def wrap_call(func, filename, funcname, *args, default=None, **kwargs):
    try:
        return func(*args, **kwargs)
    except Exception:
        errors.report(f"Error calling: {filename}/{funcname}", exc_info=True)
    return default


class FakeComponent:
    """Fake-only stand-in for a gradio component when the UI is laid out without gradio."""

    def __init__(self, value, label="", elem_id=None):
        self.value = value
        self.label = label
        self.elem_id = elem_id

    def __repr__(self):
        return f"FakeComponent({self.label!r}, value={self.value!r})"


class ScriptRunner:
    """mirrors scripts.ScriptRunner (v1.10.1 :542)."""

    def __init__(self):
        self.scripts = []
        self.selectable_scripts = []
        self.alwayson_scripts = []
        self.titles = []
        self.title_map = {}
        self.infotext_fields = []
        self.paste_field_names = []
        self.inputs = [None]
        self.on_before_component_elem_id = {}
        self.on_after_component_elem_id = {}

    def initialize_scripts(self, is_img2img):
        """mirrors initialize_scripts (v1.10.1 :578)."""
        self.scripts.clear()
        self.alwayson_scripts.clear()
        self.selectable_scripts.clear()

        for script_data in scripts_data:
            if FLAVOR.at_least(1, 7):
                try:
                    script = script_data.script_class()
                except Exception:
                    errors.report(
                        f"Error # failed to initialize Script {script_data.module}: ", exc_info=True
                    )
                    continue
            else:
                script = script_data.script_class()  # 1.6.0 :436: a failing constructor breaks the UI build

            script.filename = script_data.path
            script.is_txt2img = not is_img2img
            script.is_img2img = is_img2img
            script.tabname = "img2img" if is_img2img else "txt2img"

            visibility = script.show(script.is_img2img)
            if visibility == AlwaysVisible:
                self.scripts.append(script)
                self.alwayson_scripts.append(script)
                script.alwayson = True
            elif visibility:
                self.scripts.append(script)
                self.selectable_scripts.append(script)

    # --- UI layout ------------------------------------------------------------------------------------------
    def create_script_ui(self, script):
        script.args_from = len(self.inputs)
        script.args_to = len(self.inputs)
        try:
            self.create_script_ui_inner(script)
        except Exception:
            errors.report(f"Error creating UI for {script.name}: ", exc_info=True)

    def create_script_ui_inner(self, script):
        """mirrors create_script_ui_inner (v1.10.1 :644): ``ui()`` output = the script's args."""
        from modules.api import models as api_models

        controls = wrap_call(script.ui, script.filename, "ui", script.is_img2img)
        script.controls = controls
        if controls is None:
            return

        script.name = wrap_call(script.title, script.filename, "title", default=script.filename).lower()
        api_args = []
        for control in controls:
            control.custom_script_source = os.path.basename(script.filename)
            arg_info = api_models.ScriptArg(label=getattr(control, "label", None) or "")
            for field in ("value", "minimum", "maximum", "step"):
                v = getattr(control, field, None)
                if v is not None:
                    setattr(arg_info, field, v)
            choices = getattr(control, "choices", None)
            if choices is not None:
                arg_info.choices = [x[0] if isinstance(x, tuple) else x for x in choices]
            api_args.append(arg_info)

        script.api_info = api_models.ScriptInfo(
            name=script.name, is_img2img=script.is_img2img, is_alwayson=script.alwayson, args=api_args
        )
        if script.infotext_fields is not None:
            self.infotext_fields += script.infotext_fields
        if script.paste_field_names is not None:
            self.paste_field_names += script.paste_field_names

        self.inputs += controls
        script.args_to = len(self.inputs)

    def setup_ui_for_section(self, section, scriptlist=None):
        import gradio as gr

        if scriptlist is None:
            scriptlist = self.alwayson_scripts
        for script in scriptlist:
            if script.alwayson and script.section != section:
                continue
            if script.create_group:
                with gr.Group(visible=script.alwayson) as group:
                    self.create_script_ui(script)
                script.group = group
            else:
                self.create_script_ui(script)

    def prepare_ui(self):
        self.inputs = [None]

    def setup_ui(self):
        """mirrors setup_ui (v1.10.1 :708): alwayson (section None), the Script dropdown, then selectables."""
        import gradio as gr

        all_titles = [wrap_call(s.title, s.filename, "title") or s.filename for s in self.scripts]
        self.title_map = {title.lower(): s for title, s in zip(all_titles, self.scripts, strict=True)}
        self.titles = [
            wrap_call(s.title, s.filename, "title") or f"{s.filename} [error]"
            for s in self.selectable_scripts
        ]

        self.setup_ui_for_section(None)
        dropdown = gr.Dropdown(
            label="Script", elem_id="script_list", choices=["None", *self.titles], value="None", type="index"
        )
        self.inputs[0] = dropdown
        self.setup_ui_for_section(None, self.selectable_scripts)

        self.infotext_fields.append((dropdown, lambda x: gr.update(value=x.get("Script", "None"))))
        return self.inputs

    def setup_ui_without_gradio(self, ui_values, sections=()):
        """Fake-only: the same args layout as ``setup_ui`` without gradio.

        ``ui_values`` maps a script title (or ``"<tab>:<title>"``) to the list of its ``ui()`` values; other
        scripts' ``ui()`` is called (it must then not need gradio). Values become ``FakeComponent``s.
        """
        tab = "img2img" if self.scripts and self.scripts[0].is_img2img else "txt2img"

        def lay_out(script):
            script.args_from = len(self.inputs)
            title = wrap_call(script.title, script.filename, "title") or script.filename
            values = ui_values.get(f"{tab}:{title}", ui_values.get(title))
            if values is None:
                values = getattr(script, "fake_ui_values", None)
            if values is None:
                controls = script.ui(script.is_img2img)
            else:
                controls = [FakeComponent(v, label=f"{title}[{i}]") for i, v in enumerate(values)]
            script.controls = controls
            if controls is not None:
                script.name = title.lower()
                if script.infotext_fields is not None:
                    self.infotext_fields += script.infotext_fields
                if script.paste_field_names is not None:
                    self.paste_field_names += script.paste_field_names
                self.inputs += list(controls)
            script.args_to = len(self.inputs)

        all_titles = [wrap_call(s.title, s.filename, "title") or s.filename for s in self.scripts]
        self.title_map = {title.lower(): s for title, s in zip(all_titles, self.scripts, strict=True)}
        self.titles = [
            wrap_call(s.title, s.filename, "title") or f"{s.filename} [error]"
            for s in self.selectable_scripts
        ]
        for section in [*sections, None]:
            for script in self.alwayson_scripts:
                if script.section == section:
                    lay_out(script)
        self.inputs[0] = FakeComponent("None", label="Script")
        for script in self.selectable_scripts:
            lay_out(script)
        return self.inputs

    # --- running --------------------------------------------------------------------------------------------
    def run(self, p, *args):
        """mirrors ScriptRunner.run (v1.10.1 :768): the selected dropdown script's ``run`` or None."""
        script_index = args[0]
        if script_index == 0 or (FLAVOR.at_least(1, 7) and script_index is None):
            return None
        script = self.selectable_scripts[script_index - 1]
        if script is None:
            return None
        script_args = args[script.args_from : script.args_to]
        processed = script.run(p, *script_args)
        shared.total_tqdm.clear()
        return processed

    def list_scripts_for_method(self, method_name):
        if method_name in ("before_component", "after_component"):
            return self.scripts
        return self.alwayson_scripts

    def ordered_scripts(self, method_name):
        """Registration order (1.9+ sorts by user settings); scripts that do not override it are skipped."""
        return [
            s
            for s in self.list_scripts_for_method(method_name)
            if getattr(s.__class__, method_name, None) != getattr(Script, method_name, None)
        ]

    def _each(self, method_name, p, *pre, **kwargs):
        for script in self.ordered_scripts(method_name):
            try:
                script_args = p.script_args[script.args_from : script.args_to]
                getattr(script, method_name)(p, *pre, *script_args, **kwargs)
            except Exception:
                errors.report(f"Error running {method_name}: {script.filename}", exc_info=True)

    def setup_scrips(self, p, *, is_ui=True):
        for script in self.ordered_scripts("setup"):
            if not is_ui and script.setup_for_ui_only:
                continue
            try:
                script_args = p.script_args[script.args_from : script.args_to]
                script.setup(p, *script_args)
            except Exception:
                errors.report(f"Error running setup: {script.filename}", exc_info=True)

    def before_process(self, p):
        self._each("before_process", p)

    def process(self, p):
        self._each("process", p)

    def before_process_batch(self, p, **kwargs):
        self._each("before_process_batch", p, **kwargs)

    def after_extra_networks_activate(self, p, **kwargs):
        self._each("after_extra_networks_activate", p, **kwargs)

    def process_batch(self, p, **kwargs):
        self._each("process_batch", p, **kwargs)

    def postprocess(self, p, processed):
        self._each("postprocess", p, processed)

    def postprocess_batch(self, p, images, **kwargs):
        self._each("postprocess_batch", p, images=images, **kwargs)

    def postprocess_batch_list(self, p, pp, **kwargs):
        self._each("postprocess_batch_list", p, pp, **kwargs)

    def postprocess_image(self, p, pp):
        self._each("postprocess_image", p, pp)

    def before_hr(self, p):
        self._each("before_hr", p)

    def process_before_every_sampling(self, p, **kwargs):
        self._each("process_before_every_sampling", p, **kwargs)

    def process_before_every_step(self, p, **kwargs):
        self._each("process_before_every_step", p, **kwargs)

    def post_sample(self, p, ps):
        self._each("post_sample", p, ps)

    def on_mask_blend(self, p, mba):
        self._each("on_mask_blend", p, mba)

    def before_component(self, component, **kwargs):
        for script in self.ordered_scripts("before_component"):
            try:
                script.before_component(component, **kwargs)
            except Exception:
                errors.report(f"Error running before_component: {script.filename}", exc_info=True)

    def after_component(self, component, **kwargs):
        for script in self.ordered_scripts("after_component"):
            try:
                script.after_component(component, **kwargs)
            except Exception:
                errors.report(f"Error running after_component: {script.filename}", exc_info=True)

    def script(self, title):
        return self.title_map.get(title.lower())


for _name in ("process_before_every_sampling", "process_before_every_step", "post_sample", "on_mask_blend"):
    if not hasattr(Script, _name):
        delattr(ScriptRunner, _name)

scripts_txt2img = None
scripts_img2img = None
scripts_postproc = None
scripts_current = None

reload_scripts = load_scripts  # compatibility alias (v1.10.1 :1045)
