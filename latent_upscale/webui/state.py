"""One job's bookkeeping: the options attached to ``p``, the changes made for it, and infotext notes.

Everything we change is on the job itself (``p``, its sampler) or lasts one host call; each job's
changes sit on one ``ExitStack`` (:class:`JobState`), closed by whichever comes first: ``run()``'s
``finally`` (the script), ``postprocess`` (a job that finished), or ``p.close()`` (the WebUI closes every
UI and API job, also when it raised). Host-free: no ``modules.*`` here.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from latent_upscale.webui.job import INFOTEXT_FALLBACK, INFOTEXT_NOTE, JobOptions

__all__ = [
    "JobState",
    "attach_options",
    "attached_options",
    "begin_job",
    "detach_options",
    "end_job",
    "fresh_infotext",
    "note",
    "note_host_key",
    "short_reason",
    "without_paths",
]

_OPTIONS_ATTRIBUTE = "latent_upscale_options"
_STATE_ATTRIBUTE = "latent_upscale_state"
#: The host's own infotext keys we overwrote for this job (``Schedule type``), with our values.
_HOST_KEYS_ATTRIBUTE = "latent_upscale_host_keys"
#: Every infotext key of ours starts with this (``job.INFOTEXT_*``, ``Latent upscale <param>``).
_OUR_PREFIX = "Latent upscale "
#: Infotext keys whose notes add up (a fallback in the resize and one in the schedule); others replace.
_ADDED_UP = frozenset({INFOTEXT_FALLBACK, INFOTEXT_NOTE})


@dataclass
class JobState:
    """One job's changes (undone together) and how often the sampler asked for our schedule."""

    stack: ExitStack = field(default_factory=ExitStack)
    override_calls: int = 0


def attach_options(p: object, options: JobOptions) -> None:
    """Mark an img2img job as ours (the script's ``run()`` and the X/Y/Z axes do this)."""
    setattr(p, _OPTIONS_ATTRIBUTE, options)


def attached_options(p: object) -> JobOptions | None:
    """The options attached to ``p``, if any."""
    options = getattr(p, _OPTIONS_ATTRIBUTE, None)
    return options if isinstance(options, JobOptions) else None


def detach_options(p: object) -> None:
    """Forget the options (a reused ``p`` must not carry them into the next job)."""
    if hasattr(p, "__dict__"):
        vars(p).pop(_OPTIONS_ATTRIBUTE, None)


def begin_job(p: object) -> JobState:
    """A fresh state for ``p``'s changes, replacing (and undoing) any left from an earlier job."""
    end_job(p)
    state = JobState()
    setattr(p, _STATE_ATTRIBUTE, state)
    return state


def end_job(p: object) -> None:
    """Undo everything this job changed (``postprocess``, ``run()``'s finally, ``p.close()``); idempotent."""
    state = vars(p).pop(_STATE_ATTRIBUTE, None) if hasattr(p, "__dict__") else None
    if isinstance(state, JobState):
        state.stack.close()


def fresh_infotext(p: object) -> None:
    """Give ``p`` its own ``extra_generation_params``, without what we wrote for an earlier job.

    The X/Y/Z plot runs each cell on ``copy(p)`` (``scripts/xyz_grid.py``), a shallow copy that
    shares the dict with every other cell: without this, a cell's fallback lines, schedule and
    "Latent upscale by" would stay in the next cell's infotext. The parent's dict is never written.
    """
    params = getattr(p, "extra_generation_params", None)
    if not isinstance(params, dict):
        return
    ours = getattr(p, _HOST_KEYS_ATTRIBUTE, None) or {}
    p.extra_generation_params = {  # type: ignore[attr-defined]
        key: value
        for key, value in params.items()
        if not (isinstance(key, str) and key.startswith(_OUR_PREFIX)) and ours.get(key, ...) != value
    }
    if hasattr(p, "__dict__"):
        vars(p).pop(_HOST_KEYS_ATTRIBUTE, None)


def note_host_key(p: Any, key: str, value: str) -> None:
    """Overwrite one of the host's own infotext keys for this job, remembered so that
    :func:`fresh_infotext` takes it out again for the next job sharing the dict."""
    p.extra_generation_params[key] = value
    setattr(p, _HOST_KEYS_ATTRIBUTE, {**(getattr(p, _HOST_KEYS_ATTRIBUTE, None) or {}), key: value})


# An absolute path (POSIX, Windows drive, home-relative) not inside a word or a URL.
_PATH = re.compile(r"(?<![\w.:/\\])(?:[A-Za-z]:[\\/]|~[\\/]?|/)[^\s,;()'\"]*")


def _last_part(match: re.Match[str]) -> str:
    parts = [part for part in re.split(r"[\\/]", match.group(0)) if part and part != "~"]
    return parts[-1] if parts else "…"


def without_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last part (a file or folder name).

    Images get shared, and the infotext travels with them: it names files and reasons, never a
    user's folders (the console keeps the whole path).
    """
    return _PATH.sub(_last_part, text)


def note(p: Any, key: str, value: str) -> None:
    """Write an infotext entry (built after sampling from ``p.extra_generation_params``: in time).

    Paths are cut to their last part; a second note under the same key is added to the first, so a
    fallback in the resize and another in the schedule are both recorded.
    """
    value = without_paths(value)
    previous = p.extra_generation_params.get(key)
    if key in _ADDED_UP and isinstance(previous, str) and previous and value not in previous.split("; "):
        value = f"{previous}; {value}"
    p.extra_generation_params[key] = value


def short_reason(error: BaseException) -> str:
    """One line for the infotext (our errors carry a summary; others give their first line)."""
    text = getattr(error, "summary", None) or (str(error).splitlines()[0] if str(error) else "")
    text = text or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
