"""The one error family of the package, so callers (the WebUI glue, the CLI) can tell our
"bad input" apart from real bugs and show the message as it is."""

from __future__ import annotations

__all__ = ["MAX_MESSAGE_CHARS", "LatentTypeError", "LatentUpscaleError", "WeightsUnavailableError", "shown"]

#: The longest message an error keeps: a value a user or a server sent (a 10 MB method name in an
#: HTTP request) must not become a 10 MB log line or response.
MAX_MESSAGE_CHARS = 4000
_SHOWN_CHARS = 60


def shown(value: object, limit: int = _SHOWN_CHARS) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with the full length said:
    ``'aaaa…' (10,000,002 characters)``."""
    text = repr(value)
    if len(text) <= limit:
        return text
    length = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters shown"
    return f"{text[:limit]}… ({length})"


class LatentUpscaleError(ValueError):
    """A value we were given cannot be used; the message names what was received and what is accepted.

    ``summary`` is one short line for places with no room for the whole message (the WebUI infotext);
    by default the message's first line.
    """

    def __init__(self, message: str = "", *, summary: str | None = None) -> None:
        if len(message) > MAX_MESSAGE_CHARS:  # the last guard; values are cut where they are echoed
            message = f"{message[:MAX_MESSAGE_CHARS]}… (message cut: {len(message):,} characters)"
        super().__init__(message)
        self.summary = summary or (message.splitlines()[0] if message else type(self).__name__)


class LatentTypeError(LatentUpscaleError, TypeError):
    """The input has the wrong type (not a tensor, not floating point)."""


class WeightsUnavailableError(LatentUpscaleError):
    """Neural weights could not be found or fetched; the message says where we looked and what to do."""
