"""Fake-host internals: which host is emulated, and what the fake sampler ran.

NOT a real WebUI module (the real tree has nothing by this name). Every other module of this fake tree reads
the flavor from here, so one ``FAKE_WEBUI_FLAVOR`` environment variable, read once at import, switches the
whole tree between A1111 v1.6.0, A1111 v1.10.1, Forge, Forge Neo and reForge. The test fixture
(``tests/helpers/webui.py``) sets it before importing a fresh copy of the tree and removes the tree from
``sys.modules`` afterwards.
"""

from __future__ import annotations

import os
from typing import Any

FLAVORS = ("1.6.0", "1.10.1", "forge", "forge-neo", "reforge")
MODEL_KINDS = ("sd1", "sd2", "sdxl", "sd3", "flux")


class Flavor:
    """The emulated host and the behaviour switches that differ between the real hosts (read-only)."""

    __slots__ = ("family", "name", "version")

    def __init__(self, name: str, family: str, version: tuple[int, int, int]) -> None:
        # family: "a1111" | "forge" | "reforge"; version: the A1111 release it tracks (Forge/reForge: 1.10).
        # Forge Neo (Haoming02/sd-webui-forge-classic, neo branch) is family "forge": it keeps Forge's
        # backend/ engine objects and processing.py; `is_neo` names the places where its code differs.
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "version", version)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Flavor is read-only")

    def __repr__(self) -> str:
        return f"Flavor({self.name!r}, family={self.family!r}, version={self.version!r})"

    def at_least(self, *version: int) -> bool:
        return self.version >= tuple(version)

    @property
    def is_a1111(self) -> bool:
        return self.family == "a1111"

    @property
    def is_forge(self) -> bool:
        return self.family == "forge"

    @property
    def is_reforge(self) -> bool:
        return self.family == "reforge"

    @property
    def is_neo(self) -> bool:  # Forge Neo: a "forge" family member with its own sampler glue
        return self.name == "forge-neo"

    # --- switches (each names the real place that differs) ---
    @property
    def has_schedulers(self) -> bool:  # modules/sd_schedulers.py exists from 1.9.0
        return self.at_least(1, 9)

    @property
    def scheduler_device_is_cpu(
        self,
    ) -> bool:  # kd get_sigmas: devices.cpu (1.10/Forge), shared.device (1.9/reForge/Neo)
        return (self.is_forge and not self.is_neo) or (self.is_a1111 and self.at_least(1, 10))

    @property
    def kdiffusion_uses_compvis_denoiser(
        self,
    ) -> bool:  # CFGDenoiserKDiffusion.inner_model: Forge ForgeScheduleLinker, Neo CompVisDenoiser
        return not self.is_forge or self.is_neo

    @property
    def sigmas_cpu(
        self,
    ) -> bool:  # kd get_sigmas `return sigmas.cpu()` (1.10.1 :132, Forge :134, reForge :192)
        return self.at_least(1, 10)

    @property
    def sigmas_to_x_device(
        self,
    ) -> bool:  # Forge :142 / reForge :203 `self.get_sigmas(p, steps).to(x.device)`
        return not self.is_a1111

    @property
    def has_process_before_every_sampling(self) -> bool:  # scripts.py 1.10.1 :190
        return self.at_least(1, 10)

    @property
    def has_process_before_every_step(self) -> bool:  # reForge scripts.py :193
        return self.is_reforge

    @property
    def has_post_sample(self) -> bool:  # scripts.py 1.8.0 :242 (post_sample, on_mask_blend)
        return self.at_least(1, 8)

    @property
    def callbacks_take_name(self) -> bool:  # script_callbacks.py on_*(callback, *, name=None) from 1.9.0
        return self.at_least(1, 9)

    @property
    def has_infotext_utils(self) -> bool:  # modules/infotext_utils.py (PasteField) from 1.8.0
        return self.at_least(1, 8)

    @property
    def has_category_id(self) -> bool:  # options.py OptionInfo(category_id=...) from 1.7.0
        return self.at_least(1, 7)

    @property
    def has_stopping_generation(self) -> bool:  # shared_state.py State.stopping_generation from 1.8.0
        return self.at_least(1, 8)

    @property
    def has_hf_endpoint(self) -> bool:  # shared.py :94 hf_endpoint from 1.9.0
        return self.at_least(1, 9)

    @property
    def has_models_dir(self) -> bool:  # paths_internal.py --models-dir from 1.10.0
        return self.at_least(1, 10)

    @property
    def safe_patches_torch_load(self) -> bool:  # safe.py :195 `torch.load = load` (A1111 only)
        return self.is_a1111

    @property
    def is_installed_uses_metadata(self) -> bool:  # launch_utils.is_installed: 1.6 find_spec only
        return self.at_least(1, 7)

    @property
    def fixes_sampler_and_scheduler(
        self,
    ) -> bool:  # processing.py 1.10.1 :844 fix_p_invalid_sampler_and_scheduler
        return self.at_least(1, 10)

    @property
    def stored_opts_only_known_keys(self) -> bool:  # processing.py 1.6.0 :712 uses opts.data[k] (KeyError)
        return self.at_least(1, 7)

    @property
    def resizes_mask_for_overlay(self) -> bool:  # processing.py 1.10.1 :1683 (added in 1.9.1-1.9.3)
        return self.at_least(1, 9, 3)

    @property
    def xyz_has_prepare(self) -> bool:  # scripts/xyz_grid.py AxisOption(prepare=...) from 1.7.0
        return self.at_least(1, 7)

    @property
    def infotext_schedule_type(self) -> bool:  # processing.py 1.10.1 :773 "Schedule type": p.scheduler (1.9+)
        return self.at_least(1, 9)

    @property
    def infotext_resolves_callables(self) -> bool:  # processing.py 1.10.1 :803-808 (1.9+)
        return self.at_least(1, 9)

    @property
    def denoising_in_extra_params(self) -> bool:  # processing.py 1.8.0 :738 reads extra_generation_params
        return self.at_least(1, 8)

    @property
    def has_builtin_sampler_script(self) -> bool:  # modules/processing_scripts/sampler.py from 1.9.0
        return self.at_least(1, 9)


_FLAVOR_TABLE = {
    "1.6.0": Flavor("1.6.0", "a1111", (1, 6, 0)),
    "1.10.1": Flavor("1.10.1", "a1111", (1, 10, 1)),
    "forge": Flavor("forge", "forge", (1, 10, 1)),
    "forge-neo": Flavor("forge-neo", "forge", (1, 10, 1)),
    "reforge": Flavor("reforge", "reforge", (1, 10, 1)),
}


def _read_flavor() -> Flavor:
    name = os.environ.get("FAKE_WEBUI_FLAVOR", "1.10.1")
    if name not in _FLAVOR_TABLE:
        raise ValueError(f"unknown fake WebUI flavor {name!r}; expected one of {', '.join(FLAVORS)}")
    return _FLAVOR_TABLE[name]


FLAVOR = _read_flavor()
MODEL_KIND = os.environ.get("FAKE_WEBUI_MODEL", "sd1")


class SamplingRun:
    """One call of a fake sampler's ``sample``/``sample_img2img``: what really ran.

    - kind: "kdiffusion" | "timesteps"
    - sampler_name; is_hr_pass
    - is_img2img: sample_img2img (img2img job or hires pass) vs sample (txt2img first pass)
    - steps, t_enc: what setup_img2img_steps returned (img2img); steps only for txt2img
    - requested_steps: the explicit ``steps=`` argument (None when not passed)
    - sigmas: the full schedule from get_sigmas (timestep samplers: their timesteps)
    - schedule: the part walked (img2img: ``sigmas[steps - t_enc - 1:]``)
    - override_used: ``p.sampler_noise_scheduler_override`` was called
    - x: the latent the run started from (init latent, upscaled latent, or the unit noise for txt2img)
    - noise; result; interrupted
    - launch_steps: the count passed to launch_sampling (what the progress bar shows)
    - model_evaluations: how many times the fake denoiser ran
    - sigmas_device: device of get_sigmas' result; x_device
    """

    def __init__(self, **fields: Any) -> None:
        self.kind = self.sampler_name = None
        self.is_img2img = self.is_hr_pass = self.override_used = self.interrupted = False
        self.steps = self.launch_steps = self.model_evaluations = 0
        self.t_enc = self.requested_steps = self.sigmas = self.schedule = self.x = self.noise = None
        self.result = self.sigmas_device = self.x_device = None
        for key, value in fields.items():
            if not hasattr(self, key):
                raise TypeError(f"SamplingRun has no field {key!r}")
            setattr(self, key, value)

    def __repr__(self) -> str:
        return (
            f"SamplingRun({self.kind}, {self.sampler_name!r}, hr={self.is_hr_pass}, steps={self.steps}, "
            f"t_enc={self.t_enc}, launch_steps={self.launch_steps}, override_used={self.override_used}, "
            f"interrupted={self.interrupted})"
        )


class Recorder:
    """What the fake host did during a test (a fresh one per fresh host)."""

    def __init__(self) -> None:
        self.runs: list[SamplingRun] = []
        self.step_hooks: list[Any] = []  # fn(step, sigma, x, run), called on every denoising step
        self.decoded: list[Any] = []  # latents passed to the fake VAE decoder
        self.encoded: list[Any] = []  # image tensors passed to the fake VAE encoder
        self.pip_calls: list[tuple[str, str | None]] = []


RECORD = Recorder()
