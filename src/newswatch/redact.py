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


def redact_feed_url(url: str) -> str:
    """A feed URL as logs and ``status`` show it: without user info, query or fragment,
    which may hold access tokens (``https://u:p@host/feed?token=x`` -> ``https://host/feed?…``).
    Unlike :func:`redact_url` the path stays: it tells feeds on one host apart."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    if not parts.scheme or not parts.hostname:
        return "<url>"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


def redact_dsn(url: str) -> str:
    """A database URL as logs, errors and ``check`` show it: its password masked
    (``postgresql://nw:s3cret@db/nw`` -> ``postgresql://nw:***@db/nw``)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "<database url>"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    if parts.password is not None:
        user = f"{parts.username}:***@" if parts.username else ":***@"
        parts = parts._replace(netloc=user + parts.netloc.rpartition("@")[2])
    return parts._replace(query=query).geturl()
