"""Keeping secrets out of logs, errors and status output.

A Slack webhook URL *is* the credential, and webhook URLs often carry tokens in their
path or query, so a URL is shown only as scheme://host/… once it leaves the config.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``https://hooks.slack.com/services/T/B/x`` -> ``https://hooks.slack.com/…``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<url>"
    if not parts.scheme or not parts.hostname:
        return "<url>"
    port = f":{parts.port}" if parts.port else ""
    tail = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{parts.hostname}{port}{tail}"


def redact_text(text: str) -> str:
    """Replace every URL inside ``text`` (e.g. an httpx error message) by its redacted form."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
