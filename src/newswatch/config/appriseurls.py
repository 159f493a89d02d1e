"""The apprise library, loaded only when an apprise destination exists, and its URLs checked.

Importing apprise costs about 0.4 s and 15 MB (it discovers over a hundred plugins), so
nothing imports it until a configuration names an apprise destination. Apprise logs the
URLs it loads and posts to (they are credentials) at several levels, and its HTTP client
(urllib3) logs request paths at DEBUG: when it is loaded, urllib3's logger is raised to
WARNING, and the ``apprise`` logger is cut off from the application's handlers, raised to
WARNING and given a filter that drops every record, keeping the sending thread's warnings
for :func:`captured_warnings`, which callers scrub before they say anything.
"""

from __future__ import annotations

import email.charset
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Final

__all__ = ["apprise_problem", "captured_warnings", "load_apprise"]

WIKI: Final = "https://github.com/caronc/apprise/wiki"
_lock = threading.Lock()
_module: ModuleType | None = None


class _ThreadCapture(logging.Filter):
    """Keeps apprise's warnings per thread, for the caller that is listening there, and
    lets no record of apprise's through (a logger's filter runs before its handlers and
    before propagation, whatever else is attached to the logger)."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        kept: list[str] | None = getattr(self.local, "kept", None)
        if kept is not None and len(kept) < 20 and record.levelno >= logging.WARNING:
            kept.append(record.getMessage())
        return False


_capture: Final = _ThreadCapture()


def load_apprise() -> ModuleType:
    """The apprise module, imported on first use with its logger silenced (see above)."""
    global _module
    with _lock:
        if _module is None:
            logger = logging.getLogger("apprise")  # before the import: it logs already
            logger.propagate = False
            logger.setLevel(logging.WARNING)
            logger.addFilter(_capture)
            # Apprise's HTTP client logs every request's path (a token) at DEBUG.
            transport = logging.getLogger("urllib3")
            if transport.level == logging.NOTSET or transport.level < logging.WARNING:
                transport.setLevel(logging.WARNING)
            _module = _import_keeping_email_charsets()
        return _module


def _import_keeping_email_charsets() -> ModuleType:
    """Import apprise and load its plugins, then undo what its email plugin does to the
    whole process: it registers quoted-printable for UTF-8 in ``email.charset``, which
    would change how newswatch's own email destinations encode every header and body."""
    saved = dict(email.charset.CHARSETS)
    import apprise.manager_plugins

    module: ModuleType = apprise  # untyped in parts: reached as a module
    module.manager_plugins.NotificationManager().load_modules()
    email.charset.CHARSETS.clear()
    email.charset.CHARSETS.update(saved)
    return module


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """The warnings apprise logs in this thread while the block runs (unscrubbed)."""
    kept: list[str] = []
    _capture.local.kept = kept
    try:
        yield kept
    finally:
        _capture.local.kept = None


def scheme_of(url: str) -> str:
    """``tgram`` for ``tgram://…``; empty when the text has no ``scheme://``."""
    scheme, sep, _ = url.strip().partition("://")
    return scheme.lower() if sep and scheme.replace("+", "").isalnum() else ""


def apprise_problem(url: str) -> str | None:
    """Why apprise cannot use ``url``, in words that never repeat it; None when it can."""
    apprise = load_apprise()
    scheme = scheme_of(url)
    if not scheme:
        return f"is not an Apprise URL: write service://…, e.g. ntfy://ntfy.sh/topic (see {WIKI})"
    with captured_warnings():
        plugin = apprise.Apprise.instantiate(url.strip())
    if plugin is not None:
        return None
    if scheme not in apprise.manager_plugins.NotificationManager():
        return f"'{scheme}://' is not a service apprise knows (see {WIKI} for the list)"
    return (
        f"apprise cannot use this '{scheme}://' URL: a part is missing or malformed "
        f"(see {WIKI} for the form it takes)"
    )
