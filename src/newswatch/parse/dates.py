"""Entry dates as aware UTC datetimes, or None when absent or implausible.

Parsing has no clock, so plausibility is a fixed range of years: a feed that claims the
year 2999 (or 0001) is wrong, not early.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["MAX_YEAR", "MIN_YEAR", "iso_date", "struct_time"]

# Dates outside these years are treated as absent.
MIN_YEAR, MAX_YEAR = 1970, 2100


def struct_time(value: object) -> datetime | None:
    """feedparser's UTC ``time.struct_time`` as an aware datetime, or None if implausible."""
    if not isinstance(value, tuple) or len(value) < 6:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in value[:6])
        when = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    return _plausible(when)


def iso_date(value: object) -> datetime | None:
    """An RFC 3339 date as aware UTC (no zone means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return _plausible(when.astimezone(UTC))
    except OverflowError:
        return None


def _plausible(when: datetime) -> datetime | None:
    """``when`` if its year is within ``MIN_YEAR``..``MAX_YEAR``, else None."""
    return when if MIN_YEAR <= when.year <= MAX_YEAR else None
