"""Entry dates as aware UTC datetimes, or None when absent, unreadable or implausible.

Dates are read from the text a feed wrote, never from feedparser's ``*_parsed`` values: its
fallback chain invents dates from garbage (``2013-xx-27`` became 2013-12-01), ignores
``PM`` and reads no month names but English ones. Here a date is read only when the whole
string has one of the shapes feeds write (RFC 822 and its variants, ISO 8601 / RFC 3339,
``Mon D, YYYY``, asctime, ``DD.MM.YYYY``, year-month-day with a month name or in Korean),
with month names in the languages of :mod:`.datewords`; anything else is no date, not a
guess. Fractions of a second are dropped. Regional zone names (``ET``, ``PT``) are read
with the zone database, so that daylight time is right on the day.

Parsing has no clock, so plausibility is a fixed range of years: a feed that claims the
year 2999 (or 0001) is wrong, not early.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newswatch.parse.datewords import month_number, regional_zone, zone_minutes

__all__ = ["MAX_YEAR", "MIN_YEAR", "first_date", "parse_date"]

# Dates outside these years are treated as absent.
MIN_YEAR, MAX_YEAR = 1970, 2100
# No date a feed writes is longer; longer text is not searched at all.
_MAX_LENGTH = 80

_WORD = r"[^\W\d_]+"
_TIME = (
    r"(?:(?P<half_ko>오전|오후)\s*)?"  # Korean AM / PM, written before the time
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?P<half>[ap])\.?m\b\.?)?"
)
_ZONE = (
    # (Etc/GMT only bare: POSIX writes Etc/GMT+3 for three hours *behind*)
    r"(?:\s*(?P<zone>(?:[a-z]{1,5}\s?)?[+-]\d{1,2}(?::?\d{2})?|(?:etc/)?[a-z]{1,5}))?"
    r"(?:\s*\([^()]{0,40}\))?"  # an RFC 822 comment such as "(MSK)"
)
_AT = r"(?:,?\s*(?:t|at|um|à|a\s+las|в|о|o)?\s*)"  # between date and time
_SHAPES = tuple(
    re.compile(shape, re.IGNORECASE)
    for shape in (
        # ISO 8601 / RFC 3339, also with a space or lower-case t, and [Fri,] 2026/11/24; a
        # zone only after a time (2013-01-27-01 is no date); Google's 2003-012-31
        rf"(?:{_WORD},?\s+)?(?P<year>\d{{4}})(?P<sep>[-/])0?(?P<month>\d{{1,2}})(?P=sep)"
        rf"(?P<day>\d{{1,2}})(?:{_AT}{_TIME}{_ZONE})?",
        # RFC 822 and kin: [Tue,] 24 Nov 2026 [10:00[:00]] [zone]; 16 de noviembre de 2022
        rf"(?:{_WORD}\.?,?\s*)?(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|\.)?(?:\s+de)?[\s/-]+"
        rf"(?P<name>{_WORD})\.?,?(?:\s+de)?[\s/-]+(?P<year>\d{{4}}|\d{{2}})(?!\d)"
        rf"(?:\s*(?:г|р|r)\.?)?(?:{_AT}{_TIME})?{_ZONE}",
        # [Sat,] Dec 16[,] 2023 [02:02:33 PM] [zone]
        rf"(?:{_WORD}\.?,?\s+)?(?P<name>{_WORD})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
        rf"(?P<year>\d{{4}})(?:{_AT}{_TIME})?{_ZONE}",
        # asctime and date(1): Sat Dec 16 14:02:33 [UTC] 2023
        rf"(?:{_WORD},?\s+)?(?P<name>{_WORD})\s+(?P<day>\d{{1,2}})\s+{_TIME}{_ZONE}\s+"
        rf"(?P<year>\d{{4}})",
        # 16.11.2022 [00:38] [zone]
        rf"(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}})(?:{_AT}{_TIME})?{_ZONE}",
        # year, month name, day (Hungarian): 2004. július 13. [9:15], 2004-július-13T9:15
        rf"(?P<year>\d{{4}})\.?[\s-]+(?P<name>{_WORD})\.?[\s-]+(?P<day>\d{{1,2}})\.?"
        rf"(?:{_AT}{_TIME})?{_ZONE}",
        # Korean: 2004년 05월 28일 [오후] 01:31:15
        rf"(?P<year>\d{{4}})\s*년\s*(?P<month>\d{{1,2}})\s*월\s*(?P<day>\d{{1,2}})\s*일"
        rf"(?:\s*{_TIME})?{_ZONE}",
    )
)
_OFFSET = re.compile(
    r"(?:etc/)?(?P<name>[a-z]*)\s?(?:(?P<sign>[+-])(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?)?",
    re.IGNORECASE,
)


def parse_date(text: object) -> datetime | None:
    """A date as a feed wrote it, as aware UTC (no zone means UTC); None if it is not one
    of the shapes feeds write, names an impossible day or unknown zone, or is implausible."""
    if not isinstance(text, str) or len(text) > _MAX_LENGTH:
        return None
    text = text.strip()
    for shape in _SHAPES:
        found = shape.fullmatch(text)
        if found:
            return _build(found.groupdict())
    return None


def first_date(texts: Iterable[object]) -> datetime | None:
    """The first of ``texts`` that reads as a date (e.g. published, else updated)."""
    for text in texts:
        when = parse_date(text)
        if when is not None:
            return when
    return None


def _build(parts: dict[str, str | None]) -> datetime | None:
    """The UTC datetime the matched parts name, or None if they name none."""
    name = parts.get("name")
    month = month_number(name.lower()) if name else int(parts["month"] or 0)
    zone = parts["zone"]
    region = regional_zone(zone.upper()) if zone else None
    offset = 0 if region else _offset(zone)
    half = parts["half"] or _KOREAN_HALVES.get(parts["half_ko"] or "")
    hour = _hour(parts["hour"], half)
    second = int(parts["second"] or 0)
    if month is None or offset is None or hour is None or second > 60:
        return None
    year = int(parts["year"] or 0)
    if len(parts["year"] or "") == 2:  # RFC 822 two-digit years
        year += 2000 if year < 70 else 1900
    try:
        local = datetime(
            year,
            month,
            int(parts["day"] or 0),
            hour,
            int(parts["minute"] or 0),
            min(second, 59),  # a leap second is the second before it
            tzinfo=UTC,
        )
        if region:
            when = _in_region(local, region)
        else:
            when = local - timedelta(minutes=offset) if offset else local
    except (ValueError, OverflowError):
        return None
    return when if when and MIN_YEAR <= when.year <= MAX_YEAR else None


_KOREAN_HALVES = {"오전": "a", "오후": "p"}


def _in_region(local: datetime, region: str) -> datetime | None:
    """A wall-clock time in a region's zone (``ET``: New York, standard or daylight time as
    on that day) as UTC; None where the zone database is missing."""
    try:
        return local.replace(tzinfo=ZoneInfo(region)).astimezone(UTC)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _hour(hour: str | None, half: str | None) -> int | None:
    """The 24-hour hour; 12 AM is midnight and 12 PM noon; None for 13 PM and the like."""
    value = int(hour or 0)
    if not half:
        return value
    if not 1 <= value <= 12:
        return None
    return value % 12 + (12 if half in "pP" else 0)


def _offset(zone: str | None) -> int | None:
    """Minutes east of UTC of ``+0300``, ``-05:00``, ``EST``, ``GMT+3`` (0 when absent);
    None if the name is unknown or the offset beyond ±14 h. Feeds write few distinct zones,
    so answers are remembered (up to a bound, for hostile input)."""
    if not zone:
        return 0
    if zone in _ZONE_CACHE:
        return _ZONE_CACHE[zone]
    minutes = _read_offset(zone)
    if len(_ZONE_CACHE) < 512:
        _ZONE_CACHE[zone] = minutes
    return minutes


_ZONE_CACHE: dict[str, int | None] = {}


def _read_offset(zone: str) -> int | None:
    """``_offset`` without the memory."""
    found = _OFFSET.fullmatch(zone)
    if found is None:
        return None
    minutes = zone_minutes(found["name"].upper()) if found["name"] else 0
    if minutes is None or not found["sign"]:
        return minutes
    shift = int(found["hours"]) * 60 + int(found["minutes"] or 0)
    if int(found["minutes"] or 0) >= 60 or shift > 14 * 60:
        return None
    return minutes + (shift if found["sign"] == "+" else -shift)
