"""The one error family of the package, so callers (the WebUI glue, the CLI) can tell our
"bad input" apart from real bugs and show the message as it is."""

from __future__ import annotations

__all__ = ["LatentTypeError", "LatentUpscaleError", "WeightsUnavailableError"]


class LatentUpscaleError(ValueError):
    """A value we were given cannot be used; the message names what was received and what is accepted.

    ``summary`` is one short line for places with no room for the whole message (the WebUI infotext);
    by default the message's first line.
    """

    def __init__(self, message: str = "", *, summary: str | None = None) -> None:
        super().__init__(message)
        self.summary = summary or (message.splitlines()[0] if message else type(self).__name__)


class LatentTypeError(LatentUpscaleError, TypeError):
    """The input has the wrong type (not a tensor, not floating point)."""


class WeightsUnavailableError(LatentUpscaleError):
    """Neural weights could not be found or fetched; the message says where we looked and what to do."""
