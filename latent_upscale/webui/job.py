"""What one img2img job asked of us, and the one field table that the UI, the HTTP API's
``script_args``, the infotext, paste-back and the XYZ axes are all built from.

Host-free: no ``modules.*`` and no gradio here, so the table is tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from latent_upscale.api import DEFAULT_METHOD
from latent_upscale.errors import LatentUpscaleError, shown
from latent_upscale.resize_methods import get_method, registered_methods
from latent_upscale.schedules import (
    AUTOMATIC,
    check_schedule_params,
    get_schedule,
    registered_schedules,
)
from latent_upscale.webui.guide import SCALE_RANGE, SCALE_STEP, param_meta

__all__ = [
    "INFOTEXT_FALLBACK",
    "INFOTEXT_METHOD",
    "INFOTEXT_NOTE",
    "INFOTEXT_SCALE",
    "INFOTEXT_SCHEDULE",
    "INFOTEXT_STEPS_FIXED",
    "INFOTEXT_WEIGHTS",
    "POSITIONAL_ORDER",
    "JobOptions",
    "ScriptField",
    "method_id",
    "schedule_id",
    "script_fields",
]

INFOTEXT_METHOD = "Latent upscale method"
INFOTEXT_SCHEDULE = "Latent upscale schedule"
INFOTEXT_STEPS_FIXED = "Latent upscale steps fixed"
INFOTEXT_WEIGHTS = "Latent upscale weights"
INFOTEXT_FALLBACK = "Latent upscale fallback"
INFOTEXT_NOTE = "Latent upscale note"
INFOTEXT_SCALE = "Latent upscale by"


def _param_infotext_key(param: str) -> str:
    return f"Latent upscale {param}"


@dataclass(frozen=True)
class ScriptField:
    """One input of the img2img script: one UI component and one positional ``script_args`` entry."""

    name: str
    label: str
    kind: str  # "dropdown" | "checkbox" | "slider"
    default: object
    infotext_key: str
    choices: tuple[str, ...] = ()
    #: A slider's range: for schedule parameters, where the track is usable (``ParamSpec.slider_minimum``
    #: to ``slider_maximum``); the API and paste-back accept the whole range (``check_schedule_params``).
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 0.01
    #: For schedule parameters: the schedule that shows this input, and the parameter's own name.
    schedule: str | None = None
    param: str | None = None


def _by_id_or_label(value: object, kind: str, entries: Sequence[tuple[str, str]]) -> str:
    for entry_id, label in entries:
        if value in (entry_id, label):
            return entry_id
    if isinstance(value, str):
        lowered = value.strip().lower()
        for entry_id, label in entries:
            if lowered in (entry_id.lower(), label.lower()):
                return entry_id
    known = ", ".join(entry_id for entry_id, _ in entries)
    raise LatentUpscaleError(f"unknown {kind} {shown(value)}; expected one of: {known} (or their labels)")


def method_id(value: object) -> str:
    """A method id from an id or a UI label (the UI shows labels: gradio 3.41 has no value/label pairs)."""
    return _by_id_or_label(value, "upscale method", [(m.id, m.label) for m in registered_methods()])


def schedule_id(value: object) -> str:
    """A schedule id from an id or a UI label."""
    return _by_id_or_label(value, "schedule", [(s.id, s.label) for s in registered_schedules()])


#: The positional ``script_args`` of the HTTP API, index by index (a schedule parameter is
#: ``<schedule id>_<parameter name>``). Append-only: an index keeps its meaning forever, so a new input
#: (a new schedule's parameter included) is added at the end, and an input is never removed (its slot
#: stays, ignored). A registered parameter missing here still gets a slot, after the last listed one,
#: in registry order: "Upscale by" never moves. Names (one dict of named values) are the stable form.
POSITIONAL_ORDER: tuple[str, ...] = (
    "method",  # 0
    "schedule",  # 1
    "exact_steps",  # 2
    "karras_rho",  # 3
    "polyexponential_rho",  # 4
    "beta_alpha",  # 5
    "beta_beta",  # 6
    "linear_quadratic_threshold_noise",  # 7
    "scale",  # 8: "Upscale by", added after the schedule parameters above
)


@cache
def script_fields() -> tuple[ScriptField, ...]:
    """The script's inputs in ``script_args`` order (:data:`POSITIONAL_ORDER`, then any registered
    input it does not list yet); ``ui()`` returns its components in this order."""
    fields = {f.name: f for f in _all_fields()}
    missing = [name for name in POSITIONAL_ORDER if name not in fields]
    if missing:  # removing an input would shift every later index: keep it registered instead
        raise RuntimeError(f"positional script_args {missing} are no longer registered; keep their slots")
    listed = [fields[name] for name in POSITIONAL_ORDER]
    return tuple(listed + [f for name, f in fields.items() if name not in POSITIONAL_ORDER])


def _all_fields() -> list[ScriptField]:
    """Every input of the script: the three choices, each schedule parameter, "Upscale by"."""
    fields = [
        ScriptField(
            "method",
            "Upscale method",
            "dropdown",
            get_method(DEFAULT_METHOD).label,
            INFOTEXT_METHOD,
            choices=tuple(m.label for m in registered_methods()),
        ),
        ScriptField(
            "schedule",
            "Noise schedule",
            "dropdown",
            get_schedule(AUTOMATIC).label,
            INFOTEXT_SCHEDULE,
            choices=tuple(s.label for s in registered_schedules()),
        ),
        ScriptField("exact_steps", "Exact step count", "checkbox", True, INFOTEXT_STEPS_FIXED),
    ]
    for schedule in registered_schedules():
        for spec in schedule.params:
            meta = param_meta(schedule.id, spec.name)
            fields.append(
                ScriptField(
                    f"{schedule.id}_{spec.name}",
                    f"{meta.label} ({schedule.label})",
                    "slider",
                    meta.default,
                    _param_infotext_key(spec.name),
                    minimum=meta.minimum,
                    maximum=meta.maximum,
                    step=meta.step,
                    schedule=schedule.id,
                    param=spec.name,
                )
            )
    fields.append(
        ScriptField(
            "scale",
            "Upscale by",
            "slider",
            1.0,
            INFOTEXT_SCALE,
            minimum=SCALE_RANGE[0],
            maximum=SCALE_RANGE[1],
            step=SCALE_STEP,
        )
    )
    return fields


@dataclass(frozen=True)
class JobOptions:
    """An img2img job's choices, by id; ``schedule_params`` holds only the chosen schedule's values.

    ``scale``: "Upscale by"; 0 or 1 keeps the job's Width/Height, anything else sizes the job as the
    source image times ``scale`` (:func:`scaled_size`).
    """

    method: str = DEFAULT_METHOD
    schedule: str = AUTOMATIC
    exact_steps: bool = True
    schedule_params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", method_id(self.method))
        object.__setattr__(self, "schedule", schedule_id(self.schedule))
        # The schedules package's one check (also the CLI's): the whole accepted range, not the sliders'.
        values = check_schedule_params(self.schedule, self.schedule_params, fill_defaults=False)
        object.__setattr__(self, "schedule_params", MappingProxyType(values))
        scale = _as_float(self.scale, "Upscale by")
        if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            raise LatentUpscaleError(
                f"Upscale by must lie in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}] "
                f"(0 or 1: use Width/Height), got {scale:g}"
            )
        object.__setattr__(self, "scale", scale)

    @property
    def uses_scale(self) -> bool:
        """True when "Upscale by" sizes the job (any value but 0 and 1)."""
        return self.scale not in (0.0, 1.0)

    @classmethod
    def from_script_args(cls, args: Sequence[object], defaults: JobOptions | None = None) -> JobOptions:
        """Parse ``run(p, *args)`` (UI or HTTP API). Missing trailing args and nulls take ``defaults``.

        The HTTP API may also send one dict of named values (:meth:`from_named`) as the first entry and
        nulls: values after it are refused, not ignored. (The glue first cuts our slice to what the
        client sent: a short HTTP list shifts the next scripts' values into it.)
        """
        if args and isinstance(args[0], Mapping):
            extra = [value for value in args[1:] if value is not None]
            if extra:
                raise LatentUpscaleError(
                    f"Latent Upscale takes named values as one dict and nothing after it, got "
                    f"{len(args) - 1} more value(s) ({shown(extra[0])} first); put every value in the dict"
                )
            return cls.from_named(args[0], defaults)
        fields = script_fields()
        if len(args) > len(fields):
            raise LatentUpscaleError(
                f"Latent Upscale takes {len(fields)} script_args "
                f"({', '.join(f.name for f in fields)}), got {len(args)}"
            )
        given = dict(zip((f.name for f in fields), args, strict=False))
        return cls._from_given(given, defaults or cls())

    @classmethod
    def from_named(cls, values: Mapping[str, object], defaults: JobOptions | None = None) -> JobOptions:
        """Parse ``script_args: [{"method": "lanczos", "schedule": "karras", "scale": 1.5}]``.

        Names are the ``script_args`` names (:func:`script_fields`); unknown names, and a parameter of a
        schedule other than the chosen one, are refused with what is accepted. Nulls take ``defaults``.
        """
        fields = {f.name: f for f in script_fields()}
        unknown = [name for name in values if name not in fields]
        if unknown:
            names = ", ".join(map(shown, unknown[:5]))
            names += f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise LatentUpscaleError(
                f"unknown Latent Upscale script_args name(s) {names}; known: {', '.join(fields)}"
            )
        options = cls._from_given(dict(values), defaults or cls())
        stray = [
            name
            for name, value in values.items()
            if value is not None and fields[name].schedule not in (None, options.schedule)
        ]
        if stray:
            raise LatentUpscaleError(
                f"{', '.join(stray)} belong(s) to another schedule than {options.schedule!r}; "
                f"send them with that schedule, or leave them out"
            )
        return options

    @classmethod
    def _from_given(cls, given: Mapping[str, object], defaults: JobOptions) -> JobOptions:
        def value(name: str, default: object) -> object:
            found = given.get(name)
            return default if found is None else found  # null means "the default", for every field

        method = value("method", defaults.method)
        schedule = schedule_id(value("schedule", defaults.schedule))
        exact = value("exact_steps", defaults.exact_steps)
        if not isinstance(exact, bool):
            exact = _as_bool(exact)
        params = dict(defaults.schedule_params) if schedule == defaults.schedule else {}
        for f in script_fields():
            if f.schedule == schedule and given.get(f.name) is not None:
                params[f.param] = given[f.name]
        return cls(
            method=method,
            schedule=schedule,
            exact_steps=exact,
            schedule_params=params,
            scale=value("scale", defaults.scale),
        )

    def resolved_schedule_params(self) -> dict[str, float]:
        """Every parameter of the chosen schedule: given values over defaults."""
        values = get_schedule(self.schedule).defaults()
        values.update(self.schedule_params)
        return values

    def infotext(self, *, steps_fixed: bool | None = None) -> dict[str, str]:
        """Infotext entries; a schedule parameter appears only when it differs from its default."""
        entries = {
            INFOTEXT_METHOD: self.method,
            INFOTEXT_STEPS_FIXED: str(self.exact_steps if steps_fixed is None else steps_fixed),
        }
        if self.schedule != AUTOMATIC:
            entries[INFOTEXT_SCHEDULE] = self.schedule
            defaults = get_schedule(self.schedule).defaults()
            for name, value in self.schedule_params.items():
                if value != defaults[name]:
                    entries[_param_infotext_key(name)] = f"{value:g}"
        if self.uses_scale:
            entries[INFOTEXT_SCALE] = f"{self.scale:g}"
        return entries

    @classmethod
    def from_infotext(cls, params: Mapping[str, object]) -> JobOptions | None:
        """The options an infotext records (PNG Info → Send to img2img), or None if it has none of ours.

        The method is written only when a latent resize ran, so any of our keys marks a job as ours.
        """
        ours = (INFOTEXT_METHOD, INFOTEXT_SCHEDULE, INFOTEXT_STEPS_FIXED, INFOTEXT_SCALE)
        if not any(key in params for key in ours):
            return None
        schedule = schedule_id(_strip_note(params.get(INFOTEXT_SCHEDULE, AUTOMATIC)))
        specs = get_schedule(schedule).params
        values = {
            spec.name: params[_param_infotext_key(spec.name)]
            for spec in specs
            if _param_infotext_key(spec.name) in params
        }
        return cls(
            method=str(params.get(INFOTEXT_METHOD, cls.method)),
            schedule=schedule,
            exact_steps=_as_bool(params.get(INFOTEXT_STEPS_FIXED, "True")),
            schedule_params=values,
            scale=params.get(INFOTEXT_SCALE, 1.0),  # type: ignore[arg-type]
        )

    def ui_values(self) -> list[object]:
        """The component values in ``script_fields()`` order (labels for the dropdowns)."""
        values: list[object] = []
        params = self.resolved_schedule_params()
        for f in script_fields():
            if f.name == "method":
                values.append(get_method(self.method).label)
            elif f.name == "schedule":
                values.append(get_schedule(self.schedule).label)
            elif f.name == "exact_steps":
                values.append(self.exact_steps)
            elif f.name == "scale":
                values.append(self.scale)
            else:
                values.append(params[f.param] if f.schedule == self.schedule else f.default)
        return values


def _strip_note(value: object) -> str:
    # "karras (ignored by DDIM)" → "karras": the note is for humans, paste-back wants the id.
    return str(value).split(" (", 1)[0]


def _as_float(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise LatentUpscaleError(f"{what} must be a number, got {shown(value)}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise LatentUpscaleError(f"{what} must be finite, got {shown(value)}")
    return number


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise LatentUpscaleError(f"expected true or false, got {shown(value)}")
