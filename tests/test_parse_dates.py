"""Tests for newswatch.parse.dates: date texts as feeds write them to aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newswatch.parse.dates import MAX_YEAR, MIN_YEAR, first_date, parse_date


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 822 and what feeds make of it
        ("Tue, 24 Nov 2026 10:00:00 GMT", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 12:00:00 +0300", utc(2026, 11, 24, 9, 0)),
        ("24 Nov 2026 10:00:00 +0200", utc(2026, 11, 24, 8, 0)),
        ("Tue, 24 Nov 2026 10:00 -05:00", utc(2026, 11, 24, 15, 0)),
        ("Tue, 24 Nov 26 10:00:00 GMT", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026", utc(2026, 11, 24)),
        ("Tue, 24-Nov-2026 10:00:00 GMT", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 10:00:00 +0300 (MSK)", utc(2026, 11, 24, 7, 0)),
        ("Tue, 24 Nov 2026 10:00:00 GMT+3", utc(2026, 11, 24, 7, 0)),
        ("  Tue,  24 Nov 2026 10:00:00 GMT \n", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 10:00:60 GMT", utc(2026, 11, 24, 10, 0, 59)),
        # zone names
        ("Tue, 24 Nov 2026 05:00:00 EST", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 05:00:00 edt", utc(2026, 11, 24, 9, 0)),
        ("Tue, 24 Nov 2026 02:00:00 PST", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 13:00:00 MSK", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 11:00:00 CET", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 12:00:00 CEST", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 12:00:00 EET", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 10:00:00 UT", utc(2026, 11, 24, 10, 0)),
        ("Tue, 24 Nov 2026 10:00:00 Z", utc(2026, 11, 24, 10, 0)),
        # AM / PM
        ("Sat, Dec 16 2023 02:02:33 PM", utc(2023, 12, 16, 14, 2, 33)),
        ("Sat, Dec 16 2023 02:02:33 AM", utc(2023, 12, 16, 2, 2, 33)),
        ("Sat, Dec 16 2023 12:02:33 AM", utc(2023, 12, 16, 0, 2, 33)),
        ("Sat, Dec 16 2023 12:02:33 PM", utc(2023, 12, 16, 12, 2, 33)),
        ("December 16, 2023 2:02 p.m. EST", utc(2023, 12, 16, 19, 2)),
        ("16 Dec 2023 02:02:33pm +0100", utc(2023, 12, 16, 13, 2, 33)),
        ("November 24, 2026", utc(2026, 11, 24)),
        ("Nov 24th, 2026 at 10:00", utc(2026, 11, 24, 10, 0)),
        # asctime, date(1)
        ("Sat Dec 16 14:02:33 2023", utc(2023, 12, 16, 14, 2, 33)),
        ("Sat Dec 16 14:02:33 UTC 2023", utc(2023, 12, 16, 14, 2, 33)),
        # ISO 8601 / RFC 3339
        ("2026-11-24T10:00:00Z", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24t10:00:00z", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24T13:30:00+03:00", utc(2026, 11, 24, 10, 30)),
        ("2026-11-24T13:30:00+0300", utc(2026, 11, 24, 10, 30)),
        ("2026-11-24T10:00:00.123456789Z", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24 10:00:00", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24 10:00", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24", utc(2026, 11, 24)),
        ("2026/11/24 10:00:00", utc(2026, 11, 24, 10, 0)),
        ("2026-11-24 10:00:00 GMT", utc(2026, 11, 24, 10, 0)),
        ("24.11.2026 13:00 MSK", utc(2026, 11, 24, 10, 0)),
        ("24.11.2026", utc(2026, 11, 24)),
    ],
)
def test_parse_date(text: str, expected: datetime) -> None:
    """The shapes feeds write are read as aware UTC, zone names and AM/PM honoured."""
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Пн, 16 ноя 2022 00:38:15 +0300", utc(2022, 11, 15, 21, 38, 15)),  # Russian
        ("16 ноября 2022 г., 12:00", utc(2022, 11, 16, 12, 0)),
        ("Ср, 16 сент 2026 10:00:00 +0300", utc(2026, 9, 16, 7, 0)),
        ("Ср, 16 лис 2022 00:38:15 +0200", utc(2022, 11, 15, 22, 38, 15)),  # Ukrainian
        ("16 листопада 2022 10:00", utc(2022, 11, 16, 10, 0)),
        ("Пт, 3 тра 2024 09:00:00 +0300", utc(2024, 5, 3, 6, 0)),
        ("Ср, 16 ліс 2022 00:38:15 +0300", utc(2022, 11, 15, 21, 38, 15)),  # Belarusian
        ("16 лістапада 2022 10:00", utc(2022, 11, 16, 10, 0)),
        ("16 снежня 2022 10:00", utc(2022, 12, 16, 10, 0)),
        ("mer, 16 nov 2022 00:38:15 +0100", utc(2022, 11, 15, 23, 38, 15)),  # Italian
        ("gio, 2 giu 2022 10:00:00 +0200", utc(2022, 6, 2, 8, 0)),
        ("16 dicembre 2022", utc(2022, 12, 16)),
        ("Mi, 16 Nov 2022 00:38:15 +0100", utc(2022, 11, 15, 23, 38, 15)),  # German
        ("Do, 16. März 2023 10:00:00 MEZ", utc(2023, 3, 16, 9, 0)),
        ("Fr, 16 Okt 2022 10:00:00 +0200", utc(2022, 10, 16, 8, 0)),
        ("16 Dez 2022 10:00", utc(2022, 12, 16, 10, 0)),
        ("mer., 16 nov. 2022 00:38:15 +0100", utc(2022, 11, 15, 23, 38, 15)),  # French
        ("jeu., 17 févr. 2022 10:00:00 +0100", utc(2022, 2, 17, 9, 0)),
        ("1er juin 2022", utc(2022, 6, 1)),
        ("1 juil. 2022", utc(2022, 7, 1)),
        ("15 août 2022 10:00", utc(2022, 8, 15, 10, 0)),
        ("mié, 16 nov 2022 00:38:15 +0100", utc(2022, 11, 15, 23, 38, 15)),  # Spanish
        ("16 de noviembre de 2022 14:05", utc(2022, 11, 16, 14, 5)),
        ("lun, 2 ene 2023 10:00:00 +0100", utc(2023, 1, 2, 9, 0)),
        ("śr., 16 lis 2022 00:38:15 +0100", utc(2022, 11, 15, 23, 38, 15)),  # Polish
        ("16 listopada 2022 r. 10:00", utc(2022, 11, 16, 10, 0)),
        ("pt, 14 paź 2022 10:00:00 +0200", utc(2022, 10, 14, 8, 0)),
        ("qua, 16 out 2022 10:00:00 -0300", utc(2022, 10, 16, 13, 0)),  # Portuguese
        ("16 mei 2022 10:00", utc(2022, 5, 16, 10, 0)),  # Dutch
    ],
)
def test_parse_date_month_names_in_other_languages(text: str, expected: datetime) -> None:
    """Day and month names in the languages newswatch reads are understood."""
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2013-xx-27",  # feedparser: 2013-12-01
        "yesterday afternoon",
        "",
        "   ",
        "2026",
        "2026-11",
        "Nov 2026",
        "24 Marathon 2026",  # not a month name
        "1 jui 2022",  # French juin or juillet?
        "Tue, 24 Nov 2026 10:00:00 XYZ",  # unknown zone: unknown time
        "Tue, 24 Nov 2026 10:00:00 IST",  # India, Ireland or Israel
        "Tue, 24 Nov 2026 10:00:00 +9999",
        "Tue, 24 Nov 2026 10:00:00 +0575",
        "Tue, 24 Nov 2026 25:00:00 GMT",
        "Tue, 24 Nov 2026 10:61:00 GMT",
        "Sat, Dec 16 2023 13:02:33 PM",
        "2026-02-30T10:00:00Z",  # feedparser: 2 March
        "2026-13-01",
        "31 Apr 2026",
        "11/24/2026",  # month or day first: no way to tell
        "Mon, 31 Feb 99999 25:61:61 +9999",
        "Tue, 24 Nov 2026 10:00:00 GMT and then some words",
        "2026-11-24T10:00:00Z" + " " * 100,
        None,
        1_700_000_000,
    ],
)
def test_parse_date_no_guess(text: object) -> None:
    """Anything that is not a whole, possible date is no date, not a wrong one."""
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text",
    ["Mon, 01 Jan 2999 00:00:00 GMT", "Mon, 01 Jan 1900 00:00:00 GMT", "0001-01-01T00:00:00Z"],
)
def test_parse_date_implausible_years(text: str) -> None:
    """Years outside MIN_YEAR..MAX_YEAR are treated as absent."""
    assert parse_date(text) is None
    assert (MIN_YEAR, MAX_YEAR) == (1970, 2100)


def test_parse_date_is_utc() -> None:
    """Every date comes back with UTC as its zone."""
    when = parse_date("Tue, 24 Nov 2026 12:00:00 +0300")
    assert when is not None and when.tzinfo is UTC


def test_first_date_skips_unreadable() -> None:
    """first_date takes the first readable text: a garbage published falls to updated."""
    assert first_date([None, "2013-xx-27", "2026-11-24T10:00:00Z"]) == utc(2026, 11, 24, 10)
    assert first_date(["soon", ""]) is None
