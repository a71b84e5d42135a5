"""Mirrors modules/errors.py (v1.10.1): hosts report extension errors and carry on.

Simplified: nothing is printed with colours; every report is kept in ``reported`` so tests can assert that the
host swallowed (or did not swallow) an error, as the real ``errors.report`` does.
"""

import sys
import traceback

reported: list[tuple[str, str | None]] = []  # (message, formatted traceback or None)


def report(message: str, *, exc_info: bool = False) -> None:
    """mirrors errors.report (v1.10.1 :60): print the message (and traceback), never raise."""
    tb = traceback.format_exc() if exc_info else None
    reported.append((message, tb))
    print(message, file=sys.stderr)
    if tb:
        print(tb, file=sys.stderr)


def display(e: Exception, task: str, *, full_traceback: bool = False) -> None:
    """mirrors errors.display: used by Options.set when an onchange callback fails."""
    report(f"{task or 'error'}: {type(e).__name__}: {e}", exc_info=True)


def print_error_explanation(message: str) -> None:
    print(message, file=sys.stderr)


def record_exception() -> None:
    pass
