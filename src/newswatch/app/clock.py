"""The wall clock: read here, in ``app``, and passed down as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)
